//! Metering: one durable record per invocation attempt, taken from the very values its
//! `REPORT` line prints (billed ms, memory, max memory used, init), so a bill and the logs
//! can never disagree; the intervals provisioned concurrency was configured; and the cost
//! report priced by `nimbus-cost`.
//!
//! Recording never slows an invocation: the invoke path pushes into a bounded queue
//! ([`METERING_QUEUE_MAX`]; when full the record is dropped and counted) and a writer task
//! stores batches of up to [`METERING_BATCH_MAX`] records, or whatever arrived within
//! [`METERING_FLUSH_INTERVAL`], in one transaction ([`writer`]). Reads flush the queue first,
//! so a report includes every invocation that has answered. Records older than the retention
//! are pruned every [`METERING_PRUNE_INTERVAL`].
//!
//! Billing rules (see `docs/compat.md`, "Metering and cost"):
//! * billed ms = ⌈Duration⌉, plus Init when init is billed: always for `provided*` runtimes
//!   (as Lambda always did), and for every runtime when [`MeteringConfig::bill_init`] is on
//!   (Lambda since 2025-08-01; the default);
//! * provisioned concurrency is billed per GB-s while configured ([`provisioned`]), and the
//!   invocations it serves at the provisioned duration rate.

pub mod crossover;
pub mod provisioned;
pub mod report;
pub mod writer;

pub use nimbus_cost;
pub use nimbus_store::metering::MinuteStatsRow;
pub use report::{
    CostError, CostLine, CostReport, FunctionCost, MeteringListing, MeteringRecordView,
};
pub use writer::Metering;

use crate::logs::ReportStatus;
use crate::model::FunctionVersion;
use crate::platform::Platform;
use crate::runtimes::Family;
use nimbus_cost::Arch;
use nimbus_store::MeteringRecord;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Lambda bills Init for every on-demand invocation since 2025-08-01; `--bill-init false`
/// restores the earlier rule (Init free except for custom runtimes).
pub const BILL_INIT_DEFAULT: bool = true;

/// How long invocation records and provisioned intervals are kept: a month of history is
/// enough for a monthly bill and for the month projection. Ours, configurable.
pub const METERING_RETENTION_DEFAULT: Duration = Duration::from_secs(30 * 24 * 3600);

/// Records waiting for the writer; when full, records are dropped and counted rather than
/// blocking invocations (about 300 bytes each: ~20 MB at worst). Ours.
pub const METERING_QUEUE_MAX: usize = 65_536;

/// Records stored per transaction (one fsync each). Ours.
pub const METERING_BATCH_MAX: usize = 1_000;

/// Longest a record waits for its batch to fill: the bill lags invocations by at most this
/// (reads flush anyway). Ours.
pub const METERING_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// How often records past the retention are deleted (and once at start-up). Ours.
pub const METERING_PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// Records a metering listing returns when no limit is asked for. Ours.
pub const METERING_LIST_DEFAULT: u32 = 100;

/// Billing rules and retention (`PlatformConfig::metering`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteringConfig {
    /// Bill Init of on-demand invocations of managed runtimes (custom runtimes always are).
    pub bill_init: bool,
    /// How long records are kept.
    pub retention: Duration,
}

impl Default for MeteringConfig {
    fn default() -> Self {
        Self {
            bill_init: BILL_INIT_DEFAULT,
            retention: METERING_RETENTION_DEFAULT,
        }
    }
}

/// What made an invocation happen, as far as the invoke request can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The Invoke API, `RequestResponse`.
    Sync,
    /// An asynchronous event attempt (`Event` invokes, destinations, schedules: a schedule
    /// fires by enqueuing an asynchronous event).
    Async,
    /// An event source mapping's batch.
    Queue,
    /// The gateway: an API route or a function URL.
    Gateway,
    /// A traffic-shifting deployment's PreTraffic/PostTraffic hook.
    DeploymentHook,
}

impl Trigger {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Sync => "sync",
            Trigger::Async => "async",
            Trigger::Queue => "queue",
            Trigger::Gateway => "gateway",
            Trigger::DeploymentHook => "deployment-hook",
        }
    }
}

/// Whether an invocation's Init is billed under `config`: custom runtimes always (Lambda
/// billed their Init before 2025 too), every runtime when `bill_init` is on.
pub fn init_billed(config: &MeteringConfig, runtime: &str) -> bool {
    config.bill_init || crate::runtimes::family_of(runtime) == Some(Family::Provided)
}

/// REPORT's `Billed Duration`: ⌈Duration (+ Init when billed)⌉ in 1 ms steps.
pub fn billed_ms(duration_ms: f64, init_ms: Option<f64>, init_is_billed: bool) -> u64 {
    let init = if init_is_billed {
        init_ms.unwrap_or(0.0)
    } else {
        0.0
    };
    crate::logs::billed_ms(duration_ms + init)
}

/// One invocation attempt as the invoke path knows it when it writes the REPORT line.
pub(crate) struct Attempt<'a> {
    pub request_id: &'a str,
    pub function: &'a FunctionVersion,
    pub trigger: Trigger,
    /// It started a new environment.
    pub cold: bool,
    /// It ran on a provisioned-concurrency environment.
    pub provisioned: bool,
    /// REPORT's Init Duration.
    pub init_ms: Option<f64>,
    /// REPORT's Duration.
    pub duration_ms: f64,
    /// REPORT's Billed Duration.
    pub billed_ms: u64,
    /// REPORT's Max Memory Used.
    pub max_memory_used_mb: u64,
    /// REPORT's Status.
    pub status: Option<&'a ReportStatus>,
    /// The function returned an error.
    pub function_error: bool,
}

