//! Counters and the Duration histogram per (function, version), fed by the invoke path and
//! read by `GET /metrics`. Monotonic since start-up, as Prometheus counters must be.
//!
//! Label cardinality is capped: the first [`SERIES_MAX`] (function, version) pairs get
//! series of their own and keep them (no eviction: a counter that vanished and came back
//! would read as a reset); samples of any further pair are counted under
//! `function="__other__",version="__other__"`, and [`SeriesSnapshot::folded_samples`] says
//! how many were.

use super::exposition::HistogramValue;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// (function, version) series with their own labels: bounds the exposition of every
/// per-version metric to about a thousand lines each, which a Prometheus server scrapes
/// comfortably, and the memory to ~200 bytes per series.
pub const SERIES_MAX: usize = 1_000;

/// The label value that series beyond the cap are folded into. No version is named like
/// this, so the folded series never collides with a real one.
pub const OTHER: &str = "__other__";

/// Upper bounds (ms) of the Duration histogram's buckets: from a 1 ms warm call to Lambda's
/// 900 s maximum timeout, about 2.5× apart, so a quantile estimated from them is within one
/// bucket of the truth.
pub const DURATION_BUCKETS_MS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    30_000.0, 60_000.0, 300_000.0, 900_000.0,
];

/// Buckets including the one above the last bound.
const BUCKETS: usize = DURATION_BUCKETS_MS.len() + 1;

/// What one invocation that ran contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// It ended in a function error (error, crash, timeout, out of memory, init failure).
    pub function_error: bool,
    /// Its duration, ms (without Init, as in REPORT).
    pub duration_ms: f64,
    /// It needed a new environment.
    pub cold: bool,
    /// It ran on a provisioned-concurrency environment.
    pub provisioned: bool,
    /// Its function has provisioned concurrency but it ran on on-demand capacity.
    pub spillover: bool,
}

/// The counters of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// Invocations that ran.
    pub invocations: u64,
    /// Of which ended in a function error.
    pub errors: u64,
    /// Requests throttled.
    pub throttles: u64,
    /// Invocations that needed a new environment.
    pub cold_starts: u64,
    /// Invocations on provisioned-concurrency environments.
    pub provisioned_invocations: u64,
    /// Invocations of a function with provisioned concurrency that ran on on-demand capacity.
    pub spillover_invocations: u64,
    /// Durations per bucket of [`DURATION_BUCKETS_MS`] (not cumulative).
    duration_buckets: [u64; BUCKETS],
    /// Sum of durations, ms.
    pub duration_sum_ms: f64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            invocations: 0,
            errors: 0,
            throttles: 0,
            cold_starts: 0,
            provisioned_invocations: 0,
            spillover_invocations: 0,
            duration_buckets: [0; BUCKETS],
            duration_sum_ms: 0.0,
        }
    }
}

impl Counts {
    fn observe(&mut self, o: &Observation) {
        self.invocations += 1;
        self.errors += u64::from(o.function_error);
        self.cold_starts += u64::from(o.cold);
        self.provisioned_invocations += u64::from(o.provisioned);
        self.spillover_invocations += u64::from(o.spillover);
        let duration = if o.duration_ms.is_finite() {
            o.duration_ms.max(0.0)
        } else {
            0.0
        };
        let bucket = DURATION_BUCKETS_MS
            .iter()
            .position(|bound| duration <= *bound)
            .unwrap_or(BUCKETS - 1);
        self.duration_buckets[bucket] += 1;
        self.duration_sum_ms += duration;
    }

    /// The Duration histogram of this series.
    pub fn duration(&self) -> HistogramValue {
        HistogramValue {
            bounds: DURATION_BUCKETS_MS,
            counts: self.duration_buckets.to_vec(),
            sum: self.duration_sum_ms,
        }
    }
}

/// One series as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Function name (or [`OTHER`]).
    pub function: String,
    /// Version (or [`OTHER`]).
    pub version: String,
    /// Its counters.
    pub counts: Counts,
}

/// Every series, ordered by function then version, the folded one last.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesSnapshot {
    /// The series (the folded one, if anything was folded, is last).
    pub series: Vec<Series>,
    /// Samples (invocations and throttles) counted under [`OTHER`] because of the cap.
    pub folded_samples: u64,
}

/// Orders versions as people read them: `$LATEST`, then published versions by number.
fn version_key(version: &str) -> (Option<u64>, &str) {
    (version.parse().ok(), version)
}

/// The per-version counters.
#[derive(Debug, Default)]
pub struct SeriesTable {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// function → version → counters (looked up by `&str`, allocated once per series).
    by_function: HashMap<String, HashMap<String, Counts>>,
    series: usize,
    other: Option<Counts>,
    folded_samples: u64,
}

impl SeriesTable {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Counters stay consistent under every update; a panic elsewhere must not stop them.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an invocation of `function`'s `version` that ran.
    pub fn observe(&self, function: &str, version: &str, o: &Observation) {
        self.update(function, version, |c| c.observe(o));
    }

