//! What a server measured for a deployed function, as `nimbus-lint`'s [`Observed`]:
//! invocations and p99 duration from `GET /nimbus/v1/metrics/summary`, peak memory and
//! longest Init from the newest invocation records of `GET /nimbus/v1/metering`.
//!
//! Either endpoint may be missing (an older server): it is asked once, then the lint goes on
//! without it and [`Observer::note`] says which rules could not be checked.

use crate::client::{AwsError, Client, segment};
use nimbus_lint::Observed;
use reqwest::Method;
use serde_json::Value;

/// The summary's endpoint.
const SUMMARY_PATH: &str = "/nimbus/v1/metrics/summary";
/// The summary window asked for: the longest the server keeps (per-minute counts live an
/// hour), so a quiet function still has a p99.
const SUMMARY_WINDOW: &str = "60m";
/// The invocation records' endpoint.
const METERING_PATH: &str = "/nimbus/v1/metering";
/// Invocation records read per function for peak memory and Init: the newest thousand are
/// enough to see the peak of a recent workload and keep the answer small.
const METERING_SAMPLE: u32 = 1_000;
/// The error type of a route the server does not have.
const UNKNOWN_OPERATION: &str = "UnknownOperationException";

/// Whether an endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// Not asked yet (no function to ask about).
    Unasked,
    /// It does.
    Answers,
    /// The server does not have it: not asked again.
    Missing,
    /// It failed otherwise: not asked again.
    Failed(String),
}

impl Source {
    fn usable(&self) -> bool {
        matches!(self, Source::Unasked | Source::Answers)
    }

    /// Asks `path`; `None` when there is nothing (no such endpoint, no such function, or a
    /// failure, remembered in `self`).
    async fn get(&mut self, client: &Client, path: &str) -> Option<Value> {
        if !self.usable() {
            return None;
        }
        match client.json::<Value>(Method::GET, path, None).await {
            Ok(v) => {
                *self = Source::Answers;
                Some(v)
            }
            Err(e) => {
                *self = match e.downcast_ref::<AwsError>() {
                    Some(aws) if aws.code == UNKNOWN_OPERATION => Source::Missing,
                    // The endpoint exists and knows nothing of this function.
                    Some(aws) if aws.status == 404 => Source::Answers,
                    _ => Source::Failed(format!("{e:#}")),
                };
                None
            }
        }
    }

    /// Why this source gave nothing, if it did not answer.
    fn problem(&self, path: &str) -> Option<String> {
        match self {
            Source::Unasked | Source::Answers => None,
            Source::Missing => Some(format!("the server has no {path}")),
            Source::Failed(e) => Some(format!("{path} failed: {e}")),
        }
    }
}

/// Reads measurements function by function.
pub struct Observer {
    summary: Source,
    metering: Source,
}

impl Observer {
    pub fn new() -> Observer {
        Observer {
            summary: Source::Unasked,
            metering: Source::Unasked,
        }
    }

    /// What the server measured for `function` (by its physical name); `None` when it has
    /// nothing at all.
    pub async fn observe(&mut self, client: &Client, function: &str) -> Option<Observed> {
        let name = segment(function);
        let summary = self
            .summary
            .get(
                client,
                &format!("{SUMMARY_PATH}?function={name}&since={SUMMARY_WINDOW}"),
            )
            .await;
        let records = self
            .metering
            .get(
                client,
                &format!("{METERING_PATH}?function={name}&limit={METERING_SAMPLE}"),
            )
            .await;
        let mut seen = summary
            .map(|v| from_summary(&v, function))
            .unwrap_or_default();
        if let Some(v) = records {
            let from_records = from_records(&v, function);
            seen.max_memory_used_mb = from_records.max_memory_used_mb;
            seen.max_init_ms = from_records.max_init_ms;
            seen.invocations = seen.invocations.or(from_records.invocations);
        }
        (seen != Observed::default()).then_some(seen)
    }

