//! `overload`: an account limit of 20 under twice the load it can sustain, on loopback.
//!
//! A 200 ms function can serve at most 20 / 0.2 s = 100 requests/s within the limit; this
//! sends 200 requests/s (open loop: on a fixed schedule, whatever the answers) for a bounded
//! time and prints the counts of 200 / 429 / other answers, the in-flight executions (max and
//! mean, from the start and end times the function itself reports), the latency of the 429s,
//! and the server's RSS at start and end. Expected: only 200s and 429s, in-flight never above
//! 20, mean in-flight ≥ 18 (the limit is used, not just respected), 429s in well under a
//! millisecond.
//!
//! Run: `cargo build --release -p nimbus -p nimbus-bench && cargo run --release -p
//! nimbus-bench --bin overload -- [--quick]`. See `docs/benchmarks.md`.

#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use hyper::StatusCode;
use nimbus_bench::load::{Client, Target};
use nimbus_bench::machine;
use nimbus_bench::stats::Latencies;
use nimbus_testkit::{Server, python_zip};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// The account concurrency limit under test.
const ACCOUNT_LIMIT: u32 = 20;
/// How long each invocation runs.
const FUNCTION_MS: u64 = 200;
/// Offered load as a multiple of what the limit sustains.
const OVERLOAD_FACTOR: f64 = 2.0;
/// How long the load is offered.
const RUN: Duration = Duration::from_secs(20);
/// How long with `--quick`.
const RUN_QUICK: Duration = Duration::from_secs(8);
/// Left out of the in-flight mean at the start: the environments' cold starts.
const RAMP: Duration = Duration::from_secs(1);
/// Requests allowed in the air at once (the bound of this open-loop generator): far above
/// what the server admits, so the generator never limits the offered load.
const CLIENT_IN_FLIGHT_MAX: usize = 512;
/// Worker threads of the load generator.
const WORKER_THREADS: usize = 2;
/// Host Python (the research floor's interpreter).
const HOST_PYTHON: &str = "/usr/bin/python3";

/// Sleeps 200 ms and reports when it ran (host wall clock: environments share it).
const HANDLER: &str = "import time\n\ndef handler(event, context):\n    start = time.time()\n    time.sleep(0.2)\n    return {\"start\": start, \"end\": time.time()}\n";

#[derive(Parser)]
#[command(about = "Nimbus overload benchmark: account limit 20 at 2x its sustainable rate")]
struct Args {
    /// The release `nimbus` binary (default: `nimbus` next to this executable).
    #[arg(long)]
    nimbus: Option<PathBuf>,
    /// A shorter run (8 s instead of 20 s).
    #[arg(long)]
    quick: bool,
    /// Run for this many seconds instead (e.g. to watch RSS over a long run).
    #[arg(long)]
    seconds: Option<u64>,
}

/// What one request saw.
enum Seen {
    /// 200 with the function's start and end (seconds since the epoch).
    Ran { start: f64, end: f64 },
    /// 429 and how long it took.
    Throttled(Duration),
    /// Anything else (status, or a transport error).
    Other(String),
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = match (args.seconds, args.quick) {
        (Some(s), _) => Duration::from_secs(s.max(2)),
        (None, true) => RUN_QUICK,
        (None, false) => RUN,
    };
    let exe_dir = std::env::current_exe()
        .context("locate this executable")?
        .parent()
        .map(Path::to_path_buf)
        .context("executable has no directory")?;
    let nimbus = args.nimbus.unwrap_or_else(|| exe_dir.join("nimbus"));
    if !nimbus.is_file() {
        bail!(
            "no nimbus binary at {}; build it with `cargo build --release -p nimbus`",
            nimbus.display()
        );
    }
    let limit = ACCOUNT_LIMIT.to_string();
    let runtime = format!("python3.11={HOST_PYTHON}");
    let server_args = [
        "--account-concurrency",
        limit.as_str(),
        "--runtime",
        runtime.as_str(),
    ];
    let server = Server::start(&nimbus, &server_args);
    let pid = machine::find_server(server.data_dir());
    let lambda = server.lambda();
    let name = "overload";
    let created = lambda.create(
        name,
        "python3.11",
        "app.handler",
        &python_zip(HANDLER),
        json!({ "MemorySize": 128, "Timeout": 10 }),
    );
    if created.status != 201 {
        bail!("CreateFunction failed: {}", created.text());
    }
    let rss_start = pid.and_then(machine::rss_kib);

