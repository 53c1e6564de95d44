//! Asynchronous invocations (`InvocationType: Event`).
//!
//! Flow: [`Platform::invoke_async`] checks the function and hands the event to the
//! group-commit writer, which inserts a batch of accepts in one transaction and only then lets
//! each caller answer 202 (durable before acknowledged). The dispatcher ([`dispatch`]) claims
//! due events with a lease, runs each through the same path as a synchronous invoke
//! (admission, environments, logs) and applies the retry [`policy`]. When the outcome is
//! decided, [`deliver`] records it and hands it to the dead-letter queue and destinations
//! (an outbox: the decision is stored first, deliveries are idempotent, so a crash redoes
//! only what was not done). Every accepted event ends in exactly one terminal state:
//! succeeded, failed (failure handling done) or expired, with its record.

mod configs;
pub(crate) mod deliver;
mod dispatch;
pub(crate) mod policy;

use crate::invoke::InvokeError;
use crate::limits::{
    ASYNC_ACCEPT_BATCH_MAX, ASYNC_ACCEPT_QUEUE_MAX, ASYNC_PENDING_MAX, ASYNC_UPDATE_BATCH_MAX,
};
use crate::metrics::series::{AsyncSample, AsyncTable};
use crate::platform::Platform;
use bytes::Bytes;
use nimbus_api::error::ThrottleReason;
use nimbus_store::events::state;
use nimbus_store::group_commit::GroupCommit;
use nimbus_store::{EventInvokeConfigRow, EventRow, EventStore, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

pub use deliver::{QueueMessageAttribute, QueueSink, QueueSinkError};

/// One accept waiting for the group-commit writer.
type Accept = (EventRow, oneshot::Sender<Result<(), StoreError>>);

/// The asynchronous-invocation machinery the platform owns.
pub(crate) struct AsyncEvents {
    pub(crate) store: Arc<dyn EventStore>,
    accepts: mpsc::Sender<Accept>,
    accepts_rx: std::sync::Mutex<Option<mpsc::Receiver<Accept>>>,
    /// Wakes the dispatcher (new events, finished runs).
    pub(crate) wake: Arc<Notify>,
    /// Runs at once.
    pub(crate) slots: Arc<Semaphore>,
    /// Events accepted and not yet terminal (bounds the backlog).
    pub(crate) unfinished: AtomicU64,
    pub(crate) timing: policy::Timing,
    /// Event-invoke configurations by (function, qualifier), mirrored from the store.
    pub(crate) configs: RwLock<HashMap<(String, String), EventInvokeConfigRow>>,
    /// Where queue deliveries go (the queue service, once it is attached).
    pub(crate) queue_sink: RwLock<Option<Arc<dyn QueueSink>>>,
    pub(crate) counters: AsyncCounters,
    /// The same, per function (what `/metrics` shows).
    pub(crate) by_function: AsyncTable,
    /// State changes of concurrent dispatches share a transaction (one fsync for many).
    updates: GroupCommit<(EventRow, String), bool>,
}

/// Counters of asynchronous invocations (for metrics).
#[derive(Debug, Default)]
pub struct AsyncCounters {
    /// Events accepted (202).
    pub accepted: AtomicU64,
    /// Function attempts made.
    pub attempts: AtomicU64,
    /// Retries after function errors scheduled.
    pub retries: AtomicU64,
    /// Throttles and platform errors that sent an event back to wait.
    pub system_retries: AtomicU64,
    /// Events that reached a terminal state, by state.
    pub succeeded: AtomicU64,
    /// Failed (failure handling done).
    pub failed: AtomicU64,
    /// Expired.
    pub expired: AtomicU64,
    /// Deliveries (DLQ, destinations) that could not be made.
    pub delivery_errors: AtomicU64,
}

impl AsyncEvents {
    pub(crate) fn new(store: Arc<dyn EventStore>, time_scale: f64, concurrency: usize) -> Self {
        let (tx, rx) = mpsc::channel(ASYNC_ACCEPT_QUEUE_MAX);
        Self {
            store,
            accepts: tx,
            accepts_rx: std::sync::Mutex::new(Some(rx)),
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            unfinished: AtomicU64::new(0),
            timing: policy::Timing::new(time_scale),
            configs: RwLock::new(HashMap::new()),
            queue_sink: RwLock::new(None),
            counters: AsyncCounters::default(),
            by_function: AsyncTable::default(),
            updates: GroupCommit::new(ASYNC_UPDATE_BATCH_MAX),
        }
    }

    /// [`EventStore::update_event`] through the group commit: `Ok(false)` when the event is
    /// no longer in state `expected`.
    pub(crate) async fn update(&self, row: &EventRow, expected: &str) -> Result<bool, String> {
        let store = self.store.as_ref();
        let mut done = self
            .updates
            .submit(
                vec![(row.clone(), expected.to_string())],
                |all| async move { store.update_events(&all).await.map_err(|e| e.to_string()) },
            )
            .await?;
        Ok(done.pop().unwrap_or(false))
    }
}

/// An asynchronous event as `GET /nimbus/v1/async-events/{id}` shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncEventView {
    /// Request id.
    pub request_id: String,
    /// Function name.
    pub function_name: String,
    /// Qualifier as invoked.
    pub qualifier: Option<String>,
    /// pending, running, delivering, succeeded, failed or expired.
    pub state: String,
    /// Function attempts made.
    pub attempts: i64,
    /// Throttles and platform errors met.
    pub system_retries: i64,
    /// How it ended.
    pub condition: Option<String>,
    /// Last error type.
    pub error_type: Option<String>,
    /// Last error message.
    pub error_message: Option<String>,
    /// The invocation record.
    pub record: Option<serde_json::Value>,
    /// Where the outcome went.
    pub delivered: Option<serde_json::Value>,
}

