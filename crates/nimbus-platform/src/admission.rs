//! Admission: the one gate every invocation passes before it may touch an environment.
//! Decided in microseconds from counters under one lock, never by waiting for an environment.
//!
//! The model (Lambda's):
//! * the account has `A` concurrent executions;
//! * a function with reserved concurrency `R` may run at most `R` at once and can always run
//!   `R` (its share is taken out of the account's pool: `ReservedFunctionConcurrentInvocation
//!   LimitExceeded` past it; `R = 0` disables the function);
//! * every other function shares the unreserved pool `A − ΣR`;
//! * provisioned concurrency `P` of an unreserved function is carved out of that pool too, so
//!   its pre-warmed capacity is always there; invocations beyond `P` spill over to on-demand
//!   capacity from the pool (`ConcurrentInvocationLimitExceeded` when it is used up). For a
//!   reserved function, `P ≤ R` and everything comes out of `R`.
//!
//! Invariants (checked by a property test): at the moment of any admission, total in-flight
//! ≤ A, a reserved function's in-flight ≤ R, the unreserved on-demand in-flight ≤ A − ΣR − ΣP
//! (unreserved functions), and a request that a free reservation or free provisioned slot
//! covers is never refused.

pub use nimbus_api::error::ThrottleReason;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use nimbus_api::limits::UNRESERVED_CONCURRENCY_MIN;

/// Which capacity one admitted invocation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A provisioned (pre-warmed) slot of the function.
    Provisioned,
    /// On-demand capacity: the function's reservation or the unreserved pool.
    OnDemand,
}

#[derive(Debug, Default, Clone)]
struct Function {
    reserved: Option<u32>,
    provisioned: u32,
    in_flight: u32,
    provisioned_in_flight: u32,
}

#[derive(Debug, Default)]
struct State {
    account_limit: u32,
    /// What must stay unreserved ([`UNRESERVED_CONCURRENCY_MIN`]; smaller in tests so that
    /// every limit is reachable with a handful of invocations).
    unreserved_min: u32,
    functions: HashMap<String, Function>,
    /// Σ R over functions with a reservation.
    reserved_total: u32,
    /// Σ P over functions without a reservation.
    provisioned_unreserved_total: u32,
    /// On-demand in-flight of functions without a reservation.
    unreserved_on_demand: u32,
    in_flight: u32,
    throttles: HashMap<&'static str, u64>,
    spillovers: u64,
}

impl State {
    fn unreserved_pool(&self) -> u32 {
        self.account_limit.saturating_sub(self.reserved_total)
    }

    fn unreserved_on_demand_limit(&self) -> u32 {
        self.unreserved_pool()
            .saturating_sub(self.provisioned_unreserved_total)
    }

    fn throttle(&mut self, reason: ThrottleReason) -> ThrottleReason {
        *self.throttles.entry(reason.as_str()).or_insert(0) += 1;
        reason
    }
}

/// Why a concurrency setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The change would leave less than [`UNRESERVED_CONCURRENCY_MIN`] unreserved.
    #[error(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{minimum}]."
    )]
    UnreservedBelowMinimum {
        /// The account's unreserved minimum.
        minimum: u32,
    },
    /// Provisioned concurrency would exceed the function's reservation.
    #[error(
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
    )]
    ProvisionedOverReserved,
    /// A reservation below the provisioned concurrency already configured.
    #[error(
        "ReservedConcurrentExecutions ({reserved}) must be at least the function's provisioned concurrency ({provisioned})"
    )]
    ReservedBelowProvisioned {
        /// Requested reservation.
        reserved: u32,
        /// Provisioned concurrency configured.
        provisioned: u32,
    },
    /// Provisioned concurrency larger than what the unreserved pool can spare.
    #[error(
        "Requested Provisioned Concurrency exceeds the account's available concurrency: it would leave UnreservedConcurrentExecution below its minimum value of [{minimum}]."
    )]
    ProvisionedOverPool {
        /// The account's unreserved minimum.
        minimum: u32,
    },
}

/// Concurrency counters and settings.
#[derive(Clone)]
pub struct Admission {
    state: Arc<Mutex<State>>,
}

