//! The queue service's state: the [`QueueStore`] trait and its rows.
//!
//! Each method is one transaction, so every queue operation is atomic: a receive leases its
//! messages (and moves poison messages to a dead-letter queue) all at once or not at all.
//! The store keeps no SQS rules beyond what the SQL needs: attribute validation, receipt
//! handles and MD5s are the engine's business.

use async_trait::async_trait;

use crate::StoreError;

/// Most messages one receive call returns (SQS allows 10; internal pollers may ask for more).
pub const RECEIVE_LIMIT_MAX: u32 = 10_000;

/// Most queues one list call returns; larger limits are clamped (SQS pages by up to 1,000).
pub const QUEUE_LIST_LIMIT_MAX: u32 = 1_000;

/// Most rows one janitor call removes, so a purge never holds the writer for long.
pub const PURGE_BATCH_MAX: u32 = 10_000;

/// One queue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    /// Queue name (unique, case-sensitive).
    pub name: String,
    /// A FIFO queue (name ends in `.fifo`).
    pub fifo: bool,
    /// The engine's serialised attributes; opaque to the store.
    pub attributes_json: String,
    /// Tags as a JSON object.
    pub tags_json: String,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last attribute change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// A message to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Message id (a UUID the engine chose).
    pub message_id: String,
    /// Body text.
    pub body: String,
    /// Message attributes as wire JSON.
    pub attributes_json: Option<String>,
    /// Hex MD5 of the body.
    pub md5_body: String,
    /// Hex MD5 of the message attributes.
    pub md5_attributes: Option<String>,
    /// System attributes as JSON (AWSTraceHeader).
    pub system_json: Option<String>,
    /// FIFO message group.
    pub group_id: Option<String>,
    /// FIFO deduplication id as sent (or derived from the body).
    pub dedup_id: Option<String>,
    /// Enqueue time, ms since the Unix epoch.
    pub sent_ms: i64,
    /// When retention ends.
    pub expires_ms: i64,
    /// When it first becomes visible (after any delay).
    pub visible_ms: i64,
    /// Deduplication key: a send whose key is already stored (and not expired) is not
    /// enqueued again; the first message's id is returned.
    pub dedup_key: Option<String>,
    /// When the deduplication key expires.
    pub dedup_expires_ms: i64,
}

/// What happened to one [`NewMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// The id of the stored message (the first one's on a duplicate).
    pub message_id: String,
    /// Its sequence number.
    pub seq: i64,
    /// The send was a duplicate: nothing was enqueued.
    pub duplicate: bool,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    /// Position in the store; orders the queue.
    pub seq: i64,
    /// Queue name.
    pub queue: String,
    /// Message id.
    pub message_id: String,
    /// Body.
    pub body: String,
    /// Message attributes as wire JSON.
    pub attributes_json: Option<String>,
    /// Hex MD5 of the body.
    pub md5_body: String,
    /// Hex MD5 of the message attributes.
    pub md5_attributes: Option<String>,
    /// System attributes as JSON.
    pub system_json: Option<String>,
    /// FIFO message group.
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    pub dedup_id: Option<String>,
    /// Original enqueue time.
    pub sent_ms: i64,
    /// When retention ends.
    pub expires_ms: i64,
    /// When it is (or was) visible.
    pub visible_ms: i64,
    /// Receives so far.
    pub receive_count: i64,
    /// First receive time.
    pub first_receive_ms: Option<i64>,
    /// Token of the latest receive.
    pub receipt: Option<String>,
}

/// Moving poison messages to a dead-letter queue during a receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// A message already received this many times is moved instead of received again.
    pub max_receive_count: i64,
    /// Dead-letter queue name. If it does not exist, messages stay where they are.
    pub dlq: String,
    /// The dead-letter queue's retention, ms (counted from the original enqueue).
    pub dlq_retention_ms: i64,
    /// The source queue's ARN, added to moved messages' system attributes
    /// (`DeadLetterQueueSourceArn`, beside any `AWSTraceHeader`).
    pub source_arn: String,
}

