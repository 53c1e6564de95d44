-- Traffic-shifting deployments of an alias (CodeDeploy-style canary / linear / all-at-once).
-- Step times are absolute (ms since the Unix epoch), so a restart resumes a deployment from
-- its stored step. Hooks, alarms and the event timeline are the engine's JSON, opaque here.
CREATE TABLE deployments (
    id               TEXT    NOT NULL PRIMARY KEY,
    owner            TEXT    NOT NULL,   -- who started it (a stack name, `api`, …)
    function_name    TEXT    NOT NULL,
    alias            TEXT    NOT NULL,
    from_version     TEXT    NOT NULL,
    to_version       TEXT    NOT NULL,
    deployment_type  TEXT    NOT NULL,   -- Canary10Percent5Minutes | Linear10PercentEvery1Minute | AllAtOnce | …
    status           TEXT    NOT NULL,   -- Created | PreTraffic | Shifting | PostTraffic | RollingBack | Succeeded | RolledBack | Failed
    in_progress      INTEGER NOT NULL,   -- 1 until the status is terminal
    weight_percent   INTEGER NOT NULL,   -- traffic on to_version now
    step             INTEGER NOT NULL,
    started_ms       INTEGER NOT NULL,
    next_step_ms     INTEGER,            -- NULL when no step is scheduled
    hooks_json       TEXT    NOT NULL,
    alarms_json      TEXT    NOT NULL,
    reason           TEXT,
    events_json      TEXT    NOT NULL,   -- the timeline, bounded by the engine
    updated_ms       INTEGER NOT NULL
);
CREATE INDEX deployments_function ON deployments (function_name, started_ms);
CREATE INDEX deployments_in_progress ON deployments (in_progress);
