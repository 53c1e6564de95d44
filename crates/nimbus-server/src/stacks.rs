//! Stacks and package uploads (`/nimbus/v1/stacks`, `POST /nimbus/v1/code`): what
//! `nimbus deploy` talks to. The server never sees a template, only the resolved spec.

use crate::AppState;
use crate::body::{BodyError, read_limited};
use crate::control::{json, json_body};
use crate::error::ApiError;
use crate::extract::Path;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nimbus_api::error::ErrorCode;
use nimbus_api::stack::StackSpec;

/// Largest upload: Lambda's zipped-package limit.
const UPLOAD_BYTES_MAX: usize = nimbus_api::limits::CODE_ZIP_BYTES_MAX as usize;
/// Largest spec: a template's resolved form (CloudFormation caps templates at 1 MB).
const SPEC_BYTES_MAX: usize = 4 * 1024 * 1024;

pub(crate) async fn upload_code(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = match read_limited(&headers, body, UPLOAD_BYTES_MAX).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(ApiError::new(
                ErrorCode::RequestEntityTooLarge,
                format!(
                    "Request must be smaller than {UPLOAD_BYTES_MAX} bytes for the UploadCode operation"
                ),
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                "The request body could not be read.",
            ));
        }
    };
    let uploaded = p.put_code(bytes.to_vec()).await?;
    Ok(json(StatusCode::CREATED, &uploaded))
}

pub(crate) async fn deploy(
    State(p): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let spec: StackSpec = json_body(&headers, body, SPEC_BYTES_MAX, "DeployStack").await?;
    if spec.name != name {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "The stack name in the path ({name}) does not match the spec's Name ({}).",
                spec.name
            ),
        ));
    }
    Ok(json(StatusCode::OK, &p.deploy_stack(spec).await?))
}

pub(crate) async fn list(State(p): State<AppState>) -> Result<Response, ApiError> {
    let stacks = p.list_stacks().await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "Stacks": stacks }),
    ))
}

pub(crate) async fn get(
    State(p): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &p.get_stack(&name).await?))
}

pub(crate) async fn delete(
    State(p): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &p.delete_stack(&name).await?))
}

pub(crate) async fn info(State(p): State<AppState>) -> Response {
    json(StatusCode::OK, &p.server_info())
}

pub(crate) async fn schedules(State(p): State<AppState>) -> Result<Response, ApiError> {
    let all = p
        .list_schedules()
        .await
        .map_err(|e| ApiError::new(ErrorCode::Service, format!("could not list schedules: {e}")))?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "Schedules": all }),
    ))
}
