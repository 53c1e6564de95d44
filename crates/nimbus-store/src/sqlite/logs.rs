//! Function logs in `logs.db`: an append-only event table plus per-stream counters
//! (`log_streams`) kept in the same transaction, so listing streams and measuring a group
//! never scan events, and trimming only reads the rows it deletes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use sqlx::{QueryBuilder, Sqlite};

use super::Db;
use crate::{
    LOG_EVENT_OVERHEAD_BYTES, LOG_MESSAGE_BYTES_MAX, LOG_QUERY_LIMIT_MAX, LOG_QUERY_STREAMS_MAX,
    LOG_TRUNCATION_MARKER, LogCursor, LogEventRow, LogQuery, LogStreamRow, NewLogEvent, StoreError,
};

/// Rows per multi-row INSERT: 6 bound values each stays far below SQLite's 32,766-variable
/// limit, and a few statements per batch instead of one per event cuts worker round trips.
const APPEND_ROWS_PER_STATEMENT: usize = 100;

/// Oldest rows read per trim transaction: bounds how long one trim step holds the write lock
/// (appends wait behind it) while a large excess is still removed in a few steps.
const TRIM_CHUNK_ROWS: i64 = 1_000;

/// The message as stored: at most [`LOG_MESSAGE_BYTES_MAX`] bytes, cut on a character
/// boundary and marked when longer.
pub(crate) fn cap_message(message: &str) -> Cow<'_, str> {
    if message.len() <= LOG_MESSAGE_BYTES_MAX {
        return Cow::Borrowed(message);
    }
    let mut cut = LOG_MESSAGE_BYTES_MAX - LOG_TRUNCATION_MARKER.len();
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut capped = String::with_capacity(cut + LOG_TRUNCATION_MARKER.len());
    capped.push_str(&message[..cut]);
    capped.push_str(LOG_TRUNCATION_MARKER);
    Cow::Owned(capped)
}

/// Accounted size of a stored message.
fn accounted_bytes(stored_message: &str) -> i64 {
    // A message is at most LOG_MESSAGE_BYTES_MAX (256 KiB), so the cast cannot truncate.
    stored_message.len() as i64 + LOG_EVENT_OVERHEAD_BYTES
}

/// What one append adds to one stream.
struct StreamDelta {
    first_ms: i64,
    last_ms: i64,
    bytes: i64,
}

pub(super) async fn append(
    db: &Db,
    events: &[NewLogEvent],
    ingestion_ms: i64,
) -> Result<(), StoreError> {
    const OP: &str = "append_logs";
    if events.is_empty() {
        return Ok(());
    }
    let stored: Vec<(&NewLogEvent, Cow<'_, str>)> = events
        .iter()
        .map(|e| (e, cap_message(&e.message)))
        .collect();
    let mut deltas: BTreeMap<(&str, &str), StreamDelta> = BTreeMap::new();
    for (event, message) in &stored {
        let bytes = accounted_bytes(message);
        deltas
            .entry((event.group.as_str(), event.stream.as_str()))
            .and_modify(|d| {
                d.first_ms = d.first_ms.min(event.timestamp_ms);
                d.last_ms = d.last_ms.max(event.timestamp_ms);
                d.bytes += bytes;
            })
            .or_insert(StreamDelta {
                first_ms: event.timestamp_ms,
                last_ms: event.timestamp_ms,
                bytes,
            });
    }

    let mut tx = db.begin_write(OP).await?;
    for chunk in stored.chunks(APPEND_ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO log_events \
             (log_group, log_stream, timestamp_ms, ingestion_ms, message, bytes) ",
        );
        insert.push_values(chunk, |mut row, (event, message)| {
            row.push_bind(event.group.as_str())
                .push_bind(event.stream.as_str())
                .push_bind(event.timestamp_ms)
                .push_bind(ingestion_ms)
                .push_bind(message.as_ref())
                .push_bind(accounted_bytes(message));
        });
        insert.build().execute(&mut *tx).await.map_err(db.err(OP))?;
    }
    for ((group, stream), delta) in &deltas {
        sqlx::query(
            "INSERT INTO log_streams (log_group, log_stream, first_ms, last_ms, stored_bytes) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (log_group, log_stream) DO UPDATE SET \
               first_ms = CASE WHEN excluded.first_ms < log_streams.first_ms \
                          THEN excluded.first_ms ELSE log_streams.first_ms END, \
               last_ms = CASE WHEN excluded.last_ms > log_streams.last_ms \
                         THEN excluded.last_ms ELSE log_streams.last_ms END, \
               stored_bytes = log_streams.stored_bytes + excluded.stored_bytes",
        )
        .bind(*group)
        .bind(*stream)
        .bind(delta.first_ms)
        .bind(delta.last_ms)
        .bind(delta.bytes)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    }
    tx.commit().await.map_err(db.err(OP))
}

