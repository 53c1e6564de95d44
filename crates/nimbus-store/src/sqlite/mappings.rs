//! Event source mappings in `nimbus.db`.

use super::SqliteStore;
use crate::StoreError;
use crate::mappings::{MAPPING_LIST_LIMIT_MAX, MappingRow, MappingStore};
use async_trait::async_trait;

#[async_trait]
impl MappingStore for SqliteStore {
    async fn put_mapping(&self, row: &MappingRow) -> Result<(), StoreError> {
        const OP: &str = "put_mapping";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        sqlx::query(
            "INSERT INTO event_source_mappings (uuid, function_name, event_source_arn, \
             config_json, modified_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (uuid) DO UPDATE \
             SET function_name = excluded.function_name, \
             event_source_arn = excluded.event_source_arn, config_json = excluded.config_json, \
             modified_ms = excluded.modified_ms",
        )
        .bind(&row.uuid)
        .bind(&row.function_name)
        .bind(&row.event_source_arn)
        .bind(&row.config_json)
        .bind(row.modified_ms)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))
    }

    async fn get_mapping(&self, uuid: &str) -> Result<Option<MappingRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, MappingRow>(
            "SELECT uuid, function_name, event_source_arn, config_json, modified_ms \
             FROM event_source_mappings WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_mapping"))
    }

    async fn list_mappings(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MappingRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, MappingRow>(
            "SELECT uuid, function_name, event_source_arn, config_json, modified_ms \
             FROM event_source_mappings WHERE uuid > $1 ORDER BY uuid LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit.min(MAPPING_LIST_LIMIT_MAX)))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_mappings"))
    }

    async fn delete_mapping(&self, uuid: &str) -> Result<bool, StoreError> {
        const OP: &str = "delete_mapping";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let done = sqlx::query("DELETE FROM event_source_mappings WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await
            .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))?;
        Ok(done.rows_affected() == 1)
    }
}
