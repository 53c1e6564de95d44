-- Metering: one row per invocation attempt (what its REPORT line says, plus how it was
-- triggered), and the intervals provisioned concurrency was configured. Written in batches
-- by the engine's metering writer; rows older than the retention are deleted by it.
CREATE TABLE metering (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id          TEXT    NOT NULL,
    function_name       TEXT    NOT NULL,   -- no foreign key: a bill outlives its function
    version             TEXT    NOT NULL,   -- '$LATEST' or a number
    trigger             TEXT    NOT NULL,   -- sync | async | queue | gateway | deployment-hook
    cold                INTEGER NOT NULL,   -- 1: the attempt started a new environment
    provisioned         INTEGER NOT NULL,   -- 1: served by a provisioned-concurrency environment
    architecture        TEXT    NOT NULL,   -- x86_64 | arm64
    init_ms             REAL,               -- REPORT's Init Duration, when shown
    duration_ms         REAL    NOT NULL,   -- REPORT's Duration
    billed_ms           INTEGER NOT NULL,   -- REPORT's Billed Duration
    memory_mb           INTEGER NOT NULL,   -- REPORT's Memory Size
    max_memory_used_mb  INTEGER NOT NULL,   -- REPORT's Max Memory Used
    ephemeral_mb        INTEGER NOT NULL,   -- EphemeralStorage.Size
    outcome             TEXT    NOT NULL,   -- success | function_error | error | timeout
    error_type          TEXT,               -- REPORT's Error Type, when shown
    started_ms          INTEGER NOT NULL    -- ms since the Unix epoch
);
CREATE INDEX metering_started ON metering (started_ms);
CREATE INDEX metering_function ON metering (function_name, started_ms);

CREATE TABLE provisioned_metering (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    function_name   TEXT    NOT NULL,
    qualifier       TEXT    NOT NULL,   -- version number or alias name, as configured
    version         TEXT    NOT NULL,   -- the version it resolved to
    architecture    TEXT    NOT NULL,
    memory_mb       INTEGER NOT NULL,
    concurrency     INTEGER NOT NULL,   -- environments requested
    start_ms        INTEGER NOT NULL,
    end_ms          INTEGER NOT NULL    -- > start_ms
);
CREATE INDEX provisioned_metering_end ON provisioned_metering (end_ms);
CREATE INDEX provisioned_metering_function ON provisioned_metering (function_name, end_ms);
