//! `nimbus serve` settings: flags > `NIMBUS_*` environment > TOML file > defaults.
//!
//! The TOML file is `--config PATH` (or `NIMBUS_CONFIG`), else `./nimbus.toml` when present.
//! Keys mirror the flags:
//!
//! ```toml
//! listen = "127.0.0.1:9000"
//! gateway_listen = "127.0.0.1:3000"  # API Gateway routes and function URLs, or "off"
//! data_dir = "./.nimbus"
//! account_id = "000000000000"
//! region = "us-east-1"
//! account_concurrency = 1000
//! keep_alive_secs = 600
//! shell_pool = 2
//! cpu_hard_cap = false
//! log_retention_mb = 64
//! process_isolation = false
//! scaling_per_10s = 1000
//! unreserved_minimum = 100  # what reservations must leave (default min(100, account))
//! async_payload_bytes = 262144  # Event payload limit (Lambda: 262144 classic, up to 1048576)
//! async_time_scale = 1.0    # multiplies async retry delays and event ages (tests: 0.01)
//! routing_seed = 42        # optional: reproducible weighted-alias splits
//! bill_init = true         # metering: bill Init of managed runtimes (Lambda since 2025-08)
//! otlp_endpoint = "http://127.0.0.1:4318"  # optional: export platform spans (OTLP/HTTP)
//!
//! [runtimes]
//! "python3.12" = "/usr/bin/python3.12"
//! "nodejs20.x" = "/usr/bin/node"
//! ```

