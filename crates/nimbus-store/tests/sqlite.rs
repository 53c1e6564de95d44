//! Integration tests of `SqliteStore` against real SQLite files in a temporary directory.

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_store::{
    FunctionRow, LOG_EVENT_OVERHEAD_BYTES, LOG_MESSAGE_BYTES_MAX, LOG_QUERY_STREAMS_MAX,
    LOG_TRUNCATION_MARKER, LogCursor, LogEventRow, LogQuery, NewLogEvent, SqliteStore, Store,
    StoreError,
};

fn function(name: &str, revision: &str) -> FunctionRow {
    FunctionRow {
        name: name.to_string(),
        revision_id: revision.to_string(),
        code_sha256: format!("sha-{name}"),
        config_json: format!(r#"{{"name":"{name}","rev":"{revision}"}}"#),
        created_ms: 1_000,
        modified_ms: 1_000,
    }
}

fn event(group: &str, stream: &str, timestamp_ms: i64, message: &str) -> NewLogEvent {
    NewLogEvent {
        group: group.to_string(),
        stream: stream.to_string(),
        timestamp_ms,
        message: message.to_string(),
    }
}

fn query(group: &str) -> LogQuery {
    LogQuery {
        group: group.to_string(),
        limit: 10_000,
        ..LogQuery::default()
    }
}

fn messages(rows: &[LogEventRow]) -> Vec<&str> {
    rows.iter().map(|r| r.message.as_str()).collect()
}

async fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir).await.expect("open store")
}

// ---------------------------------------------------------------- functions and settings

#[tokio::test]
async fn function_crud_and_listing_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;

    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        store
            .insert_function(&function(name, "r1"), None)
            .await
            .unwrap();
    }
    let got = store.get_function("charlie").await.unwrap().unwrap();
    assert_eq!(got, function("charlie", "r1"));
    assert_eq!(store.get_function("nope").await.unwrap(), None);

    // Paging by name: pages of 2, each continuing after the previous page's last name.
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_functions(after.as_deref(), 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|f| f.name.clone());
        pages.push(page.into_iter().map(|f| f.name).collect::<Vec<_>>());
    }
    assert_eq!(
        pages,
        vec![
            vec!["alpha", "bravo"],
            vec!["charlie", "delta"],
            vec!["echo"]
        ]
    );
    assert!(store.list_functions(None, 0).await.unwrap().is_empty());

    assert_eq!(
        store.insert_function(&function("alpha", "r9"), None).await,
        Err(StoreError::Conflict {
            what: "function \"alpha\"".to_string()
        })
    );

    assert!(store.delete_function("bravo").await.unwrap());
    assert!(!store.delete_function("bravo").await.unwrap());
    assert_eq!(store.get_function("bravo").await.unwrap(), None);

    let refs = store.code_refs().await.unwrap();
    let expected: HashSet<String> = ["alpha", "charlie", "delta", "echo"]
        .iter()
        .map(|n| format!("sha-{n}"))
        .collect();
    assert_eq!(refs, expected);
    store.close().await;
}

#[tokio::test]
async fn update_is_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    store
        .insert_function(&function("f", "r1"), None)
        .await
        .unwrap();

    let mut next = function("f", "r2");
    next.code_sha256 = "sha-new".to_string();
    next.modified_ms = 2_000;
    next.created_ms = 99; // must be ignored: creation time is kept
    store.update_function(&next, "r1", None).await.unwrap();
    let stored = store.get_function("f").await.unwrap().unwrap();
    assert_eq!(stored.revision_id, "r2");
    assert_eq!(stored.code_sha256, "sha-new");
    assert_eq!(stored.modified_ms, 2_000);
    assert_eq!(stored.created_ms, 1_000);

    // A stale writer loses and learns the current revision; nothing changes.
    let stale = function("f", "r3");
    assert_eq!(
        store.update_function(&stale, "r1", None).await,
        Err(StoreError::RevisionMismatch {
            what: "function \"f\"".to_string(),
            current: "r2".to_string()
        })
    );
    assert_eq!(store.get_function("f").await.unwrap().unwrap(), stored);

    assert_eq!(
        store
            .update_function(&function("ghost", "r2"), "r1", None)
            .await,
        Err(StoreError::NotFound {
            what: "function \"ghost\"".to_string()
        })
    );
    store.close().await;
}

