//! Property tests of schedule expressions (G5 target 5: the cron/rate parser and next-fire
//! computation).
//!
//! Valid `cron(…)` expressions are generated from a small grammar of AWS's fields (`*`,
//! values, names, lists, ranges, steps, `?` in exactly one day field, `L`, `LW`, `nW`, `nL`,
//! `n#k`) together with a reference matcher written from AWS's (Quartz's) field rules, so a
//! slot is checked against something other than `croner` itself. For random instants in
//! 1970–2150 and random zones (including half-hour and two-hour DST changes):
//!
//! * `next_after(t)` is `None` or a whole minute `> t`, and is itself a slot
//!   (`next_after(next - 1) == next`, `last_at_or_before(next) == next`);
//! * the reference matcher accepts it, read in the zone: it is not in a DST gap, and it is
//!   the first occurrence of its wall time;
//! * it is stable: asked again, or from any instant in `[t, next)`, the answer is the same,
//!   and when `next` is at most three days away no minute in between is a slot by the
//!   reference (nothing skipped);
//! * the 4-years bound (G5: "within 4 years"): when the years are not restricted and the day
//!   fields match in every year, there is a next slot within 4 years + 1 day (in UTC it must
//!   exist; in a zone every candidate may fall in a DST gap, as `cron(* 2 ? 3 1#2 *)` does in
//!   New York since 2007). Day fields that skip years (the 29th to the 31st, `#5`, `nW` past
//!   the 28th) are exempt: `cron(0 0 29 2 ? *)` has no slot from 2096 to 2104.
//!
//! Random text, mutations of valid expressions and near-miss grammars never panic the
//! parser; every refusal displays EventBridge's message; anything accepted still answers
//! `next_after`/`last_at_or_before` without panicking and in the right direction.

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use nimbus_schedule::{
    INVALID_EXPRESSION_MESSAGE, INVALID_TIMEZONE_MESSAGE, ScheduleError, ScheduleExpression,
};
use proptest::prelude::*;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// G5's bound on the next slot: 4 years (one leap day included) plus a day of slack for
/// time zones.
const NEXT_WITHIN_MS: i64 = (4 * 365 + 1) * DAY_MS + DAY_MS;
/// Gaps up to this long are walked minute by minute against the reference matcher.
const BRUTE_FORCE_MS: i64 = 3 * DAY_MS;
/// Cases per property: enough to meet every grammar branch many times, small enough for
/// a debug build to finish in seconds.
const CASES: u32 = 256;
/// Overrides [`CASES`] (proptest's own variable).
const CASES_ENV: &str = "PROPTEST_CASES";

