//! `nimbus metrics [FUNCTION] [--since 15m] [--output json]`: per function and version over a
//! recent window, invocations, error %, throttles, p50/p99 duration and cold-start %, read
//! from `GET /nimbus/v1/metrics/summary` (the server computes them; this only prints).

use crate::cli::{Endpoint, Output};
use crate::client::{Client, segment};
use clap::Args;
use nimbus_platform::metrics::summary::{MetricsSummary, SummaryTotals};
use reqwest::Method;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Only this function (every version of it); all functions active in the window when
    /// omitted.
    pub function: Option<String>,
    /// How far back: 30s, 15m, 1h (at most 60m; p50/p99 and cold-start % round the window
    /// out to whole 5-minute slots).
    #[arg(long, default_value = "15m")]
    pub since: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Runs the command on a small runtime of its own.
pub fn run(a: MetricsArgs) -> anyhow::Result<ExitCode> {
    crate::cli::block_on(run_async(a))
}

async fn run_async(a: MetricsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let mut path = format!("/nimbus/v1/metrics/summary?since={}", segment(&a.since));
    if let Some(f) = &a.function {
        path.push_str(&format!("&function={}", segment(f)));
    }
    let summary: MetricsSummary = client.json(Method::GET, &path, None).await?;
    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Output::Table => {
            if summary.functions.is_empty() {
                println!("No invocations in the last {}.", a.since);
            } else {
                println!("{}", table(&summary));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One row per function (version `*`, all versions) and, when it ran more than one
/// version, one per version beneath it.
fn table(summary: &MetricsSummary) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header([
        "FUNCTION",
        "VERSION",
        "INVOCATIONS",
        "ERRORS",
        "THROTTLES",
        "P50",
        "P99",
        "COLD",
    ]);
    for f in &summary.functions {
        let only_version = match f.versions.as_slice() {
            [one] => Some(one.version.as_str()),
            _ => None,
        };
        table.add_row(row(
            &f.function_name,
            only_version.unwrap_or("*"),
            &f.totals,
        ));
        if only_version.is_none() {
            for v in &f.versions {
                table.add_row(row("", &v.version, &v.totals));
            }
        }
    }
    table
}

fn row(function: &str, version: &str, t: &SummaryTotals) -> [String; 8] {
    [
        function.to_string(),
        version.to_string(),
        t.invocations.to_string(),
        percent(t.error_percent),
        t.throttles.to_string(),
        millis(t.duration_p50_ms),
        millis(t.duration_p99_ms),
        percent(t.cold_start_percent),
    ]
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_string(), |p| format!("{p:.1} %"))
}

/// Milliseconds with the precision that matters at that size.
fn millis(ms: Option<f64>) -> String {
    match ms {
        None => "-".to_string(),
        Some(ms) if ms < 10.0 => format!("{ms:.2} ms"),
        Some(ms) if ms < 1000.0 => format!("{ms:.1} ms"),
        Some(ms) => format!("{:.2} s", ms / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_platform::metrics::summary::{FunctionSummary, VersionSummary};

    fn totals(invocations: u64) -> SummaryTotals {
        SummaryTotals {
            invocations,
            errors: 1,
            error_percent: Some(100.0 / invocations as f64),
            throttles: 2,
            duration_p50_ms: Some(4.567),
            duration_p99_ms: Some(1234.0),
            cold_starts: 1,
            cold_start_percent: Some(25.0),
        }
    }

    #[test]
    fn a_single_version_is_one_row_and_several_are_listed() {
        let summary = MetricsSummary {
            since_seconds: 900,
            from_ms: 0,
            to_ms: 0,
            functions: vec![
                FunctionSummary {
                    function_name: "one".into(),
                    totals: totals(4),
                    versions: vec![VersionSummary {
                        version: "$LATEST".into(),
                        totals: totals(4),
                    }],
                },
                FunctionSummary {
                    function_name: "two".into(),
                    totals: totals(8),
                    versions: vec![
                        VersionSummary {
                            version: "1".into(),
                            totals: totals(4),
                        },
                        VersionSummary {
                            version: "2".into(),
                            totals: totals(4),
                        },
                    ],
                },
            ],
        };
        let text = table(&summary).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[1].contains("one") && lines[1].contains("$LATEST"),
            "{text}"
        );
        assert!(lines[2].contains("two") && lines[2].contains('*'), "{text}");
        assert!(lines[1].contains("25.0 %") && lines[1].contains("4.57 ms"));
        assert!(lines[1].contains("1.23 s"));
        assert!(lines[2].contains("12.5 %"));
    }

    #[test]
    fn missing_figures_print_as_dashes() {
        assert_eq!(percent(None), "-");
        assert_eq!(millis(None), "-");
        assert_eq!(millis(Some(123.45)), "123.5 ms");
    }
}
