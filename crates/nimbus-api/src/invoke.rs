//! Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`):
//! headers, invocation and log types, client context, payload checks.

use base64::Engine as _;

use crate::error::ErrorCode;
use crate::json::{self, minify_json, payload_is_empty, validate_json_payload};
use crate::limits;
use crate::validate::{ValidationFailure, Violation, enum_set, validation_exception};

/// Request header: `RequestResponse` (default), `Event` or `DryRun`.
pub const HEADER_INVOCATION_TYPE: &str = "X-Amz-Invocation-Type";
/// Request header: `None` (default) or `Tail`.
pub const HEADER_LOG_TYPE: &str = "X-Amz-Log-Type";
/// Request header: base64 JSON client context (sync only reaches the function).
pub const HEADER_CLIENT_CONTEXT: &str = "X-Amz-Client-Context";
/// Response header: `Unhandled` when the function failed.
pub const HEADER_FUNCTION_ERROR: &str = "X-Amz-Function-Error";
/// Response header: base64 of the last 4 KB of the log (`LogType: Tail`).
pub const HEADER_LOG_RESULT: &str = "X-Amz-Log-Result";
/// Response header: the version that ran (`$LATEST` or a number).
pub const HEADER_EXECUTED_VERSION: &str = "X-Amz-Executed-Version";
/// Response header on every answer, errors included.
pub const HEADER_REQUEST_ID: &str = "x-amzn-RequestId";
/// Response header naming the exception on errors.
pub const HEADER_ERROR_TYPE: &str = "X-Amzn-ErrorType";
/// Response header on throttles, seconds.
pub const HEADER_RETRY_AFTER: &str = "Retry-After";
/// Value of `X-Amz-Function-Error` for function errors (modern runtimes always use it).
pub const FUNCTION_ERROR_UNHANDLED: &str = "Unhandled";

/// Lambda's text for a bad `X-Amz-Client-Context` (InvalidRequestContentException).
pub const MSG_BAD_CLIENT_CONTEXT: &str =
    "Client context must be a valid Base64-encoded JSON object.";

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InvocationType {
    /// Synchronous (default): 200 with the result.
    #[default]
    RequestResponse,
    /// Asynchronous: 202, queued.
    Event,
    /// Check access and parameters only: 204.
    DryRun,
}

impl InvocationType {
    /// Values in model order (as Coral lists them).
    pub const ALL: [InvocationType; 3] = [
        InvocationType::Event,
        InvocationType::RequestResponse,
        InvocationType::DryRun,
    ];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }

    /// Parse the header; absent or empty means `RequestResponse`, anything
    /// else unknown is a `ValidationException` at `invocationType`.
    pub fn parse_header(value: Option<&str>) -> Result<InvocationType, ValidationFailure> {
        match value {
            None | Some("") => Ok(InvocationType::RequestResponse),
            Some(v) => InvocationType::ALL
                .into_iter()
                .find(|t| t.as_str() == v)
                .ok_or_else(|| {
                    enum_failure(v, "invocationType", "[Event, RequestResponse, DryRun]")
                }),
        }
    }

    /// HTTP status of a successful call.
    pub fn success_status(self) -> u16 {
        match self {
            InvocationType::RequestResponse => 200,
            InvocationType::Event => 202,
            InvocationType::DryRun => 204,
        }
    }

    /// Largest payload accepted for this type, bytes.
    pub fn payload_limit_bytes(self) -> usize {
        match self {
            InvocationType::Event => limits::ASYNC_PAYLOAD_BYTES_MAX,
            InvocationType::RequestResponse | InvocationType::DryRun => {
                limits::SYNC_PAYLOAD_BYTES_MAX
            }
        }
    }
}

/// `X-Amz-Log-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogType {
    /// No log in the response (default).
    #[default]
    None,
    /// `X-Amz-Log-Result` with the log tail (sync only; ignored for `Event`).
    Tail,
}

impl LogType {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::None => "None",
            LogType::Tail => "Tail",
        }
    }

    /// Parse the header; absent or empty means `None`, unknown is a
    /// `ValidationException` at `logType`.
    pub fn parse_header(value: Option<&str>) -> Result<LogType, ValidationFailure> {
        match value {
            None | Some("") | Some("None") => Ok(LogType::None),
            Some("Tail") => Ok(LogType::Tail),
            Some(v) => Err(enum_failure(v, "logType", "[None, Tail]")),
        }
    }
}