/// 2150-01-01T00:00:00Z: instants are drawn from 1970 to here.
fn t_max() -> i64 {
    Utc.with_ymd_and_hms(2150, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        .timestamp_millis()
}

/// Zones with ordinary, half-hour (Lord Howe), two-hour (Troll) and historically irregular
/// (Casablanca, São Paulo) DST changes, fractional offsets (Kolkata, St John's, Chatham),
/// and none (UTC).
const ZONES: [&str; 11] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "Africa/Casablanca",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One comma-separated part of a field.
#[derive(Debug, Clone)]
enum Part {
    One(u32),
    Range(u32, u32),
    /// `from/step`, `from-to/step` or (`from` `None`) `*/step`.
    Step {
        from: Option<u32>,
        to: Option<u32>,
        step: u32,
    },
}

/// A field of plain parts: `*` (empty list) or a list.
#[derive(Debug, Clone)]
struct Field {
    parts: Vec<Part>,
    /// Spell values as names (month and day-of-week fields).
    names: bool,
}

#[derive(Debug, Clone)]
enum Dom {
    Question,
    Plain(Field),
    /// `L`: the last day of the month.
    Last,
    /// `LW`: the last weekday of the month.
    LastWeekday,
    /// `nW`: the weekday nearest the nth, within the month.
    Nearest(u32),
}

#[derive(Debug, Clone)]
enum Dow {
    Question,
    Plain(Field),
    /// `L` alone: the last day of the week (Saturday, 7).
    L,
    /// `nL`: the last weekday n of the month.
    LastOf(u32),
    /// `n#k`: the kth weekday n of the month.
    Nth(u32, u32),
}

#[derive(Debug, Clone)]
struct Cron {
    minutes: Field,
    hours: Field,
    dom: Dom,
    months: Field,
    dow: Dow,
    years: Field,
}

fn render_value(v: u32, names: Option<&[&str]>, base: u32) -> String {
    match names {
        Some(names) => names[(v - base) as usize].to_string(),
        None => v.to_string(),
    }
}

impl Field {
    fn star() -> Field {
        Field {
            parts: Vec::new(),
            names: false,
        }
    }

    fn render(&self, names: &[&str], base: u32) -> String {
        if self.parts.is_empty() {
            return "*".to_string();
        }
        let names = self.names.then_some(names);
        self.parts
            .iter()
            .map(|p| match *p {
                Part::One(v) => render_value(v, names, base),
                Part::Range(a, b) => format!(
                    "{}-{}",
                    render_value(a, names, base),
                    render_value(b, names, base)
                ),
                Part::Step { from, to, step } => {
                    let from = from.map_or("*".to_string(), |f| f.to_string());
                    match to {
                        Some(to) => format!("{from}-{to}/{step}"),
                        None => format!("{from}/{step}"),
                    }
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether `v` is selected; `lo..=hi` is the field's domain.
    fn matches(&self, v: u32, lo: u32, hi: u32) -> bool {
        if self.parts.is_empty() {
            return true;
        }
        self.parts.iter().any(|p| match *p {
            Part::One(x) => v == x,
            Part::Range(a, b) => (a..=b).contains(&v),
            Part::Step { from, to, step } => {
                let from = from.unwrap_or(lo);
                let to = to.unwrap_or(hi);
                (from..=to).contains(&v) && (v - from).is_multiple_of(step)
            }
        })
    }

    /// The values selected within `lo..=hi`.
    fn values(&self, lo: u32, hi: u32) -> Vec<u32> {
        (lo..=hi).filter(|&v| self.matches(v, lo, hi)).collect()
    }
}

impl Cron {
    fn render(&self) -> String {
        let dom = match &self.dom {
            Dom::Question => "?".to_string(),
            Dom::Plain(f) => f.render(&[], 1),
            Dom::Last => "L".to_string(),
            Dom::LastWeekday => "LW".to_string(),
            Dom::Nearest(n) => format!("{n}W"),
        };
        let dow = match &self.dow {
            Dow::Question => "?".to_string(),
            Dow::Plain(f) => f.render(&WEEKDAYS, 1),
            Dow::L => "L".to_string(),
            Dow::LastOf(n) => format!("{n}L"),
            Dow::Nth(n, k) => format!("{n}#{k}"),
        };
        format!(
            "cron({} {} {dom} {} {dow} {})",
            self.minutes.render(&[], 0),
            self.hours.render(&[], 0),
            self.months.render(&MONTHS, 1),
            self.years.render(&[], 0),
        )
    }

    /// AWS's (Quartz's) reading of the fields, for a wall time.
    fn matches(&self, t: &NaiveDateTime) -> bool {
        let year = u32::try_from(t.year()).unwrap_or(0);
        t.second() == 0
            && self.minutes.matches(t.minute(), 0, 59)
            && self.hours.matches(t.hour(), 0, 23)
            && self.months.matches(t.month(), 1, 12)
            && self.years.matches(year, 1970, 2199)
            && self.day_matches(t)
    }

    fn day_matches(&self, t: &NaiveDateTime) -> bool {
        let day = t.day();
        let len = month_len(t.year(), t.month());
        let weekday = t.weekday().num_days_from_sunday() + 1;
        let dom = match &self.dom {
            Dom::Question => true,
            Dom::Plain(f) => f.matches(day, 1, 31),
            Dom::Last => day == len,
            Dom::LastWeekday => {
                let last = t.with_day(len).expect("last day").weekday();
                let last_weekday = match last {
                    Weekday::Sat => len - 1,
                    Weekday::Sun => len - 2,
                    _ => len,
                };
                day == last_weekday
            }
            Dom::Nearest(n) => *n <= len && day == nearest_weekday(t, *n, len),
        };
        let dow = match &self.dow {
            Dow::Question => true,
            Dow::Plain(f) => f.matches(weekday, 1, 7),
            Dow::L => weekday == 7,
            Dow::LastOf(n) => weekday == *n && day + 7 > len,
            Dow::Nth(n, k) => weekday == *n && (day - 1) / 7 + 1 == *k,
        };
        dom && dow
    }

    /// Whether the day fields match in every year (so every year has slots) and the years
    /// are not restricted: then the next slot is never more than a year and a day away.
    fn every_year(&self) -> bool {
        let dom = match &self.dom {
            Dom::Question | Dom::Last | Dom::LastWeekday => true,
            Dom::Plain(f) => f.values(1, 31).iter().any(|&d| d <= 28),
            Dom::Nearest(n) => *n <= 28,
        };
        let dow = match &self.dow {
            Dow::Nth(_, k) => *k <= 4,
            _ => true,
        };
        dom && dow && self.years.parts.is_empty()
    }
}

fn month_len(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_next = chrono::NaiveDate::from_ymd_opt(ny, nm, 1).expect("date");
    first_next.pred_opt().expect("date").day()
}

/// Quartz's `nW`: the weekday nearest the nth, never leaving the month.
fn nearest_weekday(t: &NaiveDateTime, n: u32, len: u32) -> u32 {
    let target = t.with_day(n).expect("day in month").weekday();
    match target {
        Weekday::Sat if n > 1 => n - 1,
        Weekday::Sat => n + 2,
        Weekday::Sun if n < len => n + 1,
        Weekday::Sun => n - 2,
        _ => n,
    }
}

// ----- strategies -----

fn part(lo: u32, hi: u32, steps: bool) -> BoxedStrategy<Part> {
    let one = (lo..=hi).prop_map(Part::One);
    let range = (lo..=hi, lo..=hi).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b)));
    if !steps {
        return prop_oneof![one, range].boxed();
    }
    let span = (hi - lo).max(1);
    let step = (
        proptest::option::of(lo..=hi),
        proptest::option::weighted(0.3, lo..=hi),
        1..=span,
    )
        .prop_map(|(from, to, step)| {
            let to = match (from, to) {
                (Some(f), Some(t)) if t >= f => Some(t),
                _ => None,
            };
            Part::Step { from, to, step }
        });
    prop_oneof![3 => one, 2 => range, 2 => step].boxed()
}

fn field(lo: u32, hi: u32, steps: bool, names: bool) -> BoxedStrategy<Field> {
    prop_oneof![
        1 => Just(Field::star()),
        2 => (proptest::collection::vec(part(lo, hi, steps), 1..=3), any::<bool>()).prop_map(
            move |(parts, spell)| {
                // Names only for plain values and ranges (a step's start is a number).
                let spellable = parts.iter().all(|p| !matches!(p, Part::Step { .. }));
                Field {
                    parts,
                    names: names && spell && spellable,
                }
            }
        ),
    ]
    .boxed()
}

fn dom_specified() -> BoxedStrategy<Dom> {
    prop_oneof![
        4 => field(1, 31, true, false).prop_map(Dom::Plain),
        1 => Just(Dom::Last),
        1 => Just(Dom::LastWeekday),
        1 => (1u32..=31).prop_map(Dom::Nearest),
    ]
    .boxed()
}

fn dow_specified() -> BoxedStrategy<Dow> {
    prop_oneof![
        4 => field(1, 7, false, true).prop_map(Dow::Plain),
        1 => Just(Dow::L),
        1 => (1u32..=7).prop_map(Dow::LastOf),
        1 => (1u32..=7, 1u32..=5).prop_map(|(n, k)| Dow::Nth(n, k)),
    ]
    .boxed()
}

fn cron() -> impl Strategy<Value = Cron> {
    let days = prop_oneof![
        dom_specified().prop_map(|d| (d, Dow::Question)),
        dow_specified().prop_map(|d| (Dom::Question, d)),
    ];
    let years = prop_oneof![
        4 => Just(Field::star()),
        1 => field(1970, 2199, true, false),
    ];
    (
        field(0, 59, true, false),
        field(0, 23, true, false),
        days,
        field(1, 12, true, true),
        years,
    )
        .prop_map(|(minutes, hours, (dom, dow), months, years)| Cron {
            minutes,
            hours,
            dom,
            months,
            dow,
            years,
        })
}

fn instant() -> impl Strategy<Value = i64> {
    0..t_max()
}

fn zone() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&ZONES[..])
}

