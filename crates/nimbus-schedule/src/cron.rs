//! AWS's six-field `cron(minutes hours day-of-month month day-of-week year)` on top of
//! `croner`.
//!
//! `croner` does the calendar arithmetic (`L`, `W`, `#`, month lengths, time zones). It is
//! more permissive than AWS, so this adapter first checks what AWS checks:
//!
//! * exactly six fields, each with only the wildcards AWS allows in it;
//! * exactly one of day-of-month and day-of-week is `?` (croner reads `?` as `*` and would
//!   accept both or neither);
//! * at most one `#` in day-of-week;
//! * years within 1970–2199.
//!
//! Then it hands croner `"0 " + fields` (a seconds field of 0: AWS has minute precision, so
//! no cron can fire more than once a minute) with seconds and year required, Quartz weekday
//! numbering (1 = SUN … 7 = SAT) and `0/15` style steps. Two spellings are translated on
//! the way, where croner reads AWS differently: a bare `L` in day-of-week (Saturday) and
//! year steps (counted from 1970, ending at 2199).
//!
//! Daylight saving time follows EventBridge Scheduler: a wall time the spring change skips
//! does not run (croner would move it to the first valid time after the gap), and a wall
//! time the autumn change repeats runs once, at its first occurrence. Croner's "no match
//! before the search limit" (e.g. after the last year of the expression) means "no more
//! slots".

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::ScheduleError;

/// Earliest year AWS accepts in the year field.
pub const YEAR_MIN: u32 = 1970;
/// Latest year AWS accepts in the year field.
pub const YEAR_MAX: u32 = 2199;

/// Candidates croner may offer that the DST rules reject before a search gives up. The
/// longest legitimate run is the repeated hour of a once-a-minute schedule (60).
const DST_REJECTS_MAX: usize = 1_000;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One field's rules: its name (for messages), the special characters and the words
/// (names, `L`, `W`) it allows.
struct FieldRule {
    name: &'static str,
    specials: &'static str,
    words: &'static [&'static str],
}

const FIELDS: [FieldRule; 6] = [
    FieldRule {
        name: "minutes",
        specials: ",-*/",
        words: &[],
    },
    FieldRule {
        name: "hours",
        specials: ",-*/",
        words: &[],
    },
    FieldRule {
        name: "day-of-month",
        specials: ",-*?/",
        words: &["L", "W", "LW"],
    },
    FieldRule {
        name: "month",
        specials: ",-*/",
        words: &MONTHS,
    },
    FieldRule {
        name: "day-of-week",
        specials: ",-*?#",
        words: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "L"],
    },
    FieldRule {
        name: "year",
        specials: ",-*/",
        words: &[],
    },
];

/// A validated AWS cron expression.
#[derive(Debug, Clone)]
pub(crate) struct AwsCron {
    cron: Cron,
}

impl AwsCron {
    /// `inner` is what stands between `cron(` and `)`.
    pub(crate) fn parse(expr: &str, inner: &str) -> Result<Self, ScheduleError> {
        let invalid = |reason: String| ScheduleError::invalid(expr, reason);
        let upper = inner.to_ascii_uppercase();
        let fields: Vec<&str> = upper.split_whitespace().collect();
        if fields.len() != FIELDS.len() {
            return Err(invalid(format!(
                "cron(…) takes six fields (minutes hours day-of-month month day-of-week \
                 year), got {}",
                fields.len()
            )));
        }
        for (field, rule) in fields.iter().zip(FIELDS.iter()) {
            check_field(field, rule).map_err(&invalid)?;
        }
        let (dom, dow) = (fields[2], fields[4]);
        if (dom == "?") == (dow == "?") {
            return Err(invalid(
                "exactly one of day-of-month and day-of-week must be ?".to_string(),
            ));
        }
        if dow.matches('#').count() > 1 {
            return Err(invalid(
                "day-of-week allows only one # expression".to_string(),
            ));
        }
        check_years(fields[5]).map_err(&invalid)?;
        let dow = last_day_of_week(dow);
        let years = years_within_range(fields[5]);
        let pattern = format!(
            "0 {} {} {} {} {dow} {years}",
            fields[0], fields[1], fields[2], fields[3]
        );
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .alternative_weekdays(true)
            .sloppy_ranges(true)
            .build()
            .parse(&pattern)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(AwsCron { cron })
    }