#[tokio::test]
async fn names_are_case_sensitive() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    store
        .insert_function(&function("Fn", "r1"), None)
        .await
        .unwrap();
    store
        .insert_function(&function("fn", "r2"), None)
        .await
        .unwrap();
    assert_eq!(
        store.get_function("Fn").await.unwrap().unwrap().revision_id,
        "r1"
    );
    assert_eq!(
        store.get_function("fn").await.unwrap().unwrap().revision_id,
        "r2"
    );
    assert_eq!(store.get_function("FN").await.unwrap(), None);
    // Byte-wise order: upper case sorts before lower case.
    let names: Vec<String> = store
        .list_functions(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, vec!["Fn", "fn"]);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_of_one_name_give_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()).await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .insert_function(&function("contended", &format!("r{i}")), None)
                .await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 7));
    store.close().await;
}

#[tokio::test]
async fn settings_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    assert_eq!(store.get_setting("k").await.unwrap(), None);
    store.put_setting("k", "v1").await.unwrap();
    assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v1"));
    store.put_setting("k", "v2").await.unwrap();
    assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v2"));
    store.put_setting("K", "other").await.unwrap();
    assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v2"));
    store.close().await;
}

#[tokio::test]
async fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).await;
        store
            .insert_function(&function("a", "r1"), None)
            .await
            .unwrap();
        store
            .insert_function(&function("b", "r1"), None)
            .await
            .unwrap();
        store
            .update_function(&function("b", "r2"), "r1", None)
            .await
            .unwrap();
        store.put_setting("epoch", "7").await.unwrap();
        store
            .append_logs(
                &[event("g", "s", 10, "one"), event("g", "s", 20, "two")],
                30,
            )
            .await
            .unwrap();
        // Dropped without close(): like a process that exits without cleaning up.
    }
    let store = open(dir.path()).await;
    assert_eq!(
        store.get_function("b").await.unwrap().unwrap().revision_id,
        "r2"
    );
    assert_eq!(store.list_functions(None, 10).await.unwrap().len(), 2);
    assert_eq!(
        store.get_setting("epoch").await.unwrap().as_deref(),
        Some("7")
    );
    let rows = store.query_logs(&query("g")).await.unwrap();
    assert_eq!(messages(&rows), vec!["one", "two"]);
    assert!(rows.iter().all(|r| r.ingestion_ms == 30));
    store.check_integrity().await.unwrap();
    store.close().await;

    // And once more after a clean close.
    let store = open(dir.path()).await;
    assert_eq!(store.list_functions(None, 10).await.unwrap().len(), 2);
    store.close().await;
}

#[tokio::test]
async fn calls_after_close_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    store.close().await;
    assert!(matches!(
        store.get_function("x").await,
        Err(StoreError::Closed { .. })
    ));
    assert!(matches!(
        store.insert_function(&function("x", "r"), None).await,
        Err(StoreError::Closed { .. })
    ));
}

// ---------------------------------------------------------------- corruption

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nimbus.db"),
        "not a database\n".repeat(1000),
    )
    .unwrap();
    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    match &err {
        StoreError::Corrupt { file, .. } => assert!(file.ends_with("nimbus.db"), "{err}"),
        other => panic!("expected Corrupt, got {other}"),
    }
    assert!(err.to_string().contains("nimbus.db"), "{err}");
    println!("not a database: {err}");
}

#[tokio::test]
async fn a_damaged_page_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).await;
        for i in 0..400 {
            let mut row = function(&format!("fn-{i:04}"), "r1");
            row.config_json = "x".repeat(500);
            store.insert_function(&row, None).await.unwrap();
        }
        // A clean close checkpoints the WAL into the main file and removes the WAL.
        store.close().await;
    }
    let path_control = dir.path().join("nimbus.db");
    let mut bytes = std::fs::read(&path_control).unwrap();
    assert!(bytes.len() > 8 * 4096, "database unexpectedly small");
    // Overwrite pages 3..6 (page 1 holds the header and schema) with garbage.
    for b in &mut bytes[2 * 4096..6 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path_control, bytes).unwrap();

    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    println!("damaged page: {err}");
    match &err {
        StoreError::Corrupt { file, .. } => assert!(file.ends_with("nimbus.db"), "{err}"),
        other => panic!("expected Corrupt, got {other}"),
    }
}