fn parse(text: &str, zone: &str) -> ScheduleExpression {
    let tz = (zone != "UTC").then_some(zone);
    match ScheduleExpression::parse(text, tz) {
        Ok(expr) => expr,
        Err(e) => panic!("{text} in {zone}: {}", e.reason()),
    }
}

fn wall(tz: Tz, ms: i64) -> DateTime<Tz> {
    tz.timestamp_millis_opt(ms).single().expect("instant")
}

/// A slot by the reference: the wall time matches, and this instant is its first (or only)
/// occurrence (a wall time in a DST gap has no instant at all).
fn reference_slot(cron: &Cron, tz: Tz, ms: i64) -> bool {
    let local = wall(tz, ms).naive_local();
    cron.matches(&local)
        && tz
            .from_local_datetime(&local)
            .earliest()
            .is_some_and(|first| first.timestamp_millis() == ms)
}

/// Checks every property of one (expression, instant, zone); `probe` picks an instant in
/// `[t, next)` to ask again.
fn check_cron(cron: &Cron, t: i64, zone: &str, probe: f64) -> Result<(), TestCaseError> {
    let text = cron.render();
    let expr = parse(&text, zone);
    let tz = expr.timezone();
    let Some(next) = expr.next_after(t) else {
        prop_assert!(
            !(cron.every_year() && zone == "UTC"),
            "{text}: no slot after {t} although every year has some"
        );
        return Ok(());
    };
    prop_assert!(next > t, "{text}: next {next} not after {t}");
    prop_assert_eq!(next.rem_euclid(MINUTE_MS), 0, "{} not a whole minute", next);
    prop_assert_eq!(expr.next_after(next - 1), Some(next), "{} not a slot", next);
    prop_assert_eq!(
        expr.last_at_or_before(next),
        Some(next),
        "{} not a slot",
        next
    );
    prop_assert_eq!(expr.next_after(t), Some(next), "unstable");
    let local = wall(tz, next).naive_local();
    prop_assert!(
        reference_slot(cron, tz, next),
        "{text} in {zone}: {next} ({local} local) is not a slot by the reference"
    );
    // Asked from anywhere in [t, next), the answer is the same slot.
    let span = next - t;
    let offset = ((span - 1) as f64 * probe) as i64;
    prop_assert_eq!(
        expr.next_after(t + offset),
        Some(next),
        "unstable within the gap"
    );
    if let Some(before) = expr.last_at_or_before(next - 1) {
        prop_assert!(before <= t, "{text}: slot {before} lies in ({t}, {next})");
    }
    if cron.every_year() {
        prop_assert!(
            span <= NEXT_WITHIN_MS,
            "{text} in {zone}: next {next} is {} days after {t}",
            span / DAY_MS
        );
    }
    if span <= BRUTE_FORCE_MS {
        let mut m = (t.div_euclid(MINUTE_MS) + 1) * MINUTE_MS;
        while m < next {
            prop_assert!(
                !reference_slot(cron, tz, m),
                "{text} in {zone}: {m} is a slot by the reference, skipped for {next}"
            );
            m += MINUTE_MS;
        }
    }
    Ok(())
}

