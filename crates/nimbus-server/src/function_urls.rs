//! Function URL configurations (`/2021-10-31/functions/{name}/url` and `.../urls`).

use crate::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nimbus_platform::function_urls::FunctionUrlConfigRequest;

use crate::AppState;
use crate::control::{
    CONFIG_BODY_BYTES_MAX, ListQuery, QualifierQuery, json, json_body, no_content,
};
use crate::error::ApiError;

pub(crate) async fn create(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req: FunctionUrlConfigRequest = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "CreateFunctionUrlConfig",
    )
    .await?;
    let config = p
        .create_function_url_config(&name, q.qualifier.as_deref(), req)
        .await?;
    Ok(json(StatusCode::CREATED, &config))
}

pub(crate) async fn get(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    let config = p
        .get_function_url_config(&name, q.qualifier.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn update(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req: FunctionUrlConfigRequest = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "UpdateFunctionUrlConfig",
    )
    .await?;
    let config = p
        .update_function_url_config(&name, q.qualifier.as_deref(), req)
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn delete(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    p.delete_function_url_config(&name, q.qualifier.as_deref())
        .await?;
    Ok(no_content())
}

pub(crate) async fn list(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let page = p
        .list_function_url_configs(&name, q.marker.as_deref(), q.max_items.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &page))
}
