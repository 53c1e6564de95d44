//! Runtime API (`/2018-06-01`, inside the execution environment): headers,
//! error bodies, the error-type sanitiser, and invoke error payloads.

use serde::{Deserialize, Serialize};

pub use crate::limits::RUNTIME_RESPONSE_BYTES_MAX;

/// `/next` response: invocation id (required by every runtime client).
pub const HEADER_REQUEST_ID: &str = "Lambda-Runtime-Aws-Request-Id";
/// `/next` response: deadline, epoch milliseconds (required by the Rust client).
pub const HEADER_DEADLINE_MS: &str = "Lambda-Runtime-Deadline-Ms";
/// `/next` response: the ARN as invoked (qualified if the caller qualified it).
pub const HEADER_INVOKED_FUNCTION_ARN: &str = "Lambda-Runtime-Invoked-Function-Arn";
/// `/next` response: X-Ray trace header.
pub const HEADER_TRACE_ID: &str = "Lambda-Runtime-Trace-Id";
/// `/next` response: client context JSON text (decoded from `X-Amz-Client-Context`).
pub const HEADER_CLIENT_CONTEXT: &str = "Lambda-Runtime-Client-Context";
/// `/next` response: Cognito identity JSON.
pub const HEADER_COGNITO_IDENTITY: &str = "Lambda-Runtime-Cognito-Identity";
/// `/next` response: tenant id (tenant isolation).
pub const HEADER_TENANT_ID: &str = "Lambda-Runtime-Aws-Tenant-Id";
/// Runtime request: error category on `/error` and `/init/error`.
pub const HEADER_FUNCTION_ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
/// Runtime request: `streaming` for streamed responses.
pub const HEADER_FUNCTION_RESPONSE_MODE: &str = "Lambda-Runtime-Function-Response-Mode";
/// Runtime request: trailer carrying the base64 error body of a failed stream.
pub const HEADER_FUNCTION_ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body";
/// Runtime request: X-Ray error cause JSON.
pub const HEADER_XRAY_ERROR_CAUSE: &str = "Lambda-Runtime-Function-XRay-Error-Cause";
/// The only valid value of the response-mode header.
pub const RESPONSE_MODE_STREAMING: &str = "streaming";

/// API version prefix of every Runtime API path.
pub const API_PREFIX: &str = "/2018-06-01";

/// Body of every 202 answer (`Content-Type: application/json`).
pub const ACCEPTED_BODY: &str = r#"{"status":"OK"}"#;

/// Unknown or invalid runtime error type, after sanitising.
pub const RUNTIME_UNKNOWN: &str = "Runtime.Unknown";
/// Invalid `Function.*` error type, after sanitising.
pub const FUNCTION_UNKNOWN: &str = "Function.Unknown";

/// Sanitise `Lambda-Runtime-Function-Error-Type` exactly as the AWS RIE does
/// (`fatalerror.GetValidRuntimeOrFunctionErrorType`):
///
/// - if the value *contains* a match of `(Runtime|Function)\.[A-Z][a-zA-Z]+`
///   (Go's unanchored `regexp.MatchString`), it is kept whole;
/// - else if it starts with `Function.`, it becomes `Function.Unknown`;
/// - else (including a missing header and Rust's `unhandled`) `Runtime.Unknown`.
pub fn sanitize_error_type(value: Option<&str>) -> String {
    let Some(v) = value else {
        return RUNTIME_UNKNOWN.to_string();
    };
    if contains_category_match(v) {
        return v.to_string();
    }
    if v.starts_with("Function.") {
        FUNCTION_UNKNOWN.to_string()
    } else {
        RUNTIME_UNKNOWN.to_string()
    }
}

