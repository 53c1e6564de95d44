//! Asynchronous invocation: `Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)` shapes,
//! their validation, and the invocation record sent to destinations.

use crate::error::ErrorCode;
use crate::validate::{ValidationFailure, Violation, max_length, max_value, min_value};
use serde::{Deserialize, Serialize};

/// Lambda's default `MaximumRetryAttempts` (function errors are retried twice).
pub const RETRY_ATTEMPTS_DEFAULT: i64 = 2;
/// Highest `MaximumRetryAttempts`.
pub const RETRY_ATTEMPTS_MAX: i64 = 2;
/// Lambda's default and highest `MaximumEventAgeInSeconds` (6 h).
pub const EVENT_AGE_S_MAX: i64 = 21_600;
/// Lowest `MaximumEventAgeInSeconds`.
pub const EVENT_AGE_S_MIN: i64 = 60;
/// Longest destination ARN (model).
pub const DESTINATION_ARN_CHARS_MAX: usize = 350;

/// `OnSuccess` / `OnFailure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    /// Target ARN (an SQS queue or a Lambda function here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// `DestinationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    /// Where successful invocation records go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Destination>,
    /// Where failed invocation records go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Destination>,
}

/// `Put/UpdateFunctionEventInvokeConfig` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutFunctionEventInvokeConfigRequest {
    /// 0–2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    /// 60–21,600.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    /// Destinations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationConfig>,
}

/// `FunctionEventInvokeConfig` (responses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionEventInvokeConfig {
    /// Epoch seconds (a `timestamp` member: botocore reads a JSON number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<f64>,
    /// Qualified function ARN (`…:$LATEST`, `…:1`, `…:alias`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// As configured (absent: the default applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    /// As configured (absent: the default applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    /// Destinations (always present, possibly empty, as Lambda answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationConfig>,
}

/// `ListFunctionEventInvokeConfigs` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionEventInvokeConfigsResponse {
    /// The configurations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_event_invoke_configs: Option<Vec<FunctionEventInvokeConfig>>,
    /// Marker of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// What a destination ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationKind {
    /// An SQS queue: `arn:aws:sqs:<region>:<account>:<name>`.
    Queue,
    /// A Lambda function (optionally qualified).
    Function,
}

/// Checks `MaximumRetryAttempts`, `MaximumEventAgeInSeconds` and the destination ARNs.
/// Destinations Nimbus cannot deliver to (SNS, EventBridge, S3) are refused rather than
/// accepted and silently dropped.
pub fn validate_event_invoke_config(
    req: &PutFunctionEventInvokeConfigRequest,
) -> Result<(), ValidationFailure> {
    let mut out = Vec::new();
    if let Some(n) = req.maximum_retry_attempts {
        if n < 0 {
            out.push(Violation::new(
                n.to_string(),
                "maximumRetryAttempts",
                min_value(0),
            ));
        } else if n > RETRY_ATTEMPTS_MAX {
            out.push(Violation::new(
                n.to_string(),
                "maximumRetryAttempts",
                max_value(RETRY_ATTEMPTS_MAX),
            ));
        }
    }
    if let Some(n) = req.maximum_event_age_in_seconds {
        if n < EVENT_AGE_S_MIN {
            out.push(Violation::new(
                n.to_string(),
                "maximumEventAgeInSeconds",
                min_value(EVENT_AGE_S_MIN),
            ));
        } else if n > EVENT_AGE_S_MAX {
            out.push(Violation::new(
                n.to_string(),
                "maximumEventAgeInSeconds",
                max_value(EVENT_AGE_S_MAX),
            ));
        }
    }
    let destinations = req.destination_config.as_ref();
    for (member, d) in [
        (
            "destinationConfig.onSuccess.destination",
            destinations.and_then(|d| d.on_success.as_ref()),
        ),
        (
            "destinationConfig.onFailure.destination",
            destinations.and_then(|d| d.on_failure.as_ref()),
        ),
    ] {
        if let Some(arn) = d.and_then(|d| d.destination.as_deref())
            && arn.chars().count() > DESTINATION_ARN_CHARS_MAX
        {
            out.push(Violation::new(
                arn,
                member,
                max_length(DESTINATION_ARN_CHARS_MAX),
            ));
        }
    }
    if let Some(f) = crate::validate::validation_exception(&out) {
        return Err(f);
    }
    for d in [
        destinations.and_then(|d| d.on_success.as_ref()),
        destinations.and_then(|d| d.on_failure.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(arn) = d.destination.as_deref().filter(|a| !a.is_empty()) {
            destination_kind(arn)?;
        }
    }
    Ok(())
}

/// What a destination (or dead-letter) ARN names, or why Nimbus cannot deliver to it.
pub fn destination_kind(arn: &str) -> Result<DestinationKind, ValidationFailure> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = parts.len() == 6 && parts[0] == "arn" && !parts[5].is_empty();
    if !well_formed {
        return Err(ValidationFailure::new(
            ErrorCode::InvalidParameterValue,
            format!("The destination ARN {arn} is invalid."),
        ));
    }
    match parts[2] {
        "sqs" => Ok(DestinationKind::Queue),
        "lambda" if parts[5].starts_with("function:") => Ok(DestinationKind::Function),
        "sns" | "events" | "s3" => Err(ValidationFailure::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "Destination {arn}: {} destinations are not supported by Nimbus yet; use an SQS queue or a Lambda function.",
                parts[2].to_uppercase()
            ),
        )),
        _ => Err(ValidationFailure::new(
            ErrorCode::InvalidParameterValue,
            format!("The destination ARN {arn} is invalid."),
        )),
    }
}

