//! Metering and cost (`/nimbus/v1/cost`, `/nimbus/v1/metering`): parse the query, ask the
//! engine, render JSON. Times accept what `nimbus cost --since` does (`24h`, RFC 3339, ms).

use crate::AppState;
use crate::control::{json, json_body};
use crate::error::ApiError;
use crate::extract::Query;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_platform::metering::nimbus_cost::crossover::{Instance, default_instances};
use nimbus_platform::metering::nimbus_cost::parse::{ParseError, parse_on_off, parse_since};
use nimbus_platform::metering::{CostError, METERING_LIST_DEFAULT};
use serde::Deserialize;

/// The window a cost report covers when `since` is not given.
const COST_SINCE_DEFAULT: &str = "24h";

/// Largest instance table a client may send (64 rows of a few dozen bytes fit in far less).
const CROSSOVER_BODY_BYTES_MAX: usize = 64 * 1024;

/// The window the crossover advisor looks at by default: the whole metering retention.
const CROSSOVER_SINCE_DEFAULT: &str = "30d";

/// `GET /nimbus/v1/cost?function=&since=&until=&free_tier=on|off`.
#[derive(Debug, Deserialize)]
pub(crate) struct CostQuery {
    function: Option<String>,
    since: Option<String>,
    until: Option<String>,
    free_tier: Option<String>,
}

/// `GET|POST /nimbus/v1/cost/crossover?function=&since=&until=`; a POST body
/// `{"Instances": [...]}` replaces the default instance table.
#[derive(Debug, Deserialize)]
pub(crate) struct CrossoverQuery {
    function: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// The body of `POST /nimbus/v1/cost/crossover`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct CrossoverBody {
    instances: Vec<Instance>,
}

/// `GET /nimbus/v1/metering?function=&limit=`.
#[derive(Debug, Deserialize)]
pub(crate) struct MeteringQuery {
    function: Option<String>,
    limit: Option<u32>,
}

pub(crate) async fn cost(
    State(p): State<AppState>,
    Query(q): Query<CostQuery>,
) -> Result<Response, ApiError> {
    let (since_ms, until_ms) = window(
        &p,
        q.since.as_deref(),
        q.until.as_deref(),
        COST_SINCE_DEFAULT,
    )?;
    let free_tier = match q.free_tier.as_deref() {
        Some(f) => parse_on_off(f).map_err(invalid)?,
        None => false,
    };
    let function = q.function.as_deref().filter(|f| !f.is_empty());
    let report = p
        .cost_report(function, since_ms, until_ms, free_tier)
        .await
        .map_err(cost_error)?;
    Ok(json(StatusCode::OK, &report))
}

pub(crate) async fn crossover(
    State(p): State<AppState>,
    Query(q): Query<CrossoverQuery>,
) -> Result<Response, ApiError> {
    crossover_with(p, q, default_instances()).await
}

pub(crate) async fn crossover_post(
    State(p): State<AppState>,
    Query(q): Query<CrossoverQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: CrossoverBody =
        json_body(&headers, body, CROSSOVER_BODY_BYTES_MAX, "CostCrossover").await?;
    crossover_with(p, q, body.instances).await
}

async fn crossover_with(
    p: AppState,
    q: CrossoverQuery,
    instances: Vec<Instance>,
) -> Result<Response, ApiError> {
    let (since_ms, until_ms) = window(
        &p,
        q.since.as_deref(),
        q.until.as_deref(),
        CROSSOVER_SINCE_DEFAULT,
    )?;
    let function = q.function.as_deref().filter(|f| !f.is_empty());
    let report = p
        .crossover(function, since_ms, until_ms, instances)
        .await
        .map_err(cost_error)?;
    Ok(json(StatusCode::OK, &report))
}

pub(crate) async fn metering(
    State(p): State<AppState>,
    Query(q): Query<MeteringQuery>,
) -> Result<Response, ApiError> {
    let function = q.function.as_deref().filter(|f| !f.is_empty());
    let listing = p
        .metering_records(function, q.limit.unwrap_or(METERING_LIST_DEFAULT))
        .await
        .map_err(cost_error)?;
    Ok(json(StatusCode::OK, &listing))
}

/// `[since, until)` in ms from the query's `since` (default `default_since`) and `until`
/// (default now; exclusive, so a record that started this millisecond is in).
fn window(
    p: &AppState,
    since: Option<&str>,
    until: Option<&str>,
    default_since: &str,
) -> Result<(i64, i64), ApiError> {
    let now_ms = p.config().clock.now_ms();
    let since_ms = parse_since(since.unwrap_or(default_since), now_ms).map_err(invalid)?;
    let until_ms = match until {
        Some(u) => parse_since(u, now_ms).map_err(invalid)?,
        None => now_ms.saturating_add(1),
    };
    Ok((since_ms, until_ms))
}

fn invalid(e: ParseError) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValue, e.to_string())
}

fn cost_error(e: CostError) -> ApiError {
    match e {
        CostError::InvalidParameter(m) => ApiError::new(ErrorCode::InvalidParameterValue, m),
        CostError::Store(e) => ApiError(ErrorBody::service(e.to_string())),
    }
}
