//! The metering queue and its writer task. One channel carries records and flush requests in
//! order, so a flush acknowledges exactly the records queued before it.

use super::{METERING_BATCH_MAX, METERING_FLUSH_INTERVAL, METERING_QUEUE_MAX, MeteringConfig};
use nimbus_store::{MeteringRecord, MeteringStore};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// What the writer is asked to do.
enum Command {
    /// Store this record (in the next batch). Boxed: a flush request is small.
    Record(Box<MeteringRecord>),
    /// Store everything queued before this, then answer.
    Flush(oneshot::Sender<()>),
}

/// The writer's bounds (the constants, or small ones in tests).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Queue capacity.
    pub queue_max: usize,
    /// Records per transaction.
    pub batch_max: usize,
    /// Longest wait for a batch to fill.
    pub flush_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            queue_max: METERING_QUEUE_MAX,
            batch_max: METERING_BATCH_MAX,
            flush_interval: METERING_FLUSH_INTERVAL,
        }
    }
}

/// Counters the writer shares with the queue's users.
#[derive(Debug, Default)]
struct Counters {
    /// Records refused because the queue was full.
    dropped: AtomicU64,
    /// Records whose batch could not be stored.
    lost: AtomicU64,
}

/// The engine's metering: the queue in front of the store, the store itself (for reads and
/// provisioned intervals) and the billing rules.
pub struct Metering {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    task: Mutex<Option<JoinHandle<()>>>,
    pub(crate) store: Arc<dyn MeteringStore>,
    pub(crate) config: MeteringConfig,
    /// Provisioned concurrency is accrued up to here (ms since the epoch, engine clock).
    pub(crate) provisioned_sampled_ms: Mutex<i64>,
}

impl Metering {
    /// Starts the writer task (inside a tokio runtime). `now_ms`: provisioned concurrency
    /// accrues from here.
    pub fn start(store: Arc<dyn MeteringStore>, config: MeteringConfig, now_ms: i64) -> Self {
        Self::start_with(store, config, now_ms, Limits::default())
    }

    pub(crate) fn start_with(
        store: Arc<dyn MeteringStore>,
        config: MeteringConfig,
        now_ms: i64,
        limits: Limits,
    ) -> Self {
        let (tx, rx) = mpsc::channel(limits.queue_max.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(write_loop(
            Arc::clone(&store),
            rx,
            limits,
            Arc::clone(&counters),
        ));
        Self {
            tx,
            counters,
            task: Mutex::new(Some(task)),
            store,
            config,
            provisioned_sampled_ms: Mutex::new(now_ms),
        }
    }

    /// Queues a record without waiting; when the queue is full it is dropped and counted.
    pub fn record(&self, record: MeteringRecord) {
        if self.tx.try_send(Command::Record(Box::new(record))).is_err() {
            let before = self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            if before == 0 {
                tracing::warn!("metering writer is behind; dropping invocation records (counted)");
            }
        }
    }

    /// Waits until every record queued before the call is stored (or its batch failed).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Records dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Records lost because their batch could not be stored.
    pub fn lost(&self) -> u64 {
        self.counters.lost.load(Ordering::Relaxed)
    }

    /// Stops the writer (after a [`Metering::flush`]; later records are not stored).
    pub fn stop(&self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
        }
    }
}

async fn write_loop(
    store: Arc<dyn MeteringStore>,
    mut rx: mpsc::Receiver<Command>,
    limits: Limits,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<MeteringRecord> = Vec::with_capacity(limits.batch_max);
    // When the oldest record of the batch must be written at the latest.
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let command = match due {
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(command) => command,
                Err(_elapsed) => {
                    write(&store, &mut batch, &counters).await;
                    due = None;
                    continue;
                }
            },
            None => rx.recv().await,
        };
        match command {
            Some(Command::Record(record)) => {
                if batch.is_empty() {
                    due = Some(tokio::time::Instant::now() + limits.flush_interval);
                }
                batch.push(*record);
                if batch.len() >= limits.batch_max {
                    write(&store, &mut batch, &counters).await;
                    due = None;
                }
            }
            Some(Command::Flush(ack)) => {
                write(&store, &mut batch, &counters).await;
                due = None;
                let _ = ack.send(());
            }
            None => {
                // Every sender is gone: store what is left and end.
                write(&store, &mut batch, &counters).await;
                return;
            }
        }
    }
}

