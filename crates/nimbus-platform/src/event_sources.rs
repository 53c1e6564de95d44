//! Event source mappings: pollers that read an SQS queue and invoke a function with batches.
//!
//! Each enabled mapping runs `MaximumConcurrency` pollers (default
//! [`ESM_POLLERS_DEFAULT`]); each long-polls the queue, gathers a batch (up to `BatchSize`,
//! waiting up to `MaximumBatchingWindowInSeconds`), invokes the function synchronously
//! through the normal admission path, and then deletes what succeeded. Whatever is not
//! deleted (a function error, a throttle, a crash of Nimbus, the items a function reports in
//! `batchItemFailures`) becomes visible again when its visibility timeout ends, and the
//! queue's redrive policy moves poison messages to its dead-letter queue.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::event_source::{
    BATCH_SIZE_DEFAULT, CreateEventSourceMappingRequest, EventSourceMappingConfiguration,
    ListEventSourceMappingsResponse, REPORT_BATCH_ITEM_FAILURES, ScalingConfig,
    UpdateEventSourceMappingRequest, check_batching, validate_create, validate_update,
};
use nimbus_api::sqs::SqsErrorCode;
use nimbus_api::validate::ValidationFailure;
use nimbus_queues::{Queue, ReceiveOptions, Received};
use nimbus_store::MappingStore;
use nimbus_store::mappings::MappingRow;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::functions::ControlError;
use crate::invoke::{InvokeError, InvokeRequest};
use crate::platform::Platform;
use nimbus_api::trace::TraceHeader;

/// Pollers per mapping without `ScalingConfig.MaximumConcurrency` (Lambda starts SQS
/// mappings at five concurrent batches).
pub const ESM_POLLERS_DEFAULT: usize = 5;

/// Longest long poll a poller makes (SQS's maximum wait).
const POLL_WAIT_S: u32 = 20;

/// Largest batch payload: the synchronous invoke payload limit.
const BATCH_PAYLOAD_BYTES_MAX: usize = 6 * 1024 * 1024;

/// JSON bytes a record adds beyond its body and attributes (ids, md5, ARNs, keys).
const RECORD_OVERHEAD_BYTES: usize = 1_024;

/// Pause after a throttle or a platform error before the next batch.
const BACKOFF_AFTER_ERROR: Duration = Duration::from_secs(1);

/// Pause when the queue or the function is missing (a misconfiguration, not a blip).
const BACKOFF_WHEN_MISSING: Duration = Duration::from_secs(10);

/// Mappings one ListEventSourceMappings page holds by default and at most.
const LIST_PAGE_DEFAULT: usize = 100;
const LIST_PAGE_MAX: usize = 10_000;

/// A mapping's settings, stored as JSON in its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MappingSettings {
    pub qualifier: Option<String>,
    pub queue: String,
    pub enabled: bool,
    pub batch_size: i64,
    pub window_s: i64,
    pub report_failures: bool,
    pub maximum_concurrency: Option<i64>,
}

/// Running pollers, per mapping.
#[derive(Default)]
pub(crate) struct EventSources {
    pollers: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
}

impl EventSources {
    fn stop(&self, uuid: &str) {
        if let Ok(mut p) = self.pollers.lock()
            && let Some(tasks) = p.remove(uuid)
        {
            for t in tasks {
                t.abort();
            }
        }
    }

    pub(crate) fn stop_all(&self) {
        if let Ok(mut p) = self.pollers.lock() {
            for (_, tasks) in p.drain() {
                for t in tasks {
                    t.abort();
                }
            }
        }
    }
}

fn not_found(uuid: &str) -> ControlError {
    ControlError::Lambda(ErrorBody::new(
        ErrorCode::ResourceNotFound,
        format!(
            "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
        ),
    ))
}

fn invalid(message: impl Into<String>) -> ControlError {
    ValidationFailure::invalid_parameter(message).into()
}

impl Platform {
    fn mapping_store(&self) -> &dyn MappingStore {
        self.mapping_store.as_ref()
    }

    fn settings(row: &MappingRow) -> Result<MappingSettings, ControlError> {
        serde_json::from_str(&row.config_json)
            .map_err(|e| ControlError::service("could not read the mapping", e))
    }