pub(super) async fn query(db: &Db, q: &LogQuery) -> Result<Vec<LogEventRow>, StoreError> {
    let Some(mut sql) = build_query("", q)? else {
        return Ok(Vec::new());
    };
    sql.build_query_as::<LogEventRow>()
        .fetch_all(db.reader())
        .await
        .map_err(db.err("query_logs"))
}

/// The statement for `q` after `prefix` (tests pass "EXPLAIN QUERY PLAN "), or `None` when
/// `q` can match nothing.
fn build_query(prefix: &str, q: &LogQuery) -> Result<Option<QueryBuilder<Sqlite>>, StoreError> {
    let limit = i64::from(q.limit.min(LOG_QUERY_LIMIT_MAX));
    if limit == 0 {
        return Ok(None);
    }
    // Index choice is forced where SQLite's planner (which has no statistics) picks the
    // time index and then scans the whole group:
    // * a follow read (ingestion cursor) walks the rowid from the cursor on, so its cost is
    //   the rows appended since the cursor, not the size of the group;
    // * a read of named streams seeks each stream in the stream index instead of filtering
    //   every event of the group.
    let source = match (&q.after, &q.streams) {
        (Some(LogCursor::Ingestion { .. }), _) => "log_events NOT INDEXED",
        (_, Some(_)) => "log_events INDEXED BY log_events_group_stream_time",
        _ => "log_events",
    };
    let mut sql = QueryBuilder::<Sqlite>::new(format!(
        "{prefix}SELECT id, log_group, log_stream, timestamp_ms, ingestion_ms, message \
         FROM {source} WHERE log_group = "
    ));
    sql.push_bind(q.group.as_str());
    if let Some(streams) = &q.streams {
        if streams.is_empty() {
            return Ok(None);
        }
        if streams.len() > LOG_QUERY_STREAMS_MAX {
            return Err(StoreError::Invalid {
                what: format!(
                    "query_logs: {} streams named, at most {LOG_QUERY_STREAMS_MAX} allowed",
                    streams.len()
                ),
            });
        }
        sql.push(" AND log_stream IN (");
        let mut list = sql.separated(", ");
        for stream in streams {
            list.push_bind(stream.as_str());
        }
        list.push_unseparated(")");
    }
    if let Some(start_ms) = q.start_ms {
        sql.push(" AND timestamp_ms >= ").push_bind(start_ms);
    }
    if let Some(end_ms) = q.end_ms {
        sql.push(" AND timestamp_ms < ").push_bind(end_ms);
    }
    if let Some(needle) = &q.contains {
        // instr() is a byte-exact, case-sensitive substring test (LIKE is case-insensitive in
        // SQLite and treats % and _ specially). PostgreSQL's equivalent is strpos().
        sql.push(" AND instr(message, ")
            .push_bind(needle.as_str())
            .push(") > 0");
    }
    match q.after {
        None => {
            sql.push(" ORDER BY timestamp_ms, id");
        }
        Some(LogCursor::Time { timestamp_ms, id }) => {
            // (timestamp_ms, id) > cursor, written so the index range starts at timestamp_ms.
            sql.push(" AND timestamp_ms >= ")
                .push_bind(timestamp_ms)
                .push(" AND (timestamp_ms > ")
                .push_bind(timestamp_ms)
                .push(" OR id > ")
                .push_bind(id)
                .push(") ORDER BY timestamp_ms, id");
        }
        Some(LogCursor::Ingestion { id }) => {
            sql.push(" AND id > ").push_bind(id).push(" ORDER BY id");
        }
    }
    sql.push(" LIMIT ").push_bind(limit);
    Ok(Some(sql))
}

