//! `overload`: an account limit of 20 under twice the load it can sustain, on loopback.
//!
//! A 200 ms function can serve at most 20 / 0.2 s = 100 requests/s within the limit; this
//! sends 200 requests/s (open loop: on a fixed schedule, whatever the answers) for a bounded
//! time and prints the counts of 200 / 429 / other answers, the in-flight executions (max and
//! mean, from the start and end times the function itself reports), the latency of the 429s,
//! and the server's RSS at start and end. Expected: only 200s and 429s, in-flight never above
//! 20, mean in-flight ≥ 18 (the limit is used, not just respected), 429s in well under a
//! millisecond, served requests within 200 ms + 20 ms at p99, RSS flat.
//!
//! A second phase reserves 5 of the 20 for another function and offers it 4 requests/s while
//! the first function keeps flooding: the reserved function must see no 429 at all, and the
//! flooding one never more than the 15 left to it.
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
use std::path::PathBuf;
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
/// Reserved concurrency of the second function in phase 2.
const RESERVED: u32 = 5;
/// What phase 2 offers the reserved function (below its 5 × 5 = 25 requests/s capacity).
const RESERVED_RATE: f64 = 4.0;
/// Length of phase 2.
const PHASE2: Duration = Duration::from_secs(10);
/// Length of phase 2 with `--quick`.
const PHASE2_QUICK: Duration = Duration::from_secs(5);
/// RSS, fds and threads of the server are sampled this often.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// The early RSS sample compared with the last one: at 2 minutes, or a fifth of a shorter run.
const RSS_EARLY_MAX: Duration = Duration::from_secs(120);
/// Worker threads of the load generator.
const WORKER_THREADS: usize = 2;
/// Host Python (the research floor's interpreter).
const HOST_PYTHON: &str = "/usr/bin/python3";

