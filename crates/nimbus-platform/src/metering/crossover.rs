//! The crossover advisor's measured input: each function's average concurrency per minute,
//! from its metering records (Init + Duration of every attempt, spread exactly over the
//! minutes it covered), and what FaaS charged over the same minutes. The comparison with
//! always-on instances and the verdict are `nimbus_cost::crossover`.
//!
//! A function's window starts at its first metered attempt inside the asked window: minutes
//! before it existed would charge the instances for nothing. Minutes are whole, so the last
//! (current) minute counts as a full one.

use super::report::CostError;
use crate::platform::Platform;
use nimbus_cost::crossover::{Advice, Instance, Measured, advise, check_instance};
use nimbus_store::MeteringQuery;
use nimbus_store::metering::{BusyMinutesRow, MINUTE_MS};
use serde::Serialize;
use std::collections::BTreeMap;

/// Longest window advised on, in minutes: the metering retention (30 days) and a day.
/// Bounds the per-minute series (8 bytes a minute).
pub const CROSSOVER_MINUTES_MAX: i64 = 31 * 24 * 60;

/// Most functions one report covers (each costs a bill query); the rest are counted.
pub const CROSSOVER_FUNCTIONS_MAX: usize = 200;

/// Most instance types compared at once (an instance table is a handful of rows).
pub const CROSSOVER_INSTANCES_MAX: usize = 64;

/// `GET|POST /nimbus/v1/cost/crossover`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CrossoverReport {
    /// The asked window's start, ms since the epoch.
    pub since_ms: i64,
    /// Its end (exclusive).
    pub until_ms: i64,
    /// The instance types compared with.
    pub instances: Vec<Instance>,
    /// Per function with metered attempts in the window, by name.
    pub functions: Vec<FunctionCrossover>,
    /// Functions left out beyond [`CROSSOVER_FUNCTIONS_MAX`].
    pub functions_omitted: usize,
}

/// One function's advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCrossover {
    /// Function name.
    pub function_name: String,
    /// The largest memory size it ran with in the window, MB.
    pub memory_mb: u32,
    /// Its window's start (its first metered minute, or the asked start), ms.
    pub since_ms: i64,
    /// Average concurrency per minute, oldest first (what the advice is computed from); only
    /// when one function was asked for, since a month of minutes is ~45,000 numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_per_minute: Option<Vec<f64>>,
    /// The comparison and the verdict.
    #[serde(flatten)]
    pub advice: Advice,
}

/// Checks an instance table given by a client.
pub fn check_instances(instances: &[Instance]) -> Result<(), CostError> {
    let bad = |m: String| Err(CostError::InvalidParameter(m));
    if instances.is_empty() {
        return bad("Instances must name at least one instance type".into());
    }
    if instances.len() > CROSSOVER_INSTANCES_MAX {
        return bad(format!(
            "Instances has {} rows; at most {CROSSOVER_INSTANCES_MAX} are compared",
            instances.len()
        ));
    }
    let mut names = std::collections::HashSet::with_capacity(instances.len());
    for i in instances {
        check_instance(i).map_err(CostError::InvalidParameter)?;
        if !names.insert(i.name.as_str()) {
            return bad(format!("Instances names {} twice", i.name));
        }
    }
    Ok(())
}

/// Average concurrency of each of `minutes` minutes from `first_minute`: every group's busy
/// time spread over the minutes its attempts covered (their first and last minutes partly,
/// the ones between wholly). Time outside the range is ignored.
pub fn spread(rows: &[&BusyMinutesRow], first_minute: i64, minutes: usize) -> Vec<f64> {
    let mut busy_ms = vec![0.0_f64; minutes];
    let mut add = |minute: i64, ms: f64| {
        if let Some(slot) = minute
            .checked_sub(first_minute)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| busy_ms.get_mut(i))
        {
            *slot += ms.max(0.0);
        }
    };
    for r in rows {
        if r.last_minute <= r.first_minute {
            add(r.first_minute, r.busy_ms);
            continue;
        }
        let n = r.attempts as f64;
        let minute = MINUTE_MS as f64;
        // Each attempt's first minute holds the time from its start to that minute's end.
        let first = n * (r.first_minute + 1) as f64 * minute - r.started_ms_sum as f64;
        let between = r.last_minute - r.first_minute - 1;
        add(r.first_minute, first);
        for m in (r.first_minute + 1)..r.last_minute {
            add(m, n * minute);
        }
        add(
            r.last_minute,
            r.busy_ms - first - between as f64 * n * minute,
        );
    }
    busy_ms
        .into_iter()
        .map(|ms| ms / MINUTE_MS as f64)
        .collect()
}