/// Held for the life of one invocation; releases its capacity when dropped.
pub struct Permit {
    state: Arc<Mutex<State>>,
    function: String,
    slot: Slot,
    reserved: bool,
}

impl Permit {
    /// The capacity this invocation holds.
    pub fn slot(&self) -> Slot {
        self.slot
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.in_flight = s.in_flight.saturating_sub(1);
        if !self.reserved && self.slot == Slot::OnDemand {
            s.unreserved_on_demand = s.unreserved_on_demand.saturating_sub(1);
        }
        if let Some(f) = s.functions.get_mut(&self.function) {
            f.in_flight = f.in_flight.saturating_sub(1);
            if self.slot == Slot::Provisioned {
                f.provisioned_in_flight = f.provisioned_in_flight.saturating_sub(1);
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The counters stay consistent under every operation; a panic elsewhere must not stop
    // admission.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdmissionStats {
    /// The account limit.
    pub account_limit: u32,
    /// Σ reserved concurrency.
    pub reserved_total: u32,
    /// Account limit minus reservations (what GetAccountSettings reports).
    pub unreserved: u32,
    /// Invocations running now.
    pub in_flight: u32,
    /// Throttles so far, by `Reason`.
    pub throttles: Vec<(String, u64)>,
    /// Invocations of functions with provisioned concurrency that ran on on-demand capacity.
    pub spillovers: u64,
}

/// One function's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionStats {
    /// Reserved concurrency.
    pub reserved: Option<u32>,
    /// Provisioned concurrency configured (all its versions and aliases).
    pub provisioned: u32,
    /// Invocations running now.
    pub in_flight: u32,
    /// Of which on provisioned capacity.
    pub provisioned_in_flight: u32,
}

impl Admission {
    /// An account of `account_limit` concurrent executions keeping Lambda's minimum
    /// unreserved (or all of it, for accounts smaller than that minimum).
    pub fn new(account_limit: u32) -> Self {
        Self::with_unreserved_minimum(account_limit, UNRESERVED_CONCURRENCY_MIN.min(account_limit))
    }

    /// An account whose reservations must leave `unreserved_min` unreserved.
    pub fn with_unreserved_minimum(account_limit: u32, unreserved_min: u32) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                account_limit,
                unreserved_min,
                ..State::default()
            })),
        }
    }

    /// Takes capacity for one invocation of `function`, or says why not.
    pub fn try_acquire(&self, function: &str) -> Result<Permit, ThrottleReason> {
        let mut s = lock(&self.state);
        let f = s.functions.get(function).cloned().unwrap_or_default();
        // The account total is a hard cap even while settings change under in-flight work
        // (e.g. a reservation lowered below what is running frees pool capacity early).
        if s.in_flight >= s.account_limit {
            let reason = if f.reserved.is_some() {
                ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded
            } else {
                ThrottleReason::ConcurrentInvocationLimitExceeded
            };
            return Err(s.throttle(reason));
        }
        let (slot, reserved) = match f.reserved {
            Some(limit) => {
                if f.in_flight >= limit {
                    return Err(s.throttle(
                        ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded,
                    ));
                }
                let slot = if f.provisioned_in_flight < f.provisioned {
                    Slot::Provisioned
                } else {
                    Slot::OnDemand
                };
                (slot, true)
            }
            None => {
                if f.provisioned_in_flight < f.provisioned {
                    (Slot::Provisioned, false)
                } else if s.unreserved_on_demand < s.unreserved_on_demand_limit() {
                    s.unreserved_on_demand += 1;
                    (Slot::OnDemand, false)
                } else {
                    return Err(s.throttle(ThrottleReason::ConcurrentInvocationLimitExceeded));
                }
            }
        };
        s.in_flight += 1;
        if slot == Slot::OnDemand && f.provisioned > 0 {
            s.spillovers += 1;
        }
        let entry = s.functions.entry(function.to_string()).or_default();
        entry.in_flight += 1;
        if slot == Slot::Provisioned {
            entry.provisioned_in_flight += 1;
        }
        drop(s);
        Ok(Permit {
            state: Arc::clone(&self.state),
            function: function.to_string(),
            slot,
            reserved,
        })
    }

    /// Counts a throttle decided elsewhere (the scaling-rate limiter).
    pub fn count_throttle(&self, reason: ThrottleReason) {
        lock(&self.state).throttle(reason);
    }

    /// Checks a reservation change without applying it.
    pub fn check_reserved(&self, function: &str, reserved: Option<u32>) -> Result<(), ConfigError> {
        let s = lock(&self.state);
        let f = s.functions.get(function).cloned().unwrap_or_default();
        if let Some(r) = reserved
            && r < f.provisioned
        {
            return Err(ConfigError::ReservedBelowProvisioned {
                reserved: r,
                provisioned: f.provisioned,
            });
        }
        // In i64: a request may be as large as the wire allows.
        let reserved_total = i64::from(s.reserved_total) - i64::from(f.reserved.unwrap_or(0))
            + i64::from(reserved.unwrap_or(0));
        // A function's provisioned concurrency moves between its reservation and the pool.
        let moved_out = if f.reserved.is_none() {
            f.provisioned
        } else {
            0
        };
        let moved_in = if reserved.is_none() { f.provisioned } else { 0 };
        let provisioned_unreserved =
            i64::from(s.provisioned_unreserved_total) - i64::from(moved_out) + i64::from(moved_in);
        let unreserved = i64::from(s.account_limit) - reserved_total - provisioned_unreserved;
        if unreserved < i64::from(s.unreserved_min) {
            return Err(ConfigError::UnreservedBelowMinimum {
                minimum: s.unreserved_min,
            });
        }
        Ok(())
    }

    /// Applies a reservation (`None` removes it). Call [`Admission::check_reserved`] first;
    /// in-flight invocations keep the capacity they hold.
    pub fn set_reserved(&self, function: &str, reserved: Option<u32>) {
        let mut s = lock(&self.state);
        let f = s.functions.entry(function.to_string()).or_default();
        let old = f.reserved;
        let provisioned = f.provisioned;
        f.reserved = reserved;
        s.reserved_total = s.reserved_total - old.unwrap_or(0) + reserved.unwrap_or(0);
        if old.is_none() {
            s.provisioned_unreserved_total -= provisioned;
        }
        if reserved.is_none() {
            s.provisioned_unreserved_total += provisioned;
        }
    }

    /// Checks a function's total provisioned concurrency without applying it.
    pub fn check_provisioned(&self, function: &str, provisioned: u32) -> Result<(), ConfigError> {
        let s = lock(&self.state);
        let f = s.functions.get(function).cloned().unwrap_or_default();
        match f.reserved {
            Some(r) if provisioned > r => Err(ConfigError::ProvisionedOverReserved),
            Some(_) => Ok(()),
            None => {
                let total = i64::from(s.provisioned_unreserved_total) - i64::from(f.provisioned)
                    + i64::from(provisioned);
                let left = i64::from(s.unreserved_pool()) - total;
                if left < i64::from(s.unreserved_min) {
                    Err(ConfigError::ProvisionedOverPool {
                        minimum: s.unreserved_min,
                    })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Applies a function's total provisioned concurrency (over its versions and aliases).
    pub fn set_provisioned(&self, function: &str, provisioned: u32) {
        let mut s = lock(&self.state);
        let f = s.functions.entry(function.to_string()).or_default();
        let old = f.provisioned;
        f.provisioned = provisioned;
        if f.reserved.is_none() {
            s.provisioned_unreserved_total = s.provisioned_unreserved_total - old + provisioned;
        }
    }

    /// Forgets a deleted function's settings (its in-flight invocations still release).
    pub fn remove_function(&self, function: &str) {
        self.set_reserved(function, None);
        self.set_provisioned(function, 0);
        let mut s = lock(&self.state);
        if s.functions.get(function).is_some_and(|f| f.in_flight == 0) {
            s.functions.remove(function);
        }
    }

    /// Account-wide counters.
    pub fn stats(&self) -> AdmissionStats {
        let s = lock(&self.state);
        let mut throttles: Vec<(String, u64)> = s
            .throttles
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        throttles.sort();
        AdmissionStats {
            account_limit: s.account_limit,
            reserved_total: s.reserved_total,
            unreserved: s.unreserved_pool(),
            in_flight: s.in_flight,
            throttles,
            spillovers: s.spillovers,
        }
    }

    /// One function's counters.
    pub fn function_stats(&self, function: &str) -> FunctionStats {
        let s = lock(&self.state);
        let f = s.functions.get(function).cloned().unwrap_or_default();
        FunctionStats {
            reserved: f.reserved,
            provisioned: f.provisioned,
            in_flight: f.in_flight,
            provisioned_in_flight: f.provisioned_in_flight,
        }
    }

    /// Counters of every function with settings or invocations in flight, by name.
    pub fn all_function_stats(&self) -> Vec<(String, FunctionStats)> {
        let s = lock(&self.state);
        let mut out: Vec<(String, FunctionStats)> = s
            .functions
            .iter()
            .map(|(name, f)| {
                (
                    name.clone(),
                    FunctionStats {
                        reserved: f.reserved,
                        provisioned: f.provisioned,
                        in_flight: f.in_flight,
                        provisioned_in_flight: f.provisioned_in_flight,
                    },
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The account limit.
    pub fn limit(&self) -> u32 {
        lock(&self.state).account_limit
    }

    /// Invocations running now.
    pub fn in_flight(&self) -> u32 {
        lock(&self.state).in_flight
    }

    /// Invocations refused so far (every reason).
    pub fn throttles(&self) -> u64 {
        lock(&self.state).throttles.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn account_limit_and_release() {
        let a = Admission::new(2);
        let p1 = a.try_acquire("f").expect("first");
        let _p2 = a.try_acquire("g").expect("second");
        assert_eq!(
            a.try_acquire("f").err(),
            Some(ThrottleReason::ConcurrentInvocationLimitExceeded)
        );
        drop(p1);
        assert!(a.try_acquire("f").is_ok());
        assert_eq!(a.throttles(), 1);
    }

    #[test]
    fn reservations_cap_and_protect() {
        let a = Admission::new(200);
        a.check_reserved("r", Some(100))
            .expect("leaves exactly 100");
        a.set_reserved("r", Some(100));
        assert_eq!(
            a.check_reserved("other", Some(1)),
            Err(ConfigError::UnreservedBelowMinimum { minimum: 100 })
        );
        // The unreserved pool is 100; fill it with other functions.
        let others: Vec<_> = (0..100)
            .map(|i| a.try_acquire(&format!("o{i}")).expect("pool"))
            .collect();
        assert_eq!(
            a.try_acquire("o").err(),
            Some(ThrottleReason::ConcurrentInvocationLimitExceeded)
        );
        // The reserved function still gets all of its 100, and not one more.
        let mine: Vec<_> = (0..100)
            .map(|_| a.try_acquire("r").expect("reserved"))
            .collect();
        assert_eq!(
            a.try_acquire("r").err(),
            Some(ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
        );
        assert_eq!(a.in_flight(), 200);
        drop(others);
        drop(mine);
        // Zero disables.
        a.set_reserved("r", Some(0));
        assert!(a.try_acquire("r").is_err());
    }

    #[test]
    fn provisioned_capacity_is_carved_out_and_spills_over() {
        let a = Admission::new(110);
        a.check_provisioned("p", 10).expect("110 - 10 = 100 left");
        a.set_provisioned("p", 10);
        assert_eq!(
            a.check_provisioned("q", 1),
            Err(ConfigError::ProvisionedOverPool { minimum: 100 })
        );
        let others: Vec<_> = (0..100)
            .map(|i| a.try_acquire(&format!("o{i}")).expect("pool"))
            .collect();
        assert!(
            a.try_acquire("o").is_err(),
            "the pool is 100 once 10 are provisioned"
        );
        // The provisioned function still gets its 10 ...
        let pc: Vec<_> = (0..10)
            .map(|_| a.try_acquire("p").expect("provisioned"))
            .collect();
        assert!(pc.iter().all(|p| p.slot() == Slot::Provisioned));
        // ... and spills over to the pool only when it has room.
        assert!(a.try_acquire("p").is_err());
        drop(others);
        let spill = a.try_acquire("p").expect("spill over");
        assert_eq!(spill.slot(), Slot::OnDemand);
        assert_eq!(a.stats().spillovers, 1);
        // A reserved function's provisioned concurrency must fit in its reservation.
        a.set_reserved("r", Some(5));
        assert_eq!(
            a.check_provisioned("r", 6),
            Err(ConfigError::ProvisionedOverReserved)
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Start(usize),
        Finish(usize),
        Reserve(usize, Option<u32>),
        Provision(usize, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..4usize).prop_map(Op::Start),
            4 => (0..64usize).prop_map(Op::Finish),
            1 => (0..4usize, proptest::option::of(0..5u32)).prop_map(|(f, r)| Op::Reserve(f, r)),
            1 => (0..4usize, 0..4u32).prop_map(|(f, p)| Op::Provision(f, p)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random start/finish/configure sequences never exceed a limit at admission, and never
        /// refuse a request that a free reservation or a free provisioned slot covers.
        #[test]
        fn admission_never_exceeds_and_never_wrongly_refuses(ops in proptest::collection::vec(op(), 1..200)) {
            // Small numbers so that every limit is hit (a minimum of 2 unreserved instead of
            // 100).
            let account = 10u32;
            let minimum = 2u32;
            let a = Admission::with_unreserved_minimum(account, minimum);
            let names = ["a", "b", "c", "d"];
            let mut held: Vec<Permit> = Vec::new();
            for op in ops {
                match op {
                    Op::Start(i) => {
                        let name = names[i];
                        let before = a.function_stats(name);
                        let (account_before, pool_before, pool_limit_before) = {
                            let s = lock(&a.state);
                            (s.in_flight, s.unreserved_on_demand, s.unreserved_on_demand_limit())
                        };
                        match a.try_acquire(name) {
                            Ok(p) => {
                                let s = lock(&a.state);
                                let f = s.functions.get(name).cloned().unwrap_or_default();
                                prop_assert!(s.in_flight <= account, "account limit");
                                match (f.reserved, p.slot()) {
                                    (Some(r), _) => prop_assert!(f.in_flight <= r, "reserved limit"),
                                    (None, Slot::OnDemand) => prop_assert!(
                                        s.unreserved_on_demand <= s.unreserved_on_demand_limit(),
                                        "pool limit"
                                    ),
                                    (None, Slot::Provisioned) => {}
                                }
                                if p.slot() == Slot::Provisioned {
                                    prop_assert!(f.provisioned_in_flight <= f.provisioned, "provisioned slots");
                                }
                                drop(s);
                                held.push(p);
                            }
                            Err(_) => {
                                let account_full = account_before >= account;
                                let justified = account_full
                                    || match before.reserved {
                                        Some(r) => before.in_flight >= r,
                                        None => {
                                            before.provisioned_in_flight >= before.provisioned
                                                && pool_before >= pool_limit_before
                                        }
                                    };
                                prop_assert!(justified, "refused although capacity was free: {:?}", before);
                            }
                        }
                    }
                    Op::Finish(k) => {
                        if !held.is_empty() {
                            held.remove(k % held.len());
                        }
                    }
                    Op::Reserve(i, r) => {
                        if a.check_reserved(names[i], r).is_ok() {
                            a.set_reserved(names[i], r);
                        }
                    }
                    Op::Provision(i, p) => {
                        if a.check_provisioned(names[i], p).is_ok() {
                            a.set_provisioned(names[i], p);
                        }
                    }
                }
                // Settings never push the unreserved pool below the minimum.
                let s = lock(&a.state);
                prop_assert!(s.unreserved_pool().saturating_sub(s.provisioned_unreserved_total) >= minimum);
            }
            drop(held);
            prop_assert_eq!(a.in_flight(), 0, "every permit released its capacity");
            let s = lock(&a.state);
            prop_assert_eq!(s.unreserved_on_demand, 0);
        }
    }
}
