//! Lambda (rest-json) error codes and the JSON error body Lambda sends.
//!
//! Wire rules (botocore `RestJSONParser`): the code is read from the
//! `X-Amzn-ErrorType` header first, the message from `message` or `Message`,
//! the request id from `x-amzn-RequestId`. Each modelled exception names its
//! message member with a fixed casing in `service-2.json`; we use exactly that.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::limits;

/// `Type` member of a Lambda error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// Client fault (4xx).
    User,
    /// Server fault (5xx).
    Service,
}

impl ErrorType {
    /// The wire string: `User` or `Service`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::User => "User",
            ErrorType::Service => "Service",
        }
    }
}

/// Lambda exceptions Nimbus emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 404, `Message`: function, version, alias or resource absent.
    ResourceNotFound,
    /// 409, `message`: already exists, or an update is in progress.
    ResourceConflict,
    /// 400, `message`: a parameter is semantically wrong.
    InvalidParameterValue,
    /// 400, `message` (not modelled; Coral framework): a model constraint failed.
    Validation,
    /// 400, `message`: Invoke body or header content is malformed.
    InvalidRequestContent,
    /// 413, `message`: Invoke payload over its limit.
    RequestTooLarge,
    /// 413, `message` (not modelled; Coral framework): CreateFunction/UpdateFunctionCode body too big.
    RequestEntityTooLarge,
    /// 415, `message`: unsupported Content-Type.
    UnsupportedMediaType,
    /// 408, `message` (not modelled; Nimbus's own, as a Coral framework error would be): the
    /// request body did not arrive in time.
    RequestTimeout,
    /// 429, `message` + `Reason` + header `Retry-After`: throttled.
    TooManyRequests,
    /// 412, `message`: `RevisionId` mismatch.
    PreconditionFailed,
    /// 500, `Message`: internal failure.
    Service,
    /// 400, `message`: code storage quota exceeded.
    CodeStorageExceeded,
    /// 502, `Message`: the runtime failed to start or is unusable.
    InvalidRuntime,
    /// 502, `Message`: the deployment package could not be unpacked.
    InvalidZipFile,
    /// 403, `message` (not modelled; Coral framework): unknown or bad credentials.
    UnrecognizedClient,
    /// 502, `message`: the function is not ready (e.g. still Pending).
    ResourceNotReady,
    /// 404, `message`: no provisioned-concurrency config for the qualifier.
    ProvisionedConcurrencyConfigNotFound,
}

/// Casing of the message member, as `service-2.json` models it per exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKey {
    /// `"message"`.
    Lower,
    /// `"Message"`.
    Upper,
}

impl MessageKey {
    /// The JSON member name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKey::Lower => "message",
            MessageKey::Upper => "Message",
        }
    }
}

