-- Published versions: immutable snapshots of a function's code and configuration.
-- A version row is written in the same transaction as the functions row that publishes it.
CREATE TABLE function_versions (
    name        TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    -- 1, 2, 3 … per function; never reused (the engine keeps the highest number published).
    version     INTEGER NOT NULL,
    revision_id TEXT    NOT NULL,
    code_sha256 TEXT    NOT NULL,
    config_json TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE INDEX function_versions_code_sha256 ON function_versions (code_sha256);
