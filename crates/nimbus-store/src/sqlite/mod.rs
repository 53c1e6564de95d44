//! The SQLite backend: two database files in the data directory.
//!
//! * `nimbus.db` — control-plane state. WAL with `synchronous=FULL`: the WAL is fsynced at
//!   every commit, so an acknowledged write survives `kill -9` and power loss.
//! * `logs.db` — function logs. WAL with `synchronous=NORMAL`: no fsync per commit (log
//!   volume is high), so a power loss or OS crash may roll back the last commits (the file stays
//!   consistent); a crash of our process alone loses nothing, as SQLite's WAL is durable
//!   across application crashes whatever the synchronous setting.
//!
//! Each file has one writer connection (SQLite allows one writer at a time; more connections
//! would only contend for the lock) and a few reader connections (WAL readers never block the
//! writer nor wait for it). Write transactions start with `BEGIN IMMEDIATE`, so the write lock
//! is taken up front and a transaction cannot fail half-way on a read→write upgrade.
//!
//! At startup each file is opened, `PRAGMA quick_check`ed and migrated
//! (`migrations/sqlite`, `migrations/sqlite_logs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::{
    AliasRow, FunctionRow, LogEventRow, LogQuery, LogStreamRow, NewLogEvent, ProvisionedRow, Store,
    StoreError, VersionRow,
};

mod concurrency;
mod deployments;
mod events;
mod function_urls;
mod functions;
mod logs;
mod mappings;
mod metering;
mod queues;
mod schedules;
mod stacks;

/// File name of the control-plane database inside the data directory.
pub const CONTROL_DB_FILE: &str = "nimbus.db";

/// File name of the log database inside the data directory.
pub const LOGS_DB_FILE: &str = "logs.db";

/// How long SQLite retries a locked database before a statement fails with SQLITE_BUSY
/// (then `StoreError::Busy`). Far above any of our transactions (milliseconds), short enough
/// that an overloaded or externally locked store answers "busy, retry" instead of hanging.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for a free pooled connection before `StoreError::Busy`. Writers
/// queue here (fairly) for the single writer connection, so this bounds the queue wait.
pub const POOL_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Writer connections per file: SQLite has one writer at a time.
pub const WRITER_CONNECTIONS: u32 = 1;

/// Reader connections per file: WAL readers run in parallel with the writer; a few cover
/// the 2-core machines we target without holding many worker threads.
pub const READER_CONNECTIONS: u32 = 4;

/// Pages of WAL after which a commit checkpoints it into the database (SQLite's default,
/// ~4 MiB), stated explicitly so the WAL stays bounded while no reader pins it.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 1000;

/// After a checkpoint, a WAL file larger than this is truncated back to it, so a burst does not
/// leave a huge WAL file behind.
pub const JOURNAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// SQLite primary result codes we branch on (extended code & 0xff).
/// <https://www.sqlite.org/rescode.html>
const SQLITE_PERM: i32 = 3;
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_NOTADB: i32 = 26;

static CONTROL_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static LOGS_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite_logs");

/// Timeouts, separate from the constants so unit tests can provoke `Busy` quickly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    pub busy_timeout: Duration,
    pub acquire_timeout: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            busy_timeout: BUSY_TIMEOUT,
            acquire_timeout: POOL_ACQUIRE_TIMEOUT,
        }
    }
}

/// The SQLite implementation of [`Store`]. Cheap to clone (clones share the pools).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    control: Db,
    logs: Db,
}