// ---------------------------------------------------------------- crash durability

/// Set in the environment of the child process that writes until it is killed.
const CRASH_CHILD_DIR: &str = "NIMBUS_STORE_CRASH_CHILD_DIR";
const CRASH_CHILD_ROUND: &str = "NIMBUS_STORE_CRASH_CHILD_ROUND";
/// Events per acknowledged log batch in the crash test.
const CRASH_BATCH_EVENTS: usize = 10;

/// Not a test on its own: the body of the child process of `kill_9_loses_no_acknowledged_write`.
/// Inserts functions and appends log batches, printing a line after each acknowledged write.
#[test]
fn crash_writer_child() {
    let Some(dir) = std::env::var_os(CRASH_CHILD_DIR) else {
        return;
    };
    let round: String = std::env::var(CRASH_CHILD_ROUND).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = SqliteStore::open(Path::new(&dir)).await.unwrap();
        // Bounded so an orphaned child cannot run forever if the parent dies.
        let started = Instant::now();
        for i in 0..100_000 {
            if started.elapsed() > Duration::from_secs(60) {
                break;
            }
            let name = format!("r{round}-f{i}");
            store
                .insert_function(&function(&name, "r1"), None)
                .await
                .unwrap();
            println!("acked fn {name}");
            let batch: Vec<NewLogEvent> = (0..CRASH_BATCH_EVENTS)
                .map(|j| {
                    event(
                        "crash",
                        &format!("r{round}"),
                        i,
                        &format!("r{round}-b{i}-e{j}"),
                    )
                })
                .collect();
            store.append_logs(&batch, i).await.unwrap();
            println!("acked log r{round}-b{i}");
        }
    });
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    if std::env::var_os(CRASH_CHILD_DIR).is_some() {
        return; // we are the child; only crash_writer_child runs there
    }
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut acked_fns: Vec<String> = Vec::new();
    let mut acked_batches: Vec<String> = Vec::new();
    for (round, kill_after) in [7usize, 40, 113, 250].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_DIR, dir.path())
            .env(CRASH_CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acks = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(name) = line.strip_prefix("acked fn ") {
                acked_fns.push(name.to_string());
                acks += 1;
            } else if let Some(batch) = line.strip_prefix("acked log ") {
                acked_batches.push(batch.to_string());
                acks += 1;
            }
            if acks == kill_after {
                break;
            }
        }
        assert_eq!(acks, kill_after, "child stopped early in round {round}");
        // SIGKILL mid-stream: the child is busy with its next write.
        child.kill().unwrap();
        child.wait().unwrap();

        runtime.block_on(async {
            let store = open(dir.path()).await;
            for name in &acked_fns {
                let row = store.get_function(name).await.unwrap();
                assert!(row.is_some(), "acknowledged function {name} lost");
            }
            let rows = store.query_logs(&query("crash")).await.unwrap();
            let stored: BTreeSet<&str> = rows.iter().map(|r| r.message.as_str()).collect();
            for batch in &acked_batches {
                for j in 0..CRASH_BATCH_EVENTS {
                    let message = format!("{batch}-e{j}");
                    assert!(
                        stored.contains(message.as_str()),
                        "acknowledged {message} lost"
                    );
                }
            }
            // A batch is one transaction: never partly present.
            let mut per_batch: std::collections::BTreeMap<&str, usize> = Default::default();
            for message in &stored {
                if let Some((batch, _)) = message.rsplit_once("-e") {
                    *per_batch.entry(batch).or_default() += 1;
                }
            }
            for (batch, count) in per_batch {
                assert_eq!(count, CRASH_BATCH_EVENTS, "batch {batch} partly stored");
            }
            store.check_integrity().await.unwrap();
            store.close().await;
        });
    }
    println!(
        "kill -9 rounds: 4, acknowledged functions {} and log batches {}, none lost",
        acked_fns.len(),
        acked_batches.len()
    );
}

// ---------------------------------------------------------------- logs