impl Platform {
    /// Accepts an asynchronous invocation: durable when this returns `Ok` (the request id).
    /// `trace`: the caller's X-Ray header; without one the event starts a new trace. It is
    /// stored with the event, so every attempt and delivery continues it.
    pub async fn invoke_async(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: Bytes,
        trace: Option<nimbus_api::trace::TraceHeader>,
    ) -> Result<String, InvokeError> {
        let (resolved, qualifier) = self.resolve_target(function, qualifier, false).await?;
        let events = &self.async_events;
        if events.unfinished.load(Ordering::Relaxed) >= ASYNC_PENDING_MAX {
            self.admission
                .count_throttle(ThrottleReason::CallerRateLimitExceeded);
            return Err(InvokeError::Throttled(
                ThrottleReason::CallerRateLimitExceeded,
            ));
        }
        let now = crate::clock::now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let mut row = new_event_row(&id, &resolved.name, qualifier, payload.to_vec(), now);
        row.trace_header = Some(trace.unwrap_or_else(crate::traces::new_trace).to_string());
        self.enqueue_event(row).await?;
        events.counters.accepted.fetch_add(1, Ordering::Relaxed);
        events
            .by_function
            .add(&resolved.name, AsyncSample::Received);
        Ok(id)
    }

    /// Writes one event through the group-commit writer and waits for its commit.
    pub(crate) async fn enqueue_event(&self, row: EventRow) -> Result<(), InvokeError> {
        let events = &self.async_events;
        // Counted before the commit: the dispatcher may finish the event before we resume.
        events.unfinished.fetch_add(1, Ordering::Relaxed);
        let uncount = || {
            let _ = events
                .unfinished
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
        };
        let (ack, acked) = oneshot::channel();
        if events.accepts.send((row, ack)).await.is_err() {
            uncount();
            return Err(InvokeError::Service("the event writer has stopped".into()));
        }
        match acked.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                uncount();
                Err(InvokeError::Service(format!(
                    "could not store the event: {e}"
                )))
            }
            Err(_) => {
                uncount();
                Err(InvokeError::Service(
                    "the event writer stopped before the commit".into(),
                ))
            }
        }
    }

    /// Starts the writer, the dispatcher and the janitor (once, at open).
    pub(crate) async fn start_async_events(
        self: &Arc<Self>,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let events = &self.async_events;
        let released = events
            .store
            .release_running_events(crate::clock::now_ms())
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "asynchronous events interrupted by the last stop are due again (not counted as attempts)"
            );
        }
        let unfinished: i64 = events
            .store
            .count_events_by_state()
            .await?
            .into_iter()
            .filter(|(s, _)| !is_terminal(s))
            .map(|(_, n)| n)
            .sum();
        events
            .unfinished
            .store(u64::try_from(unfinished).unwrap_or(0), Ordering::Relaxed);
        self.load_event_invoke_configs().await?;
        let rx = events
            .accepts_rx
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .ok_or_else(|| anyhow::anyhow!("asynchronous events already started"))?;
        let writer = tokio::spawn(writer_loop(
            Arc::clone(&events.store),
            rx,
            Arc::clone(&events.wake),
        ));
        let dispatcher = tokio::spawn(dispatch::dispatch_loop(Arc::downgrade(self)));
        let janitor = tokio::spawn(dispatch::janitor_loop(Arc::downgrade(self)));
        Ok(vec![writer, dispatcher, janitor])
    }

    /// Attaches the queue service that dead-letter and destination deliveries go to.
    pub fn set_queue_sink(&self, sink: Arc<dyn QueueSink>) {
        if let Ok(mut s) = self.async_events.queue_sink.write() {
            *s = Some(sink);
        }
    }

    /// One asynchronous event, for inspection.
    pub async fn async_event(&self, id: &str) -> anyhow::Result<Option<AsyncEventView>> {
        let Some(row) = self.async_events.store.get_event(id).await? else {
            return Ok(None);
        };
        let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
        Ok(Some(AsyncEventView {
            record: parse(&row.record_json),
            delivered: parse(&row.delivered_json),
            request_id: row.id,
            function_name: row.function_name,
            qualifier: row.qualifier,
            state: row.state,
            attempts: row.attempts,
            system_retries: row.system_retries,
            condition: row.condition,
            error_type: row.error_type,
            error_message: row.error_message,
        }))
    }

    /// Events per state in the store, and the engine's counters.
    pub async fn async_event_counts(&self) -> anyhow::Result<serde_json::Value> {
        let by_state: serde_json::Map<String, serde_json::Value> = self
            .async_events
            .store
            .count_events_by_state()
            .await?
            .into_iter()
            .map(|(s, n)| (s, serde_json::Value::from(n)))
            .collect();
        let c = &self.async_events.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Ok(serde_json::json!({
            "byState": by_state,
            "accepted": load(&c.accepted),
            "attempts": load(&c.attempts),
            "retries": load(&c.retries),
            "systemRetries": load(&c.system_retries),
            "succeeded": load(&c.succeeded),
            "failed": load(&c.failed),
            "expired": load(&c.expired),
            "deliveryErrors": load(&c.delivery_errors),
        }))
    }
}