/// One-violation enum failure.
fn enum_failure(value: &str, member: &str, set: &str) -> ValidationFailure {
    validation_exception(&[Violation::new(value, member, enum_set(set))])
        .unwrap_or_else(|| ValidationFailure::new(ErrorCode::Validation, member.to_string()))
}

/// Decode and check `X-Amz-Client-Context`.
///
/// Rules: at most 3,583 bytes of base64 (standard alphabet, padding
/// optional); must decode to strict JSON whose top level is an object.
/// Returns the JSON text with insignificant whitespace removed, ready for
/// the Runtime API header `Lambda-Runtime-Client-Context`.
///
/// Every failure answers Lambda's "Client context must be a valid
/// Base64-encoded JSON object." (InvalidRequestContentException); using the
/// same answer for the size limit is Nimbus's choice (unconfirmed).
pub fn decode_client_context(header: &str) -> Result<String, ValidationFailure> {
    let fail = || ValidationFailure::new(ErrorCode::InvalidRequestContent, MSG_BAD_CLIENT_CONTEXT);
    if header.len() > limits::CLIENT_CONTEXT_BYTES_MAX {
        return Err(fail());
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(header).map_err(|_| fail())?;
    validate_json_payload(&bytes).map_err(|_| fail())?;
    let text = String::from_utf8(bytes).map_err(|_| fail())?;
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        return Err(fail());
    }
    Ok(minify_json(&text))
}

/// Parsed Invoke request headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvokeHeaders {
    /// `X-Amz-Invocation-Type`.
    pub invocation_type: InvocationType,
    /// `X-Amz-Log-Type`.
    pub log_type: LogType,
    /// Decoded, minified client-context JSON.
    pub client_context: Option<String>,
}

