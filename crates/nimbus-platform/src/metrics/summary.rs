//! The JSON summary behind `nimbus metrics` (`GET /nimbus/v1/metrics/summary?function=&since=`):
//! per function and version over a recent window, invocations, errors and throttles (from the
//! per-minute [`crate::version_metrics`]), p50/p99 duration and cold starts (from the duration
//! [`super::sketch`]es, whose 5-minute slots may widen the window by up to 5 minutes).

use crate::platform::Platform;
use crate::version_metrics::{RETENTION_MINUTES, Totals};
use serde::{Deserialize, Serialize};

/// The window when none is asked for: what an operator glances at.
pub const SINCE_DEFAULT_S: u64 = 15 * 60;

/// The longest window: the per-minute counts are kept this long.
pub const SINCE_MAX_S: u64 = RETENTION_MINUTES as u64 * 60;

/// Why a summary could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    /// `since` is not a duration within the kept hour.
    #[error(
        "since must be a duration such as 30s, 15m or 1h (at most 60m, at least 1s); got {0:?}"
    )]
    BadSince(String),
    /// No such function, and none with metrics of that name.
    #[error("Function not found: {0}")]
    NotFound(String),
}

/// The summary of every function active in the window (or of the one asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricsSummary {
    /// Length of the window, seconds.
    pub since_seconds: u64,
    /// Window start, ms since the Unix epoch (platform clock).
    pub from_ms: i64,
    /// Window end (now).
    pub to_ms: i64,
    /// Per function, by name.
    pub functions: Vec<FunctionSummary>,
}

/// One function, over all its versions, and each version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionSummary {
    /// Function name.
    pub function_name: String,
    /// Summed over its versions.
    #[serde(flatten)]
    pub totals: SummaryTotals,
    /// Versions active in the window, by name.
    pub versions: Vec<VersionSummary>,
}

/// One version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionSummary {
    /// `$LATEST` or a number (an alias counts under the version it routed to).
    pub version: String,
    /// Its figures.
    #[serde(flatten)]
    pub totals: SummaryTotals,
}

/// The figures of one line of `nimbus metrics`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryTotals {
    /// Invocations that ran.
    pub invocations: u64,
    /// Of which ended in a function error.
    pub errors: u64,
    /// `errors / invocations` in percent; `None` without invocations.
    pub error_percent: Option<f64>,
    /// Requests throttled.
    pub throttles: u64,
    /// Median duration, ms; `None` without invocations.
    pub duration_p50_ms: Option<f64>,
    /// 99th percentile duration, ms.
    pub duration_p99_ms: Option<f64>,
    /// Invocations that needed a new environment.
    pub cold_starts: u64,
    /// `cold_starts` in percent of the invocations the sketches saw.
    pub cold_start_percent: Option<f64>,
}

impl SummaryTotals {
    fn new(counts: &Totals, sketch: &super::sketch::SketchTotals) -> Self {
        SummaryTotals {
            invocations: counts.invocations,
            errors: counts.errors,
            error_percent: percent(counts.errors, counts.invocations),
            throttles: counts.throttles,
            duration_p50_ms: sketch.duration_ms_at(0.5),
            duration_p99_ms: sketch.duration_ms_at(0.99),
            cold_starts: sketch.cold_starts,
            cold_start_percent: percent(sketch.cold_starts, sketch.invocations),
        }
    }

    fn is_idle(&self) -> bool {
        self.invocations == 0 && self.throttles == 0 && self.duration_p50_ms.is_none()
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// `30s`, `15m`, `1h` or plain seconds, within `1..=SINCE_MAX_S`.
pub fn parse_since(s: &str) -> Result<u64, SummaryError> {
    let bad = || SummaryError::BadSince(s.to_string());
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60).ok_or_else(bad)?,
        "h" => n.checked_mul(3600).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if (1..=SINCE_MAX_S).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(bad())
    }
}

impl Platform {
    /// Whether `function` exists or has metrics (a deleted function's stay readable).
    pub fn has_metrics_of(&self, function: &str) -> bool {
        self.cached(function).is_some() || !self.metrics.series.versions_of(function).is_empty()
    }

