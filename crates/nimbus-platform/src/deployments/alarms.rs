//! A small CloudWatch-like alarm evaluator over per-minute [`Totals`]: pure, so it is tested
//! without an engine.
//!
//! Semantics, as CloudWatch with `DatapointsToAlarm = EvaluationPeriods`: the alarm is in
//! ALARM when each of the last `EvaluationPeriods` periods (the newest one being the current,
//! still open period) breaches the threshold. Lambda publishes one data point per invocation
//! (value 1 for `Invocations`, 0/1 for `Errors`, the duration for `Duration`) and one per
//! throttled request for `Throttles`, so the statistics are:
//!
//! | metric      | Sum             | SampleCount  | Average          | Maximum           |
//! |-------------|-----------------|--------------|------------------|-------------------|
//! | Invocations | invocations     | invocations  | 1                | 1                 |
//! | Errors      | errors          | invocations  | errors / invoc.  | 1 if any error    |
//! | Throttles   | throttles       | throttles    | 1                | 1                 |
//! | Duration    | Σ duration (ms) | invocations  | mean (ms)        | longest (ms)      |
//!
//! A period without data points is missing, and missing data is treated as not breaching
//! (CloudWatch's `TreatMissingData: notBreaching`): a deployment is not rolled back for lack
//! of traffic.

use crate::version_metrics::{RETENTION_MINUTES, Totals};
use nimbus_api::stack::AlarmSpec;

/// Seconds in a period unit: Lambda's metrics have one-minute resolution.
const PERIOD_UNIT_S: i64 = 60;

/// `MetricName` (namespace `AWS/Lambda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `Invocations`.
    Invocations,
    /// `Errors`.
    Errors,
    /// `Throttles`.
    Throttles,
    /// `Duration`.
    Duration,
}

/// `Statistic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// `Sum`.
    Sum,
    /// `Average`.
    Average,
    /// `Maximum`.
    Maximum,
    /// `SampleCount`.
    SampleCount,
}

/// `ComparisonOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanThreshold`.
    Greater,
    /// `GreaterThanOrEqualToThreshold`.
    GreaterOrEqual,
    /// `LessThanThreshold`.
    Less,
    /// `LessThanOrEqualToThreshold`.
    LessOrEqual,
}

impl Comparison {
    fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// An [`AlarmSpec`] checked and parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRule {
    /// The alarm's name (for reasons).
    pub name: String,
    /// What is measured.
    pub metric: Metric,
    /// How a period's data points are reduced.
    pub statistic: Statistic,
    /// Minutes per period.
    pub period_minutes: usize,
    /// Periods that must all breach.
    pub evaluation_periods: usize,
    /// The threshold.
    pub threshold: f64,
    /// How the statistic is compared with it.
    pub comparison: Comparison,
}

impl AlarmRule {
    /// Checks an alarm; the error says what is wrong and what is accepted.
    pub fn parse(spec: &AlarmSpec) -> Result<AlarmRule, String> {
        let name = if spec.alarm_name.is_empty() {
            spec.logical_id.clone()
        } else {
            spec.alarm_name.clone()
        };
        let metric = match spec.metric_name.as_str() {
            "Invocations" => Metric::Invocations,
            "Errors" => Metric::Errors,
            "Throttles" => Metric::Throttles,
            "Duration" => Metric::Duration,
            other => {
                return Err(format!(
                    "alarm {name}: metric {other:?} is not one Nimbus measures (Errors, \
                     Throttles, Invocations, Duration)"
                ));
            }
        };
        let statistic = match spec.statistic.as_str() {
            "Sum" => Statistic::Sum,
            "Average" => Statistic::Average,
            "Maximum" => Statistic::Maximum,
            "SampleCount" => Statistic::SampleCount,
            other => {
                return Err(format!(
                    "alarm {name}: statistic {other:?} is not supported (Sum, Average, \
                     Maximum, SampleCount)"
                ));
            }
        };
        let comparison = match spec.comparison_operator.as_str() {
            "GreaterThanThreshold" => Comparison::Greater,
            "GreaterThanOrEqualToThreshold" => Comparison::GreaterOrEqual,
            "LessThanThreshold" => Comparison::Less,
            "LessThanOrEqualToThreshold" => Comparison::LessOrEqual,
            other => {
                return Err(format!(
                    "alarm {name}: comparison {other:?} is not supported \
                     (GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, \
                     LessThanOrEqualToThreshold)"
                ));
            }
        };
        if spec.period <= 0 || spec.period % PERIOD_UNIT_S != 0 {
            return Err(format!(
                "alarm {name}: Period must be a positive multiple of {PERIOD_UNIT_S} seconds \
                 (Lambda's metrics have one-minute resolution), got {}",
                spec.period
            ));
        }
        if spec.evaluation_periods <= 0 {
            return Err(format!(
                "alarm {name}: EvaluationPeriods must be at least 1, got {}",
                spec.evaluation_periods
            ));
        }
        let period_minutes = spec.period / PERIOD_UNIT_S;
        if period_minutes.saturating_mul(spec.evaluation_periods) > RETENTION_MINUTES {
            return Err(format!(
                "alarm {name}: Period × EvaluationPeriods must be at most {} seconds \
                 (Nimbus keeps {RETENTION_MINUTES} minutes of metrics), got {}",
                RETENTION_MINUTES * PERIOD_UNIT_S,
                spec.period.saturating_mul(spec.evaluation_periods)
            ));
        }
        if !spec.threshold.is_finite() {
            return Err(format!("alarm {name}: Threshold must be a finite number"));
        }
        Ok(AlarmRule {
            name,
            metric,
            statistic,
            period_minutes: usize::try_from(period_minutes).unwrap_or(1),
            evaluation_periods: usize::try_from(spec.evaluation_periods).unwrap_or(1),
            threshold: spec.threshold,
            comparison,
        })
    }

