//! Event source mappings (`/2015-03-31/event-source-mappings/`).

use crate::AppState;
use crate::control::{CONFIG_BODY_BYTES_MAX, json, json_body};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// ListEventSourceMappings query parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MappingListQuery {
    event_source_arn: Option<String>,
    function_name: Option<String>,
    marker: Option<String>,
    max_items: Option<String>,
}

pub(crate) async fn create(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "CreateEventSourceMapping",
    )
    .await?;
    let config = p.create_event_source_mapping(req).await?;
    Ok(json(StatusCode::ACCEPTED, &config))
}

pub(crate) async fn list(
    State(p): State<AppState>,
    Query(q): Query<MappingListQuery>,
) -> Result<Response, ApiError> {
    let page = p
        .list_event_source_mappings(
            q.function_name.as_deref(),
            q.event_source_arn.as_deref(),
            q.marker.as_deref(),
            q.max_items.as_deref(),
        )
        .await?;
    Ok(json(StatusCode::OK, &page))
}

pub(crate) async fn get(
    State(p): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(
        StatusCode::OK,
        &p.get_event_source_mapping(&uuid).await?,
    ))
}

pub(crate) async fn update(
    State(p): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "UpdateEventSourceMapping",
    )
    .await?;
    let config = p.update_event_source_mapping(&uuid, req).await?;
    Ok(json(StatusCode::ACCEPTED, &config))
}

pub(crate) async fn delete(
    State(p): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let config = p.delete_event_source_mapping(&uuid).await?;
    Ok(json(StatusCode::ACCEPTED, &config))
}
