//! Event source mappings (`Create/Get/Update/Delete/ListEventSourceMappings`) from an SQS
//! queue to a function: shapes and the model's constraints. Semantic checks that need the
//! queue or the function (visibility timeout, FIFO) are the engine's.

use crate::validate::{
    ValidationFailure, Violation, enum_set, max_length, max_value, min_length, min_value,
};
use serde::{Deserialize, Serialize};

/// Lambda's default batch size for SQS.
pub const BATCH_SIZE_DEFAULT: i64 = 10;
/// Largest batch for a standard queue (model maximum).
pub const BATCH_SIZE_MAX: i64 = 10_000;
/// Largest batch for a FIFO queue.
pub const FIFO_BATCH_SIZE_MAX: i64 = 10;
/// Batches above this size need a batching window (Lambda's rule for SQS).
pub const BATCH_SIZE_WITHOUT_WINDOW_MAX: i64 = 10;
/// Longest batching window, seconds.
pub const BATCHING_WINDOW_S_MAX: i64 = 300;
/// `ScalingConfig.MaximumConcurrency` range.
pub const MAXIMUM_CONCURRENCY_MIN: i64 = 2;
/// `ScalingConfig.MaximumConcurrency` upper bound.
pub const MAXIMUM_CONCURRENCY_MAX: i64 = 1_000;
/// The only function response type for SQS.
pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";
/// Longest `FunctionName` member (model).
pub const FUNCTION_NAME_CHARS_MAX: usize = 140;
/// Longest `EventSourceArn` we accept (SQS ARNs are far shorter).
pub const EVENT_SOURCE_ARN_CHARS_MAX: usize = 1_024;

/// `ScalingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingConfig {
    /// 2–1,000 concurrent batches; absent: Lambda's scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_concurrency: Option<i64>,
}

/// `CreateEventSourceMapping` body (the members Nimbus acts on; others are refused when
/// set, so nothing is accepted and then ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEventSourceMappingRequest {
    /// Queue ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// Function name or ARN, optionally qualified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 1–10,000 (FIFO: 1–10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<i64>,
    /// 0–300 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `["ReportBatchItemFailures"]` or empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response_types: Option<Vec<String>>,
    /// Concurrency cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
    /// Stream sources only: refused for SQS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_position: Option<String>,
    /// Not supported: refused rather than ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<serde_json::Value>,
}

/// `UpdateEventSourceMapping` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateEventSourceMappingRequest {
    /// New target function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// New batch size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<i64>,
    /// New batching window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// New response types (empty list clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response_types: Option<Vec<String>>,
    /// New scaling config (empty object clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
    /// Not supported: refused rather than ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<serde_json::Value>,
}

/// `EventSourceMappingConfiguration` (responses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSourceMappingConfiguration {
    /// Mapping id.
    #[serde(rename = "UUID")]
    pub uuid: String,
    /// Batch size.
    pub batch_size: i64,
    /// Batching window, seconds.
    pub maximum_batching_window_in_seconds: i64,
    /// Queue ARN.
    pub event_source_arn: String,
    /// Function ARN (qualified when the mapping names a qualifier).
    pub function_arn: String,
    /// Epoch seconds (a `timestamp` member).
    pub last_modified: f64,
    /// `Creating`, `Enabled`, `Disabled`, `Enabling`, `Disabling`, `Updating`, `Deleting`.
    pub state: String,
    /// `USER_INITIATED`.
    pub state_transition_reason: String,
    /// Response types.
    pub function_response_types: Vec<String>,
    /// Scaling config, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
    /// The source's attributes as Lambda reports them for SQS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_mapping_arn: Option<String>,
}

/// `ListEventSourceMappings` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventSourceMappingsResponse {
    /// One page.
    pub event_source_mappings: Vec<EventSourceMappingConfiguration>,
    /// Marker of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

