//! Per-version invocation metrics: counts of invocations, function errors and throttles, and
//! durations, for each (function, version), in per-minute buckets of the platform's wall
//! clock (`PlatformConfig::clock`), for the last [`RETENTION_MINUTES`] minutes.
//!
//! Traffic-shifting deployments read them to decide whether the new version is healthy (the
//! built-in error check and CloudWatch-like alarms); later metrics endpoints can read the same
//! [`VersionMetrics::window`]. An invocation through an alias counts under the version it was
//! routed to. The clock being the injectable one, tests move time by hand.
//!
//! Memory is bounded: at most [`KEYS_MAX`] (function, version) series, the least recently
//! recorded one evicted first, each at most [`RETENTION_MINUTES`] buckets.

use crate::clock::SharedClock;
use crate::model::FunctionVersion;
use crate::platform::Platform;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Width of one bucket: CloudWatch's standard resolution for Lambda's metrics.
pub const BUCKET_MS: i64 = 60_000;
/// Minutes kept: longer than any deployment's evaluation window (the longest canary bakes
/// 30 minutes) while bounding memory per series.
pub const RETENTION_MINUTES: i64 = 60;
/// (function, version) series kept; beyond it the least recently recorded is evicted. At
/// most ~60 buckets of ~56 bytes each, so the worst case stays under ~8 MB.
pub const KEYS_MAX: usize = 2048;

/// What happened in a span of time, for one version (or summed over several).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Invocations that ran (throttled requests are not invocations, as on Lambda).
    pub invocations: u64,
    /// Of which ended in a function error (error, crash, timeout, out of memory).
    pub errors: u64,
    /// Requests refused for concurrency or scaling rate.
    pub throttles: u64,
    /// Sum of the invocations' durations, ms.
    pub duration_sum_ms: f64,
    /// Longest duration, ms (0 without invocations).
    pub duration_max_ms: f64,
}

impl Totals {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Totals) {
        self.invocations += other.invocations;
        self.errors += other.errors;
        self.throttles += other.throttles;
        self.duration_sum_ms += other.duration_sum_ms;
        self.duration_max_ms = self.duration_max_ms.max(other.duration_max_ms);
    }
}

/// One minute of one series.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Minutes since the Unix epoch.
    minute: i64,
    totals: Totals,
}

/// One (function, version) series.
#[derive(Debug, Default)]
struct Series {
    /// Oldest first, at most one per minute.
    buckets: VecDeque<Bucket>,
    /// Recency stamp for eviction.
    last_used: u64,
}

impl Series {
    /// The bucket of `minute`, created if needed; `None` for a minute already dropped or
    /// older than the newest bucket (a clock moved back): such samples are not kept.
    fn bucket(&mut self, minute: i64) -> Option<&mut Totals> {
        match self.buckets.back().map(|b| b.minute) {
            Some(last) if last > minute => {
                return self
                    .buckets
                    .iter_mut()
                    .rev()
                    .find(|b| b.minute == minute)
                    .map(|b| &mut b.totals);
            }
            Some(last) if last == minute => {}
            _ => self.buckets.push_back(Bucket {
                minute,
                totals: Totals::default(),
            }),
        }
        while self
            .buckets
            .front()
            .is_some_and(|b| b.minute <= minute - RETENTION_MINUTES)
        {
            self.buckets.pop_front();
        }
        self.buckets.back_mut().map(|b| &mut b.totals)
    }
}

/// A sample to record.
#[derive(Debug, Clone, Copy)]
enum Sample {
    Ran {
        function_error: bool,
        duration_ms: f64,
    },
    Throttled,
}

/// The metrics of every recently invoked version.
#[derive(Debug)]
pub struct VersionMetrics {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    series: HashMap<(String, String), Series>,
    tick: u64,
}

/// Minutes since the epoch of a wall time in ms.
fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(BUCKET_MS)
}

impl VersionMetrics {
    /// Empty metrics on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        VersionMetrics {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one invocation of `function`'s `version` that ran.
    pub fn record_invocation(
        &self,
        function: &str,
        version: &str,
        function_error: bool,
        duration_ms: f64,
    ) {
        self.record(
            function,
            version,
            Sample::Ran {
                function_error,
                duration_ms,
            },
        );
    }

