//! `EventStore` against a real SQLite file: durable accepts, claims with leases, compare-and-swap
//! updates, crash release, purge, and event-invoke configurations.

use nimbus_store::events::state;
use nimbus_store::{
    AliasRow, EventInvokeConfigRow, EventRow, EventStore, FunctionRow, SqliteStore, Store,
    StoreError,
};

fn function(name: &str) -> FunctionRow {
    FunctionRow {
        name: name.to_string(),
        revision_id: "r1".into(),
        code_sha256: format!("sha-{name}"),
        config_json: "{}".into(),
        created_ms: 1_000,
        modified_ms: 1_000,
    }
}

fn event(id: &str, due_ms: i64) -> EventRow {
    EventRow {
        id: id.to_string(),
        function_name: "f".into(),
        qualifier: None,
        payload: format!("{{\"id\":\"{id}\"}}").into_bytes(),
        received_ms: due_ms,
        state: state::PENDING.into(),
        attempts: 0,
        system_retries: 0,
        next_attempt_ms: due_ms,
        lease_until_ms: None,
        condition: None,
        error_type: None,
        error_message: None,
        status_code: None,
        deliveries_json: None,
        record_json: None,
        delivered_json: None,
        completed_ms: None,
        trace_header: None,
    }
}

fn ids(rows: &[EventRow]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn accepted_events_are_claimed_when_due_and_leases_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store
        .insert_events(&[event("a", 100), event("b", 200), event("c", 300)])
        .await
        .unwrap();
    // A re-sent insert changes nothing.
    let mut changed = event("a", 100);
    changed.payload = b"other".to_vec();
    store.insert_events(&[changed]).await.unwrap();
    assert_eq!(
        store.get_event("a").await.unwrap().unwrap().payload,
        br#"{"id":"a"}"#
    );

    assert_eq!(store.next_event_due_ms().await.unwrap(), Some(100));
    let claimed = store.claim_due_events(250, 1_000, 10).await.unwrap();
    assert_eq!(ids(&claimed), ["a", "b"]);
    assert!(claimed.iter().all(|e| e.state == state::RUNNING));
    assert!(claimed.iter().all(|e| e.lease_until_ms == Some(1_000)));
    // Claimed events are not claimed again while their lease holds.
    assert!(
        store
            .claim_due_events(250, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The earliest wake-up is now c's due time, then the leases.
    assert_eq!(store.next_event_due_ms().await.unwrap(), Some(300));
    // The limit is honoured, oldest first.
    let c = store.claim_due_events(400, 2_000, 1).await.unwrap();
    assert_eq!(ids(&c), ["c"]);
    // An expired lease makes an event claimable again.
    let again = store.claim_due_events(1_000, 3_000, 10).await.unwrap();
    assert_eq!(ids(&again), ["a", "b"]);
}

#[tokio::test]
async fn updates_are_compare_and_swap_on_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store.insert_events(&[event("e", 0)]).await.unwrap();
    let mut e = store.claim_due_events(0, 500, 1).await.unwrap().remove(0);
    e.state = state::PENDING.into();
    e.attempts = 1;
    e.next_attempt_ms = 60_000;
    e.error_type = Some("Handled".into());
    e.status_code = Some(200);
    assert!(store.update_event(&e, state::RUNNING).await.unwrap());
    // A second writer expecting the old state loses.
    assert!(!store.update_event(&e, state::RUNNING).await.unwrap());
    let stored = store.get_event("e").await.unwrap().unwrap();
    assert_eq!(stored, e);
    e.state = state::SUCCEEDED.into();
    e.completed_ms = Some(70_000);
    assert!(store.update_event(&e, state::PENDING).await.unwrap());
    assert_eq!(
        store.count_events_by_state().await.unwrap(),
        vec![(state::SUCCEEDED.to_string(), 1)]
    );
    // Terminal rows are purged by completion time, not before.
    assert_eq!(store.purge_completed_events(70_000, 10).await.unwrap(), 0);
    assert_eq!(store.purge_completed_events(70_001, 10).await.unwrap(), 1);
    assert!(store.get_event("e").await.unwrap().is_none());
}

#[tokio::test]
async fn a_restart_releases_running_events_without_counting_an_attempt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store
            .insert_events(&[event("x", 0), event("y", 10_000)])
            .await
            .unwrap();
        let claimed = store.claim_due_events(0, 900_000, 10).await.unwrap();
        assert_eq!(ids(&claimed), ["x"]);
        store.close().await;
    }
    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.release_running_events(5).await.unwrap(), 1);
    let x = store.get_event("x").await.unwrap().unwrap();
    assert_eq!(x.state, state::PENDING);
    assert_eq!(x.attempts, 0);
    assert_eq!(x.next_attempt_ms, 5);
    assert_eq!(x.lease_until_ms, None);
    let y = store.get_event("y").await.unwrap().unwrap();
    assert_eq!(
        y.next_attempt_ms, 10_000,
        "pending events keep their due time"
    );
    assert_eq!(
        ids(&store
            .events_in_state(state::PENDING, i64::MAX, 10)
            .await
            .unwrap()),
        ["x", "y"]
    );
    assert_eq!(
        ids(&store.events_in_state(state::PENDING, 5, 10).await.unwrap()),
        ["x"],
        "only those due"
    );
}

