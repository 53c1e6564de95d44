//! `nimbus-bench`: cold starts per runtime, warm invoke latency and throughput, and the same
//! load against a bare hyper echo server, all from ONE run, printed as numbers and ratios
//! (this machine is noisy: compare ratios within a run, not absolute numbers across runs).
//!
//! Run: `cargo build --release -p nimbus && cargo run --release -p nimbus-bench -- [--quick]`.
//! What each number means is in `docs/benchmarks.md`.

#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use nimbus_bench::cold::{self, Pacing, PlainCommand, RuntimeCase};
use nimbus_bench::load::{self, LoadResult, Target};
use nimbus_bench::machine::{self, Cpu};
use nimbus_bench::stats::{Latencies, ratio};
use nimbus_testkit::{Lambda, Server};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Cold starts per runtime and pacing (a p99 of 30 samples is close to the maximum).
const COLD_COUNT: u32 = 30;
/// Cold starts per runtime and pacing with `--quick`.
const COLD_COUNT_QUICK: u32 = 10;
/// Sequential warm invokes measured.
const SEQ_COUNT: u64 = 2000;
/// Sequential warm invokes measured with `--quick`.
const SEQ_COUNT_QUICK: u64 = 500;
/// Invokes sent before measuring sequential latency (connections, caches, allocator).
const SEQ_WARMUP: u64 = 200;
/// Length of each throughput run.
const LOAD_SECS: Duration = Duration::from_secs(5);
/// Length of each throughput run with `--quick`.
const LOAD_SECS_QUICK: Duration = Duration::from_secs(2);
/// Unmeasured load before each throughput run: Nimbus needs C warm environments first
/// (their cold starts must not count as warm latency).
const LOAD_WARMUP: Duration = Duration::from_secs(1);
/// Concurrent clients in the throughput runs.
const CLIENTS: [usize; 3] = [1, 4, 16];
/// Pre-built empty sandboxes kept by the server (the brief's setting; 2 is the default).
const SHELL_POOL_DEFAULT: usize = 2;
/// Account concurrency: well above the largest client count, so nothing is throttled.
const ACCOUNT_CONCURRENCY: &str = "256";
/// Worker threads of the load generator and of the baseline server (Nimbus's own runtime
/// uses one per CPU, 2 here).
const WORKER_THREADS: usize = 2;
/// Research floor, custom runtime, time to first `/next` sandboxed (measurements §5).
const FLOOR_PROVIDED_MS: f64 = 1.5;
/// Research floor, python3.11 `-S` raw-socket client, sandboxed (measurements §5).
const FLOOR_PYTHON_MS: f64 = 16.0;
/// Research floor, node 20 `net` client, sandboxed (measurements §5).
const FLOOR_NODE_MS: f64 = 28.0;
/// Lambda's default MemorySize (its CPU share: 128/1769 of a vCPU under contention).
const MEMORY_MB_DEFAULT: u32 = 128;
/// Host Python for python3.11 (Debian's 3.11, the research floor's interpreter).
const HOST_PYTHON: &str = "/usr/bin/python3";
/// Host Node for nodejs20.x (nodesource 20, the research floor's interpreter).
const HOST_NODE: &str = "/usr/bin/node";

const PYTHON_HANDLER: &str = "def handler(event, context):\n    return {}\n";
const NODE_HANDLER: &str = "exports.handler = async () => ({});\n";

#[derive(Parser)]
#[command(
    about = "Nimbus benchmark: cold starts, warm latency/throughput vs a bare hyper baseline"
)]
struct Args {
    /// The release `nimbus` binary (default: `nimbus` next to this executable).
    #[arg(long)]
    nimbus: Option<PathBuf>,
    /// Fewer samples and shorter runs (10 cold starts, 500 invokes, 2 s per load).
    #[arg(long)]
    quick: bool,
    /// MemorySize of every benchmark function (CPU shares are proportional to it).
    #[arg(long, default_value_t = MEMORY_MB_DEFAULT)]
    memory: u32,
    /// The server's `--shell-pool` (0 builds every sandbox on the cold path).
    #[arg(long, default_value_t = SHELL_POOL_DEFAULT)]
    shell_pool: usize,
}