use anyhow::{Context, bail};
use clap::Args;
use nimbus_platform::config::PlatformConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Address the gateway listener (API Gateway routes, function URLs) uses by default.
pub const GATEWAY_LISTEN_DEFAULT: &str = "127.0.0.1:3000";
/// Address `serve` listens on by default.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:9000";
/// Data directory by default (relative to the working directory).
pub const DATA_DIR_DEFAULT: &str = "./.nimbus";
/// Upper bound on the account concurrency setting (each environment is a process tree).
const ACCOUNT_CONCURRENCY_MAX: u32 = 100_000;
/// Upper bound on keep-alive (a day).
const KEEP_ALIVE_SECS_MAX: u64 = 86_400;
/// Largest settings file read (a few dozen lines in practice).
const SETTINGS_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Flags of `nimbus serve`; each may also come from `NIMBUS_<NAME>` or the TOML file.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve every API on.
    #[arg(long, env = "NIMBUS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// State directory (SQLite, code, sandbox scratch space).
    #[arg(long, env = "NIMBUS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML settings file.
    #[arg(long, env = "NIMBUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// 12-digit account id used in ARNs.
    #[arg(long, env = "NIMBUS_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Region used in ARNs and given to functions.
    #[arg(long, env = "NIMBUS_REGION")]
    pub region: Option<String>,
    /// Account concurrency limit (Lambda's default is 1000).
    #[arg(long, env = "NIMBUS_ACCOUNT_CONCURRENCY")]
    pub account_concurrency: Option<u32>,
    /// Seconds an idle environment stays warm before it is stopped.
    #[arg(long, env = "NIMBUS_KEEP_ALIVE_SECS")]
    pub keep_alive_secs: Option<u64>,
    /// Empty sandboxes kept pre-built for fast cold starts.
    #[arg(long, env = "NIMBUS_SHELL_POOL")]
    pub shell_pool: Option<usize>,
    /// Interpreter for a runtime, e.g. `--runtime python3.12=/usr/bin/python3.12` (repeatable).
    #[arg(long = "runtime", value_name = "ID=PATH")]
    pub runtimes: Vec<String>,
    /// Cap CPU time in proportion to memory after Init (default: proportional shares only).
    #[arg(long, env = "NIMBUS_CPU_HARD_CAP")]
    pub cpu_hard_cap: Option<bool>,
    /// Stored log megabytes kept per function.
    #[arg(long, env = "NIMBUS_LOG_RETENTION_MB")]
    pub log_retention_mb: Option<i64>,
    /// Run functions as plain processes (no namespaces or cgroups; development only).
    #[arg(long, env = "NIMBUS_PROCESS_ISOLATION")]
    pub process_isolation: Option<bool>,
    /// New execution environments a function may start per 10 s (Lambda: 1000).
    #[arg(long = "scaling-per-10s", env = "NIMBUS_SCALING_PER_10S")]
    pub scaling_per_10s: Option<u32>,
    /// Concurrency that reservations must leave unreserved (default: Lambda's 100, or the
    /// whole account limit when it is smaller).
    #[arg(long, env = "NIMBUS_UNRESERVED_MINIMUM")]
    pub unreserved_minimum: Option<u32>,
    /// Largest asynchronous (`Event`) payload in bytes: 262144 (default) up to 1048576.
    #[arg(long, env = "NIMBUS_ASYNC_PAYLOAD_BYTES")]
    pub async_payload_bytes: Option<usize>,
    /// Multiplies asynchronous retry delays, backoffs and event ages (1.0 = Lambda's timing;
    /// e.g. 0.01 for tests).
    #[arg(long, env = "NIMBUS_ASYNC_TIME_SCALE")]
    pub async_time_scale: Option<f64>,
    /// Seed for weighted-alias routing (reproducible traffic splits; default: random).
    #[arg(long, env = "NIMBUS_ROUTING_SEED")]
    pub routing_seed: Option<u64>,
    /// Address of the gateway listener serving API Gateway routes and function URLs,
    /// or `off` (default 127.0.0.1:3000).
    #[arg(long, env = "NIMBUS_GATEWAY_LISTEN", value_name = "ADDR|off")]
    pub gateway_listen: Option<String>,
    /// Testing only: wall time for schedules and traffic shifting stands still from the
    /// start until moved with `POST /nimbus/v1/clock {"AdvanceMs": n}`.
    #[arg(long)]
    pub manual_clock: bool,
    /// Bill Init in REPORT and metering (Lambda since 2025-08-01; `false`: the earlier rule,
    /// Init billed for custom runtimes only).
    #[arg(long, env = "NIMBUS_BILL_INIT")]
    pub bill_init: Option<bool>,
    /// Export platform spans (invocation, admission, cold start, queue wait, run) over
    /// OTLP/HTTP protobuf to this collector base URL (`/v1/traces` is appended). Without it,
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` are used; with
    /// none of them, nothing is exported.
    #[arg(long, env = "NIMBUS_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    account_id: Option<String>,
    region: Option<String>,
    account_concurrency: Option<u32>,
    keep_alive_secs: Option<u64>,
    shell_pool: Option<usize>,
    cpu_hard_cap: Option<bool>,
    log_retention_mb: Option<i64>,
    process_isolation: Option<bool>,
    scaling_per_10s: Option<u32>,
    unreserved_minimum: Option<u32>,
    async_payload_bytes: Option<usize>,
    async_time_scale: Option<f64>,
    routing_seed: Option<u64>,
    gateway_listen: Option<String>,
    bill_init: Option<bool>,
    otlp_endpoint: Option<String>,
    #[serde(default)]
    runtimes: BTreeMap<String, PathBuf>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Gateway listen address; `None` when off.
    pub gateway_listen: Option<SocketAddr>,
    /// The gateway address is the default one, not asked for: if it is taken, `serve` warns
    /// and runs without the gateway rather than refusing to start.
    pub gateway_listen_defaulted: bool,
    /// Engine configuration.
    pub platform: PlatformConfig,
    /// The hand-moved clock in `platform.clock`, under `--manual-clock`.
    pub manual_clock: Option<std::sync::Arc<nimbus_platform::clock::ManualClock>>,
    /// Where platform spans are exported (the full `…/v1/traces` URL); `None`: nowhere.
    pub otlp_traces_url: Option<String>,
}

impl Settings {
    /// Merges flags, environment (through clap), the TOML file and defaults, and validates.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Self> {
        let file = load_file(args.config.as_deref())?;
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DATA_DIR_DEFAULT));
        let mut platform = PlatformConfig::new(data_dir);
        let listen = match args.listen.or(file.listen) {
            Some(l) => l,
            None => LISTEN_DEFAULT.parse().context("default listen address")?,
        };
        let gateway_choice = args.gateway_listen.or(file.gateway_listen);
        let gateway_listen_defaulted = gateway_choice.is_none();
        let gateway_listen = parse_gateway_listen(gateway_choice.as_deref())?;
        if let Some(id) = args.account_id.or(file.account_id) {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                bail!("account id must be 12 digits, got {id:?}");
            }
            platform.account_id = id;
        }
        if let Some(region) = args.region.or(file.region) {
            let ok = !region.is_empty()
                && region.len() <= 32
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                bail!("region must look like us-east-1, got {region:?}");
            }
            platform.region = region;
        }
        if let Some(n) = args.account_concurrency.or(file.account_concurrency) {
            if n == 0 || n > ACCOUNT_CONCURRENCY_MAX {
                bail!("account concurrency must be 1..={ACCOUNT_CONCURRENCY_MAX}, got {n}");
            }
            platform.account_concurrency = n;
        }
        if let Some(secs) = args.keep_alive_secs.or(file.keep_alive_secs) {
            if secs > KEEP_ALIVE_SECS_MAX {
                bail!("keep-alive must be at most {KEEP_ALIVE_SECS_MAX} s, got {secs}");
            }
            platform.keep_alive = Duration::from_secs(secs);
        }
        if let Some(n) = args.shell_pool.or(file.shell_pool) {
            if n > nimbus_sandbox::POOL_SIZE_MAX {
                bail!(
                    "shell pool must be at most {}, got {n}",
                    nimbus_sandbox::POOL_SIZE_MAX
                );
            }
            platform.shell_pool = n;
        }
        if let Some(on) = args.cpu_hard_cap.or(file.cpu_hard_cap) {
            platform.cpu_hard_cap = on;
        }
        if let Some(mb) = args.log_retention_mb.or(file.log_retention_mb) {
            if mb < 1 {
                bail!("log retention must be at least 1 MB, got {mb}");
            }
            platform.log_retention_bytes = mb.saturating_mul(1024 * 1024);
        }
        if let Some(on) = args.process_isolation.or(file.process_isolation) {
            platform.force_process_isolation = on;
        }
        if let Some(n) = args.scaling_per_10s.or(file.scaling_per_10s) {
            if n == 0 {
                bail!("scaling rate must be at least 1 environment per 10 s");
            }
            platform.scaling_per_window = n;
        }
        platform.routing_seed = args.routing_seed.or(file.routing_seed);
        if let Some(on) = args.bill_init.or(file.bill_init) {
            platform.metering.bill_init = on;
        }
        if let Some(n) = args.async_payload_bytes.or(file.async_payload_bytes) {
            let (min, max) = (
                nimbus_api::limits::ASYNC_PAYLOAD_BYTES_MAX_LEGACY,
                nimbus_api::limits::ASYNC_PAYLOAD_BYTES_MAX,
            );
            if !(min..=max).contains(&n) {
                bail!("async payload limit must be {min}..={max} bytes, got {n}");
            }
            platform.async_payload_bytes = n;
        }
        if let Some(f) = args.async_time_scale.or(file.async_time_scale) {
            if !(f.is_finite() && f > 0.0 && f <= 1.0) {
                bail!("async time scale must be in (0, 1], got {f}");
            }
            platform.async_time_scale = f;
        }
        if let Some(n) = args.unreserved_minimum.or(file.unreserved_minimum) {
            if n > platform.account_concurrency {
                bail!(
                    "unreserved minimum ({n}) must not exceed the account concurrency ({})",
                    platform.account_concurrency
                );
            }
            platform.unreserved_minimum = Some(n);
        }
        platform.runtime_paths = file.runtimes;
        for (key, value) in std::env::vars() {
            // NIMBUS_RUNTIME_PYTHON3_12=/path → python3.12
            if let Some(id) = key.strip_prefix("NIMBUS_RUNTIME_") {
                platform
                    .runtime_paths
                    .insert(runtime_id_from_env(id), PathBuf::from(value));
            }
        }
        for spec in args.runtimes {
            let (id, path) = spec
                .split_once('=')
                .with_context(|| format!("--runtime expects ID=PATH, got {spec:?}"))?;
            platform
                .runtime_paths
                .insert(id.to_string(), PathBuf::from(path));
        }
        for (id, path) in &platform.runtime_paths {
            if nimbus_platform::runtimes::family_of(id).is_none() {
                bail!("unknown runtime {id:?} in runtime paths");
            }
            if !path.is_absolute() {
                bail!("runtime path for {id} must be absolute: {}", path.display());
            }
        }
        let otlp_traces_url = crate::otlp::traces_url(
            args.otlp_endpoint.or(file.otlp_endpoint).as_deref(),
            std::env::var(crate::otlp::ENV_TRACES_ENDPOINT)
                .ok()
                .as_deref(),
            std::env::var(crate::otlp::ENV_ENDPOINT).ok().as_deref(),
        )?;
        let manual_clock = args.manual_clock.then(|| {
            let clock = std::sync::Arc::new(nimbus_platform::clock::ManualClock::new(
                nimbus_platform::clock::now_ms(),
            ));
            platform.clock = clock.clone();
            clock
        });
        Ok(Self {
            listen,
            gateway_listen,
            gateway_listen_defaulted,
            platform,
            manual_clock,
            otlp_traces_url,
        })
    }
}

/// `--gateway-listen`: an address, `off`, or (absent) the default.
fn parse_gateway_listen(value: Option<&str>) -> anyhow::Result<Option<SocketAddr>> {
    let value = value.unwrap_or(GATEWAY_LISTEN_DEFAULT);
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .with_context(|| format!("gateway listen must be ADDR:PORT or off, got {value:?}"))
}

/// `PYTHON3_12` → `python3.12`, `NODEJS20_X` → `nodejs20.x`.
fn runtime_id_from_env(id: &str) -> String {
    id.to_ascii_lowercase().replace('_', ".")
}

fn load_file(explicit: Option<&Path>) -> anyhow::Result<FileSettings> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("nimbus.toml");
            if !default.exists() {
                return Ok(FileSettings::default());
            }
            default
        }
    };
    let text = crate::files::read_text_capped(&path, SETTINGS_FILE_BYTES_MAX, "nimbus.toml")?;
    toml::from_str(&text).with_context(|| format!("parse {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServeArgs {
        ServeArgs {
            listen: None,
            data_dir: None,
            config: None,
            account_id: None,
            region: None,
            account_concurrency: None,
            keep_alive_secs: None,
            shell_pool: None,
            runtimes: vec![],
            cpu_hard_cap: None,
            log_retention_mb: None,
            process_isolation: None,
            scaling_per_10s: None,
            unreserved_minimum: None,
            async_payload_bytes: None,
            async_time_scale: None,
            routing_seed: None,
            gateway_listen: None,
            manual_clock: false,
            bill_init: None,
            otlp_endpoint: None,
        }
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("n.toml");
        std::fs::write(
            &file,
            "account_concurrency = 50\nkeep_alive_secs = 5\n[runtimes]\n\"python3.12\" = \"/opt/py/bin/python3.12\"\n",
        )
        .expect("write");
        let mut a = args();
        a.config = Some(file);
        a.keep_alive_secs = Some(7);
        let s = Settings::resolve(a).expect("resolve");
        assert_eq!(s.platform.account_concurrency, 50);
        assert_eq!(s.platform.keep_alive, Duration::from_secs(7));
        assert_eq!(s.listen.to_string(), LISTEN_DEFAULT);
        assert_eq!(
            s.platform.runtime_paths.get("python3.12"),
            Some(&PathBuf::from("/opt/py/bin/python3.12"))
        );
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let mut a = args();
        a.account_id = Some("12".into());
        assert!(
            Settings::resolve(a)
                .unwrap_err()
                .to_string()
                .contains("12 digits")
        );
        let mut a = args();
        a.runtimes = vec!["java21=/usr/bin/java".into()];
        assert!(
            Settings::resolve(a)
                .unwrap_err()
                .to_string()
                .contains("unknown runtime")
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("n.toml");
        std::fs::write(&file, "no_such_key = 1\n").expect("write");
        let mut a = args();
        a.config = Some(file);
        assert!(Settings::resolve(a).is_err());
    }

    #[test]
    fn gateway_listen_defaults_and_turns_off() {
        let s = Settings::resolve(args()).expect("resolve");
        assert_eq!(
            s.gateway_listen.map(|a| a.to_string()).as_deref(),
            Some(GATEWAY_LISTEN_DEFAULT)
        );
        assert!(s.gateway_listen_defaulted);
        let mut a = args();
        a.gateway_listen = Some("off".into());
        let s = Settings::resolve(a).expect("resolve");
        assert_eq!(s.gateway_listen, None);
        assert!(!s.gateway_listen_defaulted);
        let mut a = args();
        a.gateway_listen = Some("127.0.0.1:0".into());
        assert!(
            Settings::resolve(a)
                .expect("resolve")
                .gateway_listen
                .is_some()
        );
        let mut a = args();
        a.gateway_listen = Some("nowhere".into());
        assert!(Settings::resolve(a).is_err());
    }

    #[test]
    fn init_is_billed_unless_turned_off() {
        let s = Settings::resolve(args()).expect("resolve");
        assert!(s.platform.metering.bill_init);
        let mut a = args();
        a.bill_init = Some(false);
        let s = Settings::resolve(a).expect("resolve");
        assert!(!s.platform.metering.bill_init);
    }

    #[test]
    fn runtime_ids_from_env_names() {
        assert_eq!(runtime_id_from_env("PYTHON3_12"), "python3.12");
        assert_eq!(runtime_id_from_env("NODEJS20_X"), "nodejs20.x");
    }
}
