-- Function URLs: one per function ($LATEST) or alias, reached through the gateway listener
-- by its URL id. Deleting the function deletes its URLs (foreign key); deleting an alias
-- deletes the URL on it (trigger), as on Lambda.
CREATE TABLE function_urls (
    function_name TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    qualifier     TEXT    NOT NULL,   -- '$LATEST' or an alias name
    url_id        TEXT    NOT NULL UNIQUE,
    auth_type     TEXT    NOT NULL,   -- NONE | AWS_IAM
    invoke_mode   TEXT    NOT NULL,   -- BUFFERED | RESPONSE_STREAM
    cors_json     TEXT,               -- the Cors member as sent, or NULL
    created_ms    INTEGER NOT NULL,
    modified_ms   INTEGER NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);

CREATE TRIGGER function_urls_alias_deleted AFTER DELETE ON aliases
BEGIN
    DELETE FROM function_urls
    WHERE function_name = OLD.function_name AND qualifier = OLD.name;
END;