impl ErrorCode {
    /// Every code, for exhaustive tests and tables.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::ResourceNotFound,
        ErrorCode::ResourceConflict,
        ErrorCode::InvalidParameterValue,
        ErrorCode::Validation,
        ErrorCode::InvalidRequestContent,
        ErrorCode::RequestTooLarge,
        ErrorCode::RequestEntityTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RequestTimeout,
        ErrorCode::TooManyRequests,
        ErrorCode::PreconditionFailed,
        ErrorCode::Service,
        ErrorCode::CodeStorageExceeded,
        ErrorCode::InvalidRuntime,
        ErrorCode::InvalidZipFile,
        ErrorCode::UnrecognizedClient,
        ErrorCode::ResourceNotReady,
        ErrorCode::ProvisionedConcurrencyConfigNotFound,
    ];

    /// The exception name, e.g. `ResourceNotFoundException`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ResourceConflict => "ResourceConflictException",
            ErrorCode::InvalidParameterValue => "InvalidParameterValueException",
            ErrorCode::Validation => "ValidationException",
            ErrorCode::InvalidRequestContent => "InvalidRequestContentException",
            ErrorCode::RequestTooLarge => "RequestTooLargeException",
            ErrorCode::RequestEntityTooLarge => "RequestEntityTooLargeException",
            ErrorCode::UnsupportedMediaType => "UnsupportedMediaTypeException",
            ErrorCode::RequestTimeout => "RequestTimeoutException",
            ErrorCode::TooManyRequests => "TooManyRequestsException",
            ErrorCode::PreconditionFailed => "PreconditionFailedException",
            ErrorCode::Service => "ServiceException",
            ErrorCode::CodeStorageExceeded => "CodeStorageExceededException",
            ErrorCode::InvalidRuntime => "InvalidRuntimeException",
            ErrorCode::InvalidZipFile => "InvalidZipFileException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::ResourceNotReady => "ResourceNotReadyException",
            ErrorCode::ProvisionedConcurrencyConfigNotFound => {
                "ProvisionedConcurrencyConfigNotFoundException"
            }
        }
    }

    /// Value for the `X-Amzn-ErrorType` response header (the bare exception name).
    pub fn header_value(&self) -> &'static str {
        self.name()
    }

    /// HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::ResourceNotFound => 404,
            ErrorCode::ResourceConflict => 409,
            ErrorCode::InvalidParameterValue => 400,
            ErrorCode::Validation => 400,
            ErrorCode::InvalidRequestContent => 400,
            ErrorCode::RequestTooLarge => 413,
            ErrorCode::RequestEntityTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::Service => 500,
            ErrorCode::CodeStorageExceeded => 400,
            ErrorCode::InvalidRuntime => 502,
            ErrorCode::InvalidZipFile => 502,
            ErrorCode::UnrecognizedClient => 403,
            ErrorCode::ResourceNotReady => 502,
            ErrorCode::ProvisionedConcurrencyConfigNotFound => 404,
        }
    }

    /// Casing of the message member. From `service-2.json`; the three codes the
    /// model does not define (Validation, RequestEntityTooLarge,
    /// UnrecognizedClient) are Coral framework errors, which use `message`.
    pub fn message_key(self) -> MessageKey {
        match self {
            ErrorCode::ResourceNotFound
            | ErrorCode::Service
            | ErrorCode::InvalidRuntime
            | ErrorCode::InvalidZipFile => MessageKey::Upper,
            ErrorCode::ResourceConflict
            | ErrorCode::InvalidParameterValue
            | ErrorCode::Validation
            | ErrorCode::InvalidRequestContent
            | ErrorCode::RequestTooLarge
            | ErrorCode::RequestEntityTooLarge
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::RequestTimeout
            | ErrorCode::TooManyRequests
            | ErrorCode::PreconditionFailed
            | ErrorCode::CodeStorageExceeded
            | ErrorCode::UnrecognizedClient
            | ErrorCode::ResourceNotReady
            | ErrorCode::ProvisionedConcurrencyConfigNotFound => MessageKey::Lower,
        }
    }

    /// `User` for 4xx, `Service` for 5xx.
    pub fn error_type(self) -> ErrorType {
        if self.status() >= 500 {
            ErrorType::Service
        } else {
            ErrorType::User
        }
    }

    /// Parse an exception name back into a code.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// `Reason` member of `TooManyRequestsException` (model enum `ThrottleReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleReason {
    /// Account (unreserved pool) concurrency exhausted.
    ConcurrentInvocationLimitExceeded,
    /// Per-function invocation rate exceeded.
    FunctionInvocationRateLimitExceeded,
    /// The function's reserved concurrency exhausted.
    ReservedFunctionConcurrentInvocationLimitExceeded,
    /// The function's reserved-concurrency invocation rate exceeded.
    ReservedFunctionInvocationRateLimitExceeded,
    /// Caller rate exceeded.
    CallerRateLimitExceeded,
    /// Too many concurrent SnapStart snapshot creations.
    ConcurrentSnapshotCreateLimitExceeded,
}

impl ThrottleReason {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleReason::ConcurrentInvocationLimitExceeded => {
                "ConcurrentInvocationLimitExceeded"
            }
            ThrottleReason::FunctionInvocationRateLimitExceeded => {
                "FunctionInvocationRateLimitExceeded"
            }
            ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded => {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            }
            ThrottleReason::ReservedFunctionInvocationRateLimitExceeded => {
                "ReservedFunctionInvocationRateLimitExceeded"
            }
            ThrottleReason::CallerRateLimitExceeded => "CallerRateLimitExceeded",
            ThrottleReason::ConcurrentSnapshotCreateLimitExceeded => {
                "ConcurrentSnapshotCreateLimitExceeded"
            }
        }
    }
}

