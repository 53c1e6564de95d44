//! [`Queues`]: the queue operations with SQS's semantics.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use nimbus_api::sqs::{
    self, DEDUP_WINDOW_MS, MessageAttributeValue, QueueAttributes, SqsError, SqsErrorCode,
};
use nimbus_store::queues::{
    LeaseOutcome, MessageRow, NewMessage, QueueRow, QueueStore, QueueWrite, ReceiveSpec, Redrive,
    WriteOutcome,
};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::limits::{
    GROUP_COMMIT_WRITES_MAX, JANITOR_BATCH, JANITOR_INTERVAL, LONG_POLL_RECHECK, LONG_POLLS_MAX,
    PURGE_INTERVAL_MS, QUEUE_TAGS_MAX, RECEIVE_ATTEMPT_WINDOW_MS, RECEIVE_ATTEMPTS_MAX,
    SINK_DEDUP_WINDOW_MS,
};
use crate::receipt::Receipt;
use nimbus_store::group_commit::GroupCommit;

/// One queue as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Typed attributes.
    pub attributes: QueueAttributes,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last attribute change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// One message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendEntry {
    /// Body.
    pub body: String,
    /// Per-message delay (standard queues only).
    pub delay_seconds: Option<i64>,
    /// Message attributes.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// `AWSTraceHeader` system attribute.
    pub trace_header: Option<String>,
    /// FIFO message group.
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    pub dedup_id: Option<String>,
}

/// A message accepted by a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Message id (the first message's id when the send was a duplicate).
    pub message_id: String,
    /// MD5 of the body.
    pub md5_body: String,
    /// MD5 of the message attributes.
    pub md5_attributes: Option<String>,
    /// FIFO sequence number.
    pub sequence_number: Option<String>,
    /// Nothing was enqueued: the deduplication key was seen within its window.
    pub duplicate: bool,
}

/// Options of one receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// Most messages (1–10 from clients; internal pollers may ask for more).
    pub max: u32,
    /// Visibility timeout override, seconds.
    pub visibility_s: Option<u32>,
    /// Long-poll wait override, seconds.
    pub wait_s: Option<u32>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Message id.
    pub message_id: String,
    /// Receipt handle of this receive.
    pub receipt_handle: String,
    /// Body.
    pub body: String,
    /// MD5 of the body.
    pub md5_body: String,
    /// MD5 of the message attributes.
    pub md5_attributes: Option<String>,
    /// Message attributes.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// Every system attribute (the caller filters by the names asked for).
    pub attributes: BTreeMap<String, String>,
}

/// The queue service of one account.
pub struct Queues {
    store: Arc<dyn QueueStore>,
    clock: Arc<dyn Clock>,
    region: String,
    account: String,
    /// One wake-up per queue with waiting long polls; entries are removed when unused.
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
    long_polls: Semaphore,
    /// Last PurgeQueue per queue (in memory: a restart forgets it, which only relaxes a
    /// rate limit).
    purges: Mutex<HashMap<String, i64>>,
    /// Sends and deletes of concurrent callers share a transaction.
    group: GroupCommit<QueueWrite, WriteOutcome>,
    /// FIFO receive attempts: (queue, attempt id) → (time, what that receive returned).
    attempts: Mutex<HashMap<AttemptKey, (i64, Vec<Received>)>>,
}

/// (queue name, `ReceiveRequestAttemptId`).
type AttemptKey = (String, String);

