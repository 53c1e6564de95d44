//! Cold starts: for each runtime, force a new execution environment N times and read the
//! platform's `Init Duration` (start of the cold start → runtime's first `/next`) from the
//! `REPORT` line, beside the client-observed latency of the cold invoke.

use crate::stats::Latencies;
use anyhow::{Context, bail};
use nimbus_testkit::Lambda;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Pause before each spaced cold start: lets the shell pool refill and the previous
/// environment's teardown finish (both take milliseconds; this leaves a wide margin).
pub const COLD_SPACING: Duration = Duration::from_millis(300);
/// Cold starts launched at once in the concurrent series: twice the default shell pool.
pub const CONCURRENT_COLD: usize = 4;

/// A runtime to measure.
pub struct RuntimeCase {
    /// Runtime identifier.
    pub runtime: &'static str,
    /// Handler setting.
    pub handler: &'static str,
    /// Deployment package.
    pub zip: Vec<u8>,
    /// Research floor for time-to-first-`/next` on this machine, in ms
    /// (`sandbox-measurements.md` §5, fully sandboxed, pinned, median).
    pub floor_ms: f64,
    /// Host interpreter (`None` for `provided*`).
    pub interpreter: Option<PathBuf>,
}

/// How cold starts follow each other.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// [`COLD_SPACING`] before each one (the shell pool is full).
    Spaced,
    /// One after the other, no pause (the pool refills between them or not).
    BackToBack,
    /// [`CONCURRENT_COLD`] at once after a pause: more than the pool holds, so some
    /// sandboxes are built on the cold path (and the runtimes share the CPUs).
    Concurrent,
}

impl Pacing {
    /// Short name for tables and the RESULT line.
    pub fn label(self) -> &'static str {
        match self {
            Pacing::Spaced => "spaced",
            Pacing::BackToBack => "burst",
            Pacing::Concurrent => "conc",
        }
    }
}

/// One runtime × pacing result.
pub struct ColdSeries {
    /// Init Duration per cold start (ms values stored in µs).
    pub init: Latencies,
    /// Client-observed latency of the cold invoke.
    pub e2e: Latencies,
    /// Client latency minus Init Duration, per cold start.
    pub outside_init: Latencies,
    /// Invocations that turned out warm (no Init Duration): must be 0.
    pub not_cold: u32,
}

/// The first invoke after CreateFunction (includes code extraction and interpreter probing).
pub struct FirstInvoke {
    /// `INIT_START` line (which interpreter ran).
    pub init_start: String,
    /// Init Duration, ms.
    pub init_ms: f64,
    /// Client latency, ms.
    pub e2e_ms: f64,
}

/// Creates the function for `case` and invokes it once.
pub fn create(
    lambda: &Lambda,
    name: &str,
    case: &RuntimeCase,
    memory_mb: u32,
) -> anyhow::Result<FirstInvoke> {
    let created = lambda.create(
        name,
        case.runtime,
        case.handler,
        &case.zip,
        json!({ "Timeout": 10, "MemorySize": memory_mb }),
    );
    if created.status != 201 {
        bail!(
            "CreateFunction {} ({}) answered {}: {}",
            name,
            case.runtime,
            created.status,
            created.text()
        );
    }
    let (e2e, init) = cold_invoke(lambda, name)?;
    Ok(FirstInvoke {
        init_start: init.init_start,
        init_ms: init.init_ms.unwrap_or(0.0),
        e2e_ms: e2e.as_secs_f64() * 1000.0,
    })
}