    /// Counts a throttled request for `function`'s `version`.
    pub fn throttle(&self, function: &str, version: &str) {
        self.update(function, version, |c| c.throttles += 1);
    }

    fn update(&self, function: &str, version: &str, f: impl FnOnce(&mut Counts)) {
        let mut inner = self.lock();
        if let Some(counts) = inner
            .by_function
            .get_mut(function)
            .and_then(|versions| versions.get_mut(version))
        {
            f(counts);
            return;
        }
        if inner.series < SERIES_MAX {
            inner.series += 1;
            let counts = inner
                .by_function
                .entry(function.to_string())
                .or_default()
                .entry(version.to_string())
                .or_default();
            f(counts);
            return;
        }
        inner.folded_samples += 1;
        f(inner.other.get_or_insert_with(Counts::default));
    }

    /// Every series now.
    pub fn snapshot(&self) -> SeriesSnapshot {
        let inner = self.lock();
        let mut series: Vec<Series> = inner
            .by_function
            .iter()
            .flat_map(|(function, versions)| {
                versions.iter().map(move |(version, counts)| Series {
                    function: function.clone(),
                    version: version.clone(),
                    counts: counts.clone(),
                })
            })
            .collect();
        series.sort_by(|a, b| {
            (&a.function, version_key(&a.version)).cmp(&(&b.function, version_key(&b.version)))
        });
        if let Some(other) = &inner.other {
            series.push(Series {
                function: OTHER.to_string(),
                version: OTHER.to_string(),
                counts: other.clone(),
            });
        }
        SeriesSnapshot {
            series,
            folded_samples: inner.folded_samples,
        }
    }

    /// The versions of `function` with a series of their own, sorted.
    pub fn versions_of(&self, function: &str) -> Vec<String> {
        let inner = self.lock();
        let mut versions: Vec<String> = inner
            .by_function
            .get(function)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        versions.sort_by(|a, b| version_key(a).cmp(&version_key(b)));
        versions
    }

    /// Functions with a series of their own, sorted.
    pub fn functions(&self) -> Vec<String> {
        let mut functions: Vec<String> = self.lock().by_function.keys().cloned().collect();
        functions.sort();
        functions
    }
}

/// What happened to one function's asynchronous events (CloudWatch reports these per
/// function, without a version: an event is accepted before a version is chosen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsyncCounts {
    /// Events accepted (AsyncEventsReceived).
    pub received: u64,
    /// Events that ended without a successful run: retries exhausted or too old
    /// (AsyncEventsDropped).
    pub dropped: u64,
    /// Dead-letter queue deliveries that failed (DeadLetterErrors).
    pub dead_letter_errors: u64,
    /// OnSuccess/OnFailure destination deliveries that failed (DestinationDeliveryFailures).
    pub destination_delivery_failures: u64,
}

/// One event of [`AsyncCounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncSample {
    /// Accepted.
    Received,
    /// Ended without success.
    Dropped,
    /// Its dead-letter delivery failed.
    DeadLetterError,
    /// A destination delivery failed.
    DestinationDeliveryFailure,
}

/// Per-function asynchronous counters, capped like [`SeriesTable`]: the first
/// [`SERIES_MAX`] functions get series of their own, the rest count under [`OTHER`].
#[derive(Debug, Default)]
pub struct AsyncTable {
    inner: Mutex<AsyncInner>,
}

#[derive(Debug, Default)]
struct AsyncInner {
    by_function: HashMap<String, AsyncCounts>,
    other: Option<AsyncCounts>,
    folded_samples: u64,
}

impl AsyncTable {
    /// Counts `sample` for `function`.
    pub fn add(&self, function: &str, sample: AsyncSample) {
        // Counters stay consistent under every update; a panic elsewhere must not stop them.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *inner;
        let counts = if let Some(c) = inner.by_function.get_mut(function) {
            c
        } else if inner.by_function.len() < SERIES_MAX {
            inner.by_function.entry(function.to_string()).or_default()
        } else {
            inner.folded_samples += 1;
            inner.other.get_or_insert_with(AsyncCounts::default)
        };
        match sample {
            AsyncSample::Received => counts.received += 1,
            AsyncSample::Dropped => counts.dropped += 1,
            AsyncSample::DeadLetterError => counts.dead_letter_errors += 1,
            AsyncSample::DestinationDeliveryFailure => counts.destination_delivery_failures += 1,
        }
    }

