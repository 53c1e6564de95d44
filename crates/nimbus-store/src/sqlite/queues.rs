//! The queue service in `nimbus.db`: queues, messages and deduplication keys.

use super::{Db, SqliteStore};
use crate::StoreError;
use crate::queues::{
    LeaseOutcome, MessageRow, NewMessage, PURGE_BATCH_MAX, QUEUE_LIST_LIMIT_MAX, QueueCounts,
    QueueRow, QueueStore, QueueWrite, RECEIVE_LIMIT_MAX, ReceiveOutcome, ReceiveSpec, SendOutcome,
    WriteOutcome,
};
use async_trait::async_trait;

/// The columns of [`MessageRow`], in order (a macro: sqlx takes only static SQL text).
macro_rules! message_columns {
    () => {
        "seq, queue, message_id, body, attributes_json, md5_body, md5_attributes, system_json, \
         group_id, dedup_id, sent_ms, expires_ms, visible_ms, receive_count, first_receive_ms, \
         receipt"
    };
}

/// The columns of [`QueueRow`], in order.
macro_rules! queue_columns {
    () => {
        "name, fifo, attributes_json, tags_json, created_ms, modified_ms"
    };
}

/// Rounds of candidate selection one receive makes: each round moves or leases what it
/// selected, so more rounds are needed only when poison messages were moved.
const RECEIVE_ROUNDS_MAX: usize = 8;

/// Candidates selected beyond the messages wanted, so that poison messages at the head of
/// the queue (moved to the dead-letter queue, not returned) do not starve the receive: one
/// receive moves up to RECEIVE_ROUNDS_MAX × (wanted + this) of them.
const RECEIVE_CANDIDATE_SLACK: usize = 64;

async fn create_queue(db: &Db, row: &QueueRow) -> Result<bool, StoreError> {
    const OP: &str = "create_queue";
    let mut tx = db.begin_write(OP).await?;
    let done = sqlx::query(
        "INSERT INTO queues (name, fifo, attributes_json, tags_json, created_ms, modified_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&row.name)
    .bind(row.fifo)
    .bind(&row.attributes_json)
    .bind(&row.tags_json)
    .bind(row.created_ms)
    .bind(row.modified_ms)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected() == 1)
}

async fn get_queue(db: &Db, name: &str) -> Result<Option<QueueRow>, StoreError> {
    let sql = concat!("SELECT ", queue_columns!(), " FROM queues WHERE name = $1");
    sqlx::query_as::<_, QueueRow>(sql)
        .bind(name)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_queue"))
}

async fn list_queues(
    db: &Db,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<QueueRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        queue_columns!(),
        " FROM queues WHERE substr(name, 1, length($1)) = $1 AND name > $2 \
          ORDER BY name LIMIT $3"
    );
    sqlx::query_as::<_, QueueRow>(sql)
        .bind(prefix)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit.min(QUEUE_LIST_LIMIT_MAX)))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_queues"))
}

async fn update_queue(db: &Db, row: &QueueRow) -> Result<bool, StoreError> {
    const OP: &str = "update_queue";
    let mut tx = db.begin_write(OP).await?;
    let done = sqlx::query(
        "UPDATE queues SET attributes_json = $1, tags_json = $2, modified_ms = $3 WHERE name = $4",
    )
    .bind(&row.attributes_json)
    .bind(&row.tags_json)
    .bind(row.modified_ms)
    .bind(&row.name)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected() == 1)
}

async fn delete_queue(db: &Db, name: &str) -> Result<bool, StoreError> {
    const OP: &str = "delete_queue";
    let mut tx = db.begin_write(OP).await?;
    // Children first: explicit deletes are cheaper to reason about than a cascade's cost.
    for sql in [
        "DELETE FROM queue_dedup WHERE queue = $1",
        "DELETE FROM queue_messages WHERE queue = $1",
    ] {
        sqlx::query(sql)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db.err(OP))?;
    }
    let done = sqlx::query("DELETE FROM queues WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected() == 1)
}

