//! Engine settings (the binary fills them from flags, `NIMBUS_*` variables and a TOML file).

use crate::limits::{KEEP_ALIVE_DEFAULT, LOG_RETENTION_BYTES_DEFAULT, SHELL_POOL_DEFAULT};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Lambda's default per-Region concurrency quota.
pub const ACCOUNT_CONCURRENCY_DEFAULT: u32 = 1000;
/// Account id used in ARNs when none is configured (LocalStack's convention).
pub const ACCOUNT_ID_DEFAULT: &str = "000000000000";
/// Region used in ARNs and `AWS_REGION` when none is configured.
pub const REGION_DEFAULT: &str = "us-east-1";
/// Lambda lets each function add 1,000 execution environments every 10 seconds.
pub const SCALING_PER_WINDOW_DEFAULT: u32 = 1000;

/// Everything the engine needs to know.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// State directory (SQLite files, code, sandbox scratch space).
    pub data_dir: PathBuf,
    /// 12-digit account id shown in ARNs.
    pub account_id: String,
    /// Region shown in ARNs and given to functions.
    pub region: String,
    /// Account concurrency limit.
    pub account_concurrency: u32,
    /// How long an idle environment stays warm.
    pub keep_alive: Duration,
    /// Pre-built empty sandboxes kept ready.
    pub shell_pool: usize,
    /// Interpreter paths per runtime identifier (`python3.12` → `/usr/bin/python3.12`).
    pub runtime_paths: BTreeMap<String, PathBuf>,
    /// Apply a hard CPU quota ∝ memory after Init (off: shares only, work-conserving).
    pub cpu_hard_cap: bool,
    /// Stored log bytes kept per function.
    pub log_retention_bytes: i64,
    /// Run functions as plain processes even when root (development only).
    pub force_process_isolation: bool,
    /// Executable re-run as the sandbox spawner.
    pub spawner_exe: PathBuf,
    /// Seed of the generator that splits weighted-alias traffic (`None`: from the OS), so
    /// tests and reproductions can replay the same split.
    pub routing_seed: Option<u64>,
    /// New execution environments a function may start per [`crate::limits::SCALING_WINDOW`].
    pub scaling_per_window: u32,
    /// Concurrency reservations must leave unreserved (`None`: Lambda's 100, or the whole
    /// account when it is smaller).
    pub unreserved_minimum: Option<u32>,
    /// Largest `Event` (asynchronous) payload accepted, in bytes.
    pub async_payload_bytes: usize,
    /// Multiplies every asynchronous-invocation delay and age (retry delays, throttle backoff,
    /// `MaximumEventAgeInSeconds`): 1.0 is Lambda's timing; tests use e.g. 0.01 so a minute
    /// of retry delay takes 0.6 s.
    pub async_time_scale: f64,
    /// Wall time for schedule slots and traffic-shifting steps (`ManualClock` in tests and
    /// under `nimbus serve --manual-clock`).
    pub clock: crate::clock::SharedClock,
    /// Billing rules (is Init billed) and how long metering records are kept.
    pub metering: crate::metering::MeteringConfig,
}

impl PlatformConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            account_id: ACCOUNT_ID_DEFAULT.to_string(),
            region: REGION_DEFAULT.to_string(),
            account_concurrency: ACCOUNT_CONCURRENCY_DEFAULT,
            keep_alive: KEEP_ALIVE_DEFAULT,
            shell_pool: SHELL_POOL_DEFAULT,
            runtime_paths: BTreeMap::new(),
            cpu_hard_cap: false,
            log_retention_bytes: LOG_RETENTION_BYTES_DEFAULT,
            force_process_isolation: false,
            spawner_exe: PathBuf::from("/proc/self/exe"),
            routing_seed: None,
            scaling_per_window: SCALING_PER_WINDOW_DEFAULT,
            unreserved_minimum: None,
            async_payload_bytes: nimbus_api::limits::ASYNC_PAYLOAD_BYTES_MAX_LEGACY,
            async_time_scale: 1.0,
            clock: std::sync::Arc::new(crate::clock::SystemClock),
            metering: crate::metering::MeteringConfig::default(),
        }
    }

    /// Where extracted code and zips live.
    pub fn code_dir(&self) -> PathBuf {
        self.data_dir.join("code")
    }

    /// Where the embedded runtime bootstraps are written.
    pub fn runtime_dir(&self) -> PathBuf {
        self.data_dir.join("runtime")
    }

    /// What reservations must leave unreserved.
    pub fn unreserved_minimum(&self) -> u32 {
        self.unreserved_minimum
            .unwrap_or(nimbus_api::limits::UNRESERVED_CONCURRENCY_MIN.min(self.account_concurrency))
    }

    /// Sandbox scratch space.
    pub fn run_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    /// The sandbox layer's settings derived from these.
    pub fn sandbox_config(&self) -> nimbus_sandbox::SandboxConfig {
        nimbus_sandbox::SandboxConfig {
            run_dir: self.run_dir(),
            runtime_dir: self.runtime_dir(),
            spawner_exe: self.spawner_exe.clone(),
            pool_size: self.shell_pool,
            default_tmp_mb: nimbus_api::limits::EPHEMERAL_MB_DEFAULT as u32,
            force_process_isolation: self.force_process_isolation,
        }
    }
}
