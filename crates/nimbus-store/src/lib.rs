//! Durable state of Nimbus behind the [`Store`] trait.
//!
//! The store knows nothing about HTTP, sandboxes or Lambda semantics: the engine hands it
//! opaque values (a function's configuration is JSON text the engine serialises itself) and
//! gets them back. [`SqliteStore`] is the default backend; PostgreSQL will implement the same
//! trait, so the trait's semantics use nothing SQLite-specific.
//!
//! Every method that returns `Ok` for a write has committed it: control-plane writes are
//! durable across `kill -9` and power loss, log writes across `kill -9` (see [`sqlite`]).

#![forbid(unsafe_code)]

use std::collections::HashSet;

use async_trait::async_trait;

pub mod deployments;
mod error;
pub mod events;
pub mod function_urls;
pub mod group_commit;
pub mod mappings;
pub mod metering;
pub mod queues;
pub mod schedules;
pub mod sqlite;
pub mod stacks;

pub use deployments::{DeploymentRow, DeploymentStore};
pub use error::StoreError;
pub use events::{EventInvokeConfigRow, EventRow, EventStore};
pub use function_urls::{FunctionUrlRow, FunctionUrlStore};
pub use mappings::MappingStore;
pub use metering::{MeteringQuery, MeteringRecord, MeteringStore, ProvisionedUsageRow};
pub use queues::QueueStore;
pub use schedules::{ScheduleRow, ScheduleStore};
pub use sqlite::SqliteStore;
pub use stacks::{StackRow, StackStore};

/// Largest log message the store keeps, in UTF-8 bytes. Callers should split or cap messages
/// first; the store defends itself by truncating longer ones (CloudWatch's own event limit is
/// 256 KiB including 26 bytes of overhead).
pub const LOG_MESSAGE_BYTES_MAX: usize = 256 * 1024;

/// Appended to a message the store truncated, so a reader sees it was cut (and by whom).
/// The truncated message including this marker is at most [`LOG_MESSAGE_BYTES_MAX`] bytes.
pub const LOG_TRUNCATION_MARKER: &str = "...[truncated by nimbus]";

/// Bytes added to each event's message length when accounting stored bytes: CloudWatch's
/// per-event overhead, which also makes floods of empty messages count against the cap.
pub const LOG_EVENT_OVERHEAD_BYTES: i64 = 26;

/// Most rows one `query_logs` or `list_log_streams` call returns; larger limits are clamped
/// (CloudWatch's GetLogEvents maximum is also 10,000).
pub const LOG_QUERY_LIMIT_MAX: u32 = 10_000;

/// Most streams one `query_logs` call may name; more is `StoreError::Invalid` (CloudWatch's
/// FilterLogEvents allows 100). Keeps the statement's bound variables bounded.
pub const LOG_QUERY_STREAMS_MAX: usize = 100;

/// Most rows one `list_functions` call returns; larger limits are clamped (Lambda pages by 50).
pub const FUNCTION_LIST_LIMIT_MAX: u32 = 10_000;

/// One function as stored: its identity, its code hash and the engine's configuration.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FunctionRow {
    /// Unique, case-sensitive ("Fn" and "fn" are two functions); listing orders it byte-wise.
    pub name: String,
    /// Changes on every update; `update_function` compares it (compare-and-swap).
    pub revision_id: String,
    /// Hex SHA-256 of the code blob the engine keeps on disk, content-addressed.
    pub code_sha256: String,
    /// The engine's serialised configuration; opaque to the store.
    pub config_json: String,
    /// Creation time, ms since the Unix epoch; never changed by `update_function`.
    pub created_ms: i64,
    /// Last modification time, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// One published version of a function: an immutable snapshot.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionRow {
    /// Function name.
    pub name: String,
    /// Version number (1, 2, …).
    pub version: i64,
    /// Revision id of the version itself.
    pub revision_id: String,
    /// Hex SHA-256 of its code.
    pub code_sha256: String,
    /// The engine's serialised configuration of the version.
    pub config_json: String,
    /// Publication time, ms since the Unix epoch.
    pub created_ms: i64,
}