async fn purge_queue(db: &Db, name: &str) -> Result<u64, StoreError> {
    const OP: &str = "purge_queue";
    let mut tx = db.begin_write(OP).await?;
    let done = sqlx::query("DELETE FROM queue_messages WHERE queue = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(done.rows_affected())
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// One send inside a group-commit transaction.
async fn send_in(
    db: &Db,
    tx: &mut Tx,
    queue: &str,
    now_ms: i64,
    messages: &[NewMessage],
) -> Result<Option<Vec<SendOutcome>>, StoreError> {
    const OP: &str = "apply_writes";
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM queues WHERE name = $1")
        .bind(queue)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db.err(OP))?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut outcomes = Vec::with_capacity(messages.len());
    for m in messages {
        if let Some(key) = &m.dedup_key {
            let seen: Option<(String, i64)> = sqlx::query_as(
                "SELECT message_id, seq FROM queue_dedup \
                 WHERE queue = $1 AND dedup_key = $2 AND expires_ms > $3",
            )
            .bind(queue)
            .bind(key)
            .bind(now_ms)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db.err(OP))?;
            if let Some((message_id, seq)) = seen {
                outcomes.push(SendOutcome {
                    message_id,
                    seq,
                    duplicate: true,
                });
                continue;
            }
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO queue_messages (queue, message_id, body, attributes_json, md5_body, \
             md5_attributes, system_json, group_id, dedup_id, sent_ms, expires_ms, visible_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
        )
        .bind(queue)
        .bind(&m.message_id)
        .bind(&m.body)
        .bind(&m.attributes_json)
        .bind(&m.md5_body)
        .bind(&m.md5_attributes)
        .bind(&m.system_json)
        .bind(&m.group_id)
        .bind(&m.dedup_id)
        .bind(m.sent_ms)
        .bind(m.expires_ms)
        .bind(m.visible_ms)
        .fetch_one(&mut **tx)
        .await
        .map_err(db.err(OP))?;
        if let Some(key) = &m.dedup_key {
            sqlx::query(
                "INSERT INTO queue_dedup (queue, dedup_key, message_id, seq, expires_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (queue, dedup_key) DO UPDATE SET \
                 message_id = excluded.message_id, seq = excluded.seq, \
                 expires_ms = excluded.expires_ms",
            )
            .bind(queue)
            .bind(key)
            .bind(&m.message_id)
            .bind(seq)
            .bind(m.dedup_expires_ms)
            .execute(&mut **tx)
            .await
            .map_err(db.err(OP))?;
        }
        outcomes.push(SendOutcome {
            message_id: m.message_id.clone(),
            seq,
            duplicate: false,
        });
    }
    Ok(Some(outcomes))
}

async fn receive_messages(db: &Db, spec: &ReceiveSpec) -> Result<ReceiveOutcome, StoreError> {
    const OP: &str = "receive_messages";
    let limit = spec.limit.min(RECEIVE_LIMIT_MAX) as usize;
    let mut out = ReceiveOutcome::default();
    if limit == 0 {
        return Ok(out);
    }
    let mut tx = db.begin_write(OP).await?;
    // A redrive to a queue that does not exist leaves messages where they are (as SQS does).
    let redrive = match &spec.redrive {
        Some(r) => {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM queues WHERE name = $1")
                .bind(&r.dlq)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db.err(OP))?;
            exists.map(|_| r)
        }
        None => None,
    };
    for _ in 0..RECEIVE_ROUNDS_MAX {
        let want = limit - out.messages.len();
        if want == 0 {
            break;
        }
        // FIFO: a group with a message in flight is skipped entirely (one batch in flight per
        // group keeps the group's order).
        let sql = if spec.fifo {
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM queue_messages INDEXED BY queue_messages_order \
                  WHERE queue = $1 AND visible_ms <= $2 AND expires_ms > $2 \
                  AND receipt IS NOT $4 \
                  AND (group_id IS NULL OR group_id NOT IN ( \
                    SELECT group_id FROM queue_messages INDEXED BY queue_messages_visible \
                    WHERE queue = $1 AND visible_ms > $2 AND receive_count > 0 \
                    AND group_id IS NOT NULL)) \
                  ORDER BY seq LIMIT $3"
            )
        } else {
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM queue_messages INDEXED BY queue_messages_order \
                  WHERE queue = $1 AND visible_ms <= $2 AND expires_ms > $2 \
                  AND receipt IS NOT $4 \
                  ORDER BY seq LIMIT $3"
            )
        };
        let candidates = sqlx::query_as::<_, MessageRow>(sql)
            .bind(&spec.queue)
            .bind(spec.now_ms)
            .bind((want + RECEIVE_CANDIDATE_SLACK) as i64)
            // A message leased earlier in this call (visibility 0 leaves it visible) is not
            // taken twice.
            .bind(&spec.receipt)
            .fetch_all(&mut *tx)
            .await
            .map_err(db.err(OP))?;
        if candidates.is_empty() {
            break;
        }
        let mut moved_this_round = false;
        for m in candidates {
            if out.messages.len() == limit {
                break;
            }
            if let Some(r) = redrive
                && m.receive_count >= r.max_receive_count
            {
                move_to_dlq(db, &mut tx, &m, r, spec.now_ms).await?;
                out.moved += 1;
                moved_this_round = true;
                continue;
            }
            let row = sqlx::query_as::<_, MessageRow>(concat!(
                "UPDATE queue_messages SET visible_ms = $1, receive_count = receive_count + 1, \
                 first_receive_ms = COALESCE(first_receive_ms, $2), receipt = $3 \
                 WHERE seq = $4 RETURNING ",
                message_columns!()
            ))
            .bind(spec.visible_until_ms)
            .bind(spec.now_ms)
            .bind(&spec.receipt)
            .bind(m.seq)
            .fetch_one(&mut *tx)
            .await
            .map_err(db.err(OP))?;
            out.messages.push(row);
        }
        if !moved_this_round {
            break;
        }
    }
    tx.commit().await.map_err(db.err(OP))?;
    Ok(out)
}

