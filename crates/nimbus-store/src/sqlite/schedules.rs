//! Schedules in `nimbus.db`.

use async_trait::async_trait;

use super::events::insert_event_in;
use super::{Db, SqliteStore};
use crate::schedules::{ScheduleRow, ScheduleStore};
use crate::{EventRow, StoreError};

/// The columns of [`ScheduleRow`], in order (a macro: sqlx takes only static SQL text).
macro_rules! schedule_columns {
    () => {
        "id, owner, name, function, qualifier, expression, timezone, input, v2, enabled, \
         anchor_ms, last_slot_ms, next_slot_ms, created_ms, updated_ms"
    };
}

/// Insert or replace; `created_ms` stays as stored and `last_slot_ms` never moves back.
const UPSERT: &str = concat!(
    "INSERT INTO schedules (",
    schedule_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, name = excluded.name, \
     function = excluded.function, qualifier = excluded.qualifier, \
     expression = excluded.expression, timezone = excluded.timezone, input = excluded.input, \
     v2 = excluded.v2, enabled = excluded.enabled, anchor_ms = excluded.anchor_ms, \
     last_slot_ms = MAX(COALESCE(schedules.last_slot_ms, excluded.last_slot_ms), \
                        COALESCE(excluded.last_slot_ms, schedules.last_slot_ms)), \
     next_slot_ms = excluded.next_slot_ms, updated_ms = excluded.updated_ms"
);

async fn upsert_in(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    row: &ScheduleRow,
    op: &'static str,
) -> Result<(), StoreError> {
    sqlx::query(UPSERT)
        .bind(&row.id)
        .bind(&row.owner)
        .bind(&row.name)
        .bind(&row.function)
        .bind(&row.qualifier)
        .bind(&row.expression)
        .bind(&row.timezone)
        .bind(&row.input)
        .bind(row.v2)
        .bind(row.enabled)
        .bind(row.anchor_ms)
        .bind(row.last_slot_ms)
        .bind(row.next_slot_ms)
        .bind(row.created_ms)
        .bind(row.updated_ms)
        .execute(&mut **tx)
        .await
        .map_err(db.err(op))?;
    Ok(())
}

async fn replace_schedules(db: &Db, owner: &str, rows: &[ScheduleRow]) -> Result<(), StoreError> {
    const OP: &str = "replace_schedules";
    if let Some(other) = rows.iter().find(|r| r.owner != owner) {
        return Err(StoreError::Invalid {
            what: format!(
                "schedule {:?} belongs to {:?}, not {owner:?}",
                other.name, other.owner
            ),
        });
    }
    let keep: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let keep_json = serde_json::to_string(&keep).map_err(|e| StoreError::Invalid {
        what: format!("schedule ids: {e}"),
    })?;
    let mut tx = db.begin_write(OP).await?;
    sqlx::query(
        "DELETE FROM schedules WHERE owner = $1 \
         AND id NOT IN (SELECT value FROM json_each($2))",
    )
    .bind(owner)
    .bind(&keep_json)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    for row in rows {
        upsert_in(db, &mut tx, row, OP).await?;
    }
    tx.commit().await.map_err(db.err(OP))
}

async fn put_schedule(db: &Db, row: &ScheduleRow) -> Result<(), StoreError> {
    const OP: &str = "put_schedule";
    let mut tx = db.begin_write(OP).await?;
    upsert_in(db, &mut tx, row, OP).await?;
    tx.commit().await.map_err(db.err(OP))
}

async fn list_schedules(db: &Db) -> Result<Vec<ScheduleRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        schedule_columns!(),
        " FROM schedules ORDER BY owner, name"
    );
    sqlx::query_as::<_, ScheduleRow>(sql)
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_schedules"))
}

async fn delete_where(
    db: &Db,
    op: &'static str,
    sql: &'static str,
    key: &str,
) -> Result<u64, StoreError> {
    let mut tx = db.begin_write(op).await?;
    let done = sqlx::query(sql)
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(db.err(op))?;
    tx.commit().await.map_err(db.err(op))?;
    Ok(done.rows_affected())
}

