//! Metering in the store: one record per invocation attempt, the intervals provisioned
//! concurrency was configured, and the aggregates a bill is priced from. The
//! [`MeteringStore`] trait and its rows; the values (triggers, outcomes, architectures) are
//! the engine's words, opaque here.

use async_trait::async_trait;

use crate::StoreError;

/// Most records one `list_metering` call returns; larger limits are clamped. Keeps a raw
/// listing (tests, the console) bounded.
pub const METERING_LIST_LIMIT_MAX: u32 = 10_000;

/// Rows one pruning transaction deletes, so pruning a big backlog never holds the write
/// lock for long (other writers wait behind it).
pub const METERING_PRUNE_BATCH_ROWS: i64 = 10_000;

/// One invocation attempt as its REPORT line described it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MeteringRecord {
    /// Request id (an asynchronous event's attempts share it).
    pub request_id: String,
    /// Function name.
    pub function_name: String,
    /// `$LATEST` or a version number.
    pub version: String,
    /// How it was invoked (`sync`, `async`, `queue`, `gateway`, `deployment-hook`).
    pub trigger: String,
    /// It started a new execution environment.
    pub cold: bool,
    /// It ran on a provisioned-concurrency environment.
    pub provisioned: bool,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// REPORT's `Init Duration`, when shown.
    pub init_ms: Option<f64>,
    /// REPORT's `Duration`.
    pub duration_ms: f64,
    /// REPORT's `Billed Duration`.
    pub billed_ms: i64,
    /// REPORT's `Memory Size`.
    pub memory_mb: i64,
    /// REPORT's `Max Memory Used`.
    pub max_memory_used_mb: i64,
    /// The function's `/tmp` size.
    pub ephemeral_mb: i64,
    /// `success`, `function_error`, `error` or `timeout`.
    pub outcome: String,
    /// REPORT's `Error Type`, when shown.
    pub error_type: Option<String>,
    /// When the attempt started, ms since the Unix epoch.
    pub started_ms: i64,
}

/// Provisioned concurrency configured over `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProvisionedUsageRow {
    /// Function name.
    pub function_name: String,
    /// The configuration's qualifier (version or alias).
    pub qualifier: String,
    /// The version it resolved to.
    pub version: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Memory of each environment.
    pub memory_mb: i64,
    /// Environments requested.
    pub concurrency: i64,
    /// Start, ms since the Unix epoch.
    pub start_ms: i64,
    /// End (exclusive), ms since the Unix epoch; after `start_ms`.
    pub end_ms: i64,
}

/// Which records an aggregate covers: a time window, optionally one function (and version).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeteringQuery {
    /// Only this function.
    pub function: Option<String>,
    /// Only this version (with `function`).
    pub version: Option<String>,
    /// Records that started at or after this, ms since the Unix epoch.
    pub since_ms: i64,
    /// Records that started before this, ms since the Unix epoch.
    pub until_ms: i64,
}

/// Invocation attempts summed over one group of what prices differ by.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MeteringTotalRow {
    /// Function name.
    pub function_name: String,
    /// Version.
    pub version: String,
    /// Architecture.
    pub architecture: String,
    /// Served by provisioned concurrency.
    pub provisioned: bool,
    /// Memory Size.
    pub memory_mb: i64,
    /// `/tmp` size.
    pub ephemeral_mb: i64,
    /// Attempts.
    pub requests: i64,
    /// Σ billed ms.
    pub billed_ms: i64,
    /// Attempts that started an environment.
    pub cold_starts: i64,
    /// Attempts whose outcome was not `success`.
    pub errors: i64,
}

/// Provisioned concurrency summed over a window, per function version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProvisionedTotalRow {
    /// Function name.
    pub function_name: String,
    /// Version.
    pub version: String,
    /// Architecture.
    pub architecture: String,
    /// Memory of each environment.
    pub memory_mb: i64,
    /// Σ concurrency × ms configured inside the window.
    pub concurrency_ms: i64,
}

/// Milliseconds in one minute: the resolution of measured concurrency.
pub const MINUTE_MS: i64 = 60_000;

/// Busy time of the attempts that started in `first_minute` and ended in `last_minute`
/// (minutes since the Unix epoch), for one function: enough to spread each attempt's
/// Init + Duration over the minutes it covered, exactly, without reading every record.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BusyMinutesRow {
    /// Function name.
    pub function_name: String,
    /// The minute the attempts started in.
    pub first_minute: i64,
    /// The minute they ended in (≥ `first_minute`).
    pub last_minute: i64,
    /// How many attempts.
    pub attempts: i64,
    /// Σ start times, ms since the epoch (to split off each attempt's first minute).
    pub started_ms_sum: i64,
    /// Σ Init + Duration, ms.
    pub busy_ms: f64,
    /// The largest Memory Size among them, MB.
    pub memory_mb: i64,
}

/// One minute of one function's attempts: how many, how many cold, and duration
/// percentiles (nearest rank).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MinuteStatsRow {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Attempts that started in it.
    pub attempts: i64,
    /// Of which started an environment.
    pub cold_starts: i64,
    /// Median Duration, ms.
    pub p50_ms: f64,
    /// 99th percentile Duration, ms.
    pub p99_ms: f64,
}

/// Persistence of metering.
#[async_trait]
pub trait MeteringStore: Send + Sync {
    /// Appends invocation records, all in one transaction.
    async fn append_metering(&self, records: &[MeteringRecord]) -> Result<(), StoreError>;
    /// Appends provisioned-concurrency intervals, all in one transaction.
    async fn append_provisioned_usage(
        &self,
        rows: &[ProvisionedUsageRow],
    ) -> Result<(), StoreError>;
    /// Invocation records summed per function, version, architecture, provisioned or not,
    /// memory and `/tmp` size.
    async fn metering_totals(
        &self,
        query: &MeteringQuery,
    ) -> Result<Vec<MeteringTotalRow>, StoreError>;
    /// Provisioned concurrency per function version, cut to the window.
    async fn provisioned_totals(
        &self,
        query: &MeteringQuery,
    ) -> Result<Vec<ProvisionedTotalRow>, StoreError>;
    /// Busy time per function grouped by the minutes attempts started and ended in,
    /// ordered by function and first minute.
    async fn busy_minutes(&self, query: &MeteringQuery) -> Result<Vec<BusyMinutesRow>, StoreError>;
    /// Per minute of `[since_ms, until_ms)` with attempts of `function`: counts and
    /// duration percentiles, oldest first.
    async fn minute_stats(
        &self,
        function: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<MinuteStatsRow>, StoreError>;
    /// The newest records (of one function, or all), newest first, at most `limit`
    /// (clamped to [`METERING_LIST_LIMIT_MAX`]).
    async fn list_metering(
        &self,
        function: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MeteringRecord>, StoreError>;
    /// Deletes records that started, and intervals that ended, before `before_ms`; returns
    /// how many rows were deleted.
    async fn prune_metering(&self, before_ms: i64) -> Result<u64, StoreError>;
}
