//! Schedule expressions of EventBridge rules (`Type: Schedule`) and EventBridge Scheduler
//! (`Type: ScheduleV2`): `rate(N unit)`, AWS's six-field `cron(…)` and the one-time
//! `at(yyyy-mm-ddThh:mm:ss)`, and the slots (instants, ms since the Unix epoch) they produce.
//!
//! Pure: no clock, no I/O. A caller asks [`ScheduleExpression::next_after`] for the first slot
//! strictly after an instant, so "what is due" is a function of the expression, its anchor and
//! the caller's idea of now, which makes the scheduler testable with a manual clock.
//!
//! Cron arithmetic (`L`, `W`, `#`, month lengths, time zones) is `croner`'s; what is ours is
//! AWS's validation on top of it and the DST rules of EventBridge Scheduler (see [`cron`]).

#![forbid(unsafe_code)]

mod at;
mod cron;
mod rate;

pub use cron::{YEAR_MAX, YEAR_MIN};

use chrono_tz::Tz;

/// EventBridge's answer to an invalid expression (`PutRule` → `ValidationException`).
pub const INVALID_EXPRESSION_MESSAGE: &str = "Parameter ScheduleExpression is not valid.";

/// EventBridge Scheduler's answer to an unknown `ScheduleExpressionTimezone`.
pub const INVALID_TIMEZONE_MESSAGE: &str = "Parameter ScheduleExpressionTimezone is not valid.";

/// Why an expression or time zone was refused. `Display` is EventBridge's wording; the
/// precise reason is kept separately so logs and `nimbus deploy` can say more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The expression is not a valid `rate`, `cron` or `at` expression.
    #[error("Parameter ScheduleExpression is not valid.")]
    InvalidExpression {
        /// The expression as given.
        expression: String,
        /// What is wrong with it (ours, not AWS's).
        reason: String,
    },
    /// The time zone is not an IANA zone name.
    #[error("Parameter ScheduleExpressionTimezone is not valid.")]
    InvalidTimezone {
        /// The zone as given.
        timezone: String,
    },
}

impl ScheduleError {
    /// The detailed reason (ours), for logs and diagnostics.
    pub fn reason(&self) -> String {
        match self {
            ScheduleError::InvalidExpression { reason, .. } => reason.clone(),
            ScheduleError::InvalidTimezone { timezone } => {
                format!("{timezone:?} is not an IANA time zone")
            }
        }
    }

    pub(crate) fn invalid(expression: &str, reason: impl Into<String>) -> Self {
        ScheduleError::InvalidExpression {
            expression: expression.to_string(),
            reason: reason.into(),
        }
    }
}

/// What kind of expression it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    /// `rate(N unit)`: every N units from the anchor.
    Rate,
    /// `cron(…)`: wall-clock times in the expression's time zone.
    Cron,
    /// `at(…)`: once.
    At,
}

/// A parsed schedule expression with its time zone and (for `rate`) its anchor.
#[derive(Debug, Clone)]
pub struct ScheduleExpression {
    text: String,
    timezone: Tz,
    when: When,
}

#[derive(Debug, Clone)]
enum When {
    Rate(rate::Rate),
    Cron(Box<cron::AwsCron>),
    At(i64),
}

impl ScheduleExpression {
    /// Parses an expression as EventBridge Scheduler (ScheduleV2) accepts it: `rate`, `cron`
    /// or `at`, evaluated in `timezone` (an IANA name; `None` is UTC). A `rate` is anchored at
    /// the epoch until [`ScheduleExpression::with_anchor`] says otherwise.
    pub fn parse(expr: &str, timezone: Option<&str>) -> Result<Self, ScheduleError> {
        let timezone = parse_timezone(timezone)?;
        let when = if let Some(inner) = strip_call(expr, "rate") {
            When::Rate(rate::Rate::parse(expr, inner)?)
        } else if let Some(inner) = strip_call(expr, "cron") {
            When::Cron(Box::new(cron::AwsCron::parse(expr, inner)?))
        } else if let Some(inner) = strip_call(expr, "at") {
            When::At(at::parse(expr, inner, timezone)?)
        } else {
            return Err(ScheduleError::invalid(
                expr,
                "expected rate(…), cron(…) or at(…)",
            ));
        };
        Ok(ScheduleExpression {
            text: expr.to_string(),
            timezone,
            when,
        })
    }

    /// Parses an expression as an EventBridge rule (`Type: Schedule`) accepts it: `rate` or
    /// `cron`, always in UTC (rules have no time zone and no one-time schedules).
    pub fn parse_rule(expr: &str) -> Result<Self, ScheduleError> {
        let parsed = Self::parse(expr, None)?;
        if parsed.kind() == ExpressionKind::At {
            return Err(ScheduleError::invalid(
                expr,
                "at(…) is for ScheduleV2 (EventBridge Scheduler) only",
            ));
        }
        Ok(parsed)
    }

    /// Sets the instant `rate` slots are counted from (slots are `anchor + k × period`,
    /// k ≥ 0). Nimbus stores each schedule's creation time as its anchor, so the slots of a
    /// schedule never move when it is re-read after a restart. No effect on `cron` and `at`.
    pub fn with_anchor(mut self, anchor_ms: i64) -> Self {
        if let When::Rate(rate) = &mut self.when {
            rate.anchor_ms = anchor_ms;
        }
        self
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `rate`, `cron` or `at`.
    pub fn kind(&self) -> ExpressionKind {
        match self.when {
            When::Rate(_) => ExpressionKind::Rate,
            When::Cron(_) => ExpressionKind::Cron,
            When::At(_) => ExpressionKind::At,
        }
    }

    /// The time zone `cron` and `at` are read in.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first slot strictly after `after_ms`, or `None` when there is none (an `at` in
    /// the past, a `cron` whose last year is over).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match &self.when {
            When::Rate(rate) => rate.next_after(after_ms),
            When::Cron(cron) => cron.next_after(after_ms, self.timezone),
            When::At(at_ms) => (*at_ms > after_ms).then_some(*at_ms),
        }
    }

    /// The last slot at or before `at_ms`, or `None` when there is none.
    pub fn last_at_or_before(&self, at_ms: i64) -> Option<i64> {
        match &self.when {
            When::Rate(rate) => rate.last_at_or_before(at_ms),
            When::Cron(cron) => cron.last_at_or_before(at_ms, self.timezone),
            When::At(slot) => (*slot <= at_ms).then_some(*slot),
        }
    }
}

/// `name(inner)` → `inner`.
fn strip_call<'a>(expr: &'a str, name: &str) -> Option<&'a str> {
    expr.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn parse_timezone(timezone: Option<&str>) -> Result<Tz, ScheduleError> {
    match timezone {
        None => Ok(Tz::UTC),
        Some(name) => name
            .parse::<Tz>()
            .map_err(|_| ScheduleError::InvalidTimezone {
                timezone: name.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests;
