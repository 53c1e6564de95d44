//! NL003: a function's timeout against the visibility timeout of each queue it reads.

use crate::thresholds::VISIBILITY_PER_TIMEOUT;
use crate::triggers;
use crate::{Finding, Input, Rule, Severity, finding};

pub(crate) fn check(input: &Input<'_>, out: &mut Vec<Finding>) {
    for f in &input.spec.functions {
        for t in triggers::sqs(f) {
            let q = triggers::source_queue(input, t.queue_arn);
            let Some(attributes) = q.attributes else {
                continue;
            };
            let visibility = triggers::visibility_s(attributes);
            let timeout = f.timeout;
            if timeout.saturating_mul(VISIBILITY_PER_TIMEOUT) <= visibility {
                continue;
            }
            let mut found = finding(
                Rule::TimeoutVsVisibility,
                &f.logical_id,
                format!(
                    "Timeout {timeout} s is above a sixth of {}'s VisibilityTimeout ({visibility} s / {VISIBILITY_PER_TIMEOUT}) read by event {}",
                    q.resource, t.event
                ),
            );
            let longest = visibility / VISIBILITY_PER_TIMEOUT;
            found.fix = format!(
                "set {}'s VisibilityTimeout to at least {} s",
                q.resource,
                timeout.saturating_mul(VISIBILITY_PER_TIMEOUT)
            );
            if longest >= 1 {
                found
                    .fix
                    .push_str(&format!(", or lower Timeout to {longest} s"));
            }
            if timeout > visibility {
                // AWS refuses such a mapping: every long invocation is delivered twice.
                found.severity = Severity::Error;
            }
            out.push(found);
        }
    }
}