/// `count` cold starts of function `name`, each forced by a configuration change.
pub fn series(
    lambda: &Lambda,
    name: &str,
    count: u32,
    pacing: Pacing,
    counter: &mut u64,
) -> anyhow::Result<ColdSeries> {
    let mut out = ColdSeries {
        init: Latencies::new()?,
        e2e: Latencies::new()?,
        outside_init: Latencies::new()?,
        not_cold: 0,
    };
    while out.init.count() + u64::from(out.not_cold) < u64::from(count) {
        *counter += 1;
        force_new_environment(lambda, name, *counter)?;
        if pacing != Pacing::BackToBack {
            std::thread::sleep(COLD_SPACING);
        }
        let parallel = if pacing == Pacing::Concurrent {
            CONCURRENT_COLD
        } else {
            1
        };
        let results: Vec<anyhow::Result<(Duration, TailReport)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..parallel)
                .map(|_| scope.spawn(|| cold_invoke(lambda, name)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("invoke thread panicked")))
                })
                .collect()
        });
        for result in results {
            let (e2e, report) = result?;
            match report.init_ms {
                Some(init_ms) => {
                    let e2e_us = e2e.as_secs_f64() * 1e6;
                    out.init.record_us(init_ms * 1000.0);
                    out.e2e.record(e2e);
                    out.outside_init.record_us(e2e_us - init_ms * 1000.0);
                }
                None => out.not_cold += 1,
            }
        }
    }
    Ok(out)
}

/// How the same runtime is started without platform or sandbox (for the "plain" row).
pub struct PlainCommand {
    /// Program and arguments, host paths.
    pub argv: Vec<String>,
    /// The whole environment (`AWS_LAMBDA_RUNTIME_API` is added per run).
    pub env: Vec<(String, String)>,
}

