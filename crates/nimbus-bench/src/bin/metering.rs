//! `metering`: what recording an invocation costs the invoke path, and how fast the writer
//! stores records, on a real `nimbus.db` (SQLite, `synchronous=FULL`).
//!
//! 1. Burst: 4 threads call `Metering::record` as fast as they can, 50,000 records in all
//!    (below the queue's capacity): the per-call latency is what an invocation pays.
//! 2. Drain: the time until `flush` returns for that burst: stored records/s (batches of up to
//!    1,000 per transaction).
//! 3. Sustained: 20,000 records/s for 10 s (3 s with `--quick`), paced, twice the warm invokes/s
//!    this 2-core machine serves; nothing may be dropped, and the final flush shows the
//!    writer's lag.
//!
//! Run: `cargo run --release -p nimbus-bench --bin metering -- [--quick]`. See
//! `docs/benchmarks.md`.

#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use nimbus_bench::machine;
use nimbus_bench::stats::Latencies;
use nimbus_platform::metering::{Metering, MeteringConfig};
use nimbus_store::{MeteringRecord, SqliteStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records of the burst (under the 65,536-record queue, so none is dropped by design).
const BURST_RECORDS: usize = 50_000;
/// Threads recording at once (invocations finish on many tasks).
const THREADS: usize = 4;
/// Paced rate of the sustained run, records/s: twice the most warm invokes/s measured on
/// this machine (10,351/s at 4 clients, docs/benchmarks.md).
const SUSTAINED_RATE: u64 = 20_000;
/// Length of the sustained run.
const SUSTAINED: Duration = Duration::from_secs(10);
/// Length of the sustained run with `--quick`.
const SUSTAINED_QUICK: Duration = Duration::from_secs(3);
/// A warm invocation's end-to-end p50 on this machine (docs/benchmarks.md, `nimbus-bench`,
/// one client, the no-op custom runtime), to put the per-record cost in proportion.
const WARM_INVOKE_P50_US: f64 = 130.0;

#[derive(Parser)]
#[command(about = "Metering: record() cost on the invoke path and the writer's throughput")]
struct Args {
    /// A shorter sustained run (3 s instead of 10 s).
    #[arg(long)]
    quick: bool,
}

fn record(i: usize) -> MeteringRecord {
    MeteringRecord {
        request_id: format!("00000000-0000-4000-8000-{i:012}"),
        function_name: "bench-function".into(),
        version: "$LATEST".into(),
        trigger: "sync".into(),
        cold: i.is_multiple_of(100),
        provisioned: false,
        architecture: "x86_64".into(),
        init_ms: i.is_multiple_of(100).then_some(120.25),
        duration_ms: 3.5 + (i % 7) as f64,
        billed_ms: 4 + (i % 7) as i64,
        memory_mb: 256,
        max_memory_used_mb: 41,
        ephemeral_mb: 512,
        outcome: "success".into(),
        error_type: None,
        started_ms: 1_800_000_000_000 + i as i64,
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let dir = tempfile::tempdir().context("tempdir")?;
    let store = runtime
        .block_on(SqliteStore::open(dir.path()))
        .context("open nimbus.db")?;
    let metering = {
        let _guard = runtime.enter();
        Arc::new(Metering::start(
            Arc::new(store),
            MeteringConfig::default(),
            0,
        ))
    };
    println!(
        "metering benchmark: {} cores, loadavg {}, commit {}",
        machine::nproc(),
        machine::loadavg(),
        machine::git_commit()
    );

    // 1. Burst.
    let started = Instant::now();
    let per_thread = BURST_RECORDS / THREADS;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let metering = Arc::clone(&metering);
            std::thread::spawn(move || -> anyhow::Result<Latencies> {
                let mut lat = Latencies::new()?;
                for i in 0..per_thread {
                    let r = record(t * per_thread + i);
                    let at = Instant::now();
                    metering.record(r);
                    lat.record(at.elapsed());
                }
                Ok(lat)
            })
        })
        .collect();
    let mut lat = Latencies::new()?;
    for t in threads {
        let l = t
            .join()
            .map_err(|_| anyhow::anyhow!("recording thread panicked"))??;
        lat.merge(&l)?;
    }
    let queued = started.elapsed();
    runtime.block_on(metering.flush());
    let drained = started.elapsed();
    let burst = per_thread * THREADS;
    println!(
        "burst: {burst} records from {THREADS} threads; record() p50 {:.2} µs, p99 {:.2} µs \
         (p99 = {:.2} % of a {:.0} µs warm invoke); queued in {:.0} ms",
        lat.p50_us(),
        lat.p99_us(),
        lat.p99_us() * 100.0 / WARM_INVOKE_P50_US,
        WARM_INVOKE_P50_US,
        queued.as_secs_f64() * 1000.0
    );
    println!(
        "drain: all {burst} stored after {:.0} ms: {:.0} records/s stored; dropped {}",
        drained.as_secs_f64() * 1000.0,
        burst as f64 / drained.as_secs_f64(),
        metering.dropped()
    );
    if metering.dropped() > 0 || metering.lost() > 0 {
        bail!(
            "the burst lost records: dropped {}, lost {}",
            metering.dropped(),
            metering.lost()
        );
    }

    // 3. Sustained, paced.
    let length = if args.quick {
        SUSTAINED_QUICK
    } else {
        SUSTAINED
    };
    let total = (SUSTAINED_RATE as f64 * length.as_secs_f64()) as usize;
    let started = Instant::now();
    for i in 0..total {
        let due = Duration::from_secs_f64(i as f64 / SUSTAINED_RATE as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        metering.record(record(burst + i));
    }
    let sent = started.elapsed();
    let flush_at = Instant::now();
    runtime.block_on(metering.flush());
    let lag = flush_at.elapsed();
    println!(
        "sustained: {total} records at {:.0}/s for {:.1} s; dropped {}, lost {}; final flush {:.1} ms",
        total as f64 / sent.as_secs_f64(),
        sent.as_secs_f64(),
        metering.dropped(),
        metering.lost(),
        lag.as_secs_f64() * 1000.0
    );
    metering.stop();
    if metering.dropped() > 0 || metering.lost() > 0 {
        bail!("records were dropped or lost under a sustainable load");
    }
    Ok(())
}