fn expect_refusal(text: &str, zone: Option<&str>) -> Result<(), TestCaseError> {
    match ScheduleExpression::parse(text, zone) {
        Ok(expr) => {
            // Accepted: it must still answer in the right direction.
            for t in [0, 1_000_000_000_000, 4_000_000_000_000, t_max()] {
                if let Some(next) = expr.next_after(t) {
                    prop_assert!(next > t, "{text}: next {next} not after {t}");
                }
                if let Some(last) = expr.last_at_or_before(t) {
                    prop_assert!(last <= t, "{text}: last {last} after {t}");
                }
            }
        }
        Err(e) => {
            let expected = match e {
                ScheduleError::InvalidExpression { .. } => INVALID_EXPRESSION_MESSAGE,
                ScheduleError::InvalidTimezone { .. } => INVALID_TIMEZONE_MESSAGE,
            };
            prop_assert_eq!(e.to_string(), expected);
            if zone.is_none_or(|z| z.parse::<Tz>().is_ok()) {
                prop_assert_eq!(e.to_string(), INVALID_EXPRESSION_MESSAGE);
            }
            prop_assert!(!e.reason().is_empty());
        }
    }
    Ok(())
}

/// Text that is almost a schedule expression.
fn near_miss() -> impl Strategy<Value = String> {
    prop_oneof![
        "cron\\([-0-9A-Za-z*?,/# LW]{0,40}\\)",
        "cron\\(([-0-9*?,/#LW]{1,6} ){5}[-0-9*?,/#LW]{1,6}\\)",
        "rate\\([-+0-9 a-z]{0,20}\\)",
        "at\\([-0-9T:Z ]{0,24}\\)",
        "(cron|rate|at)[(]?.{0,30}[)]?",
        ".{0,60}",
    ]
}

/// A valid expression with one character changed, inserted or removed.
fn mutated() -> impl Strategy<Value = String> {
    (cron(), any::<prop::sample::Index>(), 0u8..3, any::<char>()).prop_map(|(cron, at, how, c)| {
        let mut chars: Vec<char> = cron.render().chars().collect();
        let i = at.index(chars.len());
        match how {
            0 => chars[i] = c,
            1 => chars.insert(i, c),
            _ => {
                chars.remove(i);
            }
        }
        chars.into_iter().collect()
    })
}

