//! Stacks in the store: the [`StackStore`] trait and its row.

use async_trait::async_trait;

use crate::StoreError;

/// One stack. The specs are the engine's JSON, opaque here.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StackRow {
    /// Stack name.
    pub name: String,
    /// The spec the stack last converged to.
    pub spec_json: Option<String>,
    /// The spec being applied, if a deploy is in progress (or was cut short).
    pub pending_json: Option<String>,
    /// CloudFormation-like status word.
    pub status: String,
    /// Why the last operation failed, if it did.
    pub reason: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last change, ms since the Unix epoch.
    pub updated_ms: i64,
}

/// Persistence of stacks.
#[async_trait]
pub trait StackStore: Send + Sync {
    /// Inserts or replaces a stack (created_ms of an existing row is kept).
    async fn put_stack(&self, row: &StackRow) -> Result<(), StoreError>;
    /// One stack.
    async fn get_stack(&self, name: &str) -> Result<Option<StackRow>, StoreError>;
    /// Every stack, by name (stacks are few: one per application).
    async fn list_stacks(&self) -> Result<Vec<StackRow>, StoreError>;
    /// Deletes a stack; `false` if it did not exist.
    async fn delete_stack(&self, name: &str) -> Result<bool, StoreError>;
}
