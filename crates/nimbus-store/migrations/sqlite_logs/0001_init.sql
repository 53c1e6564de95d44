-- logs.db: function logs (synchronous=NORMAL; survives kill -9, may lose the last commits on power loss).

CREATE TABLE log_events (
    -- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted, so an
    -- ingestion cursor (`after id`) held by a follower can never skip or repeat a row.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    log_group    TEXT    NOT NULL,
    log_stream   TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    ingestion_ms INTEGER NOT NULL,
    message      TEXT    NOT NULL,
    -- Accounted size: UTF-8 bytes of message + per-event overhead, computed by the store.
    -- Stored per row so trimming never has to measure messages.
    bytes        INTEGER NOT NULL
);

-- Time-ordered reads of a group, and trimming of its oldest rows.
CREATE INDEX log_events_group_time ON log_events (log_group, timestamp_ms, id);
-- Reads restricted to some streams, and a stream's new first timestamp after a trim.
CREATE INDEX log_events_group_stream_time ON log_events (log_group, log_stream, timestamp_ms, id);

-- One row per stream, maintained in the same transaction as log_events, so listing streams
-- and measuring a group's size never scan events.
CREATE TABLE log_streams (
    log_group    TEXT    NOT NULL,
    log_stream   TEXT    NOT NULL,
    first_ms     INTEGER NOT NULL,
    last_ms      INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    PRIMARY KEY (log_group, log_stream)
);
