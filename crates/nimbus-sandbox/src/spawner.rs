//! The spawner: a small single-threaded helper process that creates sandboxes.
//!
//! Why a separate process: forking from the platform's multi-threaded async runtime is unsafe
//! for anything but an immediate exec, and `PR_SET_PDEATHSIG` fires when the *thread* that
//! forked exits (tokio's blocking threads come and go). The platform re-executes its own
//! binary with [`SPAWNER_ARG`] at start-up, before any thread exists, and talks to it over a
//! `SOCK_SEQPACKET` socket. The spawner clones shells, plants each shell's Runtime API
//! listener inside the shell's network namespace, hands the descriptors back, and reaps.

use crate::protocol::{self, Isolation, ShellSpec, SpawnerReply, SpawnerRequest};
use crate::shell;
use crate::sys::{self, Forked};
use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

/// First argument that turns the `nimbus` binary into the spawner.
pub const SPAWNER_ARG: &str = "__nimbus_spawner";
/// Descriptor number of the platform socket in the spawner.
const SPAWNER_SOCKET_FD: RawFd = 3;
/// Address of the Runtime API inside every sandbox, exactly as on Lambda.
pub const RUNTIME_API_ADDR: &str = "127.0.0.1:9001";
/// Log pipe buffer: a runtime can write this much before blocking while the platform is busy.
const LOG_PIPE_BYTES: i32 = 1024 * 1024;
/// Listen backlog of a Runtime API socket; one runtime uses one or two connections.
const RUNTIME_API_BACKLOG: i32 = 16;

/// Runs the spawner loop in this process. Never returns.
pub fn spawner_main() -> ! {
    let code = match serve(SPAWNER_SOCKET_FD) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("nimbus spawner: {e}");
            1
        }
    };
    sys::exit_now(code)
}

fn serve(sock: RawFd) -> io::Result<()> {
    // Orphans of process-isolated sandboxes are re-parented to us and reaped below.
    sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1)?;
    let own_netns = sys::open(Path::new("/proc/self/ns/net"), libc::O_RDONLY)?;
    let sigchld = sys::sigchld_fd()?;
    let mut children: HashMap<libc::pid_t, OwnedFd> = HashMap::new();
    loop {
        let ready = sys::poll_readable(&[sock, sigchld.as_raw_fd()], -1)?;
        if ready[1] {
            sys::drain(&sigchld);
            while let Ok(Some((pid, _))) = sys::wait_any(libc::WNOHANG) {
                children.remove(&pid);
            }
        }
        if !ready[0] {
            continue;
        }
        let Some(msg) = protocol::recv(sock)? else {
            // The platform is gone: take every sandbox down with us.
            for pidfd in children.values() {
                let _ = sys::pidfd_send_signal(pidfd, libc::SIGKILL);
            }
            return Ok(());
        };
        let request: SpawnerRequest = msg.decode()?;
        match request {
            SpawnerRequest::BuildShell(spec) => match build_shell(&spec, &own_netns) {
                Ok(built) => {
                    let fds = [
                        built.pidfd.as_raw_fd(),
                        built.control.as_raw_fd(),
                        built.logs.as_raw_fd(),
                        built.listener.as_raw_fd(),
                    ];
                    let reply = SpawnerReply::Shell {
                        pid: built.pid,
                        runtime_api: built.runtime_api,
                    };
                    protocol::send(sock, &reply, &fds)?;
                    children.insert(built.pid, built.pidfd);
                }
                Err(e) => {
                    let reply = SpawnerReply::Failed {
                        message: e.to_string(),
                    };
                    protocol::send(sock, &reply, &[])?;
                }
            },
        }
    }
}

struct Built {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    control: OwnedFd,
    logs: OwnedFd,
    listener: TcpListener,
    runtime_api: String,
}

fn build_shell(spec: &ShellSpec, own_netns: &OwnedFd) -> io::Result<Built> {
    let (control, control_child) = sys::seqpacket_pair()?;
    let (logs, log_write) = sys::pipe()?;
    sys::set_pipe_size(&logs, LOG_PIPE_BYTES);
    let cgroup_dir = match &spec.into_cgroup {
        Some(dir) => Some(sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY)?),
        None => None,
    };
    let flags = match spec.isolation {
        Isolation::Namespaces => {
            (libc::CLONE_NEWPID
                | libc::CLONE_NEWNS
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWUTS
                | libc::CLONE_NEWNET) as u64
        }
        Isolation::Process => 0,
    };
    let forked = sys::clone3(flags, cgroup_dir.as_ref().map(|fd| fd.as_raw_fd()))?;
    let (pid, pidfd) = match forked {
        Forked::Child => {
            drop(control);
            drop(logs);
            shell::shell_main(spec.clone(), control_child, log_write)
        }
        Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(control_child);
    drop(log_write);
    let planted = match spec.isolation {
        Isolation::Namespaces => plant_listener(&pidfd, own_netns),
        Isolation::Process => bind_listener("127.0.0.1:0"),
    };
    let listener = match planted {
        Ok(listener) => listener,
        Err(e) => {
            let _ = sys::pidfd_send_signal(&pidfd, libc::SIGKILL);
            return Err(e);
        }
    };
    let runtime_api = match spec.isolation {
        Isolation::Namespaces => RUNTIME_API_ADDR.to_string(),
        Isolation::Process => listener.local_addr()?.to_string(),
    };
    Ok(Built {
        pid,
        pidfd,
        control,
        logs,
        listener,
        runtime_api,
    })
}