/// A freshly accepted event, due now.
pub(crate) fn new_event_row(
    id: &str,
    function: &str,
    qualifier: Option<String>,
    payload: Vec<u8>,
    now_ms: i64,
) -> EventRow {
    EventRow {
        id: id.to_string(),
        function_name: function.to_string(),
        qualifier,
        payload,
        received_ms: now_ms,
        state: state::PENDING.to_string(),
        attempts: 0,
        system_retries: 0,
        next_attempt_ms: now_ms,
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

pub(crate) fn is_terminal(s: &str) -> bool {
    s == state::SUCCEEDED || s == state::FAILED || s == state::EXPIRED
}

/// Group commit: whatever accepts are waiting go into one transaction (one fsync); each
/// caller is answered after the commit, with its outcome.
async fn writer_loop(
    store: Arc<dyn EventStore>,
    mut rx: mpsc::Receiver<Accept>,
    wake: Arc<Notify>,
) {
    let mut batch: Vec<Accept> = Vec::with_capacity(ASYNC_ACCEPT_BATCH_MAX);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < ASYNC_ACCEPT_BATCH_MAX {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let rows: Vec<EventRow> = batch.iter().map(|(row, _)| row.clone()).collect();
        let result = store.insert_events(&rows).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, events = rows.len(), "could not store accepted events");
        }
        for (_, ack) in batch.drain(..) {
            // A caller that went away still has its event stored (or not): nothing to undo.
            let _ = ack.send(result.clone());
        }
        wake.notify_one();
    }
}