    /// Minutes of data [`AlarmRule::evaluate`] needs.
    pub fn window_minutes(&self) -> usize {
        self.period_minutes * self.evaluation_periods
    }

    /// The statistic of one period, `None` when it has no data points.
    pub fn statistic_of(&self, t: &Totals) -> Option<f64> {
        let (count, sum, max) = match self.metric {
            Metric::Invocations => (t.invocations, t.invocations as f64, 1.0),
            Metric::Errors => (
                t.invocations,
                t.errors as f64,
                if t.errors > 0 { 1.0 } else { 0.0 },
            ),
            Metric::Throttles => (t.throttles, t.throttles as f64, 1.0),
            Metric::Duration => (t.invocations, t.duration_sum_ms, t.duration_max_ms),
        };
        if count == 0 {
            return None;
        }
        Some(match self.statistic {
            Statistic::Sum => sum,
            Statistic::SampleCount => count as f64,
            Statistic::Average => sum / count as f64,
            Statistic::Maximum => max,
        })
    }

    /// Evaluates the alarm on per-minute totals, oldest first, the last one being the current
    /// minute. Fewer minutes than [`AlarmRule::window_minutes`] count as missing periods.
    /// Returns the newest period's value when the alarm is in ALARM.
    pub fn evaluate(&self, minutes: &[Totals]) -> Option<f64> {
        if minutes.len() < self.window_minutes() {
            return None;
        }
        let recent = &minutes[minutes.len() - self.window_minutes()..];
        let mut newest = None;
        for period in recent.chunks(self.period_minutes) {
            let mut totals = Totals::default();
            for t in period {
                totals.add(t);
            }
            let value = self.statistic_of(&totals)?;
            if !self.comparison.breaches(value, self.threshold) {
                return None;
            }
            newest = Some(value);
        }
        newest
    }

