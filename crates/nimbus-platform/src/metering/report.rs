//! Reads of the metering: the cost report (requests and GB-s per function and in total,
//! priced, projected to a month) and the raw records.
//!
//! The free tier and the duration tiers are per account, so function rows are priced without
//! the free tier and only the total applies it (when asked): the total may then be less than
//! the sum of the rows. A window is projected to a 30-day month at the same rate of use.

use crate::platform::Platform;
use nimbus_cost::{Arch, Bill, MB_PER_GB_AWS, Period, PriceTable, Usage};
use nimbus_store::metering::ProvisionedTotalRow;
use nimbus_store::{MeteringQuery, MeteringRecord, ProvisionedUsageRow, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a report could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CostError {
    /// A malformed window or filter.
    #[error("{0}")]
    InvalidParameter(String),
    /// The store failed.
    #[error("metering store: {0}")]
    Store(#[from] StoreError),
}

/// Usage and its price, for one function or the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CostLine {
    /// Invocation attempts.
    pub requests: u64,
    /// Σ billed duration × memory of the invocations, in GB-s.
    pub gb_seconds: f64,
    /// Provisioned concurrency configured, in GB-s.
    pub provisioned_gb_seconds: f64,
    /// Attempts that started an environment.
    pub cold_starts: u64,
    /// Attempts that did not succeed.
    pub errors: u64,
    /// The exact quantities (clients re-price them with their own table).
    pub usage: Usage,
    /// The window's price.
    pub bill: Bill,
    /// A 30-day month at the window's rate.
    pub month: Bill,
    /// `bill.total` rounded to cents (`$12.34`), for display.
    pub total: String,
    /// `month.total` rounded to cents, for display.
    pub month_projection: String,
}

/// One function's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCost {
    /// Function name.
    #[serde(rename = "FunctionName")]
    pub function: String,
    /// Its usage and price (without the free tier).
    #[serde(flatten)]
    pub cost: CostLine,
}

/// `GET /nimbus/v1/cost`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CostReport {
    /// Window start, ms since the epoch (inclusive).
    pub since_ms: i64,
    /// Window end, ms since the epoch (exclusive).
    pub until_ms: i64,
    /// The price table's name.
    pub prices: String,
    /// MB per GB of the GB-s figures.
    pub mb_per_gb: u32,
    /// The free tier was applied to the total.
    pub free_tier: bool,
    /// Init is billed for managed runtimes (the engine's rule).
    pub bill_init: bool,
    /// Per function, by name.
    pub functions: Vec<FunctionCost>,
    /// Everything in the window.
    pub total: CostLine,
    /// Invocation records dropped because the writer was behind (not in the report).
    pub records_dropped: u64,
    /// Invocation records whose batch could not be stored (not in the report).
    pub records_lost: u64,
}

/// One invocation record as served by `GET /nimbus/v1/metering`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MeteringRecordView {
    pub request_id: String,
    #[serde(rename = "FunctionName")]
    pub function: String,
    pub version: String,
    pub trigger: String,
    pub cold: bool,
    pub provisioned: bool,
    pub architecture: String,
    pub init_ms: Option<f64>,
    pub duration_ms: f64,
    pub billed_ms: i64,
    pub memory_mb: i64,
    pub max_memory_used_mb: i64,
    pub ephemeral_mb: i64,
    pub outcome: String,
    pub error_type: Option<String>,
    pub started_ms: i64,
    /// billed ms / 1000 × memory MB / 1024.
    pub gb_seconds: f64,
}

impl From<MeteringRecord> for MeteringRecordView {
    fn from(r: MeteringRecord) -> Self {
        let gb_seconds =
            r.billed_ms as f64 / 1000.0 * r.memory_mb as f64 / f64::from(MB_PER_GB_AWS);
        Self {
            request_id: r.request_id,
            function: r.function_name,
            version: r.version,
            trigger: r.trigger,
            cold: r.cold,
            provisioned: r.provisioned,
            architecture: r.architecture,
            init_ms: r.init_ms,
            duration_ms: r.duration_ms,
            billed_ms: r.billed_ms,
            memory_mb: r.memory_mb,
            max_memory_used_mb: r.max_memory_used_mb,
            ephemeral_mb: r.ephemeral_mb,
            outcome: r.outcome,
            error_type: r.error_type,
            started_ms: r.started_ms,
            gb_seconds,
        }
    }
}

