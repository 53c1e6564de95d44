//! The examples of the AWS documentation, AWS's validation rules, DST and rate alignment.

use super::*;
use chrono::{SecondsFormat, TimeZone, Utc};

/// ms since the epoch of a UTC wall time.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
        .timestamp_millis()
}

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("valid instant")
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The next `n` slots after `from`, as RFC 3339 UTC strings.
fn slots(expr: &ScheduleExpression, from: i64, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = from;
    for _ in 0..n {
        match expr.next_after(at) {
            Some(next) => {
                out.push(iso(next));
                at = next;
            }
            None => break,
        }
    }
    out
}

fn rule(expr: &str) -> ScheduleExpression {
    ScheduleExpression::parse_rule(expr).unwrap_or_else(|e| panic!("{expr}: {}", e.reason()))
}

fn in_zone(expr: &str, tz: &str) -> ScheduleExpression {
    ScheduleExpression::parse(expr, Some(tz)).unwrap_or_else(|e| panic!("{expr}: {}", e.reason()))
}

// 2026-11-28 is a Saturday.
const SAT_NOV_28: (i32, u32, u32) = (2026, 11, 28);

fn sat(h: u32, mi: u32) -> i64 {
    utc(SAT_NOV_28.0, SAT_NOV_28.1, SAT_NOV_28.2, h, mi)
}

#[test]
fn daily_at_10_15_utc() {
    let e = rule("cron(15 10 * * ? *)");
    assert_eq!(
        slots(&e, sat(0, 0), 2),
        ["2026-11-28T10:15:00Z", "2026-11-29T10:15:00Z"]
    );
}

#[test]
fn weekdays_at_6_pm() {
    let e = rule("cron(0 18 ? * MON-FRI *)");
    assert_eq!(
        slots(&e, sat(0, 0), 3),
        [
            "2026-11-30T18:00:00Z",
            "2026-12-01T18:00:00Z",
            "2026-12-02T18:00:00Z"
        ]
    );
    // Names are case-insensitive.
    let lower = rule("cron(0 18 ? * mon-fri *)");
    assert_eq!(slots(&lower, sat(0, 0), 1), ["2026-11-30T18:00:00Z"]);
}

#[test]
fn first_of_the_month_at_8() {
    let e = rule("cron(0 8 1 * ? *)");
    assert_eq!(
        slots(&e, sat(0, 0), 2),
        ["2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z"]
    );
}

#[test]
fn every_15_minutes() {
    let e = rule("cron(0/15 * * * ? *)");
    assert_eq!(
        slots(&e, sat(10, 7), 3),
        [
            "2026-11-28T10:15:00Z",
            "2026-11-28T10:30:00Z",
            "2026-11-28T10:45:00Z"
        ]
    );
}

#[test]
fn every_10_minutes_on_weekdays() {
    let e = rule("cron(0/10 * ? * MON-FRI *)");
    assert_eq!(
        slots(&e, sat(12, 0), 2),
        ["2026-11-30T00:00:00Z", "2026-11-30T00:10:00Z"]
    );
}

#[test]
fn every_5_minutes_in_office_hours() {
    let e = rule("cron(0/5 8-17 ? * MON-FRI *)");
    // Friday 17:56 → Monday 08:00.
    assert_eq!(
        slots(&e, utc(2026, 11, 27, 17, 56), 2),
        ["2026-11-30T08:00:00Z", "2026-11-30T08:05:00Z"]
    );
    assert_eq!(
        slots(&e, utc(2026, 11, 30, 17, 50), 2),
        ["2026-11-30T17:55:00Z", "2026-12-01T08:00:00Z"]
    );
}

#[test]
fn first_monday_of_the_month() {
    // 1 = SUN, so 2 = MON; December 2026 starts on a Tuesday.
    let e = rule("cron(0 9 ? * 2#1 *)");
    assert_eq!(
        slots(&e, sat(0, 0), 2),
        ["2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z"]
    );
}

#[test]
fn last_friday_of_the_month() {
    let e = rule("cron(0 9 ? * 6L *)");
    assert_eq!(
        slots(&e, sat(0, 0), 2),
        ["2026-12-25T09:00:00Z", "2027-01-29T09:00:00Z"]
    );
}

#[test]
fn last_weekday_of_the_month() {
    // 2026-11-30 is a Monday; 2027-01-31 is a Sunday, so January's is Friday the 29th.
    let e = rule("cron(0 0 LW * ? *)");
    assert_eq!(
        slots(&e, sat(0, 0), 3),
        [
            "2026-11-30T00:00:00Z",
            "2026-12-31T00:00:00Z",
            "2027-01-29T00:00:00Z"
        ]
    );
}

#[test]
fn weekday_nearest_the_15th() {
    // 2026-11-15 is a Sunday → Monday 16th; 2026-12-15 is a Tuesday; 2027-05-15 is a
    // Saturday → Friday 14th.
    let e = rule("cron(0 0 15W * ? *)");
    assert_eq!(
        slots(&e, utc(2026, 11, 1, 0, 0), 2),
        ["2026-11-16T00:00:00Z", "2026-12-15T00:00:00Z"]
    );
    assert_eq!(
        slots(&e, utc(2027, 5, 1, 0, 0), 1),
        ["2027-05-14T00:00:00Z"]
    );
}