impl SqliteStore {
    /// Opens (creating if needed) `nimbus.db` and `logs.db` in `data_dir`, checks them with
    /// `PRAGMA quick_check` and applies pending migrations. A damaged file gives
    /// `StoreError::Corrupt` naming it.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_tuned(data_dir, Tuning::default()).await
    }

    pub(crate) async fn open_tuned(data_dir: &Path, tuning: Tuning) -> Result<Self, StoreError> {
        tokio::fs::create_dir_all(data_dir)
            .await
            .map_err(|e| StoreError::Io {
                op: "open",
                file: data_dir.display().to_string(),
                detail: format!("creating the data directory: {e}"),
            })?;
        let control = Db::open(
            data_dir.join(CONTROL_DB_FILE),
            SqliteSynchronous::Full,
            &CONTROL_MIGRATOR,
            tuning,
        )
        .await?;
        let logs = match Db::open(
            data_dir.join(LOGS_DB_FILE),
            SqliteSynchronous::Normal,
            &LOGS_MIGRATOR,
            tuning,
        )
        .await
        {
            Ok(logs) => logs,
            Err(e) => {
                control.close().await;
                return Err(e);
            }
        };
        tracing::debug!(dir = %data_dir.display(), "store opened");
        Ok(SqliteStore { control, logs })
    }

    /// Closes all connections after in-flight calls finish; the last connection to close
    /// checkpoints the WAL. Later calls fail with `StoreError::Closed`.
    pub async fn close(&self) {
        self.logs.close().await;
        self.control.close().await;
    }

    /// Runs the full `PRAGMA integrity_check` on both files (slow on big files: for
    /// diagnostics and tests, not for startup). `Corrupt` names the damaged file.
    pub async fn check_integrity(&self) -> Result<(), StoreError> {
        self.control.check(Check::Full).await?;
        self.logs.check(Check::Full).await
    }
}

/// Which consistency check to run on a file.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// `PRAGMA quick_check`: O(file size) but skips index-content checks; run at startup.
    Quick,
    /// `PRAGMA integrity_check`: also verifies that indexes match their tables.
    Full,
}

/// One database file: its path (for error messages) and its two pools.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    file: Arc<str>,
    writer: SqlitePool,
    reader: SqlitePool,
}

impl Db {
    async fn open(
        path: PathBuf,
        synchronous: SqliteSynchronous,
        migrator: &Migrator,
        tuning: Tuning,
    ) -> Result<Self, StoreError> {
        let file: Arc<str> = path.display().to_string().into();
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .synchronous(synchronous)
            .busy_timeout(tuning.busy_timeout)
            .foreign_keys(true)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT_BYTES.to_string());

        // The writer pool opens first and alone: its first connection switches the file to
        // WAL (that needs an exclusive lock busy_timeout cannot wait for), checks it and
        // migrates it before any reader exists.
        let writer = pool_options(WRITER_CONNECTIONS, tuning)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .map_err(|e| map_sqlx("open", &file, e))?;
        // No reader exists yet: the startup check runs on the writer.
        let db_for_checks = Db {
            file: file.clone(),
            writer: writer.clone(),
            reader: writer.clone(),
        };
        if let Err(e) = db_for_checks.check(Check::Quick).await {
            writer.close().await;
            return Err(e);
        }
        if let Err(e) = migrator.run(&writer).await {
            writer.close().await;
            return Err(map_migrate(&file, e));
        }

        // Readers find WAL mode in the file header (it is persistent), so they do not set it.
        // They cannot write by accident: query_only makes any write statement fail.
        let reader = match pool_options(READER_CONNECTIONS, tuning)
            .connect_with(options.pragma("query_only", "ON"))
            .await
        {
            Ok(reader) => reader,
            Err(e) => {
                writer.close().await;
                return Err(map_sqlx("open", &file, e));
            }
        };
        Ok(Db {
            file,
            writer,
            reader,
        })
    }

    async fn close(&self) {
        // Readers first, so the writer is the last connection: it checkpoints the WAL.
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Runs the check; any answer but a single "ok" is `Corrupt`.
    async fn check(&self, check: Check) -> Result<(), StoreError> {
        let (op, sql) = match check {
            Check::Quick => ("quick_check", "PRAGMA quick_check"),
            Check::Full => ("integrity_check", "PRAGMA integrity_check"),
        };
        // On a reader: a check of a big file must not hold up writes.
        let lines: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&self.reader)
            .await
            .map_err(|e| map_sqlx(op, &self.file, e))?;
        if lines.len() == 1 && lines[0] == "ok" {
            return Ok(());
        }
        // The report can list every bad page; the first few say enough.
        let detail = lines.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
        Err(StoreError::Corrupt {
            file: self.file.to_string(),
            detail: format!("{op} failed: {detail}"),
        })
    }

    /// Starts a write transaction holding the write lock from its first statement.
    pub(crate) async fn begin_write(
        &self,
        op: &'static str,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| map_sqlx(op, &self.file, e))
    }

    /// The pool for reads (autocommit statements see the latest committed state).
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Maps a sqlx error of operation `op` on this file.
    pub(crate) fn err(&self, op: &'static str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |e| map_sqlx(op, &self.file, e)
    }
}

