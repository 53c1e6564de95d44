//! Where failures go and how long they are retried: NL001 (no dead-letter target) and
//! NL007 (retries bounded by nothing chosen).
//!
//! Asynchronous invocations (schedules, anything with an `EventInvokeConfig`) fail over to
//! the function's `DeadLetterQueue` or `OnFailure` destination. SQS-triggered invocations
//! do not: a failed batch returns to its queue, so the queue's `RedrivePolicy` is what sets
//! failures aside, and the function's DLQ is irrelevant to them.

use std::collections::BTreeMap;

use crate::thresholds::MAX_RECEIVE_COUNT_BOUND;
use crate::triggers::{self, Redrive};
use crate::{Finding, Input, Rule, finding};

pub(crate) fn check(input: &Input<'_>, out: &mut Vec<Finding>) {
    for f in &input.spec.functions {
        if !triggers::is_async(f) || triggers::has_failure_target(f) {
            continue;
        }
        let how = async_sources(f);
        out.push(finding(
            Rule::NoFailureDestination,
            &f.logical_id,
            format!("invoked asynchronously ({how}) with no DeadLetterQueue and no OnFailure destination"),
        ));
        let limits = f.event_invoke_config.as_ref().map_or((None, None), |c| {
            (c.maximum_retry_attempts, c.maximum_event_age_in_seconds)
        });
        if limits == (None, None) {
            out.push(finding(
                Rule::UnboundedRetries,
                &f.logical_id,
                format!(
                    "invoked asynchronously ({how}) with neither MaximumRetryAttempts nor MaximumEventAgeInSeconds set, and no DLQ"
                ),
            ));
        }
    }
    check_source_queues(input, out);
}

/// `Schedule EveryMinute`, `EventInvokeConfig`, or both.
fn async_sources(f: &nimbus_api::stack::FunctionSpec) -> String {
    let mut parts: Vec<String> = triggers::schedules(f)
        .into_iter()
        .map(|name| format!("Schedule {name}"))
        .collect();
    if f.event_invoke_config.is_some() {
        parts.push("EventInvokeConfig".to_string());
    }
    parts.join(", ")
}

/// A queue read by SQS events: its attributes (when known) and who reads it.
struct Readers<'a> {
    attributes: Option<&'a BTreeMap<String, String>>,
    functions: Vec<&'a str>,
}

/// Each queue read by an SQS event, once, however many functions read it.
fn check_source_queues(input: &Input<'_>, out: &mut Vec<Finding>) {
    let mut queues: BTreeMap<String, Readers<'_>> = BTreeMap::new();
    for f in &input.spec.functions {
        for t in triggers::sqs(f) {
            let q = triggers::source_queue(input, t.queue_arn);
            queues
                .entry(q.resource)
                .or_insert(Readers {
                    attributes: q.attributes,
                    functions: Vec::new(),
                })
                .functions
                .push(&f.logical_id);
        }
    }
    for (queue, readers) in queues {
        // A queue outside the stack whose attributes nobody supplied: nothing to check.
        let Some(attributes) = readers.attributes else {
            continue;
        };
        let read_by = readers.functions.join(", ");
        match triggers::redrive(attributes) {
            Redrive::None => {
                out.push(finding(
                    Rule::NoFailureDestination,
                    &queue,
                    format!("SQS source of {read_by} has no RedrivePolicy: failing messages are never set aside"),
                ));
                out.push(finding(
                    Rule::UnboundedRetries,
                    &queue,
                    format!("SQS source of {read_by} has no RedrivePolicy: a failing message is retried until its retention ends"),
                ));
            }
            Redrive::After(count) if count > MAX_RECEIVE_COUNT_BOUND => out.push(finding(
                Rule::UnboundedRetries,
                &queue,
                format!(
                    "RedrivePolicy maxReceiveCount {count} (above {MAX_RECEIVE_COUNT_BOUND}): a poison message runs {count} times before it is set aside"
                ),
            )),
            Redrive::After(_) => {}
        }
    }
}
