//! Latency histograms (microseconds) and their percentiles.

use hdrhistogram::Histogram;
use std::time::Duration;

/// Largest latency recorded: one minute (longer values are clamped, never dropped).
const LATENCY_US_MAX: u64 = 60_000_000;
/// Significant decimal digits kept by the histograms (0.1 % resolution).
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in microseconds.
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Latencies {
    /// An empty histogram.
    pub fn new() -> anyhow::Result<Self> {
        let hist = Histogram::new_with_bounds(1, LATENCY_US_MAX, SIGNIFICANT_DIGITS)?;
        Ok(Self { hist })
    }

    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.hist.saturating_record(us);
    }

    /// Records a value already in microseconds.
    pub fn record_us(&mut self, us: f64) {
        self.hist.saturating_record((us.round() as u64).max(1));
    }

    /// Adds another histogram's values.
    pub fn merge(&mut self, other: &Latencies) -> anyhow::Result<()> {
        self.hist.add(&other.hist)?;
        Ok(())
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The value at quantile `q` (0..=1) in microseconds; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        self.hist.value_at_quantile(q) as f64
    }

    /// Median in microseconds.
    pub fn p50_us(&self) -> f64 {
        self.quantile_us(0.50)
    }

    /// 99th percentile in microseconds.
    pub fn p99_us(&self) -> f64 {
        self.quantile_us(0.99)
    }

    /// Median in milliseconds.
    pub fn p50_ms(&self) -> f64 {
        self.p50_us() / 1000.0
    }

    /// 99th percentile in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        self.p99_us() / 1000.0
    }
}

/// `a / b`, or 0 when `b` is 0 (so a failed measurement prints as 0, not inf).
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}
