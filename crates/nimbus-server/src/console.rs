//! The web console (`/console`): static assets compiled into the binary (no external
//! network, no build step), plus the per-minute series its charts draw.

use crate::AppState;
use crate::control::json;
use crate::error::ApiError;
use crate::extract::Query;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nimbus_api::error::ErrorCode;
use nimbus_platform::metering::MinuteStatsRow;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

/// Longest chart window: what the per-version metrics keep.
const SERIES_MINUTES_MAX: usize = 60;
/// Chart window when none is asked for.
const SERIES_MINUTES_DEFAULT: usize = 60;
/// Milliseconds per minute bucket.
const MINUTE_MS: i64 = 60_000;

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The assets change with the binary: always revalidate.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

pub(crate) async fn root() -> Redirect {
    Redirect::permanent("/console/")
}

pub(crate) async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

pub(crate) async fn script() -> Response {
    asset(CONSOLE_JS, "text/javascript; charset=utf-8")
}

pub(crate) async fn style() -> Response {
    asset(CONSOLE_CSS, "text/css; charset=utf-8")
}

#[derive(Debug, Deserialize)]
pub(crate) struct SeriesQuery {
    function: String,
    minutes: Option<usize>,
}

/// One minute of a function (all versions).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Minute {
    /// Start of the minute, ms since the epoch.
    start_ms: i64,
    invocations: u64,
    errors: u64,
    throttles: u64,
    avg_ms: f64,
    max_ms: f64,
    /// Median and 99th percentile Duration of the attempts metered in the minute (0 without).
    p50_ms: f64,
    p99_ms: f64,
    /// Cold starts in percent of the attempts metered in the minute (0 without).
    cold_start_percent: f64,
}

/// `GET /nimbus/v1/console/series?function=F&minutes=N`: the last N minutes, oldest first.
pub(crate) async fn series(
    State(p): State<AppState>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, ApiError> {
    if !p.has_metrics_of(&q.function) {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("Function not found: {}", p.function_arn(&q.function)),
        ));
    }
    let count = q
        .minutes
        .unwrap_or(SERIES_MINUTES_DEFAULT)
        .clamp(1, SERIES_MINUTES_MAX);
    let now_minute = p.config().clock.now_ms().div_euclid(MINUTE_MS);
    let first = now_minute - (count as i64 - 1);
    // Percentiles and cold starts come from the metering records; a failed read leaves
    // them at 0 (the counts still draw) and is logged.
    let stats: HashMap<i64, MinuteStatsRow> = match p
        .minute_stats(&q.function, first * MINUTE_MS, (now_minute + 1) * MINUTE_MS)
        .await
    {
        Ok(rows) => rows.into_iter().map(|r| (r.minute, r)).collect(),
        Err(e) => {
            tracing::warn!(function = %q.function, error = %e, "console series: metering unreadable");
            HashMap::new()
        }
    };
    let minutes: Vec<Minute> = p
        .version_metrics()
        .minutes(&q.function, None, first, count)
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let minute = first + i as i64;
            let s = stats.get(&minute);
            Minute {
                start_ms: minute * MINUTE_MS,
                invocations: t.invocations,
                errors: t.errors,
                throttles: t.throttles,
                avg_ms: if t.invocations > 0 {
                    t.duration_sum_ms / t.invocations as f64
                } else {
                    0.0
                },
                max_ms: t.duration_max_ms,
                p50_ms: s.map_or(0.0, |s| s.p50_ms),
                p99_ms: s.map_or(0.0, |s| s.p99_ms),
                cold_start_percent: s
                    .filter(|s| s.attempts > 0)
                    .map_or(0.0, |s| s.cold_starts as f64 * 100.0 / s.attempts as f64),
            }
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "Function": q.function, "Minutes": minutes }),
    ))
}
