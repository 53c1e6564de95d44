//! Gathers every family `GET /metrics` shows from the engine's sources: the per-version
//! series (invoke path), admission and the pool ([`Platform::stats`]), the asynchronous
//! event counters and store, the queue engine and the event source mappings.
//!
//! A source that fails to answer (a store error) is logged and left out of that scrape; the
//! rest is still served.

use super::exposition::{Family, Kind, Labels};
use super::series::{OTHER, SERIES_MAX};
use crate::platform::{FunctionStatsSnapshot, Platform, StatsSnapshot};
use nimbus_store::events::state;
use nimbus_store::mappings::MAPPING_LIST_LIMIT_MAX;
use nimbus_store::queues::{QUEUE_LIST_LIMIT_MAX, QueueCounts};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Queues (and, separately, mappings) read per scrape: each costs one store query, so this
/// bounds a scrape's work as the series cap bounds its size.
pub const QUEUES_SCRAPED_MAX: usize = SERIES_MAX;

fn function_labels(function: &str, version: &str) -> Labels {
    vec![
        ("function", function.to_string()),
        ("version", version.to_string()),
    ]
}

fn one(name: &'static str, help: &'static str, kind: Kind, value: f64) -> Family {
    let mut f = Family::new(name, help, kind);
    f.push(Vec::new(), value);
    f
}

/// Every family, in a stable order.
pub(super) async fn families(p: &Platform) -> Vec<Family> {
    let mut out = per_version(p);
    let stats = p.stats();
    out.extend(concurrency(&stats));
    out.extend(asynchronous(p).await);
    out.extend(queues(p).await);
    out
}

/// The invoke path's counters and the Duration histogram, per function and version.
fn per_version(p: &Platform) -> Vec<Family> {
    let snapshot = p.metrics.series.snapshot();
    let mut invocations = Family::new(
        "lambda_invocations_total",
        "Invocations that ran, successful or not (CloudWatch Invocations); throttled requests are not invocations.",
        Kind::Counter,
    );
    let mut errors = Family::new(
        "lambda_errors_total",
        "Invocations that ended in a function error: error, crash, timeout, out of memory, failed Init (CloudWatch Errors).",
        Kind::Counter,
    );
    let mut throttles = Family::new(
        "lambda_throttles_total",
        "Requests refused for concurrency or scaling rate (CloudWatch Throttles).",
        Kind::Counter,
    );
    let mut duration = Family::new(
        "lambda_duration_milliseconds",
        "Time the function spent on each invocation, ms, Init excluded as in REPORT (CloudWatch Duration).",
        Kind::Histogram,
    );
    let mut provisioned = Family::new(
        "lambda_provisioned_concurrency_invocations_total",
        "Invocations that ran on provisioned-concurrency environments (CloudWatch ProvisionedConcurrencyInvocations).",
        Kind::Counter,
    );
    let mut spillover = Family::new(
        "lambda_provisioned_concurrency_spillover_invocations_total",
        "Invocations of a function with provisioned concurrency that ran on on-demand environments (CloudWatch ProvisionedConcurrencySpilloverInvocations).",
        Kind::Counter,
    );
    let mut cold = Family::new(
        "nimbus_cold_starts_total",
        "Invocations that initialised a new environment (REPORT shows an Init Duration) or whose Init failed.",
        Kind::Counter,
    );
    for s in &snapshot.series {
        let labels = function_labels(&s.function, &s.version);
        let c = &s.counts;
        invocations.push(labels.clone(), c.invocations as f64);
        errors.push(labels.clone(), c.errors as f64);
        throttles.push(labels.clone(), c.throttles as f64);
        duration.push_histogram(labels.clone(), c.duration());
        provisioned.push(labels.clone(), c.provisioned_invocations as f64);
        spillover.push(labels.clone(), c.spillover_invocations as f64);
        cold.push(labels, c.cold_starts as f64);
    }
    let folded = one(
        "nimbus_metrics_folded_samples_total",
        "Invocations and throttles counted under function=\"__other__\" because the per-version series cap (1000) was reached.",
        Kind::Counter,
        snapshot.folded_samples as f64,
    );
    vec![
        invocations,
        errors,
        throttles,
        duration,
        provisioned,
        spillover,
        cold,
        folded,
    ]
}

