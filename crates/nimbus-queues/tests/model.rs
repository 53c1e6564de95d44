//! Property test (bad-inputs G9): the queue engine on a real SQLite store against an
//! in-memory model of SQS semantics — leases (visibility), receive counts, stale receipts,
//! redrive to a dead-letter queue, retention from the original enqueue, and restarts.
//!
//! `PROPTEST_CASES` sets the number of sequences (default 200); the run prints
//! `RESULT proptest model=queue cases=N failures=0`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use nimbus_api::sqs::SqsErrorCode;
use nimbus_queues::{Clock, ManualClock, Queues, ReceiveOptions, SendEntry};
use nimbus_store::SqliteStore;
use proptest::prelude::*;

const MAIN: &str = "main";
const DLQ: &str = "dead";
const MAIN_RETENTION_MS: i64 = 300_000;
const DLQ_RETENTION_MS: i64 = 600_000;
const MAX_RECEIVE_COUNT: i64 = 3;
const START_MS: i64 = 1_700_000_000_000;

#[derive(Debug, Clone)]
enum Op {
    Send,
    Receive {
        dlq: bool,
        max: u32,
        visibility_s: u32,
    },
    /// Deletes with the `pick`-th handle ever returned (possibly stale or gone).
    Delete {
        pick: usize,
    },
    ChangeVisibility {
        pick: usize,
        seconds: u32,
    },
    Advance {
        ms: i64,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Send),
        4 => (any::<bool>(), 1u32..=10, 0u32..=40).prop_map(|(dlq, max, visibility_s)| Op::Receive {
            dlq: dlq && max % 3 == 0,
            max,
            visibility_s
        }),
        2 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        1 => (any::<usize>(), 0u32..=40).prop_map(|(pick, seconds)| Op::ChangeVisibility { pick, seconds }),
        3 => (0i64..=120_000).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Restart),
    ]
}

#[derive(Debug, Clone)]
struct ModelMessage {
    body: String,
    order: u64,
    sent_ms: i64,
    expires_ms: i64,
    visible_ms: i64,
    receive_count: i64,
    latest_handle: Option<String>,
}

#[derive(Debug, Default)]
struct Model {
    queues: BTreeMap<&'static str, Vec<ModelMessage>>,
    next_order: u64,
}

impl Model {
    fn receive(
        &mut self,
        queue: &'static str,
        now: i64,
        max: u32,
        visibility_s: u32,
    ) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut moved = Vec::new();
        let msgs = self.queues.entry(queue).or_default();
        msgs.sort_by_key(|m| m.order);
        let mut i = 0;
        while i < msgs.len() && out.len() < max as usize {
            let m = &mut msgs[i];
            if m.visible_ms > now || m.expires_ms <= now {
                i += 1;
                continue;
            }
            if queue == MAIN && m.receive_count >= MAX_RECEIVE_COUNT {
                moved.push(msgs.remove(i));
                continue;
            }
            m.receive_count += 1;
            m.visible_ms = now + i64::from(visibility_s) * 1000;
            m.latest_handle = None; // set by the caller from the engine's answer
            out.push((m.body.clone(), m.receive_count));
            i += 1;
        }
        for mut m in moved {
            self.next_order += 1;
            m.order = self.next_order;
            m.receive_count = 0;
            m.visible_ms = now;
            m.expires_ms = m.sent_ms + DLQ_RETENTION_MS;
            m.latest_handle = None;
            self.queues.entry(DLQ).or_default().push(m);
        }
        out
    }

    fn find_handle(&mut self, handle: &str) -> Option<(&'static str, usize)> {
        for (q, msgs) in self.queues.iter() {
            if let Some(i) = msgs
                .iter()
                .position(|m| m.latest_handle.as_deref() == Some(handle))
            {
                return Some((q, i));
            }
        }
        None
    }
}

