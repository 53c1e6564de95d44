-- The SQS-compatible queue service: queues, their messages, and deduplication keys.

CREATE TABLE queues (
    name            TEXT    NOT NULL PRIMARY KEY,   -- unique per account, case-sensitive
    fifo            INTEGER NOT NULL,               -- 1 for .fifo queues
    attributes_json TEXT    NOT NULL,               -- the engine's typed attributes, opaque here
    tags_json       TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    modified_ms     INTEGER NOT NULL
);

-- One message. `seq` orders a queue (and is a FIFO message's SequenceNumber).
-- A message is visible when visible_ms <= now; in flight when received and not yet visible.
CREATE TABLE queue_messages (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue            TEXT    NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    message_id       TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    attributes_json  TEXT,                          -- message attributes (wire JSON)
    md5_body         TEXT    NOT NULL,
    md5_attributes   TEXT,
    system_json      TEXT,                          -- AWSTraceHeader, DeadLetterQueueSourceArn
    group_id         TEXT,
    dedup_id         TEXT,
    sent_ms          INTEGER NOT NULL,              -- original enqueue (kept across redrive)
    expires_ms       INTEGER NOT NULL,              -- sent_ms + the holding queue's retention
    visible_ms       INTEGER NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt          TEXT                           -- token of the latest receive (the lease)
);

CREATE INDEX queue_messages_order ON queue_messages (queue, seq);
CREATE INDEX queue_messages_visible ON queue_messages (queue, visible_ms);
CREATE INDEX queue_messages_expiry ON queue_messages (expires_ms);

-- Deduplication keys: FIFO MessageDeduplicationId (5 minutes) and idempotent internal sends
-- (async destinations). A key seen again before expires_ms returns the first message id.
CREATE TABLE queue_dedup (
    queue      TEXT    NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    dedup_key  TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_key)
);
CREATE INDEX queue_dedup_expiry ON queue_dedup (expires_ms);
