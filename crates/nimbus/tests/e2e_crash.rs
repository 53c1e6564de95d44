//! Crash test (issue 4; bad-inputs CR-02, CR-03): a driver sends asynchronous invokes and
//! queue messages, and consumes the queue, while `nimbus serve` is killed with SIGKILL at
//! random moments (at least 20 times) and restarted on the same data directory. Then
//! everything is drained and each item is classified as Jepsen's total-queue checker does:
//!
//! * lost: acknowledged (202 / SendMessage 200) but never delivered — must be 0;
//! * unexpected: delivered but never sent, or sent and refused — must be 0;
//! * duplicated: delivered more than once — allowed (at-least-once), counted;
//! * recovered: outcome unknown (the kill cut the request) but delivered.
//!
//! Async invokes deliver through an OnSuccess destination to a queue (idempotent per event),
//! so both classes end in a queue. Set `NIMBUS_CRASH_SEED` to replay a run's kill timing.

mod common;

use common::bin;
use nimbus_testkit::{Lambda, Server, python_zip, unique};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// SIGKILLs in one run (the issue asks for at least 20).
const KILLS: usize = 22;
/// Operations the driver attempts between two kills (a kill usually cuts the round short).
const OPS_PER_ROUND: usize = 60;
/// A kill lands this long after a round starts, at least and at most.
const KILL_AFTER_MS_MIN: u64 = 50;
const KILL_AFTER_MS_MAX: u64 = 900;
/// Visibility timeout of the work queue: consumers' leases expire quickly after a crash.
const VISIBILITY_S: u64 = 2;
/// How long the drain may take once the killing stops.
const DRAIN_WITHIN: Duration = Duration::from_secs(180);

/// A tiny deterministic generator (xorshift64*), seeded per run and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the driver knows about one item.
#[derive(Default)]
struct Ledger {
    acked: BTreeSet<String>,
    unknown: BTreeSet<String>,
    refused: BTreeSet<String>,
    delivered: BTreeMap<String, u32>,
}

impl Ledger {
    fn deliver(&mut self, id: String) {
        *self.delivered.entry(id).or_default() += 1;
    }

    /// (lost, unexpected, duplicated, recovered)
    fn classify(&self) -> (Vec<String>, Vec<String>, usize, usize) {
        let lost = self
            .acked
            .iter()
            .filter(|id| !self.delivered.contains_key(*id))
            .cloned()
            .collect();
        let unexpected = self
            .delivered
            .keys()
            .filter(|id| !self.acked.contains(*id) && !self.unknown.contains(*id))
            .cloned()
            .collect();
        let duplicated = self.delivered.values().filter(|n| **n > 1).count();
        let recovered = self
            .unknown
            .iter()
            .filter(|id| self.delivered.contains_key(*id))
            .count();
        (lost, unexpected, duplicated, recovered)
    }
}

/// The queue's URL. URLs carry the listener's port, which changes at every restart, so the
/// driver asks again after each one.
fn queue_url(l: &Lambda, name: &str) -> String {
    let r = l
        .sqs("GetQueueUrl", &json!({ "QueueName": name }))
        .expect("GetQueueUrl");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["QueueUrl"].as_str().expect("QueueUrl").to_string()
}

fn async_invoke(l: &Lambda, function: &str, id: &str) -> Result<u16, String> {
    l.try_request(
        "POST",
        &format!("/2015-03-31/functions/{function}/invocations"),
        &[("x-amz-invocation-type", "Event")],
        Some(json!({ "id": id }).to_string().into_bytes()),
    )
    .map(|r| r.status)
}

/// Receives up to 10 messages and deletes them; the bodies received (whether or not the
/// delete got through: an undeleted one comes back, a duplicate at-least-once allows).
fn consume(l: &Lambda, url: &str, wait_s: u64) -> Result<Vec<String>, String> {
    let r = l.sqs(
        "ReceiveMessage",
        &json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": wait_s }),
    )?;
    if r.status != 200 {
        return Err(format!("receive: {} {}", r.status, r.text()));
    }
    let v = r.json();
    let messages = v["Messages"].as_array().cloned().unwrap_or_default();
    let mut bodies = Vec::with_capacity(messages.len());
    let mut entries = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        bodies.push(m["Body"].as_str().unwrap_or_default().to_string());
        entries.push(json!({ "Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"] }));
    }
    if !entries.is_empty() {
        // A failure here only means a redelivery later.
        let _ = l.sqs(
            "DeleteMessageBatch",
            &json!({ "QueueUrl": url, "Entries": entries }),
        );
    }
    Ok(bodies)
}

