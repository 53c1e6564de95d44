//! Versions, aliases, reserved and provisioned concurrency (botocore `lambda`, rest-json).
//! Note the path versions: GetFunctionConcurrency and the provisioned-concurrency calls live
//! under `/2019-09-30`, Put/DeleteFunctionConcurrency under `/2017-10-31`.

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
use nimbus_api::error::ErrorCode;
use serde::Deserialize;

pub(crate) async fn publish_version(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(&headers, body, CONFIG_BODY_BYTES_MAX, "PublishVersion").await?;
    let config = p.publish_version(&name, req).await?;
    Ok(json(StatusCode::CREATED, &config))
}

pub(crate) async fn list_versions(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let page = p
        .list_versions_by_function(&name, q.marker.as_deref(), q.max_items.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &page))
}

pub(crate) async fn create_alias(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(&headers, body, CONFIG_BODY_BYTES_MAX, "CreateAlias").await?;
    let alias = p.create_alias(&name, req).await?;
    Ok(json(StatusCode::CREATED, &alias))
}

pub(crate) async fn list_aliases(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let page = p
        .list_aliases(
            &name,
            q.function_version.as_deref(),
            q.marker.as_deref(),
            q.max_items.as_deref(),
        )
        .await?;
    Ok(json(StatusCode::OK, &page))
}

pub(crate) async fn get_alias(
    State(p): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &p.get_alias(&name, &alias).await?))
}

pub(crate) async fn update_alias(
    State(p): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(&headers, body, CONFIG_BODY_BYTES_MAX, "UpdateAlias").await?;
    Ok(json(
        StatusCode::OK,
        &p.update_alias(&name, &alias, req).await?,
    ))
}

pub(crate) async fn delete_alias(
    State(p): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    p.delete_alias(&name, &alias).await?;
    Ok(no_content())
}

pub(crate) async fn put_function_concurrency(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "PutFunctionConcurrency",
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        &p.put_function_concurrency(&name, req).await?,
    ))
}

pub(crate) async fn get_function_concurrency(
    State(p): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(
        StatusCode::OK,
        &p.get_function_concurrency(&name).await?,
    ))
}

pub(crate) async fn delete_function_concurrency(
    State(p): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    p.delete_function_concurrency(&name).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProvisionedQuery {
    qualifier: Option<String>,
    list: Option<String>,
    marker: Option<String>,
    max_items: Option<String>,
}

pub(crate) async fn put_provisioned(
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
        "PutProvisionedConcurrencyConfig",
    )
    .await?;
    let config = p
        .put_provisioned_concurrency(&name, q.qualifier.as_deref(), req)
        .await?;
    Ok(json(StatusCode::ACCEPTED, &config))
}

/// GetProvisionedConcurrencyConfig (`?Qualifier=`) and ListProvisionedConcurrencyConfigs
/// (`?List=ALL`) share a path.
pub(crate) async fn get_provisioned(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ProvisionedQuery>,
) -> Result<Response, ApiError> {
    match q.list.as_deref() {
        Some("ALL") => {
            let page = p
                .list_provisioned_concurrency(&name, q.marker.as_deref(), q.max_items.as_deref())
                .await?;
            Ok(json(StatusCode::OK, &page))
        }
        Some(other) => Err(ApiError::new(
            ErrorCode::Validation,
            format!(
                "1 validation error detected: Value '{other}' at 'list' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            ),
        )),
        None => {
            let config = p
                .get_provisioned_concurrency(&name, q.qualifier.as_deref())
                .await?;
            Ok(json(StatusCode::OK, &config))
        }
    }
}

pub(crate) async fn delete_provisioned(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    p.delete_provisioned_concurrency(&name, q.qualifier.as_deref())
        .await?;
    Ok(no_content())
}

/// Engine counters (Nimbus's own endpoint, for operators and benchmarks).
pub(crate) async fn stats(State(p): State<AppState>) -> Response {
    json(StatusCode::OK, &p.stats())
}