/// A Lambda error response: status, `X-Amzn-ErrorType`, optional
/// `Retry-After`, and the JSON body (`{"Type":"User","message":"..."}`).
///
/// Serializing an `ErrorBody` yields exactly the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The exception.
    pub code: ErrorCode,
    /// Human-readable text, sent under `message` or `Message`.
    pub message: String,
    /// `Reason` member (TooManyRequestsException only).
    pub reason: Option<ThrottleReason>,
    /// Value for the `Retry-After` header, seconds (TooManyRequestsException only).
    pub retry_after_seconds: Option<u32>,
}

/// Message Lambda sends with throttles (erlcloud test fixture of a real 429 body).
pub const MSG_RATE_EXCEEDED: &str = "Rate Exceeded.";

impl ErrorBody {
    /// A body with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code,
            message: message.into(),
            reason: None,
            retry_after_seconds: None,
        }
    }

    /// Set the `Reason` member.
    pub fn with_reason(mut self, reason: ThrottleReason) -> ErrorBody {
        self.reason = Some(reason);
        self
    }

    /// Set the `Retry-After` header value.
    pub fn with_retry_after(mut self, seconds: u32) -> ErrorBody {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// Value for `X-Amzn-ErrorType`.
    pub fn header_value(&self) -> &'static str {
        self.code.header_value()
    }

    /// Value for `Retry-After`, if any.
    pub fn retry_after_header(&self) -> Option<String> {
        self.retry_after_seconds.map(|s| s.to_string())
    }

    /// The JSON body as bytes.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing a map of strings cannot fail; fall back to a fixed body anyway.
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"Type":"Service"}"#.to_vec())
    }

    /// The JSON body as a string.
    pub fn to_json_string(&self) -> String {
        String::from_utf8(self.to_json_bytes()).unwrap_or_default()
    }

    /// 429 `TooManyRequestsException` "Rate Exceeded." with `Reason` and `Retry-After`.
    pub fn throttled(reason: ThrottleReason, retry_after_seconds: u32) -> ErrorBody {
        ErrorBody::new(ErrorCode::TooManyRequests, MSG_RATE_EXCEEDED)
            .with_reason(reason)
            .with_retry_after(retry_after_seconds)
    }

    /// 404 `Function not found: <arn>` (real Lambda text; pass the ARN as invoked).
    pub fn function_not_found(arn: &str) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::ResourceNotFound,
            format!("Function not found: {arn}"),
        )
    }

    /// 409 `Function already exist: <name>` (Lambda's text, grammar included).
    pub fn function_already_exists(name: &str) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::ResourceConflict,
            format!("Function already exist: {name}"),
        )
    }

    /// 409 while an update is running (`An update is in progress for resource: <arn>`).
    pub fn update_in_progress(arn: &str) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::ResourceConflict,
            format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {arn}"
            ),
        )
    }

    /// 412 on a `RevisionId` mismatch.
    ///
    /// Text not confirmed against live Lambda; chosen to match the wording
    /// emulators report.
    pub fn revision_mismatch() -> ErrorBody {
        ErrorBody::new(
            ErrorCode::PreconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
    }

    /// 413 for an Invoke payload over `limit_bytes` (emulator text; not confirmed live).
    pub fn invoke_payload_too_large(limit_bytes: usize) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::RequestTooLarge,
            format!(
                "Request must be smaller than {limit_bytes} bytes for the InvokeFunction operation"
            ),
        )
    }

    /// 413 `RequestEntityTooLargeException` for CreateFunction/UpdateFunctionCode
    /// bodies over 69,905,067 B; `operation` is e.g. `CreateFunction`.
    pub fn request_entity_too_large(operation: &str) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::RequestEntityTooLarge,
            format!(
                "Request must be smaller than {} bytes for the {operation} operation",
                limits::CREATE_FUNCTION_BODY_BYTES_MAX
            ),
        )
    }

    /// 413 for a body over `limit_bytes` (the same text with the operation's own limit).
    pub fn body_too_large(operation: &str, limit_bytes: usize) -> ErrorBody {
        ErrorBody::new(
            ErrorCode::RequestEntityTooLarge,
            format!(
                "Request must be smaller than {limit_bytes} bytes for the {operation} operation"
            ),
        )
    }

    /// 403 for an unknown access key (real AWS text).
    pub fn unrecognized_client() -> ErrorBody {
        ErrorBody::new(
            ErrorCode::UnrecognizedClient,
            "The security token included in the request is invalid.",
        )
    }

    /// 400 when the account's code storage would be exceeded (text chosen by Nimbus).
    pub fn code_storage_exceeded() -> ErrorBody {
        ErrorBody::new(
            ErrorCode::CodeStorageExceeded,
            "Code storage limit exceeded.",
        )
    }

    /// 500 with a generic message; never leak internals in `detail`-less errors.
    pub fn service(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::Service, message)
    }
}

