//! `GET /nimbus/v1/lint?stack=NAME`: the production-readiness checks (`nimbus-lint`) of the
//! deployed stacks (or the one named), with what the platform measured for each function:
//! p99 duration and invocations from the metrics summary, peak memory and longest Init from
//! the newest metering records. The same checks `nimbus lint --deployed` runs client side;
//! the console shows these.

use crate::AppState;
use crate::control::json;
use crate::error::ApiError;
use crate::extract::Query;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nimbus_api::stack::StackSpec;
use nimbus_lint::{Finding, Input, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The metrics summary window read: the longest the per-minute counts keep.
const SUMMARY_WINDOW: &str = "60m";
/// Newest metering records read per function for peak memory and Init (as the CLI does).
const METERING_SAMPLE: u32 = 1_000;

#[derive(Debug, Deserialize)]
pub(crate) struct LintQuery {
    stack: Option<String>,
}

/// One stack's findings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StackFindings {
    stack: String,
    errors: usize,
    findings: Vec<Finding>,
}

pub(crate) async fn lint(
    State(p): State<AppState>,
    Query(q): Query<LintQuery>,
) -> Result<Response, ApiError> {
    match q.stack.as_deref().filter(|s| !s.is_empty()) {
        Some(name) => {
            let view = p.get_stack(name).await?;
            let spec = view.spec.unwrap_or_default();
            Ok(json(StatusCode::OK, &lint_stack(&p, name, &spec).await))
        }
        None => {
            let mut stacks = Vec::new();
            for view in p.list_stacks().await? {
                let spec = view.spec.unwrap_or_default();
                stacks.push(lint_stack(&p, &view.name, &spec).await);
            }
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "Stacks": stacks }),
            ))
        }
    }
}

async fn lint_stack(p: &AppState, name: &str, spec: &StackSpec) -> StackFindings {
    let mut observed = BTreeMap::new();
    for f in &spec.functions {
        if let Some(seen) = observe(p, &f.function_name).await {
            observed.insert(f.logical_id.clone(), seen);
        }
    }
    let findings = nimbus_lint::lint(&Input {
        observed: &observed,
        ..Input::spec_only(spec)
    });
    StackFindings {
        stack: name.to_string(),
        errors: findings
            .iter()
            .filter(|f| f.severity == nimbus_lint::Severity::Error)
            .count(),
        findings,
    }
}

/// What was measured for `function`; `None` without any measurement (a rule needing one
/// is then skipped, as with a template).
async fn observe(p: &AppState, function: &str) -> Option<Observed> {
    let mut seen = Observed::default();
    if let Ok(summary) = p.metrics_summary(Some(function), Some(SUMMARY_WINDOW))
        && let Some(f) = summary
            .functions
            .iter()
            .find(|f| f.function_name == function)
    {
        seen.p99_duration_ms = f.totals.duration_p99_ms;
        seen.invocations = Some(f.totals.invocations);
    }
    match p.metering_records(Some(function), METERING_SAMPLE).await {
        Ok(listing) if !listing.records.is_empty() => {
            let records = &listing.records;
            seen.max_memory_used_mb = records
                .iter()
                .map(|r| r.max_memory_used_mb as f64)
                .reduce(f64::max);
            seen.max_init_ms = records.iter().filter_map(|r| r.init_ms).reduce(f64::max);
            seen.invocations = seen.invocations.or(Some(records.len() as u64));
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(function, error = %e, "lint: metering unreadable"),
    }
    (seen != Observed::default()).then_some(seen)
}