impl PlainCommand {
    /// The command line and environment the platform gives `case`'s runtime, with host
    /// paths: the bootstraps the server installed under `runtime_dir` (the precompiled
    /// Python one named after the version in `init_start`), the handler in `task_dir`,
    /// and `bootstrap` for `provided*`.
    pub fn for_case(
        case: &RuntimeCase,
        init_start: &str,
        runtime_dir: &Path,
        task_dir: &Path,
        bootstrap: &Path,
        memory_mb: u32,
    ) -> PlainCommand {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = vec![
            ("LAMBDA_TASK_ROOT".into(), path(task_dir)),
            ("LAMBDA_RUNTIME_DIR".into(), path(runtime_dir)),
            ("_HANDLER".into(), case.handler.into()),
            ("AWS_LAMBDA_FUNCTION_NAME".into(), "bench-plain".into()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
                memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("PATH".into(), "/usr/local/bin:/usr/bin/:/bin".into()),
            ("LANG".into(), "en_US.UTF-8".into()),
            ("TZ".into(), ":UTC".into()),
        ];
        let argv = match &case.interpreter {
            Some(interpreter) if case.runtime.starts_with("python") => {
                // The sandbox's /var/task is read-only: no __pycache__ there either.
                env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
                env.push((
                    "AWS_EXECUTION_ENV".into(),
                    format!("AWS_Lambda_{}", case.runtime),
                ));
                let tag = init_start
                    .split("python:")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .unwrap_or_default()
                    .replace('.', "_");
                let compiled = runtime_dir.join(format!("python/bootstrap.{tag}.pyc"));
                let script = if compiled.is_file() {
                    compiled
                } else {
                    runtime_dir.join("python/bootstrap.py")
                };
                vec![path(interpreter), "-S".into(), path(&script)]
            }
            Some(interpreter) => {
                env.push((
                    "AWS_EXECUTION_ENV".into(),
                    format!("AWS_Lambda_{}", case.runtime),
                ));
                env.push(("NODE_PATH".into(), path(task_dir)));
                // The platform's heap setting: 85 % of MemorySize, at least 32 MB.
                let old_space = (u64::from(memory_mb) * 85 / 100).max(32);
                vec![
                    path(interpreter),
                    format!("--max-old-space-size={old_space}"),
                    path(&runtime_dir.join("node/bootstrap.js")),
                ]
            }
            None => vec![path(bootstrap)],
        };
        PlainCommand { argv, env }
    }
}

/// Longest a plain runtime may take to send its first `/next`.
const PLAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between plain starts (the previous process is being killed and reaped).
const PLAIN_SPACING: Duration = Duration::from_millis(50);

/// Time from spawn until the runtime's first `/next` request headers have arrived, for
/// `count` plain starts (the research harness's TTFR, measured here and now).
pub fn plain_series(
    rt: &tokio::runtime::Runtime,
    command: &PlainCommand,
    count: u32,
) -> anyhow::Result<Latencies> {
    let mut out = Latencies::new()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("bind the plain Runtime API listener")?;
    let api = listener.local_addr()?.to_string();
    for _ in 0..count {
        let ttfr = rt.block_on(plain_once(&listener, &api, command))?;
        out.record(ttfr);
        std::thread::sleep(PLAIN_SPACING);
    }
    Ok(out)
}

async fn plain_once(
    listener: &tokio::net::TcpListener,
    api: &str,
    command: &PlainCommand,
) -> anyhow::Result<Duration> {
    use tokio::io::AsyncReadExt;
    let (program, args) = command.argv.split_first().context("empty plain command")?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(command.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawn {program}"))?;
    let first_next = async {
        let (mut sock, _) = listener.accept().await?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                anyhow::bail!("runtime closed the connection before a full request");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        anyhow::Ok(started.elapsed())
    };
    let ttfr = tokio::time::timeout(PLAIN_TIMEOUT, first_next)
        .await
        .with_context(|| format!("{program} sent no /next within {PLAIN_TIMEOUT:?}"))??;
    child.kill().await.context("kill the plain runtime")?;
    Ok(ttfr)
}

/// UpdateFunctionConfiguration with a new environment value: a new RevisionId, so warm
/// environments of the old revision are never reused.
fn force_new_environment(lambda: &Lambda, name: &str, value: u64) -> anyhow::Result<()> {
    let body = json!({ "Environment": { "Variables": { "BENCH_ITERATION": value.to_string() } } });
    let resp = lambda.request(
        "PUT",
        &format!("/2015-03-31/functions/{name}/configuration"),
        &[("content-type", "application/json")],
        Some(serde_json::to_vec(&body)?),
    );
    if resp.status != 200 {
        bail!(
            "UpdateFunctionConfiguration {name} answered {}: {}",
            resp.status,
            resp.text()
        );
    }
    Ok(())
}

/// What the log tail says about one invocation.
struct TailReport {
    init_ms: Option<f64>,
    init_start: String,
}

/// Invokes with `Tail`, checks success, and returns the client latency and the report.
fn cold_invoke(lambda: &Lambda, name: &str) -> anyhow::Result<(Duration, TailReport)> {
    let started = Instant::now();
    let resp = lambda.invoke(name, "{}");
    let e2e = started.elapsed();
    let tail = resp.log_tail();
    if resp.status != 200
        || resp.error_type().is_some()
        || resp.header("x-amz-function-error").is_some()
    {
        bail!(
            "Invoke {name} failed: status {} body {} log:\n{tail}",
            resp.status,
            resp.text()
        );
    }
    let report = tail
        .lines()
        .find(|l| l.starts_with("REPORT "))
        .with_context(|| format!("no REPORT line in the log of {name}:\n{tail}"))?;
    let init_start = tail
        .lines()
        .find(|l| l.starts_with("INIT_START "))
        .unwrap_or_default()
        .to_string();
    Ok((
        e2e,
        TailReport {
            init_ms: init_duration_ms(report),
            init_start,
        },
    ))
}

/// `Init Duration: 12.34 ms` from a REPORT line.
fn init_duration_ms(report: &str) -> Option<f64> {
    let rest = report.split("Init Duration: ").nth(1)?;
    rest.split(" ms").next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_init_duration() {
        let line = "REPORT RequestId: abc\tDuration: 1.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 3 MB\tInit Duration: 3.25 ms\t";
        assert_eq!(init_duration_ms(line), Some(3.25));
        assert_eq!(
            init_duration_ms("REPORT RequestId: abc\tDuration: 1.00 ms\t"),
            None
        );
    }
}
