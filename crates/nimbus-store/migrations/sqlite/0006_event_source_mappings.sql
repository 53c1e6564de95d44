-- Event source mappings: a queue polled on behalf of a function.
-- No foreign key to functions: as on Lambda, a mapping outlives its function (its pollers
-- then fail to invoke and leave the messages in the queue).
CREATE TABLE event_source_mappings (
    uuid             TEXT    NOT NULL PRIMARY KEY,
    function_name    TEXT    NOT NULL,
    event_source_arn TEXT    NOT NULL,
    config_json      TEXT    NOT NULL,   -- the engine's settings, opaque here
    modified_ms      INTEGER NOT NULL
);
CREATE INDEX event_source_mappings_function ON event_source_mappings (function_name);
CREATE INDEX event_source_mappings_source ON event_source_mappings (event_source_arn);
