//! Wall-clock time. Durations inside the engine use `tokio::time::Instant` (monotonic, and
//! pausable in tests); wall time is only for timestamps users see (log events, deadlines
//! handed to runtimes, LastModified).

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
