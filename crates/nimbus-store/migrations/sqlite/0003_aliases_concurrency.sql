-- Aliases, reserved concurrency and provisioned-concurrency configurations.

-- An alias points at one published version (or $LATEST) and optionally sends a share of its
-- traffic to one additional version (RoutingConfig.AdditionalVersionWeights).
CREATE TABLE aliases (
    function_name      TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    function_version   TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    -- The one additional version and its weight (0.0–1.0), or both NULL.
    additional_version TEXT,
    additional_weight  REAL,
    revision_id        TEXT    NOT NULL,
    created_ms         INTEGER NOT NULL,
    modified_ms        INTEGER NOT NULL,
    PRIMARY KEY (function_name, name)
);

-- PutFunctionConcurrency: at most this many concurrent executions, always available.
CREATE TABLE reserved_concurrency (
    function_name TEXT    NOT NULL PRIMARY KEY REFERENCES functions (name) ON DELETE CASCADE,
    reserved      INTEGER NOT NULL
);

-- PutProvisionedConcurrencyConfig, per version number or alias name.
CREATE TABLE provisioned_concurrency (
    function_name TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    qualifier     TEXT    NOT NULL,
    requested     INTEGER NOT NULL,
    modified_ms   INTEGER NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);