/// Creates the Runtime API listener inside the shell's network namespace, where `lo` is the
/// only interface: the function can reach this socket and nothing else. The socket stays in
/// that namespace while the platform serves it from outside.
fn plant_listener(pidfd: &OwnedFd, own_netns: &OwnedFd) -> io::Result<TcpListener> {
    sys::setns(pidfd.as_raw_fd(), libc::CLONE_NEWNET)?;
    let planted = sys::loopback_up().and_then(|()| bind_listener(RUNTIME_API_ADDR));
    if let Err(e) = sys::setns(own_netns.as_raw_fd(), libc::CLONE_NEWNET) {
        // Staying in a sandbox's namespace would put every later listener there: give up.
        eprintln!("nimbus spawner: cannot return to own network namespace: {e}");
        sys::exit_now(2);
    }
    planted
}

fn bind_listener(addr: &str) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    // std listens with a backlog of 128; a smaller queue bounds what a runtime can open.
    // SAFETY: listen(2) on a bound socket we own.
    unsafe { libc::listen(listener.as_raw_fd(), RUNTIME_API_BACKLOG) };
    Ok(listener)
}

/// The platform's handle on its spawner process.
pub struct SpawnerHandle {
    sock: OwnedFd,
    child: Child,
}

/// A shell as the platform receives it.
pub struct ShellFds {
    /// Pid of the shell's init (platform pid namespace).
    pub pid: i32,
    /// pidfd of the init: kill without pid-reuse races, poll for exit.
    pub pidfd: OwnedFd,
    /// Control socket to the init (`Go` out; `Ready`/`Started`/`Exited` in).
    pub control: OwnedFd,
    /// Read end of the runtime's stdout+stderr pipe.
    pub logs: OwnedFd,
    /// The Runtime API listener (inside the shell's network namespace when isolated).
    pub listener: TcpListener,
    /// Runtime API address as the function sees it.
    pub runtime_api: String,
}

impl SpawnerHandle {
    /// Starts `exe` (normally `/proc/self/exe`) as the spawner. Call before any thread exists:
    /// the spawner's death signal is tied to the calling thread.
    pub fn start(exe: &Path) -> io::Result<Self> {
        let (ours, theirs) = sys::seqpacket_pair()?;
        let theirs_raw = theirs.as_raw_fd();
        let mut cmd = Command::new(exe);
        cmd.arg(SPAWNER_ARG).env_clear();
        // SAFETY: the closure runs between fork and exec and only calls async-signal-safe
        // functions (dup2, prctl).
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(theirs_raw, SPAWNER_SOCKET_FD) == -1 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        drop(theirs);
        Ok(Self { sock: ours, child })
    }

    /// Asks for a new shell; blocks for the spawner's answer (about a millisecond).
    pub fn build_shell(&self, spec: &ShellSpec) -> io::Result<ShellFds> {
        let sock = self.sock.as_raw_fd();
        protocol::send(sock, &SpawnerRequest::BuildShell(spec.clone()), &[])?;
        let msg = protocol::recv(sock)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "spawner exited"))?;
        match msg.decode::<SpawnerReply>()? {
            SpawnerReply::Failed { message } => Err(io::Error::other(message)),
            SpawnerReply::Shell { pid, runtime_api } => {
                let mut fds = msg.fds.into_iter();
                let (Some(pidfd), Some(control), Some(logs), Some(listener)) =
                    (fds.next(), fds.next(), fds.next(), fds.next())
                else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "spawner reply without its descriptors",
                    ));
                };
                Ok(ShellFds {
                    pid,
                    pidfd,
                    control,
                    logs,
                    listener: TcpListener::from(listener),
                    runtime_api,
                })
            }
        }
    }

    /// Whether the spawner process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for SpawnerHandle {
    fn drop(&mut self) {
        // Closing the socket makes the spawner kill its sandboxes and exit; wait for it.
        let _ = sys::set_nonblocking(self.sock.as_raw_fd());
        // SAFETY: shutting down a socket we own.
        unsafe { libc::shutdown(self.sock.as_raw_fd(), libc::SHUT_RDWR) };
        let _ = self.child.wait();
    }
}
