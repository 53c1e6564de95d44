//! Asynchronous invocations and event-invoke configurations in `nimbus.db`.

use super::{Db, SqliteStore};
use crate::StoreError;
use crate::events::{EVENT_BATCH_LIMIT_MAX, EventInvokeConfigRow, EventRow, EventStore, state};
use async_trait::async_trait;

/// The columns of [`EventRow`], in order (a macro: sqlx takes only static SQL text).
macro_rules! event_columns {
    () => {
        "id, function_name, qualifier, payload, received_ms, state, attempts, system_retries, \
         next_attempt_ms, lease_until_ms, condition, error_type, error_message, status_code, \
         deliveries_json, record_json, delivered_json, completed_ms, trace_header"
    };
}

/// The columns of [`EventInvokeConfigRow`], in order.
macro_rules! config_columns {
    () => {
        "function_name, qualifier, maximum_retry_attempts, maximum_event_age_s, on_success, \
         on_failure, modified_ms"
    };
}

// The SQL below spells the states 'pending' and 'running' out (static text); this keeps them
// tied to the constants the engine uses.
const _: () = {
    assert!(const_str_eq(state::PENDING, "pending"));
    assert!(const_str_eq(state::RUNNING, "running"));
};

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

fn clamp(limit: u32) -> i64 {
    i64::from(limit.min(EVENT_BATCH_LIMIT_MAX))
}

async fn insert_events(db: &Db, rows: &[EventRow]) -> Result<(), StoreError> {
    const OP: &str = "insert_events";
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write(OP).await?;
    for row in rows {
        insert_event_in(db, &mut tx, row).await?;
    }
    tx.commit().await.map_err(db.err(OP))
}

/// Inserts one accepted event inside the caller's transaction (an id already present is left
/// as it is). Shared with `fire_slot`, which enqueues a schedule's event atomically.
pub(super) async fn insert_event_in(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    row: &EventRow,
) -> Result<(), StoreError> {
    const OP: &str = "insert_events";
    sqlx::query(
        "INSERT INTO async_events (id, function_name, qualifier, payload, received_ms, state, \
         attempts, system_retries, next_attempt_ms, trace_header) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&row.id)
    .bind(&row.function_name)
    .bind(&row.qualifier)
    .bind(&row.payload)
    .bind(row.received_ms)
    .bind(&row.state)
    .bind(row.attempts)
    .bind(row.system_retries)
    .bind(row.next_attempt_ms)
    .bind(&row.trace_header)
    .execute(&mut **tx)
    .await
    .map_err(db.err(OP))?;
    Ok(())
}

async fn claim_due_events(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u32,
) -> Result<Vec<EventRow>, StoreError> {
    const OP: &str = "claim_due_events";
    let mut tx = db.begin_write(OP).await?;
    // Two index range scans (due pending, expired leases) rather than one OR the planner
    // cannot serve from the (state, next_attempt_ms) index.
    let sql = concat!(
        "UPDATE async_events SET state = 'running', lease_until_ms = $2 WHERE id IN ( \
           SELECT id FROM ( \
             SELECT id, next_attempt_ms AS due FROM async_events \
               WHERE state = 'pending' AND next_attempt_ms <= $1 \
             UNION ALL \
             SELECT id, lease_until_ms AS due FROM async_events \
               WHERE state = 'running' AND lease_until_ms <= $1) \
           ORDER BY due LIMIT $3) \
         RETURNING ",
        event_columns!()
    );
    let rows = sqlx::query_as::<_, EventRow>(sql)
        .bind(now_ms)
        .bind(lease_until_ms)
        .bind(clamp(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(rows)
}

async fn next_event_due_ms(db: &Db) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT MIN(due) FROM ( \
           SELECT MIN(next_attempt_ms) AS due FROM async_events WHERE state = 'pending' \
           UNION ALL \
           SELECT MIN(lease_until_ms) AS due FROM async_events WHERE state = 'running')";
    sqlx::query_scalar::<_, Option<i64>>(sql)
        .fetch_one(db.reader())
        .await
        .map_err(db.err("next_event_due_ms"))
}

async fn update_event(db: &Db, row: &EventRow, expected_state: &str) -> Result<bool, StoreError> {
    let mut done = update_events(db, &[(row.clone(), expected_state.to_string())]).await?;
    Ok(done.pop().unwrap_or(false))
}

async fn update_events(db: &Db, updates: &[(EventRow, String)]) -> Result<Vec<bool>, StoreError> {
    const OP: &str = "update_events";
    let mut tx = db.begin_write(OP).await?;
    let mut out = Vec::with_capacity(updates.len());
    for (row, expected_state) in updates {
        out.push(update_in(db, &mut tx, row, expected_state).await?);
    }
    tx.commit().await.map_err(db.err(OP))?;
    Ok(out)
}

async fn update_in(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    row: &EventRow,
    expected_state: &str,
) -> Result<bool, StoreError> {
    const OP: &str = "update_events";
    let done = sqlx::query(
        "UPDATE async_events SET state = $1, attempts = $2, system_retries = $3, \
         next_attempt_ms = $4, lease_until_ms = $5, condition = $6, error_type = $7, \
         error_message = $8, status_code = $9, deliveries_json = $10, record_json = $11, \
         delivered_json = $12, completed_ms = $13 WHERE id = $14 AND state = $15",
    )
    .bind(&row.state)
    .bind(row.attempts)
    .bind(row.system_retries)
    .bind(row.next_attempt_ms)
    .bind(row.lease_until_ms)
    .bind(&row.condition)
    .bind(&row.error_type)
    .bind(&row.error_message)
    .bind(row.status_code)
    .bind(&row.deliveries_json)
    .bind(&row.record_json)
    .bind(&row.delivered_json)
    .bind(row.completed_ms)
    .bind(&row.id)
    .bind(expected_state)
    .execute(&mut **tx)
    .await
    .map_err(db.err(OP))?;
    Ok(done.rows_affected() == 1)
}

async fn events_in_state(
    db: &Db,
    state: &str,
    due_by_ms: i64,
    limit: u32,
) -> Result<Vec<EventRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        event_columns!(),
        " FROM async_events WHERE state = $1 AND next_attempt_ms <= $2 \
          ORDER BY next_attempt_ms LIMIT $3"
    );
    sqlx::query_as::<_, EventRow>(sql)
        .bind(state)
        .bind(due_by_ms)
        .bind(clamp(limit))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("events_in_state"))
}

