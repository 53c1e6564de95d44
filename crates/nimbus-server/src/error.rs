//! `ApiError`: the one place engine and validation failures become AWS wire errors —
//! status, `X-Amzn-ErrorType`, `x-amzn-RequestId`, `Retry-After`, and the JSON body with the
//! right `message`/`Message` casing (botocore reads the header first, then the body).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::logs::LogsErrorBody;
use nimbus_api::validate::ValidationFailure;
use nimbus_platform::functions::ControlError;
use nimbus_platform::invoke::InvokeError;

/// Seconds a throttled client is told to wait.
const THROTTLE_RETRY_AFTER_S: u32 = 1;

/// An error answer of the Lambda API.
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

/// An error answer of the CloudWatch Logs API (JSON 1.1: `__type` in the body).
#[derive(Debug)]
pub struct LogsApiError(pub LogsErrorBody);

impl From<ValidationFailure> for ApiError {
    fn from(f: ValidationFailure) -> Self {
        ApiError(f.into_error_body())
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        ApiError(e.body())
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        ApiError(match e {
            InvokeError::NotFound(m) => ErrorBody::new(ErrorCode::ResourceNotFound, m),
            InvokeError::Throttled(reason) => ErrorBody::throttled(reason, THROTTLE_RETRY_AFTER_S),
            InvokeError::InvalidParameter(m) => ErrorBody::new(ErrorCode::InvalidParameterValue, m),
            InvokeError::Service(m) => ErrorBody::service(m),
        })
    }
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorBody::new(code, message))
    }
}

fn request_id() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or(HeaderValue::from_static("0"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.0;
        let status =
            StatusCode::from_u16(body.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, body.to_json_bytes()).into_response();
        let headers = resp.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(body.header_value()),
        );
        headers.insert("x-amzn-requestid", request_id());
        if let Some(retry) = body.retry_after_header()
            && let Ok(v) = HeaderValue::from_str(&retry)
        {
            headers.insert("retry-after", v);
        }
        resp
    }
}

impl IntoResponse for LogsApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (status, self.0.to_json_string()).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert("x-amzn-requestid", request_id());
        resp
    }
}
