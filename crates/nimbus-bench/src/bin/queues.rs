//! `queues`: durable throughput of asynchronous invokes and of the SQS-compatible queue.
//!
//! 1. Durable Event enqueues/s: clients send `InvocationType: Event` invokes as fast as the
//!    202s come back (each 202 means the event is committed with `synchronous=FULL`), at 1, 8
//!    and 32 concurrent clients; the ratio 32:1 shows what group commit buys. The function
//!    has reserved concurrency 0, so the dispatcher settles each event at once (failure
//!    handling, no sandbox): the settle rate is the store's dequeue throughput, not Python's.
//! 2. SQS messages/s: producers `SendMessage` one message at a time; then producers send
//!    batches of 10 while consumers `ReceiveMessage` (10, long poll) and `DeleteMessageBatch`.
//!    Printed: sent/s and received+deleted/s, and the batch:single ratio.
//!
//! Run: `cargo build --release -p nimbus -p nimbus-bench && cargo run --release -p
//! nimbus-bench --bin queues -- [--quick]`. See `docs/benchmarks.md`.

#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use nimbus_bench::machine;
use nimbus_bench::stats::{Latencies, ratio};
use nimbus_testkit::{Lambda, Server, python_zip};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Length of each measured run.
const RUN: Duration = Duration::from_secs(10);
/// Length of each measured run with `--quick`.
const RUN_QUICK: Duration = Duration::from_secs(3);
/// Concurrent clients of the Event-invoke runs.
const EVENT_CLIENTS: [usize; 3] = [1, 8, 32];
/// Producer and consumer threads of the SQS runs.
const SQS_PRODUCERS: usize = 4;
const SQS_CONSUMERS: usize = 4;
/// Messages per batch (SQS's maximum).
const BATCH: usize = 10;
/// Body of each message: a small JSON document, like most queue payloads.
const BODY_BYTES: usize = 200;
/// How long settling the accepted events may take before the run is declared stuck.
const SETTLE_WITHIN: Duration = Duration::from_secs(300);

#[derive(Parser)]
#[command(about = "Durable Event enqueues/s and SQS send+receive+delete messages/s")]
struct Args {
    /// The release `nimbus` binary (default: `nimbus` next to this executable).
    #[arg(long)]
    nimbus: Option<PathBuf>,
    /// Shorter runs (3 s instead of 10 s).
    #[arg(long)]
    quick: bool,
}

/// Requests that succeeded, their latencies, and failures.
struct Tally {
    ok: u64,
    failed: u64,
    latencies: Latencies,
}

/// Runs `work` on `threads` threads for `run`; each call returns how many items it completed
/// (0 = a failure).
fn drive(
    threads: usize,
    run: Duration,
    make: impl Fn(usize) -> Box<dyn FnMut() -> u64 + Send> + Sync,
) -> anyhow::Result<(Tally, Duration)> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let stop = Arc::clone(&stop);
                let mut work = make(i);
                s.spawn(move || -> anyhow::Result<Tally> {
                    let mut t = Tally {
                        ok: 0,
                        failed: 0,
                        latencies: Latencies::new()?,
                    };
                    while !stop.load(Ordering::Relaxed) {
                        let at = Instant::now();
                        let n = work();
                        if n == 0 {
                            t.failed += 1;
                        } else {
                            t.ok += n;
                            t.latencies.record(at.elapsed());
                        }
                    }
                    Ok(t)
                })
            })
            .collect();
        std::thread::sleep(run);
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("worker panicked"))?)
            .collect::<anyhow::Result<Vec<Tally>>>()
    })?;
    let elapsed = started.elapsed();
    let mut total = Tally {
        ok: 0,
        failed: 0,
        latencies: Latencies::new()?,
    };
    for t in results {
        total.ok += t.ok;
        total.failed += t.failed;
        total.latencies.merge(&t.latencies)?;
    }
    Ok((total, elapsed))
}

fn queue(l: &Lambda, name: &str) -> anyhow::Result<String> {
    let r = l
        .sqs("CreateQueue", &json!({ "QueueName": name }))
        .map_err(anyhow::Error::msg)?;
    if r.status != 200 {
        bail!("CreateQueue: {}", r.text());
    }
    r.json()["QueueUrl"]
        .as_str()
        .map(str::to_string)
        .context("QueueUrl")
}

