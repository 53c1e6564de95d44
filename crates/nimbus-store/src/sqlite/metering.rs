//! Metering in `nimbus.db`: appends are batched by the engine (one transaction per batch,
//! so one fsync for many invocations); aggregates are sums over an indexed time window.

use super::SqliteStore;
use crate::StoreError;
use crate::metering::{
    BusyMinutesRow, METERING_LIST_LIMIT_MAX, METERING_PRUNE_BATCH_ROWS, MINUTE_MS, MeteringQuery,
    MeteringRecord, MeteringStore, MeteringTotalRow, MinuteStatsRow, ProvisionedTotalRow,
    ProvisionedUsageRow,
};
use async_trait::async_trait;

/// The columns of a [`MeteringRecord`], in its field order (a macro: sqlx takes only static
/// SQL text, which `concat!` builds).
macro_rules! columns {
    () => {
        "request_id, function_name, version, trigger, cold, provisioned, architecture, init_ms, \
         duration_ms, billed_ms, memory_mb, max_memory_used_mb, ephemeral_mb, outcome, \
         error_type, started_ms"
    };
}

/// Records per INSERT statement: 16 columns each stays far below SQLite's 32,766 bound
/// parameters, and larger statements gain nothing measurable.
const INSERT_ROWS_MAX: usize = 100;

