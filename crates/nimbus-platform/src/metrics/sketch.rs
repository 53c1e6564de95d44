//! Duration sketches for the summary (`nimbus metrics`): per (function, version), one HDR
//! histogram (2 significant digits, µs) and the cold-start count per [`SLOT_MS`] slot of the
//! platform's wall clock, for the last [`SLOTS`] slots. p50/p99 over a window merge the slots
//! that overlap it.
//!
//! The Prometheus histogram has fixed buckets (good for `histogram_quantile` across
//! scrapes); these sketches give percentiles within 1% for the CLI and the console.
//! Memory is bounded: at most [`SKETCH_SERIES_MAX`] series, the least recently recorded
//! evicted first.

use crate::clock::SharedClock;
use hdrhistogram::Histogram;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Width of one slot: percentiles are per slot, so a window is rounded out to whole slots.
/// Five minutes keeps a series' memory small while `--since 15m` still means 15 to 20 minutes.
pub const SLOT_MS: i64 = 300_000;

/// Slots kept: an hour, as long as the per-version invocation counts are kept.
pub const SLOTS: i64 = 12;

/// (function, version) series with sketches. A slot's histogram grows to what it holds:
/// ~7 KB up to 1 s durations, ~12 KB at most (1,000 s), so at most ~37 MB in all.
pub const SKETCH_SERIES_MAX: usize = 256;

/// Significant decimal digits of the histograms: percentiles within 1%.
const SIGNIFICANT_DIGITS: u8 = 2;

/// Largest duration recorded, µs (longer ones count as this): above Lambda's 900 s timeout
/// plus a 10 s suppressed init, and it bounds each histogram's size.
const DURATION_US_MAX: u64 = 1_000_000_000;

/// One slot of one series.
#[derive(Debug, Clone)]
struct Slot {
    /// Slot number (`ms / SLOT_MS`).
    index: i64,
    /// Durations in µs.
    durations: Histogram<u32>,
    /// Invocations that needed a new environment.
    cold_starts: u64,
}

#[derive(Debug, Default)]
struct SketchSeries {
    /// Oldest first, at most one per slot index.
    slots: VecDeque<Slot>,
    /// Recency stamp for eviction.
    last_used: u64,
}

/// What the sketches say about a window.
#[derive(Debug, Clone, Default)]
pub struct SketchTotals {
    /// Invocations recorded.
    pub invocations: u64,
    /// Of which cold.
    pub cold_starts: u64,
    /// Their durations (µs); `None` when nothing was recorded.
    durations: Option<Histogram<u32>>,
}

impl SketchTotals {
    /// The duration below which `quantile` of them fell, ms; `None` without invocations.
    pub fn duration_ms_at(&self, quantile: f64) -> Option<f64> {
        let h = self.durations.as_ref().filter(|h| !h.is_empty())?;
        Some(h.value_at_quantile(quantile) as f64 / 1000.0)
    }

    fn add_slot(&mut self, slot: &Slot) {
        self.invocations += slot.durations.len();
        self.cold_starts += slot.cold_starts;
        match &mut self.durations {
            Some(h) => {
                // Both auto-resize, so an addition cannot run out of range.
                if h.add(&slot.durations).is_err() {
                    tracing::debug!("could not merge duration sketches");
                }
            }
            None => self.durations = Some(slot.durations.clone()),
        }
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &SketchTotals) {
        self.invocations += other.invocations;
        self.cold_starts += other.cold_starts;
        match (&mut self.durations, &other.durations) {
            (Some(h), Some(o)) => {
                if h.add(o).is_err() {
                    tracing::debug!("could not merge duration sketches");
                }
            }
            (None, Some(o)) => self.durations = Some(o.clone()),
            (_, None) => {}
        }
    }
}

/// The sketches of every recently invoked version.
#[derive(Debug)]
pub struct Sketches {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// function → version → sketch (looked up by `&str`: no allocation per invocation).
    series: HashMap<String, HashMap<String, SketchSeries>>,
    /// Series in `series`.
    count: usize,
    tick: u64,
}

impl Inner {
    fn get(&self, function: &str, version: &str) -> Option<&SketchSeries> {
        self.series.get(function)?.get(version)
    }

    /// Removes the least recently recorded series.
    fn evict_oldest(&mut self) {
        let oldest = self
            .series
            .iter()
            .flat_map(|(f, versions)| versions.iter().map(move |(v, s)| (s.last_used, f, v)))
            .min()
            .map(|(_, f, v)| (f.clone(), v.clone()));
        let Some((function, version)) = oldest else {
            return;
        };
        if let Some(versions) = self.series.get_mut(&function) {
            versions.remove(&version);
            if versions.is_empty() {
                self.series.remove(&function);
            }
        }
        self.count = self.count.saturating_sub(1);
    }
}

fn slot_of(ms: i64) -> i64 {
    ms.div_euclid(SLOT_MS)
}

fn new_histogram() -> Option<Histogram<u32>> {
    Histogram::new(SIGNIFICANT_DIGITS).ok()
}

impl Sketches {
    /// Empty sketches on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Sketches {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one invocation of `function`'s `version`.
    pub fn record(&self, function: &str, version: &str, duration_ms: f64, cold: bool) {
        let index = slot_of(self.clock.now_ms());
        let micros = if duration_ms.is_finite() && duration_ms > 0.0 {
            ((duration_ms * 1000.0).round() as u64).min(DURATION_US_MAX)
        } else {
            0
        };
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if inner.get(function, version).is_none() {
            if inner.count >= SKETCH_SERIES_MAX {
                inner.evict_oldest();
            }
            inner.count += 1;
            inner
                .series
                .entry(function.to_string())
                .or_default()
                .insert(version.to_string(), SketchSeries::default());
        }
        let Some(series) = inner
            .series
            .get_mut(function)
            .and_then(|versions| versions.get_mut(version))
        else {
            return;
        };
        series.last_used = tick;
        let Some(slot) = slot_mut(series, index) else {
            return;
        };
        if slot.durations.record(micros).is_err() {
            slot.durations.saturating_record(micros);
        }
        slot.cold_starts += u64::from(cold);
    }

