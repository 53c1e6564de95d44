//! Group commit for queue writes: sends and deletes of concurrent callers share one store
//! transaction, so one fsync (`synchronous=FULL`) acknowledges many of them.
//!
//! No background task: each caller queues its writes, then takes the writer lock; whoever
//! holds it commits everything queued so far (up to a bound) and hands each caller its
//! outcomes. Every caller takes the lock once after queueing, so no job is left behind.

use std::sync::Mutex;

use nimbus_store::queues::{QueueStore, QueueWrite, WriteOutcome};
use tokio::sync::oneshot;

use crate::limits::GROUP_COMMIT_WRITES_MAX;

type Reply = oneshot::Sender<Result<Vec<WriteOutcome>, String>>;

struct Job {
    writes: Vec<QueueWrite>,
    reply: Reply,
}

/// The queue and the writer lock.
#[derive(Default)]
pub(crate) struct GroupCommit {
    pending: Mutex<Vec<Job>>,
    writer: tokio::sync::Mutex<()>,
}

impl GroupCommit {
    /// Commits `writes` (in one transaction, possibly with other callers' writes) and
    /// returns their outcomes in order; `Err` carries the store's failure.
    pub(crate) async fn submit(
        &self,
        store: &dyn QueueStore,
        now_ms: impl Fn() -> i64,
        writes: Vec<QueueWrite>,
    ) -> Result<Vec<WriteOutcome>, String> {
        let (reply, answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Job { writes, reply });
        {
            let _writer = self.writer.lock().await;
            let jobs = self.take();
            if !jobs.is_empty() {
                let all: Vec<QueueWrite> = jobs.iter().flat_map(|j| j.writes.clone()).collect();
                let result = store.apply_writes(now_ms(), &all).await;
                match result {
                    Ok(outcomes) => {
                        let mut outcomes = outcomes.into_iter();
                        for job in jobs {
                            let mine: Vec<WriteOutcome> =
                                outcomes.by_ref().take(job.writes.len()).collect();
                            let _ = job.reply.send(Ok(mine));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for job in jobs {
                            let _ = job.reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err("group commit dropped the request".to_string()))
    }

    /// Up to [`GROUP_COMMIT_WRITES_MAX`] writes' worth of queued jobs (at least one job).
    fn take(&self) -> Vec<Job> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut count = 0;
        let mut n = 0;
        for job in pending.iter() {
            if n > 0 && count + job.writes.len() > GROUP_COMMIT_WRITES_MAX {
                break;
            }
            count += job.writes.len();
            n += 1;
        }
        pending.drain(..n).collect()
    }
}