/// `GET /nimbus/v1/metering`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MeteringListing {
    /// Newest first.
    pub records: Vec<MeteringRecordView>,
    /// Records dropped because the writer was behind.
    pub records_dropped: u64,
    /// Records whose batch could not be stored.
    pub records_lost: u64,
}

/// A function's usage being summed.
#[derive(Debug, Default)]
struct Sum {
    usage: Usage,
    cold_starts: u64,
    errors: u64,
}

impl Platform {
    /// Requests and GB-s per function (all, or `function`) and in total over
    /// `[since_ms, until_ms)`, priced with the default table (`free_tier` applied to the
    /// total), and projected to a month.
    pub async fn cost_report(
        &self,
        function: Option<&str>,
        since_ms: i64,
        until_ms: i64,
        free_tier: bool,
    ) -> Result<CostReport, CostError> {
        if until_ms <= since_ms {
            return Err(CostError::InvalidParameter(format!(
                "the window must end after it starts (since {since_ms}, until {until_ms})"
            )));
        }
        self.metering.flush().await;
        let table = PriceTable::default();
        let query = MeteringQuery {
            function: function.map(str::to_string),
            version: None,
            since_ms,
            until_ms,
        };
        let store = &self.metering.store;
        let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
        for row in store.metering_totals(&query).await? {
            let sum = sums.entry(row.function_name).or_default();
            sum.usage.add_invocations(
                &table,
                arch(&row.architecture),
                u32::try_from(row.memory_mb).unwrap_or(0),
                u32::try_from(row.ephemeral_mb).unwrap_or(0),
                u64::try_from(row.requests).unwrap_or(0),
                u64::try_from(row.billed_ms).unwrap_or(0),
                row.provisioned,
            );
            sum.cold_starts += u64::try_from(row.cold_starts).unwrap_or(0);
            sum.errors += u64::try_from(row.errors).unwrap_or(0);
        }
        let mut provisioned = store.provisioned_totals(&query).await?;
        // What accrued since the last sample is not stored yet; count it too.
        let now_ms = self.config.clock.now_ms();
        for row in self.provisioned_since_sample(now_ms).await {
            if function.is_none_or(|f| f == row.function_name)
                && let Some(cut) = cut_to_window(&row, since_ms, until_ms)
            {
                provisioned.push(cut);
            }
        }
        for row in provisioned {
            let sum = sums.entry(row.function_name).or_default();
            sum.usage.add_provisioned(
                arch(&row.architecture),
                u32::try_from(row.memory_mb).unwrap_or(0),
                1,
                u64::try_from(row.concurrency_ms).unwrap_or(0),
            );
        }

        let period = Period::of_ms(u64::try_from(until_ms.saturating_sub(since_ms)).unwrap_or(0));
        let mut total = Sum::default();
        let mut functions = Vec::with_capacity(sums.len());
        for (name, sum) in sums {
            total.usage = total.usage.plus(&sum.usage);
            total.cold_starts += sum.cold_starts;
            total.errors += sum.errors;
            functions.push(FunctionCost {
                function: name,
                cost: line(&table, sum, period, false),
            });
        }
        Ok(CostReport {
            since_ms,
            until_ms,
            prices: table.name.clone(),
            mb_per_gb: table.mb_per_gb,
            free_tier,
            bill_init: self.metering.config.bill_init,
            functions,
            total: line(&table, total, period, free_tier),
            records_dropped: self.metering.dropped(),
            records_lost: self.metering.lost(),
        })
    }