async fn fire_slot(
    db: &Db,
    id: &str,
    expected_last_slot_ms: Option<i64>,
    slot_ms: i64,
    next_slot_ms: Option<i64>,
    event: &EventRow,
) -> Result<bool, StoreError> {
    const OP: &str = "fire_slot";
    let mut tx = db.begin_write(OP).await?;
    let recorded = sqlx::query(
        "UPDATE schedules SET last_slot_ms = $1, next_slot_ms = $2 \
         WHERE id = $3 AND enabled = 1 AND last_slot_ms IS $4 AND ($4 IS NULL OR $1 > $4)",
    )
    .bind(slot_ms)
    .bind(next_slot_ms)
    .bind(id)
    .bind(expected_last_slot_ms)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    if recorded.rows_affected() != 1 {
        // Dropping the transaction rolls it back: nothing was written.
        return Ok(false);
    }
    insert_event_in(db, &mut tx, event).await?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(true)
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn replace_schedules(&self, owner: &str, rows: &[ScheduleRow]) -> Result<(), StoreError> {
        replace_schedules(&self.control, owner, rows).await
    }

    async fn put_schedule(&self, row: &ScheduleRow) -> Result<(), StoreError> {
        put_schedule(&self.control, row).await
    }

    async fn list_schedules(&self) -> Result<Vec<ScheduleRow>, StoreError> {
        list_schedules(&self.control).await
    }

    async fn delete_owner_schedules(&self, owner: &str) -> Result<u64, StoreError> {
        delete_where(
            &self.control,
            "delete_owner_schedules",
            "DELETE FROM schedules WHERE owner = $1",
            owner,
        )
        .await
    }

    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let n = delete_where(
            &self.control,
            "delete_schedule",
            "DELETE FROM schedules WHERE id = $1",
            id,
        )
        .await?;
        Ok(n > 0)
    }

    async fn fire_slot(
        &self,
        id: &str,
        expected_last_slot_ms: Option<i64>,
        slot_ms: i64,
        next_slot_ms: Option<i64>,
        event: &EventRow,
    ) -> Result<bool, StoreError> {
        fire_slot(
            &self.control,
            id,
            expected_last_slot_ms,
            slot_ms,
            next_slot_ms,
            event,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;
    use crate::events::state;

    fn schedule(id: &str, owner: &str, name: &str) -> ScheduleRow {
        ScheduleRow {
            id: id.to_string(),
            owner: owner.to_string(),
            name: name.to_string(),
            function: "fn".to_string(),
            qualifier: Some("live".to_string()),
            expression: "rate(5 minutes)".to_string(),
            timezone: None,
            input: None,
            v2: false,
            enabled: true,
            anchor_ms: 1_000,
            last_slot_ms: None,
            next_slot_ms: Some(1_000),
            created_ms: 1_000,
            updated_ms: 1_000,
        }
    }

    fn event(id: &str) -> EventRow {
        EventRow {
            id: id.to_string(),
            function_name: "fn".to_string(),
            qualifier: Some("live".to_string()),
            payload: b"{}".to_vec(),
            received_ms: 5,
            state: state::PENDING.to_string(),
            attempts: 0,
            system_retries: 0,
            next_attempt_ms: 5,
            lease_until_ms: None,
            condition: None,
            error_type: None,
            error_message: None,
            status_code: None,
            deliveries_json: None,
            record_json: None,
            delivered_json: None,
            completed_ms: None,
            trace_header: None,
        }
    }

    async fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        (dir, store)
    }

    async fn stored(store: &SqliteStore, id: &str) -> Option<ScheduleRow> {
        store
            .list_schedules()
            .await
            .expect("list")
            .into_iter()
            .find(|r| r.id == id)
    }

    #[tokio::test]
    async fn a_slot_is_recorded_iff_its_event_is_stored() {
        let (_dir, store) = open().await;
        store
            .put_schedule(&schedule("s1", "stack", "a"))
            .await
            .expect("put");

        assert!(
            store
                .fire_slot("s1", None, 1_000, Some(301_000), &event("e1"))
                .await
                .expect("fire")
        );
        let row = stored(&store, "s1").await.expect("row");
        assert_eq!(row.last_slot_ms, Some(1_000));
        assert_eq!(row.next_slot_ms, Some(301_000));
        let e1 = store.get_event("e1").await.expect("get").expect("event");
        assert_eq!(e1.state, state::PENDING);
        assert_eq!(e1.payload, b"{}");

        // The same slot again (a second scheduler, or a retry after a crash): refused, and its
        // event is not written.
        for (expected, slot) in [(None, 1_000), (Some(1_000), 1_000), (Some(1_000), 500)] {
            assert!(
                !store
                    .fire_slot("s1", expected, slot, Some(301_000), &event("e-dup"))
                    .await
                    .expect("fire")
            );
        }
        assert_eq!(store.get_event("e-dup").await.expect("get"), None);
        assert_eq!(
            stored(&store, "s1").await.expect("row").last_slot_ms,
            Some(1_000)
        );

        // The next slot goes through.
        assert!(
            store
                .fire_slot("s1", Some(1_000), 301_000, Some(601_000), &event("e2"))
                .await
                .expect("fire")
        );
        assert!(store.get_event("e2").await.expect("get").is_some());
        store.close().await;
    }

    #[tokio::test]
    async fn disabled_or_deleted_schedules_fire_nothing() {
        let (_dir, store) = open().await;
        let mut off = schedule("s1", "stack", "a");
        off.enabled = false;
        store.put_schedule(&off).await.expect("put");
        assert!(
            !store
                .fire_slot("s1", None, 1_000, None, &event("e1"))
                .await
                .expect("fire")
        );
        assert!(
            !store
                .fire_slot("missing", None, 1_000, None, &event("e2"))
                .await
                .expect("fire")
        );
        assert_eq!(store.get_event("e1").await.expect("get"), None);
        assert_eq!(store.get_event("e2").await.expect("get"), None);
        store.close().await;
    }

    #[tokio::test]
    async fn replace_is_per_owner_and_never_moves_last_slot_back() {
        let (_dir, store) = open().await;
        store
            .replace_schedules(
                "stack",
                &[schedule("s1", "stack", "a"), schedule("s2", "stack", "b")],
            )
            .await
            .expect("replace");
        store
            .replace_schedules("other", &[schedule("s3", "other", "a")])
            .await
            .expect("replace");
        assert!(
            store
                .fire_slot("s1", None, 1_000, Some(301_000), &event("e1"))
                .await
                .expect("fire")
        );

        // A replace computed from an older read (last slot unknown) and with a new expression.
        let mut changed = schedule("s1", "stack", "a");
        changed.expression = "rate(1 hour)".to_string();
        changed.created_ms = 9_999;
        changed.updated_ms = 2_000;
        store
            .replace_schedules("stack", &[changed])
            .await
            .expect("replace");
        let rows = store.list_schedules().await.expect("list");
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["s3", "s1"]); // by owner, then name; s2 is gone
        let s1 = &rows[1];
        assert_eq!(s1.expression, "rate(1 hour)");
        assert_eq!(s1.last_slot_ms, Some(1_000));
        assert_eq!(s1.created_ms, 1_000);
        assert_eq!(s1.updated_ms, 2_000);

        let err = store
            .replace_schedules("stack", &[schedule("s4", "other", "z")])
            .await
            .expect_err("owner");
        assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
        let err = store
            .put_schedule(&schedule("s5", "stack", "a"))
            .await
            .expect_err("name taken");
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");

        assert_eq!(
            store.delete_owner_schedules("stack").await.expect("delete"),
            1
        );
        assert!(store.delete_schedule("s3").await.expect("delete"));
        assert!(!store.delete_schedule("s3").await.expect("delete"));
        assert!(store.list_schedules().await.expect("list").is_empty());
        store.close().await;
    }

    #[tokio::test]
    async fn progress_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        store
            .put_schedule(&schedule("s1", "stack", "a"))
            .await
            .expect("put");
        assert!(
            store
                .fire_slot("s1", None, 1_000, Some(301_000), &event("e1"))
                .await
                .expect("fire")
        );
        store.close().await;

        let store = SqliteStore::open(dir.path()).await.expect("reopen");
        let row = stored(&store, "s1").await.expect("row");
        assert_eq!(row.last_slot_ms, Some(1_000));
        assert!(
            !store
                .fire_slot("s1", None, 1_000, Some(301_000), &event("e1-again"))
                .await
                .expect("fire")
        );
        assert!(store.get_event("e1").await.expect("get").is_some());
        store.close().await;
    }
}