#[async_trait]
impl MeteringStore for SqliteStore {
    async fn append_metering(&self, records: &[MeteringRecord]) -> Result<(), StoreError> {
        const OP: &str = "append_metering";
        if records.is_empty() {
            return Ok(());
        }
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        // Multi-row INSERTs: one statement per chunk instead of per record is what lets the
        // writer keep up with the invoke path (see the `metering` benchmark).
        for chunk in records.chunks(INSERT_ROWS_MAX) {
            let mut insert: sqlx::QueryBuilder<sqlx::Sqlite> =
                sqlx::QueryBuilder::new(concat!("INSERT INTO metering (", columns!(), ") "));
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(&r.request_id)
                    .push_bind(&r.function_name)
                    .push_bind(&r.version)
                    .push_bind(&r.trigger)
                    .push_bind(r.cold)
                    .push_bind(r.provisioned)
                    .push_bind(&r.architecture)
                    .push_bind(r.init_ms)
                    .push_bind(r.duration_ms)
                    .push_bind(r.billed_ms)
                    .push_bind(r.memory_mb)
                    .push_bind(r.max_memory_used_mb)
                    .push_bind(r.ephemeral_mb)
                    .push_bind(&r.outcome)
                    .push_bind(&r.error_type)
                    .push_bind(r.started_ms);
            });
            insert.build().execute(&mut *tx).await.map_err(db.err(OP))?;
        }
        tx.commit().await.map_err(db.err(OP))
    }

    async fn append_provisioned_usage(
        &self,
        rows: &[ProvisionedUsageRow],
    ) -> Result<(), StoreError> {
        const OP: &str = "append_provisioned_usage";
        if rows.is_empty() {
            return Ok(());
        }
        if let Some(bad) = rows.iter().find(|r| r.end_ms <= r.start_ms) {
            return Err(StoreError::Invalid {
                what: format!(
                    "provisioned interval of {} ends ({}) before it starts ({})",
                    bad.function_name, bad.end_ms, bad.start_ms
                ),
            });
        }
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO provisioned_metering (function_name, qualifier, version, \
                 architecture, memory_mb, concurrency, start_ms, end_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&r.function_name)
            .bind(&r.qualifier)
            .bind(&r.version)
            .bind(&r.architecture)
            .bind(r.memory_mb)
            .bind(r.concurrency)
            .bind(r.start_ms)
            .bind(r.end_ms)
            .execute(&mut *tx)
            .await
            .map_err(db.err(OP))?;
        }
        tx.commit().await.map_err(db.err(OP))
    }

    async fn metering_totals(
        &self,
        q: &MeteringQuery,
    ) -> Result<Vec<MeteringTotalRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, MeteringTotalRow>(
            "SELECT function_name, version, architecture, provisioned, memory_mb, ephemeral_mb, \
             COUNT(*) AS requests, SUM(billed_ms) AS billed_ms, SUM(cold) AS cold_starts, \
             SUM(outcome != 'success') AS errors \
             FROM metering \
             WHERE started_ms >= $1 AND started_ms < $2 \
             AND ($3 IS NULL OR function_name = $3) AND ($4 IS NULL OR version = $4) \
             GROUP BY function_name, version, architecture, provisioned, memory_mb, ephemeral_mb \
             ORDER BY function_name, version",
        )
        .bind(q.since_ms)
        .bind(q.until_ms)
        .bind(q.function.as_deref())
        .bind(q.version.as_deref())
        .fetch_all(db.reader())
        .await
        .map_err(db.err("metering_totals"))
    }

    async fn provisioned_totals(
        &self,
        q: &MeteringQuery,
    ) -> Result<Vec<ProvisionedTotalRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, ProvisionedTotalRow>(
            "SELECT function_name, version, architecture, memory_mb, \
             SUM(concurrency * (MIN(end_ms, $2) - MAX(start_ms, $1))) AS concurrency_ms \
             FROM provisioned_metering \
             WHERE end_ms > $1 AND start_ms < $2 \
             AND ($3 IS NULL OR function_name = $3) AND ($4 IS NULL OR version = $4) \
             GROUP BY function_name, version, architecture, memory_mb \
             ORDER BY function_name, version",
        )
        .bind(q.since_ms)
        .bind(q.until_ms)
        .bind(q.function.as_deref())
        .bind(q.version.as_deref())
        .fetch_all(db.reader())
        .await
        .map_err(db.err("provisioned_totals"))
    }

    async fn busy_minutes(&self, q: &MeteringQuery) -> Result<Vec<BusyMinutesRow>, StoreError> {
        let db = &self.control;
        // An attempt covers [started, started + busy); busy is rounded up to whole ms (an
        // exact integer comparison) and an empty attempt stays in its first minute.
        sqlx::query_as::<_, BusyMinutesRow>(
            "WITH a AS (SELECT function_name, started_ms, memory_mb, \
                 duration_ms + COALESCE(init_ms, 0) AS busy, \
                 CAST(duration_ms + COALESCE(init_ms, 0) AS INTEGER) \
                   + (duration_ms + COALESCE(init_ms, 0) \
                      > CAST(duration_ms + COALESCE(init_ms, 0) AS INTEGER)) AS busy_up \
               FROM metering \
               WHERE started_ms >= $1 AND started_ms < $2 \
               AND ($3 IS NULL OR function_name = $3) AND ($4 IS NULL OR version = $4)) \
             SELECT function_name, started_ms / $5 AS first_minute, \
               MAX(started_ms, started_ms + busy_up - 1) / $5 AS last_minute, \
               COUNT(*) AS attempts, SUM(started_ms) AS started_ms_sum, \
               SUM(busy) AS busy_ms, MAX(memory_mb) AS memory_mb \
             FROM a GROUP BY function_name, first_minute, last_minute \
             ORDER BY function_name, first_minute, last_minute",
        )
        .bind(q.since_ms)
        .bind(q.until_ms)
        .bind(q.function.as_deref())
        .bind(q.version.as_deref())
        .bind(MINUTE_MS)
        .fetch_all(db.reader())
        .await
        .map_err(db.err("busy_minutes"))
    }

    async fn minute_stats(
        &self,
        function: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<MinuteStatsRow>, StoreError> {
        let db = &self.control;
        // Nearest rank: the p-th percentile of n values is the ⌈p·n/100⌉-th smallest.
        sqlx::query_as::<_, MinuteStatsRow>(
            "WITH r AS (SELECT started_ms / $4 AS minute, duration_ms, cold, \
                 ROW_NUMBER() OVER (PARTITION BY started_ms / $4 ORDER BY duration_ms) AS rank, \
                 COUNT(*) OVER (PARTITION BY started_ms / $4) AS n \
               FROM metering \
               WHERE function_name = $1 AND started_ms >= $2 AND started_ms < $3) \
             SELECT minute, MAX(n) AS attempts, SUM(cold) AS cold_starts, \
               MIN(CASE WHEN rank >= (n * 50 + 99) / 100 THEN duration_ms END) AS p50_ms, \
               MIN(CASE WHEN rank >= (n * 99 + 99) / 100 THEN duration_ms END) AS p99_ms \
             FROM r GROUP BY minute ORDER BY minute",
        )
        .bind(function)
        .bind(since_ms)
        .bind(until_ms)
        .bind(MINUTE_MS)
        .fetch_all(db.reader())
        .await
        .map_err(db.err("minute_stats"))
    }

    async fn list_metering(
        &self,
        function: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MeteringRecord>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, MeteringRecord>(concat!(
            "SELECT ",
            columns!(),
            " FROM metering WHERE ($1 IS NULL OR function_name = $1) ORDER BY seq DESC LIMIT $2"
        ))
        .bind(function)
        .bind(i64::from(limit.min(METERING_LIST_LIMIT_MAX)))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_metering"))
    }

    async fn prune_metering(&self, before_ms: i64) -> Result<u64, StoreError> {
        const OP: &str = "prune_metering";
        let db = &self.control;
        let statements = [
            "DELETE FROM metering WHERE seq IN \
             (SELECT seq FROM metering WHERE started_ms < $1 LIMIT $2)",
            "DELETE FROM provisioned_metering WHERE seq IN \
             (SELECT seq FROM provisioned_metering WHERE end_ms < $1 LIMIT $2)",
        ];
        let mut deleted = 0;
        for sql in statements {
            loop {
                let mut tx = db.begin_write(OP).await?;
                let done = sqlx::query(sql)
                    .bind(before_ms)
                    .bind(METERING_PRUNE_BATCH_ROWS)
                    .execute(&mut *tx)
                    .await
                    .map_err(db.err(OP))?;
                tx.commit().await.map_err(db.err(OP))?;
                deleted += done.rows_affected();
                if done.rows_affected() < METERING_PRUNE_BATCH_ROWS as u64 {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, function: &str, started_ms: i64, billed_ms: i64) -> MeteringRecord {
        MeteringRecord {
            request_id: id.into(),
            function_name: function.into(),
            version: "$LATEST".into(),
            trigger: "sync".into(),
            cold: id.ends_with("-cold"),
            provisioned: false,
            architecture: "x86_64".into(),
            init_ms: id.ends_with("-cold").then_some(120.5),
            duration_ms: billed_ms as f64 - 0.25,
            billed_ms,
            memory_mb: 128,
            max_memory_used_mb: 40,
            ephemeral_mb: 512,
            outcome: if id.starts_with("err") {
                "function_error"
            } else {
                "success"
            }
            .into(),
            error_type: None,
            started_ms,
        }
    }

    fn window(since_ms: i64, until_ms: i64) -> MeteringQuery {
        MeteringQuery {
            since_ms,
            until_ms,
            ..MeteringQuery::default()
        }
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).await.expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn appends_round_trip_exactly_newest_first() {
        let (_dir, s) = store().await;
        let batch = vec![
            record("a-cold", "f", 1_000, 160),
            record("b", "f", 2_000, 4),
            record("c", "g", 3_000, 7),
        ];
        s.append_metering(&batch).await.expect("append");
        let all = s.list_metering(None, 10).await.expect("list");
        let mut expected = batch.clone();
        expected.reverse();
        assert_eq!(all, expected);
        let f = s.list_metering(Some("f"), 1).await.expect("list f");
        assert_eq!(f, vec![batch[1].clone()]);
    }

    #[tokio::test]
    async fn totals_group_by_what_prices_differ_by_within_the_window() {
        let (_dir, s) = store().await;
        let mut arm = record("d", "f", 2_500, 10);
        arm.architecture = "arm64".into();
        s.append_metering(&[
            record("a-cold", "f", 1_000, 160),
            record("err-b", "f", 2_000, 4),
            arm,
            record("c", "g", 3_000, 7),
            record("late", "f", 9_000, 1_000),
        ])
        .await
        .expect("append");
        let rows = s
            .metering_totals(&window(1_000, 9_000))
            .await
            .expect("totals");
        let f_x86 = rows
            .iter()
            .find(|r| r.function_name == "f" && r.architecture == "x86_64")
            .expect("f x86");
        assert_eq!(
            (
                f_x86.requests,
                f_x86.billed_ms,
                f_x86.cold_starts,
                f_x86.errors
            ),
            (2, 164, 1, 1)
        );
        assert_eq!(rows.len(), 3, "{rows:?}");
        let mut q = window(0, i64::MAX);
        q.function = Some("g".into());
        let g = s.metering_totals(&q).await.expect("g");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].billed_ms, 7);
        q.version = Some("1".into());
        assert!(s.metering_totals(&q).await.expect("g v1").is_empty());
    }

    #[tokio::test]
    async fn provisioned_intervals_are_cut_to_the_window() {
        let (_dir, s) = store().await;
        let row = |start_ms, end_ms| ProvisionedUsageRow {
            function_name: "f".into(),
            qualifier: "live".into(),
            version: "1".into(),
            architecture: "x86_64".into(),
            memory_mb: 256,
            concurrency: 2,
            start_ms,
            end_ms,
        };
        s.append_provisioned_usage(&[row(0, 60_000), row(60_000, 120_000)])
            .await
            .expect("append");
        let rows = s
            .provisioned_totals(&window(30_000, 90_000))
            .await
            .expect("totals");
        assert_eq!(rows.len(), 1);
        // 2 × (30 s + 30 s).
        assert_eq!(rows[0].concurrency_ms, 2 * 60_000);
        let e = s
            .append_provisioned_usage(&[row(5, 5)])
            .await
            .expect_err("empty interval");
        assert!(matches!(e, StoreError::Invalid { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn pruning_removes_only_what_is_older_than_the_retention() {
        let (_dir, s) = store().await;
        s.append_metering(&[record("old", "f", 1_000, 1), record("new", "f", 5_000, 1)])
            .await
            .expect("append");
        s.append_provisioned_usage(&[ProvisionedUsageRow {
            function_name: "f".into(),
            qualifier: "1".into(),
            version: "1".into(),
            architecture: "x86_64".into(),
            memory_mb: 128,
            concurrency: 1,
            start_ms: 0,
            end_ms: 2_000,
        }])
        .await
        .expect("append pc");
        assert_eq!(s.prune_metering(3_000).await.expect("prune"), 2);
        let left = s.list_metering(None, 10).await.expect("list");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].request_id, "new");
        assert_eq!(s.prune_metering(3_000).await.expect("again"), 0);
    }

    #[tokio::test]
    async fn busy_minutes_group_attempts_by_the_minutes_they_cover() {
        let (_dir, s) = store().await;
        let at =
            |id: &str, function: &str, started_ms: i64, duration_ms: f64, init: Option<f64>| {
                let mut r = record(id, function, started_ms, 1);
                r.duration_ms = duration_ms;
                r.init_ms = init;
                r
            };
        let m = MINUTE_MS;
        s.append_metering(&[
            // Inside minute 10, twice.
            at("a", "f", 10 * m + 1_000, 500.0, None),
            at("b", "f", 10 * m + 2_000, 250.5, Some(100.0)),
            // Ends exactly at the end of minute 10: still minute 10.
            at("c", "f", 10 * m + 59_000, 1_000.0, None),
            // One ms later it reaches minute 11; 0.25 ms past a whole ms rounds up.
            at("d", "f", 10 * m + 59_000, 1_000.25, None),
            // Spans minutes 12–14.
            at("e", "f", 12 * m + 30_000, 150_000.0, None),
            // An empty attempt at a minute's start stays in it.
            at("z", "f", 15 * m, 0.0, None),
            at("g", "g", 10 * m, 10.0, None),
            // Outside the window.
            at("old", "f", 9 * m, 10.0, None),
        ])
        .await
        .expect("append");
        let mut q = window(10 * m, 20 * m);
        q.function = Some("f".into());
        let rows = s.busy_minutes(&q).await.expect("busy");
        let keys: Vec<(i64, i64, i64)> = rows
            .iter()
            .map(|r| (r.first_minute, r.last_minute, r.attempts))
            .collect();
        assert_eq!(
            keys,
            vec![(10, 10, 3), (10, 11, 1), (12, 14, 1), (15, 15, 1)]
        );
        assert_eq!(rows[0].busy_ms, 500.0 + 350.5 + 1_000.0);
        assert_eq!(rows[0].started_ms_sum, 3 * 10 * m + 1_000 + 2_000 + 59_000);
        assert_eq!(rows[2].busy_ms, 150_000.0);
        assert_eq!(rows[0].memory_mb, 128);
        let all = s.busy_minutes(&window(10 * m, 20 * m)).await.expect("all");
        assert_eq!(all.iter().filter(|r| r.function_name == "g").count(), 1);
    }

    #[tokio::test]
    async fn minute_stats_count_cold_starts_and_rank_durations() {
        let (_dir, s) = store().await;
        let m = MINUTE_MS;
        let mut batch: Vec<MeteringRecord> = (1..=100)
            .map(|i| {
                let mut r = record(&format!("r{i}"), "f", 5 * m + i, 1);
                r.duration_ms = i as f64;
                r.cold = i <= 3;
                r
            })
            .collect();
        batch.push(record("next", "f", 6 * m, 7));
        batch.push(record("other", "g", 5 * m, 7));
        s.append_metering(&batch).await.expect("append");
        let rows = s.minute_stats("f", 5 * m, 7 * m).await.expect("stats");
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(
            rows[0],
            MinuteStatsRow {
                minute: 5,
                attempts: 100,
                cold_starts: 3,
                p50_ms: 50.0,
                p99_ms: 99.0
            }
        );
        assert_eq!((rows[1].minute, rows[1].attempts), (6, 1));
        assert_eq!((rows[1].p50_ms, rows[1].p99_ms), (6.75, 6.75));
        assert!(
            s.minute_stats("f", 0, 5 * m)
                .await
                .expect("none")
                .is_empty()
        );
    }
}
