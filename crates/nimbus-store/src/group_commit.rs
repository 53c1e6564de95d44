//! Group commit: writes of concurrent callers share one transaction, so one fsync
//! (`synchronous=FULL`) acknowledges many of them.
//!
//! No background task: each caller queues its writes, then takes the writer lock; whoever
//! holds it applies everything queued so far (up to a bound) in one call and hands each
//! caller its outcomes. Every caller takes the lock once after queueing, so no job is left
//! behind. A caller that goes away while queued still has its writes applied (its outcome is
//! unknown to its client, as with any cut request).

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::oneshot;

type Reply<O> = oneshot::Sender<Result<Vec<O>, String>>;

struct Job<W, O> {
    writes: Vec<W>,
    reply: Reply<O>,
}

/// A queue of writes and the lock of the one writer applying them.
pub struct GroupCommit<W, O> {
    pending: Mutex<Vec<Job<W, O>>>,
    writer: tokio::sync::Mutex<()>,
    max_writes: usize,
}

impl<W, O> GroupCommit<W, O> {
    /// Applies at most `max_writes` writes per call (at least one caller's).
    pub fn new(max_writes: usize) -> Self {
        GroupCommit {
            pending: Mutex::new(Vec::new()),
            writer: tokio::sync::Mutex::new(()),
            max_writes: max_writes.max(1),
        }
    }

    /// Applies `writes` (in one `apply` call, possibly with other callers' writes) and returns
    /// their outcomes in order. `apply` must return one outcome per write, in order, or fail
    /// as a whole.
    pub async fn submit<F, Fut>(&self, writes: Vec<W>, apply: F) -> Result<Vec<O>, String>
    where
        F: FnOnce(Vec<W>) -> Fut,
        Fut: Future<Output = Result<Vec<O>, String>>,
    {
        let (reply, answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Job { writes, reply });
        {
            let _writer = self.writer.lock().await;
            let jobs = self.take();
            if !jobs.is_empty() {
                let mut lens = Vec::with_capacity(jobs.len());
                let mut replies = Vec::with_capacity(jobs.len());
                let mut all = Vec::new();
                for job in jobs {
                    lens.push(job.writes.len());
                    all.extend(job.writes);
                    replies.push(job.reply);
                }
                let expected: usize = lens.iter().sum();
                match apply(all).await {
                    Ok(outcomes) if outcomes.len() == expected => {
                        let mut outcomes = outcomes.into_iter();
                        for (len, reply) in lens.into_iter().zip(replies) {
                            let _ = reply.send(Ok(outcomes.by_ref().take(len).collect()));
                        }
                    }
                    Ok(outcomes) => {
                        let message = format!(
                            "group commit: {} outcomes for {expected} writes",
                            outcomes.len()
                        );
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                    Err(message) => {
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err("group commit dropped the request".to_string()))
    }

    /// Up to `max_writes` writes' worth of queued jobs (at least one job).
    fn take(&self) -> Vec<Job<W, O>> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut count = 0;
        let mut n = 0;
        for job in pending.iter() {
            if n > 0 && count + job.writes.len() > self.max_writes {
                break;
            }
            count += job.writes.len();
            n += 1;
        }
        pending.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_calls_and_get_their_own_outcomes() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(64));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200u32)
            .map(|i| {
                let group = Arc::clone(&group);
                let calls = Arc::clone(&calls);
                tokio::spawn(async move {
                    let out = group
                        .submit(vec![i, i + 1000], |w| async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                            Ok(w.into_iter().map(|x| x * 2).collect())
                        })
                        .await;
                    assert_eq!(out, Ok(vec![i * 2, (i + 1000) * 2]));
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let calls = calls.load(Ordering::SeqCst);
        assert!(calls < 200, "no batching happened: {calls} calls");
    }

    #[tokio::test]
    async fn a_failure_reaches_every_caller_of_the_batch() {
        let group = GroupCommit::<u32, u32>::new(8);
        let out = group
            .submit(vec![1], |_| async { Err("disk full".to_string()) })
            .await;
        assert_eq!(out, Err("disk full".to_string()));
        let out = group.submit(vec![1, 2], |_| async { Ok(vec![1]) }).await;
        assert!(out.is_err());
    }
}
