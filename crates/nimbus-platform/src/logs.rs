//! Function logs: the platform lines Lambda writes (`INIT_START`, `START`, `END`, `REPORT`,
//! `INIT_REPORT`), one invocation's log for the `Tail` header, and the background writer that
//! stores events per log group and stream with a size cap.

use crate::env::logpipe::LogLine;
use crate::limits::{LOG_BATCH_EVENTS_MAX, LOG_FLUSH_INTERVAL, LOG_QUEUE_EVENTS_MAX};
use base64::Engine;
use nimbus_store::{NewLogEvent, Store};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use tokio::time::Duration;

/// How often groups that received events are trimmed to their retention cap.
const TRIM_INTERVAL: Duration = Duration::from_secs(30);

/// Bytes of the invocation log returned by `X-Amz-Log-Type: Tail` (Lambda: last 4 KB).
pub const TAIL_BYTES: usize = 4096;

/// Why an invocation or init ended badly, for `REPORT`/`INIT_REPORT` `Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    /// The timeout passed.
    Timeout,
    /// A platform-detected error (`Runtime.ExitError`, `Runtime.OutOfMemory`, …).
    Error(String),
}

/// `START RequestId: <id> Version: <version>` (a space, not a tab, before `Version`).
pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// `END RequestId: <id>`.
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// The `REPORT` line, fields tab-separated as Lambda prints them.
pub struct Report<'a> {
    /// Request id.
    pub request_id: &'a str,
    /// Invocation duration in milliseconds.
    pub duration_ms: f64,
    /// Billed milliseconds (1 ms granularity).
    pub billed_ms: u64,
    /// MemorySize.
    pub memory_mb: u32,
    /// Peak memory observed.
    pub max_memory_used_mb: u64,
    /// Set on the first invocation of an environment.
    pub init_duration_ms: Option<f64>,
    /// Set when the invocation ended by timeout or a platform-detected error.
    pub status: Option<ReportStatus>,
}

impl Report<'_> {
    /// Renders the line. Without a status it ends with a tab, like Lambda's.
    pub fn line(&self) -> String {
        let mut s = format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id,
            self.duration_ms,
            self.billed_ms,
            self.memory_mb,
            self.max_memory_used_mb
        );
        if let Some(init) = self.init_duration_ms {
            s.push_str(&format!("Init Duration: {init:.2} ms\t"));
        }
        match &self.status {
            None => {}
            Some(ReportStatus::Timeout) => s.push_str("Status: timeout"),
            Some(ReportStatus::Error(t)) => s.push_str(&format!("Status: error\tError Type: {t}")),
        }
        s
    }
}

/// `INIT_START <runtime version line>`.
pub fn init_start_line(runtime_version: &str) -> String {
    format!("INIT_START {runtime_version}")
}

/// `INIT_REPORT Init Duration: … ms\tPhase: init|invoke\tStatus: …`.
pub fn init_report_line(duration_ms: f64, phase: &str, status: &ReportStatus) -> String {
    let status = match status {
        ReportStatus::Timeout => "Status: timeout".to_string(),
        ReportStatus::Error(t) => format!("Status: error\tError Type: {t}"),
    };
    format!("INIT_REPORT Init Duration: {duration_ms:.2} ms\tPhase: {phase}\t{status}")
}

/// Lambda bills in 1 ms steps, rounding up.
pub fn billed_ms(duration_ms: f64) -> u64 {
    (duration_ms.max(0.0)).ceil() as u64
}

/// The log lines of one invocation, in order (what `Tail` returns and what is stored).
#[derive(Debug, Default)]
pub struct InvocationLog {
    lines: Vec<LogLine>,
    /// Lines before this index were already written to a log stream.
    emitted: usize,
}

impl InvocationLog {
    /// Appends a platform line stamped now.
    pub fn push(&mut self, message: String) {
        self.lines.push(LogLine {
            timestamp_ms: crate::clock::now_ms(),
            message,
        });
    }

    /// Appends lines the runtime wrote.
    pub fn extend(&mut self, lines: Vec<LogLine>) {
        self.lines.extend(lines);
    }

    /// Lines not yet written to a stream; marks them written. (An abandoned first Init
    /// attempt writes its lines to its own stream; the tail still shows every line.)
    pub fn take_unemitted(&mut self) -> &[LogLine] {
        let from = self.emitted;
        self.emitted = self.lines.len();
        &self.lines[from..]
    }

    /// Base64 of the last [`TAIL_BYTES`] of the log text (`X-Amz-Log-Result`).
    pub fn tail_base64(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&line.message);
            text.push('\n');
        }
        let bytes = text.as_bytes();
        let start = bytes.len().saturating_sub(TAIL_BYTES);
        base64::engine::general_purpose::STANDARD.encode(&bytes[start..])
    }
}

/// Queue in front of the log store. Emitting never blocks an invocation: when the writer
/// falls behind, events are dropped and counted.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<NewLogEvent>,
    flush: mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
    dropped: Arc<AtomicU64>,
}