fn pool_options(max_connections: u32, tuning: Tuning) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(tuning.acquire_timeout)
        // A SQLite connection is a local file handle: it cannot go stale, so there is no
        // reason to ping it before use or to recycle it.
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// True if `e` is a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Maps a sqlx error to the store's error, by SQLite primary result code.
pub(crate) fn map_sqlx(op: &'static str, file: &str, e: sqlx::Error) -> StoreError {
    let file = file.to_string();
    match e {
        sqlx::Error::Database(db) => {
            let detail = db.message().to_string();
            if db.is_unique_violation() {
                return StoreError::Conflict {
                    what: format!("{op}: a row with this key"),
                };
            }
            let code = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            match code {
                Some(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Busy { op, file },
                Some(SQLITE_FULL) => StoreError::Full { op, file },
                Some(SQLITE_CORRUPT | SQLITE_NOTADB) => StoreError::Corrupt {
                    file,
                    detail: format!("{op}: {detail}"),
                },
                Some(SQLITE_IOERR | SQLITE_CANTOPEN | SQLITE_PERM | SQLITE_READONLY) => {
                    StoreError::Io { op, file, detail }
                }
                _ => StoreError::Database { op, file, detail },
            }
        }
        sqlx::Error::PoolTimedOut => StoreError::Busy { op, file },
        sqlx::Error::PoolClosed => StoreError::Closed { op, file },
        sqlx::Error::Io(io) => StoreError::Io {
            op,
            file,
            detail: io.to_string(),
        },
        other => StoreError::Database {
            op,
            file,
            detail: other.to_string(),
        },
    }
}

fn map_migrate(file: &str, e: MigrateError) -> StoreError {
    match e {
        // A failing statement inside a migration is usually an ordinary database error
        // (busy, corrupt, disk full): report it as such.
        MigrateError::Execute(inner) | MigrateError::ExecuteMigration(inner, _) => {
            match map_sqlx("migrate", file, inner) {
                StoreError::Database { detail, .. } => StoreError::Migrate {
                    file: file.to_string(),
                    detail,
                },
                other => other,
            }
        }
        other => StoreError::Migrate {
            file: file.to_string(),
            detail: other.to_string(),
        },
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_function(
        &self,
        row: &FunctionRow,
        version: Option<&VersionRow>,
    ) -> Result<(), StoreError> {
        functions::insert(&self.control, row, version).await
    }

    async fn get_function(&self, name: &str) -> Result<Option<FunctionRow>, StoreError> {
        functions::get(&self.control, name).await
    }

    async fn list_functions(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FunctionRow>, StoreError> {
        functions::list(&self.control, after, limit).await
    }

    async fn update_function(
        &self,
        row: &FunctionRow,
        expected_revision: &str,
        version: Option<&VersionRow>,
    ) -> Result<(), StoreError> {
        functions::update(&self.control, row, expected_revision, version).await
    }

    async fn delete_function(&self, name: &str) -> Result<bool, StoreError> {
        functions::delete(&self.control, name).await
    }

    async fn get_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<VersionRow>, StoreError> {
        functions::get_version(&self.control, name, version).await
    }

    async fn list_versions(
        &self,
        name: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError> {
        functions::list_versions(&self.control, name, after, limit).await
    }

    async fn delete_version(&self, name: &str, version: i64) -> Result<bool, StoreError> {
        functions::delete_version(&self.control, name, version).await
    }

    async fn insert_alias(&self, row: &AliasRow) -> Result<(), StoreError> {
        concurrency::insert_alias(&self.control, row).await
    }

    async fn get_alias(&self, function: &str, name: &str) -> Result<Option<AliasRow>, StoreError> {
        concurrency::get_alias(&self.control, function, name).await
    }

    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRow>, StoreError> {
        concurrency::list_aliases(&self.control, function).await
    }

    async fn update_alias(
        &self,
        row: &AliasRow,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        concurrency::update_alias(&self.control, row, expected_revision).await
    }

    async fn delete_alias(&self, function: &str, name: &str) -> Result<bool, StoreError> {
        concurrency::delete_alias(&self.control, function, name).await
    }

    async fn put_reserved_concurrency(
        &self,
        function: &str,
        reserved: Option<i64>,
    ) -> Result<(), StoreError> {
        concurrency::put_reserved(&self.control, function, reserved).await
    }

    async fn list_reserved_concurrency(&self) -> Result<Vec<(String, i64)>, StoreError> {
        concurrency::list_reserved(&self.control).await
    }

    async fn put_provisioned(&self, row: &ProvisionedRow) -> Result<(), StoreError> {
        concurrency::put_provisioned(&self.control, row).await
    }

    async fn delete_provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError> {
        concurrency::delete_provisioned(&self.control, function, qualifier).await
    }

    async fn list_provisioned(&self) -> Result<Vec<ProvisionedRow>, StoreError> {
        concurrency::list_provisioned(&self.control).await
    }

    async fn code_refs(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        functions::code_refs(&self.control).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        functions::get_setting(&self.control, key).await
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        functions::put_setting(&self.control, key, value).await
    }

    async fn append_logs(
        &self,
        events: &[NewLogEvent],
        ingestion_ms: i64,
    ) -> Result<(), StoreError> {
        logs::append(&self.logs, events, ingestion_ms).await
    }

    async fn query_logs(&self, q: &LogQuery) -> Result<Vec<LogEventRow>, StoreError> {
        logs::query(&self.logs, q).await
    }

    async fn list_log_streams(
        &self,
        group: &str,
        limit: u32,
    ) -> Result<Vec<LogStreamRow>, StoreError> {
        logs::list_streams(&self.logs, group, limit).await
    }

    async fn trim_logs(&self, group: &str, keep_bytes: i64) -> Result<u64, StoreError> {
        logs::trim(&self.logs, group, keep_bytes).await
    }

    async fn delete_log_group(&self, group: &str) -> Result<u64, StoreError> {
        logs::delete_group(&self.logs, group).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use sqlx::{Connection, Executor, SqliteConnection};

    use super::*;

    #[tokio::test]
    async fn a_lock_held_elsewhere_gives_busy_and_reads_continue() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            busy_timeout: Duration::from_millis(200),
            acquire_timeout: Duration::from_secs(2),
        };
        let store = SqliteStore::open_tuned(dir.path(), tuning).await.unwrap();
        store.put_setting("k", "v1").await.unwrap();

        // Another process (here: another connection) holds the write lock.
        let options = SqliteConnectOptions::new().filename(dir.path().join(CONTROL_DB_FILE));
        let mut other = SqliteConnection::connect_with(&options).await.unwrap();
        other.execute("BEGIN IMMEDIATE").await.unwrap();

        let started = Instant::now();
        let err = store.put_setting("k", "v2").await.unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains(CONTROL_DB_FILE), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // WAL readers do not wait for the writer.
        assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v1"));

        other.execute("ROLLBACK").await.unwrap();
        store.put_setting("k", "v2").await.unwrap();
        assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v2"));
        other.close().await.unwrap();
        store.close().await;
    }

    #[tokio::test]
    async fn pragmas_are_applied_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        for (db, sync) in [(&store.control, 2i64), (&store.logs, 1)] {
            for pool in [&db.writer, &db.reader] {
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(mode, "wal");
                let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(synchronous, sync, "{}", db.file);
                let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(fk, 1);
                let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(timeout, BUSY_TIMEOUT.as_millis() as i64);
            }
            // Readers refuse writes.
            let err = sqlx::query("INSERT INTO settings (key, value) VALUES ('a', 'b')")
                .execute(&db.reader)
                .await;
            assert!(err.is_err());
        }
        store.close().await;
    }
}
