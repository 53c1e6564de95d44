//! Messages between the platform, the spawner and each sandbox's init, and the framing that
//! carries them: one JSON document per `SOCK_SEQPACKET` message, file descriptors alongside
//! as `SCM_RIGHTS`.

use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// Largest message on any of our sockets. A `Go` carries the environment (≤ 4 KB of user
/// variables plus Lambda's own) and a few paths, so 128 KiB is generous, still bounded, and
/// below the default socket send buffer (a SEQPACKET message must fit in it whole).
pub const MESSAGE_BYTES_MAX: usize = 128 * 1024;

/// Most descriptors sent with one message (a shell carries four).
const FDS_PER_MESSAGE_MAX: usize = 4;

/// How much of the sandbox the kernel isolates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Isolation {
    /// New mount, PID, IPC, UTS and network namespaces; private root; cgroups.
    Namespaces,
    /// A plain child process (no root privileges available): development only.
    Process,
}

/// Platform → spawner.
#[derive(Debug, Serialize, Deserialize)]
pub enum SpawnerRequest {
    /// Create an empty sandbox ("shell") that waits for a [`Go`].
    BuildShell(ShellSpec),
}

/// Everything the spawner and the new shell need, decided by the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShellSpec {
    /// Unique id (32 hex chars), also the environment id once launched.
    pub shell_id: String,
    /// Isolation level.
    pub isolation: Isolation,
    /// `cgroup.procs` files the child writes itself into before it does anything else.
    pub attach: Vec<PathBuf>,
    /// A cgroup v2 directory for `clone3(CLONE_INTO_CGROUP)`, when every controller is on v2.
    pub into_cgroup: Option<PathBuf>,
    /// How to build the root filesystem (namespaces only).
    pub rootfs: Option<RootfsSpec>,
    /// What backs `/tmp` (mounted before the shell reports ready).
    pub tmp: TmpSpec,
}

/// What backs a sandbox's `/tmp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TmpSpec {
    /// An ext4 image mounted through a loop device: disk-backed, capped, not charged to memory.
    Image(PathBuf),
    /// A size-capped tmpfs (fallback without mke2fs: charged to the memory limit).
    Tmpfs {
        /// Size cap in MiB.
        size_mb: u32,
    },
    /// A host directory given as `TMPDIR` (process isolation only; not capped).
    HostDir(PathBuf),
}

/// The host paths from which a shell builds its private root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootfsSpec {
    /// An empty host directory the shell mounts its tmpfs root on (in its own mount namespace).
    pub mountpoint: PathBuf,
    /// The `/etc` the functions see (built once by the platform).
    pub etc_dir: PathBuf,
    /// Runtime support files, mounted read-only at `/var/runtime`.
    pub runtime_dir: PathBuf,
    /// Host directories mounted read-only at the same path (`/usr`, interpreter prefixes).
    pub ro_dirs: Vec<PathBuf>,
    /// Top-level names that are symlinks on the host and are recreated as such (`/bin` → `usr/bin`).
    pub root_symlinks: Vec<(String, String)>,
    /// Hostname set in the sandbox's UTS namespace.
    pub hostname: String,
}

/// Spawner → platform, answering [`SpawnerRequest::BuildShell`].
#[derive(Debug, Serialize, Deserialize)]
pub enum SpawnerReply {
    /// Built; fds follow in this order: pidfd, control socket, log pipe (read end), Runtime
    /// API listener.
    Shell {
        /// Pid of the shell's init in the platform's pid namespace.
        pid: i32,
        /// The Runtime API address as the function will see it (`127.0.0.1:9001` with namespaces).
        runtime_api: String,
    },
    /// Could not build; the text says which step failed.
    Failed {
        /// What went wrong.
        message: String,
    },
}

/// Platform → shell init: turn this empty sandbox into a function's execution environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Go {
    /// The function's code, mounted read-only at `/var/task`.
    pub task_dir: PathBuf,
    /// Extra host directories mounted read-only at the same path (e.g. a pyenv interpreter).
    pub extra_ro_dirs: Vec<PathBuf>,
    /// A different `/tmp` than the pre-mounted one (non-default EphemeralStorage).
    pub tmp: Option<TmpSpec>,
    /// Program and arguments; `argv[0]` is the path executed.
    pub argv: Vec<String>,
    /// The complete environment (nothing is inherited).
    pub envp: Vec<String>,
    /// Working directory of the runtime.
    pub cwd: PathBuf,
    /// User and group the runtime runs as.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// RLIMIT_NOFILE for the runtime.
    pub nofile: u64,
}

/// Shell init → platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitMessage {
    /// The shell finished its generic setup and waits for a [`Go`].
    Ready,
    /// The runtime process was exec'd.
    Started {
        /// Runtime pid inside the sandbox's pid namespace.
        pid: i32,
    },
    /// Setup or exec failed; the environment is unusable and the init exits.
    Failed {
        /// Which step (`mount`, `exec`, …).
        stage: String,
        /// errno, when the failure came from a syscall.
        errno: Option<i32>,
        /// Human-readable detail.
        message: String,
    },
    /// The runtime process ended; the init exits right after.
    Exited {
        /// Exit code when it exited normally.
        code: Option<i32>,
        /// Signal number when it was killed.
        signal: Option<i32>,
    },
}