/// The function flooded in both phases.
const FLOODED: &str = "flooded";
/// The function with a reservation in phase 2.
const RESERVED_FN: &str = "reserved";

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
    /// 200 with the function's start and end (seconds since the epoch) and its latency.
    Ran {
        start: f64,
        end: f64,
        latency: Duration,
    },
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
    let phase2 = if args.quick { PHASE2_QUICK } else { PHASE2 };
    let nimbus = machine::nimbus_binary(args.nimbus)?;
    let limit = ACCOUNT_LIMIT.to_string();
    let runtime = format!("python3.11={HOST_PYTHON}");
    // Lambda keeps 100 unreserved; an account of 20 would keep all of it. Phase 2 reserves 5.
    let unreserved_min = (ACCOUNT_LIMIT - RESERVED).to_string();
    let server_args = [
        "--account-concurrency",
        limit.as_str(),
        "--unreserved-minimum",
        unreserved_min.as_str(),
        "--runtime",
        runtime.as_str(),
    ];
    let server = Server::start(&nimbus, &server_args);
    let pid = machine::find_server(server.data_dir());
    let lambda = server.lambda();
    for name in [FLOODED, RESERVED_FN] {
        let created = lambda.create(
            name,
            "python3.11",
            "app.handler",
            &python_zip(HANDLER),
            json!({ "MemorySize": 128, "Timeout": 10 }),
        );
        if created.status != 201 {
            bail!("CreateFunction {name} failed: {}", created.text());
        }
    }

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
    let target = |name: &str| Target {
        addr,
        path: format!("/2015-03-31/functions/{name}/invocations"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name(machine::CLIENT_THREAD)
        .enable_all()
        .build()
        .context("start the load generator runtime")?;

    // Phase 1: the whole account under 2x load.
    let sampler = pid.map(|pid| Sampler::start(pid, run));
    let started_wall = unix_now();
    let seen = rt.block_on(offer(target(FLOODED), rate, run))?;
    let ended_wall = unix_now();
    let samples = sampler.map(Sampler::finish).unwrap_or_default();
    let server_stats = lambda.request("GET", "/nimbus/v1/stats", &[], None).json();
    let flood = Tally::of(seen)?;
    let window = (
        started_wall + RAMP.as_secs_f64(),
        ended_wall.min(started_wall + run.as_secs_f64()),
    );
    let mean_in_flight = flood.mean_in_flight(window);
    let max_in_flight = flood.max_in_flight();
    let server_throttles: u64 = server_stats["throttles"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);

    println!();
    println!(
        "  phase 1: {FLOODED} alone, {rate:.0} req/s for {} s",
        run.as_secs()
    );
    flood.print_answers();
    println!(
        "  admitted    : {:.1} req/s of {:.0} sustainable ({:.0}% of the limit's capacity)",
        flood.ok() as f64 / run.as_secs_f64(),
        rate / OVERLOAD_FACTOR,
        100.0 * flood.ok() as f64 / run.as_secs_f64() / (rate / OVERLOAD_FACTOR)
    );
    println!(
        "  in-flight   : max {max_in_flight} (limit {ACCOUNT_LIMIT}), mean {mean_in_flight:.2} over [{:.0} s, {:.0} s] of the run",
        RAMP.as_secs_f64(),
        window.1 - started_wall
    );
    println!(
        "  200 latency : p50 {:.1} ms, p99 {:.1} ms, p99 after the first {} s {:.1} ms (function {FUNCTION_MS} ms)",
        flood.served.p50_ms(),
        flood.served.p99_ms(),
        RAMP.as_secs(),
        flood.served_steady.p99_ms()
    );
    println!(
        "  429 latency : p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (server counted {server_throttles} throttles)",
        flood.throttled.p50_us(),
        flood.throttled.p99_us(),
        flood.throttled.quantile_us(1.0)
    );
    let rss_growth = samples.rss_growth_percent();
    println!(
        "  server      : RSS {} (start) -> {} (at {} s) -> {} (end), growth early->end {:+.1}%; fds {} -> {}; threads {} -> {}",
        kib(samples.first().map(|s| s.rss_kib)),
        kib(samples.early().map(|s| s.rss_kib)),
        samples.early_at().as_secs(),
        kib(samples.last().map(|s| s.rss_kib)),
        rss_growth,
        samples.first().map_or(0, |s| s.fds),
        samples.last().map_or(0, |s| s.fds),
        samples.first().map_or(0, |s| s.threads),
        samples.last().map_or(0, |s| s.threads),
    );
    let verdict = |ok: bool| if ok { "ok" } else { "NOT MET" };
    let served_p99_ok = flood.served_steady.p99_ms() <= FUNCTION_MS as f64 + 20.0;
    println!(
        "  expected    : only 200/429 [{}], in-flight <= {ACCOUNT_LIMIT} [{}], mean >= {} [{}], 429 p99 <= 5 ms [{}], steady 200 p99 <= {} ms [{}], RSS growth <= 5% [{}]",
        verdict(flood.other.is_empty()),
        verdict(max_in_flight <= ACCOUNT_LIMIT as usize),
        ACCOUNT_LIMIT - 2,
        verdict(mean_in_flight >= f64::from(ACCOUNT_LIMIT - 2)),
        verdict(flood.throttled.p99_us() <= 5_000.0),
        FUNCTION_MS + 20,
        verdict(served_p99_ok),
        verdict(rss_growth <= 5.0),
    );

    // Phase 2: 5 reserved for another function; the flood goes on.
    let put = lambda.request(
        "PUT",
        &format!("/2017-10-31/functions/{RESERVED_FN}/concurrency"),
        &[("content-type", "application/json")],
        Some(
            json!({ "ReservedConcurrentExecutions": RESERVED })
                .to_string()
                .into_bytes(),
        ),
    );
    if put.status != 200 {
        bail!("PutFunctionConcurrency failed: {}", put.text());
    }
    let (flooded, reserved) = rt.block_on(async {
        tokio::join!(
            offer(target(FLOODED), rate, phase2),
            offer(target(RESERVED_FN), RESERVED_RATE, phase2)
        )
    });
    let (flooded, reserved) = (Tally::of(flooded?)?, Tally::of(reserved?)?);
    let pool = ACCOUNT_LIMIT - RESERVED;
    println!();
    println!(
        "  phase 2: {RESERVED_FN} reserves {RESERVED} and gets {RESERVED_RATE} req/s while {FLOODED} gets {rate:.0} req/s, {} s",
        phase2.as_secs()
    );
    print!("  {FLOODED:<12}");
    flooded.print_answers();
    print!("  {RESERVED_FN:<12}");
    reserved.print_answers();
    println!(
        "  in-flight   : {FLOODED} max {} (its pool {pool}), {RESERVED_FN} max {}",
        flooded.max_in_flight(),
        reserved.max_in_flight()
    );
    println!(
        "  expected    : {RESERVED_FN} sees no 429 [{}], {FLOODED} in-flight <= {pool} [{}]",
        verdict(reserved.throttled.count() == 0 && reserved.other.is_empty()),
        verdict(flooded.max_in_flight() <= pool as usize)
    );

    println!(
        "RESULT overload quick={} secs={} offered_rps={rate:.0} ok={} throttled={} other={} max_in_flight={max_in_flight} mean_in_flight={mean_in_flight:.2} p99_429_us={:.0} p99_200_ms={:.1} p99_200_steady_ms={:.1} rss_growth={rss_growth:.1}% reserved_429={} reserved_ok={} flooded_max_in_flight_p2={}",
        u8::from(args.quick),
        run.as_secs(),
        flood.ok(),
        flood.throttled.count(),
        flood.other.len(),
        flood.throttled.p99_us(),
        flood.served.p99_ms(),
        flood.served_steady.p99_ms(),
        reserved.throttled.count(),
        reserved.ok(),
        flooded.max_in_flight(),
    );
    drop(server);
    Ok(())
}

/// The answers of one offered load.
struct Tally {
    served: Latencies,
    /// Served requests sent after the first [`RAMP`] (no cold starts among them).
    served_steady: Latencies,
    throttled: Latencies,
    other: Vec<String>,
    intervals: Vec<(f64, f64)>,
}

impl Tally {
    fn of(seen: Vec<(Duration, Seen)>) -> anyhow::Result<Tally> {
        let mut t = Tally {
            served: Latencies::new()?,
            served_steady: Latencies::new()?,
            throttled: Latencies::new()?,
            other: Vec::new(),
            intervals: Vec::new(),
        };
        for (sent, s) in seen {
            match s {
                Seen::Ran {
                    start,
                    end,
                    latency,
                } => {
                    t.served.record(latency);
                    if sent >= RAMP {
                        t.served_steady.record(latency);
                    }
                    t.intervals.push((start, end));
                }
                Seen::Throttled(latency) => t.throttled.record(latency),
                Seen::Other(what) => t.other.push(what),
            }
        }
        Ok(t)
    }

    fn ok(&self) -> u64 {
        self.served.count()
    }

    fn print_answers(&self) {
        let total = self.ok() + self.throttled.count() + self.other.len() as u64;
        println!(
            "  answers     : {total} total: 200 = {}, 429 = {}, other = {}",
            self.ok(),
            self.throttled.count(),
            self.other.len()
        );
        if !self.other.is_empty() {
            let mut kinds = self.other.clone();
            kinds.sort();
            kinds.dedup();
            println!("  other kinds : {}", kinds.join("; "));
        }
    }

    fn max_in_flight(&self) -> usize {
        max_overlap(&self.intervals)
    }

    fn mean_in_flight(&self, window: (f64, f64)) -> f64 {
        mean_overlap(&self.intervals, window)
    }
}

/// One sample of the server process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    threads: usize,
}

