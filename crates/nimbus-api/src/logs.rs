//! CloudWatch Logs subset (JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`,
//! `POST /`), enough for `aws logs filter-log-events|get-log-events|
//! describe-log-streams|describe-log-groups --endpoint-url ...`.
//!
//! Members are camelCase, as in `logs/2014-03-28/service-2.json`.
//! Timestamps are epoch milliseconds.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::{Deserialize, Serialize as DeriveSerialize};

/// Request header naming the operation.
pub const HEADER_TARGET: &str = "X-Amz-Target";
/// Content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Prefix of `X-Amz-Target` values.
pub const TARGET_PREFIX: &str = "Logs_20140328.";
/// Largest `limit` for DescribeLogStreams / DescribeLogGroups (model `DescribeLimit`).
pub const DESCRIBE_LIMIT_MAX: i64 = 50;
/// Largest `limit` for FilterLogEvents / GetLogEvents (model `EventsLimit`).
pub const EVENTS_LIMIT_MAX: i64 = 10_000;

/// The operations Nimbus serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogsOperation {
    /// `FilterLogEvents`.
    FilterLogEvents,
    /// `GetLogEvents`.
    GetLogEvents,
    /// `DescribeLogStreams`.
    DescribeLogStreams,
    /// `DescribeLogGroups`.
    DescribeLogGroups,
}

impl LogsOperation {
    /// Every operation.
    pub const ALL: [LogsOperation; 4] = [
        LogsOperation::FilterLogEvents,
        LogsOperation::GetLogEvents,
        LogsOperation::DescribeLogStreams,
        LogsOperation::DescribeLogGroups,
    ];

    /// Operation name.
    pub fn name(self) -> &'static str {
        match self {
            LogsOperation::FilterLogEvents => "FilterLogEvents",
            LogsOperation::GetLogEvents => "GetLogEvents",
            LogsOperation::DescribeLogStreams => "DescribeLogStreams",
            LogsOperation::DescribeLogGroups => "DescribeLogGroups",
        }
    }

    /// Parse an `X-Amz-Target` value such as `Logs_20140328.GetLogEvents`.
    pub fn from_target(target: &str) -> Option<LogsOperation> {
        let op = target.strip_prefix(TARGET_PREFIX)?;
        LogsOperation::ALL.into_iter().find(|o| o.name() == op)
    }
}

/// CloudWatch Logs exceptions (json protocol: `{"__type":..., "message":...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogsErrorCode {
    /// Log group or stream absent (400).
    ResourceNotFound,
    /// Bad parameter (400).
    InvalidParameter,
    /// Service fault (500).
    ServiceUnavailable,
    /// Unknown `X-Amz-Target` (400).
    UnknownOperation,
}

impl LogsErrorCode {
    /// Exception name for `__type`.
    pub fn name(self) -> &'static str {
        match self {
            LogsErrorCode::ResourceNotFound => "ResourceNotFoundException",
            LogsErrorCode::InvalidParameter => "InvalidParameterException",
            LogsErrorCode::ServiceUnavailable => "ServiceUnavailableException",
            LogsErrorCode::UnknownOperation => "UnknownOperationException",
        }
    }

    /// HTTP status (json protocol: client faults 400, `fault: true` 500).
    pub fn status(self) -> u16 {
        match self {
            LogsErrorCode::ServiceUnavailable => 500,
            _ => 400,
        }
    }
}

/// A CloudWatch Logs error body; serializes to `{"__type":"...","message":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsErrorBody {
    /// The exception.
    pub code: LogsErrorCode,
    /// Message.
    pub message: String,
}

impl LogsErrorBody {
    /// A body.
    pub fn new(code: LogsErrorCode, message: impl Into<String>) -> LogsErrorBody {
        LogsErrorBody {
            code,
            message: message.into(),
        }
    }

    /// "The specified log group does not exist." (CloudWatch's text).
    pub fn log_group_not_found() -> LogsErrorBody {
        LogsErrorBody::new(
            LogsErrorCode::ResourceNotFound,
            "The specified log group does not exist.",
        )
    }

    /// "The specified log stream does not exist." (CloudWatch's text).
    pub fn log_stream_not_found() -> LogsErrorBody {
        LogsErrorBody::new(
            LogsErrorCode::ResourceNotFound,
            "The specified log stream does not exist.",
        )
    }

    /// JSON body.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for LogsErrorBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("__type", self.code.name())?;
        map.serialize_entry("message", &self.message)?;
        map.end()
    }
}

/// `FilterLogEvents` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsRequest {
    /// Log group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Log group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// Streams to search (1–100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_names: Option<Vec<String>>,
    /// Stream name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name_prefix: Option<String>,
    /// Inclusive start, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Exclusive end, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// CloudWatch filter pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Max events (1–10000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Deprecated; always interleaved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interleaved: Option<bool>,
    /// Oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_from_head: Option<bool>,
    /// Unmask protected data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmask: Option<bool>,
}

/// One event found by `FilterLogEvents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    /// Stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Event time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Ingestion time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingestion_time: Option<i64>,
    /// Event id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// A stream `FilterLogEvents` searched.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchedLogStream {
    /// Stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Whether all of it was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searched_completely: Option<bool>,
}