impl Serialize for ErrorBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = if self.reason.is_some() { 3 } else { 2 };
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("Type", self.code.error_type().as_str())?;
        map.serialize_entry(self.code.message_key().as_str(), &self.message)?;
        if let Some(reason) = self.reason {
            map.serialize_entry("Reason", reason.as_str())?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// (name, status, message key) copied from botocore 1.44.8 lambda service-2.json.
    const MODEL: &[(&str, u16, &str)] = &[
        ("ResourceNotFoundException", 404, "Message"),
        ("ResourceConflictException", 409, "message"),
        ("InvalidParameterValueException", 400, "message"),
        ("InvalidRequestContentException", 400, "message"),
        ("RequestTooLargeException", 413, "message"),
        ("UnsupportedMediaTypeException", 415, "message"),
        ("TooManyRequestsException", 429, "message"),
        ("PreconditionFailedException", 412, "message"),
        ("ServiceException", 500, "Message"),
        ("CodeStorageExceededException", 400, "message"),
        ("InvalidRuntimeException", 502, "Message"),
        ("InvalidZipFileException", 502, "Message"),
        ("ResourceNotReadyException", 502, "message"),
        (
            "ProvisionedConcurrencyConfigNotFoundException",
            404,
            "message",
        ),
    ];

    #[test]
    fn modelled_codes_match_botocore() {
        for (name, status, key) in MODEL {
            let code = ErrorCode::from_name(name).expect(name);
            assert_eq!(code.status(), *status, "{name}");
            assert_eq!(code.message_key().as_str(), *key, "{name}");
        }
    }

    #[test]
    fn every_code_round_trips_and_types_follow_status() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.name()), Some(code));
            assert_eq!(code.header_value(), code.name());
            let expect = if code.status() >= 500 {
                ErrorType::Service
            } else {
                ErrorType::User
            };
            assert_eq!(code.error_type(), expect);
        }
    }

    #[test]
    fn body_json_per_code() {
        for code in ErrorCode::ALL {
            let body = ErrorBody::new(code, "boom");
            let v: Value = serde_json::from_slice(&body.to_json_bytes()).unwrap();
            let obj = v.as_object().unwrap();
            assert_eq!(obj.len(), 2, "{code:?}");
            assert_eq!(obj["Type"], code.error_type().as_str());
            // botocore reads `message` first, then `Message`: exactly one is present.
            assert_eq!(obj[code.message_key().as_str()], "boom");
        }
    }

    #[test]
    fn exact_strings() {
        assert_eq!(
            ErrorBody::function_not_found("arn:aws:lambda:us-east-1:123456789012:function:f")
                .to_json_string(),
            r#"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:f"}"#
        );
        assert_eq!(
            ErrorBody::new(ErrorCode::InvalidParameterValue, "bad").to_json_string(),
            r#"{"Type":"User","message":"bad"}"#
        );
        assert_eq!(
            ErrorBody::service("oops").to_json_string(),
            r#"{"Type":"Service","Message":"oops"}"#
        );
    }

    #[test]
    fn throttle_body_has_reason_and_retry_after() {
        let b = ErrorBody::throttled(
            ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded,
            1,
        );
        let v: Value = serde_json::from_slice(&b.to_json_bytes()).unwrap();
        assert_eq!(
            v,
            json!({"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."})
        );
        assert_eq!(b.status(), 429);
        assert_eq!(b.retry_after_header().as_deref(), Some("1"));
        assert_eq!(b.header_value(), "TooManyRequestsException");
    }

    #[test]
    fn entity_too_large_text() {
        let b = ErrorBody::request_entity_too_large("CreateFunction");
        assert_eq!(
            b.message,
            "Request must be smaller than 69905067 bytes for the CreateFunction operation"
        );
        assert_eq!(b.status(), 413);
        let b = ErrorBody::body_too_large("CostCrossover", 65_536);
        assert_eq!(
            b.message,
            "Request must be smaller than 65536 bytes for the CostCrossover operation"
        );
    }
}