/// Sends one JSON message with optional fds.
pub fn send<T: Serialize>(sock: RawFd, msg: &T, fds: &[RawFd]) -> io::Result<()> {
    let body = serde_json::to_vec(msg).map_err(io::Error::other)?;
    if body.len() > MESSAGE_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "message of {} bytes exceeds {MESSAGE_BYTES_MAX}",
                body.len()
            ),
        ));
    }
    send_raw(sock, &body, fds)
}

fn send_raw(sock: RawFd, body: &[u8], fds: &[RawFd]) -> io::Result<()> {
    if fds.len() > FDS_PER_MESSAGE_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many fds for one message",
        ));
    }
    let mut iov = libc::iovec {
        iov_base: body.as_ptr() as *mut libc::c_void,
        iov_len: body.len(),
    };
    // Control buffer sized for the maximum fd count, aligned like cmsghdr.
    let mut cmsg_buf = [0u64; 8];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let fd_bytes = std::mem::size_of_val(fds);
        // SAFETY: CMSG_SPACE/CMSG_FIRSTHDR/CMSG_DATA compute offsets inside `cmsg_buf`, which
        // is large enough for FDS_PER_MESSAGE_MAX descriptors (checked above).
        unsafe {
            msg.msg_control = cmsg_buf.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(fd_bytes as u32) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(fd_bytes as u32) as usize;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast(), fds.len());
        }
    }
    loop {
        // SAFETY: msg points at live buffers for the duration of the call.
        let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if n == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(());
    }
}

/// One received message: its bytes and any fds that came with it.
pub struct Received {
    /// Message body (empty at EOF).
    pub body: Vec<u8>,
    /// Descriptors, owned by the receiver.
    pub fds: Vec<OwnedFd>,
}

impl Received {
    /// Decodes the JSON body.
    pub fn decode<T: for<'de> Deserialize<'de>>(&self) -> io::Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("bad message: {e}")))
    }
}

/// Receives one message. `Ok(None)` means the peer closed the socket (EOF). With a nonblocking
/// socket, `WouldBlock` is returned as an error.
pub fn recv(sock: RawFd) -> io::Result<Option<Received>> {
    let mut body = vec![0u8; MESSAGE_BYTES_MAX];
    let mut iov = libc::iovec {
        iov_base: body.as_mut_ptr().cast(),
        iov_len: body.len(),
    };
    let mut cmsg_buf = [0u64; 8];
    // SAFETY: msghdr is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_buf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg_buf);
    let n = loop {
        // SAFETY: msg points at live buffers; MSG_CMSG_CLOEXEC marks received fds close-on-exec.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        break n as usize;
    };
    let mut fds = Vec::new();
    // SAFETY: we walk the control messages the kernel wrote into `cmsg_buf`, within
    // msg_controllen, and take ownership of every SCM_RIGHTS descriptor exactly once.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const RawFd;
                let header = libc::CMSG_LEN(0) as usize;
                let count = ((*cmsg).cmsg_len as usize - header) / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "message truncated",
        ));
    }
    if n == 0 && fds.is_empty() {
        return Ok(None);
    }
    body.truncate(n);
    Ok(Some(Received { body, fds }))
}

/// Convenience: the raw fd of an owned fd.
pub fn raw(fd: &OwnedFd) -> RawFd {
    fd.as_raw_fd()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;
    use std::io::{Read, Write};

    #[test]
    fn messages_and_fds_cross_a_seqpacket_pair() {
        let (a, b) = sys::seqpacket_pair().expect("socketpair");
        let (r, w) = sys::pipe().expect("pipe");
        send(raw(&a), &InitMessage::Started { pid: 7 }, &[raw(&w)]).expect("send");
        drop(w);
        let got = recv(raw(&b)).expect("recv").expect("not eof");
        assert_eq!(
            got.decode::<InitMessage>().expect("decode"),
            InitMessage::Started { pid: 7 }
        );
        assert_eq!(got.fds.len(), 1);
        // The received fd is the pipe's write end: writing into it reaches `r`.
        let mut file = std::fs::File::from(got.fds.into_iter().next().expect("fd"));
        file.write_all(b"hi").expect("write");
        drop(file);
        let mut out = String::new();
        std::fs::File::from(r)
            .read_to_string(&mut out)
            .expect("read");
        assert_eq!(out, "hi");
        drop(a);
        assert!(
            recv(raw(&b)).expect("recv").is_none(),
            "EOF after peer closed"
        );
    }

    #[test]
    fn oversized_messages_are_refused() {
        let (a, _b) = sys::seqpacket_pair().expect("socketpair");
        let big = "x".repeat(MESSAGE_BYTES_MAX + 1);
        assert!(send(raw(&a), &big, &[]).is_err());
    }
}