    /// Which measurements were unavailable and the rules left unchecked, if any.
    pub fn note(&self) -> Option<String> {
        let summary = self.summary.problem(SUMMARY_PATH);
        let metering = self.metering.problem(METERING_PATH);
        let (problems, unchecked) = match (summary, metering) {
            (None, None) => return None,
            (Some(s), None) => (s, "NL005"),
            (None, Some(m)) => (m, "NL004 and NL006"),
            (Some(s), Some(m)) => (format!("{s}; {m}"), "NL004–NL006"),
        };
        Some(format!(
            "{problems}: linted without those observations ({unchecked} not checked)"
        ))
    }
}

/// `{"Functions": [{"FunctionName", "Invocations", "DurationP99Ms", …}]}`: the entry of
/// `function` (a top-level object of those fields is read too).
fn from_summary(v: &Value, function: &str) -> Observed {
    let entry = v
        .get("Functions")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find(|f| f["FunctionName"] == function))
        .unwrap_or(v);
    Observed {
        p99_duration_ms: entry.get("DurationP99Ms").and_then(Value::as_f64),
        invocations: entry.get("Invocations").and_then(Value::as_u64),
        ..Observed::default()
    }
}

/// `{"records": [{"function", "maxMemoryUsedMb", "initMs", …}]}`: the peak memory and the
/// longest Init among `function`'s records, and how many there were.
fn from_records(v: &Value, function: &str) -> Observed {
    let records: Vec<&Value> = v
        .get("records")
        .or_else(|| v.get("Records"))
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter(|r| r.get("function").is_none_or(|f| f == function))
                .collect()
        })
        .unwrap_or_default();
    if records.is_empty() {
        return Observed::default();
    }
    let max = |keys: [&str; 2]| {
        records
            .iter()
            .filter_map(|r| keys.iter().find_map(|k| r.get(*k).and_then(Value::as_f64)))
            .reduce(f64::max)
    };
    Observed {
        max_memory_used_mb: max(["maxMemoryUsedMb", "MaxMemoryUsedMb"]),
        max_init_ms: max(["initMs", "InitMs"]),
        invocations: Some(records.len() as u64),
        p99_duration_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_summary_entry_of_the_function_is_read() {
        let v = json!({"SinceSeconds": 3600, "Functions": [
            {"FunctionName": "other", "Invocations": 1, "DurationP99Ms": 1.0},
            {"FunctionName": "app-F", "Invocations": 42, "DurationP99Ms": 2750.5, "Versions": []}
        ]});
        assert_eq!(
            from_summary(&v, "app-F"),
            Observed {
                p99_duration_ms: Some(2750.5),
                invocations: Some(42),
                ..Observed::default()
            }
        );
        assert_eq!(
            from_summary(&json!({"Functions": []}), "app-F"),
            Observed::default()
        );
    }

    #[test]
    fn records_give_the_peak_memory_and_the_longest_init() {
        let v = json!({"records": [
            {"function": "app-F", "maxMemoryUsedMb": 40, "initMs": null},
            {"function": "app-F", "maxMemoryUsedMb": 61, "initMs": 8100.5},
            {"function": "app-F", "maxMemoryUsedMb": 52, "initMs": 300.0},
            {"function": "other", "maxMemoryUsedMb": 900, "initMs": 9900.0}
        ], "recordsDropped": 0, "recordsLost": 0});
        assert_eq!(
            from_records(&v, "app-F"),
            Observed {
                max_memory_used_mb: Some(61.0),
                max_init_ms: Some(8100.5),
                invocations: Some(3),
                p99_duration_ms: None,
            }
        );
        assert_eq!(
            from_records(&json!({"records": []}), "app-F"),
            Observed::default()
        );
    }

    #[test]
    fn the_note_names_what_was_not_checked() {
        let mut o = Observer::new();
        assert_eq!(o.note(), None);
        o.summary = Source::Answers;
        o.metering = Source::Missing;
        let note = o.note().unwrap_or_default();
        assert!(
            note.contains(METERING_PATH) && note.contains("NL004 and NL006"),
            "{note}"
        );
        o.summary = Source::Missing;
        let note = o.note().unwrap_or_default();
        assert!(note.contains("NL004–NL006"), "{note}");
    }
}