/// Sizes of this run.
struct Plan {
    cold: u32,
    seq: u64,
    load: Duration,
    memory_mb: u32,
    shell_pool: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = Plan {
        cold: if args.quick {
            COLD_COUNT_QUICK
        } else {
            COLD_COUNT
        },
        seq: if args.quick {
            SEQ_COUNT_QUICK
        } else {
            SEQ_COUNT
        },
        load: if args.quick {
            LOAD_SECS_QUICK
        } else {
            LOAD_SECS
        },
        memory_mb: args.memory,
        shell_pool: args.shell_pool,
    };
    let exe_dir = machine::exe_dir()?;
    let nimbus = machine::nimbus_binary(args.nimbus)?;
    let bootstrap_path = exe_dir.join("noop-bootstrap");
    let bootstrap = std::fs::read(&bootstrap_path).with_context(|| {
        format!(
            "read {} (built with this package: `cargo build --release -p nimbus-bench`)",
            bootstrap_path.display()
        )
    })?;
    let cases = runtime_cases(&bootstrap);

    let load_at_start = machine::loadavg();
    let command: Vec<String> = std::env::args().collect();
    println!("nimbus-bench");
    println!("  command     : {}", command.join(" "));
    println!(
        "  machine     : nproc={} cpu=\"{}\" kernel={}",
        machine::nproc(),
        machine::cpu_model(),
        machine::kernel()
    );
    println!("  loadavg     : {load_at_start} (start)");
    println!(
        "  nimbus      : {} ({}), git {}",
        nimbus.display(),
        modified_ago(&nimbus),
        machine::git_commit()
    );
    println!(
        "  plan        : MemorySize {} MB; {} cold starts per runtime and pacing; {} sequential invokes; {} s per load run; clients {:?}",
        plan.memory_mb,
        plan.cold,
        plan.seq,
        plan.load.as_secs(),
        CLIENTS
    );

    let mut server_args = vec![
        "--shell-pool".to_string(),
        plan.shell_pool.to_string(),
        "--account-concurrency".to_string(),
        ACCOUNT_CONCURRENCY.to_string(),
    ];
    for case in &cases {
        if let Some(interpreter) = &case.interpreter {
            server_args.push("--runtime".into());
            server_args.push(format!("{}={}", case.runtime, interpreter.display()));
        }
    }
    let server_arg_refs: Vec<&str> = server_args.iter().map(String::as_str).collect();
    let server = Server::start(&nimbus, &server_arg_refs);
    let server_pid = machine::find_server(server.data_dir());
    println!(
        "  server      : nimbus serve {} (pid {})",
        server_args.join(" "),
        server_pid.map_or("unknown".to_string(), |p| p.to_string())
    );
    for line in server.log().lines().filter(|l| l.contains("nimbus:")) {
        println!("  server log  : {}", line.trim());
    }
    let lambda = server.lambda();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name(machine::CLIENT_THREAD)
        .enable_all()
        .build()
        .context("start the load generator runtime")?;
    let mut result = String::from("RESULT bench");
    let _ = write!(
        result,
        " quick={} memory_mb={} shell_pool={}",
        u8::from(args.quick),
        plan.memory_mb,
        plan.shell_pool
    );

    let cold_env = ColdEnv {
        lambda: &lambda,
        rt: &client_rt,
        runtime_dir: server.data_dir().join("runtime"),
        bootstrap: bootstrap_path,
    };
    cold_starts(&cold_env, &cases, &plan, &mut result)?;
    warm_invokes(
        &lambda,
        &server,
        server_pid,
        &client_rt,
        &bootstrap,
        &plan,
        &mut result,
    )?;

    let load_at_end = machine::loadavg();
    println!();
    println!("  loadavg     : {load_at_start} (start) -> {load_at_end} (end)");
    let _ = write!(
        result,
        " nproc={} load_start={} load_end={}",
        machine::nproc(),
        load_at_start.replace(' ', "/"),
        load_at_end.replace(' ', "/")
    );
    println!("{result}");
    drop(server);
    Ok(())
}

