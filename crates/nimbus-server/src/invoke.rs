//! `POST /2015-03-31/functions/{name}/invocations`.

use crate::AppState;
use crate::body::{BodyError, read_limited};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::invoke::{InvocationType, InvokeHeaders, LogType, prepare_invoke_payload};
use nimbus_api::trace::TraceHeader;
use nimbus_platform::invoke::InvokeRequest;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InvokeQuery {
    qualifier: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A header that changes what is done: present but not visible ASCII is refused, never
/// read as absent (an unreadable `Event` must not run synchronously).
fn strict_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!("The {name} header is not valid ASCII text."),
            )
        }),
    }
}

pub(crate) async fn invoke(
    State(p): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<InvokeQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let parsed = InvokeHeaders::parse(
        strict_header(&headers, "x-amz-invocation-type")?,
        strict_header(&headers, "x-amz-log-type")?,
        strict_header(&headers, "x-amz-client-context")?,
    )?;
    let limit = match parsed.invocation_type {
        // Configurable: Lambda's classic 256 KiB or its newer 1 MiB.
        InvocationType::Event => p.config().async_payload_bytes,
        other => other.payload_limit_bytes(),
    };
    let raw = match read_limited(&headers, body, limit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(ApiError(ErrorBody::invoke_payload_too_large(limit)));
        }
        Err(BodyError::Broken) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestContent,
                "The request body could not be read.",
            ));
        }
        Err(BodyError::TimedOut) => return Err(crate::control::body_timed_out()),
    };
    let payload = Bytes::copy_from_slice(prepare_invoke_payload(&raw, parsed.invocation_type)?);
    // The caller's trace; a missing or malformed header starts a new one (in the platform).
    let trace = TraceHeader::parse_lenient(header(&headers, "x-amzn-trace-id"));
    match parsed.invocation_type {
        InvocationType::DryRun => {
            // Validates the function and the caller's request without running anything.
            p.resolve(&name, q.qualifier.as_deref()).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        InvocationType::Event => {
            // 202 only once the event is durably stored.
            let request_id = p
                .invoke_async(&name, q.qualifier.as_deref(), payload, trace)
                .await?;
            let mut resp = StatusCode::ACCEPTED.into_response();
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-amzn-requestid", v);
            }
            Ok(resp)
        }
        InvocationType::RequestResponse => {
            let result = p
                .invoke(InvokeRequest {
                    function: name,
                    qualifier: q.qualifier,
                    payload,
                    log_tail: parsed.log_type == LogType::Tail,
                    client_context: parsed.client_context,
                    request_id: None,
                    trigger: nimbus_platform::metering::Trigger::Sync,
                    trace,
                    queued_since_ms: None,
                })
                .await?;
            let mut resp = (StatusCode::OK, result.payload).into_response();
            let h = resp.headers_mut();
            let content_type = result
                .content_type
                .as_deref()
                .and_then(|c| HeaderValue::from_str(c).ok())
                .unwrap_or(HeaderValue::from_static("application/json"));
            h.insert("content-type", content_type);
            if let Ok(v) = HeaderValue::from_str(&result.request_id) {
                h.insert("x-amzn-requestid", v);
            }
            if let Ok(v) = HeaderValue::from_str(&result.executed_version) {
                h.insert("x-amz-executed-version", v);
            }
            if result.function_error {
                h.insert(
                    "x-amz-function-error",
                    HeaderValue::from_static("Unhandled"),
                );
            }
            if let Some(log) = result.log_result
                && let Ok(v) = HeaderValue::from_str(&log)
            {
                h.insert("x-amz-log-result", v);
            }
            Ok(resp)
        }
    }
}
