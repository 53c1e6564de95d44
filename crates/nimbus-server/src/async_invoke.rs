//! Event-invoke configurations (`/2019-09-25/functions/{name}/event-invoke-config`) and
//! Nimbus's own view of asynchronous events (`/nimbus/v1/async-events`).

use crate::AppState;
use crate::control::{
    CONFIG_BODY_BYTES_MAX, ListQuery, QualifierQuery, json, json_body, no_content,
};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nimbus_api::error::{ErrorBody, ErrorCode};

pub(crate) async fn put_config(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "PutFunctionEventInvokeConfig",
    )
    .await?;
    let config = p
        .put_event_invoke_config(&name, q.qualifier.as_deref(), req, false)
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn update_config(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "UpdateFunctionEventInvokeConfig",
    )
    .await?;
    let config = p
        .put_event_invoke_config(&name, q.qualifier.as_deref(), req, true)
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn get_config(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    let config = p
        .get_event_invoke_config(&name, q.qualifier.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn delete_config(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    p.delete_event_invoke_config(&name, q.qualifier.as_deref())
        .await?;
    Ok(no_content())
}

pub(crate) async fn list_configs(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let page = p
        .list_event_invoke_configs(&name, q.marker.as_deref(), q.max_items.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &page))
}

/// Events per state and the engine's counters.
pub(crate) async fn event_counts(State(p): State<AppState>) -> Result<Response, ApiError> {
    let counts = p
        .async_event_counts()
        .await
        .map_err(|e| ApiError(ErrorBody::service(e.to_string())))?;
    Ok(json(StatusCode::OK, &counts))
}

/// One event: its state, attempts, record and deliveries.
pub(crate) async fn event(
    State(p): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match p.async_event(&id).await {
        Ok(Some(view)) => Ok(json(StatusCode::OK, &view)),
        Ok(None) => Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("No asynchronous event {id}"),
        )),
        Err(e) => Err(ApiError(ErrorBody::service(e.to_string()))),
    }
}