async fn move_to_dlq(
    db: &Db,
    tx: &mut Tx,
    m: &MessageRow,
    r: &crate::queues::Redrive,
    now_ms: i64,
) -> Result<(), StoreError> {
    const OP: &str = "receive_messages";
    // Retention keeps counting from the original enqueue (SQS does the same for standard
    // queues), so a message cannot live forever by bouncing between queues.
    sqlx::query(
        "INSERT INTO queue_messages (queue, message_id, body, attributes_json, md5_body, \
         md5_attributes, system_json, group_id, dedup_id, sent_ms, expires_ms, visible_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, \
           json_set(COALESCE($7, '{}'), '$.DeadLetterQueueSourceArn', $13), \
           $8, $9, $10, $11, $12)",
    )
    .bind(&r.dlq)
    .bind(&m.message_id)
    .bind(&m.body)
    .bind(&m.attributes_json)
    .bind(&m.md5_body)
    .bind(&m.md5_attributes)
    .bind(&m.system_json)
    .bind(&m.group_id)
    .bind(&m.dedup_id)
    .bind(m.sent_ms)
    .bind(m.sent_ms.saturating_add(r.dlq_retention_ms))
    .bind(now_ms)
    .bind(&r.source_arn)
    .execute(&mut **tx)
    .await
    .map_err(db.err(OP))?;
    sqlx::query("DELETE FROM queue_messages WHERE seq = $1")
        .bind(m.seq)
        .execute(&mut **tx)
        .await
        .map_err(db.err(OP))?;
    Ok(())
}