fn check_common(
    out: &mut Vec<Violation>,
    function_name: Option<&str>,
    batch_size: Option<i64>,
    window: Option<i64>,
    response_types: Option<&[String]>,
    scaling: Option<&ScalingConfig>,
) {
    if let Some(name) = function_name {
        let n = name.chars().count();
        if n == 0 {
            out.push(Violation::new(name, "functionName", min_length(1)));
        } else if n > FUNCTION_NAME_CHARS_MAX {
            out.push(Violation::new(
                name,
                "functionName",
                max_length(FUNCTION_NAME_CHARS_MAX),
            ));
        }
    }
    if let Some(b) = batch_size {
        if b < 1 {
            out.push(Violation::new(b.to_string(), "batchSize", min_value(1)));
        } else if b > BATCH_SIZE_MAX {
            out.push(Violation::new(
                b.to_string(),
                "batchSize",
                max_value(BATCH_SIZE_MAX),
            ));
        }
    }
    if let Some(w) = window {
        if w < 0 {
            out.push(Violation::new(
                w.to_string(),
                "maximumBatchingWindowInSeconds",
                min_value(0),
            ));
        } else if w > BATCHING_WINDOW_S_MAX {
            out.push(Violation::new(
                w.to_string(),
                "maximumBatchingWindowInSeconds",
                max_value(BATCHING_WINDOW_S_MAX),
            ));
        }
    }
    if let Some(types) = response_types {
        if types.len() > 1 {
            out.push(Violation::new(
                format!("{types:?}"),
                "functionResponseTypes",
                max_length(1),
            ));
        }
        for t in types {
            if t != REPORT_BATCH_ITEM_FAILURES {
                out.push(Violation::new(
                    t.as_str(),
                    "functionResponseTypes",
                    enum_set("[ReportBatchItemFailures]"),
                ));
            }
        }
    }
    if let Some(c) = scaling.and_then(|s| s.maximum_concurrency) {
        if c < MAXIMUM_CONCURRENCY_MIN {
            out.push(Violation::new(
                c.to_string(),
                "scalingConfig.maximumConcurrency",
                min_value(MAXIMUM_CONCURRENCY_MIN),
            ));
        } else if c > MAXIMUM_CONCURRENCY_MAX {
            out.push(Violation::new(
                c.to_string(),
                "scalingConfig.maximumConcurrency",
                max_value(MAXIMUM_CONCURRENCY_MAX),
            ));
        }
    }
}

