//! Aliases, reserved concurrency and provisioned-concurrency configurations in `nimbus.db`.

use super::{Db, is_unique_violation};
use crate::{AliasRow, ProvisionedRow, StoreError};

macro_rules! select_aliases {
    ($rest:literal) => {
        concat!(
            "SELECT function_name, name, function_version, description, additional_version, \
             additional_weight, revision_id, created_ms, modified_ms FROM aliases ",
            $rest
        )
    };
}

fn what(function: &str, name: &str) -> String {
    format!("alias {name:?} of function {function:?}")
}

pub(super) async fn insert_alias(db: &Db, row: &AliasRow) -> Result<(), StoreError> {
    const OP: &str = "insert_alias";
    let mut tx = db.begin_write(OP).await?;
    let inserted = sqlx::query(
        "INSERT INTO aliases (function_name, name, function_version, description, \
         additional_version, additional_weight, revision_id, created_ms, modified_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&row.function_name)
    .bind(&row.name)
    .bind(&row.function_version)
    .bind(&row.description)
    .bind(&row.additional_version)
    .bind(row.additional_weight)
    .bind(&row.revision_id)
    .bind(row.created_ms)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => tx.commit().await.map_err(db.err(OP)),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
            what: what(&row.function_name, &row.name),
        }),
        Err(e) => Err(db.err(OP)(e)),
    }
}

pub(super) async fn get_alias(
    db: &Db,
    function: &str,
    name: &str,
) -> Result<Option<AliasRow>, StoreError> {
    sqlx::query_as::<_, AliasRow>(select_aliases!("WHERE function_name = $1 AND name = $2"))
        .bind(function)
        .bind(name)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_alias"))
}

pub(super) async fn list_aliases(db: &Db, function: &str) -> Result<Vec<AliasRow>, StoreError> {
    sqlx::query_as::<_, AliasRow>(select_aliases!("WHERE function_name = $1 ORDER BY name"))
        .bind(function)
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_aliases"))
}

pub(super) async fn update_alias(
    db: &Db,
    row: &AliasRow,
    expected_revision: Option<&str>,
) -> Result<(), StoreError> {
    const OP: &str = "update_alias";
    let mut tx = db.begin_write(OP).await?;
    let current: Option<String> = sqlx::query_scalar(
        "SELECT revision_id FROM aliases WHERE function_name = $1 AND name = $2",
    )
    .bind(&row.function_name)
    .bind(&row.name)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    let Some(current) = current else {
        return Err(StoreError::NotFound {
            what: what(&row.function_name, &row.name),
        });
    };
    if let Some(expected) = expected_revision
        && expected != current
    {
        return Err(StoreError::RevisionMismatch {
            what: what(&row.function_name, &row.name),
            current,
        });
    }
    sqlx::query(
        "UPDATE aliases SET function_version = $3, description = $4, additional_version = $5, \
         additional_weight = $6, revision_id = $7, modified_ms = $8 \
         WHERE function_name = $1 AND name = $2",
    )
    .bind(&row.function_name)
    .bind(&row.name)
    .bind(&row.function_version)
    .bind(&row.description)
    .bind(&row.additional_version)
    .bind(row.additional_weight)
    .bind(&row.revision_id)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))
}

pub(super) async fn delete_alias(db: &Db, function: &str, name: &str) -> Result<bool, StoreError> {
    const OP: &str = "delete_alias";
    let mut tx = db.begin_write(OP).await?;
    let deleted = sqlx::query("DELETE FROM aliases WHERE function_name = $1 AND name = $2")
        .bind(function)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    sqlx::query("DELETE FROM provisioned_concurrency WHERE function_name = $1 AND qualifier = $2")
        .bind(function)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    // The alias's async settings go with it.
    sqlx::query("DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2")
        .bind(function)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(deleted.rows_affected() > 0)
}

pub(super) async fn put_reserved(
    db: &Db,
    function: &str,
    reserved: Option<i64>,
) -> Result<(), StoreError> {
    const OP: &str = "put_reserved_concurrency";
    let mut tx = db.begin_write(OP).await?;
    match reserved {
        Some(n) => {
            sqlx::query(
                "INSERT INTO reserved_concurrency (function_name, reserved) VALUES ($1, $2) \
                 ON CONFLICT (function_name) DO UPDATE SET reserved = excluded.reserved",
            )
            .bind(function)
            .bind(n)
            .execute(&mut *tx)
            .await
        }
        None => {
            sqlx::query("DELETE FROM reserved_concurrency WHERE function_name = $1")
                .bind(function)
                .execute(&mut *tx)
                .await
        }
    }
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))
}

pub(super) async fn list_reserved(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT function_name, reserved FROM reserved_concurrency ORDER BY function_name",
    )
    .fetch_all(db.reader())
    .await
    .map_err(db.err("list_reserved_concurrency"))
}

pub(super) async fn put_provisioned(db: &Db, row: &ProvisionedRow) -> Result<(), StoreError> {
    const OP: &str = "put_provisioned";
    let mut tx = db.begin_write(OP).await?;
    sqlx::query(
        "INSERT INTO provisioned_concurrency (function_name, qualifier, requested, modified_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (function_name, qualifier) \
         DO UPDATE SET requested = excluded.requested, modified_ms = excluded.modified_ms",
    )
    .bind(&row.function_name)
    .bind(&row.qualifier)
    .bind(row.requested)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))
}

pub(super) async fn delete_provisioned(
    db: &Db,
    function: &str,
    qualifier: &str,
) -> Result<bool, StoreError> {
    const OP: &str = "delete_provisioned";
    let mut tx = db.begin_write(OP).await?;
    let deleted = sqlx::query(
        "DELETE FROM provisioned_concurrency WHERE function_name = $1 AND qualifier = $2",
    )
    .bind(function)
    .bind(qualifier)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(deleted.rows_affected() > 0)
}

pub(super) async fn list_provisioned(db: &Db) -> Result<Vec<ProvisionedRow>, StoreError> {
    sqlx::query_as::<_, ProvisionedRow>(
        "SELECT function_name, qualifier, requested, modified_ms FROM provisioned_concurrency \
         ORDER BY function_name, qualifier",
    )
    .fetch_all(db.reader())
    .await
    .map_err(db.err("list_provisioned"))
}