/// `FilterLogEvents` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsResponse {
    /// Events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<FilteredLogEvent>>,
    /// Streams searched (deprecated by CloudWatch, still modelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searched_log_streams: Option<Vec<SearchedLogStream>>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetLogEvents` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    /// Log group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Log group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// Stream (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Inclusive start, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Exclusive end, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Page token (`f/...` or `b/...` in CloudWatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Max events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Oldest first (default false: newest page first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_from_head: Option<bool>,
    /// Unmask protected data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmask: Option<bool>,
}

/// One event of `GetLogEvents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEvent {
    /// Event time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Ingestion time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingestion_time: Option<i64>,
}

/// `GetLogEvents` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsResponse {
    /// Events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<OutputLogEvent>>,
    /// Token for the next page forward (the CLI stops when it repeats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_forward_token: Option<String>,
    /// Token for the next page backward.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_backward_token: Option<String>,
}

/// `DescribeLogStreams` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsRequest {
    /// Log group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Log group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// Stream name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name_prefix: Option<String>,
    /// `LogStreamName` or `LastEventTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
    /// Descending order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descending: Option<bool>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Max items (1–50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// One stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStream {
    /// Name, e.g. `2024/03/05/[$LATEST]6e6762b029cb4f7d8963c3206226deac`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Creation time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    /// First event time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<i64>,
    /// Last event time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<i64>,
    /// Last ingestion time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<i64>,
    /// Legacy sequence token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_sequence_token: Option<String>,
    /// ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Deprecated, reported as 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<i64>,
}

/// `DescribeLogStreams` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsResponse {
    /// Streams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_streams: Option<Vec<LogStream>>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DescribeLogGroups` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsRequest {
    /// Linked accounts to include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_identifiers: Option<Vec<String>>,
    /// Name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name_prefix: Option<String>,
    /// Case-insensitive substring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name_pattern: Option<String>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Max items (1–50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Include linked accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_linked_accounts: Option<bool>,
    /// `STANDARD`, `INFREQUENT_ACCESS`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// Exact names or ARNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifiers: Option<Vec<String>>,
}

/// One log group.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroup {
    /// Name, e.g. `/aws/lambda/my-fn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Creation time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    /// Retention, days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i64>,
    /// Metric filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_filter_count: Option<i64>,
    /// ARN ending in `:*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Bytes stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<i64>,
    /// KMS key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// ARN without `:*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
}

/// `DescribeLogGroups` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsResponse {
    /// Groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_groups: Option<Vec<LogGroup>>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn boto3_bodies_deserialize() {
        // Captured from boto3 1.44.8 (logs client, before-send hook).
        let f: FilterLogEventsRequest = serde_json::from_str(r#"{"logGroupName": "/aws/lambda/my-fn", "startTime": 1700000000000, "filterPattern": "ERROR", "limit": 100, "logStreamNames": ["s1"], "nextToken": "t"}"#).unwrap();
        assert_eq!(f.start_time, Some(1_700_000_000_000));
        assert_eq!(f.log_stream_names, Some(vec!["s1".to_string()]));
        let g: GetLogEventsRequest = serde_json::from_str(r#"{"logGroupName": "/aws/lambda/my-fn", "logStreamName": "2024/03/05/[$LATEST]abc", "startFromHead": true, "limit": 50}"#).unwrap();
        assert_eq!(g.start_from_head, Some(true));
        let s: DescribeLogStreamsRequest = serde_json::from_str(r#"{"logGroupName": "/aws/lambda/my-fn", "orderBy": "LastEventTime", "descending": true, "limit": 5}"#).unwrap();
        assert_eq!(s.order_by.as_deref(), Some("LastEventTime"));
        let d: DescribeLogGroupsRequest =
            serde_json::from_str(r#"{"logGroupNamePrefix": "/aws/lambda/", "limit": 50}"#).unwrap();
        assert_eq!(d.limit, Some(50));
    }

    #[test]
    fn responses_and_errors() {
        let r = GetLogEventsResponse {
            events: Some(vec![OutputLogEvent {
                timestamp: Some(1),
                message: Some("START RequestId: x Version: $LATEST\n".into()),
                ingestion_time: Some(2),
            }]),
            next_forward_token: Some("f/1".into()),
            next_backward_token: Some("b/1".into()),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"events":[{"timestamp":1,"message":"START RequestId: x Version: $LATEST\n","ingestionTime":2}],"nextForwardToken":"f/1","nextBackwardToken":"b/1"})
        );
        assert_eq!(
            LogsErrorBody::log_group_not_found().to_json_string(),
            r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#
        );
        assert_eq!(LogsErrorCode::ResourceNotFound.status(), 400);
        assert_eq!(
            LogsOperation::from_target("Logs_20140328.FilterLogEvents"),
            Some(LogsOperation::FilterLogEvents)
        );
        assert_eq!(
            LogsOperation::from_target("Logs_20140328.PutLogEvents"),
            None
        );
        assert_eq!(LogsOperation::from_target("FilterLogEvents"), None);
    }
}