/// Unanchored search for `(Runtime|Function)\.[A-Z][a-zA-Z]+`.
fn contains_category_match(v: &str) -> bool {
    let bytes = v.as_bytes();
    for prefix in ["Runtime.", "Function."] {
        let mut from = 0;
        while let Some(found) = v.get(from..).and_then(|s| s.find(prefix)) {
            let after = from + found + prefix.len();
            let first = bytes.get(after).copied();
            let second = bytes.get(after + 1).copied();
            if matches!(first, Some(b'A'..=b'Z'))
                && matches!(second, Some(c) if c.is_ascii_alphabetic())
            {
                return true;
            }
            from += found + 1;
        }
    }
    false
}

/// Error body of the Runtime API (`{"errorMessage","errorType"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeApiError {
    /// Message.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Type, e.g. `InvalidStateTransition`.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// HTTP status (not serialized).
    #[serde(skip)]
    pub status: u16,
}

impl RuntimeApiError {
    /// 400: the `{id}` is not the current invocation, or it was already answered.
    pub fn invalid_request_id() -> RuntimeApiError {
        RuntimeApiError {
            error_message: "Invalid request ID".to_string(),
            error_type: "InvalidRequestID".to_string(),
            status: 400,
        }
    }

    /// 403: a call out of order (e.g. a second `/response`, `/init/error` after init).
    /// `from`/`to` name the runtime states (text modelled on the RIE's).
    pub fn invalid_state_transition(from: &str, to: &str) -> RuntimeApiError {
        RuntimeApiError {
            error_message: format!("State transition from {from} to {to} failed for runtime."),
            error_type: "InvalidStateTransition".to_string(),
            status: 403,
        }
    }

    /// 413: response over [`RUNTIME_RESPONSE_BYTES_MAX`].
    pub fn request_entity_too_large() -> RuntimeApiError {
        RuntimeApiError {
            error_message: format!(
                "Exceeded maximum allowed payload size ({RUNTIME_RESPONSE_BYTES_MAX} bytes)."
            ),
            error_type: "RequestEntityTooLarge".to_string(),
            status: 413,
        }
    }

    /// 400: `Lambda-Runtime-Function-Response-Mode` is not `streaming`.
    pub fn invalid_function_response_mode() -> RuntimeApiError {
        RuntimeApiError {
            error_message: "Invalid function response mode".to_string(),
            error_type: "InvalidFunctionResponseMode".to_string(),
            status: 400,
        }
    }

    /// 400: a streamed body was cut.
    pub fn truncated_http_request() -> RuntimeApiError {
        RuntimeApiError {
            error_message: "Truncated HTTP request".to_string(),
            error_type: "TruncatedHTTPRequest".to_string(),
            status: 400,
        }
    }

    /// 500: platform failure ("Runtime should exit promptly").
    pub fn internal_server_error() -> RuntimeApiError {
        RuntimeApiError {
            error_message: "Internal Server Error".to_string(),
            error_type: "InternalServerError".to_string(),
            status: 500,
        }
    }

    /// JSON body.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Body a runtime posts to `/error` or `/init/error`. Every member is
/// optional and loosely typed: Lambda "accepts any value for errorType".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeErrorRequest {
    /// Message.
    #[serde(
        rename = "errorMessage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_message: Option<serde_json::Value>,
    /// Type.
    #[serde(rename = "errorType", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<serde_json::Value>,
    /// Stack trace (Python: list of strings).
    #[serde(
        rename = "stackTrace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stack_trace: Option<serde_json::Value>,
    /// Request id (Python RIC adds it).
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<serde_json::Value>,
}

/// The function-error payload returned to the invoker (with `X-Amz-Function-Error: Unhandled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeErrorPayload {
    /// Message.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Type, e.g. `Sandbox.Timedout`.
    #[serde(rename = "errorType")]
    pub error_type: String,
}

impl InvokeErrorPayload {
    /// Timeout: `RequestId: <id> Error: Task timed out after 3.00 seconds`.
    pub fn timed_out(request_id: &str, timeout_s: u64) -> InvokeErrorPayload {
        InvokeErrorPayload {
            error_message: format!(
                "RequestId: {request_id} Error: Task timed out after {timeout_s}.00 seconds"
            ),
            error_type: "Sandbox.Timedout".to_string(),
        }
    }