fn body(i: u64) -> String {
    // `{"order":N,"pad":"…"}`: 19 bytes of JSON around the number and the padding.
    let fixed = 19 + i.to_string().len();
    json!({ "order": i, "pad": "x".repeat(BODY_BYTES.saturating_sub(fixed)) }).to_string()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = if args.quick { RUN_QUICK } else { RUN };
    let nimbus = machine::nimbus_binary(args.nimbus)?;
    let server = Server::start(&nimbus, &[]);
    let pid = machine::find_server(server.data_dir());
    let l = server.lambda();
    println!("queues");
    println!(
        "  machine     : nproc={} kernel={} loadavg {}",
        machine::nproc(),
        machine::kernel(),
        machine::loadavg()
    );
    println!(
        "  server      : nimbus serve (pid {}), git {}, data dir on {}",
        pid.map_or("unknown".into(), |p| p.to_string()),
        machine::git_commit(),
        server.data_dir().display()
    );

    // 1. Durable Event enqueues.
    let function = "bench-async";
    let created = l.create(
        function,
        "python3.12",
        "app.handler",
        &python_zip("def handler(event, context):\n    return {}\n"),
        json!({}),
    );
    if created.status != 201 {
        bail!("CreateFunction: {}", created.text());
    }
    let r = l.request(
        "PUT",
        &format!("/2017-10-31/functions/{function}/concurrency"),
        &[("content-type", "application/json")],
        Some(br#"{"ReservedConcurrentExecutions": 0}"#.to_vec()),
    );
    if r.status != 200 {
        bail!("PutFunctionConcurrency: {}", r.text());
    }
    println!(
        "  event invokes ({} s per run, 202 = committed with synchronous=FULL):",
        run.as_secs()
    );
    let mut rates = Vec::new();
    for clients in EVENT_CLIENTS {
        let endpoint = server.endpoint.clone();
        let (t, elapsed) = drive(clients, run, |_| {
            let l = Lambda::new(&endpoint);
            Box::new(move || {
                match l.try_request(
                    "POST",
                    &format!("/2015-03-31/functions/{function}/invocations"),
                    &[("x-amz-invocation-type", "Event")],
                    Some(br#"{"bench":true}"#.to_vec()),
                ) {
                    Ok(r) if r.status == 202 => 1,
                    _ => 0,
                }
            })
        })?;
        let rate = t.ok as f64 / elapsed.as_secs_f64();
        let settle_start = Instant::now();
        while l.unfinished_async_events().unwrap_or(1) > 0 {
            if settle_start.elapsed() > SETTLE_WITHIN {
                bail!("accepted events did not settle within {SETTLE_WITHIN:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let settled_in = elapsed + settle_start.elapsed();
        println!(
            "    clients {clients:>2}: {rate:>8.0} enqueues/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  all settled after {:.1} s ({:.0} events/s end to end)",
            t.latencies.p50_us() / 1000.0,
            t.latencies.p99_us() / 1000.0,
            t.failed,
            settled_in.as_secs_f64(),
            t.ok as f64 / settled_in.as_secs_f64()
        );
        rates.push(rate);
    }
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        println!(
            "    ratio {} clients : 1 client = {:.2}",
            EVENT_CLIENTS[EVENT_CLIENTS.len() - 1],
            ratio(*last, *first)
        );
    }

    // 2. SQS.
    println!(
        "  sqs ({} s per run, {BODY_BYTES}-byte bodies, {SQS_PRODUCERS} producers, {SQS_CONSUMERS} consumers):",
        run.as_secs()
    );
    let single_url = queue(&l, "bench-single")?;
    let counter = Arc::new(AtomicU64::new(0));
    let endpoint = server.endpoint.clone();
    let (single, elapsed) = drive(SQS_PRODUCERS, run, |_| {
        let l = Lambda::new(&endpoint);
        let url = single_url.clone();
        let counter = Arc::clone(&counter);
        Box::new(move || {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            match l.sqs(
                "SendMessage",
                &json!({ "QueueUrl": url, "MessageBody": body(i) }),
            ) {
                Ok(r) if r.status == 200 => 1,
                _ => 0,
            }
        })
    })?;
    let single_rate = single.ok as f64 / elapsed.as_secs_f64();
    println!(
        "    SendMessage, one at a time      : {single_rate:>8.0} msgs/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
        single.latencies.p50_us() / 1000.0,
        single.latencies.p99_us() / 1000.0,
        single.failed
    );

    let url = queue(&l, "bench-batch")?;
    let received = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let stop_consumers = Arc::new(AtomicBool::new(false));
    let consumers: Vec<_> = (0..SQS_CONSUMERS)
        .map(|_| {
            let l = Lambda::new(&endpoint);
            let url = url.clone();
            let received = Arc::clone(&received);
            let stop = Arc::clone(&stop_consumers);
            std::thread::spawn(move || -> anyhow::Result<Latencies> {
                let mut lat = Latencies::new()?;
                while !stop.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    let Ok(r) = l.sqs(
                        "ReceiveMessage",
                        &json!({ "QueueUrl": url, "MaxNumberOfMessages": BATCH, "WaitTimeSeconds": 1 }),
                    ) else {
                        continue;
                    };
                    let messages = r.json()["Messages"].as_array().cloned().unwrap_or_default();
                    if messages.is_empty() {
                        continue;
                    }
                    let entries: Vec<Value> = messages
                        .iter()
                        .enumerate()
                        .map(|(i, m)| json!({ "Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"] }))
                        .collect();
                    if let Ok(d) = l.sqs("DeleteMessageBatch", &json!({ "QueueUrl": url, "Entries": entries }))
                        && d.status == 200
                    {
                        let ok = d.json()["Successful"].as_array().map_or(0, Vec::len);
                        received.fetch_add(ok as u64, Ordering::Relaxed);
                        lat.record(at.elapsed());
                    }
                }
                Ok(lat)
            })
        })
        .collect();
    let counter = Arc::new(AtomicU64::new(0));
    let (batch, elapsed) = drive(SQS_PRODUCERS, run, |_| {
        let l = Lambda::new(&endpoint);
        let url = url.clone();
        let counter = Arc::clone(&counter);
        let sent = Arc::clone(&sent);
        Box::new(move || {
            let entries: Vec<Value> = (0..BATCH)
                .map(|k| {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    json!({ "Id": k.to_string(), "MessageBody": body(i) })
                })
                .collect();
            match l.sqs(
                "SendMessageBatch",
                &json!({ "QueueUrl": url, "Entries": entries }),
            ) {
                Ok(r) if r.status == 200 => {
                    let n = r.json()["Successful"].as_array().map_or(0, Vec::len) as u64;
                    sent.fetch_add(n, Ordering::Relaxed);
                    n
                }
                _ => 0,
            }
        })
    })?;
    let consumed_during = received.load(Ordering::Relaxed);
    stop_consumers.store(true, Ordering::Relaxed);
    let mut consume_lat = Latencies::new()?;
    for c in consumers {
        let lat = c
            .join()
            .map_err(|_| anyhow::anyhow!("consumer panicked"))??;
        consume_lat.merge(&lat)?;
    }
    let batch_rate = batch.ok as f64 / elapsed.as_secs_f64();
    let consume_rate = consumed_during as f64 / elapsed.as_secs_f64();
    println!(
        "    SendMessageBatch (10)           : {batch_rate:>8.0} msgs/s  p50 {:>6.2} ms  p99 {:>6.2} ms per batch  errors {}",
        batch.latencies.p50_us() / 1000.0,
        batch.latencies.p99_us() / 1000.0,
        batch.failed
    );
    println!(
        "    Receive (10) + DeleteBatch, same time: {consume_rate:>8.0} msgs/s  p50 {:>6.2} ms  p99 {:>6.2} ms per batch",
        consume_lat.p50_us() / 1000.0,
        consume_lat.p99_us() / 1000.0,
    );
    println!(
        "    send+receive+delete, batches of 10: {:>8.0} msgs/s through the queue (min of both sides)",
        batch_rate.min(consume_rate)
    );
    println!(
        "    ratio batch-of-10 send : single send = {:.2}",
        ratio(batch_rate, single_rate)
    );
    if let Some(pid) = pid {
        println!(
            "  server RSS at end: {} KiB",
            machine::rss_kib(pid).map_or("unknown".into(), |k| k.to_string())
        );
    }
    Ok(())
}