    fn render_mapping(
        &self,
        row: &MappingRow,
        s: &MappingSettings,
        state: &str,
    ) -> EventSourceMappingConfiguration {
        let mut function_arn = self.function_arn(&row.function_name);
        if let Some(q) = &s.qualifier {
            function_arn = format!("{function_arn}:{q}");
        }
        EventSourceMappingConfiguration {
            uuid: row.uuid.clone(),
            batch_size: s.batch_size,
            maximum_batching_window_in_seconds: s.window_s,
            event_source_arn: row.event_source_arn.clone(),
            function_arn,
            last_modified: row.modified_ms as f64 / 1000.0,
            state: state.to_string(),
            state_transition_reason: "USER_INITIATED".to_string(),
            function_response_types: if s.report_failures {
                vec![REPORT_BATCH_ITEM_FAILURES.to_string()]
            } else {
                Vec::new()
            },
            scaling_config: s.maximum_concurrency.map(|c| ScalingConfig {
                maximum_concurrency: Some(c),
            }),
            event_source_mapping_arn: Some(format!(
                "arn:aws:lambda:{}:{}:event-source-mapping:{}",
                self.config.region, self.config.account_id, row.uuid
            )),
        }
    }

    fn steady_state(s: &MappingSettings) -> &'static str {
        if s.enabled { "Enabled" } else { "Disabled" }
    }

    /// The function (name, qualifier) a mapping targets, checked to exist; and its timeout.
    async fn mapping_target(
        &self,
        function: &str,
    ) -> Result<(String, Option<String>, u32), ControlError> {
        let (r, q) = self.parse_qualified(function, None)?;
        let latest = self.latest_or_404(&r.name)?;
        let q = q.filter(|q| q != "$LATEST");
        let timeout = match &q {
            None => latest.config.timeout_s,
            Some(q) => {
                let resolved = self
                    .resolve_qualifier(&r.name, Some(q), false)
                    .await
                    .map_err(|e| ControlError::service("could not read the version", e))?
                    .ok_or_else(|| {
                        ControlError::not_found(&format!("{}:{q}", self.function_arn(&r.name)))
                    })?;
                resolved.function.config.timeout_s
            }
        };
        Ok((r.name, q, timeout))
    }

    async fn mapping_queue(&self, arn: &str) -> Result<Queue, ControlError> {
        let missing = || {
            invalid(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.",
            )
        };
        let name = self.queues.name_from_arn(arn).ok_or_else(missing)?;
        match self.queues.get(&name).await {
            Ok(q) => Ok(q),
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => Err(missing()),
            Err(e) => Err(ControlError::service("could not read the queue", e)),
        }
    }

    fn check_mapping(
        queue: &Queue,
        s: &MappingSettings,
        function_timeout_s: u32,
    ) -> Result<(), ControlError> {
        check_batching(s.batch_size, s.window_s, queue.attributes.fifo_queue)?;
        if queue.attributes.visibility_timeout < function_timeout_s {
            return Err(invalid(format!(
                "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                queue.attributes.visibility_timeout, function_timeout_s
            )));
        }
        Ok(())
    }

    async fn all_mappings(&self) -> Result<Vec<MappingRow>, ControlError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .mapping_store()
                .list_mappings(
                    after.as_deref(),
                    nimbus_store::mappings::MAPPING_LIST_LIMIT_MAX,
                )
                .await
                .map_err(|e| ControlError::service("could not list mappings", e))?;
            let Some(last) = page.last().map(|r| r.uuid.clone()) else {
                break;
            };
            let full = page.len() as u32 == nimbus_store::mappings::MAPPING_LIST_LIMIT_MAX;
            all.extend(page);
            if !full {
                break;
            }
            after = Some(last);
        }
        Ok(all)
    }

    /// CreateEventSourceMapping.
    pub async fn create_event_source_mapping(
        self: &Arc<Self>,
        req: CreateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ControlError> {
        validate_create(&req)?;
        let function = req.function_name.clone().unwrap_or_default();
        let arn = req.event_source_arn.clone().unwrap_or_default();
        let (name, qualifier, timeout) = self.mapping_target(&function).await?;
        let queue = self.mapping_queue(&arn).await?;
        let settings = MappingSettings {
            qualifier,
            queue: queue.name.clone(),
            enabled: req.enabled.unwrap_or(true),
            batch_size: req.batch_size.unwrap_or(BATCH_SIZE_DEFAULT),
            window_s: req.maximum_batching_window_in_seconds.unwrap_or(0),
            report_failures: req
                .function_response_types
                .as_ref()
                .is_some_and(|t| !t.is_empty()),
            maximum_concurrency: req.scaling_config.and_then(|s| s.maximum_concurrency),
        };
        Self::check_mapping(&queue, &settings, timeout)?;
        let _writes = self.writes.lock().await;
        for other in self.all_mappings().await? {
            if other.function_name == name && other.event_source_arn == arn {
                return Err(ControlError::Lambda(ErrorBody::new(
                    ErrorCode::ResourceConflict,
                    format!(
                        "An event source mapping with SQS arn (\" {arn} \") and function (\" {name} \") already exists. Please update or delete the existing mapping with UUID {}",
                        other.uuid
                    ),
                )));
            }
        }
        let row = MappingRow {
            uuid: uuid::Uuid::new_v4().to_string(),
            function_name: name,
            event_source_arn: arn,
            config_json: serde_json::to_string(&settings)
                .map_err(|e| ControlError::service("could not save the mapping", e))?,
            modified_ms: crate::clock::now_ms(),
        };
        self.mapping_store()
            .put_mapping(&row)
            .await
            .map_err(|e| ControlError::service("could not save the mapping", e))?;
        tracing::info!(uuid = %row.uuid, function = %row.function_name, queue = %settings.queue, "event source mapping created");
        self.start_pollers(&row, &settings);
        Ok(self.render_mapping(&row, &settings, "Creating"))
    }

    async fn mapping_row(&self, uuid: &str) -> Result<MappingRow, ControlError> {
        self.mapping_store()
            .get_mapping(uuid)
            .await
            .map_err(|e| ControlError::service("could not read the mapping", e))?
            .ok_or_else(|| not_found(uuid))
    }

    /// GetEventSourceMapping.
    pub async fn get_event_source_mapping(
        &self,
        uuid: &str,
    ) -> Result<EventSourceMappingConfiguration, ControlError> {
        let row = self.mapping_row(uuid).await?;
        let s = Self::settings(&row)?;
        Ok(self.render_mapping(&row, &s, Self::steady_state(&s)))
    }

    /// UpdateEventSourceMapping.
    pub async fn update_event_source_mapping(
        self: &Arc<Self>,
        uuid: &str,
        req: UpdateEventSourceMappingRequest,
    ) -> Result<EventSourceMappingConfiguration, ControlError> {
        validate_update(&req)?;
        let _writes = self.writes.lock().await;
        let mut row = self.mapping_row(uuid).await?;
        let before = Self::settings(&row)?;
        let mut s = before.clone();
        if let Some(f) = &req.function_name {
            let (name, qualifier, _) = self.mapping_target(f).await?;
            row.function_name = name;
            s.qualifier = qualifier;
        }
        if let Some(e) = req.enabled {
            s.enabled = e;
        }
        if let Some(b) = req.batch_size {
            s.batch_size = b;
        }
        if let Some(w) = req.maximum_batching_window_in_seconds {
            s.window_s = w;
        }
        if let Some(t) = &req.function_response_types {
            s.report_failures = !t.is_empty();
        }
        if let Some(c) = &req.scaling_config {
            s.maximum_concurrency = c.maximum_concurrency;
        }
        let function = match &s.qualifier {
            Some(q) => format!("{}:{q}", row.function_name),
            None => row.function_name.clone(),
        };
        let (_, _, timeout) = self.mapping_target(&function).await?;
        let queue = self.mapping_queue(&row.event_source_arn).await?;
        Self::check_mapping(&queue, &s, timeout)?;
        row.config_json = serde_json::to_string(&s)
            .map_err(|e| ControlError::service("could not save the mapping", e))?;
        row.modified_ms = crate::clock::now_ms();
        self.mapping_store()
            .put_mapping(&row)
            .await
            .map_err(|e| ControlError::service("could not save the mapping", e))?;
        self.event_sources.stop(uuid);
        self.start_pollers(&row, &s);
        let state = match (before.enabled, s.enabled) {
            (false, true) => "Enabling",
            (true, false) => "Disabling",
            _ => "Updating",
        };
        Ok(self.render_mapping(&row, &s, state))
    }

    /// DeleteEventSourceMapping.
    pub async fn delete_event_source_mapping(
        &self,
        uuid: &str,
    ) -> Result<EventSourceMappingConfiguration, ControlError> {
        let _writes = self.writes.lock().await;
        let row = self.mapping_row(uuid).await?;
        let s = Self::settings(&row)?;
        self.event_sources.stop(uuid);
        self.mapping_store()
            .delete_mapping(uuid)
            .await
            .map_err(|e| ControlError::service("could not delete the mapping", e))?;
        tracing::info!(uuid, "event source mapping deleted");
        Ok(self.render_mapping(&row, &s, "Deleting"))
    }

    /// ListEventSourceMappings, filtered by function and/or source; `Marker` is the last
    /// UUID listed.
    pub async fn list_event_source_mappings(
        &self,
        function: Option<&str>,
        source: Option<&str>,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListEventSourceMappingsResponse, ControlError> {
        let page = match max_items {
            None => LIST_PAGE_DEFAULT,
            Some(m) => match m.parse::<usize>() {
                Ok(n) if (1..=LIST_PAGE_MAX).contains(&n) => n,
                _ => {
                    return Err(invalid(format!(
                        "MaxItems must be between 1 and {LIST_PAGE_MAX}."
                    )));
                }
            },
        };
        let function = match function {
            Some(f) => {
                let (r, q) = self.parse_qualified(f, None)?;
                Some((r.name, q.filter(|q| q != "$LATEST")))
            }
            None => None,
        };
        let mut out = Vec::new();
        let mut next_marker = None;
        for row in self.all_mappings().await? {
            if marker.is_some_and(|m| row.uuid.as_str() <= m) {
                continue;
            }
            if source.is_some_and(|s| s != row.event_source_arn) {
                continue;
            }
            let s = Self::settings(&row)?;
            if let Some((name, q)) = &function
                && (name != &row.function_name || (q.is_some() && q != &s.qualifier))
            {
                continue;
            }
            if out.len() == page {
                next_marker = out
                    .last()
                    .map(|c: &EventSourceMappingConfiguration| c.uuid.clone());
                break;
            }
            out.push(self.render_mapping(&row, &s, Self::steady_state(&s)));
        }
        Ok(ListEventSourceMappingsResponse {
            event_source_mappings: out,
            next_marker,
        })
    }

    /// Starts the pollers of every enabled mapping (at start-up).
    pub(crate) async fn start_event_sources(self: &Arc<Self>) -> anyhow::Result<()> {
        let rows = self
            .all_mappings()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for row in rows {
            match Self::settings(&row) {
                Ok(s) => self.start_pollers(&row, &s),
                Err(e) => {
                    tracing::error!(uuid = %row.uuid, error = %e, "unreadable mapping skipped")
                }
            }
        }
        Ok(())
    }

    fn start_pollers(self: &Arc<Self>, row: &MappingRow, s: &MappingSettings) {
        if !s.enabled {
            return;
        }
        let n = s
            .maximum_concurrency
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(ESM_POLLERS_DEFAULT);
        let mapping = Arc::new(Mapping {
            uuid: row.uuid.clone(),
            function: row.function_name.clone(),
            source_arn: row.event_source_arn.clone(),
            settings: s.clone(),
        });
        let tasks = (0..n)
            .map(|_| tokio::spawn(poll_loop(Arc::downgrade(self), Arc::clone(&mapping))))
            .collect();
        if let Ok(mut p) = self.event_sources.pollers.lock()
            && let Some(old) = p.insert(row.uuid.clone(), tasks)
        {
            for t in old {
                t.abort();
            }
        }
    }
}

/// What a poller needs of its mapping.
struct Mapping {
    uuid: String,
    function: String,
    source_arn: String,
    settings: MappingSettings,
}

async fn poll_loop(platform: Weak<Platform>, m: Arc<Mapping>) {
    loop {
        let Some(p) = platform.upgrade() else {
            return;
        };
        let pause = poll_once(&p, &m).await;
        drop(p);
        if let Some(d) = pause {
            tokio::time::sleep(d).await;
        }
    }
}

/// Gathers one batch and processes it; the pause to take before the next one.
async fn poll_once(p: &Arc<Platform>, m: &Mapping) -> Option<Duration> {
    let s = &m.settings;
    let want = usize::try_from(s.batch_size).unwrap_or(1).max(1);
    let window = Duration::from_secs(u64::try_from(s.window_s).unwrap_or(0));
    let started = Instant::now();
    let mut batch: Vec<Received> = Vec::new();
    loop {
        let remaining = window.saturating_sub(started.elapsed());
        // Without a window: long-poll until anything arrives. With one: keep gathering
        // until the window ends or the batch is full.
        let wait_s = if batch.is_empty() && window.is_zero() {
            POLL_WAIT_S
        } else {
            u32::try_from(remaining.as_secs())
                .unwrap_or(POLL_WAIT_S)
                .min(POLL_WAIT_S)
        };
        let options = ReceiveOptions {
            max: u32::try_from(want - batch.len()).unwrap_or(u32::MAX),
            visibility_s: None,
            wait_s: Some(wait_s),
        };
        match p.queues.receive(&s.queue, options).await {
            Ok(got) => batch.extend(got),
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {
                tracing::warn!(uuid = %m.uuid, queue = %s.queue, "mapped queue does not exist");
                return Some(BACKOFF_WHEN_MISSING);
            }
            Err(e) => {
                tracing::warn!(uuid = %m.uuid, error = %e, "receive for mapping failed");
                return Some(BACKOFF_AFTER_ERROR);
            }
        }
        if batch.len() >= want || started.elapsed() >= window {
            break;
        }
        if batch.is_empty() && window.is_zero() {
            return None;
        }
    }
    if batch.is_empty() {
        return None;
    }
    process_batch(p, m, batch).await
}

/// One record of the SQS event (lambda-compat §8.2).
fn record(m: &Mapping, region: &str, msg: &Received) -> Value {
    let attributes: BTreeMap<&str, &str> = msg
        .attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let message_attributes: serde_json::Map<String, Value> = msg
        .message_attributes
        .iter()
        .map(|(k, v)| {
            use base64::Engine as _;
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let mut o = serde_json::Map::new();
            if let Some(sv) = &v.string_value {
                o.insert("stringValue".into(), json!(sv));
            }
            if let Some(bv) = &v.binary_value {
                o.insert("binaryValue".into(), json!(b64(bv.as_bytes())));
            }
            o.insert(
                "stringListValues".into(),
                json!(v.string_list_values.clone().unwrap_or_default()),
            );
            o.insert(
                "binaryListValues".into(),
                json!(
                    v.binary_list_values
                        .iter()
                        .flatten()
                        .map(|b| b64(b.as_bytes()))
                        .collect::<Vec<_>>()
                ),
            );
            o.insert("dataType".into(), json!(v.data_type));
            (k.clone(), Value::Object(o))
        })
        .collect();
    let mut r = json!({
        "messageId": msg.message_id,
        "receiptHandle": msg.receipt_handle,
        "body": msg.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": msg.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": m.source_arn,
        "awsRegion": region,
    });
    if let (Some(md5), Some(o)) = (&msg.md5_attributes, r.as_object_mut()) {
        o.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    r
}

/// Which message ids the function reported as failed; `None`: the whole batch failed
/// (an invalid response, lambda-compat §8.2).
fn reported_failures(payload: &[u8], ids: &[&str]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    if text.is_empty() {
        return Some(Vec::new());
    }
    let v: Value = serde_json::from_str(text).ok()?;
    let list = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return None,
    };
    let mut failed = Vec::with_capacity(list.len());
    for item in list {
        let id = item.get("itemIdentifier")?.as_str()?;
        if id.is_empty() || !ids.contains(&id) {
            return None;
        }
        failed.push(id.to_string());
    }
    Some(failed)
}

async fn process_batch(p: &Arc<Platform>, m: &Mapping, batch: Vec<Received>) -> Option<Duration> {
    let s = &m.settings;
    let region = p.config.region.clone();
    // Keep the payload under the synchronous limit; what does not fit goes back at once.
    let mut records = Vec::with_capacity(batch.len());
    let mut taken: Vec<&Received> = Vec::with_capacity(batch.len());
    let mut overflow: Vec<(String, i64)> = Vec::new();
    let mut size = 32;
    for msg in &batch {
        let r = record(m, &region, msg);
        let len = r.to_string().len() + RECORD_OVERHEAD_BYTES;
        if !taken.is_empty() && size + len > BATCH_PAYLOAD_BYTES_MAX {
            overflow.push((msg.receipt_handle.clone(), 0));
            continue;
        }
        size += len;
        records.push(r);
        taken.push(msg);
    }
    if !overflow.is_empty()
        && let Err(e) = p.queues.change_visibility(&s.queue, &overflow).await
    {
        tracing::warn!(uuid = %m.uuid, error = %e, "could not release the messages over the payload limit");
    }
    let payload = Bytes::from(json!({ "Records": records }).to_string());
    let request = InvokeRequest {
        function: m.function.clone(),
        qualifier: s.qualifier.clone(),
        payload,
        log_tail: false,
        client_context: None,
        request_id: None,
        trigger: crate::metering::Trigger::Queue,
        // As Lambda: the invocation continues the trace of the batch's first message.
        trace: taken.first().and_then(|msg| {
            TraceHeader::parse_lenient(msg.attributes.get("AWSTraceHeader").map(String::as_str))
        }),
        // The wait of the message whose trace the invocation continues.
        queued_since_ms: taken
            .first()
            .and_then(|msg| msg.attributes.get("SentTimestamp"))
            .and_then(|ms| ms.parse().ok()),
    };
    let span = tracing::info_span!("esm_batch", uuid = %m.uuid, messages = taken.len());
    let _enter = span.enter();
    let response = match p.invoke(request).await {
        Ok(r) => r,
        Err(InvokeError::Throttled(_)) => {
            tracing::debug!(
                "mapping invoke throttled; the batch returns after its visibility timeout"
            );
            return Some(BACKOFF_AFTER_ERROR);
        }
        Err(InvokeError::NotFound(e)) => {
            tracing::warn!(error = %e, "mapped function not found");
            return Some(BACKOFF_WHEN_MISSING);
        }
        Err(e) => {
            tracing::warn!(error = %e, "mapping invoke failed");
            return Some(BACKOFF_AFTER_ERROR);
        }
    };
    if response.function_error {
        tracing::info!(request_id = %response.request_id, "function error: the batch returns after its visibility timeout");
        return None;
    }
    let ids: Vec<&str> = taken.iter().map(|r| r.message_id.as_str()).collect();
    let failed = if s.report_failures {
        match reported_failures(&response.payload, &ids) {
            Some(f) => f,
            None => {
                tracing::info!(request_id = %response.request_id, "invalid batchItemFailures: the whole batch returns");
                return None;
            }
        }
    } else {
        Vec::new()
    };
    let handles: Vec<String> = taken
        .iter()
        .filter(|r| !failed.contains(&r.message_id))
        .map(|r| r.receipt_handle.clone())
        .collect();
    if !handles.is_empty()
        && let Err(e) = p.queues.delete(&s.queue, &handles).await
    {
        tracing::warn!(error = %e, "could not delete a processed batch; it will be redelivered");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_follow_lambda() {
        let ids = ["a", "b", "c"];
        assert_eq!(reported_failures(b"", &ids), Some(vec![]));
        assert_eq!(reported_failures(b"null", &ids), Some(vec![]));
        assert_eq!(reported_failures(b"{}", &ids), Some(vec![]));
        assert_eq!(reported_failures(b"\"ok\"", &ids), Some(vec![]));
        assert_eq!(
            reported_failures(br#"{"batchItemFailures":null}"#, &ids),
            Some(vec![])
        );
        assert_eq!(
            reported_failures(br#"{"batchItemFailures":[]}"#, &ids),
            Some(vec![])
        );
        assert_eq!(
            reported_failures(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &ids),
            Some(vec!["b".to_string()])
        );
        for whole in [
            &b"{not json"[..],
            br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            br#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            br#"{"batchItemFailures":[{"id":"a"}]}"#,
            br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
            br#"{"batchItemFailures":"a"}"#,
        ] {
            assert_eq!(
                reported_failures(whole, &ids),
                None,
                "{}",
                String::from_utf8_lossy(whole)
            );
        }
    }
}