/// The record Lambda sends to destinations (and Nimbus keeps with a terminal event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationRecord {
    /// Always `1.0`.
    pub version: String,
    /// When the outcome was decided: `2019-11-14T18:16:05.568Z`.
    pub timestamp: String,
    /// Which event and how it ended.
    pub request_context: RequestContext,
    /// The original event.
    pub request_payload: serde_json::Value,
    /// The last attempt's answer (absent when the function never ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_context: Option<ResponseContext>,
    /// The last attempt's payload (the error document after a function error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_payload: Option<serde_json::Value>,
}

/// `requestContext` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// The event's request id.
    pub request_id: String,
    /// Qualified ARN as invoked (`…:$LATEST` when unqualified).
    pub function_arn: String,
    /// `Success`, `RetriesExhausted` or `EventAgeExceeded`.
    pub condition: String,
    /// Attempts made.
    pub approximate_invoke_count: i64,
}

/// `responseContext` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseContext {
    /// HTTP status of the last attempt.
    pub status_code: i64,
    /// The version that ran.
    pub executed_version: String,
    /// `Unhandled` after a function error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(
        retry: Option<i64>,
        age: Option<i64>,
        success: Option<&str>,
    ) -> PutFunctionEventInvokeConfigRequest {
        PutFunctionEventInvokeConfigRequest {
            maximum_retry_attempts: retry,
            maximum_event_age_in_seconds: age,
            destination_config: success.map(|arn| DestinationConfig {
                on_success: Some(Destination {
                    destination: Some(arn.to_string()),
                }),
                on_failure: None,
            }),
        }
    }

    #[test]
    fn ranges_and_destinations_are_checked() {
        assert!(validate_event_invoke_config(&req(Some(0), Some(60), None)).is_ok());
        assert!(validate_event_invoke_config(&req(Some(2), Some(21_600), None)).is_ok());
        let f = validate_event_invoke_config(&req(Some(3), Some(59), None)).unwrap_err();
        assert_eq!(f.code, ErrorCode::Validation);
        assert!(
            f.message.starts_with("2 validation errors detected"),
            "{}",
            f.message
        );
        assert!(validate_event_invoke_config(&req(Some(-1), None, None)).is_err());
        assert!(validate_event_invoke_config(&req(None, Some(21_601), None)).is_err());
        let q = "arn:aws:sqs:us-east-1:000000000000:results";
        assert!(validate_event_invoke_config(&req(None, None, Some(q))).is_ok());
        let f = "arn:aws:lambda:us-east-1:000000000000:function:next";
        assert!(validate_event_invoke_config(&req(None, None, Some(f))).is_ok());
        let sns = "arn:aws:sns:us-east-1:000000000000:topic";
        let e = validate_event_invoke_config(&req(None, None, Some(sns))).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameterValue);
        assert!(e.message.contains("not supported"), "{}", e.message);
        assert!(validate_event_invoke_config(&req(None, None, Some("nope"))).is_err());
        let long = format!("arn:aws:sqs:us-east-1:000000000000:{}", "q".repeat(400));
        assert_eq!(
            validate_event_invoke_config(&req(None, None, Some(&long)))
                .unwrap_err()
                .code,
            ErrorCode::Validation
        );
    }

    #[test]
    fn the_record_has_lambdas_member_names() {
        let record = InvocationRecord {
            version: "1.0".into(),
            timestamp: "2019-11-14T18:16:05.568Z".into(),
            request_context: RequestContext {
                request_id: "id".into(),
                function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST".into(),
                condition: "RetriesExhausted".into(),
                approximate_invoke_count: 3,
            },
            request_payload: json!({"a": 1}),
            response_context: Some(ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".into(),
                function_error: Some("Unhandled".into()),
            }),
            response_payload: Some(json!({"errorMessage": "boom"})),
        };
        let v = serde_json::to_value(&record).unwrap();
        assert_eq!(v["requestContext"]["approximateInvokeCount"], json!(3));
        assert_eq!(v["responseContext"]["functionError"], json!("Unhandled"));
        assert_eq!(v["requestPayload"], json!({"a": 1}));
        assert_eq!(v["responseContext"]["executedVersion"], json!("$LATEST"));
    }
}
