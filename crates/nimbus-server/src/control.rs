//! Lambda control-plane operations (botocore `lambda` 2015-03-31, rest-json).

use crate::AppState;
use crate::body::{BodyError, read_limited};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::function::{Concurrency, FunctionCodeLocation, GetFunctionResponse};
use nimbus_api::limits;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Bodies of control-plane calls other than code uploads are small (a 4 KB environment at
/// most); 1 MiB leaves room and bounds memory.
pub(crate) const CONFIG_BODY_BYTES_MAX: usize = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QualifierQuery {
    pub(crate) qualifier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListQuery {
    pub(crate) marker: Option<String>,
    pub(crate) max_items: Option<String>,
    pub(crate) function_version: Option<String>,
}

/// Reads and decodes a JSON body; `operation` names the call in size errors.
pub(crate) async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    operation: &str,
) -> Result<T, ApiError> {
    let bytes = match read_limited(headers, body, limit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(ApiError(ErrorBody::body_too_large(operation, limit)));
        }
        Err(BodyError::Broken) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestContent,
                "The request body could not be read.",
            ));
        }
        Err(BodyError::TimedOut) => return Err(body_timed_out()),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::from(nimbus_api::validate::malformed_body(&e)))
}

/// 408 for a body that stopped arriving or arrived too slowly.
pub(crate) fn body_timed_out() -> ApiError {
    ApiError::new(
        ErrorCode::RequestTimeout,
        "The request body did not arrive in time.",
    )
}

pub(crate) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    with_request_id((status, axum::Json(value)).into_response())
}

/// `204 No Content` (the Delete* calls).
pub(crate) fn no_content() -> Response {
    with_request_id(StatusCode::NO_CONTENT.into_response())
}

fn with_request_id(mut resp: Response) -> Response {
    if let Ok(id) = axum::http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("x-amzn-requestid", id);
    }
    resp
}

pub(crate) async fn create_function(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        limits::CREATE_FUNCTION_BODY_BYTES_MAX,
        "CreateFunction",
    )
    .await?;
    let config = p.create_function(req).await?;
    Ok(json(StatusCode::CREATED, &config))
}

pub(crate) async fn get_function(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let details = p.get_function(&name, q.qualifier.as_deref()).await?;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let location = format!(
        "http://{host}/nimbus/v1/code/{}.zip",
        details.code_sha256_hex
    );
    let response = GetFunctionResponse {
        configuration: Some(details.configuration),
        code: Some(FunctionCodeLocation {
            repository_type: Some("S3".into()),
            location: Some(location),
            ..FunctionCodeLocation::default()
        }),
        tags: (!details.tags.is_empty()).then_some(details.tags),
        concurrency: details.reserved_concurrency.map(|r| Concurrency {
            reserved_concurrent_executions: Some(i64::from(r)),
        }),
    };
    Ok(json(StatusCode::OK, &response))
}

pub(crate) async fn get_function_configuration(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    let config = p
        .get_function_configuration(&name, q.qualifier.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn list_functions(
    State(p): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    if let Some(v) = q.function_version.as_deref()
        && v != "ALL"
    {
        return Err(ApiError::new(
            ErrorCode::Validation,
            format!(
                "1 validation error detected: Value '{v}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            ),
        ));
    }
    let page = p
        .list_functions(
            q.marker.as_deref(),
            q.max_items.as_deref(),
            q.function_version.as_deref() == Some("ALL"),
        )
        .await?;
    Ok(json(StatusCode::OK, &page))
}

pub(crate) async fn update_function_code(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        limits::CREATE_FUNCTION_BODY_BYTES_MAX,
        "UpdateFunctionCode",
    )
    .await?;
    let config = p.update_function_code(&name, req).await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn update_function_configuration(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req = json_body(
        &headers,
        body,
        CONFIG_BODY_BYTES_MAX,
        "UpdateFunctionConfiguration",
    )
    .await?;
    let config = p.update_function_configuration(&name, req).await?;
    Ok(json(StatusCode::OK, &config))
}

pub(crate) async fn delete_function(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    p.delete_function(&name, q.qualifier.as_deref()).await?;
    Ok(no_content())
}

pub(crate) async fn account_settings(State(p): State<AppState>) -> Result<Response, ApiError> {
    let settings = p.account_settings().await?;
    Ok(json(StatusCode::OK, &settings))
}

/// `Code.Location` of GetFunction points here: the stored deployment package.
pub(crate) async fn download_code(
    State(p): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(ErrorCode::ResourceNotFound, "Code package not found");
    let hex = file.strip_suffix(".zip").ok_or_else(not_found)?;
    let path = p.code_zip(hex).ok_or_else(not_found)?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| not_found())?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/zip"),
    );
    Ok(resp)
}

/// Anything else: an AWS-shaped error rather than an empty 404.
/// A known path with a method it does not take: 405 with a JSON body (axum's own is empty).
pub(crate) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let body = serde_json::json!({
        "message": format!("Method {method} is not allowed on {}", uri.path())
    });
    let mut resp = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        "x-amzn-errortype",
        axum::http::HeaderValue::from_static("UnknownOperationException"),
    );
    with_request_id(resp)
}

pub(crate) async fn unknown_operation(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let body =
        serde_json::json!({ "message": format!("Unknown operation {method} {}", uri.path()) });
    let mut resp = (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        "x-amzn-errortype",
        axum::http::HeaderValue::from_static("UnknownOperationException"),
    );
    resp
}