/// An alias of a function.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AliasRow {
    /// Function name.
    pub function_name: String,
    /// Alias name.
    pub name: String,
    /// `$LATEST` or a version number.
    pub function_version: String,
    /// Free text.
    pub description: String,
    /// The one additional version of a weighted alias.
    pub additional_version: Option<String>,
    /// Its share of the traffic (0.0–1.0).
    pub additional_weight: Option<f64>,
    /// Changes on every update.
    pub revision_id: String,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last modification, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// A provisioned-concurrency configuration.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProvisionedRow {
    /// Function name.
    pub function_name: String,
    /// Version number or alias name.
    pub qualifier: String,
    /// Environments requested.
    pub requested: i64,
    /// Last change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// A log event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEvent {
    pub group: String,
    pub stream: String,
    /// When the function emitted it, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// Truncated with [`LOG_TRUNCATION_MARKER`] beyond [`LOG_MESSAGE_BYTES_MAX`] bytes.
    pub message: String,
}

/// A stored log event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogEventRow {
    /// Increases with every append and is never reused: the ingestion cursor.
    pub id: i64,
    #[sqlx(rename = "log_group")]
    pub group: String,
    #[sqlx(rename = "log_stream")]
    pub stream: String,
    pub timestamp_ms: i64,
    /// When the store appended it (the `ingestion_ms` argument of `append_logs`).
    pub ingestion_ms: i64,
    pub message: String,
}

impl LogEventRow {
    /// The cursor that continues a time-ordered read after this row.
    pub fn time_cursor(&self) -> LogCursor {
        LogCursor::Time {
            timestamp_ms: self.timestamp_ms,
            id: self.id,
        }
    }

    /// The cursor that continues an ingestion-ordered read (follow) after this row.
    pub fn ingestion_cursor(&self) -> LogCursor {
        LogCursor::Ingestion { id: self.id }
    }
}

/// Where a log read continues, and in which order its rows come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCursor {
    /// Paging through history: rows strictly after `(timestamp_ms, id)`, ordered by
    /// `(timestamp_ms, id)`. Take it from the last row of the previous page.
    Time { timestamp_ms: i64, id: i64 },
    /// Following (`tail -f`): rows appended after row `id`, ordered by id, i.e. by
    /// ingestion. Start with the id of the newest row already shown (0 for everything).
    /// Ingestion order is what makes following gap-free: an event that arrives late with an
    /// old timestamp still has a new id.
    Ingestion { id: i64 },
}

/// Which log events to read. Without a cursor, rows are ordered by `(timestamp_ms, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    pub group: String,
    /// Only these streams (at most [`LOG_QUERY_STREAMS_MAX`]); `None` means all,
    /// `Some(vec![])` matches nothing.
    pub streams: Option<Vec<String>>,
    /// Inclusive lower bound on `timestamp_ms`.
    pub start_ms: Option<i64>,
    /// Exclusive upper bound on `timestamp_ms`.
    pub end_ms: Option<i64>,
    /// Continue after this position; also selects the order (see [`LogCursor`]).
    pub after: Option<LogCursor>,
    /// Case-sensitive substring the message must contain.
    pub contains: Option<String>,
    /// At most this many rows (clamped to [`LOG_QUERY_LIMIT_MAX`]); 0 returns none.
    pub limit: u32,
}

/// One log stream of a group, with its time span and accounted size.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogStreamRow {
    #[sqlx(rename = "log_group")]
    pub group: String,
    #[sqlx(rename = "log_stream")]
    pub stream: String,
    /// Oldest stored event's timestamp.
    pub first_ms: i64,
    /// Newest stored event's timestamp.
    pub last_ms: i64,
    /// Sum over stored events of message bytes + [`LOG_EVENT_OVERHEAD_BYTES`].
    pub stored_bytes: i64,
}