#[test]
fn last_day_of_the_month() {
    let e = rule("cron(0 5 L * ? *)");
    assert_eq!(
        slots(&e, utc(2027, 2, 1, 0, 0), 1),
        ["2027-02-28T05:00:00Z"]
    );
    assert_eq!(
        slots(&e, utc(2028, 2, 1, 0, 0), 1),
        ["2028-02-29T05:00:00Z"]
    );
}

#[test]
fn a_year_ends_the_schedule() {
    let e = rule("cron(0 0 1 1 ? 2027)");
    assert_eq!(slots(&e, sat(0, 0), 3), ["2027-01-01T00:00:00Z"]);
    assert_eq!(e.next_after(utc(2027, 1, 1, 0, 0)), None);
    let range = rule("cron(0 12 1 JAN ? 2027-2028)");
    assert_eq!(
        slots(&range, sat(0, 0), 3),
        ["2027-01-01T12:00:00Z", "2028-01-01T12:00:00Z"]
    );
}

#[test]
fn next_after_is_strict_and_ignores_sub_minute_time() {
    let e = rule("cron(0/15 * * * ? *)");
    let slot = sat(10, 15);
    assert_eq!(e.next_after(slot), Some(sat(10, 30)));
    assert_eq!(e.next_after(slot - 1), Some(slot));
    assert_eq!(e.next_after(slot + 500), Some(sat(10, 30)));
    assert_eq!(e.last_at_or_before(slot), Some(slot));
    assert_eq!(e.last_at_or_before(slot - 1), Some(sat(10, 0)));
}

#[test]
fn time_zones_follow_daylight_saving() {
    // 09:00 in New York is 14:00Z in winter and 13:00Z in summer.
    let e = in_zone("cron(0 9 * * ? *)", "America/New_York");
    assert_eq!(
        slots(&e, utc(2026, 3, 6, 0, 0), 3),
        [
            "2026-03-06T14:00:00Z",
            "2026-03-07T14:00:00Z",
            "2026-03-08T13:00:00Z"
        ]
    );
    assert_eq!(e.timezone().name(), "America/New_York");
}