    /// Why the alarm rolls a deployment back, e.g.
    /// `alarm HighErrors: Errors Sum 3 > 0 for 1 period(s) of 60 s`.
    pub fn reason(&self, value: f64) -> String {
        format!(
            "alarm {}: {:?} {:?} {} {} {} for {} period(s) of {} s",
            self.name,
            self.metric,
            self.statistic,
            value,
            self.comparison.symbol(),
            self.threshold,
            self.evaluation_periods,
            self.period_minutes as i64 * PERIOD_UNIT_S
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(metric: &str, statistic: &str, period: i64, periods: i64, threshold: f64) -> AlarmSpec {
        AlarmSpec {
            logical_id: "A".into(),
            alarm_name: "stack-A".into(),
            metric_name: metric.into(),
            function_name: Some("f".into()),
            resource: None,
            statistic: statistic.into(),
            period,
            evaluation_periods: periods,
            threshold,
            comparison_operator: "GreaterThanThreshold".into(),
        }
    }

    fn ran(invocations: u64, errors: u64, duration_each: f64) -> Totals {
        Totals {
            invocations,
            errors,
            throttles: 0,
            duration_sum_ms: invocations as f64 * duration_each,
            duration_max_ms: if invocations > 0 { duration_each } else { 0.0 },
        }
    }

    fn rule(s: &AlarmSpec) -> AlarmRule {
        AlarmRule::parse(s).expect("valid alarm")
    }

    #[test]
    fn errors_sum_over_one_period() {
        let r = rule(&spec("Errors", "Sum", 60, 1, 0.0));
        assert_eq!(r.evaluate(&[ran(5, 0, 1.0)]), None);
        assert_eq!(r.evaluate(&[ran(5, 2, 1.0)]), Some(2.0));
        // Only the newest minute counts for a one-minute period.
        assert_eq!(r.evaluate(&[ran(5, 2, 1.0), ran(5, 0, 1.0)]), None);
        assert!(r.reason(2.0).contains("alarm stack-A: Errors Sum 2 > 0"));
    }

    #[test]
    fn every_evaluation_period_must_breach() {
        let r = rule(&spec("Errors", "Sum", 60, 2, 0.0));
        assert_eq!(r.evaluate(&[ran(1, 1, 1.0), ran(1, 1, 1.0)]), Some(1.0));
        assert_eq!(r.evaluate(&[ran(1, 0, 1.0), ran(1, 1, 1.0)]), None);
        // Too little history: missing periods do not breach.
        assert_eq!(r.evaluate(&[ran(1, 1, 1.0)]), None);
    }

    #[test]
    fn periods_longer_than_a_minute_sum_their_minutes() {
        let r = rule(&spec("Invocations", "Sum", 120, 1, 3.0));
        assert_eq!(r.evaluate(&[ran(2, 0, 1.0), ran(2, 0, 1.0)]), Some(4.0));
        assert_eq!(
            r.evaluate(&[ran(9, 0, 1.0), ran(1, 0, 1.0), ran(2, 0, 1.0)]),
            None
        );
    }

    #[test]
    fn missing_data_is_not_breaching() {
        let mut s = spec("Invocations", "Sum", 60, 1, 5.0);
        s.comparison_operator = "LessThanThreshold".into();
        let r = rule(&s);
        assert_eq!(r.evaluate(&[Totals::default()]), None);
        assert_eq!(r.evaluate(&[ran(1, 0, 1.0)]), Some(1.0));
    }

    #[test]
    fn statistics_follow_lambdas_data_points() {
        let t = Totals {
            invocations: 4,
            errors: 1,
            throttles: 3,
            duration_sum_ms: 100.0,
            duration_max_ms: 70.0,
        };
        let v = |metric: &str, statistic: &str| {
            rule(&spec(metric, statistic, 60, 1, 0.0)).statistic_of(&t)
        };
        assert_eq!(v("Errors", "Sum"), Some(1.0));
        assert_eq!(v("Errors", "Average"), Some(0.25));
        assert_eq!(v("Errors", "Maximum"), Some(1.0));
        assert_eq!(v("Errors", "SampleCount"), Some(4.0));
        assert_eq!(v("Invocations", "Sum"), Some(4.0));
        assert_eq!(v("Invocations", "Average"), Some(1.0));
        assert_eq!(v("Throttles", "Sum"), Some(3.0));
        assert_eq!(v("Throttles", "SampleCount"), Some(3.0));
        assert_eq!(v("Duration", "Average"), Some(25.0));
        assert_eq!(v("Duration", "Maximum"), Some(70.0));
        assert_eq!(v("Duration", "Sum"), Some(100.0));
        let idle = Totals::default();
        assert_eq!(
            rule(&spec("Duration", "Average", 60, 1, 0.0)).statistic_of(&idle),
            None
        );
    }

    #[test]
    fn comparisons() {
        let mut s = spec("Duration", "Maximum", 60, 1, 70.0);
        for (op, want) in [
            ("GreaterThanThreshold", false),
            ("GreaterThanOrEqualToThreshold", true),
            ("LessThanThreshold", false),
            ("LessThanOrEqualToThreshold", true),
        ] {
            s.comparison_operator = op.into();
            assert_eq!(
                rule(&s).evaluate(&[ran(1, 0, 70.0)]).is_some(),
                want,
                "{op}"
            );
        }
    }

    #[test]
    fn bad_alarms_are_refused_with_what_is_accepted() {
        let err = |s: AlarmSpec| AlarmRule::parse(&s).expect_err("refused");
        assert!(err(spec("ConcurrentExecutions", "Sum", 60, 1, 0.0)).contains("Errors"));
        assert!(err(spec("Errors", "p99", 60, 1, 0.0)).contains("SampleCount"));
        assert!(err(spec("Errors", "Sum", 30, 1, 0.0)).contains("multiple of 60"));
        assert!(err(spec("Errors", "Sum", 60, 0, 0.0)).contains("EvaluationPeriods"));
        assert!(err(spec("Errors", "Sum", 600, 7, 0.0)).contains("at most 3600"));
        let mut s = spec("Errors", "Sum", 60, 1, 0.0);
        s.comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold".into();
        assert!(err(s).contains("GreaterThanThreshold"));
        assert!(err(spec("Errors", "Sum", 60, 1, f64::NAN)).contains("finite"));
    }
}
