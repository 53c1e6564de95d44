//! Admission: the one gate every invocation passes before it may touch an environment.
//! Decided in microseconds from counters, never by waiting for an environment.
//!
//! This holds the account-wide concurrency limit; reserved and provisioned concurrency build
//! on the same counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub use nimbus_api::error::ThrottleReason;

/// Concurrency counters.
pub struct Admission {
    limit: usize,
    in_flight: Arc<AtomicUsize>,
    throttles: AtomicU64,
}

/// Held for the life of one invocation; releases its slot when dropped.
pub struct Permit {
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// An account limit of `limit` concurrent executions.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            in_flight: Arc::new(AtomicUsize::new(0)),
            throttles: AtomicU64::new(0),
        }
    }

    /// Takes a slot, or says why not.
    pub fn try_acquire(&self) -> Result<Permit, ThrottleReason> {
        let taken = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Permit {
                in_flight: Arc::clone(&self.in_flight),
            }),
            Err(_) => {
                self.throttles.fetch_add(1, Ordering::Relaxed);
                Err(ThrottleReason::ConcurrentInvocationLimitExceeded)
            }
        }
    }

    /// The account limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Invocations running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Invocations refused so far.
    pub fn throttles(&self) -> u64 {
        self.throttles.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_admits_past_the_limit_and_frees_on_drop() {
        let a = Admission::new(2);
        let p1 = a.try_acquire().expect("first");
        let _p2 = a.try_acquire().expect("second");
        assert_eq!(
            a.try_acquire().err(),
            Some(ThrottleReason::ConcurrentInvocationLimitExceeded)
        );
        drop(p1);
        assert!(a.try_acquire().is_ok());
        assert_eq!(a.throttles(), 1);
    }
}
