//! The schedule engine on a real store with a manual clock: exactly-once slots across
//! restarts and concurrent schedulers, clock jumps, disable/enable, changes, payloads.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use nimbus_api::stack::ChangeAction;
use nimbus_store::{EventRow, EventStore, SqliteStore};

use super::engine::{FireHooks, Schedules};
use super::payload::request_id;
use super::{ScheduleSpec, SchedulesError};
use crate::clock::ManualClock;

const MIN: i64 = 60_000;
/// 2026-11-28T10:00:00Z, a Saturday.
const T0: i64 = 1_795_860_000_000;
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

/// Counts what the engine tells the async machinery.
#[derive(Default)]
struct Counting {
    unfinished: AtomicI64,
    enqueued: AtomicU64,
}

impl FireHooks for Counting {
    fn reserve(&self) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
    }
    fn unreserve(&self) {
        self.unfinished.fetch_sub(1, Ordering::SeqCst);
    }
    fn enqueued(&self, _function: &str) {
        self.enqueued.fetch_add(1, Ordering::SeqCst);
    }
}

struct Harness {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    engine: Schedules,
    hooks: Counting,
}

impl Harness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path()).await.expect("open"));
        let clock = Arc::new(ManualClock::new(T0));
        let engine = engine(&store, &clock);
        Harness {
            dir,
            store,
            clock,
            engine,
            hooks: Counting::default(),
        }
    }

    /// A restart: the store closed and reopened, a fresh engine on it, same clock.
    async fn restart(&mut self) {
        self.store.close().await;
        self.store = Arc::new(SqliteStore::open(self.dir.path()).await.expect("reopen"));
        self.engine = engine(&self.store, &self.clock);
    }

    async fn put(&self, specs: Vec<ScheduleSpec>) -> Vec<(String, ChangeAction)> {
        self.engine
            .put("stack", specs)
            .await
            .expect("put")
            .into_iter()
            .map(|c| (c.name, c.action))
            .collect()
    }

    async fn tick(&self) -> u64 {
        self.engine.tick(&self.hooks).await.expect("tick").fired
    }

    async fn tick_at(&self, ms: i64) -> u64 {
        self.clock.set_ms(ms);
        self.tick().await
    }

    async fn id_of(&self, name: &str) -> String {
        self.store_rows()
            .await
            .into_iter()
            .find(|r| r.name == name)
            .map(|r| r.id)
            .expect("schedule")
    }

    async fn store_rows(&self) -> Vec<nimbus_store::ScheduleRow> {
        nimbus_store::ScheduleStore::list_schedules(&*self.store)
            .await
            .expect("list")
    }

    /// The event of `name`'s slot, if one was enqueued.
    async fn event(&self, name: &str, slot: i64) -> Option<EventRow> {
        let id = self.id_of(name).await;
        self.store
            .get_event(&request_id(&id, slot))
            .await
            .expect("get")
    }

    async fn slots(&self, name: &str) -> (Option<String>, Option<String>) {
        let view = self
            .engine
            .list()
            .await
            .expect("list")
            .into_iter()
            .find(|v| v.name == name)
            .expect("view");
        (view.last_slot, view.next_slot)
    }
}

fn engine(store: &Arc<SqliteStore>, clock: &Arc<ManualClock>) -> Schedules {
    Schedules::new(
        store.clone(),
        clock.clone(),
        REGION.to_string(),
        ACCOUNT.to_string(),
    )
}

fn spec(name: &str, expression: &str) -> ScheduleSpec {
    ScheduleSpec {
        name: name.to_string(),
        function: "worker".to_string(),
        qualifier: Some("live".to_string()),
        expression: expression.to_string(),
        timezone: None,
        input: None,
        v2: false,
        enabled: true,
    }
}

fn json(event: &EventRow) -> serde_json::Value {
    serde_json::from_slice(&event.payload).expect("payload is JSON")
}