#[test]
fn a_time_the_spring_change_skips_does_not_run() {
    // 2026-03-08: 02:00 EST → 03:00 EDT, so there is no 02:30 that day.
    let e = in_zone("cron(30 2 * * ? *)", "America/New_York");
    assert_eq!(
        slots(&e, utc(2026, 3, 7, 12, 0), 2),
        ["2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
    );
    // An interval schedule simply has no slots inside the gap.
    let every30 = in_zone("cron(0/30 * * * ? *)", "America/New_York");
    assert_eq!(
        slots(&every30, utc(2026, 3, 8, 6, 10), 3),
        [
            "2026-03-08T06:30:00Z", // 01:30 EST
            "2026-03-08T07:00:00Z", // 03:00 EDT
            "2026-03-08T07:30:00Z"
        ]
    );
}

#[test]
fn a_time_the_autumn_change_repeats_runs_once() {
    // 2026-11-01: 02:00 EDT → 01:00 EST, so 01:00–01:59 happens twice.
    let e = in_zone("cron(30 1 * * ? *)", "America/New_York");
    assert_eq!(
        slots(&e, utc(2026, 10, 31, 16, 0), 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
    let every30 = in_zone("cron(0/30 * * * ? *)", "America/New_York");
    assert_eq!(
        slots(&every30, utc(2026, 11, 1, 4, 10), 4),
        [
            "2026-11-01T04:30:00Z", // 00:30 EDT
            "2026-11-01T05:00:00Z", // 01:00 EDT
            "2026-11-01T05:30:00Z", // 01:30 EDT; 01:00 and 01:30 EST do not run again
            "2026-11-01T07:00:00Z"  // 02:00 EST
        ]
    );
    // Looking back from 02:00 EST finds the first 01:30, not the repeated one.
    assert_eq!(
        e.last_at_or_before(utc(2026, 11, 1, 7, 0)),
        Some(utc(2026, 11, 1, 5, 30))
    );
}

#[test]
fn at_runs_once_in_its_zone() {
    let e = ScheduleExpression::parse("at(2027-01-02T03:04:05)", None).expect("valid");
    assert_eq!(e.kind(), ExpressionKind::At);
    let at = utc(2027, 1, 2, 3, 4) + 5_000;
    assert_eq!(e.next_after(at - 1), Some(at));
    assert_eq!(e.next_after(at), None);
    assert_eq!(e.last_at_or_before(at), Some(at));
    assert_eq!(e.last_at_or_before(at - 1), None);

    let ny = in_zone("at(2027-01-02T03:04:05)", "America/New_York");
    assert_eq!(ny.next_after(0), Some(at + 5 * 3_600_000));
    // The repeated hour: its first occurrence (EDT).
    let repeated = in_zone("at(2026-11-01T01:30:00)", "America/New_York");
    assert_eq!(repeated.next_after(0), Some(utc(2026, 11, 1, 5, 30)));
}

#[test]
fn rate_slots_are_aligned_to_the_anchor() {
    let anchor = sat(10, 2) + 30_000; // 10:02:30
    let e = rule("rate(5 minutes)").with_anchor(anchor);
    assert_eq!(e.kind(), ExpressionKind::Rate);
    // The anchor itself is the first slot (a rate schedule starts at once).
    assert_eq!(e.next_after(anchor - 1), Some(anchor));
    assert_eq!(e.next_after(anchor - 3_600_000), Some(anchor));
    assert_eq!(e.next_after(anchor), Some(anchor + 300_000));
    assert_eq!(e.next_after(anchor + 720_000), Some(anchor + 900_000));
    assert_eq!(
        e.last_at_or_before(anchor + 720_000),
        Some(anchor + 600_000)
    );
    assert_eq!(e.last_at_or_before(anchor - 1), None);
    // Without an anchor, slots are aligned to the epoch.
    let epoch = rule("rate(1 hour)");
    assert_eq!(epoch.next_after(sat(10, 2)), Some(sat(11, 0)));
}

#[test]
fn a_rate_day_is_24_hours_across_dst() {
    let anchor = utc(2026, 3, 7, 14, 0);
    let e = in_zone("rate(1 day)", "America/New_York").with_anchor(anchor);
    assert_eq!(
        slots(&e, anchor, 2),
        ["2026-03-08T14:00:00Z", "2026-03-09T14:00:00Z"]
    );
    for ok in [
        "rate(1 minute)",
        "rate(2 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
    ] {
        rule(ok);
    }
    rule("rate(7 days)");
}

#[test]
fn bad_expressions_get_eventbridges_message() {
    let bad = [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(1 days)",
        "rate(0 minutes)",
        "rate(-1 minutes)",
        "rate(+5 minutes)",
        "rate(1.5 hours)",
        "rate(5 weeks)",
        "rate(5minutes)",
        "rate(5  minutes)",
        "rate()",
        "rate(99999999999 days)",
        "every 5 minutes",
        "",
        "cron(0 0 * * * *)",
        "cron(0 0 ? * ? *)",
        "cron(0 0 1 * 1 *)",
        "cron(0 0 * * ?)",
        "cron(0 0 0 * * ? *)",
        "cron(0 0 1 * ? 2200)",
        "cron(0 0 1 * ? 1969)",
        "cron(0 0 1 * ? 1960-1980)",
        "cron(? 0 1 * ? *)",
        "cron(0 0 1,? * ? *)",
        "cron(0 0 ? * 2#1,3#2 *)",
        "cron(0 0 ? * 0 *)",
        "cron(0 0 ? * 8 *)",
        "cron(60 0 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 1 13 ? *)",
        "cron(0 0 1 FOO ? *)",
        "cron(0 0 ? * FUNDAY *)",
        "cron(0 L * * ? *)",
        "cron(0 0 1W# * ? *)",
        "cron(0 0 ? * 2W *)",
        "cron(@daily)",
        "CRON(0 0 * * ? *)",
        "at(2027-13-01T00:00:00)",
        "at(2027-01-01 00:00:00)",
        "at(2027-01-01T00:00:00Z)",
        "at(2027-01-01T00:00)",
        "at(2026-03-08T02:30:00)",
    ];
    for expr in bad {
        let tz = expr
            .starts_with("at(2026-03-08")
            .then_some("America/New_York");
        let err = ScheduleExpression::parse(expr, tz).expect_err(expr);
        assert_eq!(err.to_string(), INVALID_EXPRESSION_MESSAGE, "{expr}");
        assert!(
            matches!(err, ScheduleError::InvalidExpression { .. }),
            "{expr}"
        );
        assert!(!err.reason().is_empty(), "{expr}");
    }
}

#[test]
fn rules_have_no_one_time_schedules() {
    let err = ScheduleExpression::parse_rule("at(2027-01-02T03:04:05)").expect_err("rule");
    assert_eq!(err.to_string(), INVALID_EXPRESSION_MESSAGE);
    assert!(err.reason().contains("ScheduleV2"), "{}", err.reason());
}

#[test]
fn unknown_time_zones_are_refused() {
    let err =
        ScheduleExpression::parse("rate(5 minutes)", Some("Mars/Olympus_Mons")).expect_err("zone");
    assert_eq!(err.to_string(), INVALID_TIMEZONE_MESSAGE);
    assert!(matches!(err, ScheduleError::InvalidTimezone { .. }));
}

#[test]
fn every_aws_wildcard_parses() {
    for ok in [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 5 L * ? *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 0 ? * L *)",
        "cron(5,35 14 * * ? *)",
        "cron(0 0 1 JAN-MAR ? 2027/2)",
        "cron(0 0 ? * SUN,SAT *)",
        "cron(0 0 ? * 1-7 *)",
        "cron(0 0 1 * ? 1970-2199)",
    ] {
        rule(ok);
    }
}
