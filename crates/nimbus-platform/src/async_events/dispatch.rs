//! The dispatcher: claims due events (with a lease), runs each like a synchronous invoke,
//! and applies the retry policy; and the janitor that purges old terminal events.

use super::deliver::Ending;
use super::policy::{Condition, Next};
use crate::invoke::{InvokeError, InvokeRequest};
use crate::limits::{
    ASYNC_IDLE_POLL, ASYNC_LEASE_MARGIN, ASYNC_PURGE_BATCH, ASYNC_PURGE_INTERVAL,
    ASYNC_TERMINAL_RETENTION,
};
use crate::platform::Platform;
use bytes::Bytes;
use nimbus_store::EventRow;
use nimbus_store::events::{EVENT_BATCH_LIMIT_MAX, state};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Longest timeout a function may have (its lease covers it).
const FUNCTION_TIMEOUT_MAX: Duration = Duration::from_secs(900);

pub(super) async fn dispatch_loop(platform: Weak<Platform>) {
    loop {
        let Some(p) = platform.upgrade() else { return };
        let wake = Arc::clone(&p.async_events.wake);
        let sleep = p.dispatch_round().await;
        drop(p);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

pub(super) async fn janitor_loop(platform: Weak<Platform>) {
    let mut tick = tokio::time::interval(ASYNC_PURGE_INTERVAL);
    loop {
        tick.tick().await;
        let Some(p) = platform.upgrade() else { return };
        let before = crate::clock::now_ms()
            - i64::try_from(ASYNC_TERMINAL_RETENTION.as_millis()).unwrap_or(i64::MAX);
        match p
            .async_events
            .store
            .purge_completed_events(before, ASYNC_PURGE_BATCH)
            .await
        {
            Ok(n) if n > 0 => {
                tracing::debug!(purged = n, "old terminal asynchronous events purged")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge old asynchronous events"),
        }
    }
}

impl Platform {
    /// One round: finish pending deliveries, claim what can run now, start it. Returns how
    /// long to sleep unless woken.
    async fn dispatch_round(self: &Arc<Self>) -> Duration {
        let events = &self.async_events;
        // Deliveries interrupted by a crash or postponed (queue service busy).
        match events
            .store
            .events_in_state(
                state::DELIVERING,
                crate::clock::now_ms(),
                EVENT_BATCH_LIMIT_MAX,
            )
            .await
        {
            Ok(rows) => {
                for row in rows {
                    self.deliver_event(row).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not list events to deliver"),
        }
        let free = events.slots.available_permits();
        if free == 0 {
            // A finishing run wakes us.
            return ASYNC_IDLE_POLL;
        }
        let now = crate::clock::now_ms();
        let lease = FUNCTION_TIMEOUT_MAX + ASYNC_LEASE_MARGIN;
        let lease_until = now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let want = u32::try_from(free).unwrap_or(EVENT_BATCH_LIMIT_MAX);
        let claimed = match events.store.claim_due_events(now, lease_until, want).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim due events");
                return ASYNC_IDLE_POLL;
            }
        };
        let full = claimed.len() >= want as usize;
        for row in claimed {
            let Ok(permit) = Arc::clone(&events.slots).try_acquire_owned() else {
                // Cannot happen (we claimed no more than were free); the lease brings it back.
                continue;
            };
            let platform = Arc::clone(self);
            let wake = Arc::clone(&events.wake);
            tokio::spawn(async move {
                platform.run_event(row).await;
                drop(permit);
                wake.notify_one();
            });
        }
        if full {
            return Duration::ZERO;
        }
        match events.store.next_event_due_ms().await {
            Ok(Some(due)) => {
                let wait = u64::try_from((due - crate::clock::now_ms()).max(0)).unwrap_or(0);
                Duration::from_millis(wait).min(ASYNC_IDLE_POLL)
            }
            _ => ASYNC_IDLE_POLL,
        }
    }

    /// Runs one claimed event once and records what happens next.
    async fn run_event(self: &Arc<Self>, mut row: EventRow) {
        let events = &self.async_events;
        let timing = events.timing;
        let settings = self.event_settings(&row.function_name, row.qualifier.as_deref());
        let now = crate::clock::now_ms();
        let expires = row.received_ms + timing.max_age_ms(settings.max_age_s);
        if now > expires {
            let ending = Ending {
                condition: Condition::EventAgeExceeded,
                status_code: row.status_code.unwrap_or(200),
                error_type: row.error_type.clone(),
                error_message: row.error_message.clone(),
                executed_version: None,
                function_error: false,
                response_payload: None,
            };
            self.settle_event(row, ending).await;
            return;
        }
        if self.cached(&row.function_name).is_some() && self.reserved(&row.function_name) == Some(0)
        {
            // Lambda: with reserved concurrency 0, events go to failure handling untried.
            let ending = Ending {
                condition: Condition::RetriesExhausted,
                status_code: 429,
                error_type: Some("TooManyRequestsException".into()),
                error_message: Some(
                    "Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: the function's reserved concurrency is 0)"
                        .into(),
                ),
                executed_version: None,
                function_error: false,
                response_payload: None,
            };
            self.settle_event(row, ending).await;
            return;
        }
        events.counters.attempts.fetch_add(1, Ordering::Relaxed);
        let result = self
            .invoke(InvokeRequest {
                function: row.function_name.clone(),
                qualifier: row.qualifier.clone(),
                payload: Bytes::from(row.payload.clone()),
                log_tail: false,
                client_context: None,
                request_id: Some(row.id.clone()),
                trigger: crate::metering::Trigger::Async,
                trace: Some(crate::traces::of_event(&row)),
                // Due since acceptance (first attempt) or since its retry time.
                queued_since_ms: Some(row.next_attempt_ms),
            })
            .await;
        let expected = row.state.clone();
        match result {
            Ok(resp) if !resp.function_error => {
                row.attempts += 1;
                let ending = Ending {
                    condition: Condition::Success,
                    status_code: 200,
                    error_type: None,
                    error_message: None,
                    executed_version: Some(resp.executed_version),
                    function_error: false,
                    response_payload: Some(resp.payload),
                };
                self.settle_event(row, ending).await;
            }
            Ok(resp) => {
                row.attempts += 1;
                let (error_type, error_message) = error_fields(&resp.payload);
                let now = crate::clock::now_ms();
                match timing.after_function_error(row.attempts, settings.max_retries, now) {
                    Next::RetryAt(at) => {
                        events.counters.retries.fetch_add(1, Ordering::Relaxed);
                        row.state = state::PENDING.into();
                        row.next_attempt_ms = at;
                        row.lease_until_ms = None;
                        row.status_code = Some(200);
                        row.error_type = error_type;
                        row.error_message = error_message;
                        self.save_retry(row, &expected).await;
                    }
                    Next::Settle(condition) => {
                        let ending = Ending {
                            condition,
                            status_code: 200,
                            error_type,
                            error_message,
                            executed_version: Some(resp.executed_version),
                            function_error: true,
                            response_payload: Some(resp.payload),
                        };
                        self.settle_event(row, ending).await;
                    }
                }
            }
            Err(InvokeError::Throttled(reason)) => {
                events
                    .counters
                    .system_retries
                    .fetch_add(1, Ordering::Relaxed);
                row.system_retries += 1;
                row.state = state::PENDING.into();
                row.next_attempt_ms = timing.after_system_error(
                    row.system_retries,
                    crate::clock::now_ms(),
                    expires + 1,
                );
                row.lease_until_ms = None;
                row.status_code = Some(429);
                row.error_type = Some("TooManyRequestsException".into());
                row.error_message = Some(format!("Rate Exceeded. ({})", reason.as_str()));
                self.save_retry(row, &expected).await;
            }
            Err(InvokeError::Service(message)) => {
                events
                    .counters
                    .system_retries
                    .fetch_add(1, Ordering::Relaxed);
                row.system_retries += 1;
                row.state = state::PENDING.into();
                row.next_attempt_ms = timing.after_system_error(
                    row.system_retries,
                    crate::clock::now_ms(),
                    expires + 1,
                );
                row.lease_until_ms = None;
                row.status_code = Some(500);
                row.error_type = Some("ServiceException".into());
                row.error_message = Some(message);
                self.save_retry(row, &expected).await;
            }
            Err(e @ (InvokeError::NotFound(_) | InvokeError::InvalidParameter(_))) => {
                // The function (or its alias or version) is gone: nothing to retry.
                let status = if matches!(e, InvokeError::NotFound(_)) {
                    404
                } else {
                    400
                };
                let error_type = if status == 404 {
                    "ResourceNotFoundException"
                } else {
                    "InvalidParameterValueException"
                };
                let ending = Ending {
                    condition: Condition::RetriesExhausted,
                    status_code: status,
                    error_type: Some(error_type.into()),
                    error_message: Some(e.to_string()),
                    executed_version: None,
                    function_error: false,
                    response_payload: None,
                };
                self.settle_event(row, ending).await;
            }
        }
    }

    async fn save_retry(&self, row: EventRow, expected: &str) {
        match self.async_events.update(&row, expected).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(request_id = %row.id, "event changed state while running"),
            Err(e) => {
                tracing::error!(request_id = %row.id, error = %e, "could not schedule the retry; the lease brings the event back")
            }
        }
    }
}

/// `errorType` and `errorMessage` of a function's error document.
fn error_fields(payload: &[u8]) -> (Option<String>, Option<String>) {
    let doc: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
    (
        field("errorType").or_else(|| Some("Unhandled".into())),
        field("errorMessage").or_else(|| Some(String::from_utf8_lossy(payload).into_owned())),
    )
}
