//! The scheduler's one decision, as a pure function: given a schedule's expression, what it
//! has fired so far and the time now, which slot (if any) to fire, how many to skip, and
//! when the next one is due. See the missed-slot policy in [`super`].

use nimbus_schedule::ScheduleExpression;

/// Missed slots counted for the log line; past this the count reads "at least". Counting
/// walks the slots one by one, so it is bounded (a once-a-minute schedule after a week of
/// downtime has ~10,000).
pub const SKIPPED_COUNT_MAX: u64 = 10_000;

/// What the store knows about a schedule's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotState {
    /// Disabled schedules fire nothing.
    pub enabled: bool,
    /// The last slot fired.
    pub last_slot_ms: Option<i64>,
    /// The earliest slot not fired yet (`None`: none left).
    pub next_slot_ms: Option<i64>,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The slot to fire now, if any: the most recent due slot.
    pub fire: Option<i64>,
    /// Due slots older than `fire` that are skipped (at most [`SKIPPED_COUNT_MAX`]).
    pub skipped: u64,
    /// The next slot after this decision (`None`: no more, or disabled).
    pub next: Option<i64>,
}

impl Decision {
    const NOTHING: Decision = Decision {
        fire: None,
        skipped: 0,
        next: None,
    };
}

/// Decides what a schedule fires at `now_ms`.
///
/// * Disabled: nothing, and no next slot.
/// * The earliest unfired slot is the stored next slot (recomputed from the last fired slot
///   if a stale row has it at or before that).
/// * Not due yet (also after the clock went back): nothing; the next slot stays.
/// * Due: the most recent slot at or before now fires, once; the older due slots are
///   skipped and counted. No slot at or before the last fired one is ever chosen.
pub fn due_slots(expr: &ScheduleExpression, state: SlotState, now_ms: i64) -> Decision {
    if !state.enabled {
        return Decision::NOTHING;
    }
    let candidate = match (state.next_slot_ms, state.last_slot_ms) {
        (Some(next), Some(last)) if next <= last => expr.next_after(last),
        (next, _) => next,
    };
    let Some(candidate) = candidate else {
        return Decision::NOTHING;
    };
    if candidate > now_ms {
        return Decision {
            fire: None,
            skipped: 0,
            next: Some(candidate),
        };
    }
    let latest = expr
        .last_at_or_before(now_ms)
        .filter(|&slot| slot >= candidate)
        .unwrap_or(candidate);
    Decision {
        fire: Some(latest),
        skipped: count_slots(expr, candidate, latest),
        next: expr.next_after(now_ms.max(latest)),
    }
}