/// Two streams, three batches; the last batch has a late event with an old timestamp.
async fn seed_logs(store: &SqliteStore) {
    store
        .append_logs(
            &[
                event("g", "s1", 100, "start s1"),
                event("g", "s2", 110, "start s2"),
                event("g", "s1", 120, "Error: boom"),
            ],
            1_000,
        )
        .await
        .unwrap();
    store
        .append_logs(
            &[
                event("g", "s2", 130, "error: lower case"),
                event("g", "s1", 140, "end s1"),
            ],
            2_000,
        )
        .await
        .unwrap();
    store
        .append_logs(
            &[
                event("g", "s2", 105, "late s2"),
                event("other", "s1", 100, "other group"),
            ],
            3_000,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn logs_query_by_time_streams_text_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    seed_logs(&store).await;

    let all = store.query_logs(&query("g")).await.unwrap();
    assert_eq!(
        messages(&all),
        vec![
            "start s1",
            "late s2",
            "start s2",
            "Error: boom",
            "error: lower case",
            "end s1"
        ]
    );
    assert_eq!(all[0].ingestion_ms, 1_000);
    assert_eq!(all[1].ingestion_ms, 3_000);

    let range = store
        .query_logs(&LogQuery {
            start_ms: Some(110),
            end_ms: Some(140),
            ..query("g")
        })
        .await
        .unwrap();
    assert_eq!(
        messages(&range),
        vec!["start s2", "Error: boom", "error: lower case"]
    );

    let s2 = store
        .query_logs(&LogQuery {
            streams: Some(vec!["s2".to_string()]),
            ..query("g")
        })
        .await
        .unwrap();
    assert_eq!(
        messages(&s2),
        vec!["late s2", "start s2", "error: lower case"]
    );
    assert!(
        store
            .query_logs(&LogQuery {
                streams: Some(vec![]),
                ..query("g")
            })
            .await
            .unwrap()
            .is_empty()
    );
    let too_many = (0..=LOG_QUERY_STREAMS_MAX)
        .map(|i| format!("s{i}"))
        .collect();
    assert!(matches!(
        store
            .query_logs(&LogQuery {
                streams: Some(too_many),
                ..query("g")
            })
            .await,
        Err(StoreError::Invalid { .. })
    ));

    let errors = store
        .query_logs(&LogQuery {
            contains: Some("Error".to_string()),
            ..query("g")
        })
        .await
        .unwrap();
    assert_eq!(messages(&errors), vec!["Error: boom"]);
    // Wildcards of LIKE mean nothing here.
    let percent = store
        .query_logs(&LogQuery {
            contains: Some("%".to_string()),
            ..query("g")
        })
        .await
        .unwrap();
    assert!(percent.is_empty());

    // Paging in time order with the time cursor gives the same rows as one big read.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query_logs(&LogQuery {
                after,
                limit: 2,
                ..query("g")
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.time_cursor());
        paged.extend(page);
    }
    assert_eq!(paged, all);

    // Following: everything appended after the first batch, in ingestion order, including
    // the late event whose timestamp is older than rows already shown.
    let first_batch_last_id = all
        .iter()
        .filter(|r| r.ingestion_ms == 1_000)
        .map(|r| r.id)
        .max()
        .unwrap();
    let followed = store
        .query_logs(&LogQuery {
            after: Some(LogCursor::Ingestion {
                id: first_batch_last_id,
            }),
            ..query("g")
        })
        .await
        .unwrap();
    assert_eq!(
        messages(&followed),
        vec!["error: lower case", "end s1", "late s2"]
    );
    let caught_up = store
        .query_logs(&LogQuery {
            after: Some(followed.last().unwrap().ingestion_cursor()),
            ..query("g")
        })
        .await
        .unwrap();
    assert!(caught_up.is_empty());

    let limited = store
        .query_logs(&LogQuery {
            limit: 2,
            ..query("g")
        })
        .await
        .unwrap();
    assert_eq!(messages(&limited), vec!["start s1", "late s2"]);
    assert!(
        store
            .query_logs(&LogQuery {
                limit: 0,
                ..query("g")
            })
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

#[tokio::test]
async fn log_streams_list_first_last_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    seed_logs(&store).await;
    let streams = store.list_log_streams("g", 10).await.unwrap();
    let summary: Vec<(&str, i64, i64, i64)> = streams
        .iter()
        .map(|s| (s.stream.as_str(), s.first_ms, s.last_ms, s.stored_bytes))
        .collect();
    let bytes = |messages: &[&str]| -> i64 {
        messages
            .iter()
            .map(|m| m.len() as i64 + LOG_EVENT_OVERHEAD_BYTES)
            .sum()
    };
    // Most recently written first.
    assert_eq!(
        summary,
        vec![
            (
                "s1",
                100,
                140,
                bytes(&["start s1", "Error: boom", "end s1"])
            ),
            (
                "s2",
                105,
                130,
                bytes(&["start s2", "error: lower case", "late s2"])
            ),
        ]
    );
    assert!(streams.iter().all(|s| s.group == "g"));
    assert_eq!(store.list_log_streams("g", 1).await.unwrap().len(), 1);
    assert!(store.list_log_streams("none", 10).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn trim_keeps_the_newest_events_under_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let message = "m".repeat(100);
    let events: Vec<NewLogEvent> = (0..100)
        .map(|i| {
            let stream = if i % 2 == 0 { "even" } else { "odd" };
            event("g", stream, 1_000 + i, &format!("{i:03}{message}"))
        })
        .collect();
    store.append_logs(&events, 5_000).await.unwrap();
    store
        .append_logs(&[event("keep", "s", 1, "other group")], 5_000)
        .await
        .unwrap();
    let per_event = 103 + LOG_EVENT_OVERHEAD_BYTES;
    let total = |streams: Vec<nimbus_store::LogStreamRow>| -> i64 {
        streams.iter().map(|s| s.stored_bytes).sum()
    };
    assert_eq!(
        total(store.list_log_streams("g", 10).await.unwrap()),
        100 * per_event
    );

    // Nothing to do when already under the cap.
    assert_eq!(store.trim_logs("g", 100 * per_event).await.unwrap(), 0);

    let cap = 5_000;
    let deleted = store.trim_logs("g", cap).await.unwrap();
    let kept = cap / per_event; // whole events that fit under the cap
    assert_eq!(deleted, (100 - kept) as u64);
    let rows = store.query_logs(&query("g")).await.unwrap();
    assert_eq!(rows.len() as i64, kept);
    // The newest survive, in order.
    let first_kept = 1_000 + 100 - kept;
    assert_eq!(rows[0].timestamp_ms, first_kept);
    assert_eq!(rows.last().unwrap().timestamp_ms, 1_099);
    let streams = store.list_log_streams("g", 10).await.unwrap();
    assert!(total(streams.clone()) <= cap);
    assert_eq!(total(streams.clone()), kept * per_event);
    for s in &streams {
        let expected_first = if (first_kept % 2 == 0) == (s.stream == "even") {
            first_kept
        } else {
            first_kept + 1
        };
        assert_eq!(s.first_ms, expected_first, "stream {}", s.stream);
    }

    // Trimming to zero removes every event and the streams themselves.
    assert_eq!(store.trim_logs("g", 0).await.unwrap(), kept as u64);
    assert!(store.query_logs(&query("g")).await.unwrap().is_empty());
    assert!(store.list_log_streams("g", 10).await.unwrap().is_empty());
    // Other groups are untouched.
    assert_eq!(store.query_logs(&query("keep")).await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn trim_works_across_many_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let events: Vec<NewLogEvent> = (0..2_500)
        .map(|i| event("g", &format!("s{}", i % 7), i, "x"))
        .collect();
    store.append_logs(&events, 0).await.unwrap();
    let per_event = 1 + LOG_EVENT_OVERHEAD_BYTES;
    // Keep the newest 100: the trim spans more than two chunks of oldest rows.
    let deleted = store.trim_logs("g", 100 * per_event).await.unwrap();
    assert_eq!(deleted, 2_400);
    let rows = store.query_logs(&query("g")).await.unwrap();
    assert_eq!(rows.len(), 100);
    assert_eq!(rows[0].timestamp_ms, 2_400);
    let streams = store.list_log_streams("g", 10).await.unwrap();
    assert_eq!(streams.len(), 7);
    assert_eq!(
        streams.iter().map(|s| s.stored_bytes).sum::<i64>(),
        100 * per_event
    );
    store.close().await;
}

#[tokio::test]
async fn delete_log_group_removes_only_that_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    seed_logs(&store).await;
    assert_eq!(store.delete_log_group("g").await.unwrap(), 6);
    assert!(store.query_logs(&query("g")).await.unwrap().is_empty());
    assert!(store.list_log_streams("g", 10).await.unwrap().is_empty());
    assert_eq!(store.query_logs(&query("other")).await.unwrap().len(), 1);
    assert_eq!(store.delete_log_group("g").await.unwrap(), 0);

    // Ids are never reused after the newest rows are deleted: a follower's cursor stays valid.
    let newest_id = store.query_logs(&query("other")).await.unwrap()[0].id;
    assert_eq!(store.delete_log_group("other").await.unwrap(), 1);
    store
        .append_logs(&[event("g", "s", 1, "again")], 0)
        .await
        .unwrap();
    let again = store.query_logs(&query("g")).await.unwrap();
    assert!(again[0].id > newest_id, "id {} reused", again[0].id);
    store.close().await;
}

#[tokio::test]
async fn oversized_messages_are_truncated_with_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let huge = "y".repeat(LOG_MESSAGE_BYTES_MAX + 10_000);
    store
        .append_logs(&[event("g", "s", 1, &huge)], 0)
        .await
        .unwrap();
    let rows = store.query_logs(&query("g")).await.unwrap();
    assert_eq!(rows[0].message.len(), LOG_MESSAGE_BYTES_MAX);
    assert!(rows[0].message.ends_with(LOG_TRUNCATION_MARKER));
    let streams = store.list_log_streams("g", 1).await.unwrap();
    assert_eq!(
        streams[0].stored_bytes,
        LOG_MESSAGE_BYTES_MAX as i64 + LOG_EVENT_OVERHEAD_BYTES
    );
    store.close().await;
}