    /// Every function's counts by name, the folded ones last (as [`OTHER`]), and how many
    /// samples were folded.
    pub fn snapshot(&self) -> (Vec<(String, AsyncCounts)>, u64) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(String, AsyncCounts)> = inner
            .by_function
            .iter()
            .map(|(f, c)| (f.clone(), *c))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(other) = inner.other {
            rows.push((OTHER.to_string(), other));
        }
        (rows, inner.folded_samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(duration_ms: f64) -> Observation {
        Observation {
            function_error: false,
            duration_ms,
            cold: false,
            provisioned: false,
            spillover: false,
        }
    }

    #[test]
    fn counts_each_outcome() {
        let t = SeriesTable::default();
        t.observe(
            "f",
            "$LATEST",
            &Observation {
                cold: true,
                ..ran(3.0)
            },
        );
        t.observe(
            "f",
            "$LATEST",
            &Observation {
                function_error: true,
                ..ran(1.0)
            },
        );
        t.observe(
            "f",
            "$LATEST",
            &Observation {
                provisioned: true,
                ..ran(0.5)
            },
        );
        t.observe(
            "f",
            "$LATEST",
            &Observation {
                spillover: true,
                ..ran(2_000_000.0)
            },
        );
        t.throttle("f", "$LATEST");
        t.throttle("f", "2");
        let s = t.snapshot();
        assert_eq!(s.folded_samples, 0);
        assert_eq!(s.series.len(), 2);
        let latest = &s.series[0];
        assert_eq!(
            (latest.function.as_str(), latest.version.as_str()),
            ("f", "$LATEST")
        );
        let c = &latest.counts;
        assert_eq!(
            (
                c.invocations,
                c.errors,
                c.throttles,
                c.cold_starts,
                c.provisioned_invocations,
                c.spillover_invocations
            ),
            (4, 1, 1, 1, 1, 1)
        );
        let d = c.duration();
        assert_eq!(d.count(), 4);
        assert_eq!(d.sum, 2_000_004.5);
        // 0.5 and 1.0 in le=1 (bounds are inclusive), 3.0 in le=5, 2e6 above every bound.
        assert_eq!(d.counts[0], 2);
        assert_eq!(d.counts[2], 1);
        assert_eq!(d.counts[BUCKETS - 1], 1);
        let v2 = &s.series[1];
        assert_eq!(v2.version, "2");
        assert_eq!((v2.counts.invocations, v2.counts.throttles), (0, 1));
    }

    #[test]
    fn beyond_the_cap_series_fold_into_other() {
        let t = SeriesTable::default();
        for i in 0..SERIES_MAX {
            t.observe(&format!("f{i}"), "$LATEST", &ran(1.0));
        }
        // Existing series keep counting on their own.
        t.observe("f0", "$LATEST", &ran(1.0));
        // New ones fold, whatever their function or version.
        t.observe("new", "$LATEST", &ran(1.0));
        t.observe("f0", "7", &ran(1.0));
        t.throttle("another", "1");
        let s = t.snapshot();
        assert_eq!(s.series.len(), SERIES_MAX + 1);
        assert_eq!(s.folded_samples, 3);
        let other = s.series.last().expect("folded series");
        assert_eq!(
            (other.function.as_str(), other.version.as_str()),
            (OTHER, OTHER)
        );
        assert_eq!((other.counts.invocations, other.counts.throttles), (2, 1));
        let f0 = s
            .series
            .iter()
            .find(|x| x.function == "f0")
            .expect("f0 series");
        assert_eq!(f0.counts.invocations, 2);
        assert_eq!(t.versions_of("f0"), vec!["$LATEST".to_string()]);

        assert_eq!(t.functions().len(), SERIES_MAX);
    }

    #[test]
    fn versions_are_ordered_latest_first_then_by_number() {
        let t = SeriesTable::default();
        for v in ["10", "2", "$LATEST", "1"] {
            t.observe("g", v, &ran(1.0));
        }
        assert_eq!(t.versions_of("g"), ["$LATEST", "1", "2", "10"]);
        let order: Vec<String> = t.snapshot().series.into_iter().map(|s| s.version).collect();
        assert_eq!(order, ["$LATEST", "1", "2", "10"]);
    }

    #[test]
    fn non_finite_or_negative_durations_count_as_zero() {
        let t = SeriesTable::default();
        t.observe("f", "1", &ran(f64::NAN));
        t.observe("f", "1", &ran(-5.0));
        let d = t.snapshot().series[0].counts.duration();
        assert_eq!((d.counts[0], d.sum), (2, 0.0));
    }

    #[test]
    fn async_counts_are_per_function_and_capped() {
        let t = AsyncTable::default();
        t.add("f", AsyncSample::Received);
        t.add("f", AsyncSample::Received);
        t.add("f", AsyncSample::Dropped);
        t.add("f", AsyncSample::DeadLetterError);
        t.add("g", AsyncSample::DestinationDeliveryFailure);
        let (rows, folded) = t.snapshot();
        assert_eq!(folded, 0);
        assert_eq!(
            rows,
            vec![
                (
                    "f".to_string(),
                    AsyncCounts {
                        received: 2,
                        dropped: 1,
                        dead_letter_errors: 1,
                        destination_delivery_failures: 0
                    }
                ),
                (
                    "g".to_string(),
                    AsyncCounts {
                        destination_delivery_failures: 1,
                        ..AsyncCounts::default()
                    }
                ),
            ]
        );
        for i in 0..SERIES_MAX {
            t.add(&format!("fn-{i}"), AsyncSample::Received);
        }
        let (rows, folded) = t.snapshot();
        assert_eq!(rows.len(), SERIES_MAX + 1);
        assert_eq!(folded, 2);
        assert_eq!(
            rows.last().map(|r| (r.0.as_str(), r.1.received)),
            Some((OTHER, 2))
        );
    }
}