/// Functions' rows capped at [`SERIES_MAX`]: the first ones by name keep their label, the
/// rest (and a real function named `__other__`) are summed into one `__other__` row.
/// Returns the rows and how many were folded.
fn cap_functions(rows: &[FunctionStatsSnapshot]) -> (Vec<FunctionStatsSnapshot>, usize) {
    let mut kept = Vec::new();
    let mut other: Option<FunctionStatsSnapshot> = None;
    let mut folded = 0;
    for row in rows {
        if kept.len() < SERIES_MAX && row.name != OTHER {
            kept.push(row.clone());
            continue;
        }
        folded += 1;
        let o = other.get_or_insert_with(|| FunctionStatsSnapshot {
            name: OTHER.to_string(),
            in_flight: 0,
            reserved: None,
            provisioned: 0,
            provisioned_in_flight: 0,
        });
        o.in_flight += row.in_flight;
        o.provisioned += row.provisioned;
        o.provisioned_in_flight += row.provisioned_in_flight;
        if let Some(r) = row.reserved {
            o.reserved = Some(o.reserved.unwrap_or(0) + r);
        }
    }
    kept.extend(other);
    (kept, folded)
}

/// Concurrency now, per function and for the account, and the limits it runs against.
fn concurrency(stats: &StatsSnapshot) -> Vec<Family> {
    let unreserved_in_flight: u32 = stats
        .functions
        .iter()
        .filter(|f| f.reserved.is_none())
        .map(|f| f.in_flight)
        .sum();
    let (rows, folded) = cap_functions(&stats.functions);
    let mut executions = Family::new(
        "lambda_concurrent_executions",
        "Invocations of the function running now (CloudWatch ConcurrentExecutions).",
        Kind::Gauge,
    );
    let mut provisioned_executions = Family::new(
        "lambda_provisioned_concurrent_executions",
        "Invocations running now on provisioned capacity (CloudWatch ProvisionedConcurrentExecutions).",
        Kind::Gauge,
    );
    let mut utilization = Family::new(
        "lambda_provisioned_concurrency_utilization",
        "Provisioned concurrent executions divided by provisioned concurrency, 0 to 1 (CloudWatch ProvisionedConcurrencyUtilization).",
        Kind::Gauge,
    );
    let mut reserved = Family::new(
        "nimbus_reserved_concurrency",
        "The function's reserved concurrency (functions that have one).",
        Kind::Gauge,
    );
    let mut provisioned = Family::new(
        "nimbus_provisioned_concurrency",
        "Provisioned concurrency configured for the function, over its versions and aliases.",
        Kind::Gauge,
    );
    for f in &rows {
        let labels = vec![("function", f.name.clone())];
        executions.push(labels.clone(), f64::from(f.in_flight));
        if let Some(r) = f.reserved {
            reserved.push(labels.clone(), f64::from(r));
        }
        if f.provisioned > 0 {
            provisioned.push(labels.clone(), f64::from(f.provisioned));
            provisioned_executions.push(labels.clone(), f64::from(f.provisioned_in_flight));
            utilization.push(
                labels,
                f64::from(f.provisioned_in_flight) / f64::from(f.provisioned),
            );
        }
    }
    let mut folded_series = Family::new(
        "nimbus_metrics_folded_series",
        "Functions summed into function=\"__other__\" in this scrape because the series cap (1000) was reached.",
        Kind::Gauge,
    );
    for family in [
        &executions,
        &provisioned_executions,
        &utilization,
        &reserved,
        &provisioned,
    ] {
        folded_series.push(vec![("metric", family.name.to_string())], folded as f64);
    }
    let mut throttles_by_reason = Family::new(
        "nimbus_throttles_by_reason_total",
        "Requests throttled, by the Reason in Lambda's TooManyRequestsException (account-wide, asynchronous accepts included).",
        Kind::Counter,
    );
    for (reason, n) in &stats.throttles {
        throttles_by_reason.push(vec![("reason", reason.clone())], *n as f64);
    }
    let mut environments = Family::new(
        "nimbus_environments",
        "Execution environments alive now, busy or idle.",
        Kind::Gauge,
    );
    let busy = stats.environments.saturating_sub(stats.idle_environments);
    environments.push(vec![("state", "busy".to_string())], busy as f64);
    environments.push(
        vec![("state", "idle".to_string())],
        stats.idle_environments as f64,
    );
    vec![
        executions,
        provisioned_executions,
        utilization,
        reserved,
        provisioned,
        folded_series,
        one(
            "lambda_account_concurrent_executions",
            "Invocations running now in the whole account (CloudWatch ConcurrentExecutions without a dimension).",
            Kind::Gauge,
            f64::from(stats.account.in_flight),
        ),
        one(
            "lambda_unreserved_concurrent_executions",
            "Invocations running now of functions without reserved concurrency (CloudWatch UnreservedConcurrentExecutions).",
            Kind::Gauge,
            f64::from(unreserved_in_flight),
        ),
        one(
            "nimbus_account_concurrency_limit",
            "The account's concurrent executions limit.",
            Kind::Gauge,
            f64::from(stats.account.limit),
        ),
        one(
            "nimbus_unreserved_concurrency_limit",
            "The account limit minus every reservation: what functions without a reservation share.",
            Kind::Gauge,
            f64::from(stats.account.unreserved),
        ),
        throttles_by_reason,
        one(
            "nimbus_admission_spillover_invocations_total",
            "Admissions of functions with provisioned concurrency onto on-demand capacity, account-wide (admission's count).",
            Kind::Counter,
            stats.spillover_invocations as f64,
        ),
        environments,
        one(
            "nimbus_provisioned_environments",
            "Environments kept warm by provisioned concurrency now.",
            Kind::Gauge,
            stats.provisioned_environments as f64,
        ),
        one(
            "nimbus_log_events_dropped_total",
            "Function log events dropped because the log writer was behind.",
            Kind::Counter,
            stats.log_events_dropped as f64,
        ),
    ]
}

