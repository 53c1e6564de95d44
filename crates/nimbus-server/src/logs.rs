//! CloudWatch Logs JSON 1.1 operations on `POST /` (`X-Amz-Target: Logs_20140328.<Op>`).

use crate::AppState;
use crate::body::read_limited;
use crate::error::LogsApiError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nimbus_api::logs::{LogsErrorBody, LogsErrorCode, LogsOperation};
use serde::de::DeserializeOwned;

/// Logs API request bodies are small JSON documents.
const LOGS_BODY_BYTES_MAX: usize = 1024 * 1024;

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, LogsApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        LogsApiError(LogsErrorBody::new(
            LogsErrorCode::InvalidParameter,
            format!("Malformed request body: {e}"),
        ))
    })
}

fn ok<T: serde::Serialize>(value: &T) -> Response {
    let mut resp = (
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    resp
}

pub(crate) async fn dispatch(
    State(p): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, LogsApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Some(op) = LogsOperation::from_target(&target) else {
        return Err(LogsApiError(LogsErrorBody::new(
            LogsErrorCode::UnknownOperation,
            format!("Unknown operation {target:?}"),
        )));
    };
    let bytes = read_limited(&headers, body, LOGS_BODY_BYTES_MAX)
        .await
        .map_err(|_| {
            LogsApiError(LogsErrorBody::new(
                LogsErrorCode::InvalidParameter,
                "Request body too large or unreadable",
            ))
        })?;
    let resp = match op {
        LogsOperation::FilterLogEvents => ok(&p
            .filter_log_events(parse(&bytes)?)
            .await
            .map_err(LogsApiError)?),
        LogsOperation::GetLogEvents => ok(&p
            .get_log_events(parse(&bytes)?)
            .await
            .map_err(LogsApiError)?),
        LogsOperation::DescribeLogStreams => ok(&p
            .describe_log_streams(parse(&bytes)?)
            .await
            .map_err(LogsApiError)?),
        LogsOperation::DescribeLogGroups => ok(&p
            .describe_log_groups(parse(&bytes)?)
            .await
            .map_err(LogsApiError)?),
    };
    Ok(resp)
}
