-- Schedules (`Events: {Type: Schedule | ScheduleV2}`) and the slots they have fired.
--
-- A slot is recorded (last_slot_ms) in the same transaction that inserts its async event, so
-- a slot is fired exactly once across restarts. No foreign key to functions: a stack puts its
-- schedules and its functions separately, and an event for a missing function fails like any
-- other asynchronous invocation of it.
CREATE TABLE schedules (
    id           TEXT    NOT NULL PRIMARY KEY,  -- stable while (owner, name) exists
    owner        TEXT    NOT NULL,              -- the stack that owns it
    name         TEXT    NOT NULL,              -- rule / schedule name (in the event's ARN)
    function     TEXT    NOT NULL,
    qualifier    TEXT,                          -- NULL: unqualified
    expression   TEXT    NOT NULL,              -- rate(…) | cron(…) | at(…)
    timezone     TEXT,                          -- IANA zone (ScheduleV2); NULL: UTC
    input        TEXT,                          -- Input sent verbatim instead of the envelope
    v2           INTEGER NOT NULL,              -- 1: EventBridge Scheduler, 0: EventBridge rule
    enabled      INTEGER NOT NULL,
    anchor_ms    INTEGER NOT NULL,              -- rate slots are anchor + k × period
    last_slot_ms INTEGER,                       -- the last slot fired (never decreases)
    next_slot_ms INTEGER,                       -- the next slot to fire; NULL: none (or disabled)
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,              -- last change of the configuration
    UNIQUE (owner, name)
);