    /// Per minute of `[since_ms, until_ms)` in which `function` ran: attempts, cold
    /// starts and duration percentiles, from its metering records.
    pub async fn minute_stats(
        &self,
        function: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<nimbus_store::metering::MinuteStatsRow>, CostError> {
        self.metering.flush().await;
        Ok(self
            .metering
            .store
            .minute_stats(function, since_ms, until_ms)
            .await?)
    }

    /// The newest invocation records (of one function, or all), newest first.
    pub async fn metering_records(
        &self,
        function: Option<&str>,
        limit: u32,
    ) -> Result<MeteringListing, CostError> {
        self.metering.flush().await;
        let records = self.metering.store.list_metering(function, limit).await?;
        Ok(MeteringListing {
            records: records.into_iter().map(MeteringRecordView::from).collect(),
            records_dropped: self.metering.dropped(),
            records_lost: self.metering.lost(),
        })
    }
}

fn arch(stored: &str) -> Arch {
    Arch::parse(stored).unwrap_or(Arch::X86_64)
}

/// An unstored provisioned interval as a total row, cut to the window (`None`: outside).
fn cut_to_window(
    row: &ProvisionedUsageRow,
    since_ms: i64,
    until_ms: i64,
) -> Option<ProvisionedTotalRow> {
    let start = row.start_ms.max(since_ms);
    let end = row.end_ms.min(until_ms);
    (end > start).then(|| ProvisionedTotalRow {
        function_name: row.function_name.clone(),
        version: row.version.clone(),
        architecture: row.architecture.clone(),
        memory_mb: row.memory_mb,
        concurrency_ms: row.concurrency.saturating_mul(end - start),
    })
}

fn line(table: &PriceTable, sum: Sum, period: Period, free_tier: bool) -> CostLine {
    let month_usage = sum.usage.projected_to_month(period);
    let bill = table.bill(&sum.usage, period, free_tier);
    let month = table.bill(&month_usage, Period::MONTH, free_tier);
    CostLine {
        requests: sum.usage.requests,
        gb_seconds: sum.usage.invocation_gb_seconds(table),
        provisioned_gb_seconds: nimbus_cost::gb_seconds(
            sum.usage.provisioned_configured.total(),
            table,
        ),
        cold_starts: sum.cold_starts,
        errors: sum.errors,
        total: bill.total.to_string(),
        month_projection: month.total.to_string(),
        bill,
        month,
        usage: sum.usage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstored_provisioned_intervals_are_cut_to_the_window() {
        let row = ProvisionedUsageRow {
            function_name: "f".into(),
            qualifier: "live".into(),
            version: "2".into(),
            architecture: "arm64".into(),
            memory_mb: 512,
            concurrency: 3,
            start_ms: 1_000,
            end_ms: 61_000,
        };
        let cut = cut_to_window(&row, 31_000, 100_000).expect("overlaps");
        assert_eq!(cut.concurrency_ms, 3 * 30_000);
        assert_eq!(cut.version, "2");
        assert!(cut_to_window(&row, 61_000, 100_000).is_none());
    }

    #[test]
    fn a_line_projects_its_window_to_a_month() {
        let table = PriceTable::default();
        let mut sum = Sum::default();
        // One day: 1,000 invocations of 1 s at 1,024 MB = 1,000 GB-s.
        sum.usage
            .add_invocations(&table, Arch::X86_64, 1024, 512, 1_000, 1_000_000, false);
        let day = Period::of_days(1);
        let l = line(&table, sum, day, false);
        assert_eq!(l.gb_seconds, 1_000.0);
        assert_eq!(l.month.lines[0].quantity, 30_000.0);
        // 30,000 GB-s × $0.0000166667 + 30,000 requests × $0.20/M.
        assert_eq!(l.month.total.to_string(), "$0.51");
    }

    #[test]
    fn records_show_gb_seconds_as_report_lines_imply() {
        let r = MeteringRecord {
            request_id: "r".into(),
            function_name: "f".into(),
            version: "$LATEST".into(),
            trigger: "sync".into(),
            cold: false,
            provisioned: false,
            architecture: "x86_64".into(),
            init_ms: None,
            duration_ms: 99.2,
            billed_ms: 100,
            memory_mb: 256,
            max_memory_used_mb: 50,
            ephemeral_mb: 512,
            outcome: "success".into(),
            error_type: None,
            started_ms: 0,
        };
        assert_eq!(MeteringRecordView::from(r).gb_seconds, 0.025);
    }
}