/// Asynchronous invocations: counters since start-up and the store's backlog.
async fn asynchronous(p: &Platform) -> Vec<Family> {
    let events = &p.async_events;
    let c = &events.counters;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    let now = crate::clock::now_ms();
    let age_ms = match events.store.events_in_state(state::PENDING, now, 1).await {
        Ok(due) => due
            .first()
            .map_or(0, |e| now.saturating_sub(e.received_ms).max(0)),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: could not read the oldest due event");
            0
        }
    };
    let mut by_state = Family::new(
        "nimbus_async_events",
        "Asynchronous events in the store, by state (pending, running and delivering are the backlog).",
        Kind::Gauge,
    );
    match events.store.count_events_by_state().await {
        Ok(counts) => {
            for (s, n) in counts {
                by_state.push(vec![("state", s)], n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count asynchronous events"),
    }
    let mut received = Family::new(
        "lambda_async_events_received_total",
        "Asynchronous invocations accepted (202), schedules' included (CloudWatch AsyncEventsReceived).",
        Kind::Counter,
    );
    let mut dropped = Family::new(
        "lambda_async_events_dropped_total",
        "Asynchronous events that ended without a successful run: retries exhausted or too old (CloudWatch AsyncEventsDropped).",
        Kind::Counter,
    );
    let mut dead_letter = Family::new(
        "lambda_dead_letter_errors_total",
        "Dead-letter queue deliveries that failed (CloudWatch DeadLetterErrors).",
        Kind::Counter,
    );
    let mut destination = Family::new(
        "lambda_destination_delivery_failures_total",
        "OnSuccess/OnFailure destination deliveries that failed (CloudWatch DestinationDeliveryFailures).",
        Kind::Counter,
    );
    let (per_function, folded) = events.by_function.snapshot();
    for (function, counts) in per_function {
        let label = || vec![("function", function.clone())];
        received.push(label(), counts.received as f64);
        dropped.push(label(), counts.dropped as f64);
        dead_letter.push(label(), counts.dead_letter_errors as f64);
        destination.push(label(), counts.destination_delivery_failures as f64);
    }
    vec![
        received,
        dropped,
        dead_letter,
        destination,
        one(
            "nimbus_async_folded_samples_total",
            "Asynchronous samples counted under function=\"__other__\" because of the cardinality cap.",
            Kind::Counter,
            folded as f64,
        ),
        one(
            "lambda_async_event_age_milliseconds",
            "Age since acceptance of the pending event that has been due longest, 0 when none is due (like CloudWatch AsyncEventAge).",
            Kind::Gauge,
            age_ms as f64,
        ),
        one(
            "nimbus_async_attempts_total",
            "Function attempts made for asynchronous events.",
            Kind::Counter,
            load(&c.attempts),
        ),
        one(
            "nimbus_async_retries_total",
            "Retries scheduled after function errors.",
            Kind::Counter,
            load(&c.retries),
        ),
        by_state,
    ]
}

/// Every queue's depth and oldest message, and each event source mapping's queue age.
async fn queues(p: &Platform) -> Vec<Family> {
    let mut visible = Family::new(
        "sqs_approximate_number_of_messages_visible",
        "Messages available for retrieval (SQS ApproximateNumberOfMessagesVisible).",
        Kind::Gauge,
    );
    let mut not_visible = Family::new(
        "sqs_approximate_number_of_messages_not_visible",
        "Messages received and not yet deleted or visible again (SQS ApproximateNumberOfMessagesNotVisible).",
        Kind::Gauge,
    );
    let mut delayed = Family::new(
        "sqs_approximate_number_of_messages_delayed",
        "Messages not yet visible because of a delay (SQS ApproximateNumberOfMessagesDelayed).",
        Kind::Gauge,
    );
    let mut oldest = Family::new(
        "sqs_approximate_age_of_oldest_message_seconds",
        "Age of the oldest message not deleted, 0 for an empty queue (SQS ApproximateAgeOfOldestMessage).",
        Kind::Gauge,
    );
    let mut iterator_age = Family::new(
        "lambda_iterator_age_milliseconds",
        "For each event source mapping, age of the oldest message of its queue, 0 when empty (like CloudWatch IteratorAge).",
        Kind::Gauge,
    );
    let names = queue_names(p).await;
    let skipped_queues = names.len().saturating_sub(QUEUES_SCRAPED_MAX);
    let mut depths: BTreeMap<String, QueueCounts> = BTreeMap::new();
    for name in names.into_iter().take(QUEUES_SCRAPED_MAX) {
        if let Some(counts) = queue_counts(p, &name).await {
            depths.insert(name, counts);
        }
    }
    let now = p.queues.now_ms();
    let age_ms = |c: &QueueCounts| c.oldest_sent_ms.map_or(0, |t| now.saturating_sub(t).max(0));
    for (name, c) in &depths {
        let labels = vec![("queue", name.clone())];
        visible.push(labels.clone(), c.visible as f64);
        not_visible.push(labels.clone(), c.in_flight as f64);
        delayed.push(labels.clone(), c.delayed as f64);
        oldest.push(labels, (age_ms(c) / 1000) as f64);
    }
    let (mapped, skipped_mappings) = mapped_queues(p).await;
    for (function, queue) in mapped {
        let counts = match depths.get(&queue) {
            Some(c) => Some(*c),
            None => queue_counts(p, &queue).await,
        };
        let age = counts.as_ref().map_or(0, age_ms);
        iterator_age.push(vec![("function", function), ("queue", queue)], age as f64);
    }
    let mut skipped = Family::new(
        "nimbus_metrics_skipped",
        "Queues or event source mappings beyond the 1000 read per scrape, not reported.",
        Kind::Gauge,
    );
    skipped.push(vec![("source", "queues".into())], skipped_queues as f64);
    skipped.push(vec![("source", "mappings".into())], skipped_mappings as f64);
    vec![visible, not_visible, delayed, oldest, iterator_age, skipped]
}

async fn queue_counts(p: &Platform, name: &str) -> Option<QueueCounts> {
    match p.queues.counts(name).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(queue = name, error = %e.message, "metrics: could not count a queue's messages");
            None
        }
    }
}