/// The batching rules Lambda applies to SQS sources, once size and window are known.
pub fn check_batching(batch_size: i64, window: i64, fifo: bool) -> Result<(), ValidationFailure> {
    if fifo && batch_size > FIFO_BATCH_SIZE_MAX {
        return Err(ValidationFailure::invalid_parameter(format!(
            "BatchSize must be between 1 and {FIFO_BATCH_SIZE_MAX} for FIFO queues."
        )));
    }
    if fifo && window > 0 {
        return Err(ValidationFailure::invalid_parameter(
            "MaximumBatchingWindowInSeconds is not supported for FIFO queues.",
        ));
    }
    if batch_size > BATCH_SIZE_WITHOUT_WINDOW_MAX && window < 1 {
        return Err(ValidationFailure::invalid_parameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    Ok(())
}

/// Model constraints of a create request, then the members Nimbus does not support.
pub fn validate_create(req: &CreateEventSourceMappingRequest) -> Result<(), ValidationFailure> {
    let mut out = Vec::new();
    if let Some(arn) = &req.event_source_arn
        && arn.chars().count() > EVENT_SOURCE_ARN_CHARS_MAX
    {
        out.push(Violation::new(
            arn.as_str(),
            "eventSourceArn",
            max_length(EVENT_SOURCE_ARN_CHARS_MAX),
        ));
    }
    check_common(
        &mut out,
        req.function_name.as_deref(),
        req.batch_size,
        req.maximum_batching_window_in_seconds,
        req.function_response_types.as_deref(),
        req.scaling_config.as_ref(),
    );
    if let Some(f) = crate::validate::validation_exception(&out) {
        return Err(f);
    }
    if req.function_name.is_none() {
        return Err(ValidationFailure::invalid_parameter(
            "FunctionName is required.",
        ));
    }
    let Some(arn) = req.event_source_arn.as_deref() else {
        return Err(ValidationFailure::invalid_parameter(
            "Unrecognized event source, must be kafka or specify an event source ARN.",
        ));
    };
    if !arn.starts_with("arn:aws:sqs:") {
        return Err(ValidationFailure::invalid_parameter(format!(
            "Unsupported event source {arn}: Nimbus maps SQS queues (arn:aws:sqs:...) only."
        )));
    }
    if req.starting_position.is_some() {
        return Err(ValidationFailure::invalid_parameter(
            "StartingPosition is not valid for SQS event sources.",
        ));
    }
    if req.filter_criteria.is_some() {
        return Err(ValidationFailure::invalid_parameter(
            "FilterCriteria is not supported by Nimbus.",
        ));
    }
    Ok(())
}

/// Model constraints of an update request.
pub fn validate_update(req: &UpdateEventSourceMappingRequest) -> Result<(), ValidationFailure> {
    let mut out = Vec::new();
    check_common(
        &mut out,
        req.function_name.as_deref(),
        req.batch_size,
        req.maximum_batching_window_in_seconds,
        req.function_response_types.as_deref(),
        req.scaling_config.as_ref(),
    );
    if let Some(f) = crate::validate::validation_exception(&out) {
        return Err(f);
    }
    if req.filter_criteria.is_some() {
        return Err(ValidationFailure::invalid_parameter(
            "FilterCriteria is not supported by Nimbus.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn create(
        f: impl FnOnce(&mut CreateEventSourceMappingRequest),
    ) -> CreateEventSourceMappingRequest {
        let mut r = CreateEventSourceMappingRequest {
            event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:q".into()),
            function_name: Some("f".into()),
            ..Default::default()
        };
        f(&mut r);
        r
    }

    #[test]
    fn ranges_are_model_validation() {
        for (r, member) in [
            (create(|r| r.batch_size = Some(0)), "batchSize"),
            (create(|r| r.batch_size = Some(10_001)), "batchSize"),
            (
                create(|r| r.maximum_batching_window_in_seconds = Some(301)),
                "maximumBatchingWindowInSeconds",
            ),
            (
                create(|r| {
                    r.scaling_config = Some(ScalingConfig {
                        maximum_concurrency: Some(1),
                    })
                }),
                "scalingConfig.maximumConcurrency",
            ),
            (
                create(|r| r.function_response_types = Some(vec!["Nope".into()])),
                "functionResponseTypes",
            ),
        ] {
            let e = validate_create(&r).unwrap_err();
            assert_eq!(e.code, ErrorCode::Validation, "{member}");
            assert!(e.message.contains(member), "{}", e.message);
        }
        assert!(validate_create(&create(|r| r.batch_size = Some(10_000))).is_ok());
        assert!(validate_create(&create(|_| {})).is_ok());
    }

    #[test]
    fn sources_and_unsupported_members() {
        let e = validate_create(&create(|r| {
            r.event_source_arn = Some("arn:aws:kinesis:us-east-1:000000000000:stream/s".into())
        }))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameterValue);
        let e = validate_create(&create(|r| r.filter_criteria = Some(serde_json::json!({}))))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameterValue);
        let e = validate_create(&create(|r| r.event_source_arn = None)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameterValue);
    }

    #[test]
    fn batching_rules() {
        assert!(check_batching(10, 0, false).is_ok());
        assert!(check_batching(11, 0, false).is_err());
        assert!(check_batching(11, 1, false).is_ok());
        assert!(check_batching(11, 1, true).is_err());
        assert!(check_batching(10, 1, true).is_err());
        assert!(check_batching(10, 0, true).is_ok());
    }

    #[test]
    fn configuration_member_names() {
        let c = EventSourceMappingConfiguration {
            uuid: "u".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(&c).unwrap();
        assert!(v.get("UUID").is_some());
        assert!(v.get("MaximumBatchingWindowInSeconds").is_some());
        assert!(v.get("FunctionResponseTypes").is_some());
    }
}