impl Platform {
    /// Per function (all, or `function`) with metered attempts in `[since_ms, until_ms)`:
    /// its measured concurrency, its FaaS bill (default prices, no free tier) and how the
    /// same load would fare on always-on `instances`.
    pub async fn crossover(
        &self,
        function: Option<&str>,
        since_ms: i64,
        until_ms: i64,
        instances: Vec<Instance>,
    ) -> Result<CrossoverReport, CostError> {
        if until_ms <= since_ms {
            return Err(CostError::InvalidParameter(format!(
                "the window must end after it starts (since {since_ms}, until {until_ms})"
            )));
        }
        check_instances(&instances)?;
        self.metering.flush().await;
        let last_minute = (until_ms - 1).div_euclid(MINUTE_MS);
        let earliest_minute = since_ms
            .div_euclid(MINUTE_MS)
            .max(last_minute - CROSSOVER_MINUTES_MAX + 1);
        let query = MeteringQuery {
            function: function.map(str::to_string),
            version: None,
            since_ms: since_ms.max(earliest_minute * MINUTE_MS),
            until_ms,
        };
        let rows = self.metering.store.busy_minutes(&query).await?;
        let mut by_function: BTreeMap<&str, Vec<&BusyMinutesRow>> = BTreeMap::new();
        for r in &rows {
            by_function.entry(&r.function_name).or_default().push(r);
        }
        let functions_omitted = by_function.len().saturating_sub(CROSSOVER_FUNCTIONS_MAX);
        let mut functions = Vec::new();
        for (name, rows) in by_function.into_iter().take(CROSSOVER_FUNCTIONS_MAX) {
            // Rows are ordered by first minute.
            let first_minute = rows
                .first()
                .map_or(earliest_minute, |r| r.first_minute.max(earliest_minute));
            let minutes = usize::try_from(last_minute - first_minute + 1).unwrap_or(1);
            let concurrency_per_minute = spread(&rows, first_minute, minutes);
            let memory_mb = rows
                .iter()
                .map(|r| u32::try_from(r.memory_mb).unwrap_or(u32::MAX))
                .max()
                .unwrap_or(0);
            let fn_since_ms = (first_minute * MINUTE_MS).max(since_ms);
            let bill = self
                .cost_report(Some(name), fn_since_ms, until_ms, false)
                .await?;
            let faas_cost = bill
                .functions
                .first()
                .map_or(nimbus_cost::Money::ZERO, |f| f.cost.bill.total);
            let measured = Measured {
                memory_mb,
                concurrency_per_minute,
                faas_cost,
            };
            let advice = advise(&measured, &instances);
            functions.push(FunctionCrossover {
                function_name: name.to_string(),
                memory_mb,
                since_ms: fn_since_ms,
                concurrency_per_minute: function
                    .is_some()
                    .then_some(measured.concurrency_per_minute),
                advice,
            });
        }
        Ok(CrossoverReport {
            since_ms,
            until_ms,
            instances,
            functions,
            functions_omitted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(first: i64, last: i64, starts: &[i64], busy_ms: f64) -> BusyMinutesRow {
        BusyMinutesRow {
            function_name: "f".into(),
            first_minute: first,
            last_minute: last,
            attempts: starts.len() as i64,
            started_ms_sum: starts.iter().sum(),
            busy_ms,
            memory_mb: 128,
        }
    }

    #[test]
    fn busy_time_is_spread_over_the_minutes_it_covered() {
        let m = MINUTE_MS;
        let rows = [
            // Two attempts inside minute 10: 30 s of busy time is 0.5 concurrency.
            row(10, 10, &[10 * m, 10 * m + 5_000], 30_000.0),
            // One attempt from 11:30 for 150 s: 30 s in 11, all of 12 and 13, 0 in 14.
            row(11, 13, &[11 * m + 30_000], 150_000.0),
            // Two attempts from 12:45 and 12:50 for 20 s each: 15 + 10 s in 12, 5 + 10 in 13.
            row(12, 13, &[12 * m + 45_000, 12 * m + 50_000], 40_000.0),
        ];
        let refs: Vec<&BusyMinutesRow> = rows.iter().collect();
        let c = spread(&refs, 10, 5);
        let expect = [0.5, 0.5, 1.0 + 25.0 / 60.0, 1.0 + 15.0 / 60.0, 0.0];
        for (got, want) in c.iter().zip(expect) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
        // Total busy time is conserved.
        let total: f64 = c.iter().sum::<f64>() * m as f64;
        assert!((total - 220_000.0).abs() < 1e-6, "{total}");
        // Minutes outside the range are ignored, not wrapped.
        let late = spread(&refs, 12, 1);
        assert!((late[0] - (1.0 + 25.0 / 60.0)).abs() < 1e-9, "{late:?}");
    }

    #[test]
    fn instance_tables_are_checked() {
        let ok = nimbus_cost::crossover::default_instances();
        assert!(check_instances(&ok).is_ok());
        assert!(check_instances(&[]).is_err());
        let mut bad = ok[0].clone();
        bad.hourly_usd = f64::NAN;
        let e = check_instances(&[bad]).expect_err("NaN price");
        assert!(e.to_string().contains("HourlyUsd"), "{e}");
        let mut zero = ok[0].clone();
        zero.vcpus = 0.0;
        assert!(check_instances(&[zero]).is_err());
        let many = vec![ok[0].clone(); CROSSOVER_INSTANCES_MAX + 1];
        assert!(check_instances(&many).is_err());
        // An infinite or absurd price would make every cost infinite (JSON null).
        let mut dear = ok[0].clone();
        dear.hourly_usd = 1e300;
        let e = check_instances(&[dear]).expect_err("price over the cap");
        assert!(e.to_string().contains("HourlyUsd"), "{e}");
        let mut huge = ok[0].clone();
        huge.vcpus = 1e9;
        assert!(check_instances(&[huge]).is_err());
        let mut control = ok[0].clone();
        control.name = "t3\n<script>".into();
        assert!(check_instances(&[control]).is_err());
        let e = check_instances(&[ok[0].clone(), ok[0].clone()]).expect_err("duplicate");
        assert!(e.to_string().contains("twice"), "{e}");
    }
}