// ---------------------------------------------------------------- throughput (printed only)

#[tokio::test]
async fn throughput_print() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let budget = Duration::from_millis(1_500);

    let started = Instant::now();
    let mut inserts = 0u32;
    while started.elapsed() < budget {
        store
            .insert_function(&function(&format!("tp-{inserts}"), "r1"), None)
            .await
            .unwrap();
        inserts += 1;
    }
    let fn_rate = f64::from(inserts) / started.elapsed().as_secs_f64();

    let message = "INFO request handled in 3 ms, user=42 path=/api/items status=200".to_string();
    let started = Instant::now();
    let mut batches = 0i64;
    while started.elapsed() < budget {
        let batch: Vec<NewLogEvent> = (0..100)
            .map(|i| event("tp", &format!("s{}", i % 4), batches * 100 + i, &message))
            .collect();
        store.append_logs(&batch, batches).await.unwrap();
        batches += 1;
    }
    let log_rate = (batches * 100) as f64 / started.elapsed().as_secs_f64();
    let batch_rate = batches as f64 / started.elapsed().as_secs_f64();
    println!(
        "THROUGHPUT insert_function (synchronous=FULL, one per commit): {fn_rate:.0}/s; \
         append_logs batches of 100 (synchronous=NORMAL): {batch_rate:.0} batches/s = \
         {log_rate:.0} events/s"
    );
    store.close().await;
}