/// Every queue's name, in name order.
async fn queue_names(p: &Platform) -> Vec<String> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = match p
            .queues
            .list("", after.as_deref(), QUEUE_LIST_LIMIT_MAX)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e.message, "metrics: could not list queues");
                break;
            }
        };
        let full = page.len() == QUEUE_LIST_LIMIT_MAX as usize;
        after = page.last().map(|q| q.name.clone());
        names.extend(page.into_iter().map(|q| q.name));
        if !full || after.is_none() {
            break;
        }
    }
    names
}

/// (function, queue name) of each SQS event source mapping (each pair once), at most
/// [`QUEUES_SCRAPED_MAX`] of them, and how many more there were.
async fn mapped_queues(p: &Platform) -> (Vec<(String, String)>, usize) {
    let mut pairs = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = match p
            .mapping_store
            .list_mappings(after.as_deref(), MAPPING_LIST_LIMIT_MAX)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: could not list event source mappings");
                break;
            }
        };
        let full = page.len() == MAPPING_LIST_LIMIT_MAX as usize;
        after = page.last().map(|m| m.uuid.clone());
        for m in page {
            if let Some(queue) = p.queues.name_from_arn(&m.event_source_arn) {
                pairs.insert((m.function_name, queue));
            }
        }
        if !full || after.is_none() {
            break;
        }
    }
    let skipped = pairs.len().saturating_sub(QUEUES_SCRAPED_MAX);
    (
        pairs.into_iter().take(QUEUES_SCRAPED_MAX).collect(),
        skipped,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, in_flight: u32, reserved: Option<u32>) -> FunctionStatsSnapshot {
        FunctionStatsSnapshot {
            name: name.to_string(),
            in_flight,
            reserved,
            provisioned: 0,
            provisioned_in_flight: 0,
        }
    }

    #[test]
    fn functions_beyond_the_cap_are_summed_into_other() {
        let mut rows: Vec<FunctionStatsSnapshot> = (0..SERIES_MAX + 2)
            .map(|i| row(&format!("f{i:05}"), 1, Some(2)))
            .collect();
        rows.push(row(OTHER, 5, None));
        let (kept, folded) = cap_functions(&rows);
        assert_eq!(folded, 3);
        assert_eq!(kept.len(), SERIES_MAX + 1);
        let other = kept.last().expect("other");
        assert_eq!(other.name, OTHER);
        assert_eq!(other.in_flight, 7);
        assert_eq!(other.reserved, Some(4));
        let (kept, folded) = cap_functions(&rows[..3]);
        assert_eq!((kept.len(), folded), (3, 0));
    }

    #[test]
    fn concurrency_families_follow_the_stats() {
        let stats = StatsSnapshot {
            account: crate::platform::AccountStats {
                limit: 100,
                reserved: 10,
                unreserved: 90,
                in_flight: 4,
            },
            cold_starts: 0,
            warm_starts: 0,
            provisioned_invocations: 0,
            spillover_invocations: 2,
            prebuilt_shells: 0,
            environments: 5,
            idle_environments: 2,
            provisioned_environments: 1,
            throttles: [("ConcurrentInvocationLimitExceeded".to_string(), 3)]
                .into_iter()
                .collect(),
            log_events_dropped: 0,
            functions: vec![
                FunctionStatsSnapshot {
                    provisioned: 4,
                    provisioned_in_flight: 1,
                    ..row("a", 3, None)
                },
                row("b", 1, Some(10)),
            ],
        };
        let text = super::super::exposition::render(&concurrency(&stats));
        for want in [
            "lambda_concurrent_executions{function=\"a\"} 3\n",
            "lambda_concurrent_executions{function=\"b\"} 1\n",
            "lambda_provisioned_concurrent_executions{function=\"a\"} 1\n",
            "lambda_provisioned_concurrency_utilization{function=\"a\"} 0.25\n",
            "nimbus_reserved_concurrency{function=\"b\"} 10\n",
            "nimbus_provisioned_concurrency{function=\"a\"} 4\n",
            "lambda_account_concurrent_executions 4\n",
            "lambda_unreserved_concurrent_executions 3\n",
            "nimbus_unreserved_concurrency_limit 90\n",
            "nimbus_throttles_by_reason_total{reason=\"ConcurrentInvocationLimitExceeded\"} 3\n",
            "nimbus_environments{state=\"busy\"} 3\n",
            "nimbus_metrics_folded_series{metric=\"lambda_concurrent_executions\"} 0\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert!(!text.contains("nimbus_reserved_concurrency{function=\"a\"}"));
    }
}
