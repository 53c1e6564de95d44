//! `GET /metrics` (the Prometheus text format, Lambda's metric names) and
//! `GET /nimbus/v1/metrics/summary?function=&since=` (the JSON behind `nimbus metrics`).
//! The names, the cardinality cap and the summary's figures are the engine's
//! (`nimbus_platform::metrics`); this module only renders them.

use crate::AppState;
use crate::control::json;
use crate::error::ApiError;
use crate::extract::Query;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use nimbus_api::error::ErrorCode;
use nimbus_platform::metrics::exposition::CONTENT_TYPE;
use nimbus_platform::metrics::summary::SummaryError;
use serde::Deserialize;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(prometheus))
        .route("/nimbus/v1/metrics/summary", get(summary))
}

async fn prometheus(State(p): State<AppState>) -> Response {
    let text = p.prometheus_metrics().await;
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}

/// `?function=&since=` (both optional; `since` like `15m`).
#[derive(Debug, Deserialize)]
pub(crate) struct SummaryQuery {
    function: Option<String>,
    since: Option<String>,
}

async fn summary(
    State(p): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, ApiError> {
    let function = q.function.as_deref().filter(|f| !f.is_empty());
    let since = q.since.as_deref().filter(|s| !s.is_empty());
    match p.metrics_summary(function, since) {
        Ok(s) => Ok(json(StatusCode::OK, &s)),
        Err(e @ SummaryError::BadSince(_)) => Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            e.to_string(),
        )),
        Err(e @ SummaryError::NotFound(_)) => {
            Err(ApiError::new(ErrorCode::ResourceNotFound, e.to_string()))
        }
    }
}