#[tokio::test]
async fn versions_are_published_atomically_and_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let v1 = nimbus_store::VersionRow {
        name: "f".into(),
        version: 1,
        revision_id: "v1".into(),
        code_sha256: "c1".into(),
        config_json: "{}".into(),
        created_ms: 1,
    };
    store
        .insert_function(&function("f", "r1"), Some(&v1))
        .await
        .unwrap();
    let mut next = function("f", "r2");
    next.code_sha256 = "c2".into();
    let v2 = nimbus_store::VersionRow {
        version: 2,
        revision_id: "v2".into(),
        code_sha256: "c2".into(),
        ..v1.clone()
    };
    store.update_function(&next, "r1", Some(&v2)).await.unwrap();
    // A duplicate version number fails the whole update: the function row is unchanged.
    let again = function("f", "r3");
    assert!(matches!(
        store.update_function(&again, "r2", Some(&v2)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.get_function("f").await.unwrap().unwrap().revision_id,
        "r2"
    );
    let listed = store.list_versions("f", None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        store.list_versions("f", Some(1), 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        store
            .get_version("f", 2)
            .await
            .unwrap()
            .unwrap()
            .code_sha256,
        "c2"
    );
    // Code of versions stays referenced even when $LATEST moves on.
    let refs = store.code_refs().await.unwrap();
    assert!(refs.contains("c1") && refs.contains("c2"));
    assert!(store.delete_version("f", 1).await.unwrap());
    assert!(!store.delete_version("f", 1).await.unwrap());
    assert!(store.delete_function("f").await.unwrap());
    assert!(
        store.get_version("f", 2).await.unwrap().is_none(),
        "versions cascade"
    );
}

/// Every reader connection must see every committed write: a read that left its statement
/// un-reset would pin an old WAL snapshot on that connection (and a later GC would delete
/// code a newer row references).
#[tokio::test]
async fn readers_always_see_the_latest_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    for i in 0..40 {
        let mut row = function(&format!("f{i}"), "r1");
        row.code_sha256 = format!("code{i}");
        let v = nimbus_store::VersionRow {
            name: row.name.clone(),
            version: 1,
            revision_id: "v".into(),
            code_sha256: format!("vcode{i}"),
            config_json: "{}".into(),
            created_ms: 1,
        };
        store.insert_function(&row, Some(&v)).await.unwrap();
        // Exercise every reader connection with single-row reads.
        for j in 0..=i {
            let _ = store.get_function(&format!("f{j}")).await.unwrap();
            let _ = store.get_version(&format!("f{j}"), 1).await.unwrap();
            let _ = store.get_setting("missing").await.unwrap();
        }
        let refs = store.code_refs().await.unwrap();
        assert!(refs.contains(&format!("code{i}")), "round {i}: {refs:?}");
        assert!(refs.contains(&format!("vcode{i}")), "round {i}: {refs:?}");
        assert!(
            store
                .get_function(&format!("f{i}"))
                .await
                .unwrap()
                .is_some(),
            "round {i}"
        );
    }
}

#[tokio::test]
async fn aliases_concurrency_and_provisioned_configs_round_trip() {
    use nimbus_store::{AliasRow, ProvisionedRow};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let v1 = nimbus_store::VersionRow {
        name: "f".into(),
        version: 1,
        revision_id: "v".into(),
        code_sha256: "c".into(),
        config_json: "{}".into(),
        created_ms: 1,
    };
    store
        .insert_function(&function("f", "r1"), Some(&v1))
        .await
        .unwrap();
    let alias = AliasRow {
        function_name: "f".into(),
        name: "live".into(),
        function_version: "1".into(),
        description: "d".into(),
        additional_version: None,
        additional_weight: None,
        revision_id: "a1".into(),
        created_ms: 1,
        modified_ms: 1,
    };
    store.insert_alias(&alias).await.unwrap();
    assert!(matches!(
        store.insert_alias(&alias).await,
        Err(StoreError::Conflict { .. })
    ));
    // A version an alias points at cannot be deleted.
    assert!(matches!(
        store.delete_version("f", 1).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut moved = alias.clone();
    moved.function_version = "$LATEST".into();
    moved.revision_id = "a2".into();
    assert!(matches!(
        store.update_alias(&moved, Some("stale")).await,
        Err(StoreError::RevisionMismatch { .. })
    ));
    store.update_alias(&moved, Some("a1")).await.unwrap();
    assert_eq!(
        store
            .get_alias("f", "live")
            .await
            .unwrap()
            .unwrap()
            .function_version,
        "$LATEST"
    );
    store.put_reserved_concurrency("f", Some(7)).await.unwrap();
    store
        .put_provisioned(&ProvisionedRow {
            function_name: "f".into(),
            qualifier: "live".into(),
            requested: 2,
            modified_ms: 5,
        })
        .await
        .unwrap();
    drop(store);
    // Everything survives a reopen.
    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.list_aliases("f").await.unwrap().len(), 1);
    assert_eq!(
        store.list_reserved_concurrency().await.unwrap(),
        vec![("f".to_string(), 7)]
    );
    assert_eq!(store.list_provisioned().await.unwrap()[0].requested, 2);
    // Deleting the alias drops the provisioned config on it; deleting the function cascades.
    assert!(store.delete_alias("f", "live").await.unwrap());
    assert!(store.list_provisioned().await.unwrap().is_empty());
    assert!(store.delete_version("f", 1).await.unwrap());
    store.put_reserved_concurrency("f", None).await.unwrap();
    assert!(store.list_reserved_concurrency().await.unwrap().is_empty());
    store.put_reserved_concurrency("f", Some(3)).await.unwrap();
    assert!(store.delete_function("f").await.unwrap());
    assert!(
        store.list_reserved_concurrency().await.unwrap().is_empty(),
        "cascade"
    );
}
