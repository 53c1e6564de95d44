//! Function URL configurations in the store: the [`FunctionUrlStore`] trait and its row.

use async_trait::async_trait;

use crate::StoreError;

/// One function URL configuration.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FunctionUrlRow {
    /// Function name (unqualified).
    pub function_name: String,
    /// `$LATEST` or an alias name.
    pub qualifier: String,
    /// The URL's id (its host's first label); unique across all functions.
    pub url_id: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    /// The `Cors` member as JSON, opaque to the store.
    pub cors_json: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// Persistence of function URL configurations. Deleting a function deletes its URLs, and
/// deleting an alias the URL on it, in the same transaction.
#[async_trait]
pub trait FunctionUrlStore: Send + Sync {
    /// Inserts a configuration; `Conflict` if the function and qualifier (or the URL id)
    /// already have one.
    async fn insert_function_url(&self, row: &FunctionUrlRow) -> Result<(), StoreError>;
    /// Replaces a configuration (all but `created_ms` and `url_id`); `NotFound` if absent.
    async fn update_function_url(&self, row: &FunctionUrlRow) -> Result<(), StoreError>;
    /// One configuration.
    async fn get_function_url(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<FunctionUrlRow>, StoreError>;
    /// Deletes a configuration; `false` if there was none.
    async fn delete_function_url(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError>;
    /// Every configuration, by function and qualifier (loaded at start-up).
    async fn list_function_urls(&self) -> Result<Vec<FunctionUrlRow>, StoreError>;
}
