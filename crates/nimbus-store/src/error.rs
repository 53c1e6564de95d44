//! The one error type of the store. Callers branch on the variant (conflict, not found,
//! retryable), so each variant is a distinct case; its message says what failed and where.

/// An error returned by a [`crate::Store`] operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key already exists (e.g. `insert_function` of an existing name).
    #[error("{what} already exists")]
    Conflict { what: String },

    /// The row the operation needs does not exist.
    #[error("{what} not found")]
    NotFound { what: String },

    /// A compare-and-swap update found another revision; `current` is the stored one.
    #[error("{what}: revision mismatch, the current revision is {current}")]
    RevisionMismatch { what: String, current: String },

    /// The caller broke a documented limit of the call (e.g. too many streams in a query).
    #[error("invalid argument: {what}")]
    Invalid { what: String },

    /// The database lock was not obtained within the busy timeout (another writer or a
    /// checkpoint held it), or no connection became free in time. Retryable.
    #[error("{op} on {file}: database busy, gave up waiting for the lock")]
    Busy { op: &'static str, file: String },

    /// The disk (or a quota) is full. Retryable once space is freed; reads still work.
    #[error("{op} on {file}: disk full")]
    Full { op: &'static str, file: String },

    /// The database file is damaged or is not a database. Needs an operator.
    #[error("{file} is corrupt: {detail}")]
    Corrupt { file: String, detail: String },

    /// Reading or writing the file failed (I/O error, permissions, missing directory).
    #[error("{op} on {file}: I/O error: {detail}")]
    Io {
        op: &'static str,
        file: String,
        detail: String,
    },

    /// Applying the schema migrations failed (e.g. a database written by a newer Nimbus).
    #[error("migrating {file}: {detail}")]
    Migrate { file: String, detail: String },

    /// The store was closed with `close()`.
    #[error("{op} on {file}: the store is closed")]
    Closed { op: &'static str, file: String },

    /// Any other database error; these indicate a bug (bad SQL, type mismatch).
    #[error("{op} on {file}: database error: {detail}")]
    Database {
        op: &'static str,
        file: String,
        detail: String,
    },
}

impl StoreError {
    /// True when the same call may succeed later without any change by the caller
    /// (lock contention, disk full); the server maps these to 503 with Retry-After.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Full { .. })
    }
}