    let rate = f64::from(ACCOUNT_LIMIT) * 1000.0 / FUNCTION_MS as f64 * OVERLOAD_FACTOR;
    println!("overload");
    println!(
        "  machine     : nproc={} kernel={} loadavg {}",
        machine::nproc(),
        machine::kernel(),
        machine::loadavg()
    );
    println!(
        "  server      : nimbus serve {} (pid {}), git {}",
        server_args.join(" "),
        pid.map_or("unknown".into(), |p| p.to_string()),
        machine::git_commit()
    );
    println!(
        "  plan        : {FUNCTION_MS} ms function, limit {ACCOUNT_LIMIT} sustains {:.0} req/s; offering {rate:.0} req/s ({OVERLOAD_FACTOR}x) for {} s, open loop",
        rate / OVERLOAD_FACTOR,
        run.as_secs()
    );

    let addr: SocketAddr = server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .context("server address")?;
    let target = Target {
        addr,
        path: format!("/2015-03-31/functions/{name}/invocations"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name(machine::CLIENT_THREAD)
        .enable_all()
        .build()
        .context("start the load generator runtime")?;
    let started_wall = unix_now();
    let seen = rt.block_on(offer(target, rate, run))?;
    let ended_wall = unix_now();
    let rss_end = pid.and_then(machine::rss_kib);
    let server_stats = lambda.request("GET", "/nimbus/v1/stats", &[], None).json();

    let mut ok = 0u64;
    let mut throttled = Latencies::new()?;
    let mut other: Vec<String> = Vec::new();
    let mut intervals = Vec::new();
    for s in seen {
        match s {
            Seen::Ran { start, end } => {
                ok += 1;
                intervals.push((start, end));
            }
            Seen::Throttled(latency) => throttled.record(latency),
            Seen::Other(what) => other.push(what),
        }
    }
    let total = ok + throttled.count() + other.len() as u64;
    let max_in_flight = max_overlap(&intervals);
    let window = (
        started_wall + RAMP.as_secs_f64(),
        ended_wall.min(started_wall + run.as_secs_f64()),
    );
    let mean_in_flight = mean_overlap(&intervals, window);
    let server_throttles: u64 = server_stats["throttles"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);

    println!();
    println!(
        "  answers     : {total} total: 200 = {ok}, 429 = {}, other = {}",
        throttled.count(),
        other.len()
    );
    if !other.is_empty() {
        other.sort();
        other.dedup();
        println!("  other kinds : {}", other.join("; "));
    }
    println!(
        "  admitted    : {:.1} req/s of {:.0} sustainable ({:.0}% of the limit's capacity)",
        ok as f64 / run.as_secs_f64(),
        rate / OVERLOAD_FACTOR,
        100.0 * ok as f64 / run.as_secs_f64() / (rate / OVERLOAD_FACTOR)
    );
    println!(
        "  in-flight   : max {max_in_flight} (limit {ACCOUNT_LIMIT}), mean {mean_in_flight:.2} over [{:.0} s, {:.0} s] of the run",
        RAMP.as_secs_f64(),
        window.1 - started_wall
    );
    println!(
        "  429 latency : p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (server counted {server_throttles} throttles)",
        throttled.p50_us(),
        throttled.p99_us(),
        throttled.quantile_us(1.0)
    );
    println!(
        "  server RSS  : {} at start -> {} at end",
        kib(rss_start),
        kib(rss_end)
    );
    let verdict = |ok: bool| if ok { "ok" } else { "NOT MET" };
    println!(
        "  expected    : only 200/429 [{}], in-flight <= {ACCOUNT_LIMIT} [{}], mean >= {} [{}]",
        verdict(other.is_empty()),
        verdict(max_in_flight <= ACCOUNT_LIMIT as usize),
        ACCOUNT_LIMIT - 2,
        verdict(mean_in_flight >= f64::from(ACCOUNT_LIMIT - 2))
    );
    println!(
        "RESULT overload quick={} ok={ok} throttled={} other={} max_in_flight={max_in_flight} mean_in_flight={mean_in_flight:.2} throttle_p99_us={:.0} rss_start_kib={} rss_end_kib={}",
        u8::from(args.quick),
        throttled.count(),
        other.len(),
        throttled.p99_us(),
        rss_start.unwrap_or(0),
        rss_end.unwrap_or(0)
    );
    drop(server);
    Ok(())
}

/// Sends requests at `rate` per second for `run`, each on a pooled keep-alive connection,
/// and collects what every one saw.
async fn offer(target: Target, rate: f64, run: Duration) -> anyhow::Result<Vec<Seen>> {
    let pool: Arc<Mutex<Vec<Client>>> = Arc::new(Mutex::new(Vec::new()));
    let slots = Arc::new(tokio::sync::Semaphore::new(CLIENT_IN_FLIGHT_MAX));
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = Instant::now() + run;
    let mut tasks = Vec::new();
    while Instant::now() < deadline {
        tick.tick().await;
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let (pool, target) = (Arc::clone(&pool), target.clone());
        tasks.push(tokio::spawn(async move {
            let seen = one(&pool, &target).await;
            drop(slot);
            seen
        }));
    }
    let mut seen = Vec::with_capacity(tasks.len());
    for task in tasks {
        seen.push(
            task.await
                .unwrap_or_else(|e| Seen::Other(format!("task: {e}"))),
        );
    }
    Ok(seen)
}

async fn one(pool: &Mutex<Vec<Client>>, target: &Target) -> Seen {
    let reused = pool.lock().await.pop();
    let mut client = match reused {
        Some(c) => c,
        None => match Client::connect(target).await {
            Ok(c) => c,
            Err(e) => return Seen::Other(format!("connect: {e}")),
        },
    };
    let sent = Instant::now();
    let answer = match client.send().await {
        Ok(a) => a,
        Err(e) => return Seen::Other(format!("transport: {e}")),
    };
    let latency = sent.elapsed();
    pool.lock().await.push(client);
    match answer.status {
        StatusCode::OK if !answer.function_error => {
            let times: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
            match (times["start"].as_f64(), times["end"].as_f64()) {
                (Some(start), Some(end)) => Seen::Ran { start, end },
                _ => Seen::Other("200 without the function's times".into()),
            }
        }
        StatusCode::OK => Seen::Other("function error".into()),
        StatusCode::TOO_MANY_REQUESTS => Seen::Throttled(latency),
        s => Seen::Other(format!("status {s}")),
    }
}

/// The largest number of intervals covering one instant.
fn max_overlap(intervals: &[(f64, f64)]) -> usize {
    let mut events: Vec<(f64, i32)> = Vec::with_capacity(intervals.len() * 2);
    for &(s, e) in intervals {
        events.push((s, 1));
        events.push((e, -1));
    }
    // Ends before starts at the same instant: touching intervals do not overlap.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, delta) in events {
        now += delta;
        max = max.max(now);
    }
    usize::try_from(max).unwrap_or(0)
}

/// Mean number of intervals covering an instant of `window`.
fn mean_overlap(intervals: &[(f64, f64)], window: (f64, f64)) -> f64 {
    let (from, to) = window;
    if to <= from {
        return 0.0;
    }
    let covered: f64 = intervals
        .iter()
        .map(|&(s, e)| (e.min(to) - s.max(from)).max(0.0))
        .sum();
    covered / (to - from)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn kib(v: Option<u64>) -> String {
    v.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}