impl std::fmt::Debug for Queues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queues")
            .field("region", &self.region)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> SqsError {
    tracing::error!(error = %e, "queue store failed");
    SqsError::new(
        SqsErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

fn no_such_queue() -> SqsError {
    SqsError::new(
        SqsErrorCode::QueueDoesNotExist,
        "The specified queue does not exist.",
    )
}

fn invalid_receipt(handle: &str) -> SqsError {
    SqsError::new(
        SqsErrorCode::ReceiptHandleIsInvalid,
        format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
    )
}

fn ms(seconds: u32) -> i64 {
    i64::from(seconds) * 1000
}

impl Queues {
    /// The engine over `store`, for one account in one region.
    pub fn new(
        store: Arc<dyn QueueStore>,
        clock: Arc<dyn Clock>,
        region: impl Into<String>,
        account: impl Into<String>,
    ) -> Self {
        Queues {
            store,
            clock,
            region: region.into(),
            account: account.into(),
            waiters: Mutex::new(HashMap::new()),
            long_polls: Semaphore::new(LONG_POLLS_MAX),
            purges: Mutex::new(HashMap::new()),
            group: GroupCommit::new(GROUP_COMMIT_WRITES_MAX),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// The account the queues belong to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The region in ARNs.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The ARN of queue `name`.
    pub fn arn(&self, name: &str) -> String {
        sqs::queue_arn(&self.region, &self.account, name)
    }

    /// The queue name an ARN of this account names, if any.
    pub fn name_from_arn(&self, arn: &str) -> Option<String> {
        let (region, account, name) = sqs::parse_queue_arn(arn)?;
        (region == self.region && account == self.account).then_some(name)
    }

    fn to_queue(&self, row: QueueRow) -> Result<Queue, SqsError> {
        let attributes: QueueAttributes = serde_json::from_str(&row.attributes_json)
            .map_err(|e| internal(format!("queue attributes: {e}")))?;
        let tags = serde_json::from_str(&row.tags_json).unwrap_or_default();
        Ok(Queue {
            arn: self.arn(&row.name),
            name: row.name,
            attributes,
            tags,
            created_ms: row.created_ms,
            modified_ms: row.modified_ms,
        })
    }

    fn to_row(queue: &Queue) -> Result<QueueRow, SqsError> {
        let attributes_json =
            serde_json::to_string(&queue.attributes).map_err(|e| internal(e.to_string()))?;
        let tags_json = serde_json::to_string(&queue.tags).map_err(|e| internal(e.to_string()))?;
        Ok(QueueRow {
            name: queue.name.clone(),
            fifo: queue.attributes.fifo_queue,
            attributes_json,
            tags_json,
            created_ms: queue.created_ms,
            modified_ms: queue.modified_ms,
        })
    }

    /// One queue, or `QueueDoesNotExist`.
    pub async fn get(&self, name: &str) -> Result<Queue, SqsError> {
        match self.store.get_queue(name).await.map_err(internal)? {
            Some(row) => self.to_queue(row),
            None => Err(no_such_queue()),
        }
    }

    /// A redrive policy must name an existing queue of the same kind in this account.
    async fn check_redrive(&self, attributes: &QueueAttributes) -> Result<(), SqsError> {
        let Some(policy) = &attributes.redrive_policy else {
            return Ok(());
        };
        let bad = |reason: &str| {
            SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                format!("Value for parameter RedrivePolicy is invalid. Reason: {reason}"),
            )
        };
        let Some(name) = self.name_from_arn(&policy.dead_letter_target_arn) else {
            return Err(bad("Dead letter target does not exist."));
        };
        let dlq = match self.get(&name).await {
            Ok(q) => q,
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {
                return Err(bad("Dead letter target does not exist."));
            }
            Err(e) => return Err(e),
        };
        if dlq.attributes.fifo_queue != attributes.fifo_queue {
            return Err(bad(
                "Dead-letter queue must be same type of queue as the source.",
            ));
        }
        Ok(())
    }

    /// CreateQueue: creates, or returns the existing queue when the given attributes match it.
    pub async fn create(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Queue, SqsError> {
        sqs::validate_queue_name(name, name.ends_with(".fifo"))?;
        let typed = QueueAttributes::for_create(name, attributes)?;
        self.check_redrive(&typed).await?;
        let now = self.clock.now_ms();
        let queue = Queue {
            name: name.to_string(),
            arn: self.arn(name),
            attributes: typed,
            tags: tags.clone(),
            created_ms: now,
            modified_ms: now,
        };
        if self
            .store
            .create_queue(&Self::to_row(&queue)?)
            .await
            .map_err(internal)?
        {
            tracing::info!(queue = name, "queue created");
            return Ok(queue);
        }
        // Exists: SQS returns it if every attribute given has the existing value.
        let existing = self.get(name).await?;
        let wanted = queue.attributes.to_wire();
        let have = existing.attributes.to_wire();
        for key in attributes.keys() {
            if wanted.get(key) != have.get(key) {
                return Err(SqsError::new(
                    SqsErrorCode::QueueNameExists,
                    format!(
                        "A queue already exists with the same name and a different value for attribute {key}"
                    ),
                ));
            }
        }
        Ok(existing)
    }

    /// ListQueues page: queues whose names start with `prefix`, after `after`.
    pub async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Queue>, SqsError> {
        let rows = self
            .store
            .list_queues(prefix, after, limit)
            .await
            .map_err(internal)?;
        rows.into_iter().map(|r| self.to_queue(r)).collect()
    }

    /// GetQueueAttributes: the settable attributes plus the computed ones.
    pub async fn attributes(&self, name: &str) -> Result<BTreeMap<String, String>, SqsError> {
        let queue = self.get(name).await?;
        let now = self.clock.now_ms();
        let counts = self.store.queue_counts(name, now).await.map_err(internal)?;
        let mut out = queue.attributes.to_wire();
        out.insert("QueueArn".into(), queue.arn.clone());
        out.insert(
            "ApproximateNumberOfMessages".into(),
            counts.visible.to_string(),
        );
        out.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            counts.in_flight.to_string(),
        );
        out.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            counts.delayed.to_string(),
        );
        out.insert(
            "CreatedTimestamp".into(),
            (queue.created_ms / 1000).to_string(),
        );
        out.insert(
            "LastModifiedTimestamp".into(),
            (queue.modified_ms / 1000).to_string(),
        );
        Ok(out)
    }

    /// Message counts of queue `name` now, with when its oldest message was sent (for
    /// metrics; all zero for a queue that does not exist).
    pub async fn counts(&self, name: &str) -> Result<nimbus_store::queues::QueueCounts, SqsError> {
        let now = self.clock.now_ms();
        self.store.queue_counts(name, now).await.map_err(internal)
    }

    /// The engine's clock (message timestamps are on it), ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// SetQueueAttributes: all or nothing.
    pub async fn set_attributes(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let mut queue = self.get(name).await?;
        let mut typed = queue.attributes.clone();
        typed.apply(attributes)?;
        self.check_redrive(&typed).await?;
        queue.attributes = typed;
        queue.modified_ms = self.clock.now_ms();
        if !self
            .store
            .update_queue(&Self::to_row(&queue)?)
            .await
            .map_err(internal)?
        {
            return Err(no_such_queue());
        }
        Ok(())
    }

    /// TagQueue / UntagQueue: adds `add`, then removes `remove`.
    pub async fn retag(
        &self,
        name: &str,
        add: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), SqsError> {
        let mut queue = self.get(name).await?;
        for (k, v) in add {
            queue.tags.insert(k.clone(), v.clone());
        }
        for k in remove {
            queue.tags.remove(k);
        }
        if queue.tags.len() > QUEUE_TAGS_MAX {
            return Err(SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                format!(
                    "Too many tags: a queue can have at most {}.",
                    QUEUE_TAGS_MAX
                ),
            ));
        }
        if !self
            .store
            .update_queue(&Self::to_row(&queue)?)
            .await
            .map_err(internal)?
        {
            return Err(no_such_queue());
        }
        Ok(())
    }

    /// DeleteQueue (messages go with it).
    pub async fn delete_queue(&self, name: &str) -> Result<(), SqsError> {
        if !self.store.delete_queue(name).await.map_err(internal)? {
            return Err(no_such_queue());
        }
        tracing::info!(queue = name, "queue deleted");
        self.wake(name);
        Ok(())
    }

    /// PurgeQueue: removes every message.
    pub async fn purge(&self, name: &str) -> Result<u64, SqsError> {
        self.get(name).await?;
        let now = self.clock.now_ms();
        {
            let mut purges = self.purges.lock().unwrap_or_else(|p| p.into_inner());
            purges.retain(|_, at| now - *at < PURGE_INTERVAL_MS);
            if purges.contains_key(name) {
                return Err(SqsError::new(
                    SqsErrorCode::PurgeQueueInProgress,
                    format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
                ));
            }
            purges.insert(name.to_string(), now);
        }
        let n = self.store.purge_queue(name).await.map_err(internal)?;
        tracing::info!(queue = name, messages = n, "queue purged");
        Ok(n)
    }

    /// Validates one entry against the queue and prepares its row.
    fn prepare(
        &self,
        queue: &Queue,
        entry: &SendEntry,
        now: i64,
        sink_key: Option<&str>,
    ) -> Result<NewMessage, SqsError> {
        let a = &queue.attributes;
        sqs::validate_body(&entry.body)?;
        let attributes_size = sqs::validate_message_attributes(&entry.message_attributes)?;
        let size = entry.body.len() + attributes_size;
        if size > a.maximum_message_size as usize {
            return Err(SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                format!(
                    "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                    a.maximum_message_size
                ),
            ));
        }
        if sink_key.is_none() {
            sqs::validate_send_fields(
                a.fifo_queue,
                entry.delay_seconds,
                entry.group_id.as_deref(),
                entry.dedup_id.as_deref(),
                a.content_based_deduplication,
            )?;
        }
        let delay_s = match entry.delay_seconds {
            Some(d) => u32::try_from(d).unwrap_or(0),
            None => a.delay_seconds,
        };
        let (dedup_id, dedup_key, dedup_expires_ms) = if let Some(key) = sink_key {
            (
                None,
                Some(format!("nimbus:{key}")),
                now + SINK_DEDUP_WINDOW_MS,
            )
        } else if a.fifo_queue {
            let id = entry
                .dedup_id
                .clone()
                .unwrap_or_else(|| sqs::content_dedup_id(&entry.body));
            let key = if a.deduplication_scope.as_deref() == Some("messageGroup") {
                format!("g:{}:{id}", entry.group_id.as_deref().unwrap_or(""))
            } else {
                format!("q:{id}")
            };
            (Some(id), Some(key), now + DEDUP_WINDOW_MS as i64)
        } else {
            (None, None, 0)
        };
        let attributes_json = if entry.message_attributes.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&entry.message_attributes)
                    .map_err(|e| internal(e.to_string()))?,
            )
        };
        let system_json = entry
            .trace_header
            .as_ref()
            .map(|t| json!({ "AWSTraceHeader": t }).to_string());
        Ok(NewMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            md5_body: sqs::md5_hex(entry.body.as_bytes()),
            md5_attributes: sqs::md5_of_message_attributes(&entry.message_attributes),
            body: entry.body.clone(),
            attributes_json,
            system_json,
            group_id: entry.group_id.clone(),
            dedup_id,
            sent_ms: now,
            expires_ms: now + ms(a.message_retention_period),
            visible_ms: now + ms(delay_s),
            dedup_key,
            dedup_expires_ms,
        })
    }

    /// SendMessage(Batch): each entry is validated on its own; the valid ones are stored in
    /// one transaction (all of them or, on a store failure, none).
    pub async fn send(
        &self,
        name: &str,
        entries: &[SendEntry],
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        self.send_keyed(name, entries, None).await
    }

    /// Sends one message unless a message with the same `key` was sent to this queue within
    /// [`SINK_DEDUP_WINDOW_MS`]: the idempotent send the async outbox needs.
    pub async fn send_once(
        &self,
        name: &str,
        key: &str,
        entry: SendEntry,
    ) -> Result<Sent, SqsError> {
        let mut results = self
            .send_keyed(name, std::slice::from_ref(&entry), Some(key))
            .await?;
        results.pop().unwrap_or_else(|| Err(no_such_queue()))
    }

    async fn send_keyed(
        &self,
        name: &str,
        entries: &[SendEntry],
        sink_key: Option<&str>,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let queue = self.get(name).await?;
        let now = self.clock.now_ms();
        let mut results: Vec<Result<Sent, SqsError>> = Vec::with_capacity(entries.len());
        let mut rows = Vec::with_capacity(entries.len());
        for entry in entries {
            match self.prepare(&queue, entry, now, sink_key) {
                Ok(row) => {
                    results.push(Ok(Sent {
                        message_id: row.message_id.clone(),
                        md5_body: row.md5_body.clone(),
                        md5_attributes: row.md5_attributes.clone(),
                        sequence_number: None,
                        duplicate: false,
                    }));
                    rows.push(row);
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if rows.is_empty() {
            return Ok(results);
        }
        let write = QueueWrite::Send {
            queue: name.to_string(),
            messages: rows,
        };
        let outcomes = match self.commit(vec![write]).await?.pop() {
            Some(WriteOutcome::Sent(Some(sent))) => sent,
            Some(WriteOutcome::Sent(None)) => return Err(no_such_queue()),
            _ => return Err(internal("send: no outcome")),
        };
        let fifo = queue.attributes.fifo_queue;
        let mut outcomes = outcomes.into_iter();
        for sent in results.iter_mut().flatten() {
            if let Some(o) = outcomes.next() {
                sent.message_id = o.message_id;
                sent.duplicate = o.duplicate;
                if fifo {
                    sent.sequence_number = Some(format!("{:020}", o.seq));
                }
            }
        }
        self.wake(name);
        Ok(results)
    }

    fn notify_for(&self, name: &str) -> Arc<Notify> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(waiters.entry(name.to_string()).or_default())
    }

    fn wake(&self, name: &str) {
        let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = waiters.get(name) {
            n.notify_waiters();
        }
    }

    fn release_notify(&self, name: &str, notify: Arc<Notify>) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        // Ours plus the map's: nobody else waits, so the entry can go.
        if Arc::strong_count(&notify) <= 2 {
            waiters.remove(name);
        }
    }

    /// ReceiveMessage with a FIFO `ReceiveRequestAttemptId`: a retry of the same attempt
    /// within [`RECEIVE_ATTEMPT_WINDOW_MS`] returns the same messages and receipt handles.
    /// Standard queues ignore the id (as SQS does).
    pub async fn receive_attempt(
        &self,
        name: &str,
        options: ReceiveOptions,
        attempt_id: Option<&str>,
    ) -> Result<Vec<Received>, SqsError> {
        let queue = self.get(name).await?;
        let Some(attempt) = attempt_id.filter(|_| queue.attributes.fifo_queue) else {
            return self.receive_from(&queue, options).await;
        };
        let key = (name.to_string(), attempt.to_string());
        let now = self.clock.now_ms();
        {
            let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, got)) = attempts.get(&key)
                && now - at < RECEIVE_ATTEMPT_WINDOW_MS
            {
                return Ok(got.clone());
            }
        }
        let got = self.receive_from(&queue, options).await?;
        if !got.is_empty() {
            let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            attempts.retain(|_, (at, _)| now - *at < RECEIVE_ATTEMPT_WINDOW_MS);
            if attempts.len() >= RECEIVE_ATTEMPTS_MAX
                && let Some(oldest) = attempts
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                attempts.remove(&oldest);
            }
            attempts.insert(key, (now, got.clone()));
        }
        Ok(got)
    }

    /// ReceiveMessage: leases up to `options.max` messages, long-polling up to the wait time.
    pub async fn receive(
        &self,
        name: &str,
        options: ReceiveOptions,
    ) -> Result<Vec<Received>, SqsError> {
        let queue = self.get(name).await?;
        self.receive_from(&queue, options).await
    }

    async fn receive_from(
        &self,
        queue: &Queue,
        options: ReceiveOptions,
    ) -> Result<Vec<Received>, SqsError> {
        let name = queue.name.as_str();
        let wait_s = options
            .wait_s
            .unwrap_or(queue.attributes.receive_message_wait_time_seconds);
        let first = self.receive_now(queue, options).await?;
        if !first.is_empty() || wait_s == 0 {
            return Ok(first);
        }
        // Over the cap: answer now, empty, rather than hold more memory.
        let Ok(_permit) = self.long_polls.try_acquire() else {
            return Ok(first);
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(u64::from(wait_s));
        let notify = self.notify_for(name);
        let result = loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-check after registering, so a send between the check and the wait wakes us.
            let got = match self.receive_now(queue, options).await {
                Ok(got) => got,
                Err(e) => break Err(e),
            };
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                break Ok(got);
            }
            let mut until = deadline.min(now + LONG_POLL_RECHECK);
            let wall = self.clock.now_ms();
            if let Ok(Some(next)) = self.store.next_visible_ms(name, wall).await {
                let wait =
                    std::time::Duration::from_millis(u64::try_from(next - wall).unwrap_or(0));
                until = until.min(now + wait);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        };
        self.release_notify(name, notify);
        result
    }

    async fn receive_now(
        &self,
        queue: &Queue,
        options: ReceiveOptions,
    ) -> Result<Vec<Received>, SqsError> {
        let now = self.clock.now_ms();
        if !self
            .store
            .has_visible(&queue.name, now)
            .await
            .map_err(internal)?
        {
            return Ok(Vec::new());
        }
        let a = &queue.attributes;
        let visibility = options.visibility_s.unwrap_or(a.visibility_timeout);
        let redrive = match &a.redrive_policy {
            Some(p) => match self.name_from_arn(&p.dead_letter_target_arn) {
                Some(dlq) => match self.store.get_queue(&dlq).await.map_err(internal)? {
                    Some(row) => {
                        let dlq_queue = self.to_queue(row)?;
                        Some(Redrive {
                            max_receive_count: i64::from(p.max_receive_count),
                            dlq,
                            dlq_retention_ms: ms(dlq_queue.attributes.message_retention_period),
                            source_arn: queue.arn.clone(),
                        })
                    }
                    None => None,
                },
                None => None,
            },
            None => None,
        };
        let token = uuid::Uuid::new_v4().simple().to_string();
        let spec = ReceiveSpec {
            queue: queue.name.clone(),
            now_ms: now,
            limit: options.max,
            visible_until_ms: now + ms(visibility),
            fifo: a.fifo_queue,
            receipt: token.clone(),
            redrive: redrive.clone(),
        };
        let outcome = self.store.receive_messages(&spec).await.map_err(internal)?;
        if outcome.moved > 0 {
            tracing::info!(
                queue = %queue.name,
                moved = outcome.moved,
                "messages moved to the dead-letter queue"
            );
            if let Some(r) = &redrive {
                self.wake(&r.dlq);
            }
        }
        Ok(outcome
            .messages
            .into_iter()
            .map(|m| self.received(queue, m, &token))
            .collect())
    }

    fn received(&self, queue: &Queue, m: MessageRow, token: &str) -> Received {
        let mut attributes = BTreeMap::new();
        attributes.insert("SenderId".to_string(), self.account.clone());
        attributes.insert("SentTimestamp".to_string(), m.sent_ms.to_string());
        attributes.insert(
            "ApproximateReceiveCount".to_string(),
            m.receive_count.to_string(),
        );
        attributes.insert(
            "ApproximateFirstReceiveTimestamp".to_string(),
            m.first_receive_ms.unwrap_or(m.sent_ms).to_string(),
        );
        if queue.attributes.fifo_queue {
            attributes.insert("SequenceNumber".to_string(), format!("{:020}", m.seq));
            if let Some(g) = &m.group_id {
                attributes.insert("MessageGroupId".to_string(), g.clone());
            }
            if let Some(d) = &m.dedup_id {
                attributes.insert("MessageDeduplicationId".to_string(), d.clone());
            }
        }
        if let Some(system) = &m.system_json
            && let Ok(Some(map)) = serde_json::from_str::<Option<BTreeMap<String, String>>>(system)
        {
            attributes.extend(map);
        }
        let message_attributes = m
            .attributes_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        Received {
            receipt_handle: Receipt {
                queue: queue.name.clone(),
                seq: m.seq,
                token: token.to_string(),
            }
            .encode(),
            message_id: m.message_id,
            body: m.body,
            md5_body: m.md5_body,
            md5_attributes: m.md5_attributes,
            message_attributes,
            attributes,
        }
    }

    fn parse_receipt(name: &str, handle: &str) -> Result<Receipt, SqsError> {
        match Receipt::decode(handle) {
            Some(r) if r.queue == name => Ok(r),
            _ => Err(invalid_receipt(handle)),
        }
    }

    /// DeleteMessage(Batch). A stale handle (the message was received again since) succeeds
    /// without deleting, as SQS documents; a deleted message's handle succeeds too.
    pub async fn delete(
        &self,
        name: &str,
        handles: &[String],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        self.get(name).await?;
        let mut out = Vec::with_capacity(handles.len());
        let mut writes = Vec::with_capacity(handles.len());
        for handle in handles {
            match Self::parse_receipt(name, handle) {
                Ok(r) => {
                    writes.push(QueueWrite::Delete {
                        queue: name.to_string(),
                        seq: r.seq,
                        receipt: r.token,
                    });
                    out.push(Ok(()));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        if !writes.is_empty() {
            // Stale and already-deleted handles succeed too (see above): the outcomes are
            // only checked for having been committed.
            self.commit(writes).await?;
        }
        Ok(out)
    }

    /// Commits sends and deletes through the group commit.
    async fn commit(&self, writes: Vec<QueueWrite>) -> Result<Vec<WriteOutcome>, SqsError> {
        let store = self.store.as_ref();
        let clock = self.clock.as_ref();
        self.group
            .submit(writes, |all| async move {
                store
                    .apply_writes(clock.now_ms(), &all)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(internal)
    }

    /// ChangeMessageVisibility(Batch): only for a message in flight under this handle.
    pub async fn change_visibility(
        &self,
        name: &str,
        changes: &[(String, i64)],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        self.get(name).await?;
        let now = self.clock.now_ms();
        let mut out = Vec::with_capacity(changes.len());
        for (handle, seconds) in changes {
            let r = match Self::parse_receipt(name, handle) {
                Ok(r) => r,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let Ok(seconds) = u32::try_from(*seconds) else {
                out.push(Err(bad_visibility(*seconds)));
                continue;
            };
            if seconds > sqs::MAX_VISIBILITY_SECONDS {
                out.push(Err(bad_visibility(i64::from(seconds))));
                continue;
            }
            let outcome = self
                .store
                .change_visibility(name, r.seq, &r.token, now, now + ms(seconds))
                .await
                .map_err(internal)?;
            out.push(match outcome {
                LeaseOutcome::Done => {
                    if seconds == 0 {
                        self.wake(name);
                    }
                    Ok(())
                }
                LeaseOutcome::Gone => Err(invalid_receipt(handle)),
                LeaseOutcome::Stale | LeaseOutcome::NotInFlight => Err(SqsError::new(
                    SqsErrorCode::MessageNotInflight,
                    "The message referred to is not in flight.",
                )),
            });
        }
        Ok(out)
    }

    /// Removes expired messages and deduplication keys once.
    pub async fn purge_expired(&self) -> Result<u64, SqsError> {
        self.store
            .purge_expired_messages(self.clock.now_ms(), JANITOR_BATCH)
            .await
            .map_err(internal)
    }

    /// Runs [`Queues::purge_expired`] every [`JANITOR_INTERVAL`] until the task is dropped.
    pub fn spawn_janitor(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let queues = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(JANITOR_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match queues.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "expired queue rows removed"),
                    Err(e) => tracing::warn!(error = %e, "queue janitor failed"),
                }
            }
        })
    }
}

fn bad_visibility(seconds: i64) -> SqsError {
    SqsError::new(
        SqsErrorCode::InvalidParameterValue,
        format!(
            "Value {seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and {}.",
            sqs::MAX_VISIBILITY_SECONDS
        ),
    )
}