pub(super) async fn list_streams(
    db: &Db,
    group: &str,
    limit: u32,
) -> Result<Vec<LogStreamRow>, StoreError> {
    let limit = i64::from(limit.min(LOG_QUERY_LIMIT_MAX));
    sqlx::query_as::<_, LogStreamRow>(
        "SELECT log_group, log_stream, first_ms, last_ms, stored_bytes FROM log_streams \
         WHERE log_group = $1 ORDER BY last_ms DESC, log_stream LIMIT $2",
    )
    .bind(group)
    .bind(limit)
    .fetch_all(db.reader())
    .await
    .map_err(db.err("list_log_streams"))
}

pub(super) async fn trim(db: &Db, group: &str, keep_bytes: i64) -> Result<u64, StoreError> {
    const OP: &str = "trim_logs";
    let keep_bytes = keep_bytes.max(0);
    let mut deleted_total = 0u64;
    // One transaction per chunk of oldest rows, so appends are not blocked for long.
    loop {
        let mut tx = db.begin_write(OP).await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams WHERE log_group = $1",
        )
        .bind(group)
        .fetch_one(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        let excess = total - keep_bytes;
        if excess <= 0 {
            tx.commit().await.map_err(db.err(OP))?;
            return Ok(deleted_total);
        }
        let oldest: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, timestamp_ms, log_stream, bytes FROM log_events \
             WHERE log_group = $1 ORDER BY timestamp_ms, id LIMIT $2",
        )
        .bind(group)
        .bind(TRIM_CHUNK_ROWS)
        .fetch_all(&mut *tx)
        .await
        .map_err(db.err(OP))?;

        // Walk the oldest rows until they cover the excess; the last one is the cut-off.
        let mut removed = 0i64;
        let mut cutoff = None;
        let mut per_stream: BTreeMap<String, i64> = BTreeMap::new();
        for (id, timestamp_ms, stream, bytes) in oldest {
            removed += bytes;
            *per_stream.entry(stream).or_insert(0) += bytes;
            cutoff = Some((timestamp_ms, id));
            if removed >= excess {
                break;
            }
        }
        let Some((cut_ms, cut_id)) = cutoff else {
            // Counters say bytes remain but no event does: drop the stale counters.
            sqlx::query("DELETE FROM log_streams WHERE log_group = $1")
                .bind(group)
                .execute(&mut *tx)
                .await
                .map_err(db.err(OP))?;
            tx.commit().await.map_err(db.err(OP))?;
            return Ok(deleted_total);
        };

        // Exactly the rows walked above: every row of the group up to (cut_ms, cut_id).
        let deleted = sqlx::query(
            "DELETE FROM log_events WHERE log_group = $1 \
             AND timestamp_ms <= $2 AND (timestamp_ms < $2 OR id <= $3)",
        )
        .bind(group)
        .bind(cut_ms)
        .bind(cut_id)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?
        .rows_affected();

        for (stream, bytes) in &per_stream {
            let remaining_first: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(timestamp_ms) FROM log_events \
                 WHERE log_group = $1 AND log_stream = $2",
            )
            .bind(group)
            .bind(stream)
            .fetch_one(&mut *tx)
            .await
            .map_err(db.err(OP))?;
            match remaining_first {
                Some(first_ms) => {
                    sqlx::query(
                        "UPDATE log_streams SET stored_bytes = stored_bytes - $3, first_ms = $4 \
                         WHERE log_group = $1 AND log_stream = $2",
                    )
                    .bind(group)
                    .bind(stream)
                    .bind(bytes)
                    .bind(first_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(db.err(OP))?;
                }
                None => {
                    sqlx::query("DELETE FROM log_streams WHERE log_group = $1 AND log_stream = $2")
                        .bind(group)
                        .bind(stream)
                        .execute(&mut *tx)
                        .await
                        .map_err(db.err(OP))?;
                }
            }
        }
        tx.commit().await.map_err(db.err(OP))?;
        deleted_total += deleted;
        if removed >= excess {
            return Ok(deleted_total);
        }
    }
}

