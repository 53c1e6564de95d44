//! Schedules in the store: the [`ScheduleStore`] trait and its row.
//!
//! The store keeps no schedule rules (expressions, time zones, missed slots are the engine's
//! business). What it guarantees is the exactly-once step: [`ScheduleStore::fire_slot`]
//! records a slot and enqueues its asynchronous event in one transaction, so a slot is
//! recorded if and only if its event is stored.

use async_trait::async_trait;

use crate::{EventRow, StoreError};

/// One schedule and its progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    /// Stable id (a UUID), kept while the owner keeps a schedule of this name; request ids
    /// of its events derive from it.
    pub id: String,
    /// Who owns it (a stack name): [`ScheduleStore::replace_schedules`] replaces per owner.
    pub owner: String,
    /// Rule or schedule name, unique per owner.
    pub name: String,
    /// Target function name.
    pub function: String,
    /// Target qualifier (`None`: unqualified).
    pub qualifier: Option<String>,
    /// `rate(…)`, `cron(…)` or `at(…)`, as given.
    pub expression: String,
    /// IANA zone the expression is read in (`None`: UTC).
    pub timezone: Option<String>,
    /// Sent verbatim instead of the scheduled-event envelope.
    pub input: Option<String>,
    /// EventBridge Scheduler (ScheduleV2) rather than an EventBridge rule.
    pub v2: bool,
    /// Disabled schedules fire nothing.
    pub enabled: bool,
    /// The instant `rate` slots are counted from (the schedule's creation time).
    pub anchor_ms: i64,
    /// The last slot fired; never decreases.
    pub last_slot_ms: Option<i64>,
    /// The next slot to fire (`None`: none left, or disabled).
    pub next_slot_ms: Option<i64>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last change of the configuration, ms since the Unix epoch.
    pub updated_ms: i64,
}

/// Durable schedules.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Makes `rows` the owner's whole set in one transaction: the owner's schedules whose id
    /// is not among them are deleted, the others inserted or replaced (`created_ms` is kept).
    /// `last_slot_ms` never moves back: the stored value wins when it is later, so a slot
    /// fired meanwhile is never fired again. `Invalid` if a row names another owner.
    async fn replace_schedules(&self, owner: &str, rows: &[ScheduleRow]) -> Result<(), StoreError>;

    /// Inserts or replaces one schedule (same rules as [`ScheduleStore::replace_schedules`]).
    async fn put_schedule(&self, row: &ScheduleRow) -> Result<(), StoreError>;

    /// Every schedule, by owner and name.
    async fn list_schedules(&self) -> Result<Vec<ScheduleRow>, StoreError>;

    /// Deletes every schedule of the owner; returns how many.
    async fn delete_owner_schedules(&self, owner: &str) -> Result<u64, StoreError>;

    /// Deletes one schedule; `false` if it did not exist.
    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError>;

    /// Fires one slot: in ONE transaction, if the schedule still exists, is enabled, its
    /// `last_slot_ms` is still `expected_last_slot_ms` and `slot_ms` is later than it, sets
    /// `last_slot_ms = slot_ms` and `next_slot_ms`, and inserts `event` (as
    /// [`crate::EventStore::insert_events`] does). `false`, with nothing written, when the
    /// compare-and-swap fails (another firing or a change got there first).
    async fn fire_slot(
        &self,
        id: &str,
        expected_last_slot_ms: Option<i64>,
        slot_ms: i64,
        next_slot_ms: Option<i64>,
        event: &EventRow,
    ) -> Result<bool, StoreError>;
}
