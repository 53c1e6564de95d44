//! Asynchronous invocations in the store: the [`EventStore`] trait and its rows.
//!
//! An event row is written (durably) before the 202 is sent and then moves through states the
//! engine sets with compare-and-swap updates ([`EventStore::update_event`]). The store keeps no
//! Lambda rules: retry policy, delivery targets and records are the engine's business.

use async_trait::async_trait;

use crate::StoreError;

/// Most rows one claim or list call returns; larger limits are clamped.
pub const EVENT_BATCH_LIMIT_MAX: u32 = 1_000;

/// The states an event goes through (stored as these strings).
pub mod state {
    /// Waiting for its next attempt (`next_attempt_ms`).
    pub const PENDING: &str = "pending";
    /// Claimed by a dispatcher until `lease_until_ms`.
    pub const RUNNING: &str = "running";
    /// Outcome decided; its record is being delivered to the targets in `deliveries_json`.
    pub const DELIVERING: &str = "delivering";
    /// Terminal: the function succeeded.
    pub const SUCCEEDED: &str = "succeeded";
    /// Terminal: retries exhausted or not retryable; failure handling done.
    pub const FAILED: &str = "failed";
    /// Terminal: older than its maximum age before it could succeed.
    pub const EXPIRED: &str = "expired";
}

/// One asynchronous invocation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// Request id: the same for every attempt.
    pub id: String,
    /// Function name.
    pub function_name: String,
    /// Qualifier as invoked (`None`: unqualified).
    pub qualifier: Option<String>,
    /// The event as accepted.
    pub payload: Vec<u8>,
    /// Acceptance time, ms since the Unix epoch (the event's age counts from here).
    pub received_ms: i64,
    /// One of [`state`].
    pub state: String,
    /// Function attempts that completed.
    pub attempts: i64,
    /// Throttles and platform errors met so far (drive the backoff).
    pub system_retries: i64,
    /// When a pending event is due.
    pub next_attempt_ms: i64,
    /// While running: when the claim expires.
    pub lease_until_ms: Option<i64>,
    /// How it ended (`Success`, `RetriesExhausted`, `EventAgeExceeded`, …).
    pub condition: Option<String>,
    /// Error type of the last failed attempt.
    pub error_type: Option<String>,
    /// Error message of the last failed attempt.
    pub error_message: Option<String>,
    /// Status of the last attempt (200 with a function error, 429, 500, 404).
    pub status_code: Option<i64>,
    /// While delivering: targets still to deliver to (engine JSON).
    pub deliveries_json: Option<String>,
    /// The invocation record (engine JSON).
    pub record_json: Option<String>,
    /// Where the outcome went, and delivery problems (engine JSON).
    pub delivered_json: Option<String>,
    /// When it reached a terminal state.
    pub completed_ms: Option<i64>,
    /// The X-Ray trace header it was accepted with (set once; every attempt shares its Root).
    pub trace_header: Option<String>,
}

/// `Put/UpdateFunctionEventInvokeConfig` of one function qualifier.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventInvokeConfigRow {
    /// Function name.
    pub function_name: String,
    /// `$LATEST`, a version number or an alias name.
    pub qualifier: String,
    /// 0–2; `None`: Lambda's default (2).
    pub maximum_retry_attempts: Option<i64>,
    /// 60–21,600 s; `None`: Lambda's default (6 h).
    pub maximum_event_age_s: Option<i64>,
    /// Destination ARN for successes.
    pub on_success: Option<String>,
    /// Destination ARN for failures.
    pub on_failure: Option<String>,
    /// Last change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// Durable state of asynchronous invocations.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Inserts accepted events in one transaction (the caller batches concurrent accepts:
    /// group commit). An id already present is left as it is, so a re-sent insert is harmless.
    async fn insert_events(&self, rows: &[EventRow]) -> Result<(), StoreError>;

    /// Claims up to `limit` events to run: pending ones due at `now_ms` (oldest first) and
    /// running ones whose lease expired. They become running until `lease_until_ms`.
    async fn claim_due_events(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError>;

    /// When the next claim could find something: the earliest due time of a pending event or
    /// lease expiry of a running one.
    async fn next_event_due_ms(&self) -> Result<Option<i64>, StoreError>;

    /// Writes every mutable column of `row` if the stored state is still `expected_state`;
    /// `false` when it is not (another path moved the event).
    async fn update_event(&self, row: &EventRow, expected_state: &str) -> Result<bool, StoreError>;

    /// [`EventStore::update_event`] for many events in ONE transaction (group commit); the
    /// outcomes in order. All or nothing.
    async fn update_events(&self, updates: &[(EventRow, String)]) -> Result<Vec<bool>, StoreError>;

    /// Up to `limit` events in `state` whose `next_attempt_ms` is at most `due_by_ms`, oldest
    /// first.
    async fn events_in_state(
        &self,
        state: &str,
        due_by_ms: i64,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError>;

    /// Start-up after a crash: every running event becomes pending again, due now, without
    /// counting an attempt (a crash is the platform's failure, not the function's), and
    /// every unfinished delivery is due now.
    async fn release_running_events(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// One event by id.
    async fn get_event(&self, id: &str) -> Result<Option<EventRow>, StoreError>;

    /// Number of events per state.
    async fn count_events_by_state(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Deletes up to `limit` terminal events completed before `before_ms`.
    async fn purge_completed_events(&self, before_ms: i64, limit: u32) -> Result<u64, StoreError>;

    /// Creates or replaces the configuration of one qualifier (`NotFound` if the function
    /// does not exist).
    async fn put_event_invoke_config(&self, row: &EventInvokeConfigRow) -> Result<(), StoreError>;

    /// The configuration of one qualifier.
    async fn get_event_invoke_config(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfigRow>, StoreError>;

    /// Every configuration of a function, by qualifier.
    async fn list_event_invoke_configs(
        &self,
        function: &str,
    ) -> Result<Vec<EventInvokeConfigRow>, StoreError>;

    /// Deletes the configuration of one qualifier; `false` if there was none.
    async fn delete_event_invoke_config(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError>;
}
