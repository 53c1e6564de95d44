//! Functions and settings in `nimbus.db`.

use std::collections::HashSet;

use super::{Db, is_unique_violation};
use crate::{FUNCTION_LIST_LIMIT_MAX, FunctionRow, StoreError, VersionRow};

/// `SELECT <every FunctionRow column> FROM functions <rest>`, as one `&'static str`.
macro_rules! select_functions {
    ($rest:literal) => {
        concat!(
            "SELECT name, revision_id, code_sha256, config_json, created_ms, modified_ms \
             FROM functions ",
            $rest
        )
    };
}

fn what(name: &str) -> String {
    format!("function {name:?}")
}

pub(super) async fn insert(
    db: &Db,
    row: &FunctionRow,
    version: Option<&VersionRow>,
) -> Result<(), StoreError> {
    const OP: &str = "insert_function";
    let mut tx = db.begin_write(OP).await?;
    let inserted = sqlx::query(
        "INSERT INTO functions \
         (name, revision_id, code_sha256, config_json, created_ms, modified_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.name)
    .bind(&row.revision_id)
    .bind(&row.code_sha256)
    .bind(&row.config_json)
    .bind(row.created_ms)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict {
                what: what(&row.name),
            });
        }
        Err(e) => return Err(db.err(OP)(e)),
    }
    if let Some(v) = version {
        insert_version(&mut tx, v).await.map_err(db.err(OP))?;
    }
    tx.commit().await.map_err(db.err(OP))
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    v: &VersionRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO function_versions \
         (name, version, revision_id, code_sha256, config_json, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&v.name)
    .bind(v.version)
    .bind(&v.revision_id)
    .bind(&v.code_sha256)
    .bind(&v.config_json)
    .bind(v.created_ms)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

pub(super) async fn get(db: &Db, name: &str) -> Result<Option<FunctionRow>, StoreError> {
    sqlx::query_as::<_, FunctionRow>(select_functions!("WHERE name = $1"))
        .bind(name)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_function"))
}

pub(super) async fn list(
    db: &Db,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<FunctionRow>, StoreError> {
    let limit = i64::from(limit.min(FUNCTION_LIST_LIMIT_MAX));
    // Two statements rather than `($1 IS NULL OR name > $1)`, which would keep SQLite from
    // starting the primary-key scan at `after`.
    let rows = match after {
        Some(after) => {
            sqlx::query_as::<_, FunctionRow>(select_functions!(
                "WHERE name > $1 ORDER BY name LIMIT $2"
            ))
            .bind(after)
            .bind(limit)
            .fetch_all(db.reader())
            .await
        }
        None => {
            sqlx::query_as::<_, FunctionRow>(select_functions!("ORDER BY name LIMIT $1"))
                .bind(limit)
                .fetch_all(db.reader())
                .await
        }
    };
    rows.map_err(db.err("list_functions"))
}

pub(super) async fn update(
    db: &Db,
    row: &FunctionRow,
    expected_revision: &str,
    version: Option<&VersionRow>,
) -> Result<(), StoreError> {
    const OP: &str = "update_function";
    let mut tx = db.begin_write(OP).await?;
    // The compare-and-swap is this one statement; the read below only explains a miss.
    let updated = sqlx::query(
        "UPDATE functions \
         SET revision_id = $2, code_sha256 = $3, config_json = $4, modified_ms = $5 \
         WHERE name = $1 AND revision_id = $6",
    )
    .bind(&row.name)
    .bind(&row.revision_id)
    .bind(&row.code_sha256)
    .bind(&row.config_json)
    .bind(row.modified_ms)
    .bind(expected_revision)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    if updated.rows_affected() == 1 {
        if let Some(v) = version {
            match insert_version(&mut tx, v).await {
                Ok(()) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        what: format!("version {} of {}", v.version, what(&row.name)),
                    });
                }
                Err(e) => return Err(db.err(OP)(e)),
            }
        }
        return tx.commit().await.map_err(db.err(OP));
    }
    // Same transaction (we hold the write lock), so this is the revision that beat us.
    let current: Option<String> =
        sqlx::query_scalar("SELECT revision_id FROM functions WHERE name = $1")
            .bind(&row.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db.err(OP))?;
    // Nothing was written: dropping `tx` rolls it back.
    match current {
        Some(current) => Err(StoreError::RevisionMismatch {
            what: what(&row.name),
            current,
        }),
        None => Err(StoreError::NotFound {
            what: what(&row.name),
        }),
    }
}

pub(super) async fn delete(db: &Db, name: &str) -> Result<bool, StoreError> {
    const OP: &str = "delete_function";
    let mut tx = db.begin_write(OP).await?;
    let deleted = sqlx::query("DELETE FROM functions WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(deleted.rows_affected() > 0)
}

pub(super) async fn code_refs(db: &Db) -> Result<HashSet<String>, StoreError> {
    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT code_sha256 FROM functions UNION SELECT code_sha256 FROM function_versions",
    )
    .fetch_all(db.reader())
    .await
    .map_err(db.err("code_refs"))?;
    Ok(hashes.into_iter().collect())
}

pub(super) async fn get_setting(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_setting"))
}

pub(super) async fn put_setting(db: &Db, key: &str, value: &str) -> Result<(), StoreError> {
    const OP: &str = "put_setting";
    let mut tx = db.begin_write(OP).await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))
}

/// `SELECT <every VersionRow column> FROM function_versions <rest>`.
macro_rules! select_versions {
    ($rest:literal) => {
        concat!(
            "SELECT name, version, revision_id, code_sha256, config_json, created_ms \
             FROM function_versions ",
            $rest
        )
    };
}

pub(super) async fn get_version(
    db: &Db,
    name: &str,
    version: i64,
) -> Result<Option<VersionRow>, StoreError> {
    sqlx::query_as::<_, VersionRow>(select_versions!("WHERE name = $1 AND version = $2"))
        .bind(name)
        .bind(version)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_version"))
}

pub(super) async fn list_versions(
    db: &Db,
    name: &str,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<VersionRow>, StoreError> {
    let limit = i64::from(limit.min(FUNCTION_LIST_LIMIT_MAX));
    sqlx::query_as::<_, VersionRow>(select_versions!(
        "WHERE name = $1 AND version > $2 ORDER BY version LIMIT $3"
    ))
    .bind(name)
    .bind(after.unwrap_or(0))
    .bind(limit)
    .fetch_all(db.reader())
    .await
    .map_err(db.err("list_versions"))
}

pub(super) async fn delete_version(db: &Db, name: &str, version: i64) -> Result<bool, StoreError> {
    const OP: &str = "delete_version";
    let mut tx = db.begin_write(OP).await?;
    let v = version.to_string();
    let referencing: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM aliases WHERE function_name = $1 \
         AND (function_version = $2 OR additional_version = $2) ORDER BY name",
    )
    .bind(name)
    .bind(&v)
    .fetch_all(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    if !referencing.is_empty() {
        return Err(StoreError::Conflict {
            what: format!(
                "version {version} of {}: referenced by aliases [{}]",
                what(name),
                referencing.join(", ")
            ),
        });
    }
    sqlx::query("DELETE FROM provisioned_concurrency WHERE function_name = $1 AND qualifier = $2")
        .bind(name)
        .bind(&v)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    sqlx::query("DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2")
        .bind(name)
        .bind(&v)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    let deleted = sqlx::query("DELETE FROM function_versions WHERE name = $1 AND version = $2")
        .bind(name)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(deleted.rows_affected() > 0)
}