impl InvokeHeaders {
    /// Parse the three headers. Enum violations are reported together first
    /// (one ValidationException), then the client context is checked.
    pub fn parse(
        invocation_type: Option<&str>,
        log_type: Option<&str>,
        client_context: Option<&str>,
    ) -> Result<InvokeHeaders, ValidationFailure> {
        let it = InvocationType::parse_header(invocation_type);
        let lt = LogType::parse_header(log_type);
        let (it, lt) = match (it, lt) {
            (Ok(it), Ok(lt)) => (it, lt),
            (Err(_), Err(_)) => {
                let violations = [
                    Violation::new(
                        invocation_type.unwrap_or_default(),
                        "invocationType",
                        enum_set("[Event, RequestResponse, DryRun]"),
                    ),
                    Violation::new(
                        log_type.unwrap_or_default(),
                        "logType",
                        enum_set("[None, Tail]"),
                    ),
                ];
                return Err(validation_exception(&violations).unwrap_or_else(|| {
                    ValidationFailure::new(ErrorCode::Validation, "invocationType")
                }));
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let client_context = match client_context {
            None | Some("") => None,
            Some(c) => Some(decode_client_context(c)?),
        };
        Ok(InvokeHeaders {
            invocation_type: it,
            log_type: lt,
            client_context,
        })
    }
}

/// Check an Invoke body and return what to deliver to the function.
///
/// Order: size (413 `RequestTooLargeException` over the type's limit), then
/// JSON (400 `InvalidRequestContentException`). An empty or whitespace-only
/// body becomes `{}` (Nimbus's rule, the same for sync and async).
pub fn prepare_invoke_payload(
    body: &[u8],
    invocation_type: InvocationType,
) -> Result<&[u8], ValidationFailure> {
    let limit = invocation_type.payload_limit_bytes();
    if body.len() > limit {
        let b = crate::error::ErrorBody::invoke_payload_too_large(limit);
        return Err(ValidationFailure::new(b.code, b.message));
    }
    if payload_is_empty(body) {
        return Ok(EMPTY_PAYLOAD);
    }
    validate_json_payload(body).map_err(|e| e.to_failure())?;
    Ok(body)
}

/// What an empty body is delivered as.
pub const EMPTY_PAYLOAD: &[u8] = b"{}";

/// `X-Amz-Log-Result`: base64 of the last [`limits::LOG_TAIL_BYTES`] bytes of the log.
pub fn log_result_header(log: &[u8]) -> String {
    let start = log.len().saturating_sub(limits::LOG_TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&log[start..])
}

/// Re-export for callers that only import `invoke`.
pub use json::PayloadError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_types() {
        assert_eq!(
            InvocationType::parse_header(None).unwrap(),
            InvocationType::RequestResponse
        );
        assert_eq!(
            InvocationType::parse_header(Some("Event")).unwrap(),
            InvocationType::Event
        );
        assert_eq!(
            InvocationType::parse_header(Some("DryRun")).unwrap(),
            InvocationType::DryRun
        );
        let f = InvocationType::parse_header(Some("event")).unwrap_err();
        assert_eq!(f.code, ErrorCode::Validation);
        assert_eq!(
            f.message,
            "1 validation error detected: Value 'event' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        );
        assert_eq!(InvocationType::Event.success_status(), 202);
        assert_eq!(InvocationType::DryRun.success_status(), 204);
        assert_eq!(InvocationType::Event.payload_limit_bytes(), 1_048_576);
        assert_eq!(
            InvocationType::RequestResponse.payload_limit_bytes(),
            6_291_456
        );
    }

    #[test]
    fn log_types() {
        assert_eq!(LogType::parse_header(Some("Tail")).unwrap(), LogType::Tail);
        assert_eq!(LogType::parse_header(None).unwrap(), LogType::None);
        assert!(LogType::parse_header(Some("tail")).is_err());
        let f = InvokeHeaders::parse(Some("x"), Some("y"), None).unwrap_err();
        assert!(f.message.starts_with("2 validation errors detected: "));
    }

    #[test]
    fn client_context() {
        // boto3 sends base64 of the JSON text.
        let cc = "eyJjdXN0b20iOnsiYSI6MX19"; // {"custom":{"a":1}}
        assert_eq!(decode_client_context(cc).unwrap(), r#"{"custom":{"a":1}}"#);
        let spaced = base64::engine::general_purpose::STANDARD
            .encode("{\n  \"client\": {\"appTitle\": \"a b\"}\n}");
        assert_eq!(
            decode_client_context(&spaced).unwrap(),
            r#"{"client":{"appTitle":"a b"}}"#
        );
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode("{}");
        assert_eq!(decode_client_context(&unpadded).unwrap(), "{}");
        for bad in [
            "not base64!",
            // "[1]" is JSON but not an object.
            &base64::engine::general_purpose::STANDARD.encode("[1]"),
            &base64::engine::general_purpose::STANDARD.encode("{bad}"),
            &base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]),
            &"A".repeat(3584),
        ] {
            let f = decode_client_context(bad).unwrap_err();
            assert_eq!(f.code, ErrorCode::InvalidRequestContent);
            assert_eq!(f.message, MSG_BAD_CLIENT_CONTEXT);
        }
        let h = InvokeHeaders::parse(Some("RequestResponse"), Some("Tail"), Some(cc)).unwrap();
        assert_eq!(h.client_context.as_deref(), Some(r#"{"custom":{"a":1}}"#));
    }

    #[test]
    fn payloads() {
        assert_eq!(
            prepare_invoke_payload(b"", InvocationType::RequestResponse).unwrap(),
            b"{}"
        );
        assert_eq!(
            prepare_invoke_payload(b" \n", InvocationType::Event).unwrap(),
            b"{}"
        );
        assert_eq!(
            prepare_invoke_payload(b"{\"k\":1}", InvocationType::Event).unwrap(),
            b"{\"k\":1}"
        );
        let f = prepare_invoke_payload(b"{", InvocationType::RequestResponse).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidRequestContent);
        let exact = vec![b' '; 6_291_456];
        assert!(prepare_invoke_payload(&exact, InvocationType::RequestResponse).is_ok());
        let over = vec![b' '; 6_291_457];
        let f = prepare_invoke_payload(&over, InvocationType::RequestResponse).unwrap_err();
        assert_eq!(f.code, ErrorCode::RequestTooLarge);
        assert_eq!(
            f.message,
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        );
        let over_async = vec![b' '; 1_048_577];
        assert_eq!(
            prepare_invoke_payload(&over_async, InvocationType::Event)
                .unwrap_err()
                .code,
            ErrorCode::RequestTooLarge
        );
    }

    #[test]
    fn log_tail() {
        let log = vec![b'x'; 5000];
        let h = log_result_header(&log);
        let decoded = base64::engine::general_purpose::STANDARD.decode(h).unwrap();
        assert_eq!(decoded.len(), 4096);
        assert_eq!(
            log_result_header(b"START\n"),
            base64::engine::general_purpose::STANDARD.encode("START\n")
        );
    }
}
