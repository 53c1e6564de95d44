//! Event source mappings in the store: the [`MappingStore`] trait and its row.

use async_trait::async_trait;

use crate::StoreError;

/// Most mappings one list call returns; larger limits are clamped.
pub const MAPPING_LIST_LIMIT_MAX: u32 = 10_000;

/// One event source mapping.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MappingRow {
    /// Mapping id (a UUID).
    pub uuid: String,
    /// Function name (unqualified; the qualifier is in the configuration).
    pub function_name: String,
    /// Source ARN.
    pub event_source_arn: String,
    /// The engine's serialised settings.
    pub config_json: String,
    /// Last change, ms since the Unix epoch.
    pub modified_ms: i64,
}

/// Persistence of event source mappings.
#[async_trait]
pub trait MappingStore: Send + Sync {
    /// Inserts or replaces a mapping.
    async fn put_mapping(&self, row: &MappingRow) -> Result<(), StoreError>;
    /// One mapping.
    async fn get_mapping(&self, uuid: &str) -> Result<Option<MappingRow>, StoreError>;
    /// Mappings ordered by id, after `after`.
    async fn list_mappings(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MappingRow>, StoreError>;
    /// Deletes a mapping; `false` if it did not exist.
    async fn delete_mapping(&self, uuid: &str) -> Result<bool, StoreError>;
}