impl Attempt<'_> {
    /// The stored record; it started at `now_ms` minus its Duration and Init.
    fn record(&self, now_ms: i64) -> MeteringRecord {
        let (outcome, error_type) = match (self.status, self.function_error) {
            (Some(ReportStatus::Timeout), _) => ("timeout", None),
            (Some(ReportStatus::Error(t)), _) => ("error", Some(t.clone())),
            (None, true) => ("function_error", None),
            (None, false) => ("success", None),
        };
        let elapsed_ms = self.duration_ms + self.init_ms.unwrap_or(0.0);
        let config = &self.function.config;
        MeteringRecord {
            request_id: self.request_id.to_string(),
            function_name: self.function.name.clone(),
            version: self.function.version.clone(),
            trigger: self.trigger.as_str().to_string(),
            cold: self.cold,
            provisioned: self.provisioned,
            architecture: Arch::of_function(&config.architectures)
                .as_str()
                .to_string(),
            init_ms: self.init_ms,
            duration_ms: self.duration_ms,
            billed_ms: i64::try_from(self.billed_ms).unwrap_or(i64::MAX),
            memory_mb: i64::from(config.memory_mb),
            max_memory_used_mb: i64::try_from(self.max_memory_used_mb).unwrap_or(i64::MAX),
            ephemeral_mb: i64::from(config.ephemeral_mb),
            outcome: outcome.to_string(),
            error_type,
            started_ms: now_ms.saturating_sub(elapsed_ms.round() as i64),
        }
    }
}

impl Platform {
    /// Whether `function`'s Init is billed (see [`init_billed`]).
    pub(crate) fn init_billed(&self, function: &FunctionVersion) -> bool {
        init_billed(&self.config.metering, &function.config.runtime)
    }

    /// Records an invocation attempt (never blocks; see [`Metering::record`]).
    pub(crate) fn meter(&self, attempt: Attempt<'_>) {
        self.metering
            .record(attempt.record(self.config.clock.now_ms()));
    }

    /// Stores what is queued and the provisioned concurrency accrued so far. At shutdown,
    /// after the environments are gone.
    pub(crate) async fn stop_metering(&self) {
        self.sample_provisioned().await;
        self.metering.flush().await;
        self.metering.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CodeInfo, FunctionConfig};

    fn function(runtime: &str) -> FunctionVersion {
        FunctionVersion {
            name: "f".into(),
            version: "3".into(),
            revision_id: "r".into(),
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            config: FunctionConfig {
                runtime: runtime.into(),
                handler: "app.handler".into(),
                role: "role".into(),
                description: String::new(),
                timeout_s: 3,
                memory_mb: 256,
                ephemeral_mb: 1024,
                environment: Default::default(),
                architectures: vec!["arm64".into()],
                tracing_mode: String::new(),
                layers: vec![],
                dead_letter_target: None,
                kms_key_arn: None,
                log_format: None,
                log_group: None,
                application_log_level: None,
                system_log_level: None,
                tags: Default::default(),
            },
            code: CodeInfo {
                sha256_hex: String::new(),
                sha256_b64: String::new(),
                size: 0,
                unzipped_size: 0,
            },
            created_ms: 0,
            last_modified_ms: 0,
            last_published: 0,
            published_from_revision: None,
        }
    }

    #[test]
    fn billed_duration_adds_init_only_when_billed() {
        assert_eq!(billed_ms(38.66, Some(203.69), false), 39);
        assert_eq!(billed_ms(38.66, Some(203.69), true), 243);
        // The example of lambda-compat §12: init 1293.83 + duration 1049.63 → 2344.
        assert_eq!(billed_ms(1049.63, Some(1293.83), true), 2344);
        assert_eq!(billed_ms(0.0, None, true), 0);
        assert_eq!(billed_ms(3000.0, None, true), 3000);
    }

    #[test]
    fn custom_runtimes_always_bill_init() {
        let off = MeteringConfig {
            bill_init: false,
            ..MeteringConfig::default()
        };
        assert!(!init_billed(&off, "python3.12"));
        assert!(init_billed(&off, "provided.al2023"));
        assert!(init_billed(&MeteringConfig::default(), "python3.12"));
    }

    #[test]
    fn a_record_carries_the_report_values() {
        let f = function("python3.12");
        let status = ReportStatus::Error("Runtime.ExitError".into());
        let attempt = Attempt {
            request_id: "req",
            function: &f,
            trigger: Trigger::Queue,
            cold: true,
            provisioned: false,
            init_ms: Some(150.4),
            duration_ms: 49.6,
            billed_ms: 201,
            max_memory_used_mb: 61,
            status: Some(&status),
            function_error: true,
        };
        let r = attempt.record(10_000);
        assert_eq!(r.started_ms, 9_800);
        assert_eq!(
            (r.billed_ms, r.memory_mb, r.max_memory_used_mb),
            (201, 256, 61)
        );
        assert_eq!(
            (r.outcome.as_str(), r.error_type.as_deref()),
            ("error", Some("Runtime.ExitError"))
        );
        assert_eq!(
            (r.trigger.as_str(), r.architecture.as_str()),
            ("queue", "arm64")
        );
        assert_eq!((r.version.as_str(), r.ephemeral_mb), ("3", 1024));
        let ok = Attempt {
            status: None,
            function_error: false,
            ..attempt
        };
        assert_eq!(ok.record(0).outcome, "success");
    }
}
