//! Reads an environment's stdout+stderr pipe into timestamped log lines.
//!
//! One task owns the pipe. Lines collect in a bounded buffer that the invocation code takes
//! at phase boundaries (end of Init, end of an invocation). Before taking, it asks the task
//! to drain what is already in the pipe: everything the runtime wrote before it posted its
//! response is in the pipe by then, so START..END blocks hold exactly their own output.

use crate::limits::{INVOCATION_LOG_BYTES_MAX, LOG_EVENT_BYTES_MAX, LOG_READ_CHUNK_BYTES};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

/// One captured line (without its `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Wall-clock milliseconds when it was read.
    pub timestamp_ms: i64,
    /// The text (invalid UTF-8 replaced).
    pub message: String,
}

#[derive(Default)]
struct Buffer {
    lines: Vec<LogLine>,
    bytes: usize,
    dropped_bytes: usize,
    partial: Vec<u8>,
}

impl Buffer {
    fn push_bytes(&mut self, data: &[u8], now_ms: i64) {
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..pos]);
            let line = std::mem::take(&mut self.partial);
            self.push_line(&line, now_ms);
            rest = &rest[pos + 1..];
        }
        self.partial.extend_from_slice(rest);
        // A line without a newline is still bounded: split it like an oversized event.
        while self.partial.len() >= LOG_EVENT_BYTES_MAX {
            let tail = self.partial.split_off(LOG_EVENT_BYTES_MAX);
            let line = std::mem::replace(&mut self.partial, tail);
            self.push_line(&line, now_ms);
        }
    }

    fn push_line(&mut self, line: &[u8], now_ms: i64) {
        for chunk in line
            .chunks(LOG_EVENT_BYTES_MAX)
            .chain(line.is_empty().then_some(&[][..]))
        {
            if self.bytes + chunk.len() > INVOCATION_LOG_BYTES_MAX {
                self.dropped_bytes += chunk.len() + 1;
                continue;
            }
            self.bytes += chunk.len() + 1;
            self.lines.push(LogLine {
                timestamp_ms: now_ms,
                message: String::from_utf8_lossy(chunk).into_owned(),
            });
        }
    }

    fn take(&mut self, now_ms: i64) -> Vec<LogLine> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.push_line(&line, now_ms);
        }
        let mut lines = std::mem::take(&mut self.lines);
        if self.dropped_bytes > 0 {
            lines.push(LogLine {
                timestamp_ms: now_ms,
                message: format!(
                    "[nimbus] {} bytes of output dropped: more than {} bytes in one invocation",
                    self.dropped_bytes, INVOCATION_LOG_BYTES_MAX
                ),
            });
        }
        self.bytes = 0;
        self.dropped_bytes = 0;
        lines
    }
}

/// Handle on an environment's log pipe.
#[derive(Clone)]
pub(crate) struct LogPipe {
    buffer: Arc<Mutex<Buffer>>,
    drain: mpsc::Sender<oneshot::Sender<()>>,
}

impl LogPipe {
    /// Starts the reader task for `pipe` (the read end; made nonblocking here).
    pub(crate) fn start(pipe: OwnedFd) -> std::io::Result<(Self, tokio::task::JoinHandle<()>)> {
        let fd = pipe::Receiver::from_owned_fd(pipe)?;
        let buffer = Arc::new(Mutex::new(Buffer::default()));
        // Drain requests are rare (one per phase); a tiny queue is plenty.
        let (drain, requests) = mpsc::channel(4);
        let task = tokio::spawn(read_loop(fd, Arc::clone(&buffer), requests));
        Ok((Self { buffer, drain }, task))
    }

    /// Takes what the reader has collected so far, without waiting for the pipe to be
    /// drained (for output written long ago, e.g. while the environment was idle).
    pub(crate) fn take_collected(&self) -> Vec<LogLine> {
        let now = crate::clock::now_ms();
        self.buffer
            .lock()
            .map(|mut b| b.take(now))
            .unwrap_or_default()
    }

    /// Waits until everything already written to the pipe is in the buffer, then takes the
    /// buffered lines.
    pub(crate) async fn take(&self) -> Vec<LogLine> {
        let (tx, rx) = oneshot::channel();
        if self.drain.send(tx).await.is_ok() {
            let _ = rx.await;
        }
        let now = crate::clock::now_ms();
        self.buffer
            .lock()
            .map(|mut b| b.take(now))
            .unwrap_or_default()
    }
}

async fn read_loop(
    fd: pipe::Receiver,
    buffer: Arc<Mutex<Buffer>>,
    mut requests: mpsc::Receiver<oneshot::Sender<()>>,
) {
    let mut chunk = vec![0u8; LOG_READ_CHUNK_BYTES];
    let mut open = true;
    loop {
        tokio::select! {
            ready = fd.readable(), if open => {
                if ready.is_err() {
                    open = false;
                    continue;
                }
                if let ReadState::Closed = read_available(&fd, &mut chunk, &buffer) {
                    open = false;
                }
            }
            request = requests.recv() => {
                let Some(ack) = request else { return };
                if open && matches!(read_available(&fd, &mut chunk, &buffer), ReadState::Closed) {
                    open = false;
                }
                let _ = ack.send(());
            }
        }
    }
}

enum ReadState {
    Open,
    Closed,
}

/// Reads until the pipe would block (or is closed).
fn read_available(fd: &pipe::Receiver, chunk: &mut [u8], buffer: &Mutex<Buffer>) -> ReadState {
    loop {
        match fd.try_read(chunk) {
            Ok(0) => return ReadState::Closed,
            Ok(n) => {
                let now = crate::clock::now_ms();
                if let Ok(mut b) = buffer.lock() {
                    b.push_bytes(&chunk[..n], now);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return ReadState::Open,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return ReadState::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_keeps_partials_until_taken() {
        let mut b = Buffer::default();
        b.push_bytes(b"one\ntw", 1);
        b.push_bytes(b"o\nthree", 2);
        let lines = b.take(3);
        let text: Vec<&str> = lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(text, ["one", "two", "three"]);
    }

    #[test]
    fn caps_one_invocation_and_says_so() {
        let mut b = Buffer::default();
        let line = vec![b'x'; 1000];
        for _ in 0..2000 {
            b.push_bytes(&line, 1);
            b.push_bytes(b"\n", 1);
        }
        let lines = b.take(2);
        let kept: usize = lines.iter().map(|l| l.message.len() + 1).sum();
        assert!(kept <= INVOCATION_LOG_BYTES_MAX + 200);
        assert!(
            lines
                .last()
                .is_some_and(|l| l.message.contains("bytes of output dropped"))
        );
        // The cap is per invocation: the next one starts fresh.
        b.push_bytes(b"fresh\n", 3);
        assert_eq!(b.take(4).len(), 1);
    }

    #[test]
    fn splits_huge_lines_into_events() {
        let mut b = Buffer::default();
        let big = vec![b'y'; LOG_EVENT_BYTES_MAX * 2 + 5];
        b.push_bytes(&big, 1);
        let lines = b.take(1);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.message.len() <= LOG_EVENT_BYTES_MAX));
    }
}
