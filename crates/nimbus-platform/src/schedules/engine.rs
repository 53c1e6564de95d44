//! The schedule engine: changes to the set of schedules, and firing due slots. It needs only
//! the store and a clock, so it is tested with a [`crate::clock::ManualClock`] and no
//! platform; [`super`] wires it into the platform and its async dispatcher.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use nimbus_api::stack::ChangeAction;
use nimbus_schedule::{ScheduleError, ScheduleExpression};
use nimbus_store::{ScheduleRow, ScheduleStore, StoreError};
use tokio::sync::Notify;

use super::decide::{SlotState, due_slots};
use super::payload::{self, Identity};
use super::{
    SCHEDULE_INPUT_CHARS_MAX, SCHEDULE_NAME_CHARS_MAX, SCHEDULER_STEP, ScheduleChange,
    ScheduleSpec, ScheduleView, SchedulesError,
};
use crate::clock::SharedClock;

/// What the async-invocation machinery is told around each firing (the platform's
/// `AsyncEvents`; a counter in tests).
pub(crate) trait FireHooks: Send + Sync {
    /// Before a slot's event may be stored: count it as unfinished (before the commit, so
    /// a dispatcher that finishes it first cannot count it down below zero).
    fn reserve(&self);
    /// The event was not stored after all.
    fn unreserve(&self);
    /// The event for `function` is stored: count it and wake the dispatcher.
    fn enqueued(&self, function: &str);
}

/// The outcome of one pass over the schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick {
    /// Slots fired (events enqueued).
    pub(crate) fired: u64,
    /// The earliest next slot of any schedule (schedule clock).
    pub(crate) next_due_ms: Option<i64>,
}

/// Schedules, their clock and the scheduler's wake-up.
pub(crate) struct Schedules {
    store: Arc<dyn ScheduleStore>,
    clock: SharedClock,
    identity: Identity,
    /// Wakes the scheduler: schedules changed or the clock was moved.
    pub(crate) wake: Arc<Notify>,
    /// Serialises changes with firing, so a change never interleaves with the firing of
    /// the schedule it changes (the store's compare-and-swap backs this up).
    lock: tokio::sync::Mutex<()>,
    /// Stored schedules whose expression no longer parses, already reported.
    reported: std::sync::Mutex<HashSet<String>>,
}

impl Schedules {
    pub(crate) fn new(
        store: Arc<dyn ScheduleStore>,
        clock: SharedClock,
        region: String,
        account: String,
    ) -> Self {
        Schedules {
            store,
            clock,
            identity: Identity { region, account },
            wake: Arc::new(Notify::new()),
            lock: tokio::sync::Mutex::new(()),
            reported: std::sync::Mutex::new(HashSet::new()),
        }
    }

    /// Makes `specs` the owner's schedules (see `Platform::put_schedules`).
    pub(crate) async fn put(
        &self,
        owner: &str,
        specs: Vec<ScheduleSpec>,
    ) -> Result<Vec<ScheduleChange>, SchedulesError> {
        let mut names = HashSet::new();
        let mut parsed = Vec::with_capacity(specs.len());
        for spec in specs {
            let expr = validate(&spec)?;
            if !names.insert(spec.name.clone()) {
                return Err(SchedulesError::Invalid {
                    name: spec.name,
                    what: "two schedules of one owner have this name".to_string(),
                });
            }
            parsed.push((spec, expr));
        }

        let _changing = self.lock.lock().await;
        let now = self.clock.now_ms();
        let mut existing: HashMap<String, ScheduleRow> = self
            .store
            .list_schedules()
            .await?
            .into_iter()
            .filter(|r| r.owner == owner)
            .map(|r| (r.name.clone(), r))
            .collect();
        let mut rows = Vec::with_capacity(parsed.len());
        let mut changes = Vec::with_capacity(parsed.len());
        for (spec, expr) in parsed {
            let (row, action) = match existing.remove(&spec.name) {
                None => (new_row(owner, spec, &expr, now), ChangeAction::Create),
                Some(old) if same_config(&old, &spec) => (old, ChangeAction::NoChange),
                Some(old) => (changed_row(old, spec, expr, now), ChangeAction::Update),
            };
            changes.push(self.change(&row, action));
            rows.push(row);
        }
        let mut removed: Vec<ScheduleRow> = existing.into_values().collect();
        removed.sort_by(|a, b| a.name.cmp(&b.name));
        changes.extend(removed.iter().map(|r| self.change(r, ChangeAction::Delete)));

        self.store.replace_schedules(owner, &rows).await?;
        self.wake.notify_one();
        Ok(changes)
    }

    /// Deletes every schedule of the owner; returns how many there were.
    pub(crate) async fn delete_owner(&self, owner: &str) -> Result<u64, SchedulesError> {
        let _changing = self.lock.lock().await;
        let n = self.store.delete_owner_schedules(owner).await?;
        self.wake.notify_one();
        Ok(n)
    }

