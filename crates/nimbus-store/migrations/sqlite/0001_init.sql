-- nimbus.db: control-plane state (synchronous=FULL; every acknowledged write survives power loss).
-- Conventions for later migrations (versions, aliases, concurrency, queues …):
--   * one file per change, never edit an applied file (sqlx stores a checksum of each);
--   * times are INTEGER milliseconds since the Unix epoch, column names end in _ms;
--   * names are compared byte-wise (SQLite's default BINARY collation; PostgreSQL must use
--     COLLATE "C") so "Fn" and "fn" are different functions and listing order is stable;
--   * child tables reference functions(name) with ON DELETE CASCADE/RESTRICT (foreign_keys=ON).

CREATE TABLE functions (
    name        TEXT    NOT NULL PRIMARY KEY,
    -- Opaque token the engine changes on every update; compare-and-swap key.
    revision_id TEXT    NOT NULL,
    -- Hex SHA-256 of the code blob kept on disk, content-addressed; see code_refs().
    code_sha256 TEXT    NOT NULL,
    -- The engine's own serialisation of the function configuration; the store never parses it.
    config_json TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

-- code_refs() lists distinct hashes; the index makes that a scan of the index only.
CREATE INDEX functions_code_sha256 ON functions (code_sha256);

-- Small key/value table for engine settings that must survive restarts.
CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