/// The runtimes measured: those whose interpreter is on this host, and `provided.al2023`.
fn runtime_cases(bootstrap: &[u8]) -> Vec<RuntimeCase> {
    let mut cases = Vec::new();
    let python = |runtime, interpreter| RuntimeCase {
        runtime,
        handler: "app.handler",
        zip: nimbus_testkit::python_zip(PYTHON_HANDLER),
        floor_ms: FLOOR_PYTHON_MS,
        interpreter: Some(interpreter),
    };
    if Path::new(HOST_PYTHON).is_file() {
        cases.push(python("python3.11", PathBuf::from(HOST_PYTHON)));
    }
    if let Some(p) = pyenv_python("3.12") {
        cases.push(python("python3.12", p));
    }
    if Path::new(HOST_NODE).is_file() {
        cases.push(RuntimeCase {
            runtime: "nodejs20.x",
            handler: "index.handler",
            zip: nimbus_testkit::node_zip(NODE_HANDLER, false),
            floor_ms: FLOOR_NODE_MS,
            interpreter: Some(PathBuf::from(HOST_NODE)),
        });
    }
    cases.push(RuntimeCase {
        runtime: "provided.al2023",
        handler: "bootstrap",
        zip: nimbus_testkit::bootstrap_zip(bootstrap),
        floor_ms: FLOOR_PROVIDED_MS,
        interpreter: None,
    });
    cases
}

/// What the cold-start section needs.
struct ColdEnv<'a> {
    lambda: &'a Lambda,
    rt: &'a tokio::runtime::Runtime,
    /// The server's installed bootstraps (for the plain runs).
    runtime_dir: PathBuf,
    /// The no-op bootstrap on the host.
    bootstrap: PathBuf,
}

/// Section 1: plain starts, then spaced and back-to-back cold starts, per runtime.
fn cold_starts(
    env: &ColdEnv<'_>,
    cases: &[RuntimeCase],
    plan: &Plan,
    result: &mut String,
) -> anyhow::Result<()> {
    println!();
    println!(
        "== 1. Cold starts. init = Init Duration from REPORT (start of cold start -> runtime's first /next); e2e = client-observed cold invoke"
    );
    println!(
        "   plain: same runtime + bootstrap spawned directly on the host (no platform, no sandbox), spawn -> first /next"
    );
    println!(
        "   spaced: {} ms pause before each cold start (shell pool refilled); burst: back to back; conc: {} at once after the pause (shell pool: {})",
        cold::COLD_SPACING.as_millis(),
        cold::CONCURRENT_COLD,
        plan.shell_pool
    );
    println!(
        "   floor = research TTFR floor (sandbox-measurements.md s5, quiet host); p99 of n=30 is about the max"
    );
    for missing in ["python3.11", "python3.12", "nodejs20.x"] {
        if !cases.iter().any(|c| c.runtime == missing) {
            println!("   {missing}: skipped (interpreter not found on this host)");
        }
    }
    println!(
        "{:<16} {:<6} {:>3} {:>9} {:>9} {:>6} {:>7} {:>9} {:>9} {:>10}",
        "runtime",
        "pacing",
        "n",
        "init p50",
        "init p99",
        "floor",
        "p50/fl",
        "e2e p50",
        "e2e p99",
        "e2e-init50"
    );
    let task_dir = tempfile::Builder::new()
        .prefix("nimbus-bench-task-")
        .tempdir()
        .context("create the plain task dir")?;
    std::fs::write(task_dir.path().join("app.py"), PYTHON_HANDLER)?;
    std::fs::write(task_dir.path().join("index.js"), NODE_HANDLER)?;
    let mut counter = 0u64;
    for case in cases {
        let name = format!("bench-cold-{}", case.runtime.replace('.', "-"));
        let first = cold::create(env.lambda, &name, case, plan.memory_mb)?;
        let plain_cmd = PlainCommand::for_case(
            case,
            &first.init_start,
            &env.runtime_dir,
            task_dir.path(),
            &env.bootstrap,
            plan.memory_mb,
        );
        let plain = cold::plain_series(env.rt, &plain_cmd, plan.cold)
            .with_context(|| format!("plain start of {}: {:?}", case.runtime, plain_cmd.argv))?;
        print_cold_row(case, "plain", &plain, None, None, 0);
        let _ = write!(
            result,
            " cold.{rt}.plain.p50_ms={:.2} cold.{rt}.plain.p99_ms={:.2}",
            plain.p50_ms(),
            plain.p99_ms(),
            rt = case.runtime
        );
        for pacing in [Pacing::Spaced, Pacing::BackToBack, Pacing::Concurrent] {
            let s = cold::series(env.lambda, &name, plan.cold, pacing, &mut counter)?;
            print_cold_row(
                case,
                pacing.label(),
                &s.init,
                Some(&s.e2e),
                Some(&s.outside_init),
                s.not_cold,
            );
            let key = format!("cold.{}.{}", case.runtime, pacing.label());
            let _ = write!(
                result,
                " {key}.init_p50_ms={:.2} {key}.init_p99_ms={:.2} {key}.e2e_p50_ms={:.2} {key}.e2e_p99_ms={:.2} {key}.floor_ratio={:.2} {key}.plain_ratio={:.2}",
                s.init.p50_ms(),
                s.init.p99_ms(),
                s.e2e.p50_ms(),
                s.e2e.p99_ms(),
                ratio(s.init.p50_ms(), case.floor_ms),
                ratio(s.init.p50_ms(), plain.p50_ms())
            );
        }
        println!(
            "{:<16} first invoke after create: init {:.2} ms, e2e {:.2} ms; {}",
            "",
            first.init_ms,
            first.e2e_ms,
            first.init_start.split('\t').next().unwrap_or_default()
        );
    }
    Ok(())
}

