//! Schedules (`Events: {Type: Schedule | ScheduleV2}`): functions invoked asynchronously on a
//! `rate`, `cron` or `at` expression, each slot exactly once.
//!
//! Schedules are stored rows (`nimbus_store::ScheduleStore`) owned by a stack. One task, the
//! scheduler, reads time only from `PlatformConfig::clock` (a `ManualClock` in tests and
//! under `--manual-clock`), sleeps until the next slot in steps of at most
//! [`SCHEDULER_STEP`], and wakes early when schedules change or
//! `Platform::clock_advanced` is called. A due slot is fired by ONE store transaction that
//! compare-and-swaps the schedule's `last_slot_ms` and inserts the async event, so a slot is
//! recorded if and only if its event is enqueued: a crash or restart neither repeats nor
//! loses it. The event then goes through the async-invocation machinery like any `Event`
//! invoke (retries, DLQ, destinations), with a request id derived from (schedule, slot).
//!
//! **Missed-slot policy.** Slots are not replayed. When the scheduler finds several slots
//! due at once (after downtime, or a forward clock jump), it fires only the most recent one,
//! once, and logs how many older ones it skipped. No slot at or before the last fired one is
//! ever fired, so a backward clock jump fires nothing twice: the schedule resumes when the
//! clock passes its next slot again. A disabled schedule fires nothing; re-enabled, it
//! resumes from now (what it missed while off never fires). A new or changed timetable
//! (expression, time zone, type) starts from now; a `rate` counts from its anchor, the
//! creation time (or the time its timetable last changed), so its slots are
//! `anchor + k × period` and do not drift across restarts. An `at` already past when its
//! schedule is created never fires (re-applying a stack does not replay it).
//!
//! **Payloads.** `Input`, when given, is sent verbatim. Otherwise a rule (`Schedule`) sends
//! EventBridge's scheduled-event envelope (`source: aws.events`, `detail: {}`, `resources`:
//! the rule ARN) and ScheduleV2 sends EventBridge Scheduler's default notification, the same
//! envelope with `source: aws.scheduler`, the schedule ARN (group `default`) and `detail`
//! the string `"{}"`, as Scheduler itself sends it. `time` is the slot time.

mod decide;
mod engine;
mod payload;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_api::stack::ChangeAction;
use nimbus_schedule::ScheduleError;
use nimbus_store::StoreError;

use crate::async_events::AsyncEvents;
use crate::metrics::series::AsyncSample;
use crate::platform::Platform;

pub use decide::{Decision, SKIPPED_COUNT_MAX, SlotState, due_slots};
pub(crate) use engine::Schedules;
pub use payload::SCHEDULE_GROUP_DEFAULT;

/// Longest sleep of the scheduler: a clock moved without `Platform::clock_advanced` is
/// noticed within it (AWS's own precision is a minute).
pub const SCHEDULER_STEP: Duration = Duration::from_secs(1);

/// EventBridge's longest rule name and Scheduler's longest schedule name.
pub const SCHEDULE_NAME_CHARS_MAX: usize = 64;

/// EventBridge's longest target `Input`.
pub const SCHEDULE_INPUT_CHARS_MAX: usize = 8_192;

/// One schedule of an owner, as a stack declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    /// Rule or schedule name (unique per owner; in the event's ARN).
    pub name: String,
    /// Target function.
    pub function: String,
    /// Target qualifier (an alias or version); `None`: unqualified.
    pub qualifier: Option<String>,
    /// `rate(…)`, `cron(…)`, or (ScheduleV2) `at(…)`.
    pub expression: String,
    /// IANA zone (ScheduleV2 only).
    pub timezone: Option<String>,
    /// JSON sent verbatim instead of the scheduled-event envelope.
    pub input: Option<String>,
    /// EventBridge Scheduler (`ScheduleV2`) rather than an EventBridge rule (`Schedule`).
    pub v2: bool,
    /// Disabled schedules fire nothing.
    pub enabled: bool,
}

/// What `put_schedules` did to one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleChange {
    /// Schedule name.
    pub name: String,
    /// Its rule or schedule ARN.
    pub arn: String,
    /// Created, updated, unchanged or deleted.
    pub action: ChangeAction,
}