/// Stores the batch in one transaction and empties it. A failure is logged and counted:
/// retrying would hold back every later record behind a store that is failing.
async fn write(
    store: &Arc<dyn MeteringStore>,
    batch: &mut Vec<MeteringRecord>,
    counters: &Counters,
) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = store.append_metering(batch).await {
        counters
            .lost
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        tracing::warn!(error = %e, records = batch.len(), "could not store metering records");
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use nimbus_store::metering::{MeteringQuery, MeteringTotalRow, ProvisionedTotalRow};
    use nimbus_store::{ProvisionedUsageRow, StoreError};
    use tokio::sync::Notify;

    /// Remembers each batch (transaction) it was given.
    #[derive(Default)]
    struct FakeStore {
        batches: Mutex<Vec<Vec<String>>>,
        stored: Notify,
        /// While set, appends wait (a slow disk) until notified.
        gate: Mutex<Option<Arc<Notify>>>,
    }

    impl FakeStore {
        fn batches(&self) -> Vec<Vec<String>> {
            self.batches.lock().expect("lock").clone()
        }
    }

    #[async_trait]
    impl MeteringStore for FakeStore {
        async fn append_metering(&self, records: &[MeteringRecord]) -> Result<(), StoreError> {
            let gate = self.gate.lock().expect("lock").clone();
            if let Some(gate) = gate {
                gate.notified().await;
            }
            self.batches
                .lock()
                .expect("lock")
                .push(records.iter().map(|r| r.request_id.clone()).collect());
            self.stored.notify_waiters();
            Ok(())
        }
        async fn append_provisioned_usage(
            &self,
            _rows: &[ProvisionedUsageRow],
        ) -> Result<(), StoreError> {
            Ok(())
        }
        async fn metering_totals(
            &self,
            _q: &MeteringQuery,
        ) -> Result<Vec<MeteringTotalRow>, StoreError> {
            Ok(vec![])
        }
        async fn provisioned_totals(
            &self,
            _q: &MeteringQuery,
        ) -> Result<Vec<ProvisionedTotalRow>, StoreError> {
            Ok(vec![])
        }
        async fn busy_minutes(
            &self,
            _q: &MeteringQuery,
        ) -> Result<Vec<nimbus_store::metering::BusyMinutesRow>, StoreError> {
            Ok(vec![])
        }
        async fn minute_stats(
            &self,
            _function: &str,
            _since_ms: i64,
            _until_ms: i64,
        ) -> Result<Vec<nimbus_store::metering::MinuteStatsRow>, StoreError> {
            Ok(vec![])
        }
        async fn list_metering(
            &self,
            _function: Option<&str>,
            _limit: u32,
        ) -> Result<Vec<MeteringRecord>, StoreError> {
            Ok(vec![])
        }
        async fn prune_metering(&self, _before_ms: i64) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn record(id: usize) -> MeteringRecord {
        MeteringRecord {
            request_id: format!("r{id}"),
            function_name: "f".into(),
            version: "$LATEST".into(),
            trigger: "sync".into(),
            cold: false,
            provisioned: false,
            architecture: "x86_64".into(),
            init_ms: None,
            duration_ms: 1.5,
            billed_ms: 2,
            memory_mb: 128,
            max_memory_used_mb: 30,
            ephemeral_mb: 512,
            outcome: "success".into(),
            error_type: None,
            started_ms: 0,
        }
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("r{i}")).collect()
    }

    /// Long enough that no timed flush happens during a test that does not want one.
    const NEVER: Duration = Duration::from_secs(3600);

    fn start(store: &Arc<FakeStore>, limits: Limits) -> Metering {
        Metering::start_with(
            Arc::clone(store) as Arc<dyn MeteringStore>,
            MeteringConfig::default(),
            0,
            limits,
        )
    }

    #[tokio::test]
    async fn a_full_batch_is_written_in_one_transaction_without_waiting() {
        let store = Arc::new(FakeStore::default());
        let m = start(
            &store,
            Limits {
                queue_max: 100,
                batch_max: 3,
                flush_interval: NEVER,
            },
        );
        let stored = store.stored.notified();
        for i in 0..4 {
            m.record(record(i));
        }
        stored.await;
        assert_eq!(store.batches(), vec![ids(0..3)]);
        // The fourth waits for its batch to fill, or a flush.
        m.flush().await;
        assert_eq!(store.batches(), vec![ids(0..3), ids(3..4)]);
        assert_eq!(m.dropped(), 0);
    }

    #[tokio::test]
    async fn a_partial_batch_is_written_after_the_interval() {
        let store = Arc::new(FakeStore::default());
        let m = start(
            &store,
            Limits {
                queue_max: 100,
                batch_max: 1_000,
                flush_interval: Duration::from_millis(20),
            },
        );
        let stored = store.stored.notified();
        m.record(record(0));
        m.record(record(1));
        // No flush, no full batch: only the interval writes it.
        stored.await;
        assert_eq!(store.batches(), vec![ids(0..2)]);
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_overflow_is_counted() {
        let store = Arc::new(FakeStore::default());
        let gate = Arc::new(Notify::new());
        *store.gate.lock().expect("lock") = Some(Arc::clone(&gate));
        let m = start(
            &store,
            Limits {
                queue_max: 2,
                batch_max: 1,
                flush_interval: NEVER,
            },
        );
        // The writer takes r0 and blocks storing it; r1 and r2 fill the queue.
        m.record(record(0));
        tokio::task::yield_now().await;
        while m.tx.capacity() < 2 {
            tokio::task::yield_now().await;
        }
        for i in 1..6 {
            m.record(record(i));
        }
        assert_eq!(m.dropped(), 3);
        *store.gate.lock().expect("lock") = None;
        gate.notify_one();
        m.flush().await;
        let stored: Vec<String> = store.batches().concat();
        assert_eq!(stored, ids(0..3));
    }

    #[tokio::test]
    async fn what_is_queued_is_written_when_the_last_sender_goes() {
        let store = Arc::new(FakeStore::default());
        let m = start(
            &store,
            Limits {
                queue_max: 100,
                batch_max: 1_000,
                flush_interval: NEVER,
            },
        );
        for i in 0..5 {
            m.record(record(i));
        }
        let task = m.task.lock().expect("lock").take().expect("task");
        drop(m);
        task.await.expect("writer ends");
        assert_eq!(store.batches(), vec![ids(0..5)]);
    }
}