    /// Runtime process exit: `detail` like `exit status 1` or `signal: killed`.
    pub fn runtime_exit(request_id: &str, detail: &str) -> InvokeErrorPayload {
        InvokeErrorPayload {
            error_message: format!(
                "RequestId: {request_id} Error: Runtime exited with error: {detail}"
            ),
            error_type: "Runtime.ExitError".to_string(),
        }
    }

    /// Response over the Runtime API limit.
    pub fn response_too_large(size_bytes: usize) -> InvokeErrorPayload {
        InvokeErrorPayload {
            error_message: format!(
                "Response payload size ({size_bytes} bytes) exceeded maximum allowed payload size ({RUNTIME_RESPONSE_BYTES_MAX} bytes)."
            ),
            error_type: "Function.ResponseSizeTooLarge".to_string(),
        }
    }

    /// JSON body.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitiser_follows_rie() {
        let cases = [
            (None, "Runtime.Unknown"),
            (Some(""), "Runtime.Unknown"),
            (Some("unhandled"), "Runtime.Unknown"),
            (
                Some("Runtime.ImportModuleError"),
                "Runtime.ImportModuleError",
            ),
            (Some("Function.MyError"), "Function.MyError"),
            (Some("Function.x"), "Function.Unknown"),
            (Some("Function."), "Function.Unknown"),
            (Some("Runtime.A"), "Runtime.Unknown"),
            (Some("Runtime.Ab"), "Runtime.Ab"),
            (Some("Runtime.ab"), "Runtime.Unknown"),
            (Some("runtime.Abc"), "Runtime.Unknown"),
            // Unanchored, as Go's MatchString: the whole value is kept.
            (Some("MyRuntime.Errorx!"), "MyRuntime.Errorx!"),
            (Some("x Function.Bad y"), "x Function.Bad y"),
            (Some("Runtime.x Runtime.Ok"), "Runtime.x Runtime.Ok"),
            (Some("InvalidEventDataException"), "Runtime.Unknown"),
            (Some("Runtime.é"), "Runtime.Unknown"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_error_type(input), want, "{input:?}");
        }
    }

    #[test]
    fn error_bodies() {
        assert_eq!(RUNTIME_RESPONSE_BYTES_MAX, 6_291_556);
        let e = RuntimeApiError::request_entity_too_large();
        assert_eq!(e.status, 413);
        assert_eq!(
            e.to_json_string(),
            r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#
        );
        assert_eq!(RuntimeApiError::invalid_request_id().status, 400);
        assert_eq!(
            RuntimeApiError::invalid_state_transition("Running", "Ready").status,
            403
        );
        assert_eq!(RuntimeApiError::internal_server_error().status, 500);
    }

    #[test]
    fn lenient_error_request() {
        let r: RuntimeErrorRequest = serde_json::from_str(
            r#"{"errorMessage":"m","errorType":"T","stackTrace":["a"],"requestId":"","extra":1}"#,
        )
        .unwrap();
        assert_eq!(r.error_type, Some(serde_json::json!("T")));
        let r: RuntimeErrorRequest = serde_json::from_str(r#"{"errorType":42}"#).unwrap();
        assert_eq!(r.error_type, Some(serde_json::json!(42)));
        let r: RuntimeErrorRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(r, RuntimeErrorRequest::default());
    }

    #[test]
    fn invoke_error_payloads() {
        assert_eq!(
            InvokeErrorPayload::timed_out("abc", 3).to_json_string(),
            r#"{"errorMessage":"RequestId: abc Error: Task timed out after 3.00 seconds","errorType":"Sandbox.Timedout"}"#
        );
        assert_eq!(
            InvokeErrorPayload::response_too_large(7_000_000).error_message,
            "Response payload size (7000000 bytes) exceeded maximum allowed payload size (6291556 bytes)."
        );
        assert_eq!(
            InvokeErrorPayload::runtime_exit("r", "exit status 1").error_message,
            "RequestId: r Error: Runtime exited with error: exit status 1"
        );
    }
}