/// The id an OnSuccess record carries: the event's payload.
fn record_id(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["requestPayload"]["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("<unparsable record {body}>"))
}

#[test]
fn nothing_acknowledged_is_lost_across_sigkills() {
    let seed = std::env::var("NIMBUS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("crash test seed {seed} (NIMBUS_CRASH_SEED={seed} replays the kill timing)");
    let mut rng = Rng(seed);
    let mut server = Server::start(bin(), &["--shell-pool", "0", "--async-time-scale", "0.01"]);
    let l = server.lambda();
    let work = unique("crash-work");
    let records = unique("crash-records");
    for (name, vis) in [(&work, VISIBILITY_S), (&records, 30)] {
        let r = l
            .sqs(
                "CreateQueue",
                &json!({ "QueueName": name, "Attributes": { "VisibilityTimeout": vis.to_string() } }),
            )
            .expect("CreateQueue");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let records_arn = format!("arn:aws:sqs:us-east-1:000000000000:{records}");
    let function = unique("crash-fn");
    let r = l.create(
        &function,
        "python3.12",
        "app.handler",
        &python_zip("def handler(event, context):\n    return event\n"),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = l.request(
        "PUT",
        &format!("/2019-09-25/functions/{function}/event-invoke-config"),
        &[("content-type", "application/json")],
        Some(
            json!({ "DestinationConfig": { "OnSuccess": { "Destination": records_arn } } })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let mut events = Ledger::default();
    let mut messages = Ledger::default();
    let mut n = 0u64;
    let started = Instant::now();
    for _round in 0..KILLS {
        let l = server.lambda();
        let work_url = queue_url(&l, &work);
        let pid = server.pid().expect("server pid");
        let delay = Duration::from_millis(
            KILL_AFTER_MS_MIN + rng.below(KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN),
        );
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            sigkill(pid);
        });
        for _ in 0..OPS_PER_ROUND {
            n += 1;
            let roll = rng.below(100);
            let ok = if roll < 45 {
                let id = format!("a-{n}");
                match async_invoke(&l, &function, &id) {
                    Ok(202) => {
                        events.acked.insert(id);
                        true
                    }
                    Ok(_) => {
                        events.refused.insert(id);
                        true
                    }
                    Err(_) => {
                        events.unknown.insert(id);
                        false
                    }
                }
            } else if roll < 80 {
                let id = format!("q-{n}");
                match l.sqs(
                    "SendMessage",
                    &json!({ "QueueUrl": work_url, "MessageBody": id }),
                ) {
                    Ok(r) if r.status == 200 => {
                        messages.acked.insert(id);
                        true
                    }
                    Ok(_) => {
                        messages.refused.insert(id);
                        true
                    }
                    Err(_) => {
                        messages.unknown.insert(id);
                        false
                    }
                }
            } else {
                match consume(&l, &work_url, 0) {
                    Ok(bodies) => {
                        for b in bodies {
                            messages.deliver(b);
                        }
                        true
                    }
                    Err(_) => false,
                }
            };
            if !ok {
                break;
            }
        }
        killer.join().expect("killer thread");
        server.kill9();
        server.start_again();
    }
    let kill_phase = started.elapsed();

    // Drain: every event terminal, every queue empty with nothing in flight.
    let l = server.lambda();
    let work_url = queue_url(&l, &work);
    let records_url = queue_url(&l, &records);
    let deadline = Instant::now() + DRAIN_WITHIN;
    loop {
        for b in consume(&l, &work_url, 1).expect("drain work queue") {
            messages.deliver(b);
        }
        for b in consume(&l, &records_url, 0).expect("drain records") {
            events.deliver(record_id(&b));
        }
        let unfinished = l.unfinished_async_events().unwrap_or(i64::MAX);
        let counts = |url: &str| -> i64 {
            let r = l
                .sqs(
                    "GetQueueAttributes",
                    &json!({ "QueueUrl": url, "AttributeNames": ["All"] }),
                )
                .expect("attributes");
            let a = r.json()["Attributes"].clone();
            [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ]
            .iter()
            .map(|k| {
                a[*k]
                    .as_str()
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(1)
            })
            .sum()
        };
        if unfinished == 0 && counts(&work_url) == 0 && counts(&records_url) == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the drain did not finish: {unfinished} events unfinished\nlog:\n{}",
            server.log()
        );
    }

    let report = |class: &str, ledger: &Ledger| {
        let (lost, unexpected, duplicated, recovered) = ledger.classify();
        println!(
            "RESULT crash class={class} kills={KILLS} acked={} unknown={} refused={} delivered={} lost={} unexpected={} duplicated={duplicated} recovered={recovered}",
            ledger.acked.len(),
            ledger.unknown.len(),
            ledger.refused.len(),
            ledger.delivered.len(),
            lost.len(),
            unexpected.len(),
        );
        (lost, unexpected)
    };
    println!("kill phase {:.1} s", kill_phase.as_secs_f64());
    let (lost_e, unexpected_e) = report("async", &events);
    let (lost_m, unexpected_m) = report("queue", &messages);
    assert!(
        events.acked.len() >= 20,
        "too few async invokes were acknowledged to mean much"
    );
    assert!(
        messages.acked.len() >= 20,
        "too few messages were acknowledged to mean much"
    );
    assert!(
        lost_e.is_empty() && unexpected_e.is_empty(),
        "async: lost {lost_e:?}, unexpected {unexpected_e:?}"
    );
    assert!(
        lost_m.is_empty() && unexpected_m.is_empty(),
        "queue: lost {lost_m:?}, unexpected {unexpected_m:?}"
    );
    // Refused requests must not have been enqueued.
    for (class, ledger) in [("async", &events), ("queue", &messages)] {
        for id in &ledger.refused {
            assert!(
                !ledger.delivered.contains_key(id),
                "{class}: {id} was refused but delivered"
            );
        }
    }
}

/// SIGKILL by pid, through the `kill` command (no unsafe code in tests).
fn sigkill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}