async fn release_running_events(db: &Db, now_ms: i64) -> Result<u64, StoreError> {
    const OP: &str = "release_running_events";
    let mut tx = db.begin_write(OP).await?;
    let done = sqlx::query(
        "UPDATE async_events SET state = $1, lease_until_ms = NULL, next_attempt_ms = $2 \
         WHERE state = $3",
    )
    .bind(state::PENDING)
    .bind(now_ms)
    .bind(state::RUNNING)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    sqlx::query("UPDATE async_events SET next_attempt_ms = $1 WHERE state = $2")
        .bind(now_ms)
        .bind(state::DELIVERING)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected())
}

async fn get_event(db: &Db, id: &str) -> Result<Option<EventRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        event_columns!(),
        " FROM async_events WHERE id = $1"
    );
    sqlx::query_as::<_, EventRow>(sql)
        .bind(id)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_event"))
}

async fn count_events_by_state(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT state, COUNT(*) FROM async_events GROUP BY state ORDER BY state",
    )
    .fetch_all(db.reader())
    .await
    .map_err(db.err("count_events_by_state"))
}

async fn purge_completed_events(db: &Db, before_ms: i64, limit: u32) -> Result<u64, StoreError> {
    const OP: &str = "purge_completed_events";
    let mut tx = db.begin_write(OP).await?;
    let done = sqlx::query(
        "DELETE FROM async_events WHERE id IN (SELECT id FROM async_events \
         WHERE completed_ms IS NOT NULL AND completed_ms < $1 ORDER BY completed_ms LIMIT $2)",
    )
    .bind(before_ms)
    .bind(clamp(limit))
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected())
}