/// The durable state of the platform. All methods are safe to call concurrently; each write
/// method is one transaction and is durable when it returns `Ok`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a new function, and its first published version when given, in one
    /// transaction. `Conflict` if the name exists (names are case-sensitive).
    async fn insert_function(
        &self,
        row: &FunctionRow,
        version: Option<&VersionRow>,
    ) -> Result<(), StoreError>;

    /// The function with exactly this name.
    async fn get_function(&self, name: &str) -> Result<Option<FunctionRow>, StoreError>;

    /// Up to `limit` functions with names greater than `after` (byte-wise), ordered by name.
    /// Pass the last name of a page as `after` to get the next one.
    async fn list_functions(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FunctionRow>, StoreError>;

    /// Replaces the function named `row.name` if its stored revision is `expected_revision`
    /// (compare-and-swap in one statement); `created_ms` is kept as stored.
    /// `NotFound` if there is no such function, `RevisionMismatch` with the stored revision
    /// if another writer got there first.
    /// A published `version` is inserted in the same transaction (publish-on-update).
    async fn update_function(
        &self,
        row: &FunctionRow,
        expected_revision: &str,
        version: Option<&VersionRow>,
    ) -> Result<(), StoreError>;

    /// Deletes the function and all its versions; `false` if it did not exist.
    async fn delete_function(&self, name: &str) -> Result<bool, StoreError>;

    /// One published version.
    async fn get_version(&self, name: &str, version: i64)
    -> Result<Option<VersionRow>, StoreError>;

    /// Up to `limit` versions of `name` numbered above `after`, in order.
    async fn list_versions(
        &self,
        name: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError>;

    /// Deletes one version; `false` if it did not exist. `Conflict` (naming the aliases) when
    /// an alias points at it, checked in the same transaction.
    async fn delete_version(&self, name: &str, version: i64) -> Result<bool, StoreError>;

    /// Inserts an alias; `Conflict` if the function already has one of that name.
    async fn insert_alias(&self, row: &AliasRow) -> Result<(), StoreError>;

    /// One alias.
    async fn get_alias(&self, function: &str, name: &str) -> Result<Option<AliasRow>, StoreError>;

    /// Every alias of a function, by name.
    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRow>, StoreError>;

    /// Replaces an alias (compare-and-swap on `expected_revision` when given).
    async fn update_alias(
        &self,
        row: &AliasRow,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Deletes an alias (and a provisioned-concurrency configuration on it); `false` if it did
    /// not exist.
    async fn delete_alias(&self, function: &str, name: &str) -> Result<bool, StoreError>;

    /// Sets (`Some`) or removes (`None`) a function's reserved concurrency.
    async fn put_reserved_concurrency(
        &self,
        function: &str,
        reserved: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Every function's reserved concurrency.
    async fn list_reserved_concurrency(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Creates or replaces a provisioned-concurrency configuration.
    async fn put_provisioned(&self, row: &ProvisionedRow) -> Result<(), StoreError>;

    /// Deletes a provisioned-concurrency configuration; `false` if there was none.
    async fn delete_provisioned(&self, function: &str, qualifier: &str)
    -> Result<bool, StoreError>;

    /// Every provisioned-concurrency configuration.
    async fn list_provisioned(&self) -> Result<Vec<ProvisionedRow>, StoreError>;

    /// Every code hash referenced by any stored row; the engine deletes code blobs outside it.
    async fn code_refs(&self) -> Result<HashSet<String>, StoreError>;

    /// A persisted engine setting.
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Creates or replaces a persisted engine setting.
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Appends events in one transaction, stamping them with `ingestion_ms` (the caller's
    /// clock, so tests control time). Callers batch: one call per flush, not per line.
    async fn append_logs(
        &self,
        events: &[NewLogEvent],
        ingestion_ms: i64,
    ) -> Result<(), StoreError>;

    /// Events of one group matching `q`; see [`LogQuery`] and [`LogCursor`] for the order.
    async fn query_logs(&self, q: &LogQuery) -> Result<Vec<LogEventRow>, StoreError>;

    /// Up to `limit` streams of the group, most recently written (`last_ms`) first.
    async fn list_log_streams(
        &self,
        group: &str,
        limit: u32,
    ) -> Result<Vec<LogStreamRow>, StoreError>;

    /// Deletes the group's oldest events (by `(timestamp_ms, id)`) until its stored bytes are
    /// at most `keep_bytes`; streams left empty disappear. Returns the number of events
    /// deleted.
    async fn trim_logs(&self, group: &str, keep_bytes: i64) -> Result<u64, StoreError>;

    /// Deletes every event and stream of the group; returns the number of events deleted.
    async fn delete_log_group(&self, group: &str) -> Result<u64, StoreError>;
}