/// A schedule as `GET /nimbus/v1/schedules` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// Owning stack.
    pub owner: String,
    /// Rule or schedule name.
    pub name: String,
    /// Rule or schedule ARN.
    pub arn: String,
    /// Target function.
    pub function: String,
    /// Target qualifier.
    pub qualifier: Option<String>,
    /// The expression.
    pub expression: String,
    /// IANA zone (ScheduleV2).
    pub timezone: Option<String>,
    /// `Input`, if any.
    pub input: Option<String>,
    /// ScheduleV2 (EventBridge Scheduler).
    pub v2: bool,
    /// Enabled.
    pub enabled: bool,
    /// The last slot fired (RFC 3339, UTC).
    pub last_slot: Option<String>,
    /// The next slot (RFC 3339, UTC); none when finished or disabled.
    pub next_slot: Option<String>,
}

/// Why schedules could not be changed or read.
#[derive(Debug, thiserror::Error)]
pub enum SchedulesError {
    /// An expression or time zone EventBridge would refuse; `error` says it in
    /// EventBridge's words ("Parameter ScheduleExpression is not valid.").
    #[error("schedule {name}: {error}")]
    Expression {
        /// Schedule name.
        name: String,
        /// The expression's error (its `reason()` says more).
        error: ScheduleError,
    },
    /// Another rule broken: the name, a duplicate, `Input`, a time zone on a rule.
    #[error("schedule {name}: {what}")]
    Invalid {
        /// Schedule name.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// The store failed.
    #[error("schedules: {0}")]
    Store(#[from] StoreError),
}

impl Platform {
    /// Makes `specs` the owner's (a stack's) whole set of schedules, atomically: schedules
    /// of the owner not named are deleted. Validated first (nothing changes on error). An
    /// unchanged schedule keeps its progress; a changed timetable starts from now; see the
    /// missed-slot policy in [`crate::schedules`].
    pub async fn put_schedules(
        &self,
        owner: &str,
        specs: Vec<ScheduleSpec>,
    ) -> Result<Vec<ScheduleChange>, SchedulesError> {
        self.schedules.put(owner, specs).await
    }

    /// Checks one schedule as `put_schedules` would, without changing anything (a deploy
    /// checks everything before it changes anything).
    pub fn check_schedule(spec: &ScheduleSpec) -> Result<(), SchedulesError> {
        engine::validate(spec).map(|_| ())
    }

    /// Deletes every schedule of the owner; returns how many there were.
    pub async fn delete_schedules(&self, owner: &str) -> Result<u64, SchedulesError> {
        self.schedules.delete_owner(owner).await
    }

    /// Every schedule with its last and next slot, by owner and name.
    pub async fn list_schedules(&self) -> Result<Vec<ScheduleView>, SchedulesError> {
        self.schedules.list().await
    }

    /// Starts the scheduler (once, at open).
    pub(crate) fn start_scheduler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(scheduler_loop(Arc::downgrade(self)))
    }
}

/// Fires due slots, then sleeps until the next one (at most a step) or a wake-up.
async fn scheduler_loop(platform: Weak<Platform>) {
    loop {
        let Some(p) = platform.upgrade() else {
            return;
        };
        // Created before the pass: `clock_advanced` wakes the futures that exist when it is
        // called, so a move of the clock during the pass is not missed.
        let clock_tick = Arc::clone(&p.clock_tick);
        let clock_moved = clock_tick.notified();
        let next_due = match p.schedules.tick(&p.async_events).await {
            Ok(tick) => tick.next_due_ms,
            Err(e) => {
                tracing::warn!(error = %e, "could not fire due schedule slots; retrying");
                None
            }
        };
        let wait = p.schedules.wait_for(next_due);
        let wake = Arc::clone(&p.schedules.wake);
        drop(p);
        tokio::select! {
            () = wake.notified() => {}
            () = clock_moved => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// A fired slot's event is an accepted async event like any other: counted in the backlog
/// before its commit, and the dispatcher woken after it (as `enqueue_event` does).
impl engine::FireHooks for AsyncEvents {
    fn reserve(&self) {
        self.unfinished.fetch_add(1, Ordering::Relaxed);
    }

    fn unreserve(&self) {
        let _ = self
            .unfinished
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }

    fn enqueued(&self, function: &str) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.by_function.add(function, AsyncSample::Received);
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;
