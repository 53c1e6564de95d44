//! What invokes a function, and the queues it reads, as the rules need them.

use std::collections::BTreeMap;

use nimbus_api::stack::{EventSource, FunctionSpec};
use serde_json::Value;

use crate::Input;

/// One `Type: SQS` event.
pub(crate) struct SqsTrigger<'a> {
    /// The event's name under `Events`.
    pub event: &'a str,
    /// The queue's ARN.
    pub queue_arn: &'a str,
    /// `ScalingConfig.MaximumConcurrency`, a cap of the mapping's own.
    pub maximum_concurrency: Option<i64>,
}

/// The function's SQS events.
pub(crate) fn sqs(f: &FunctionSpec) -> Vec<SqsTrigger<'_>> {
    f.events
        .iter()
        .filter_map(|e| match &e.source {
            EventSource::Sqs {
                queue_arn,
                maximum_concurrency,
                ..
            } => Some(SqsTrigger {
                event: &e.name,
                queue_arn,
                maximum_concurrency: *maximum_concurrency,
            }),
            _ => None,
        })
        .collect()
}

/// Names of the function's Schedule / ScheduleV2 events (schedules invoke asynchronously).
pub(crate) fn schedules(f: &FunctionSpec) -> Vec<&str> {
    f.events
        .iter()
        .filter(|e| matches!(e.source, EventSource::Schedule { .. }))
        .map(|e| e.name.as_str())
        .collect()
}

/// Whether the function is invoked asynchronously: a schedule, or an `EventInvokeConfig`
/// (which only exists to configure asynchronous invocation).
pub(crate) fn is_async(f: &FunctionSpec) -> bool {
    !schedules(f).is_empty() || f.event_invoke_config.is_some()
}

/// Whether failed asynchronous events have somewhere to go.
pub(crate) fn has_failure_target(f: &FunctionSpec) -> bool {
    let on_failure = f
        .event_invoke_config
        .as_ref()
        .and_then(|c| c.destination_config.as_ref())
        .and_then(|d| d.on_failure.as_ref())
        .is_some_and(|d| d.destination.is_some());
    f.dead_letter_target_arn.is_some() || on_failure
}

/// The routes anyone can call: API events and a function URL without auth, as shown in
/// messages (`GET /orders`, `function URL (AuthType NONE)`).
pub(crate) fn public_routes(f: &FunctionSpec) -> Vec<String> {
    let mut routes: Vec<String> = f
        .events
        .iter()
        .filter_map(|e| match &e.source {
            EventSource::Api { path, method } => Some(format!("{method} {path}")),
            EventSource::HttpApi { path, method, .. } => Some(format!(
                "{} {}",
                method.as_deref().unwrap_or("ANY"),
                path.as_deref().unwrap_or("$default")
            )),
            _ => None,
        })
        .collect();
    if f.function_url
        .as_ref()
        .is_some_and(|u| u.auth_type.eq_ignore_ascii_case("NONE"))
    {
        routes.push("function URL (AuthType NONE)".to_string());
    }
    routes
}

/// A queue an SQS event reads.
pub(crate) struct SourceQueue<'a> {
    /// The stack's logical id for it, else its name from the ARN (else the ARN).
    pub resource: String,
    /// Its attributes, when known (the stack defines it, or the caller supplied them).
    pub attributes: Option<&'a BTreeMap<String, String>>,
}

/// Finds the queue behind `arn`: in the stack (matched by queue name), else in the
/// caller's external queues.
pub(crate) fn source_queue<'a>(input: &Input<'a>, arn: &str) -> SourceQueue<'a> {
    let name = nimbus_api::sqs::parse_queue_arn(arn).map(|(_, _, name)| name);
    if let Some(name) = &name
        && let Some(q) = input.spec.queues.iter().find(|q| &q.queue_name == name)
    {
        return SourceQueue {
            resource: q.logical_id.clone(),
            attributes: Some(&q.attributes),
        };
    }
    SourceQueue {
        resource: name.unwrap_or_else(|| arn.to_string()),
        attributes: input.external_queues.get(arn),
    }
}

/// The queue's visibility timeout in seconds (SQS's default when unset or unreadable).
pub(crate) fn visibility_s(attributes: &BTreeMap<String, String>) -> i64 {
    attributes
        .get("VisibilityTimeout")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(crate::thresholds::VISIBILITY_DEFAULT_S)
}

/// A queue's redrive policy, as far as the rules read it.
pub(crate) enum Redrive {
    /// No `RedrivePolicy` (or an unreadable one).
    None,
    /// Messages move to a dead-letter queue after this many receives.
    After(i64),
}

/// Reads `RedrivePolicy` (JSON text; `maxReceiveCount` a number or a numeric string, as
/// SQS accepts both).
pub(crate) fn redrive(attributes: &BTreeMap<String, String>) -> Redrive {
    let Some(text) = attributes.get("RedrivePolicy") else {
        return Redrive::None;
    };
    let Ok(policy) = serde_json::from_str::<Value>(text) else {
        return Redrive::None;
    };
    if policy
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .is_none()
    {
        return Redrive::None;
    }
    let count = match policy.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    count.map_or(Redrive::None, Redrive::After)
}
