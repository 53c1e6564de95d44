//! Follows an environment's init over its control socket: `Started`, `Failed`, `Exited`,
//! or the socket closing (the init died, e.g. killed).

use nimbus_sandbox::protocol::{self, InitMessage};
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

/// What the platform knows about an environment's processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProcState {
    /// `Go` sent; the runtime is not exec'd yet.
    Starting,
    /// The runtime is running.
    Running,
    /// Set-up or exec failed inside the sandbox.
    Failed {
        stage: String,
        errno: Option<i32>,
        message: String,
    },
    /// The runtime exited; the environment is dead.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// The init vanished without a word (killed): the environment is dead.
    Gone,
}

impl ProcState {
    /// True once nothing can run in the environment any more.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(
            self,
            ProcState::Failed { .. } | ProcState::Exited { .. } | ProcState::Gone
        )
    }
}

/// Starts following `control`; the receiver always holds the latest state.
pub(crate) fn follow(
    control: OwnedFd,
) -> std::io::Result<(watch::Receiver<ProcState>, tokio::task::JoinHandle<()>)> {
    nimbus_sandbox::sys::set_nonblocking(control.as_raw_fd())?;
    let fd = AsyncFd::new(control)?;
    let (tx, rx) = watch::channel(ProcState::Starting);
    let task = tokio::spawn(async move {
        loop {
            let Ok(mut guard) = fd.readable().await else {
                let _ = tx.send(ProcState::Gone);
                return;
            };
            match protocol::recv(fd.get_ref().as_raw_fd()) {
                Ok(Some(msg)) => {
                    let state = match msg.decode::<InitMessage>() {
                        Ok(InitMessage::Started { .. }) => ProcState::Running,
                        Ok(InitMessage::Failed { stage, errno, message }) => ProcState::Failed {
                            stage,
                            errno,
                            message,
                        },
                        Ok(InitMessage::Exited { code, signal }) => ProcState::Exited { code, signal },
                        Ok(InitMessage::Ready) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "unreadable message from a sandbox init");
                            continue;
                        }
                    };
                    let dead = state.is_dead();
                    let _ = tx.send(state);
                    if dead {
                        return;
                    }
                }
                Ok(None) => {
                    tx.send_if_modified(|s| {
                        if s.is_dead() {
                            false
                        } else {
                            *s = ProcState::Gone;
                            true
                        }
                    });
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    let _ = tx.send(ProcState::Gone);
                    return;
                }
            }
        }
    });
    Ok((rx, task))
}
