//! The built-in health check every deployment runs, alarms or not: the new version's error
//! rate since the deployment started.

use crate::version_metrics::Totals;

/// Error rate of the new version above which a deployment rolls back. 0 means any function
/// error of the new version rolls it back: a version about to take all of an alias's traffic
/// must not fail at all while it takes a share of it (alarms can be laxer per metric).
pub const ROLLBACK_ERROR_RATE: f64 = 0.0;

/// Why the new version is unhealthy, if it is: at least one error, and errors / invocations
/// above `max_rate`.
pub fn error_rate_reason(totals: &Totals, version: &str, max_rate: f64) -> Option<String> {
    if totals.errors == 0 || totals.invocations == 0 {
        return None;
    }
    let rate = totals.errors as f64 / totals.invocations as f64;
    (rate > max_rate).then(|| {
        format!(
            "error rate of version {version} since the deployment started: {} of {} \
             invocations failed ({:.1} %, limit {:.1} %)",
            totals.errors,
            totals.invocations,
            rate * 100.0,
            max_rate * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(invocations: u64, errors: u64) -> Totals {
        Totals {
            invocations,
            errors,
            ..Totals::default()
        }
    }

    #[test]
    fn any_error_trips_the_default_rate() {
        assert_eq!(
            error_rate_reason(&totals(0, 0), "2", ROLLBACK_ERROR_RATE),
            None
        );
        assert_eq!(
            error_rate_reason(&totals(100, 0), "2", ROLLBACK_ERROR_RATE),
            None
        );
        let reason = error_rate_reason(&totals(100, 1), "2", ROLLBACK_ERROR_RATE).expect("trips");
        assert!(reason.contains("version 2"), "{reason}");
        assert!(
            reason.contains("1 of 100 invocations failed (1.0 %"),
            "{reason}"
        );
    }

    #[test]
    fn a_laxer_rate_needs_more_errors() {
        assert_eq!(error_rate_reason(&totals(10, 1), "2", 0.1), None);
        assert!(error_rate_reason(&totals(10, 2), "2", 0.1).is_some());
        // Errors without invocations cannot happen, and do not trip.
        assert_eq!(error_rate_reason(&totals(0, 3), "2", 0.1), None);
    }
}
