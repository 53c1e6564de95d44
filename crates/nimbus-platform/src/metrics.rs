//! Metrics: `GET /metrics` in the Prometheus text format under Lambda's CloudWatch metric
//! names, and the JSON summary behind `nimbus metrics`.
//!
//! # Names
//!
//! CloudWatch's `AWS/Lambda` metric `CamelCase` becomes `lambda_snake_case`, counters end in
//! `_total`, and units are in the name. Per-invocation metrics carry `function` and
//! `version` labels (an alias counts under the version it routed to); concurrency gauges
//! carry `function` only (admission counts per function).
//!
//! | CloudWatch                                   | Prometheus                                                   | kind      | labels            |
//! |----------------------------------------------|--------------------------------------------------------------|-----------|-------------------|
//! | Invocations                                  | `lambda_invocations_total`                                   | counter   | function, version |
//! | Errors                                       | `lambda_errors_total`                                        | counter   | function, version |
//! | Throttles                                    | `lambda_throttles_total`                                     | counter   | function, version |
//! | Duration (ms)                                | `lambda_duration_milliseconds`                               | histogram | function, version |
//! | ProvisionedConcurrencyInvocations            | `lambda_provisioned_concurrency_invocations_total`           | counter   | function, version |
//! | ProvisionedConcurrencySpilloverInvocations   | `lambda_provisioned_concurrency_spillover_invocations_total` | counter   | function, version |
//! | ConcurrentExecutions (per function)          | `lambda_concurrent_executions`                               | gauge     | function          |
//! | ConcurrentExecutions (account)               | `lambda_account_concurrent_executions`                       | gauge     |                   |
//! | UnreservedConcurrentExecutions               | `lambda_unreserved_concurrent_executions`                    | gauge     |                   |
//! | ProvisionedConcurrentExecutions              | `lambda_provisioned_concurrent_executions`                   | gauge     | function          |
//! | ProvisionedConcurrencyUtilization            | `lambda_provisioned_concurrency_utilization` (0–1)           | gauge     | function          |
//! | AsyncEventsReceived                          | `lambda_async_events_received_total`                         | counter   | function          |
//! | AsyncEventsDropped                           | `lambda_async_events_dropped_total`                          | counter   | function          |
//! | AsyncEventAge                                | `lambda_async_event_age_milliseconds` (oldest due event)     | gauge     |                   |
//! | DeadLetterErrors                             | `lambda_dead_letter_errors_total`                            | counter   | function          |
//! | DestinationDeliveryFailures                  | `lambda_destination_delivery_failures_total`                 | counter   | function          |
//! | IteratorAge (SQS mappings: oldest message)   | `lambda_iterator_age_milliseconds`                           | gauge     | function, queue   |
//! | SQS ApproximateNumberOfMessagesVisible / NotVisible / Delayed | `sqs_approximate_number_of_messages_{visible,not_visible,delayed}` | gauge | queue |
//! | SQS ApproximateAgeOfOldestMessage            | `sqs_approximate_age_of_oldest_message_seconds`              | gauge     | queue             |
//!
//! Lambda has no separate "ConcurrencySpilloverInvocations": spillover is the provisioned
//! one above; admission's own account-wide count is `nimbus_admission_spillover_invocations_total`.
//! Nimbus adds `nimbus_*` families: cold starts per version, reserved and provisioned
//! concurrency, account limits, throttles by reason, environments, the asynchronous backlog
//! by state, and the cap's bookkeeping. The asynchronous counters are per function, without
//! a version (an event is accepted before a version is chosen), capped like the rest.
//!
//! # Cardinality
//!
//! Every labelled family has at most [`series::SERIES_MAX`] (1,000) series. Per-version
//! series are made on first use and kept; samples of any further (function, version) are
//! counted under `function="__other__",version="__other__"` and in
//! `nimbus_metrics_folded_samples_total`. Per-function gauges keep the first 1,000 functions by
//! name and sum the rest into `function="__other__"` (`nimbus_metrics_folded_series`). A
//! scrape reads at most 1,000 queues and 1,000 mappings (`nimbus_metrics_skipped`).
//!
//! # Why hand-rolled
//!
//! `metrics` + `metrics-exporter-prometheus` were considered: the cap must be applied before
//! a sample reaches the facade anyway, the gauges are read from engine state at scrape time
//! rather than pushed, and the facade's recorder is process-global while tests run several
//! platforms in one process. The text format is small and exactly specified
//! ([`exposition`]), and its unit tests pin it; the end-to-end suite parses it with
//! Prometheus's own Python client parser.

pub mod exposition;
mod scrape;
pub mod series;
pub mod sketch;
pub mod summary;

use crate::clock::SharedClock;
use crate::env::Env;
use crate::model::FunctionVersion;
use crate::platform::Platform;

/// The metrics state the invoke path feeds.
#[derive(Debug)]
pub struct Metrics {
    /// Monotonic counters and the Duration histogram per (function, version).
    pub(crate) series: series::SeriesTable,
    /// Duration sketches and cold starts per slot, for the summary.
    pub(crate) sketches: sketch::Sketches,
}

impl Metrics {
    /// Empty metrics; the sketches' slots follow `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Metrics {
            series: series::SeriesTable::default(),
            sketches: sketch::Sketches::new(clock),
        }
    }

    /// Counts a throttled request for `function`'s `version`.
    pub(crate) fn record_throttle(&self, function: &str, version: &str) {
        self.series.throttle(function, version);
    }
}

impl Platform {
    /// The invoke path's hook, beside `count_invocation`: an invocation of `function` ran
    /// for `duration_ms`. `init_ms` is set when it initialised a new environment; `env` is
    /// `None` when Init failed (a cold start too).
    pub(crate) fn record_metrics(
        &self,
        function: &FunctionVersion,
        function_error: bool,
        duration_ms: f64,
        init_ms: Option<f64>,
        env: Option<&Env>,
    ) {
        let cold = init_ms.is_some() || env.is_none();
        let provisioned = env.is_some_and(Env::is_provisioned);
        let spillover =
            !provisioned && self.admission.function_stats(&function.name).provisioned > 0;
        let observation = series::Observation {
            function_error,
            duration_ms,
            cold,
            provisioned,
            spillover,
        };
        self.metrics
            .series
            .observe(&function.name, &function.version, &observation);
        self.metrics
            .sketches
            .record(&function.name, &function.version, duration_ms, cold);
    }

    /// `GET /metrics`: every family in the Prometheus text format
    /// ([`exposition::CONTENT_TYPE`]).
    pub async fn prometheus_metrics(&self) -> String {
        exposition::render(&scrape::families(self).await)
    }
}
