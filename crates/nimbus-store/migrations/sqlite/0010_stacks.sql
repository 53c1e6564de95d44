-- Stacks deployed from templates: the resolved spec the stack last converged to, and the
-- spec being applied (kept until it converges, so a crash mid-deploy still knows every
-- resource either spec owns and the next deploy or delete cleans up).
CREATE TABLE stacks (
    name         TEXT    NOT NULL PRIMARY KEY,
    spec_json    TEXT,             -- NULL until a first deploy converged
    pending_json TEXT,             -- NULL when no deploy is in progress
    status       TEXT    NOT NULL, -- CREATE_IN_PROGRESS | UPDATE_IN_PROGRESS | *_COMPLETE | *_FAILED | DELETE_IN_PROGRESS
    reason       TEXT,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
);
