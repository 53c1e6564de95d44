//! The per-function scaling rate: how fast a function may add execution environments.
//! Lambda allows +1,000 environments per function every 10 s; requests that would need a new
//! environment beyond that are throttled (429), never queued. A token bucket per function:
//! capacity = the per-window allowance, refilled continuously over the window.

use crate::limits::SCALING_TRACKED_FUNCTIONS_MAX;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets of environment starts, per function.
pub(crate) struct ScaleLimiter {
    per_window: f64,
    window: Duration,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl ScaleLimiter {
    /// `per_window` new environments per function per `window`.
    pub(crate) fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window: f64::from(per_window),
            window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one environment start for `function` at `now`; `false` when its budget is spent.
    pub(crate) fn try_start(&self, function: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let full = Bucket {
            tokens: self.per_window,
            at: now,
        };
        if buckets.len() >= SCALING_TRACKED_FUNCTIONS_MAX && !buckets.contains_key(function) {
            let (per_window, window) = (self.per_window, self.window);
            buckets.retain(|_, b| refill(*b, now, per_window, window).tokens < per_window);
        }
        let bucket = buckets.entry(function.to_string()).or_insert(full);
        *bucket = refill(*bucket, now, self.per_window, self.window);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets a deleted function.
    pub(crate) fn remove(&self, function: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets.remove(function);
    }
}

fn refill(b: Bucket, now: Instant, per_window: f64, window: Duration) -> Bucket {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    let rate = per_window / window.as_secs_f64().max(f64::MIN_POSITIVE);
    Bucket {
        tokens: (b.tokens + elapsed * rate).min(per_window),
        at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_window_of_starts_then_refills_at_the_rate() {
        let limiter = ScaleLimiter::new(10, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.try_start("f", t0));
        }
        assert!(!limiter.try_start("f", t0), "the 11th start in the window");
        // Another function has its own budget.
        assert!(limiter.try_start("g", t0));
        // One second refills one start (10 per 10 s).
        assert!(limiter.try_start("f", t0 + Duration::from_millis(1000)));
        assert!(!limiter.try_start("f", t0 + Duration::from_millis(1000)));
        // A whole window refills the bucket, never beyond its capacity.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..10 {
            assert!(limiter.try_start("f", later));
        }
        assert!(!limiter.try_start("f", later));
    }

    #[test]
    fn deleted_functions_start_with_a_full_budget() {
        let limiter = ScaleLimiter::new(1, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(limiter.try_start("f", t0));
        assert!(!limiter.try_start("f", t0));
        limiter.remove("f");
        assert!(limiter.try_start("f", t0));
    }
}