    /// The first slot strictly after `after_ms`, read in `tz`.
    pub(crate) fn next_after(&self, after_ms: i64, tz: Tz) -> Option<i64> {
        // Slots are whole minutes: searching from the whole second at or before `after_ms`
        // (exclusive) finds exactly the slots after it.
        let mut from = at_second(after_ms.div_euclid(1000), tz)?;
        for _ in 0..DST_REJECTS_MAX {
            let candidate = self.cron.find_next_occurrence(&from, false).ok()?;
            if self.runs_at(&candidate, tz) {
                return Some(candidate.timestamp_millis());
            }
            from = candidate;
        }
        None
    }

    /// The last slot at or before `at_ms`, read in `tz`.
    pub(crate) fn last_at_or_before(&self, at_ms: i64, tz: Tz) -> Option<i64> {
        let mut from = at_second(at_ms.div_euclid(1000), tz)?;
        let mut inclusive = true;
        for _ in 0..DST_REJECTS_MAX {
            let candidate = self.cron.find_previous_occurrence(&from, inclusive).ok()?;
            if self.runs_at(&candidate, tz) {
                return Some(candidate.timestamp_millis());
            }
            from = candidate;
            inclusive = false;
        }
        None
    }

    /// EventBridge Scheduler's DST rules: the candidate's wall time must match the pattern
    /// (croner moves a time inside a spring gap to after it) and must be the first
    /// occurrence of that wall time (the autumn hour runs once).
    fn runs_at(&self, candidate: &DateTime<Tz>, tz: Tz) -> bool {
        if !matches!(self.cron.is_time_matching(candidate), Ok(true)) {
            return false;
        }
        match tz.from_local_datetime(&candidate.naive_local()).earliest() {
            Some(first) => first == *candidate,
            None => false,
        }
    }
}

fn at_second(secs: i64, tz: Tz) -> Option<DateTime<Tz>> {
    tz.timestamp_opt(secs, 0).single()
}

/// Checks that `field` uses only the characters and words its position allows, and that
/// `?` stands alone.
fn check_field(field: &str, rule: &FieldRule) -> Result<(), String> {
    if let Some(bad) = field
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || rule.specials.contains(*c)))
    {
        return Err(format!("{bad:?} is not allowed in the {} field", rule.name));
    }
    if field.contains('?') && field != "?" {
        return Err(format!("? must stand alone in the {} field", rule.name));
    }
    for word in field
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        if !rule.words.contains(&word) {
            return Err(format!(
                "{word:?} is not allowed in the {} field",
                rule.name
            ));
        }
    }
    // A weekday name glued to a number ("2MON") is not a form AWS knows; croner's textual
    // replacement would accept it.
    if rule.name == "day-of-week" {
        for part in field.split([',', '-', '#']) {
            let has_name = WEEKDAYS.iter().any(|d| part.contains(d));
            if has_name && !WEEKDAYS.contains(&part) {
                return Err(format!("{part:?} is not a day of the week"));
            }
        }
    }
    Ok(())
}

/// `L` alone in day-of-week is AWS's "last day of the week": Saturday, Quartz's `7`. Croner
/// reads a bare `L` there as a "last" modifier of no weekday, which never matches, so it is
/// handed `7` instead (`5L`, the last Thursday of the month, is left alone).
fn last_day_of_week(dow: &str) -> String {
    dow.split(',')
        .map(|part| if part == "L" { "7" } else { part })
        .collect::<Vec<_>>()
        .join(",")
}

/// Year steps stay within AWS's years: `*/n` counts from 1970 (every other year is 1970,
/// 1972, …) and `a/n` stops at 2199. Croner's year field runs from year 1 to 5000, so it is
/// handed `1970-2199/n` and `a-2199/n`.
fn years_within_range(field: &str) -> String {
    field
        .split(',')
        .map(|part| match part.split_once('/') {
            Some(("*", step)) => format!("{YEAR_MIN}-{YEAR_MAX}/{step}"),
            Some((start, step)) if !start.contains('-') => {
                format!("{start}-{YEAR_MAX}/{step}")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Every year named in the year field lies within [`YEAR_MIN`]–[`YEAR_MAX`].
fn check_years(field: &str) -> Result<(), String> {
    for part in field.split(',') {
        let base = part.split('/').next().unwrap_or(part);
        if base == "*" {
            continue;
        }
        for year in base.split('-') {
            let year: u32 = year
                .parse()
                .map_err(|_| format!("{year:?} is not a year"))?;
            if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
                return Err(format!("years must lie within {YEAR_MIN}-{YEAR_MAX}"));
            }
        }
    }
    Ok(())
}