async fn lease_state(
    db: &Db,
    tx: &mut Tx,
    op: &'static str,
    queue: &str,
    seq: i64,
) -> Result<Option<(Option<String>, i64, i64)>, StoreError> {
    sqlx::query_as(
        "SELECT receipt, visible_ms, expires_ms FROM queue_messages WHERE seq = $1 AND queue = $2",
    )
    .bind(seq)
    .bind(queue)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db.err(op))
}

/// One delete inside a group-commit transaction.
async fn delete_in(
    db: &Db,
    tx: &mut Tx,
    queue: &str,
    seq: i64,
    receipt: &str,
) -> Result<LeaseOutcome, StoreError> {
    const OP: &str = "apply_writes";
    let done =
        sqlx::query("DELETE FROM queue_messages WHERE seq = $1 AND queue = $2 AND receipt = $3")
            .bind(seq)
            .bind(queue)
            .bind(receipt)
            .execute(&mut **tx)
            .await
            .map_err(db.err(OP))?;
    Ok(if done.rows_affected() == 1 {
        LeaseOutcome::Done
    } else if lease_state(db, tx, OP, queue, seq).await?.is_some() {
        LeaseOutcome::Stale
    } else {
        LeaseOutcome::Gone
    })
}

async fn apply_writes(
    db: &Db,
    now_ms: i64,
    writes: &[QueueWrite],
) -> Result<Vec<WriteOutcome>, StoreError> {
    const OP: &str = "apply_writes";
    let mut tx = db.begin_write(OP).await?;
    let mut out = Vec::with_capacity(writes.len());
    for w in writes {
        out.push(match w {
            QueueWrite::Send { queue, messages } => {
                WriteOutcome::Sent(send_in(db, &mut tx, queue, now_ms, messages).await?)
            }
            QueueWrite::Delete {
                queue,
                seq,
                receipt,
            } => WriteOutcome::Deleted(delete_in(db, &mut tx, queue, *seq, receipt).await?),
        });
    }
    tx.commit().await.map_err(db.err(OP))?;
    Ok(out)
}

async fn change_visibility(
    db: &Db,
    queue: &str,
    seq: i64,
    receipt: &str,
    now_ms: i64,
    visible_ms: i64,
) -> Result<LeaseOutcome, StoreError> {
    const OP: &str = "change_visibility";
    let mut tx = db.begin_write(OP).await?;
    let outcome = match lease_state(db, &mut tx, OP, queue, seq).await? {
        None => LeaseOutcome::Gone,
        // Past retention: gone, even before the janitor removes the row.
        Some((_, _, expires)) if expires <= now_ms => LeaseOutcome::Gone,
        Some((current, _, _)) if current.as_deref() != Some(receipt) => LeaseOutcome::Stale,
        Some((_, visible, _)) if visible <= now_ms => LeaseOutcome::NotInFlight,
        Some(_) => {
            sqlx::query("UPDATE queue_messages SET visible_ms = $1 WHERE seq = $2")
                .bind(visible_ms)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(db.err(OP))?;
            LeaseOutcome::Done
        }
    };
    tx.commit().await.map_err(db.err(OP))?;
    Ok(outcome)
}

async fn has_visible(db: &Db, queue: &str, now_ms: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM queue_messages INDEXED BY queue_messages_visible \
         WHERE queue = $1 AND visible_ms <= $2 AND expires_ms > $2 LIMIT 1",
    )
    .bind(queue)
    .bind(now_ms)
    .fetch_optional(db.reader())
    .await
    .map_err(db.err("has_visible"))?;
    Ok(found.is_some())
}

/// Visible, in flight, delayed, oldest `sent_ms`.
type CountsRow = (i64, i64, i64, Option<i64>);