    /// Every schedule, by owner and name.
    pub(crate) async fn list(&self) -> Result<Vec<ScheduleView>, SchedulesError> {
        let rows = self.store.list_schedules().await?;
        Ok(rows.iter().map(|r| self.view(r)).collect())
    }

    /// Fires every due slot (at most one per schedule: the missed-slot policy) and says
    /// when the next is due.
    pub(crate) async fn tick(&self, hooks: &dyn FireHooks) -> Result<Tick, StoreError> {
        let _firing = self.lock.lock().await;
        let rows = self.store.list_schedules().await?;
        let now = self.clock.now_ms();
        let mut tick = Tick {
            fired: 0,
            next_due_ms: None,
        };
        for row in rows {
            let expr = match expression_of(&row) {
                Ok(expr) => expr,
                Err(e) => {
                    self.report_unreadable(&row, &e);
                    continue;
                }
            };
            let state = SlotState {
                enabled: row.enabled,
                last_slot_ms: row.last_slot_ms,
                next_slot_ms: row.next_slot_ms,
            };
            let decision = due_slots(&expr, state, now);
            if let Some(slot) = decision.fire
                && self.fire(&row, slot, decision.next, hooks).await?
            {
                tick.fired += 1;
                if decision.skipped > 0 {
                    tracing::warn!(
                        owner = %row.owner,
                        schedule = %row.name,
                        skipped = decision.skipped,
                        fired = %payload::rfc3339(slot),
                        "missed schedule slots skipped; fired the most recent one"
                    );
                }
            }
            tick.next_due_ms = earliest(tick.next_due_ms, decision.next);
        }
        Ok(tick)
    }

    /// Records `slot` and enqueues its event in one transaction; `false` if the store's
    /// compare-and-swap found the slot fired or the schedule changed.
    async fn fire(
        &self,
        row: &ScheduleRow,
        slot: i64,
        next: Option<i64>,
        hooks: &dyn FireHooks,
    ) -> Result<bool, StoreError> {
        let event = payload::event_row(row, slot, &self.identity, crate::clock::now_ms());
        hooks.reserve();
        match self
            .store
            .fire_slot(&row.id, row.last_slot_ms, slot, next, &event)
            .await
        {
            Ok(true) => {
                hooks.enqueued(&event.function_name);
                tracing::debug!(
                    owner = %row.owner,
                    schedule = %row.name,
                    request_id = %event.id,
                    slot = %payload::rfc3339(slot),
                    "schedule slot fired"
                );
                Ok(true)
            }
            Ok(false) => {
                hooks.unreserve();
                tracing::debug!(schedule = %row.name, "slot already fired or schedule changed");
                Ok(false)
            }
            Err(e) => {
                hooks.unreserve();
                Err(e)
            }
        }
    }

    /// How long the scheduler may sleep: until the next slot, at most [`SCHEDULER_STEP`]
    /// (so a clock moved without a notification is noticed within a step).
    pub(crate) fn wait_for(&self, next_due_ms: Option<i64>) -> Duration {
        let step_ms = i64::try_from(SCHEDULER_STEP.as_millis()).unwrap_or(i64::MAX);
        let until = next_due_ms
            .map(|due| due.saturating_sub(self.clock.now_ms()))
            .unwrap_or(step_ms)
            .clamp(0, step_ms);
        Duration::from_millis(u64::try_from(until).unwrap_or(0))
    }

    fn change(&self, row: &ScheduleRow, action: ChangeAction) -> ScheduleChange {
        ScheduleChange {
            name: row.name.clone(),
            arn: self.identity.arn(row),
            action,
        }
    }

    fn view(&self, row: &ScheduleRow) -> ScheduleView {
        ScheduleView {
            owner: row.owner.clone(),
            name: row.name.clone(),
            arn: self.identity.arn(row),
            function: row.function.clone(),
            qualifier: row.qualifier.clone(),
            expression: row.expression.clone(),
            timezone: row.timezone.clone(),
            input: row.input.clone(),
            v2: row.v2,
            enabled: row.enabled,
            last_slot: row.last_slot_ms.map(payload::rfc3339),
            next_slot: row.next_slot_ms.map(payload::rfc3339),
        }
    }