async fn put_event_invoke_config(db: &Db, row: &EventInvokeConfigRow) -> Result<(), StoreError> {
    const OP: &str = "put_event_invoke_config";
    let mut tx = db.begin_write(OP).await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM functions WHERE name = $1")
        .bind(&row.function_name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    if exists.is_none() {
        return Err(StoreError::NotFound {
            what: format!("function {:?}", row.function_name),
        });
    }
    sqlx::query(
        "INSERT INTO event_invoke_configs (function_name, qualifier, maximum_retry_attempts, \
         maximum_event_age_s, on_success, on_failure, modified_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (function_name, qualifier) DO UPDATE SET \
         maximum_retry_attempts = excluded.maximum_retry_attempts, \
         maximum_event_age_s = excluded.maximum_event_age_s, on_success = excluded.on_success, \
         on_failure = excluded.on_failure, modified_ms = excluded.modified_ms",
    )
    .bind(&row.function_name)
    .bind(&row.qualifier)
    .bind(row.maximum_retry_attempts)
    .bind(row.maximum_event_age_s)
    .bind(&row.on_success)
    .bind(&row.on_failure)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))
}

async fn get_event_invoke_config(
    db: &Db,
    function: &str,
    qualifier: &str,
) -> Result<Option<EventInvokeConfigRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        config_columns!(),
        " FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2"
    );
    sqlx::query_as::<_, EventInvokeConfigRow>(sql)
        .bind(function)
        .bind(qualifier)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_event_invoke_config"))
}

async fn list_event_invoke_configs(
    db: &Db,
    function: &str,
) -> Result<Vec<EventInvokeConfigRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        config_columns!(),
        " FROM event_invoke_configs WHERE function_name = $1 ORDER BY qualifier"
    );
    sqlx::query_as::<_, EventInvokeConfigRow>(sql)
        .bind(function)
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_event_invoke_configs"))
}

async fn delete_event_invoke_config(
    db: &Db,
    function: &str,
    qualifier: &str,
) -> Result<bool, StoreError> {
    const OP: &str = "delete_event_invoke_config";
    let mut tx = db.begin_write(OP).await?;
    let done =
        sqlx::query("DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2")
            .bind(function)
            .bind(qualifier)
            .execute(&mut *tx)
            .await
            .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected() > 0)
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn insert_events(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        insert_events(&self.control, rows).await
    }

    async fn claim_due_events(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError> {
        claim_due_events(&self.control, now_ms, lease_until_ms, limit).await
    }

    async fn next_event_due_ms(&self) -> Result<Option<i64>, StoreError> {
        next_event_due_ms(&self.control).await
    }

    async fn update_event(&self, row: &EventRow, expected_state: &str) -> Result<bool, StoreError> {
        update_event(&self.control, row, expected_state).await
    }

    async fn update_events(&self, updates: &[(EventRow, String)]) -> Result<Vec<bool>, StoreError> {
        update_events(&self.control, updates).await
    }

    async fn events_in_state(
        &self,
        state: &str,
        due_by_ms: i64,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError> {
        events_in_state(&self.control, state, due_by_ms, limit).await
    }

    async fn release_running_events(&self, now_ms: i64) -> Result<u64, StoreError> {
        release_running_events(&self.control, now_ms).await
    }

    async fn get_event(&self, id: &str) -> Result<Option<EventRow>, StoreError> {
        get_event(&self.control, id).await
    }

    async fn count_events_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        count_events_by_state(&self.control).await
    }

    async fn purge_completed_events(&self, before_ms: i64, limit: u32) -> Result<u64, StoreError> {
        purge_completed_events(&self.control, before_ms, limit).await
    }

    async fn put_event_invoke_config(&self, row: &EventInvokeConfigRow) -> Result<(), StoreError> {
        put_event_invoke_config(&self.control, row).await
    }

    async fn get_event_invoke_config(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfigRow>, StoreError> {
        get_event_invoke_config(&self.control, function, qualifier).await
    }

    async fn list_event_invoke_configs(
        &self,
        function: &str,
    ) -> Result<Vec<EventInvokeConfigRow>, StoreError> {
        list_event_invoke_configs(&self.control, function).await
    }

    async fn delete_event_invoke_config(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError> {
        delete_event_invoke_config(&self.control, function, qualifier).await
    }
}
