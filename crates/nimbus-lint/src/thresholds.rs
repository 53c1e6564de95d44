//! Every number a rule compares against, with the reason for it.

/// AWS recommends a source queue's visibility timeout of at least six times the function's
/// timeout, so a batch retried after a throttle or error is not redelivered meanwhile.
pub const VISIBILITY_PER_TIMEOUT: i64 = 6;

/// SQS's visibility timeout when the queue does not set one.
pub const VISIBILITY_DEFAULT_S: i64 = 30;

/// Memory is "far above" the peak from this ratio (MemorySize / peak) on: a function using
/// a quarter of its memory pays four times the GB-seconds it needs.
pub const MEMORY_OVERSIZE_RATIO: f64 = 4.0;

/// …and only when the unused memory is at least this much (MB): below it, the saving is
/// too small to act on (128 MB is the smallest size; small functions are often 4× over).
pub const MEMORY_OVERSIZE_SLACK_MB: f64 = 256.0;

/// Peak memory within this fraction of MemorySize is an out-of-memory risk (the brief's
/// "within 10 %").
pub const MEMORY_NEAR_FRACTION: f64 = 0.10;

/// Oversized memory is only claimed after this many invocations: one quiet invocation says
/// little about the peak (near-OOM needs no such proof: one peak is enough).
pub const MEMORY_OVERSIZE_SAMPLE_MIN: u64 = 10;

/// The fix suggests MemorySize = peak × this (headroom for larger inputs).
pub const MEMORY_SUGGEST_HEADROOM: f64 = 1.5;

/// Lambda's smallest MemorySize (a suggestion never goes below it).
pub const MEMORY_MIN_MB: f64 = 128.0;

/// p99 within this fraction of the timeout is "near" it.
pub const P99_NEAR_FRACTION: f64 = 0.10;

/// Init at or above this (ms) is near Lambda's 10 s on-demand Init cap: 2 s of margin, the
/// usual variation of a cold start under load.
pub const INIT_NEAR_MS: f64 = 8_000.0;

/// Lambda's cap on an on-demand Init phase (ms).
pub const INIT_CAP_MS: f64 = 10_000.0;

/// A RedrivePolicy with a larger maxReceiveCount lets a poison message run too often
/// (AWS's examples use 3–5; 10 leaves room for batches retried after partial failures).
pub const MAX_RECEIVE_COUNT_BOUND: i64 = 10;