#[tokio::test]
async fn event_invoke_configs_follow_their_function_version_and_alias() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let config = |qualifier: &str| EventInvokeConfigRow {
        function_name: "f".into(),
        qualifier: qualifier.into(),
        maximum_retry_attempts: Some(1),
        maximum_event_age_s: Some(60),
        on_success: None,
        on_failure: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
        modified_ms: 1,
    };
    assert!(matches!(
        store.put_event_invoke_config(&config("$LATEST")).await,
        Err(StoreError::NotFound { .. })
    ));
    let version = nimbus_store::VersionRow {
        name: "f".into(),
        version: 1,
        revision_id: "v1".into(),
        code_sha256: "sha-f".into(),
        config_json: "{}".into(),
        created_ms: 1,
    };
    store
        .insert_function(&function("f"), Some(&version))
        .await
        .unwrap();
    store
        .insert_alias(&AliasRow {
            function_name: "f".into(),
            name: "live".into(),
            function_version: "$LATEST".into(),
            description: String::new(),
            additional_version: None,
            additional_weight: None,
            revision_id: "a1".into(),
            created_ms: 1,
            modified_ms: 1,
        })
        .await
        .unwrap();
    for q in ["$LATEST", "1", "live"] {
        store.put_event_invoke_config(&config(q)).await.unwrap();
    }
    // Put replaces.
    let mut replaced = config("$LATEST");
    replaced.maximum_retry_attempts = None;
    replaced.on_failure = None;
    store.put_event_invoke_config(&replaced).await.unwrap();
    assert_eq!(
        store
            .get_event_invoke_config("f", "$LATEST")
            .await
            .unwrap()
            .unwrap(),
        replaced
    );
    let listed: Vec<String> = store
        .list_event_invoke_configs("f")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.qualifier)
        .collect();
    assert_eq!(listed, ["$LATEST", "1", "live"]);
    // Deleting the alias or the version deletes their configurations.
    assert!(store.delete_alias("f", "live").await.unwrap());
    assert!(store.delete_version("f", 1).await.unwrap());
    let listed = store.list_event_invoke_configs("f").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .delete_event_invoke_config("f", "$LATEST")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_event_invoke_config("f", "$LATEST")
            .await
            .unwrap()
    );
    // And the function's deletion deletes the rest.
    store
        .put_event_invoke_config(&config("$LATEST"))
        .await
        .unwrap();
    assert!(store.delete_function("f").await.unwrap());
    assert!(
        store
            .list_event_invoke_configs("f")
            .await
            .unwrap()
            .is_empty()
    );
}