    /// Records one throttled request for `function`'s `version`.
    pub fn record_throttle(&self, function: &str, version: &str) {
        self.record(function, version, Sample::Throttled);
    }

    fn record(&self, function: &str, version: &str, sample: Sample) {
        let minute = minute_of(self.clock.now_ms());
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let key = (function.to_string(), version.to_string());
        if !inner.series.contains_key(&key) && inner.series.len() >= KEYS_MAX {
            let oldest = inner
                .series
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.series.remove(&oldest);
            }
        }
        let series = inner.series.entry(key).or_default();
        series.last_used = tick;
        let Some(totals) = series.bucket(minute) else {
            return;
        };
        match sample {
            Sample::Ran {
                function_error,
                duration_ms,
            } => {
                totals.invocations += 1;
                totals.errors += u64::from(function_error);
                totals.duration_sum_ms += duration_ms;
                totals.duration_max_ms = totals.duration_max_ms.max(duration_ms);
            }
            Sample::Throttled => totals.throttles += 1,
        }
    }

    /// Totals of `function`'s `version` over the minute buckets that overlap
    /// `[from_ms, to_ms)` (minute granularity) within the last [`RETENTION_MINUTES`].
    pub fn window(&self, function: &str, version: &str, from_ms: i64, to_ms: i64) -> Totals {
        self.collect(from_ms, to_ms, |f, v| f == function && v == version)
    }

    /// [`VersionMetrics::window`] summed over every version of `function`.
    pub fn window_all_versions(&self, function: &str, from_ms: i64, to_ms: i64) -> Totals {
        self.collect(from_ms, to_ms, |f, _| f == function)
    }

    /// Totals per minute of `function`'s `version` (`None`: every version) for the minutes
    /// `first_minute..first_minute + count` (minutes since the epoch), missing minutes zero.
    pub fn minutes(
        &self,
        function: &str,
        version: Option<&str>,
        first_minute: i64,
        count: usize,
    ) -> Vec<Totals> {
        let count = count.min(RETENTION_MINUTES as usize);
        let mut out = vec![Totals::default(); count];
        let oldest = self.oldest_kept_minute();
        let inner = self.lock();
        for ((f, v), series) in &inner.series {
            if f != function || version.is_some_and(|want| want != v) {
                continue;
            }
            for b in &series.buckets {
                let Ok(i) = usize::try_from(b.minute - first_minute) else {
                    continue;
                };
                if b.minute >= oldest
                    && let Some(slot) = out.get_mut(i)
                {
                    slot.add(&b.totals);
                }
            }
        }
        out
    }

    fn oldest_kept_minute(&self) -> i64 {
        minute_of(self.clock.now_ms()) - RETENTION_MINUTES + 1
    }

    fn collect(&self, from_ms: i64, to_ms: i64, wanted: impl Fn(&str, &str) -> bool) -> Totals {
        let mut sum = Totals::default();
        if to_ms <= from_ms {
            return sum;
        }
        let first = minute_of(from_ms).max(self.oldest_kept_minute());
        let last = minute_of(to_ms - 1);
        let inner = self.lock();
        for ((f, v), series) in &inner.series {
            if !wanted(f, v) {
                continue;
            }
            for b in series
                .buckets
                .iter()
                .filter(|b| (first..=last).contains(&b.minute))
            {
                sum.add(&b.totals);
            }
        }
        sum
    }

    /// Series kept now (for tests and stats).
    pub fn series_count(&self) -> usize {
        self.lock().series.len()
    }
}

impl Platform {
    /// Per-version invocation metrics.
    pub fn version_metrics(&self) -> &VersionMetrics {
        &self.version_metrics
    }

    /// The invoke path's hook: an invocation of `function` ran.
    pub(crate) fn count_invocation(
        &self,
        function: &FunctionVersion,
        function_error: bool,
        duration_ms: f64,
    ) {
        self.version_metrics.record_invocation(
            &function.name,
            &function.version,
            function_error,
            duration_ms,
        );
    }

