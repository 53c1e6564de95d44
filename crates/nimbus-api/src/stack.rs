//! The resolved stack: what `nimbus deploy` sends the server after it has read a SAM
//! template, evaluated its intrinsics and packaged its code.
//!
//! The server never sees YAML. A [`StackSpec`] is fully resolved (no `!Ref` left), names
//! every resource by its logical id and its physical name, and refers to code by the SHA-256
//! of a zip already uploaded. Applying the same spec twice changes nothing: the server diffs
//! it against what the stack owns and touches only what differs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::async_invoke::DestinationConfig;

/// A stack as deployed: functions, queues and outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StackSpec {
    /// The stack's name (`--stack`, default: the template directory's name).
    pub name: String,
    /// Functions in logical-id order.
    #[serde(default)]
    pub functions: Vec<FunctionSpec>,
    /// Queues (`AWS::SQS::Queue`) in logical-id order.
    #[serde(default)]
    pub queues: Vec<QueueSpec>,
    /// Alarms (`AWS::CloudWatch::Alarm`) evaluated on Nimbus's own metrics during deployments.
    #[serde(default)]
    pub alarms: Vec<AlarmSpec>,
    /// Outputs with their resolved values, in template order.
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
}

/// One `AWS::Serverless::Function`, resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionSpec {
    /// Logical id in the template.
    pub logical_id: String,
    /// Physical name: `FunctionName`, else `<stack>-<LogicalId>` (cut to 64 characters).
    pub function_name: String,
    /// Runtime identifier.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// Hex SHA-256 of the uploaded zip (`CodeUri` packed, or `InlineCode` as one file).
    pub code_sha256: String,
    /// MemorySize in MB (SAM's default 128).
    pub memory_size: i64,
    /// Timeout in seconds (SAM's default 3).
    pub timeout: i64,
    /// `x86_64` or `arm64`.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// `/tmp` size in MB.
    #[serde(default)]
    pub ephemeral_storage: Option<i64>,
    /// Environment variables.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Role ARN as written (recorded; Nimbus has no IAM engine).
    #[serde(default)]
    pub role: Option<String>,
    /// `Policies` as written (recorded only).
    #[serde(default)]
    pub policies: Option<serde_json::Value>,
    /// `Tracing` (`Active` | `PassThrough`).
    #[serde(default)]
    pub tracing: Option<String>,
    /// `ReservedConcurrentExecutions`.
    #[serde(default)]
    pub reserved_concurrency: Option<i64>,
    /// `ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions` (on the alias).
    #[serde(default)]
    pub provisioned_concurrency: Option<i64>,
    /// `AutoPublishAlias`: publish a version when code or configuration changed and point
    /// this alias at it. Events then target the alias.
    #[serde(default)]
    pub auto_publish_alias: Option<String>,
    /// `DeploymentPreference` (needs `AutoPublishAlias`).
    #[serde(default)]
    pub deployment_preference: Option<DeploymentPreferenceSpec>,
    /// `DeadLetterQueue.TargetArn` (SQS only).
    #[serde(default)]
    pub dead_letter_target_arn: Option<String>,
    /// `EventInvokeConfig`.
    #[serde(default)]
    pub event_invoke_config: Option<EventInvokeConfigSpec>,
    /// `Events`, in logical-name order.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// `FunctionUrlConfig`.
    #[serde(default)]
    pub function_url: Option<FunctionUrlSpec>,
    /// `Tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// `DeploymentPreference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentPreferenceSpec {
    /// `Canary10Percent5Minutes`, `Linear10PercentEvery1Minute`, `AllAtOnce`, …
    #[serde(rename = "Type")]
    pub kind: String,
    /// Whether traffic shifting is on (SAM's default true); off means all at once.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Alarm logical ids (from [`StackSpec::alarms`]) or names that roll the deployment back.
    #[serde(default)]
    pub alarms: Vec<String>,
    /// `Hooks.PreTraffic`: function name run before any traffic moves.
    #[serde(default)]
    pub pre_traffic_hook: Option<String>,
    /// `Hooks.PostTraffic`: function name run after all traffic moved.
    #[serde(default)]
    pub post_traffic_hook: Option<String>,
}

fn yes() -> bool {
    true
}

/// `EventInvokeConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfigSpec {
    /// 0–2.
    #[serde(default)]
    pub maximum_retry_attempts: Option<i64>,
    /// 60–21,600.
    #[serde(default)]
    pub maximum_event_age_in_seconds: Option<i64>,
    /// OnSuccess / OnFailure destinations (ARNs).
    #[serde(default)]
    pub destination_config: Option<DestinationConfig>,
}

/// One entry of a function's `Events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSpec {
    /// The event's key under `Events`.
    pub name: String,
    /// What it is.
    pub source: EventSource,
}