    /// What `function`'s `version` recorded in the slots overlapping `[from_ms, to_ms)`
    /// within the last [`SLOTS`].
    pub fn window(&self, function: &str, version: &str, from_ms: i64, to_ms: i64) -> SketchTotals {
        let mut totals = SketchTotals::default();
        if to_ms <= from_ms {
            return totals;
        }
        let oldest = slot_of(self.clock.now_ms()) - SLOTS + 1;
        let first = slot_of(from_ms).max(oldest);
        let last = slot_of(to_ms - 1);
        let inner = self.lock();
        let Some(series) = inner.get(function, version) else {
            return totals;
        };
        for slot in series
            .slots
            .iter()
            .filter(|s| (first..=last).contains(&s.index))
        {
            totals.add_slot(slot);
        }
        totals
    }

    /// Series kept now.
    pub fn series_count(&self) -> usize {
        self.lock().count
    }
}

/// The slot `index` of `series`, created if needed (dropping slots older than [`SLOTS`]);
/// `None` for a slot older than the newest one that is not kept (a clock moved back).
fn slot_mut(series: &mut SketchSeries, index: i64) -> Option<&mut Slot> {
    match series.slots.back().map(|s| s.index) {
        Some(last) if last > index => {
            return series.slots.iter_mut().rev().find(|s| s.index == index);
        }
        Some(last) if last == index => {}
        _ => series.slots.push_back(Slot {
            index,
            durations: new_histogram()?,
            cold_starts: 0,
        }),
    }
    while series
        .slots
        .front()
        .is_some_and(|s| s.index <= index - SLOTS)
    {
        series.slots.pop_front();
    }
    series.slots.back_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    const T0: i64 = 1_700_000_100_000 - 1_700_000_100_000 % SLOT_MS;

    fn sketches() -> (Arc<ManualClock>, Sketches) {
        let clock = Arc::new(ManualClock::new(T0));
        let s = Sketches::new(clock.clone());
        (clock, s)
    }

    #[test]
    fn percentiles_and_cold_starts_over_a_window() {
        let (clock, s) = sketches();
        // 1..=100 ms, the first one cold.
        for i in 1..=100 {
            s.record("f", "1", f64::from(i), i == 1);
        }
        let w = s.window("f", "1", T0, T0 + SLOT_MS);
        assert_eq!((w.invocations, w.cold_starts), (100, 1));
        let p50 = w.duration_ms_at(0.5).expect("p50");
        let p99 = w.duration_ms_at(0.99).expect("p99");
        assert!((p50 - 50.0).abs() <= 0.5, "p50 {p50}");
        assert!((p99 - 99.0).abs() <= 1.0, "p99 {p99}");
        // The next slot, then both together.
        clock.advance_ms(SLOT_MS);
        s.record("f", "1", 1000.0, true);
        let next = s.window("f", "1", T0 + SLOT_MS, T0 + 2 * SLOT_MS);
        assert_eq!((next.invocations, next.cold_starts), (1, 1));
        let both = s.window("f", "1", T0, T0 + 2 * SLOT_MS);
        assert_eq!((both.invocations, both.cold_starts), (101, 2));
        let mut sum = s.window("f", "1", T0, T0 + SLOT_MS);
        sum.add(&next);
        assert_eq!(sum.invocations, 101);
        assert!(sum.duration_ms_at(1.0).expect("max") >= 999.0);
        // Nothing for another version or an empty window.
        assert!(
            s.window("f", "2", T0, T0 + SLOT_MS)
                .duration_ms_at(0.5)
                .is_none()
        );
        assert_eq!(s.window("f", "1", T0, T0).invocations, 0);
    }

    #[test]
    fn old_slots_are_dropped() {
        let (clock, s) = sketches();
        s.record("f", "1", 5.0, false);
        clock.advance_ms(SLOTS * SLOT_MS);
        assert_eq!(s.window("f", "1", 0, i64::MAX).invocations, 0);
        s.record("f", "1", 5.0, false);
        assert_eq!(s.window("f", "1", 0, i64::MAX).invocations, 1);
    }

    #[test]
    fn huge_durations_are_clamped() {
        let (_clock, s) = sketches();
        s.record("f", "1", 1e12, false);
        s.record("f", "1", f64::NAN, false);
        let w = s.window("f", "1", T0, T0 + SLOT_MS);
        assert_eq!(w.invocations, 2);
        let max = w.duration_ms_at(1.0).expect("max");
        assert!((max - 1_000_000.0).abs() / 1_000_000.0 < 0.01, "{max}");
    }

    #[test]
    fn the_least_recently_used_series_is_evicted() {
        let (_clock, s) = sketches();
        for i in 0..SKETCH_SERIES_MAX {
            s.record("f", &i.to_string(), 1.0, false);
        }
        s.record("f", "0", 1.0, false);
        s.record("g", "1", 1.0, false);
        assert_eq!(s.series_count(), SKETCH_SERIES_MAX);
        assert_eq!(s.window("f", "0", T0, T0 + SLOT_MS).invocations, 2);
        assert_eq!(s.window("f", "1", T0, T0 + SLOT_MS).invocations, 0);
        assert_eq!(s.window("g", "1", T0, T0 + SLOT_MS).invocations, 1);
    }
}
