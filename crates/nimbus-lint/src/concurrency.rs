//! How far a function can scale: NL002 (batch/async without a cap), NL008 (provisioned
//! concurrency with no alias to hold it) and NL009 (public route without a cap).

use crate::triggers;
use crate::{Finding, Input, Rule, finding};

pub(crate) fn check(input: &Input<'_>, out: &mut Vec<Finding>) {
    for f in &input.spec.functions {
        let capped = f.reserved_concurrency.is_some();
        let sqs = triggers::sqs(f);
        let schedules = triggers::schedules(f);
        // An SQS mapping with MaximumConcurrency caps itself; a schedule never does.
        let uncapped_sqs: Vec<&str> = sqs
            .iter()
            .filter(|t| t.maximum_concurrency.is_none())
            .map(|t| t.event)
            .collect();
        if !capped && (!uncapped_sqs.is_empty() || !schedules.is_empty()) {
            let mut what: Vec<String> = uncapped_sqs.iter().map(|e| format!("SQS {e}")).collect();
            what.extend(schedules.iter().map(|e| format!("Schedule {e}")));
            out.push(finding(
                Rule::NoConcurrencyCap,
                &f.logical_id,
                format!(
                    "batch/async triggers ({}) and no ReservedConcurrentExecutions",
                    what.join(", ")
                ),
            ));
        }
        if f.provisioned_concurrency.is_some_and(|n| n > 0) && f.auto_publish_alias.is_none() {
            out.push(finding(
                Rule::ProvisionedWithoutAlias,
                &f.logical_id,
                format!(
                    "ProvisionedConcurrentExecutions {} without AutoPublishAlias",
                    f.provisioned_concurrency.unwrap_or_default()
                ),
            ));
        }
        let routes = triggers::public_routes(f);
        if !capped && !routes.is_empty() {
            out.push(finding(
                Rule::PublicWithoutThrottle,
                &f.logical_id,
                format!(
                    "public {} and no ReservedConcurrentExecutions",
                    routes.join(", ")
                ),
            ));
        }
    }
}