#[tokio::test]
async fn a_rate_schedule_fires_each_slot_once() {
    let h = Harness::new().await;
    let changes = h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    assert_eq!(changes, [("every5".to_string(), ChangeAction::Create)]);

    // A rate starts at once: its anchor (the creation time) is the first slot.
    assert_eq!(h.tick().await, 1);
    assert_eq!(h.tick().await, 0);
    assert_eq!(h.tick_at(T0 + 4 * MIN).await, 0);
    assert_eq!(h.tick_at(T0 + 5 * MIN).await, 1);
    assert_eq!(h.tick_at(T0 + 5 * MIN + 30_000).await, 0);
    assert_eq!(h.hooks.enqueued.load(Ordering::SeqCst), 2);
    assert_eq!(h.hooks.unfinished.load(Ordering::SeqCst), 2);

    let first = h.event("every5", T0).await.expect("first slot's event");
    assert_eq!(first.function_name, "worker");
    assert_eq!(first.qualifier.as_deref(), Some("live"));
    assert_eq!(first.state, "pending");
    // The event lives in the dispatcher's (system) time, not the schedule clock's.
    let system_now = crate::clock::now_ms();
    assert!((system_now - first.received_ms).abs() < 10 * MIN);
    assert_eq!(first.next_attempt_ms, first.received_ms);

    let event = json(&first);
    assert_eq!(event["version"], "0");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["account"], ACCOUNT);
    assert_eq!(event["region"], REGION);
    assert_eq!(event["time"], "2026-11-28T10:00:00Z");
    assert_eq!(
        event["resources"],
        serde_json::json!(["arn:aws:events:us-east-1:123456789012:rule/every5"])
    );
    assert_eq!(event["detail"], serde_json::json!({}));
    assert_eq!(event["id"].as_str().map(str::len), Some(36));
    // EventBridge's field order.
    let text = String::from_utf8(first.payload.clone()).expect("utf-8");
    assert!(text.starts_with(r#"{"version":"0","id":"#), "{text}");

    assert!(h.event("every5", T0 + 5 * MIN).await.is_some());
    assert_eq!(
        h.slots("every5").await,
        (
            Some("2026-11-28T10:05:00Z".to_string()),
            Some("2026-11-28T10:10:00Z".to_string())
        )
    );
}

#[tokio::test]
async fn restarts_neither_repeat_nor_lose_a_slot() {
    let mut h = Harness::new().await;
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    assert_eq!(h.tick().await, 1);

    // Restart at the same instant: the slot is recorded, so it does not fire again.
    h.restart().await;
    assert_eq!(h.tick().await, 0);

    // Down across the next slot: it fires after the restart (not lost).
    h.clock.set_ms(T0 + 7 * MIN);
    h.restart().await;
    assert_eq!(h.tick().await, 1);
    assert!(h.event("every5", T0 + 5 * MIN).await.is_some());
    assert_eq!(h.tick().await, 0);
}

#[tokio::test]
async fn two_schedulers_on_one_store_fire_a_slot_once() {
    let h = Harness::new().await;
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    let other = engine(&h.store, &h.clock);
    let other_hooks = Counting::default();
    let (a, b) = tokio::join!(h.engine.tick(&h.hooks), other.tick(&other_hooks));
    assert_eq!(a.expect("tick").fired + b.expect("tick").fired, 1);
    // A scheduler that lost the race counted nothing.
    let unfinished =
        h.hooks.unfinished.load(Ordering::SeqCst) + other_hooks.unfinished.load(Ordering::SeqCst);
    assert_eq!(unfinished, 1);
}

#[tokio::test]
async fn a_forward_jump_fires_only_the_latest_missed_slot() {
    let h = Harness::new().await;
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    assert_eq!(h.tick().await, 1);
    assert_eq!(h.tick_at(T0 + 62 * MIN).await, 1);
    assert!(h.event("every5", T0 + 60 * MIN).await.is_some());
    for skipped in 1..12 {
        assert!(h.event("every5", T0 + skipped * 5 * MIN).await.is_none());
    }
    assert_eq!(
        h.slots("every5").await,
        (
            Some("2026-11-28T11:00:00Z".to_string()),
            Some("2026-11-28T11:05:00Z".to_string())
        )
    );
}

#[tokio::test]
async fn a_backward_jump_fires_nothing_twice() {
    let h = Harness::new().await;
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    assert_eq!(h.tick().await, 1);
    assert_eq!(h.tick_at(T0 + 5 * MIN).await, 1);
    // The clock goes back ten minutes, then forward again.
    assert_eq!(h.tick_at(T0 - 5 * MIN).await, 0);
    assert_eq!(h.tick_at(T0).await, 0);
    assert_eq!(h.tick_at(T0 + 5 * MIN).await, 0);
    assert_eq!(h.tick_at(T0 + 10 * MIN).await, 1);
    assert_eq!(h.hooks.enqueued.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn disabled_schedules_fire_nothing_and_resume_from_now() {
    let h = Harness::new().await;
    let mut off = spec("every5", "rate(5 minutes)");
    off.enabled = false;
    h.put(vec![off.clone()]).await;
    assert_eq!(h.tick_at(T0 + 60 * MIN).await, 0);
    assert_eq!(h.slots("every5").await, (None, None));

    // Re-enabled at 11:02: the hour it missed never fires; slots stay aligned to creation.
    h.clock.set_ms(T0 + 62 * MIN);
    let on = ScheduleSpec {
        enabled: true,
        ..off
    };
    assert_eq!(
        h.put(vec![on]).await,
        [("every5".to_string(), ChangeAction::Update)]
    );
    assert_eq!(h.tick().await, 0);
    assert_eq!(
        h.slots("every5").await.1.as_deref(),
        Some("2026-11-28T11:05:00Z")
    );
    assert_eq!(h.tick_at(T0 + 65 * MIN).await, 1);
    assert_eq!(h.hooks.enqueued.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_cron_schedule_fires_on_the_calendar() {
    let h = Harness::new().await;
    // Weekdays at 09:00 UTC; T0 is Saturday 10:00.
    h.put(vec![spec("weekdays", "cron(0 9 ? * MON-FRI *)")])
        .await;
    assert_eq!(
        h.slots("weekdays").await.1.as_deref(),
        Some("2026-11-30T09:00:00Z")
    );
    assert_eq!(h.tick_at(T0 + 24 * 60 * MIN).await, 0); // Sunday
    let monday_9 = T0 + 47 * 60 * MIN;
    assert_eq!(h.tick_at(monday_9).await, 1);
    assert_eq!(h.tick_at(monday_9 + 60 * MIN).await, 0);
    let event = json(&h.event("weekdays", monday_9).await.expect("event"));
    assert_eq!(event["time"], "2026-11-30T09:00:00Z");
}

#[tokio::test]
async fn schedule_v2_sends_schedulers_default_notification_or_the_input() {
    let h = Harness::new().await;
    let mut plain = spec("quarterly", "cron(0/15 * * * ? *)");
    plain.v2 = true;
    plain.timezone = Some("America/New_York".to_string());
    let mut with_input = spec("with-input", "cron(0/15 * * * ? *)");
    with_input.v2 = true;
    with_input.input = Some(r#"{"job": "report", "n": 1}"#.to_string());
    h.put(vec![plain, with_input]).await;
    assert_eq!(h.tick_at(T0 + 15 * MIN).await, 2);

    let event = json(&h.event("quarterly", T0 + 15 * MIN).await.expect("event"));
    assert_eq!(event["source"], "aws.scheduler");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["detail"], "{}");
    assert_eq!(event["time"], "2026-11-28T10:15:00Z");
    assert_eq!(
        event["resources"],
        serde_json::json!(["arn:aws:scheduler:us-east-1:123456789012:schedule/default/quarterly"])
    );
    let verbatim = h.event("with-input", T0 + 15 * MIN).await.expect("event");
    assert_eq!(verbatim.payload, br#"{"job": "report", "n": 1}"#);
}

#[tokio::test]
async fn an_at_schedule_fires_once() {
    let h = Harness::new().await;
    let mut once = spec("once", "at(2026-11-28T10:30:00)");
    once.v2 = true;
    h.put(vec![once]).await;
    assert_eq!(h.tick_at(T0 + 29 * MIN).await, 0);
    assert_eq!(h.tick_at(T0 + 31 * MIN).await, 1);
    assert_eq!(h.tick_at(T0 + 120 * MIN).await, 0);
    assert_eq!(
        h.slots("once").await,
        (Some("2026-11-28T10:30:00Z".to_string()), None)
    );
}

#[tokio::test]
async fn puts_replace_the_set_and_keep_progress() {
    let h = Harness::new().await;
    h.put(vec![
        spec("a", "rate(5 minutes)"),
        spec("b", "cron(0 9 * * ? *)"),
    ])
    .await;
    assert_eq!(h.tick().await, 1);
    let a_id = h.id_of("a").await;

    // The same spec again: nothing changes, progress and ids stay.
    h.clock.set_ms(T0 + MIN);
    let same = h
        .put(vec![
            spec("a", "rate(5 minutes)"),
            spec("b", "cron(0 9 * * ? *)"),
        ])
        .await;
    assert_eq!(
        same,
        [
            ("a".to_string(), ChangeAction::NoChange),
            ("b".to_string(), ChangeAction::NoChange)
        ]
    );
    assert_eq!(h.id_of("a").await, a_id);
    assert_eq!(h.tick().await, 0);

    // New Input only: the timetable stays.
    let mut a_input = spec("a", "rate(5 minutes)");
    a_input.input = Some("{}".to_string());
    h.put(vec![a_input, spec("b", "cron(0 9 * * ? *)")]).await;
    assert_eq!(
        h.slots("a").await.1.as_deref(),
        Some("2026-11-28T10:05:00Z")
    );

    // A new expression is a new timetable from now (10:02); b is dropped, c created.
    h.clock.set_ms(T0 + 2 * MIN);
    let changed = h
        .put(vec![
            spec("a", "rate(10 minutes)"),
            spec("c", "rate(1 day)"),
        ])
        .await;
    assert_eq!(
        changed,
        [
            ("a".to_string(), ChangeAction::Update),
            ("c".to_string(), ChangeAction::Create),
            ("b".to_string(), ChangeAction::Delete)
        ]
    );
    assert_eq!(h.id_of("a").await, a_id);
    assert_eq!(
        h.slots("a").await,
        (
            Some("2026-11-28T10:00:00Z".to_string()),
            Some("2026-11-28T10:02:00Z".to_string())
        )
    );
    assert_eq!(h.tick().await, 2); // a at 10:02, c at its creation
    assert_eq!(h.tick_at(T0 + 12 * MIN).await, 1);

    // Another owner's schedules are untouched; deleting an owner removes only its own.
    h.engine
        .put("other", vec![spec("a", "rate(1 hour)")])
        .await
        .expect("put");
    assert_eq!(h.engine.delete_owner("stack").await.expect("delete"), 2);
    let left = h.engine.list().await.expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].owner, "other");
}

#[tokio::test]
async fn bad_specs_change_nothing() {
    let h = Harness::new().await;
    h.put(vec![spec("keep", "rate(5 minutes)")]).await;

    let mut zone_on_rule = spec("z", "cron(0 9 * * ? *)");
    zone_on_rule.timezone = Some("Europe/Paris".to_string());
    let mut bad_zone = spec("bz", "cron(0 9 * * ? *)");
    bad_zone.v2 = true;
    bad_zone.timezone = Some("Europe/Atlantis".to_string());
    let mut bad_input = spec("bi", "rate(5 minutes)");
    bad_input.input = Some("{not json".to_string());
    let cases = [
        spec("x", "rate(5 minute)"),
        spec("x", "cron(0 0 * * * *)"),
        spec("x", "at(2027-01-01T00:00:00)"), // at() is ScheduleV2 only
        spec("bad name!", "rate(5 minutes)"),
        spec("", "rate(5 minutes)"),
        zone_on_rule,
        bad_zone,
        bad_input,
    ];
    for case in cases {
        let label = format!("{case:?}");
        let err = h
            .engine
            .put("stack", vec![spec("keep", "rate(1 hour)"), case])
            .await
            .expect_err(&label);
        assert!(
            matches!(
                err,
                SchedulesError::Expression { .. } | SchedulesError::Invalid { .. }
            ),
            "{label}: {err}"
        );
    }
    let err = h
        .engine
        .put(
            "stack",
            vec![spec("dup", "rate(5 minutes)"), spec("dup", "rate(1 hour)")],
        )
        .await
        .expect_err("duplicate");
    assert!(matches!(err, SchedulesError::Invalid { .. }), "{err}");
    let err = h
        .engine
        .put("stack", vec![spec("x", "rate(0 minutes)")])
        .await
        .expect_err("zero");
    assert_eq!(
        err.to_string(),
        "schedule x: Parameter ScheduleExpression is not valid."
    );

    // Nothing changed: "keep" is still rate(5 minutes) and alone.
    let views = h.engine.list().await.expect("list");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].expression, "rate(5 minutes)");
}

#[tokio::test]
async fn request_ids_are_stable_per_slot() {
    let h = Harness::new().await;
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    let id = h.id_of("every5").await;
    assert_eq!(request_id(&id, T0), request_id(&id, T0));
    assert_ne!(request_id(&id, T0), request_id(&id, T0 + 5 * MIN));
    assert_ne!(request_id(&id, T0), request_id("another", T0));
    assert_eq!(h.tick().await, 1);
    let event = h.event("every5", T0).await.expect("event");
    assert_eq!(event.id, request_id(&id, T0));
}

#[tokio::test]
async fn the_scheduler_sleeps_at_most_a_step() {
    let h = Harness::new().await;
    let step = super::SCHEDULER_STEP;
    assert_eq!(h.engine.wait_for(None), step);
    assert_eq!(
        h.engine.wait_for(Some(T0 + 300)),
        Duration::from_millis(300)
    );
    assert_eq!(h.engine.wait_for(Some(T0 + 60 * MIN)), step);
    assert_eq!(h.engine.wait_for(Some(T0 - 5)), Duration::ZERO);
    h.put(vec![spec("every5", "rate(5 minutes)")]).await;
    let tick = h.engine.tick(&h.hooks).await.expect("tick");
    assert_eq!(tick.fired, 1);
    assert_eq!(tick.next_due_ms, Some(T0 + 5 * MIN));
}