/// Prints one cold-start row (`e2e` absent for plain starts).
fn print_cold_row(
    case: &RuntimeCase,
    pacing: &str,
    init: &Latencies,
    e2e: Option<&Latencies>,
    outside_init: Option<&Latencies>,
    not_cold: u32,
) {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2} ms"));
    println!(
        "{:<16} {:<6} {:>3} {:>9} {:>9} {:>6.1} {:>6.2}x {:>9} {:>9} {:>10}{}",
        case.runtime,
        pacing,
        init.count(),
        ms(Some(init.p50_ms())),
        ms(Some(init.p99_ms())),
        case.floor_ms,
        ratio(init.p50_ms(), case.floor_ms),
        ms(e2e.map(Latencies::p50_ms)),
        ms(e2e.map(Latencies::p99_ms)),
        ms(outside_init.map(Latencies::p50_ms)),
        if not_cold > 0 {
            format!("  ({not_cold} invokes were NOT cold)")
        } else {
            String::new()
        }
    );
}

/// Sections 2 and 3: warm latency and throughput of the no-op function, and the same load
/// against the bare hyper echo server.
fn warm_invokes(
    lambda: &Lambda,
    server: &Server,
    server_pid: Option<u32>,
    client_rt: &tokio::runtime::Runtime,
    bootstrap: &[u8],
    plan: &Plan,
    result: &mut String,
) -> anyhow::Result<()> {
    let warm_name = "bench-warm-noop";
    let warm_case = RuntimeCase {
        runtime: "provided.al2023",
        handler: "bootstrap",
        zip: nimbus_testkit::bootstrap_zip(bootstrap),
        floor_ms: FLOOR_PROVIDED_MS,
        interpreter: None,
    };
    cold::create(lambda, warm_name, &warm_case, plan.memory_mb)?;
    let echo_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name(machine::ECHO_THREAD)
        .enable_all()
        .build()
        .context("start the baseline runtime")?;
    let echo_addr = load::start_echo(&echo_rt)?;
    let nimbus_addr = server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .with_context(|| format!("server endpoint {}", server.endpoint))?;
    let targets = [
        (
            "nimbus",
            Target {
                addr: nimbus_addr,
                path: format!("/2015-03-31/functions/{warm_name}/invocations"),
            },
        ),
        (
            "baseline",
            Target {
                addr: echo_addr,
                path: "/echo".to_string(),
            },
        ),
    ];
    println!();
    println!(
        "== 2/3. Warm invokes of the no-op provided.al2023 function vs a bare hyper echo server"
    );
    println!(
        "   same client for both: hyper http1, one keep-alive connection per client, closed loop, body {{}}"
    );
    println!(
        "   CPU us/req: cli = load generator, srv = nimbus serve (or the echo server), rt = runtimes, sbx = spawner and sandbox inits; cpu% of one core"
    );
    println!(
        "{:<11} {:<8} {:>8} {:>9} {:>8} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5} {:>6}  errors",
        "load",
        "target",
        "requests",
        "req/s",
        "p50 us",
        "p99 us",
        "cli",
        "srv",
        "rt",
        "sbx",
        "total",
        "cpu%"
    );
    let mut pairs: Vec<(String, String, LoadResult, LoadResult)> = Vec::new();
    let mut measured = Vec::new();
    for (label, target) in &targets {
        client_rt.block_on(load::sequential(target, SEQ_WARMUP))?;
        let before = Cpu::now(server_pid);
        let r = client_rt.block_on(load::sequential(target, plan.seq))?;
        let cpu = before.until(&Cpu::now(server_pid));
        print_load_row("sequential", label, &r, &cpu);
        measured.push(r);
    }
    let base = measured.pop().context("baseline result")?;
    let nim = measured.pop().context("nimbus result")?;
    pairs.push(("sequential".into(), "seq".into(), nim, base));
    for clients in CLIENTS {
        let load_label = format!("C={clients} {}s", plan.load.as_secs());
        for (label, target) in &targets {
            client_rt.block_on(load::closed_loop(target, clients, LOAD_WARMUP))?;
            let before = Cpu::now(server_pid);
            let r = client_rt.block_on(load::closed_loop(target, clients, plan.load))?;
            let cpu = before.until(&Cpu::now(server_pid));
            print_load_row(&load_label, label, &r, &cpu);
            measured.push(r);
        }
        let base = measured.pop().context("baseline result")?;
        let nim = measured.pop().context("nimbus result")?;
        pairs.push((load_label, format!("c{clients}"), nim, base));
    }
    println!();
    println!(
        "   Nimbus / baseline (latency ratio >1 = slower; throughput ratio <1 = fewer req/s):"
    );
    println!(
        "{:<11} {:>9} {:>9} {:>10} {:>16}",
        "load", "p50 x", "p99 x", "req/s x", "added p50 us"
    );
    for (label, key, nim, base) in &pairs {
        let p50 = ratio(nim.latencies.p50_us(), base.latencies.p50_us());
        let p99 = ratio(nim.latencies.p99_us(), base.latencies.p99_us());
        let rps = ratio(nim.rps(), base.rps());
        println!(
            "{:<11} {:>8.1}x {:>8.1}x {:>9.3}x {:>16.0}",
            label,
            p50,
            p99,
            rps,
            nim.latencies.p50_us() - base.latencies.p50_us()
        );
        for (who, r) in [("nimbus", nim), ("base", base)] {
            let _ = write!(
                result,
                " {key}.{who}.rps={:.0} {key}.{who}.p50_us={:.0} {key}.{who}.p99_us={:.0} {key}.{who}.errors={}",
                r.rps(),
                r.latencies.p50_us(),
                r.latencies.p99_us(),
                r.errors
            );
        }
        let _ = write!(
            result,
            " {key}.ratio_p50={p50:.2} {key}.ratio_p99={p99:.2} {key}.ratio_rps={rps:.3}"
        );
    }
    Ok(())
}