async fn open(dir: &Path, clock: Arc<ManualClock>) -> (SqliteStore, Queues) {
    let store = SqliteStore::open(dir).await.expect("open store");
    let queues = Queues::new(Arc::new(store.clone()), clock, "us-east-1", "000000000000");
    (store, queues)
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let base = if Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    };
    let dir = tempfile::Builder::new()
        .prefix("nimbus-queue-model")
        .tempdir_in(base)
        .expect("tempdir");
    let clock = Arc::new(ManualClock::new(START_MS));
    let (mut store, mut queues) = open(dir.path(), clock.clone()).await;
    let dlq_attrs = BTreeMap::from([(
        "MessageRetentionPeriod".to_string(),
        (DLQ_RETENTION_MS / 1000).to_string(),
    )]);
    queues
        .create(DLQ, &dlq_attrs, &BTreeMap::new())
        .await
        .expect("create dlq");
    let main_attrs = BTreeMap::from([
        (
            "MessageRetentionPeriod".to_string(),
            (MAIN_RETENTION_MS / 1000).to_string(),
        ),
        (
            "RedrivePolicy".to_string(),
            format!(
                "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":{MAX_RECEIVE_COUNT}}}",
                queues.arn(DLQ)
            ),
        ),
    ]);
    queues
        .create(MAIN, &main_attrs, &BTreeMap::new())
        .await
        .expect("create main");
    let mut model = Model::default();
    let mut handles: Vec<String> = Vec::new();
    let mut sent = 0u64;
    for op in ops {
        let now = clock.now_ms();
        match op {
            Op::Send => {
                sent += 1;
                let body = format!("m{sent}");
                let r = queues
                    .send(
                        MAIN,
                        &[SendEntry {
                            body: body.clone(),
                            ..SendEntry::default()
                        }],
                    )
                    .await
                    .expect("send");
                prop_assert!(r[0].is_ok());
                model.next_order += 1;
                model.queues.entry(MAIN).or_default().push(ModelMessage {
                    body,
                    order: model.next_order,
                    sent_ms: now,
                    expires_ms: now + MAIN_RETENTION_MS,
                    visible_ms: now,
                    receive_count: 0,
                    latest_handle: None,
                });
            }
            Op::Receive {
                dlq,
                max,
                visibility_s,
            } => {
                let q = if dlq { DLQ } else { MAIN };
                let got = queues
                    .receive(
                        q,
                        ReceiveOptions {
                            max,
                            visibility_s: Some(visibility_s),
                            wait_s: Some(0),
                        },
                    )
                    .await
                    .expect("receive");
                let expected = model.receive(q, now, max, visibility_s);
                let actual: Vec<(String, i64)> = got
                    .iter()
                    .map(|m| {
                        let count = m.attributes["ApproximateReceiveCount"]
                            .parse::<i64>()
                            .unwrap_or(-1);
                        (m.body.clone(), count)
                    })
                    .collect();
                prop_assert_eq!(&actual, &expected, "receive from {}", q);
                for m in &got {
                    // A fresh handle: the previous one of this message is now stale.
                    prop_assert!(!handles.contains(&m.receipt_handle));
                    handles.push(m.receipt_handle.clone());
                    let msgs = model.queues.get_mut(q).expect("queue in model");
                    let mm = msgs
                        .iter_mut()
                        .find(|x| x.body == m.body)
                        .expect("message in model");
                    mm.latest_handle = Some(m.receipt_handle.clone());
                    prop_assert_eq!(
                        m.attributes["SentTimestamp"].parse::<i64>().unwrap_or(-1),
                        mm.sent_ms
                    );
                }
            }
            Op::Delete { pick } => {
                if handles.is_empty() {
                    continue;
                }
                let handle = handles[pick % handles.len()].clone();
                let owner = handle_queue(&handle);
                let r = queues
                    .delete(&owner, std::slice::from_ref(&handle))
                    .await
                    .expect("delete");
                prop_assert!(r[0].is_ok(), "{:?}", r[0]);
                if let Some((q, i)) = model.find_handle(&handle) {
                    prop_assert_eq!(q, owner.as_str());
                    model.queues.get_mut(q).expect("queue").remove(i);
                }
            }
            Op::ChangeVisibility { pick, seconds } => {
                if handles.is_empty() {
                    continue;
                }
                let handle = handles[pick % handles.len()].clone();
                let owner = handle_queue(&handle);
                let r = queues
                    .change_visibility(&owner, &[(handle.clone(), i64::from(seconds))])
                    .await
                    .expect("change visibility");
                let expected = match model.find_handle(&handle) {
                    Some((q, i)) => {
                        let m = &mut model.queues.get_mut(q).expect("queue")[i];
                        if m.visible_ms > now && m.expires_ms > now {
                            m.visible_ms = now + i64::from(seconds) * 1000;
                            Ok(())
                        } else {
                            Err(SqsErrorCode::MessageNotInflight)
                        }
                    }
                    // Stale (received again since) or gone (deleted, moved, expired).
                    None => Err(SqsErrorCode::MessageNotInflight),
                };
                match (&r[0], expected) {
                    (Ok(()), Ok(())) => {}
                    (Err(e), Err(_)) => prop_assert!(
                        e.code == SqsErrorCode::MessageNotInflight
                            || e.code == SqsErrorCode::ReceiptHandleIsInvalid,
                        "{:?}",
                        e
                    ),
                    (a, b) => {
                        prop_assert!(false, "change visibility: engine {:?}, model {:?}", a, b)
                    }
                }
            }
            Op::Advance { ms } => clock.advance_ms(ms),
            Op::Restart => {
                drop(queues);
                store.close().await;
                let reopened = open(dir.path(), clock.clone()).await;
                store = reopened.0;
                queues = reopened.1;
            }
        }
    }
    // Final counts agree.
    let now = clock.now_ms();
    for q in [MAIN, DLQ] {
        let attrs = queues.attributes(q).await.expect("attributes");
        let live: Vec<&ModelMessage> = model
            .queues
            .get(q)
            .map(|v| v.iter().filter(|m| m.expires_ms > now).collect())
            .unwrap_or_default();
        let visible = live.iter().filter(|m| m.visible_ms <= now).count();
        let in_flight = live.iter().filter(|m| m.visible_ms > now).count();
        prop_assert_eq!(
            attrs["ApproximateNumberOfMessages"]
                .parse::<usize>()
                .unwrap_or(usize::MAX),
            visible,
            "{}",
            q
        );
        prop_assert_eq!(
            attrs["ApproximateNumberOfMessagesNotVisible"]
                .parse::<usize>()
                .unwrap_or(usize::MAX),
            in_flight,
            "{}",
            q
        );
    }
    store.close().await;
    Ok(())
}

fn handle_queue(handle: &str) -> String {
    nimbus_queues::Receipt::decode(handle)
        .expect("our handle")
        .queue
}

#[test]
fn queue_matches_the_model() {
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        // The minimal failing input is printed; there is no source file to persist it next to.
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..60), |ops| {
        rt.block_on(run(ops))
    });
    let failures = u32::from(result.is_err());
    println!("RESULT proptest model=queue cases={cases} failures={failures}");
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Regression (found by the property test): eight poison messages at the head of the queue
/// must not starve a receive of one message behind them.
#[test]
fn poison_messages_at_the_head_do_not_starve_a_receive() {
    let receive = |max, visibility_s| Op::Receive {
        dlq: false,
        max,
        visibility_s,
    };
    let mut ops = vec![Op::Send; 8];
    ops.extend([
        receive(8, 0),
        receive(2, 1),
        receive(6, 0),
        Op::Advance { ms: 1000 },
        Op::Send,
        receive(8, 0),
        receive(1, 0),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(ops)).expect("engine agrees with the model");
}