    /// The summary of `function` (every function active in the window when `None`) over the
    /// last `since` (default [`SINCE_DEFAULT_S`]).
    pub fn metrics_summary(
        &self,
        function: Option<&str>,
        since: Option<&str>,
    ) -> Result<MetricsSummary, SummaryError> {
        let since_seconds = match since {
            Some(s) => parse_since(s)?,
            None => SINCE_DEFAULT_S,
        };
        let now = self.config.clock.now_ms();
        let from_ms = now - since_seconds as i64 * 1000;
        // The current minute and slot are part of the window.
        let to_ms = now + 1;
        let names = match function {
            Some(f) => {
                if !self.has_metrics_of(f) {
                    return Err(SummaryError::NotFound(self.function_arn(f)));
                }
                vec![f.to_string()]
            }
            None => self.metrics.series.functions(),
        };
        let mut functions = Vec::new();
        for name in names {
            let mut counts = Totals::default();
            let mut sketch = super::sketch::SketchTotals::default();
            let mut versions = Vec::new();
            for version in self.metrics.series.versions_of(&name) {
                let c = self.version_metrics.window(&name, &version, from_ms, to_ms);
                let s = self
                    .metrics
                    .sketches
                    .window(&name, &version, from_ms, to_ms);
                let totals = SummaryTotals::new(&c, &s);
                if totals.is_idle() {
                    continue;
                }
                counts.add(&c);
                sketch.add(&s);
                versions.push(VersionSummary { version, totals });
            }
            if versions.is_empty() && function.is_none() {
                continue;
            }
            functions.push(FunctionSummary {
                function_name: name,
                totals: SummaryTotals::new(&counts, &sketch),
                versions,
            });
        }
        Ok(MetricsSummary {
            since_seconds,
            from_ms,
            to_ms: now,
            functions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_parsed_and_bounded() {
        assert_eq!(parse_since("30s"), Ok(30));
        assert_eq!(parse_since("15m"), Ok(900));
        assert_eq!(parse_since("1h"), Ok(3600));
        assert_eq!(parse_since("120"), Ok(120));
        for bad in [
            "",
            "0",
            "0m",
            "61m",
            "2h",
            "5d",
            "m",
            "1.5m",
            "-1m",
            "99999999999999999999h",
        ] {
            assert!(
                matches!(parse_since(bad), Err(SummaryError::BadSince(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn totals_compute_percentages() {
        let counts = Totals {
            invocations: 5,
            errors: 2,
            throttles: 1,
            duration_sum_ms: 0.0,
            duration_max_ms: 0.0,
        };
        let t = SummaryTotals::new(&counts, &Default::default());
        assert_eq!(t.error_percent, Some(40.0));
        assert_eq!(t.cold_start_percent, None);
        assert_eq!(t.duration_p50_ms, None);
        assert!(!t.is_idle());
        assert!(SummaryTotals::default().is_idle());
    }

    #[test]
    fn the_json_has_pascal_case_keys_and_reads_back() {
        let summary = MetricsSummary {
            since_seconds: 900,
            from_ms: 1,
            to_ms: 2,
            functions: vec![FunctionSummary {
                function_name: "f".into(),
                totals: SummaryTotals {
                    invocations: 1,
                    ..Default::default()
                },
                versions: vec![VersionSummary {
                    version: "$LATEST".into(),
                    totals: SummaryTotals {
                        invocations: 1,
                        ..Default::default()
                    },
                }],
            }],
        };
        let json = serde_json::to_value(&summary).expect("json");
        assert_eq!(json["Functions"][0]["FunctionName"], "f");
        assert_eq!(json["Functions"][0]["Invocations"], 1);
        assert_eq!(json["Functions"][0]["Versions"][0]["Version"], "$LATEST");
        assert!(json["Functions"][0]["DurationP50Ms"].is_null());
        let back: MetricsSummary = serde_json::from_value(json).expect("read back");
        assert_eq!(back, summary);
    }
}