/// One receive call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveSpec {
    /// Queue name.
    pub queue: String,
    /// Now, ms since the Unix epoch.
    pub now_ms: i64,
    /// Most messages to return.
    pub limit: u32,
    /// Received messages stay invisible until this time.
    pub visible_until_ms: i64,
    /// FIFO: skip groups with a message in flight.
    pub fifo: bool,
    /// Token stored with each received message (unique per call).
    pub receipt: String,
    /// Redrive policy, if any.
    pub redrive: Option<Redrive>,
}

/// What a receive did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiveOutcome {
    /// Messages leased to the caller, in queue order, with their new receive counts.
    pub messages: Vec<MessageRow>,
    /// Messages moved to the dead-letter queue instead.
    pub moved: u64,
}

/// The outcome of a delete or visibility change addressed by a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// Done.
    Done,
    /// The message was received again since: the receipt is stale; nothing changed.
    Stale,
    /// The message is visible (not in flight); nothing changed (visibility changes only).
    NotInFlight,
    /// No such message (deleted, expired, purged).
    Gone,
}

/// One write of a group commit (see [`QueueStore::apply_writes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueWrite {
    /// Enqueue messages, honouring deduplication keys.
    Send {
        /// Queue name.
        queue: String,
        /// The messages.
        messages: Vec<NewMessage>,
    },
    /// Delete message `seq` if `receipt` is its latest receive.
    Delete {
        /// Queue name.
        queue: String,
        /// Message sequence number.
        seq: i64,
        /// Receive token.
        receipt: String,
    },
}

/// The outcome of one [`QueueWrite`], in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// For a send: `None` when the queue does not exist (nothing stored).
    Sent(Option<Vec<SendOutcome>>),
    /// For a delete.
    Deleted(LeaseOutcome),
}

/// Message counts of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Visible now.
    pub visible: i64,
    /// Received and not yet visible again.
    pub in_flight: i64,
    /// Never received, not yet visible (delay).
    pub delayed: i64,
    /// When the oldest live message (of any state) was sent; `None` when the queue is empty.
    pub oldest_sent_ms: Option<i64>,
}

/// Persistence of the queue service.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Inserts a queue; `false` if one with that name exists (nothing changed).
    async fn create_queue(&self, row: &QueueRow) -> Result<bool, StoreError>;
    /// One queue.
    async fn get_queue(&self, name: &str) -> Result<Option<QueueRow>, StoreError>;
    /// Queues whose name starts with `prefix` and sorts after `after`, by name.
    async fn list_queues(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QueueRow>, StoreError>;
    /// Replaces attributes and tags; `false` if the queue does not exist.
    async fn update_queue(&self, row: &QueueRow) -> Result<bool, StoreError>;
    /// Deletes a queue with its messages; `false` if it did not exist.
    async fn delete_queue(&self, name: &str) -> Result<bool, StoreError>;
    /// Deletes every message of a queue; the count removed.
    async fn purge_queue(&self, name: &str) -> Result<u64, StoreError>;
    /// Applies sends and deletes, possibly of many callers, in ONE transaction (one fsync):
    /// the group commit of the queue service. All or nothing; outcomes in order.
    async fn apply_writes(
        &self,
        now_ms: i64,
        writes: &[QueueWrite],
    ) -> Result<Vec<WriteOutcome>, StoreError>;

    /// Leases up to `spec.limit` visible messages (moving poison messages first).
    async fn receive_messages(&self, spec: &ReceiveSpec) -> Result<ReceiveOutcome, StoreError>;
    /// Sets when the in-flight message `seq` becomes visible, if `receipt` is its latest.
    async fn change_visibility(
        &self,
        queue: &str,
        seq: i64,
        receipt: &str,
        now_ms: i64,
        visible_ms: i64,
    ) -> Result<LeaseOutcome, StoreError>;
    /// Whether a message may be visible at `now_ms` (a cheap read-only check before a receive
    /// takes the write lock; FIFO group blocking is not considered).
    async fn has_visible(&self, queue: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Message counts at `now_ms`.
    async fn queue_counts(&self, queue: &str, now_ms: i64) -> Result<QueueCounts, StoreError>;
    /// Earliest future `visible_ms` of a queue's live messages (for long-poll wake-ups).
    async fn next_visible_ms(&self, queue: &str, now_ms: i64) -> Result<Option<i64>, StoreError>;
    /// Removes expired messages and deduplication keys (at most `limit` of each); the count.
    async fn purge_expired_messages(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError>;
}
