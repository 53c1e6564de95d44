//! Stacks in `nimbus.db`.

use super::SqliteStore;
use crate::StoreError;
use crate::stacks::{StackRow, StackStore};
use async_trait::async_trait;

#[async_trait]
impl StackStore for SqliteStore {
    async fn put_stack(&self, row: &StackRow) -> Result<(), StoreError> {
        const OP: &str = "put_stack";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        sqlx::query(
            "INSERT INTO stacks (name, spec_json, pending_json, status, reason, created_ms, \
             updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE \
             SET spec_json = excluded.spec_json, pending_json = excluded.pending_json, \
             status = excluded.status, reason = excluded.reason, \
             updated_ms = excluded.updated_ms",
        )
        .bind(&row.name)
        .bind(&row.spec_json)
        .bind(&row.pending_json)
        .bind(&row.status)
        .bind(&row.reason)
        .bind(row.created_ms)
        .bind(row.updated_ms)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))
    }

    async fn get_stack(&self, name: &str) -> Result<Option<StackRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, StackRow>(
            "SELECT name, spec_json, pending_json, status, reason, created_ms, updated_ms \
             FROM stacks WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_stack"))
    }

    async fn list_stacks(&self) -> Result<Vec<StackRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, StackRow>(
            "SELECT name, spec_json, pending_json, status, reason, created_ms, updated_ms \
             FROM stacks ORDER BY name",
        )
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_stacks"))
    }

    async fn delete_stack(&self, name: &str) -> Result<bool, StoreError> {
        const OP: &str = "delete_stack";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let n = sqlx::query("DELETE FROM stacks WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db.err(OP))?
            .rows_affected();
        tx.commit().await.map_err(db.err(OP))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, spec: &str, created: i64) -> StackRow {
        StackRow {
            name: name.into(),
            spec_json: Some(spec.into()),
            pending_json: None,
            status: "CREATE_COMPLETE".into(),
            reason: None,
            created_ms: created,
            updated_ms: created,
        }
    }

    #[tokio::test]
    async fn put_get_list_delete_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.put_stack(&row("b", "{}", 1)).await.unwrap();
        store.put_stack(&row("a", "{}", 2)).await.unwrap();
        // An update keeps the creation time.
        let mut changed = row("a", "{\"x\":1}", 9);
        changed.pending_json = Some("{\"y\":2}".into());
        store.put_stack(&changed).await.unwrap();
        store.close().await;

        let store = SqliteStore::open(dir.path()).await.unwrap();
        let a = store.get_stack("a").await.unwrap().unwrap();
        assert_eq!(a.created_ms, 2);
        assert_eq!(a.updated_ms, 9);
        assert_eq!(a.spec_json.as_deref(), Some("{\"x\":1}"));
        assert_eq!(a.pending_json.as_deref(), Some("{\"y\":2}"));
        let names: Vec<_> = store
            .list_stacks()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(store.delete_stack("a").await.unwrap());
        assert!(!store.delete_stack("a").await.unwrap());
        assert!(store.get_stack("a").await.unwrap().is_none());
    }
}
