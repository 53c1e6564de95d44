//! Settling an asynchronous event: the invocation record, the dead-letter queue and the
//! destinations, as an outbox. The decision (state, record, targets still to deliver) is
//! stored first; each delivery is idempotent (a queue message is sent at most once per event
//! and target; a function destination is an event with a derived id), so redoing deliveries
//! after a crash duplicates nothing. Then the event becomes terminal.

use super::policy::Condition;
use crate::limits::{ASYNC_DELIVERY_GRACE, ASYNC_DELIVERY_RETRY, DLQ_ERROR_MESSAGE_CHARS_MAX};
use crate::metrics::series::AsyncSample;
use crate::platform::Platform;
use async_trait::async_trait;
use bytes::Bytes;
use nimbus_api::async_invoke::{
    DestinationKind, InvocationRecord, RequestContext, ResponseContext, destination_kind,
};
use nimbus_store::EventRow;
use nimbus_store::events::state;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The target name of a dead-letter delivery (destinations are `onSuccess`/`onFailure`);
/// stored with a delivering event, so it must not change.
const DLQ_TARGET: &str = "dlq";
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One message attribute of a delivery (`RequestID`, `ErrorCode`, `ErrorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessageAttribute {
    /// Attribute name.
    pub name: String,
    /// `String` or `Number`.
    pub data_type: String,
    /// The value.
    pub value: String,
}

/// Why a queue delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueSinkError {
    /// The queue does not exist (not retried: recorded with the event).
    #[error("queue {0} does not exist")]
    NoSuchQueue(String),
    /// The message was refused (too large, bad characters; not retried).
    #[error("the message was refused: {0}")]
    Refused(String),
    /// The queue service could not take it now (retried).
    #[error("queue service unavailable: {0}")]
    Unavailable(String),
}

/// Where queue deliveries go. `send_once` must be idempotent per `dedup_id`: a second call
/// with the same id (a redelivery after a crash) sends nothing.
#[async_trait]
pub trait QueueSink: Send + Sync {
    /// Sends `body` to the queue `queue_arn` unless a message with `dedup_id` was sent there.
    /// `trace_header` becomes the message's `AWSTraceHeader` system attribute.
    async fn send_once(
        &self,
        queue_arn: &str,
        dedup_id: &str,
        body: String,
        attributes: Vec<QueueMessageAttribute>,
        trace_header: Option<String>,
    ) -> Result<(), QueueSinkError>;
}

/// A delivery still to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Delivery {
    /// `dlq`, `onSuccess` or `onFailure`.
    pub target: String,
    /// Queue or function ARN.
    pub arn: String,
}

/// A delivery made (or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Delivered {
    pub target: String,
    pub arn: String,
    /// Why it could not be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How the event ended, for its record and its DLQ message.
pub(crate) struct Ending {
    pub condition: Condition,
    pub status_code: i64,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    /// The version that ran last (absent when the function never ran).
    pub executed_version: Option<String>,
    pub function_error: bool,
    pub response_payload: Option<Bytes>,
}

/// What a delivery attempt pass achieved.
enum Pass {
    /// Every delivery is made or failed for good.
    Done(Vec<Delivered>),
    /// Some could not be made now; the rest is stored for the next pass.
    Later(Vec<Delivery>, Vec<Delivered>),
}

impl Platform {
    /// Records the outcome of `row` (running) and delivers it.
    pub(crate) async fn settle_event(self: &Arc<Self>, mut row: EventRow, ending: Ending) {
        let expected = row.state.clone();
        let settings = self.event_settings(&row.function_name, row.qualifier.as_deref());
        let mut deliveries = Vec::new();
        match ending.condition {
            Condition::Success => {
                if let Some(arn) = settings.on_success.clone() {
                    deliveries.push(Delivery {
                        target: "onSuccess".into(),
                        arn,
                    });
                }
            }
            Condition::RetriesExhausted | Condition::EventAgeExceeded => {
                if let Some(arn) = self.dead_letter_target(&row).await {
                    deliveries.push(Delivery {
                        target: DLQ_TARGET.into(),
                        arn,
                    });
                }
                if let Some(arn) = settings.on_failure.clone() {
                    deliveries.push(Delivery {
                        target: "onFailure".into(),
                        arn,
                    });
                }
            }
        }
        let record = self.invocation_record(&row, &ending);
        row.condition = Some(ending.condition.as_str().to_string());
        row.status_code = Some(ending.status_code);
        row.error_type = ending.error_type.clone();
        row.error_message = ending.error_message.clone();
        row.lease_until_ms = None;
        row.record_json = serde_json::to_string(&record).ok();
        if deliveries.is_empty() {
            row.deliveries_json = None;
            row.delivered_json = Some("[]".into());
            self.finish_event(row, &expected).await;
            return;
        }
        row.state = state::DELIVERING.to_string();
        // Delivered inline right below; the dispatcher takes over only if that is
        // interrupted (a restart makes it due at once) or postponed.
        row.next_attempt_ms = crate::clock::now_ms() + ms(ASYNC_DELIVERY_GRACE);
        row.deliveries_json = serde_json::to_string(&deliveries).ok();
        row.delivered_json = Some("[]".into());
        match self.async_events.update(&row, &expected).await {
            Ok(true) => self.deliver_event(row).await,
            Ok(false) => {
                tracing::warn!(request_id = %row.id, "event changed state while settling; left as it is")
            }
            Err(e) => {
                tracing::error!(request_id = %row.id, error = %e, "could not record the event's outcome; it runs again after its lease")
            }
        }
    }

    /// Makes the deliveries of an event in `delivering` state, then makes it terminal.
    pub(crate) async fn deliver_event(self: &Arc<Self>, mut row: EventRow) {
        let todo: Vec<Delivery> = row
            .deliveries_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let mut done: Vec<Delivered> = row
            .delivered_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        match self.delivery_pass(&row, todo).await {
            Pass::Done(made) => {
                done.extend(made);
                row.deliveries_json = None;
                row.delivered_json = serde_json::to_string(&done).ok();
                self.finish_event(row, state::DELIVERING).await;
            }
            Pass::Later(left, made) => {
                done.extend(made);
                row.next_attempt_ms = crate::clock::now_ms() + ms(ASYNC_DELIVERY_RETRY);
                row.deliveries_json = serde_json::to_string(&left).ok();
                row.delivered_json = serde_json::to_string(&done).ok();
                if let Err(e) = self.async_events.update(&row, state::DELIVERING).await {
                    tracing::warn!(request_id = %row.id, error = %e, "could not save delivery progress; the next pass redoes it");
                }
            }
        }
    }

    async fn delivery_pass(&self, row: &EventRow, todo: Vec<Delivery>) -> Pass {
        let mut made = Vec::new();
        let mut left = Vec::new();
        for d in todo {
            match self.deliver_one(row, &d).await {
                Ok(()) => made.push(Delivered {
                    target: d.target,
                    arn: d.arn,
                    error: None,
                }),
                Err(DeliveryError::Final(e)) => {
                    self.async_events
                        .counters
                        .delivery_errors
                        .fetch_add(1, Ordering::Relaxed);
                    let sample = if d.target == DLQ_TARGET {
                        AsyncSample::DeadLetterError
                    } else {
                        AsyncSample::DestinationDeliveryFailure
                    };
                    self.async_events
                        .by_function
                        .add(&row.function_name, sample);
                    tracing::warn!(request_id = %row.id, target = %d.target, arn = %d.arn, error = %e, "delivery failed");
                    made.push(Delivered {
                        target: d.target,
                        arn: d.arn,
                        error: Some(e),
                    });
                }
                Err(DeliveryError::Retry(e)) => {
                    tracing::debug!(request_id = %row.id, target = %d.target, error = %e, "delivery postponed");
                    left.push(d);
                }
            }
        }
        if left.is_empty() {
            Pass::Done(made)
        } else {
            Pass::Later(left, made)
        }
    }

    async fn deliver_one(&self, row: &EventRow, d: &Delivery) -> Result<(), DeliveryError> {
        let kind = destination_kind(&d.arn).map_err(|e| DeliveryError::Final(e.message))?;
        let dedup_id = format!("{}:{}", row.id, d.target);
        match kind {
            DestinationKind::Queue => {
                let sink = self
                    .async_events
                    .queue_sink
                    .read()
                    .ok()
                    .and_then(|s| s.clone())
                    .ok_or_else(|| {
                        DeliveryError::Retry("the queue service is not attached yet".into())
                    })?;
                let (body, attributes) = if d.target == DLQ_TARGET {
                    (
                        String::from_utf8_lossy(&row.payload).into_owned(),
                        dlq_attributes(row),
                    )
                } else {
                    (row.record_json.clone().unwrap_or_default(), Vec::new())
                };
                let trace = crate::traces::of_event(row).to_string();
                sink.send_once(&d.arn, &dedup_id, body, attributes, Some(trace))
                    .await
                    .map_err(|e| match e {
                        QueueSinkError::Unavailable(m) => DeliveryError::Retry(m),
                        other => DeliveryError::Final(other.to_string()),
                    })
            }
            DestinationKind::Function => {
                let target = nimbus_api::names::FunctionRef::parse(&d.arn)
                    .map_err(|e| DeliveryError::Final(e.to_string()))?;
                if self.cached(&target.name).is_none() {
                    return Err(DeliveryError::Final(format!(
                        "Function not found: {}",
                        d.arn
                    )));
                }
                let payload = row.record_json.clone().unwrap_or_default().into_bytes();
                let mut event = super::new_event_row(
                    &derived_id(&dedup_id),
                    &target.name,
                    target.qualifier.clone(),
                    payload,
                    crate::clock::now_ms(),
                );
                event.trace_header = Some(crate::traces::of_event(row).to_string());
                self.enqueue_event(event)
                    .await
                    .map_err(|e| DeliveryError::Retry(e.to_string()))
            }
        }
    }

    /// Writes the terminal state (CAS from `expected`) and counts it.
    async fn finish_event(&self, mut row: EventRow, expected: &str) {
        let condition = match row.condition.as_deref() {
            Some("Success") => Condition::Success,
            Some("EventAgeExceeded") => Condition::EventAgeExceeded,
            _ => Condition::RetriesExhausted,
        };
        row.state = condition.terminal_state().to_string();
        row.completed_ms = Some(crate::clock::now_ms());
        let events = &self.async_events;
        match events.update(&row, expected).await {
            Ok(true) => {
                let _ = events
                    .unfinished
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        Some(n.saturating_sub(1))
                    });
                let counter = match condition {
                    Condition::Success => &events.counters.succeeded,
                    Condition::RetriesExhausted => &events.counters.failed,
                    Condition::EventAgeExceeded => &events.counters.expired,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if condition != Condition::Success {
                    events
                        .by_function
                        .add(&row.function_name, AsyncSample::Dropped);
                }
                tracing::debug!(request_id = %row.id, state = %row.state, "asynchronous event finished");
            }
            Ok(false) => {
                tracing::warn!(request_id = %row.id, "event changed state before it finished; left as it is")
            }
            Err(e) => {
                tracing::error!(request_id = %row.id, error = %e, "could not record the event's end; redone after restart")
            }
        }
    }

    /// The function version's `DeadLetterConfig.TargetArn`.
    async fn dead_letter_target(&self, row: &EventRow) -> Option<String> {
        let resolved = self
            .resolve_qualifier(&row.function_name, row.qualifier.as_deref(), false)
            .await
            .ok()??;
        resolved.function.config.dead_letter_target.clone()
    }

    fn invocation_record(&self, row: &EventRow, ending: &Ending) -> InvocationRecord {
        let qualifier = row.qualifier.as_deref().unwrap_or("$LATEST");
        let json_or_text = |bytes: &[u8]| {
            serde_json::from_slice(bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
            })
        };
        InvocationRecord {
            version: "1.0".into(),
            timestamp: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            request_context: RequestContext {
                request_id: row.id.clone(),
                function_arn: format!("{}:{qualifier}", self.function_arn(&row.function_name)),
                condition: ending.condition.as_str().into(),
                approximate_invoke_count: row.attempts,
            },
            request_payload: json_or_text(&row.payload),
            response_context: ending
                .executed_version
                .as_ref()
                .map(|version| ResponseContext {
                    status_code: ending.status_code,
                    executed_version: version.clone(),
                    function_error: ending.function_error.then(|| "Unhandled".to_string()),
                }),
            response_payload: ending.response_payload.as_deref().map(json_or_text),
        }
    }
}

/// Why one delivery did not happen.
enum DeliveryError {
    /// For good (no such queue or function): recorded with the event.
    Final(String),
    /// Not now: the next pass tries again.
    Retry(String),
}

/// `RequestID`, `ErrorCode` (the last attempt's status) and `ErrorMessage` (first 1 KB).
fn dlq_attributes(row: &EventRow) -> Vec<QueueMessageAttribute> {
    let message: String = row
        .error_message
        .clone()
        .unwrap_or_default()
        .chars()
        .take(DLQ_ERROR_MESSAGE_CHARS_MAX)
        .collect();
    let mut out = vec![
        QueueMessageAttribute {
            name: "RequestID".into(),
            data_type: "String".into(),
            value: row.id.clone(),
        },
        QueueMessageAttribute {
            name: "ErrorCode".into(),
            data_type: "Number".into(),
            value: row.status_code.unwrap_or(200).to_string(),
        },
    ];
    if !message.is_empty() {
        out.push(QueueMessageAttribute {
            name: "ErrorMessage".into(),
            data_type: "String".into(),
            value: message,
        });
    }
    out
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// A request id derived from another (a destination event of `base`): the same input gives
/// the same id, so a redelivery inserts nothing new.
pub(crate) fn derived_id(base: &str) -> String {
    let digest = sha2::Sha256::digest(base.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version 5 (name-based, SHA) and the RFC 4122 variant, so it parses as a UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_uuid_shaped_and_distinct() {
        let a = derived_id("x:onSuccess");
        assert_eq!(a, derived_id("x:onSuccess"));
        assert_ne!(a, derived_id("x:onFailure"));
        assert_eq!(a.len(), 36);
        assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
    }
}
