//! Engine limits: every bound of the engine in one place, each a named constant with its
//! unit last and a line saying why (and whether AWS sets it). Wire-level limits (payload
//! sizes, code sizes, name lengths) live in `nimbus_api::limits`.

use std::time::Duration;

/// Lambda caps the Init phase of on-demand environments at 10 s; past it the init is retried
/// once inside the invocation, bounded by the function timeout ("suppressed init"). AWS.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time an idle environment is kept warm before it is reaped (scale to zero). Lambda
/// does not publish this; observed values are 5–15 minutes. Ours, configurable.
pub const KEEP_ALIVE_DEFAULT: Duration = Duration::from_secs(600);

/// How often the reaper looks for idle environments to stop. Ours.
pub const REAPER_INTERVAL: Duration = Duration::from_secs(1);

/// Pre-built empty sandboxes kept ready (cold starts skip namespace and cgroup set-up). The
/// research measured 2–4 as enough on a 2-core host. Ours, configurable.
pub const SHELL_POOL_DEFAULT: usize = 2;

/// Output of one invocation kept for its log stream and the Tail header; beyond it the rest
/// is read and dropped with a marker line, so a flooding function cannot grow our memory.
/// Ours (Lambda throttles log ingestion instead).
pub const INVOCATION_LOG_BYTES_MAX: usize = 1024 * 1024;

/// CloudWatch Logs' largest event; longer lines are split. AWS (256 KiB minus header bytes).
pub const LOG_EVENT_BYTES_MAX: usize = 256 * 1024 - 26;

/// Log events waiting for the log writer; when full, events are dropped and counted rather
/// than blocking invocations. Ours.
pub const LOG_QUEUE_EVENTS_MAX: usize = 65_536;

/// Log events written per store transaction. Ours.
pub const LOG_BATCH_EVENTS_MAX: usize = 1_000;

/// How long the log writer waits to fill a batch. Ours.
pub const LOG_FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// Stored log bytes kept per function (oldest dropped first). Ours, configurable.
pub const LOG_RETENTION_BYTES_DEFAULT: i64 = 64 * 1024 * 1024;

/// Bytes read from a log pipe per read call. Ours.
pub const LOG_READ_CHUNK_BYTES: usize = 64 * 1024;

/// Concurrent connections a runtime may hold open to its Runtime API (official clients use
/// one; a second is tolerated). Ours.
pub const RUNTIME_API_CONNECTIONS_MAX: usize = 8;

/// Request headers a runtime may send to the Runtime API. Ours (hyper's default is 100).
pub const RUNTIME_API_HEADERS_MAX: usize = 64;

/// Time to tear an environment down (SIGKILL, wait, remove cgroup and files). Ours.
pub const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Concurrent deployment-package uploads being decoded/extracted; each holds up to ~120 MB
/// (base64 body + zip), so this bounds memory. Ours.
pub const CODE_UPLOADS_CONCURRENT_MAX: usize = 4;

/// Cold starts refused per function per second after repeated init failures, so a crashing
/// function cannot turn into a respawn loop (bad-inputs PK-09: ≤ 1 start/s). Ours.
pub const FAILED_INIT_RESTARTS_PER_SECOND_MAX: u32 = 1;

/// Node's V8 heap as a share of MemorySize (percent), as Lambda's Node bootstrap does, so the
/// runtime collects garbage before the cgroup OOM-kills it.
pub const NODE_HEAP_PERCENT_OF_MEMORY: u32 = 85;

/// The window of the per-function scaling rate (Lambda: +1,000 environments per 10 s). AWS.
pub const SCALING_WINDOW: Duration = Duration::from_secs(10);

/// Functions whose scaling budget is tracked at once; full buckets are dropped past it (a
/// full bucket is the same as no bucket). Ours.
pub const SCALING_TRACKED_FUNCTIONS_MAX: usize = 10_000;

/// Init cap of provisioned-concurrency environments: Lambda allows max(130 s, the function
/// timeout) instead of the on-demand 10 s. AWS.
pub const PROVISIONED_INIT_TIMEOUT_MIN: Duration = Duration::from_secs(130);

/// How often the provisioned-concurrency reconciler re-checks allocations even when nothing
/// changed (replaces environments that died). Ours.
pub const PROVISIONED_RECONCILE_INTERVAL: Duration = Duration::from_secs(1);

/// After a provisioned environment failed to initialise, the configuration stays FAILED and
/// is retried after this long. Ours.
pub const PROVISIONED_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Provisioned environments initialising at once (all functions), so a large configuration
/// cannot swamp the host's CPUs with simultaneous Inits. Ours.
pub const PROVISIONED_STARTS_CONCURRENT_MAX: usize = 4;

/// Accepted asynchronous events written per store transaction (group commit): one fsync
/// covers them all. Ours.
pub const ASYNC_ACCEPT_BATCH_MAX: usize = 256;

/// Event state changes (claims excepted) written per store transaction by the dispatcher's
/// group commit. Ours, like the accept batch.
pub const ASYNC_UPDATE_BATCH_MAX: usize = 256;

/// Accepts waiting for the group-commit writer; a full queue makes accepts wait (backpressure),
/// never drops them. Ours.
pub const ASYNC_ACCEPT_QUEUE_MAX: usize = 4_096;

/// Events accepted but not yet in a terminal state; past it new events get a 429 rather than
/// growing the store without bound. Ours.
pub const ASYNC_PENDING_MAX: u64 = 1_000_000;

/// Asynchronous events running at once (each also needs admission, like a synchronous
/// invoke). Ours.
pub const ASYNC_DISPATCH_CONCURRENT_MAX: usize = 256;

/// The dispatcher looks for due events and unfinished deliveries at least this often, even
/// without a wake-up. Ours.
pub const ASYNC_IDLE_POLL: Duration = Duration::from_secs(1);

/// A claimed event's lease: the function timeout plus this (the Init cap and the hops around
/// the run fit in it). Ours.
pub const ASYNC_LEASE_MARGIN: Duration = Duration::from_secs(120);

/// Delay before the second attempt after a function error (Lambda: about a minute). AWS.
pub const ASYNC_RETRY_DELAY_FIRST: Duration = Duration::from_secs(60);

/// Delay before the third attempt (Lambda: about two minutes). AWS.
pub const ASYNC_RETRY_DELAY_SECOND: Duration = Duration::from_secs(120);

/// First backoff after a throttle or platform error; doubles up to the maximum. AWS.
pub const ASYNC_BACKOFF_MIN: Duration = Duration::from_secs(1);

/// Longest backoff after throttles or platform errors. AWS (5 minutes).
pub const ASYNC_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Terminal events are kept this long for inspection, then purged. Ours.
pub const ASYNC_TERMINAL_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Terminal events purged per janitor pass (bounds one transaction). Ours.
pub const ASYNC_PURGE_BATCH: u32 = 1_000;

/// How often the janitor purges old terminal events. Ours.
pub const ASYNC_PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Characters of an error message kept in a DLQ message's `ErrorMessage` attribute (Lambda
/// keeps the first 1 KB). AWS.
pub const DLQ_ERROR_MESSAGE_CHARS_MAX: usize = 1_024;

/// An event's deliveries are made inline when its outcome is decided; the dispatcher takes
/// them over only if they are still unfinished this long after (or at once after a restart).
/// Ours.
pub const ASYNC_DELIVERY_GRACE: Duration = Duration::from_secs(30);

/// A delivery that could not be made now (queue service busy) is tried again after this. Ours.
pub const ASYNC_DELIVERY_RETRY: Duration = Duration::from_secs(1);
