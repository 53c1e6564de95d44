//! `rate(N unit)`: a fixed period counted from an anchor.
//!
//! A day is 24 hours whatever the time zone (EventBridge Scheduler evaluates `rate(1 day)` 24
//! hours after the last invocation, across DST changes too), so a rate is plain millisecond
//! arithmetic.

use crate::ScheduleError;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) period_ms: i64,
    /// Slots are `anchor_ms + k × period_ms`, k ≥ 0.
    pub(crate) anchor_ms: i64,
}

impl Rate {
    /// `inner` is what stands between `rate(` and `)`: `"5 minutes"`.
    pub(crate) fn parse(expr: &str, inner: &str) -> Result<Self, ScheduleError> {
        let invalid = |reason: &str| ScheduleError::invalid(expr, reason);
        let (value, unit) = inner
            .split_once(' ')
            .ok_or_else(|| invalid("rate needs a value and a unit: rate(5 minutes)"))?;
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the rate value must be a positive whole number"));
        }
        // u32: value × one day in ms stays far inside i64.
        let value: u32 = value
            .parse()
            .map_err(|_| invalid("the rate value is too large"))?;
        if value == 0 {
            return Err(invalid("the rate value must be positive"));
        }
        let unit_ms = match unit {
            "minute" | "minutes" => MINUTE_MS,
            "hour" | "hours" => HOUR_MS,
            "day" | "days" => DAY_MS,
            _ => {
                return Err(invalid(
                    "the rate unit must be minute(s), hour(s) or day(s)",
                ));
            }
        };
        let singular = !unit.ends_with('s');
        if singular != (value == 1) {
            return Err(invalid(
                "the unit is singular when the value is 1 and plural otherwise",
            ));
        }
        Ok(Rate {
            period_ms: i64::from(value) * unit_ms,
            anchor_ms: 0,
        })
    }

    pub(crate) fn next_after(&self, after_ms: i64) -> Option<i64> {
        if after_ms < self.anchor_ms {
            return Some(self.anchor_ms);
        }
        let k = (after_ms - self.anchor_ms).div_euclid(self.period_ms) + 1;
        k.checked_mul(self.period_ms)?.checked_add(self.anchor_ms)
    }

    pub(crate) fn last_at_or_before(&self, at_ms: i64) -> Option<i64> {
        if at_ms < self.anchor_ms {
            return None;
        }
        let k = (at_ms - self.anchor_ms).div_euclid(self.period_ms);
        Some(self.anchor_ms + k * self.period_ms)
    }
}