/// Samples the server every [`SAMPLE_EVERY`] on a thread.
struct Sampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Sample>>,
    early_at: Duration,
}

impl Sampler {
    fn start(pid: u32, run: Duration) -> Sampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(rss_kib) = machine::rss_kib(pid) {
                    samples.push(Sample {
                        at: started.elapsed(),
                        rss_kib,
                        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
                            .map(|d| d.count())
                            .unwrap_or(0),
                        threads: std::fs::read_dir(format!("/proc/{pid}/task"))
                            .map(|d| d.count())
                            .unwrap_or(0),
                    });
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            samples
        });
        Sampler {
            stop,
            thread,
            early_at: (run / 5).min(RSS_EARLY_MAX),
        }
    }

    fn finish(self) -> Samples {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        Samples {
            samples: self.thread.join().unwrap_or_default(),
            early_at: self.early_at,
        }
    }
}

#[derive(Default)]
struct Samples {
    samples: Vec<Sample>,
    early_at: Duration,
}

impl Samples {
    fn first(&self) -> Option<Sample> {
        self.samples.first().copied()
    }

    fn last(&self) -> Option<Sample> {
        self.samples.last().copied()
    }

    /// The first sample at or after the early mark.
    fn early(&self) -> Option<Sample> {
        self.samples.iter().find(|s| s.at >= self.early_at).copied()
    }

    fn early_at(&self) -> Duration {
        self.early().map_or(self.early_at, |s| s.at)
    }

    fn rss_growth_percent(&self) -> f64 {
        match (self.early(), self.last()) {
            (Some(a), Some(b)) if a.rss_kib > 0 => {
                (b.rss_kib as f64 - a.rss_kib as f64) * 100.0 / a.rss_kib as f64
            }
            _ => 0.0,
        }
    }
}

/// Sends requests at `rate` per second for `run`, each on a pooled keep-alive connection,
/// and collects what every one saw.
/// Each answer comes with when its request was sent, from the start of the run.
async fn offer(target: Target, rate: f64, run: Duration) -> anyhow::Result<Vec<(Duration, Seen)>> {
    let pool: Arc<Mutex<Vec<Client>>> = Arc::new(Mutex::new(Vec::new()));
    let slots = Arc::new(tokio::sync::Semaphore::new(CLIENT_IN_FLIGHT_MAX));
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let deadline = started + run;
    let mut tasks = Vec::new();
    while Instant::now() < deadline {
        tick.tick().await;
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let (pool, target) = (Arc::clone(&pool), target.clone());
        let sent = started.elapsed();
        tasks.push((
            sent,
            tokio::spawn(async move {
                let seen = one(&pool, &target).await;
                drop(slot);
                seen
            }),
        ));
    }
    let mut seen = Vec::with_capacity(tasks.len());
    for (sent, task) in tasks {
        let answer = task
            .await
            .unwrap_or_else(|e| Seen::Other(format!("task: {e}")));
        seen.push((sent, answer));
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
                (Some(start), Some(end)) => Seen::Ran {
                    start,
                    end,
                    latency,
                },
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
