//! Function URL configurations in `nimbus.db`.

use async_trait::async_trait;

use super::{SqliteStore, is_unique_violation};
use crate::StoreError;
use crate::function_urls::{FunctionUrlRow, FunctionUrlStore};

/// The table's columns in `FunctionUrlRow` order (a macro: sqlx takes only static SQL).
macro_rules! columns {
    () => {
        "function_name, qualifier, url_id, auth_type, invoke_mode, cors_json, created_ms, \
         modified_ms"
    };
}

#[async_trait]
impl FunctionUrlStore for SqliteStore {
    async fn insert_function_url(&self, row: &FunctionUrlRow) -> Result<(), StoreError> {
        const OP: &str = "insert_function_url";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let inserted = sqlx::query(concat!(
            "INSERT INTO function_urls (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&row.function_name)
        .bind(&row.qualifier)
        .bind(&row.url_id)
        .bind(&row.auth_type)
        .bind(&row.invoke_mode)
        .bind(&row.cors_json)
        .bind(row.created_ms)
        .bind(row.modified_ms)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: format!("function URL of {}:{}", row.function_name, row.qualifier),
                });
            }
            Err(e) => return Err(db.err(OP)(e)),
        }
        tx.commit().await.map_err(db.err(OP))
    }

    async fn update_function_url(&self, row: &FunctionUrlRow) -> Result<(), StoreError> {
        const OP: &str = "update_function_url";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let done = sqlx::query(
            "UPDATE function_urls SET auth_type = $3, invoke_mode = $4, cors_json = $5, \
             modified_ms = $6 WHERE function_name = $1 AND qualifier = $2",
        )
        .bind(&row.function_name)
        .bind(&row.qualifier)
        .bind(&row.auth_type)
        .bind(&row.invoke_mode)
        .bind(&row.cors_json)
        .bind(row.modified_ms)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("function URL of {}:{}", row.function_name, row.qualifier),
            });
        }
        tx.commit().await.map_err(db.err(OP))
    }

    async fn get_function_url(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<FunctionUrlRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, FunctionUrlRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM function_urls WHERE function_name = $1 AND qualifier = $2"
        ))
        .bind(function)
        .bind(qualifier)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_function_url"))
    }

    async fn delete_function_url(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError> {
        const OP: &str = "delete_function_url";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let done =
            sqlx::query("DELETE FROM function_urls WHERE function_name = $1 AND qualifier = $2")
                .bind(function)
                .bind(qualifier)
                .execute(&mut *tx)
                .await
                .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_function_urls(&self) -> Result<Vec<FunctionUrlRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, FunctionUrlRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM function_urls ORDER BY function_name, qualifier"
        ))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_function_urls"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AliasRow, FunctionRow, Store};

    fn function(name: &str) -> FunctionRow {
        FunctionRow {
            name: name.into(),
            revision_id: "r1".into(),
            code_sha256: "00".repeat(32),
            config_json: "{}".into(),
            created_ms: 1,
            modified_ms: 1,
        }
    }

    fn url(function: &str, qualifier: &str, id: &str) -> FunctionUrlRow {
        FunctionUrlRow {
            function_name: function.into(),
            qualifier: qualifier.into(),
            url_id: id.into(),
            auth_type: "NONE".into(),
            invoke_mode: "BUFFERED".into(),
            cors_json: None,
            created_ms: 10,
            modified_ms: 10,
        }
    }

    #[tokio::test]
    async fn crud_conflicts_and_cascades() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        store
            .insert_function(&function("f"), None)
            .await
            .expect("function");
        store
            .insert_function_url(&url("f", "$LATEST", "id1"))
            .await
            .expect("insert");
        // Same function and qualifier, or the same URL id: conflict.
        for dup in [url("f", "$LATEST", "id2"), url("f", "live", "id1")] {
            assert!(matches!(
                store.insert_function_url(&dup).await,
                Err(StoreError::Conflict { .. })
            ));
        }
        // A URL of a missing function is refused (foreign key).
        assert!(
            store
                .insert_function_url(&url("nope", "$LATEST", "id9"))
                .await
                .is_err()
        );

        let mut changed = url("f", "$LATEST", "ignored");
        changed.auth_type = "AWS_IAM".into();
        changed.cors_json = Some(r#"{"AllowOrigins":["*"]}"#.into());
        changed.modified_ms = 20;
        store.update_function_url(&changed).await.expect("update");
        let got = store
            .get_function_url("f", "$LATEST")
            .await
            .expect("get")
            .expect("row");
        assert_eq!(got.auth_type, "AWS_IAM");
        assert_eq!(got.url_id, "id1");
        assert_eq!(got.created_ms, 10);
        assert_eq!(got.modified_ms, 20);
        assert!(matches!(
            store.update_function_url(&url("f", "other", "x")).await,
            Err(StoreError::NotFound { .. })
        ));

        // Deleting an alias deletes its URL; deleting the function deletes the rest.
        store
            .insert_alias(&AliasRow {
                function_name: "f".into(),
                name: "live".into(),
                function_version: "$LATEST".into(),
                description: String::new(),
                additional_version: None,
                additional_weight: None,
                revision_id: "a1".into(),
                created_ms: 1,
                modified_ms: 1,
            })
            .await
            .expect("alias");
        store
            .insert_function_url(&url("f", "live", "id3"))
            .await
            .expect("alias url");
        assert_eq!(store.list_function_urls().await.expect("list").len(), 2);
        assert!(store.delete_alias("f", "live").await.expect("delete alias"));
        let left = store.list_function_urls().await.expect("list");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].qualifier, "$LATEST");
        assert!(store.delete_function("f").await.expect("delete function"));
        assert!(store.list_function_urls().await.expect("list").is_empty());
        assert!(
            !store
                .delete_function_url("f", "$LATEST")
                .await
                .expect("delete")
        );
    }
}