    fn report_unreadable(&self, row: &ScheduleRow, e: &ScheduleError) {
        let first = self
            .reported
            .lock()
            .map(|mut seen| seen.insert(row.id.clone()))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                owner = %row.owner,
                schedule = %row.name,
                expression = %row.expression,
                reason = %e.reason(),
                "stored schedule cannot be read; it fires nothing"
            );
        }
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Checks a spec as EventBridge (rule) or EventBridge Scheduler (V2) would, and parses its
/// expression.
pub(crate) fn validate(spec: &ScheduleSpec) -> Result<ScheduleExpression, SchedulesError> {
    let invalid = |what: &str| SchedulesError::Invalid {
        name: spec.name.clone(),
        what: what.to_string(),
    };
    let name_ok = (1..=SCHEDULE_NAME_CHARS_MAX).contains(&spec.name.chars().count())
        && spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !name_ok {
        return Err(invalid(
            "a schedule name is 1-64 characters of letters, digits, '.', '-' and '_'",
        ));
    }
    if spec.function.is_empty() {
        return Err(invalid("a schedule needs a target function"));
    }
    if let Some(input) = &spec.input {
        if input.chars().count() > SCHEDULE_INPUT_CHARS_MAX {
            return Err(invalid("Input is longer than 8,192 characters"));
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(input).is_err() {
            return Err(invalid("Input must be valid JSON"));
        }
    }
    if !spec.v2 && spec.timezone.is_some() {
        return Err(invalid(
            "a Timezone needs ScheduleV2 (EventBridge rules run in UTC)",
        ));
    }
    parse_expression(&spec.expression, spec.timezone.as_deref(), spec.v2).map_err(|error| {
        SchedulesError::Expression {
            name: spec.name.clone(),
            error,
        }
    })
}

fn parse_expression(
    expr: &str,
    timezone: Option<&str>,
    v2: bool,
) -> Result<ScheduleExpression, ScheduleError> {
    if v2 {
        ScheduleExpression::parse(expr, timezone)
    } else {
        ScheduleExpression::parse_rule(expr)
    }
}

/// A stored schedule's expression, anchored.
fn expression_of(row: &ScheduleRow) -> Result<ScheduleExpression, ScheduleError> {
    Ok(
        parse_expression(&row.expression, row.timezone.as_deref(), row.v2)?
            .with_anchor(row.anchor_ms),
    )
}

/// The first slot at or after `now` that is after `last` (a new, changed or re-enabled
/// schedule starts from now: what it missed while it did not exist or was off never fires).
fn first_slot(expr: &ScheduleExpression, now: i64, last: Option<i64>) -> Option<i64> {
    let after = now.saturating_sub(1).max(last.unwrap_or(i64::MIN));
    expr.next_after(after)
}

fn same_config(row: &ScheduleRow, spec: &ScheduleSpec) -> bool {
    row.function == spec.function
        && row.qualifier == spec.qualifier
        && row.expression == spec.expression
        && row.timezone == spec.timezone
        && row.input == spec.input
        && row.v2 == spec.v2
        && row.enabled == spec.enabled
}

fn new_row(owner: &str, spec: ScheduleSpec, expr: &ScheduleExpression, now: i64) -> ScheduleRow {
    // A rate counts from the schedule's creation.
    let expr = expr.clone().with_anchor(now);
    let next_slot_ms = if spec.enabled {
        first_slot(&expr, now, None)
    } else {
        None
    };
    ScheduleRow {
        id: uuid::Uuid::new_v4().to_string(),
        owner: owner.to_string(),
        name: spec.name,
        function: spec.function,
        qualifier: spec.qualifier,
        expression: spec.expression,
        timezone: spec.timezone,
        input: spec.input,
        v2: spec.v2,
        enabled: spec.enabled,
        anchor_ms: now,
        last_slot_ms: None,
        next_slot_ms,
        created_ms: now,
        updated_ms: now,
    }
}

/// A schedule whose configuration changed. Its id and last fired slot stay (no slot at or
/// before it ever fires again). A new expression, zone or type is a new timetable: a rate is
/// re-anchored at the change and the next slot recomputed from now. Re-enabling resumes
/// from now; disabling clears the next slot. A new target or Input keeps the timetable.
fn changed_row(
    old: ScheduleRow,
    spec: ScheduleSpec,
    expr: ScheduleExpression,
    now: i64,
) -> ScheduleRow {
    let new_timetable =
        old.expression != spec.expression || old.timezone != spec.timezone || old.v2 != spec.v2;
    let anchor_ms = if new_timetable { now } else { old.anchor_ms };
    let expr = expr.with_anchor(anchor_ms);
    let next_slot_ms = if !spec.enabled {
        None
    } else if new_timetable || !old.enabled {
        first_slot(&expr, now, old.last_slot_ms)
    } else {
        old.next_slot_ms
    };
    ScheduleRow {
        id: old.id,
        owner: old.owner,
        name: spec.name,
        function: spec.function,
        qualifier: spec.qualifier,
        expression: spec.expression,
        timezone: spec.timezone,
        input: spec.input,
        v2: spec.v2,
        enabled: spec.enabled,
        anchor_ms,
        last_slot_ms: old.last_slot_ms,
        next_slot_ms,
        created_ms: old.created_ms,
        updated_ms: now,
    }
}
