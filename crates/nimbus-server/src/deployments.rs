//! Traffic-shifting deployments (`/nimbus/v1/deployments`) and, under
//! `nimbus serve --manual-clock`, the hand-moved clock (`/nimbus/v1/clock`). JSON with
//! PascalCase keys, like the rest of Nimbus's own API.

use crate::AppState;
use crate::control::{json, json_body};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use nimbus_api::error::ErrorCode;
use nimbus_api::stack::{AlarmSpec, DeploymentPreferenceSpec};
use nimbus_platform::Platform;
use nimbus_platform::clock::{Clock, ManualClock};
use nimbus_platform::deployments::{DeploymentRequest, DeploymentView};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest StartDeployment body: a preference and a few alarms.
const START_BODY_BYTES_MAX: usize = 256 * 1024;
/// Largest clock body (`{"AdvanceMs": n}`).
const CLOCK_BODY_BYTES_MAX: usize = 1024;
/// Largest move of the manual clock in one call (ten years): keeps the clock far from
/// overflowing while allowing any realistic schedule to be driven.
const CLOCK_ADVANCE_MS_MAX: i64 = 10 * 366 * 24 * 3600 * 1000;

/// `GET /nimbus/v1/deployments?function=`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    function: Option<String>,
}

/// The list answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeploymentList {
    deployments: Vec<DeploymentView>,
}

/// `POST /nimbus/v1/deployments` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartBody {
    function_name: String,
    alias: String,
    from_version: String,
    to_version: String,
    deployment_preference: DeploymentPreferenceSpec,
    #[serde(default)]
    alarms: Vec<AlarmSpec>,
    #[serde(default)]
    owner: Option<String>,
}

pub(crate) async fn list(
    State(p): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let function = q.function.as_deref().filter(|f| !f.is_empty());
    let deployments = p.list_deployments(function).await?;
    Ok(json(StatusCode::OK, &DeploymentList { deployments }))
}

pub(crate) async fn get(
    State(p): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &p.get_deployment(&id).await?))
}

pub(crate) async fn stop(
    State(p): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &p.stop_deployment(&id).await?))
}

pub(crate) async fn start(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let b: StartBody = json_body(&headers, body, START_BODY_BYTES_MAX, "StartDeployment").await?;
    let view = p
        .start_deployment(DeploymentRequest {
            function: b.function_name,
            alias: b.alias,
            from_version: b.from_version,
            to_version: b.to_version,
            preference: b.deployment_preference,
            alarms: b.alarms,
            owner: b.owner.unwrap_or_default(),
        })
        .await?;
    Ok(json(StatusCode::CREATED, &view))
}

/// `POST /nimbus/v1/clock` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdvanceBody {
    advance_ms: i64,
}

/// The clock's reading.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClockReading {
    now_ms: i64,
}

type ClockState = (Arc<Platform>, Arc<ManualClock>);

/// The routes of the hand-moved clock, mounted only under `nimbus serve --manual-clock`
/// (otherwise `/nimbus/v1/clock` is an unknown operation, 404): `GET` reads it, `POST`
/// `{"AdvanceMs": n}` moves it (negative: back) and wakes every wall-time scheduler.
pub fn manual_clock_router(platform: Arc<Platform>, clock: Arc<ManualClock>) -> Router {
    Router::new()
        .route("/nimbus/v1/clock", post(advance_clock).get(read_clock))
        .with_state((platform, clock))
}

async fn read_clock(State((_, clock)): State<ClockState>) -> Response {
    json(
        StatusCode::OK,
        &ClockReading {
            now_ms: clock.now_ms(),
        },
    )
}

async fn advance_clock(
    State((platform, clock)): State<ClockState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let b: AdvanceBody = json_body(&headers, body, CLOCK_BODY_BYTES_MAX, "AdvanceClock").await?;
    if b.advance_ms.abs() > CLOCK_ADVANCE_MS_MAX {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!("AdvanceMs must be within ±{CLOCK_ADVANCE_MS_MAX}"),
        ));
    }
    clock.advance_ms(b.advance_ms);
    platform.clock_advanced();
    Ok(json(
        StatusCode::OK,
        &ClockReading {
            now_ms: clock.now_ms(),
        },
    ))
}
