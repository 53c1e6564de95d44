-- Asynchronous invocations (InvocationType Event) and their per-qualifier settings.

-- One accepted event, from the 202 to its terminal state. Rows are durable before the 202.
-- No foreign key to functions: an event outlives its function's deletion so that it still
-- ends in a recorded terminal state.
CREATE TABLE async_events (
    id              TEXT    NOT NULL PRIMARY KEY,   -- the request id (same for every attempt)
    function_name   TEXT    NOT NULL,
    qualifier       TEXT,                           -- as invoked: NULL, $LATEST, version, alias
    payload         BLOB    NOT NULL,
    received_ms     INTEGER NOT NULL,
    -- pending → running → (pending again | delivering) → succeeded | failed | expired
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,     -- function attempts that completed
    system_retries  INTEGER NOT NULL DEFAULT 0,     -- throttles and platform errors so far
    next_attempt_ms INTEGER NOT NULL,
    lease_until_ms  INTEGER,                        -- while running: absolute expiry
    condition       TEXT,                           -- Success | RetriesExhausted | EventAgeExceeded | …
    error_type      TEXT,
    error_message   TEXT,
    status_code     INTEGER,                        -- of the last attempt (200, 429, 500, 404)
    -- While delivering: JSON list of targets still to deliver to, and the invocation record.
    deliveries_json TEXT,
    record_json     TEXT,
    -- Terminal: where the outcome went (JSON), and delivery problems.
    delivered_json  TEXT,
    completed_ms    INTEGER
);

-- The dispatcher's queries: due pending events, expired leases, unfinished deliveries.
CREATE INDEX async_events_due ON async_events (state, next_attempt_ms);
-- The janitor drops old terminal rows by completion time.
CREATE INDEX async_events_completed ON async_events (completed_ms) WHERE completed_ms IS NOT NULL;

-- Put/UpdateFunctionEventInvokeConfig, per $LATEST, version or alias.
CREATE TABLE event_invoke_configs (
    function_name          TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    qualifier              TEXT    NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_s    INTEGER,
    on_success             TEXT,
    on_failure             TEXT,
    modified_ms            INTEGER NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);