/// Prints one load-table row.
fn print_load_row(load: &str, target: &str, r: &LoadResult, cpu: &Cpu) {
    let n = r.requests().max(1) as f64;
    let per_req = |seconds: f64| seconds * 1e6 / n;
    let is_base = target == "baseline";
    let srv = if is_base { cpu.echo } else { cpu.server };
    let (rt, sbx) = if is_base {
        (0.0, 0.0)
    } else {
        (cpu.runtimes, cpu.sandbox_other)
    };
    let total = cpu.client + srv + rt + sbx;
    let busy = 100.0 * total / r.elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "{:<11} {:<8} {:>8} {:>9.0} {:>8.0} {:>8.0} {:>6.1} {:>5.1} {:>5.1} {:>5.1} {:>5.1} {:>5.0}%  {}",
        load,
        target,
        r.requests(),
        r.rps(),
        r.latencies.p50_us(),
        r.latencies.p99_us(),
        per_req(cpu.client),
        per_req(srv),
        per_req(rt),
        per_req(sbx),
        per_req(total),
        busy,
        r.errors
    );
}

/// The newest pyenv interpreter of `minor` (e.g. "3.12"): `$PYENV_ROOT` or `~/.pyenv`.
fn pyenv_python(minor: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))?;
    let mut versions: Vec<String> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|v| {
            v.strip_prefix(minor)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .collect();
    versions.sort_by_key(|v| {
        v.rsplit('.')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let newest = versions.pop()?;
    let path = root
        .join("versions")
        .join(newest)
        .join("bin")
        .join(format!("python{minor}"));
    path.is_file().then_some(path)
}

/// "built 3 min ago" from the file's modification time.
fn modified_ago(path: &Path) -> String {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok());
    match age {
        Some(age) if age.as_secs() < 120 => format!("built {} s ago", age.as_secs()),
        Some(age) => format!("built {} min ago", age.as_secs() / 60),
        None => "build time unknown".into(),
    }
}
