//! Follows an environment's init over its control socket: `Started`, `Failed`, `Exited`,
//! or the socket closing (the init died, e.g. killed).

use nimbus_sandbox::protocol::InitMessage;
use std::os::fd::OwnedFd;
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
    // A SOCK_SEQPACKET socket read through the datagram API: one recv, one whole message;
    // 0 bytes means the init closed its end (we never send empty messages).
    let std_socket = std::os::unix::net::UnixDatagram::from(control);
    std_socket.set_nonblocking(true)?;
    let socket = tokio::net::UnixDatagram::from_std(std_socket)?;
    let (tx, rx) = watch::channel(ProcState::Starting);
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; nimbus_sandbox::protocol::MESSAGE_BYTES_MAX];
        loop {
            let n = match socket.recv(&mut buf).await {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
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
            let state = match serde_json::from_slice::<InitMessage>(&buf[..n]) {
                Ok(InitMessage::Started { .. }) => ProcState::Running,
                Ok(InitMessage::Failed {
                    stage,
                    errno,
                    message,
                }) => ProcState::Failed {
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
    });
    Ok((rx, task))
}