impl LogSink {
    /// Starts the writer task; it ends (after writing what is queued) when every sink clone
    /// is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        retention_bytes: i64,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(LOG_QUEUE_EVENTS_MAX);
        // Flushes are rare (shutdown, tests); a small queue is plenty.
        let (flush, flushes) = mpsc::channel(4);
        let task = tokio::spawn(write_loop(store, rx, flushes, retention_bytes));
        (
            Self {
                tx,
                flush,
                dropped: Arc::new(AtomicU64::new(0)),
            },
            task,
        )
    }

    /// Waits until every event queued before the call is stored.
    pub async fn flush(&self) {
        let (ack, done) = tokio::sync::oneshot::channel();
        if self.flush.send(ack).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Queues lines of one stream.
    pub fn emit(&self, group: &str, stream: &str, lines: &[LogLine]) {
        for line in lines {
            let event = NewLogEvent {
                group: group.to_string(),
                stream: stream.to_string(),
                timestamp_ms: line.timestamp_ms,
                message: line.message.clone(),
            };
            if self.tx.try_send(event).is_err() {
                let before = self.dropped.fetch_add(1, Ordering::Relaxed);
                if before == 0 {
                    tracing::warn!("log writer is behind; dropping function log events (counted)");
                }
            }
        }
    }

    /// Events dropped because the writer was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<NewLogEvent>,
    mut flushes: mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
    retention_bytes: i64,
) {
    let mut touched: HashSet<String> = HashSet::new();
    let mut last_trim = tokio::time::Instant::now();
    let mut batch = Vec::with_capacity(LOG_BATCH_EVENTS_MAX);
    loop {
        // Wait for the first event (or a flush request), then gather more for a short while.
        let mut ack = None;
        tokio::select! {
            event = rx.recv() => match event {
                Some(event) => batch.push(event),
                None => return,
            },
            request = flushes.recv() => match request {
                Some(a) => ack = Some(a),
                None => return,
            },
        }
        let deadline = tokio::time::Instant::now() + LOG_FLUSH_INTERVAL;
        let mut closed = false;
        while batch.len() < LOG_BATCH_EVENTS_MAX {
            // A flush takes what is queued now without waiting for more.
            let next = if ack.is_some() {
                rx.try_recv().ok()
            } else {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(event)) => Some(event),
                    Ok(None) => {
                        closed = true;
                        None
                    }
                    Err(_) => None,
                }
            };
            match next {
                Some(event) => batch.push(event),
                None => break,
            }
        }
        write_batch(&store, &mut batch, &mut touched).await;
        if ack.is_some() {
            // Everything queued before the flush request: keep writing until empty.
            while let Ok(event) = rx.try_recv() {
                batch.push(event);
                if batch.len() >= LOG_BATCH_EVENTS_MAX {
                    write_batch(&store, &mut batch, &mut touched).await;
                }
            }
            write_batch(&store, &mut batch, &mut touched).await;
        }
        if last_trim.elapsed() >= TRIM_INTERVAL || closed {
            for group in touched.drain() {
                if let Err(e) = store.trim_logs(&group, retention_bytes).await {
                    tracing::warn!(error = %e, group, "could not trim function logs");
                }
            }
            last_trim = tokio::time::Instant::now();
        }
        if let Some(ack) = ack {
            let _ = ack.send(());
        }
        if closed {
            return;
        }
    }
}

async fn write_batch(
    store: &Arc<dyn Store>,
    batch: &mut Vec<NewLogEvent>,
    touched: &mut HashSet<String>,
) {
    if batch.is_empty() {
        return;
    }
    for event in batch.iter() {
        if !touched.contains(&event.group) {
            touched.insert(event.group.clone());
        }
    }
    if let Err(e) = store.append_logs(batch, crate::clock::now_ms()).await {
        tracing::warn!(error = %e, events = batch.len(), "could not store function logs");
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_match_lambda() {
        let r = Report {
            request_id: "abc",
            duration_ms: 38.664,
            billed_ms: 39,
            memory_mb: 128,
            max_memory_used_mb: 54,
            init_duration_ms: Some(203.691),
            status: None,
        };
        assert_eq!(
            r.line(),
            "REPORT RequestId: abc\tDuration: 38.66 ms\tBilled Duration: 39 ms\tMemory Size: 128 MB\tMax Memory Used: 54 MB\tInit Duration: 203.69 ms\t"
        );
        let t = Report {
            request_id: "abc",
            duration_ms: 3000.0,
            billed_ms: 3000,
            memory_mb: 128,
            max_memory_used_mb: 21,
            init_duration_ms: None,
            status: Some(ReportStatus::Timeout),
        };
        assert_eq!(
            t.line(),
            "REPORT RequestId: abc\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 21 MB\tStatus: timeout"
        );
        assert_eq!(
            init_report_line(
                154.031,
                "init",
                &ReportStatus::Error("Runtime.ExitError".into())
            ),
            "INIT_REPORT Init Duration: 154.03 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"
        );
        assert_eq!(
            start_line("abc", "$LATEST"),
            "START RequestId: abc Version: $LATEST"
        );
        assert_eq!(billed_ms(38.01), 39);
        assert_eq!(billed_ms(3000.0), 3000);
    }

    #[test]
    fn tail_is_the_last_4k() {
        let mut log = InvocationLog::default();
        for i in 0..1000 {
            log.push(format!("line {i}"));
        }
        let tail = base64::engine::general_purpose::STANDARD
            .decode(log.tail_base64())
            .expect("base64");
        assert_eq!(tail.len(), TAIL_BYTES);
        assert!(String::from_utf8_lossy(&tail).ends_with("line 999\n"));
    }
}
