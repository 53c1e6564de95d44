//! The retry policy of asynchronous events, as pure functions of counts and times (unit- and
//! property-tested without a clock).
//!
//! * A function error (error, timeout, crash) counts an attempt; the event is retried after
//!   ~1 min, then ~2 min, up to `MaximumRetryAttempts` retries.
//! * A throttle or platform error counts no attempt; the event is retried after a backoff
//!   growing from 1 s to 5 min, for as long as it is younger than `MaximumEventAgeInSeconds`.
//! * An event older than its maximum age when it comes due expires.
//!
//! Every delay is multiplied by the configured time scale (1.0 = Lambda's timing).

use crate::limits::{
    ASYNC_BACKOFF_MAX, ASYNC_BACKOFF_MIN, ASYNC_RETRY_DELAY_FIRST, ASYNC_RETRY_DELAY_SECOND,
};
use std::time::Duration;

/// How an event ended (the invocation record's `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    /// The function succeeded.
    Success,
    /// Function errors used up the retries (or the event could not be retried at all).
    RetriesExhausted,
    /// The event grew older than its maximum age first.
    EventAgeExceeded,
}

impl Condition {
    /// The record's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        }
    }

    /// The terminal state it leads to.
    pub(crate) fn terminal_state(self) -> &'static str {
        use nimbus_store::events::state;
        match self {
            Condition::Success => state::SUCCEEDED,
            Condition::RetriesExhausted => state::FAILED,
            Condition::EventAgeExceeded => state::EXPIRED,
        }
    }
}

/// What to do with an event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Try again at this time (ms since the epoch).
    RetryAt(i64),
    /// Stop: failure handling with this condition.
    Settle(Condition),
}

/// The time scale of asynchronous delays.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    scale: f64,
}

impl Timing {
    /// `scale` multiplies every delay and age (non-finite or negative values mean 1.0).
    pub(crate) fn new(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self { scale }
    }

    /// A duration on this scale, in milliseconds (at least 1).
    pub(crate) fn ms(&self, d: Duration) -> i64 {
        ((d.as_secs_f64() * 1000.0 * self.scale).round() as i64).max(1)
    }

    /// `MaximumEventAgeInSeconds` on this scale.
    pub(crate) fn max_age_ms(&self, max_age_s: i64) -> i64 {
        self.ms(Duration::from_secs(u64::try_from(max_age_s).unwrap_or(0)))
    }

    /// After a function error: `attempts` attempts are done (≥ 1), `max_retries` allowed.
    pub(crate) fn after_function_error(
        &self,
        attempts: i64,
        max_retries: i64,
        now_ms: i64,
    ) -> Next {
        if attempts > max_retries {
            return Next::Settle(Condition::RetriesExhausted);
        }
        let delay = if attempts <= 1 {
            ASYNC_RETRY_DELAY_FIRST
        } else {
            ASYNC_RETRY_DELAY_SECOND
        };
        Next::RetryAt(now_ms + self.ms(delay))
    }

    /// After a throttle or platform error: `retries` of them so far (≥ 1). The retry never
    /// lands past the event's expiry, so an event that cannot get through expires on time.
    pub(crate) fn after_system_error(&self, retries: i64, now_ms: i64, expires_ms: i64) -> i64 {
        let doublings = u32::try_from(retries.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
        let backoff = ASYNC_BACKOFF_MIN
            .saturating_mul(1u32 << doublings)
            .min(ASYNC_BACKOFF_MAX);
        (now_ms + self.ms(backoff)).min(expires_ms.max(now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn function_errors_retry_after_one_then_two_minutes() {
        let t = Timing::new(1.0);
        assert_eq!(t.after_function_error(1, 2, 0), Next::RetryAt(60_000));
        assert_eq!(t.after_function_error(2, 2, 60_000), Next::RetryAt(180_000));
        assert_eq!(
            t.after_function_error(3, 2, 180_000),
            Next::Settle(Condition::RetriesExhausted)
        );
        assert_eq!(
            t.after_function_error(1, 0, 0),
            Next::Settle(Condition::RetriesExhausted)
        );
        let fast = Timing::new(0.01);
        assert_eq!(fast.after_function_error(1, 2, 0), Next::RetryAt(600));
    }

    #[test]
    fn system_errors_back_off_from_1_s_to_5_min_within_the_age() {
        let t = Timing::new(1.0);
        let far = i64::MAX / 2;
        let delays: Vec<i64> = (1..=12).map(|n| t.after_system_error(n, 0, far)).collect();
        assert_eq!(
            delays,
            [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
                300_000, 300_000
            ]
        );
        assert_eq!(
            t.after_system_error(5, 1_000, 5_000),
            5_000,
            "capped at the expiry"
        );
    }

    proptest! {
        /// Whatever the sequence of failures, an event gets at most max_retries + 1 function
        /// attempts, retries move forward in time, and nothing is retried past its expiry.
        #[test]
        fn attempts_are_bounded_and_time_moves_forward(
            max_retries in 0i64..=2,
            failures in proptest::collection::vec(any::<bool>(), 1..60),
            scale in prop_oneof![Just(1.0f64), Just(0.01), Just(0.001)],
        ) {
            let t = Timing::new(scale);
            let received = 0i64;
            let expires = t.max_age_ms(3_600);
            let (mut now, mut attempts, mut system) = (received, 0i64, 0i64);
            let mut ended = false;
            for function_error in failures {
                if now > expires { ended = true; break; }
                if function_error {
                    attempts += 1;
                    match t.after_function_error(attempts, max_retries, now) {
                        Next::RetryAt(at) => { prop_assert!(at > now); now = at; }
                        Next::Settle(c) => {
                            prop_assert_eq!(c, Condition::RetriesExhausted);
                            prop_assert_eq!(attempts, max_retries + 1);
                            ended = true;
                            break;
                        }
                    }
                } else {
                    system += 1;
                    let at = t.after_system_error(system, now, expires);
                    prop_assert!(at >= now && at <= expires.max(now));
                    now = at.max(now + 1);
                }
            }
            prop_assert!(attempts <= max_retries + 1);
            let _ = ended;
        }
    }
}