async fn queue_counts(db: &Db, queue: &str, now_ms: i64) -> Result<QueueCounts, StoreError> {
    let (visible, in_flight, delayed, oldest_sent_ms): CountsRow = sqlx::query_as(
        "SELECT \
           COALESCE(SUM(visible_ms <= $2), 0), \
           COALESCE(SUM(visible_ms > $2 AND receive_count > 0), 0), \
           COALESCE(SUM(visible_ms > $2 AND receive_count = 0), 0), \
           MIN(sent_ms) \
         FROM queue_messages WHERE queue = $1 AND expires_ms > $2",
    )
    .bind(queue)
    .bind(now_ms)
    .fetch_one(db.reader())
    .await
    .map_err(db.err("queue_counts"))?;
    Ok(QueueCounts {
        visible,
        in_flight,
        delayed,
        oldest_sent_ms,
    })
}

async fn next_visible_ms(db: &Db, queue: &str, now_ms: i64) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "SELECT MIN(visible_ms) FROM queue_messages INDEXED BY queue_messages_visible \
         WHERE queue = $1 AND visible_ms > $2",
    )
    .bind(queue)
    .bind(now_ms)
    .fetch_one(db.reader())
    .await
    .map_err(db.err("next_visible_ms"))
}

async fn purge_expired_messages(db: &Db, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
    const OP: &str = "purge_expired_messages";
    let limit = i64::from(limit.min(PURGE_BATCH_MAX));
    let mut tx = db.begin_write(OP).await?;
    let messages = sqlx::query(
        "DELETE FROM queue_messages WHERE seq IN ( \
           SELECT seq FROM queue_messages WHERE expires_ms <= $1 LIMIT $2)",
    )
    .bind(now_ms)
    .bind(limit)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    let keys = sqlx::query(
        "DELETE FROM queue_dedup WHERE rowid IN ( \
           SELECT rowid FROM queue_dedup WHERE expires_ms <= $1 LIMIT $2)",
    )
    .bind(now_ms)
    .bind(limit)
    .execute(&mut *tx)
    .await
    .map_err(db.err(OP))?;
    tx.commit().await.map_err(db.err(OP))?;
    Ok(messages.rows_affected() + keys.rows_affected())
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn create_queue(&self, row: &QueueRow) -> Result<bool, StoreError> {
        create_queue(&self.control, row).await
    }

    async fn get_queue(&self, name: &str) -> Result<Option<QueueRow>, StoreError> {
        get_queue(&self.control, name).await
    }

    async fn list_queues(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QueueRow>, StoreError> {
        list_queues(&self.control, prefix, after, limit).await
    }

    async fn update_queue(&self, row: &QueueRow) -> Result<bool, StoreError> {
        update_queue(&self.control, row).await
    }

    async fn delete_queue(&self, name: &str) -> Result<bool, StoreError> {
        delete_queue(&self.control, name).await
    }

    async fn purge_queue(&self, name: &str) -> Result<u64, StoreError> {
        purge_queue(&self.control, name).await
    }

    async fn apply_writes(
        &self,
        now_ms: i64,
        writes: &[QueueWrite],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        apply_writes(&self.control, now_ms, writes).await
    }

    async fn receive_messages(&self, spec: &ReceiveSpec) -> Result<ReceiveOutcome, StoreError> {
        receive_messages(&self.control, spec).await
    }

    async fn change_visibility(
        &self,
        queue: &str,
        seq: i64,
        receipt: &str,
        now_ms: i64,
        visible_ms: i64,
    ) -> Result<LeaseOutcome, StoreError> {
        change_visibility(&self.control, queue, seq, receipt, now_ms, visible_ms).await
    }

    async fn has_visible(&self, queue: &str, now_ms: i64) -> Result<bool, StoreError> {
        has_visible(&self.control, queue, now_ms).await
    }

    async fn queue_counts(&self, queue: &str, now_ms: i64) -> Result<QueueCounts, StoreError> {
        queue_counts(&self.control, queue, now_ms).await
    }

    async fn next_visible_ms(&self, queue: &str, now_ms: i64) -> Result<Option<i64>, StoreError> {
        next_visible_ms(&self.control, queue, now_ms).await
    }

    async fn purge_expired_messages(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        purge_expired_messages(&self.control, now_ms, limit).await
    }
}