/// Cases per property, and where shrunk failures are kept (next to this file) to be
/// replayed first by later runs.
fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads `PROPTEST_CASES`, for longer hunts.
    let default = ProptestConfig::default();
    let cases = match std::env::var_os(CASES_ENV) {
        Some(_) => default.cases,
        None => CASES,
    };
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cron_next_slots_are_slots_and_nothing_is_skipped(
        cron in cron(),
        t in instant(),
        zone in zone(),
        probe in 0.0..1.0f64,
    ) {
        check_cron(&cron, t, zone, probe)?;
    }

    #[test]
    fn rate_slots_are_anchored_and_at_most_a_period_away(
        value in 1u32..=1_000,
        unit in 0usize..3,
        anchor in instant(),
        t in instant(),
    ) {
        let (singular, plural, unit_ms) = [
            ("minute", "minutes", MINUTE_MS),
            ("hour", "hours", 60 * MINUTE_MS),
            ("day", "days", DAY_MS),
        ][unit];
        let text = format!("rate({value} {})", if value == 1 { singular } else { plural });
        let expr = parse(&text, "UTC").with_anchor(anchor);
        let period = i64::from(value) * unit_ms;
        let next = expr.next_after(t).expect("a rate never ends");
        prop_assert!(next > t);
        prop_assert_eq!((next - anchor).rem_euclid(period), 0);
        prop_assert!(next >= anchor);
        prop_assert!(next - t <= period || next == anchor);
        prop_assert_eq!(expr.next_after(next - 1), Some(next));
        prop_assert_eq!(expr.last_at_or_before(next), Some(next));
    }

    #[test]
    fn garbage_never_panics_and_gets_eventbridges_message(
        text in near_miss(),
        zone in proptest::option::of(prop_oneof![zone().prop_map(str::to_string), ".{0,20}"]),
    ) {
        expect_refusal(&text, zone.as_deref())?;
    }

    #[test]
    fn mutated_expressions_never_panic(text in mutated(), zone in zone()) {
        expect_refusal(&text, Some(zone))?;
    }
}

/// The AWS examples' shapes parse (the generator's grammar is what AWS accepts).
#[test]
fn the_grammar_covers_awss_examples() {
    for text in [
        "cron(0/15 * * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 0 1 JAN-MAR ? 2027/2)",
    ] {
        parse(text, "UTC");
    }
}

/// Found by `cron_next_slots_are_slots_and_nothing_is_skipped` (shrunk to
/// `cron(* * ? * L *)`): a bare `L` in day-of-week, AWS's "last day of the week", never
/// fired, because croner reads it as a "last" modifier of no weekday. It is Saturday.
#[test]
fn regression_bare_l_in_day_of_week_is_saturday() {
    // 2026-11-28 is a Saturday.
    let sat = Utc
        .with_ymd_and_hms(2026, 11, 28, 0, 0, 0)
        .single()
        .expect("valid")
        .timestamp_millis();
    let every_minute = parse("cron(* * ? * L *)", "UTC");
    assert_eq!(every_minute.next_after(0), Some(2 * DAY_MS)); // 1970-01-03, a Saturday
    let noon = parse("cron(0 12 ? * L *)", "UTC");
    assert_eq!(noon.next_after(sat - DAY_MS), Some(sat + DAY_MS / 2));
    assert_eq!(
        noon.next_after(sat + DAY_MS / 2),
        Some(sat + 7 * DAY_MS + DAY_MS / 2)
    );
    // In a list, too; and `nL` keeps its meaning (the last Friday of the month).
    let list = parse("cron(0 12 ? * 2,L *)", "UTC");
    assert_eq!(list.next_after(sat - DAY_MS), Some(sat + DAY_MS / 2));
    let last_friday = parse("cron(0 9 ? * 6L *)", "UTC");
    assert_eq!(
        last_friday.next_after(sat),
        Some(sat + 27 * DAY_MS + 9 * 60 * MINUTE_MS) // 2026-12-25
    );
}

/// Found by `cron_next_slots_are_slots_and_nothing_is_skipped` (shrunk to
/// `cron(* * * * ? */2)` and `cron(* * * * ? 2029/86)`): year steps counted from croner's
/// year 1 (odd years for `*/2`) and ran past AWS's last year, 2199.
#[test]
fn regression_year_steps_stay_within_awss_years() {
    let new_year = |y: i32| {
        Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
            .timestamp_millis()
    };
    let every_other = parse("cron(0 0 1 1 ? */2)", "UTC");
    assert_eq!(every_other.next_after(0), Some(new_year(1972)));
    assert_eq!(every_other.next_after(new_year(2025)), Some(new_year(2026)));
    let sparse = parse("cron(0 0 1 1 ? 2029/86)", "UTC");
    assert_eq!(sparse.next_after(new_year(2029)), Some(new_year(2115)));
    assert_eq!(sparse.next_after(new_year(2115)), None);
}