    /// The invoke path's hook: a request for `function` was throttled.
    pub(crate) fn count_throttle(&self, function: &FunctionVersion) {
        self.version_metrics
            .record_throttle(&function.name, &function.version);
        self.metrics
            .record_throttle(&function.name, &function.version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use std::sync::Arc;

    const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % BUCKET_MS;

    fn metrics() -> (Arc<ManualClock>, VersionMetrics) {
        let clock = Arc::new(ManualClock::new(T0));
        let m = VersionMetrics::new(clock.clone());
        (clock, m)
    }

    #[test]
    fn counts_per_version_and_window() {
        let (clock, m) = metrics();
        m.record_invocation("f", "1", false, 10.0);
        m.record_invocation("f", "2", true, 30.0);
        m.record_throttle("f", "2");
        clock.advance_ms(BUCKET_MS);
        m.record_invocation("f", "2", false, 50.0);
        let all = m.window("f", "2", T0, T0 + 2 * BUCKET_MS);
        assert_eq!(
            all,
            Totals {
                invocations: 2,
                errors: 1,
                throttles: 1,
                duration_sum_ms: 80.0,
                duration_max_ms: 50.0,
            }
        );
        // Only the second minute.
        let second = m.window("f", "2", T0 + BUCKET_MS, T0 + 2 * BUCKET_MS);
        assert_eq!(second.invocations, 1);
        assert_eq!(second.errors, 0);
        // A window inside a minute still sees that minute's bucket.
        assert_eq!(m.window("f", "2", T0 + 5, T0 + 6).invocations, 1);
        assert_eq!(m.window("f", "1", T0, T0 + 2 * BUCKET_MS).invocations, 1);
        assert_eq!(
            m.window("f", "3", T0, T0 + 2 * BUCKET_MS),
            Totals::default()
        );
        assert_eq!(
            m.window_all_versions("f", T0, T0 + 2 * BUCKET_MS)
                .invocations,
            3
        );
        assert_eq!(m.window("f", "2", T0, T0), Totals::default());
    }

    #[test]
    fn keeps_only_the_last_hour() {
        let (clock, m) = metrics();
        m.record_invocation("f", "1", false, 1.0);
        clock.advance_ms(RETENTION_MINUTES * BUCKET_MS);
        // Not recorded again: the old bucket is out of the window all the same.
        assert_eq!(m.window("f", "1", 0, i64::MAX).invocations, 0);
        m.record_invocation("f", "1", false, 1.0);
        assert_eq!(m.window("f", "1", 0, i64::MAX).invocations, 1);
        let minutes = m.minutes("f", Some("1"), minute_of(clock.now_ms()) - 1, 2);
        assert_eq!(minutes[0].invocations, 0);
        assert_eq!(minutes[1].invocations, 1);
    }

    #[test]
    fn a_clock_moved_back_does_not_reorder_buckets() {
        let (clock, m) = metrics();
        clock.advance_ms(2 * BUCKET_MS);
        m.record_invocation("f", "1", false, 1.0);
        clock.advance_ms(-2 * BUCKET_MS);
        // An older minute than the newest bucket, not present: not kept.
        m.record_invocation("f", "1", false, 1.0);
        clock.advance_ms(2 * BUCKET_MS);
        m.record_invocation("f", "1", true, 1.0);
        let t = m.window("f", "1", T0, T0 + 3 * BUCKET_MS);
        assert_eq!((t.invocations, t.errors), (2, 1));
    }

    #[test]
    fn the_least_recently_used_series_is_evicted() {
        let (_clock, m) = metrics();
        for i in 0..KEYS_MAX {
            m.record_invocation("f", &i.to_string(), false, 1.0);
        }
        // Touch version 0 so version 1 is the least recently used.
        m.record_invocation("f", "0", false, 1.0);
        m.record_invocation("g", "1", false, 1.0);
        assert_eq!(m.series_count(), KEYS_MAX);
        assert_eq!(m.window("f", "0", T0, T0 + BUCKET_MS).invocations, 2);
        assert_eq!(m.window("f", "1", T0, T0 + BUCKET_MS).invocations, 0);
        assert_eq!(m.window("g", "1", T0, T0 + BUCKET_MS).invocations, 1);
    }
}