/// The kinds of event Nimbus wires up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Type")]
pub enum EventSource {
    /// `Type: Api` — REST API route, payload format 1.0.
    Api {
        /// `/hello/{name}`, `/{proxy+}`.
        #[serde(rename = "Path")]
        path: String,
        /// Upper-case method or `ANY`.
        #[serde(rename = "Method")]
        method: String,
    },
    /// `Type: HttpApi` — HTTP API route; without `Path`/`Method` the catch-all `$default`.
    HttpApi {
        /// Path, or `None` for the catch-all.
        #[serde(rename = "Path", default)]
        path: Option<String>,
        /// Method or `ANY`; `None` for the catch-all.
        #[serde(rename = "Method", default)]
        method: Option<String>,
        /// `PayloadFormatVersion`: "2.0" (default) or "1.0".
        #[serde(rename = "PayloadFormatVersion", default = "payload_v2")]
        payload_format_version: String,
    },
    /// `Type: SQS` — an event source mapping.
    #[serde(rename = "SQS")]
    Sqs {
        /// Queue ARN.
        #[serde(rename = "Queue")]
        queue_arn: String,
        /// BatchSize (default 10).
        #[serde(rename = "BatchSize", default)]
        batch_size: Option<i64>,
        /// MaximumBatchingWindowInSeconds.
        #[serde(rename = "MaximumBatchingWindowInSeconds", default)]
        maximum_batching_window_in_seconds: Option<i64>,
        /// Enabled (default true).
        #[serde(rename = "Enabled", default = "yes")]
        enabled: bool,
        /// `["ReportBatchItemFailures"]` or empty.
        #[serde(rename = "FunctionResponseTypes", default)]
        function_response_types: Vec<String>,
        /// ScalingConfig.MaximumConcurrency.
        #[serde(rename = "MaximumConcurrency", default)]
        maximum_concurrency: Option<i64>,
    },
    /// `Type: Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler).
    Schedule {
        /// `rate(…)`, `cron(…)` (and `at(…)` for ScheduleV2).
        #[serde(rename = "Expression")]
        expression: String,
        /// IANA zone (ScheduleV2 only; rules are UTC).
        #[serde(rename = "Timezone", default)]
        timezone: Option<String>,
        /// `Input`: the event sent instead of the scheduled-event envelope (JSON text).
        #[serde(rename = "Input", default)]
        input: Option<String>,
        /// Enabled / State.
        #[serde(rename = "Enabled", default = "yes")]
        enabled: bool,
        /// True for ScheduleV2 (Scheduler's payload), false for a Schedule rule.
        #[serde(rename = "V2", default)]
        v2: bool,
    },
}

fn payload_v2() -> String {
    "2.0".to_string()
}

/// `FunctionUrlConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlSpec {
    /// `NONE` or `AWS_IAM` (recorded; Nimbus does not verify signatures).
    pub auth_type: String,
    /// `BUFFERED` (default) or `RESPONSE_STREAM`.
    #[serde(default)]
    pub invoke_mode: Option<String>,
}

/// One `AWS::SQS::Queue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueueSpec {
    /// Logical id.
    pub logical_id: String,
    /// Physical name: `QueueName`, else `<stack>-<LogicalId>` (`.fifo` kept for FIFO).
    pub queue_name: String,
    /// SQS attributes as strings (`VisibilityTimeout`, `FifoQueue`, `RedrivePolicy`, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// One `AWS::CloudWatch::Alarm`, as far as Nimbus can evaluate it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmSpec {
    /// Logical id.
    pub logical_id: String,
    /// `AlarmName`, else `<stack>-<LogicalId>`.
    pub alarm_name: String,
    /// `Errors`, `Throttles`, `Invocations` or `Duration` (namespace `AWS/Lambda`).
    pub metric_name: String,
    /// `Dimensions.FunctionName`.
    #[serde(default)]
    pub function_name: Option<String>,
    /// `Dimensions.Resource` (`fn:alias` or `fn:version`).
    #[serde(default)]
    pub resource: Option<String>,
    /// `Sum`, `Average`, `Maximum`, …
    pub statistic: String,
    /// `Period` in seconds.
    pub period: i64,
    /// `EvaluationPeriods`.
    pub evaluation_periods: i64,
    /// `Threshold`.
    pub threshold: f64,
    /// `GreaterThanThreshold`, `GreaterThanOrEqualToThreshold`, `LessThanThreshold`, …
    pub comparison_operator: String,
}

/// One `Outputs` entry with its value resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputSpec {
    /// Output key.
    pub key: String,
    /// Resolved value.
    pub value: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// What happened to one resource in a deploy or a delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceChange {
    /// Logical id (an event is `<Function>.<EventName>`).
    pub logical_id: String,
    /// `AWS::Serverless::Function`, `AWS::SQS::Queue`, `Nimbus::Route`, …
    pub resource_type: String,
    /// Physical id: function name, queue URL, route key, …
    pub physical_id: String,
    /// What was done.
    pub action: ChangeAction,
    /// Details (which properties changed, the version published, …).
    #[serde(default)]
    pub detail: String,
}

/// The four outcomes of a resource in a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeAction {
    /// Created.
    Create,
    /// Changed in place.
    Update,
    /// Removed.
    Delete,
    /// Already as asked.
    NoChange,
}

impl ChangeAction {
    /// The word shown in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "Create",
            ChangeAction::Update => "Update",
            ChangeAction::Delete => "Delete",
            ChangeAction::NoChange => "NoChange",
        }
    }
}

/// The server's answer to a deploy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeployResult {
    /// Stack name.
    pub stack: String,
    /// Every resource of the new spec and every one removed, with its action.
    pub changes: Vec<ResourceChange>,
    /// Traffic-shifting deployments started (ids), if any.
    #[serde(default)]
    pub deployments: Vec<String>,
    /// Outputs as resolved.
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
}

impl DeployResult {
    /// True when nothing was created, updated or deleted.
    pub fn is_no_op(&self) -> bool {
        self.changes
            .iter()
            .all(|c| c.action == ChangeAction::NoChange)
    }
}
