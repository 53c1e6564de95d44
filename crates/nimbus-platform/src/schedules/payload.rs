//! What a fired slot sends: its request id, its event (EventBridge's scheduled-event envelope
//! or the schedule's `Input`) and the async event row that carries it.

use chrono::{SecondsFormat, TimeZone, Utc};
use nimbus_store::{EventRow, ScheduleRow};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// EventBridge Scheduler's group when none is named (SAM's `ScheduleV2` default).
pub const SCHEDULE_GROUP_DEFAULT: &str = "default";

/// Where the slot's event comes from and goes to in ARNs.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) region: String,
    pub(crate) account: String,
}

impl Identity {
    /// The rule's or the schedule's ARN (the event's `resources`).
    pub(crate) fn arn(&self, row: &ScheduleRow) -> String {
        if row.v2 {
            format!(
                "arn:aws:scheduler:{}:{}:schedule/{SCHEDULE_GROUP_DEFAULT}/{}",
                self.region, self.account, row.name
            )
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{}",
                self.region, self.account, row.name
            )
        }
    }
}

/// EventBridge's envelope, fields in EventBridge's order.
#[derive(Serialize)]
struct ScheduledEvent<'a> {
    version: &'static str,
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    source: &'static str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: Vec<String>,
    detail: serde_json::Value,
}

/// A UUID-shaped id that is the same every time for (`salt`, schedule, slot): a retried
/// firing of a slot is recognisable by its request id.
pub(crate) fn stable_id(salt: &str, schedule_id: &str, slot_ms: i64) -> String {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update([0])
        .chain_update(schedule_id.as_bytes())
        .chain_update([0])
        .chain_update(slot_ms.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The request id of a slot's invocation.
pub(crate) fn request_id(schedule_id: &str, slot_ms: i64) -> String {
    stable_id("nimbus-schedule-request", schedule_id, slot_ms)
}

/// RFC 3339 in UTC with a `Z`, to the second (EventBridge's `time`).
pub(crate) fn rfc3339(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => String::new(),
    }
}

/// The event a slot sends: `Input` verbatim when the schedule has one; else EventBridge's
/// scheduled-event envelope. A rule (`Schedule`) sends `source: aws.events` with
/// `detail: {}`; EventBridge Scheduler (`ScheduleV2`) sends its "default notification",
/// `source: aws.scheduler` with `detail` the *string* `"{}"` (as Scheduler really does).
pub(crate) fn event_payload(row: &ScheduleRow, slot_ms: i64, identity: &Identity) -> Vec<u8> {
    if let Some(input) = &row.input {
        return input.clone().into_bytes();
    }
    let (source, detail) = if row.v2 {
        ("aws.scheduler", serde_json::Value::String("{}".to_string()))
    } else {
        ("aws.events", serde_json::json!({}))
    };
    let event = ScheduledEvent {
        version: "0",
        id: stable_id("nimbus-schedule-event", &row.id, slot_ms),
        detail_type: "Scheduled Event",
        source,
        account: &identity.account,
        time: rfc3339(slot_ms),
        region: &identity.region,
        resources: vec![identity.arn(row)],
        detail,
    };
    // Serialising plain strings and JSON values cannot fail; an empty object is the
    // fallback all the same.
    serde_json::to_vec(&event).unwrap_or_else(|_| b"{}".to_vec())
}

/// The asynchronous event of a slot, as `invoke_async` would build it. `received_ms` is the
/// dispatcher's clock (the system clock), not the schedule clock: the event's age and retry
/// times run in the dispatcher's time.
pub(crate) fn event_row(
    row: &ScheduleRow,
    slot_ms: i64,
    identity: &Identity,
    received_ms: i64,
) -> EventRow {
    crate::async_events::new_event_row(
        &request_id(&row.id, slot_ms),
        &row.function,
        row.qualifier.clone(),
        event_payload(row, slot_ms, identity),
        received_ms,
    )
}