/// Slots in `[from, to)`, counted up to [`SKIPPED_COUNT_MAX`].
fn count_slots(expr: &ScheduleExpression, from: i64, to: i64) -> u64 {
    let mut count = 0;
    let mut slot = from;
    while slot < to && count < SKIPPED_COUNT_MAX {
        count += 1;
        match expr.next_after(slot) {
            Some(next) => slot = next,
            None => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    /// 2026-11-28T10:00:00Z, a Saturday.
    const T0: i64 = 1_795_860_000_000;

    fn rate5() -> ScheduleExpression {
        ScheduleExpression::parse_rule("rate(5 minutes)")
            .expect("valid")
            .with_anchor(T0)
    }

    fn state(last: Option<i64>, next: Option<i64>) -> SlotState {
        SlotState {
            enabled: true,
            last_slot_ms: last,
            next_slot_ms: next,
        }
    }

    #[test]
    fn nothing_before_the_next_slot() {
        let d = due_slots(&rate5(), state(None, Some(T0)), T0 - 1);
        assert_eq!(
            d,
            Decision {
                fire: None,
                skipped: 0,
                next: Some(T0)
            }
        );
    }

    #[test]
    fn a_due_slot_fires_once_and_the_next_follows() {
        let d = due_slots(&rate5(), state(None, Some(T0)), T0 + 200);
        assert_eq!(
            d,
            Decision {
                fire: Some(T0),
                skipped: 0,
                next: Some(T0 + 5 * MIN)
            }
        );
        // After it is recorded, the same instant fires nothing.
        let again = due_slots(&rate5(), state(Some(T0), d.next), T0 + 200);
        assert_eq!(again.fire, None);
    }

    #[test]
    fn a_forward_jump_fires_only_the_latest_missed_slot() {
        // Last fired T0; the clock (or a restart after downtime) lands at T0 + 62 min.
        let d = due_slots(&rate5(), state(Some(T0), Some(T0 + 5 * MIN)), T0 + 62 * MIN);
        assert_eq!(
            d,
            Decision {
                fire: Some(T0 + 60 * MIN),
                skipped: 11, // +5 … +55
                next: Some(T0 + 65 * MIN)
            }
        );
    }

    #[test]
    fn a_backward_jump_fires_nothing_twice() {
        // Fired up to T0 + 60 min, then the clock goes back an hour.
        let d = due_slots(
            &rate5(),
            state(Some(T0 + 60 * MIN), Some(T0 + 65 * MIN)),
            T0 + MIN,
        );
        assert_eq!(d.fire, None);
        assert_eq!(d.next, Some(T0 + 65 * MIN));
        // Even a stale row (next slot not after the last) never re-fires the last slot.
        let stale = due_slots(
            &rate5(),
            state(Some(T0 + 60 * MIN), Some(T0)),
            T0 + 61 * MIN,
        );
        assert_eq!(stale.fire, None);
        assert_eq!(stale.next, Some(T0 + 65 * MIN));
    }

    #[test]
    fn disabled_schedules_fire_nothing() {
        let mut s = state(None, Some(T0));
        s.enabled = false;
        assert_eq!(due_slots(&rate5(), s, T0 + 60 * MIN), Decision::NOTHING);
    }

    #[test]
    fn a_finished_schedule_fires_nothing() {
        let at = ScheduleExpression::parse("at(2026-11-28T10:00:00)", None).expect("valid");
        let d = due_slots(&at, state(None, Some(T0)), T0 + 3 * MIN);
        assert_eq!(
            d,
            Decision {
                fire: Some(T0),
                skipped: 0,
                next: None
            }
        );
        assert_eq!(
            due_slots(&at, state(Some(T0), None), T0 + 9 * MIN),
            Decision::NOTHING
        );
    }

    #[test]
    fn cron_slots_follow_the_calendar() {
        // Weekdays at 09:00 UTC; T0 is Saturday 10:00, so Monday 09:00 is next.
        let cron = ScheduleExpression::parse_rule("cron(0 9 ? * MON-FRI *)").expect("valid");
        let monday = T0 + 47 * 60 * MIN;
        let d = due_slots(&cron, state(None, Some(monday)), T0);
        assert_eq!(d.fire, None);
        // Down from Monday 08:00 to Thursday 12:00: Thursday 09:00 fires, Mon–Wed skipped.
        let thursday_noon = monday + (3 * 24 + 3) * 60 * MIN;
        let d = due_slots(&cron, state(None, Some(monday)), thursday_noon);
        assert_eq!(
            d,
            Decision {
                fire: Some(monday + 3 * 24 * 60 * MIN),
                skipped: 3,
                next: Some(monday + 4 * 24 * 60 * MIN)
            }
        );
    }

    #[test]
    fn the_skipped_count_is_bounded() {
        let every_minute = ScheduleExpression::parse_rule("rate(1 minute)")
            .expect("valid")
            .with_anchor(T0);
        let year = 365 * 24 * 60 * MIN;
        let d = due_slots(&every_minute, state(None, Some(T0)), T0 + year);
        assert_eq!(d.fire, Some(T0 + year));
        assert_eq!(d.skipped, SKIPPED_COUNT_MAX);
        assert_eq!(d.next, Some(T0 + year + MIN));
    }
}
