//! The queue engine's limits, each with its reason.

use std::time::Duration;

/// Long polls waiting at once; more return at once with what is there (bad-inputs CL-08:
/// 10,000 concurrent long polls must stay bounded in memory).
pub const LONG_POLLS_MAX: usize = 10_000;

/// A long poll re-checks at least this often: messages also become visible when a
/// visibility timeout or delay ends, which no send announces.
pub const LONG_POLL_RECHECK: Duration = Duration::from_millis(1_000);

/// How long a key stays in the deduplication table for internal idempotent sends (async
/// destinations): longer than any event can stay in its delivering state.
pub const SINK_DEDUP_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// How often the janitor removes expired messages and deduplication keys.
pub const JANITOR_INTERVAL: Duration = Duration::from_secs(10);

/// Rows one janitor pass removes, so it never holds the writer long.
pub const JANITOR_BATCH: u32 = 5_000;

/// Tags one queue may carry (SQS's limit).
pub const QUEUE_TAGS_MAX: usize = 50;

/// SQS refuses a second PurgeQueue on a queue within this time.
pub const PURGE_INTERVAL_MS: i64 = 60_000;

/// A FIFO `ReceiveRequestAttemptId` is remembered this long (SQS's deduplication interval):
/// a retried receive returns the same messages and receipt handles.
pub const RECEIVE_ATTEMPT_WINDOW_MS: i64 = 300_000;

/// Receive attempts remembered at once; expired ones are dropped first, then the oldest.
pub const RECEIVE_ATTEMPTS_MAX: usize = 10_000;

/// Writes (a message sent, a message deleted) one group-commit transaction holds at most:
/// enough to amortise the fsync, small enough to keep the writer lock short.
pub const GROUP_COMMIT_WRITES_MAX: usize = 512;
