//! The trace header of an asynchronous event: stored with the accept, read back by every
//! claim, and never changed by the engine's state updates (every attempt shares its Root).

use nimbus_store::events::state;
use nimbus_store::{EventRow, EventStore, SqliteStore};

const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

fn event(id: &str, trace: Option<&str>) -> EventRow {
    EventRow {
        id: id.to_string(),
        function_name: "f".into(),
        qualifier: None,
        payload: b"{}".to_vec(),
        received_ms: 0,
        state: state::PENDING.into(),
        attempts: 0,
        system_retries: 0,
        next_attempt_ms: 0,
        lease_until_ms: None,
        condition: None,
        error_type: None,
        error_message: None,
        status_code: None,
        deliveries_json: None,
        record_json: None,
        delivered_json: None,
        completed_ms: None,
        trace_header: trace.map(str::to_string),
    }
}

#[tokio::test]
async fn the_trace_header_is_stored_and_survives_updates_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store
        .insert_events(&[event("traced", Some(TRACE)), event("plain", None)])
        .await
        .unwrap();
    let mut claimed = store.claim_due_events(0, 500, 10).await.unwrap();
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(claimed[0].trace_header, None);
    assert_eq!(claimed[1].trace_header.as_deref(), Some(TRACE));

    // A retry is an update of the mutable columns: the header stays as accepted, even when
    // the engine's copy of the row says otherwise.
    let mut retry = claimed[1].clone();
    retry.state = state::PENDING.into();
    retry.attempts = 1;
    retry.trace_header = Some("Root=1-00000000-000000000000000000000000".into());
    assert!(store.update_event(&retry, state::RUNNING).await.unwrap());
    drop(store);

    let store = SqliteStore::open(dir.path()).await.unwrap();
    let again = store.get_event("traced").await.unwrap().unwrap();
    assert_eq!(again.attempts, 1);
    assert_eq!(again.trace_header.as_deref(), Some(TRACE));
    let plain = store.get_event("plain").await.unwrap().unwrap();
    assert_eq!(plain.trace_header, None);
}