pub(super) async fn delete_group(db: &Db, group: &str) -> Result<u64, StoreError> {
    const OP: &str = "delete_log_group";
    let mut tx = db.begin_write(OP).await?;
    let deleted = sqlx::query("DELETE FROM log_events WHERE log_group = $1")
        .bind(group)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?
        .rows_affected();
    sqlx::query("DELETE FROM log_streams WHERE log_group = $1")
        .bind(group)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite picks for `q`, one line per step.
    async fn plan(db: &Db, q: &LogQuery) -> Vec<String> {
        let Some(mut sql) = build_query("EXPLAIN QUERY PLAN ", q).unwrap() else {
            return Vec::new();
        };
        let rows: Vec<(i64, i64, i64, String)> =
            sql.build_query_as().fetch_all(db.reader()).await.unwrap();
        rows.into_iter().map(|r| r.3).collect()
    }

    #[tokio::test]
    async fn log_reads_use_an_index_range_and_need_no_sort() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::open(dir.path()).await.unwrap();
        let base = LogQuery {
            group: "g".to_string(),
            limit: 100,
            ..LogQuery::default()
        };
        let one_stream = LogQuery {
            streams: Some(vec!["s".to_string()]),
            ..base.clone()
        };
        let cases = [
            ("all", base.clone(), "log_events_group_time (log_group=?)"),
            (
                "time range",
                LogQuery {
                    start_ms: Some(1),
                    end_ms: Some(2),
                    ..base.clone()
                },
                "log_events_group_time (log_group=? AND timestamp_ms>? AND timestamp_ms<?)",
            ),
            (
                "time cursor",
                LogQuery {
                    after: Some(LogCursor::Time {
                        timestamp_ms: 1,
                        id: 1,
                    }),
                    ..base.clone()
                },
                "log_events_group_time (log_group=? AND timestamp_ms>?)",
            ),
            (
                "one stream",
                one_stream.clone(),
                "log_events_group_stream_time (log_group=? AND log_stream=?)",
            ),
            (
                "follow",
                LogQuery {
                    after: Some(LogCursor::Ingestion { id: 1 }),
                    ..base.clone()
                },
                "INTEGER PRIMARY KEY (rowid>?)",
            ),
        ];
        for (name, q, expected) in cases {
            let steps = plan(&store.logs, &q).await;
            let text = steps.join(" | ");
            assert!(text.contains(expected), "{name}: {text}");
            assert!(!text.contains("TEMP B-TREE"), "{name} sorts: {text}");
        }
        store.close().await;
    }

    #[test]
    fn short_messages_are_kept_as_is() {
        assert!(matches!(cap_message("hello"), Cow::Borrowed("hello")));
        let exact = "x".repeat(LOG_MESSAGE_BYTES_MAX);
        assert_eq!(cap_message(&exact).len(), LOG_MESSAGE_BYTES_MAX);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary_and_marked() {
        // 'é' is two bytes, so the cut point falls inside a character for one parity.
        for prefix in ["", "a"] {
            let long = format!("{prefix}{}", "é".repeat(LOG_MESSAGE_BYTES_MAX));
            let capped = cap_message(&long);
            assert!(capped.len() <= LOG_MESSAGE_BYTES_MAX);
            assert!(capped.len() >= LOG_MESSAGE_BYTES_MAX - 1);
            assert!(capped.ends_with(LOG_TRUNCATION_MARKER));
            assert!(long.starts_with(&capped[..capped.len() - LOG_TRUNCATION_MARKER.len()]));
        }
    }
}
