//! Thin, safe wrappers over the raw Linux syscalls the sandbox needs.
//!
//! Every `unsafe` block of the project lives in this crate, most of them here. Each wrapper
//! turns a `-1`/errno into `io::Error` and takes Rust types, so callers stay safe code.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Converts a path to a C string; paths with interior NUL bytes are refused.
pub fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `struct clone_args` of clone3(2); glibc does not export it on x86_64, so we define it.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `CLONE_INTO_CGROUP` (Linux 5.7); not in every libc version.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// What `clone3` returned in the calling process.
pub enum Forked {
    /// We are the new child.
    Child,
    /// We are the parent; the child's pid (in our pid namespace) and its pidfd.
    Parent { pid: libc::pid_t, pidfd: OwnedFd },
}

/// `clone3` with fork semantics (no new stack): namespace `flags`, always `CLONE_PIDFD`, and
/// optionally `CLONE_INTO_CGROUP` with `cgroup_dir` (a directory fd of a cgroup v2 group).
///
/// Must only be called from a single-threaded process: the child runs on a copy of the
/// parent's stack and heap, like after `fork`.
pub fn clone3(flags: u64, cgroup_dir: Option<RawFd>) -> io::Result<Forked> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut RawFd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup_dir {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: `args` is a valid clone_args of the size we pass; with stack == 0 the kernel
    // duplicates the caller like fork(2). The caller guarantees the process is single-threaded.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match check_long(ret)? {
        0 => Ok(Forked::Child),
        pid => {
            // SAFETY: CLONE_PIDFD made the kernel store a fresh, owned fd in `pidfd`.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            Ok(Forked::Parent {
                pid: pid as libc::pid_t,
                pidfd,
            })
        }
    }
}

/// Plain `fork(2)`; only for single-threaded processes (the in-sandbox init).
pub fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: fork has no memory-safety preconditions in a single-threaded process.
    let pid = check(unsafe { libc::fork() })?;
    Ok(if pid == 0 { None } else { Some(pid) })
}

/// Sends `signal` to the process behind `pidfd` (no pid-reuse race).
pub fn pidfd_send_signal(pidfd: &OwnedFd, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd; the null siginfo means "as if by kill(2)".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    check_long(ret).map(|_| ())
}

/// Joins the namespace(s) `nstype` of the process behind `fd` (a pidfd or an ns file).
pub fn setns(fd: RawFd, nstype: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setns(fd, nstype) }).map(|_| ())
}

/// `unshare(2)`.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::unshare(flags) }).map(|_| ())
}

/// 16 random bytes from the kernel, as 32 lowercase hex characters (environment ids).
pub fn random_hex_id() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `mount(2)`.
pub fn mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let source = source.map(CString::new).transpose()?;
    let fstype = fstype.map(CString::new).transpose()?;
    let data = data.map(CString::new).transpose()?;
    let target = cpath(target)?;
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is null or a valid NUL-terminated string living across the call.
    let ret = unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    };
    check(ret).map(|_| ())
}

/// `mount(2)` with a path source (bind mounts, block devices).
pub fn mount_path(
    source: &Path,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let source = source
        .to_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "non-UTF-8 mount source"))?;
    mount(Some(source), target, fstype, flags, data)
}

/// `umount2(2)`.
pub fn umount2(target: &Path, flags: libc::c_int) -> io::Result<()> {
    let target = cpath(target)?;
    // SAFETY: valid C string.
    check(unsafe { libc::umount2(target.as_ptr(), flags) }).map(|_| ())
}

/// `pivot_root(2)`.
pub fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    let new_root = cpath(new_root)?;
    let put_old = cpath(put_old)?;
    // SAFETY: valid C strings.
    let ret = unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    check_long(ret).map(|_| ())
}

/// `sethostname(2)` (in the sandbox's own UTS namespace).
pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length describe a valid byte slice.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(|_| ())
}

/// `prctl(2)` with integer arguments.
pub fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: the options we use take plain integers.
    check(unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
}

/// `setrlimit(2)` with soft = hard = `value`.
pub fn setrlimit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: valid pointer to an rlimit.
    check(unsafe { libc::setrlimit(resource, &limit) }).map(|_| ())
}

/// Drops supplementary groups and switches real, effective and saved ids. Switching every
/// uid away from 0 (without SECBIT_KEEP_CAPS) clears the permitted and effective capability
/// sets, as capabilities(7) describes.
pub fn switch_user(uid: libc::uid_t, gid: libc::gid_t) -> io::Result<()> {
    // SAFETY: plain syscalls with integer arguments / a null list of length 0.
    unsafe {
        check(libc::setgroups(0, std::ptr::null()))?;
        check(libc::setresgid(gid, gid, gid))?;
        check(libc::setresuid(uid, uid, uid))?;
    }
    Ok(())
}

/// Highest capability number the running kernel knows (`/proc/sys/kernel/cap_last_cap`).
fn cap_last_cap() -> u64 {
    /// Fallback when /proc is unreadable: CAP_CHECKPOINT_RESTORE, the last one in Linux 6.x.
    const CAP_LAST_CAP_FALLBACK: u64 = 40;
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(CAP_LAST_CAP_FALLBACK)
}

/// Removes every capability from the bounding and ambient sets, so nothing exec'd later can
/// regain one (needs CAP_SETPCAP, so call it before switching user).
pub fn drop_bounding_and_ambient_caps() -> io::Result<()> {
    for cap in 0..=cap_last_cap() {
        match prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong) {
            Ok(_) => {}
            // A capability newer than our numbering: nothing to drop.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(e),
        }
    }
    // SAFETY: integer-only prctl.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// Sets `PR_SET_NO_NEW_PRIVS`: execve can never grant privileges (setuid bits, file caps).
pub fn set_no_new_privs() -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map(|_| ())
}

/// Closes every fd at or above `first` (close_range(2), Linux 5.9).
pub fn close_fds_from(first: u32) -> io::Result<()> {
    // SAFETY: plain syscall; closing fds we own by construction (we are a fresh child).
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
    check_long(ret).map(|_| ())
}

/// `dup2(2)`; also clears close-on-exec on `to`, as dup2 does.
pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::dup2(from, to) }).map(|_| ())
}

/// Sets or clears `FD_CLOEXEC`.
pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on an fd with integer arguments.
    unsafe {
        let flags = check(libc::fcntl(fd, libc::F_GETFD))?;
        let flags = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        check(libc::fcntl(fd, libc::F_SETFD, flags))?;
    }
    Ok(())
}

/// Sets `O_NONBLOCK`.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with integer arguments.
    unsafe {
        let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
        check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for two fds.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 returned two fresh fds we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Grows a pipe's buffer (best effort: the kernel caps it at /proc/sys/fs/pipe-max-size).
pub fn set_pipe_size(fd: &OwnedFd, bytes: i32) {
    // SAFETY: fcntl with an integer argument; failure leaves the default size.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, bytes);
    }
}

/// A close-on-exec `AF_UNIX` `SOCK_SEQPACKET` socket pair: message boundaries are kept, and
/// the peer's death shows as EOF.
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for two fds.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair returned two fresh fds we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Opens a path with `flags | O_CLOEXEC`.
pub fn open(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = cpath(path)?;
    // SAFETY: valid C string; mode only matters with O_CREAT, which we never pass here.
    let fd = check(unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: open returned a fresh fd we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Brings the loopback interface of the current network namespace up (SIOCSIFFLAGS).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: socket creation with integer arguments.
    let sock =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: we own the fresh fd.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read/write the ifreq we pass.
    unsafe {
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req))?;
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req))?;
    }
    Ok(())
}

/// Kernel ABI of `struct loop_info64` (linux/loop.h).
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// Kernel ABI of `struct loop_config` (linux/loop.h, Linux 5.8).
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

/// Attaches `image` to a free loop device with autoclear (the device detaches itself when the
/// last user goes away) and returns the device path and an open fd on it. Keep the fd open
/// until the device is mounted: closing it first would detach the device at once.
pub fn attach_loop_device(image: &OwnedFd) -> io::Result<(std::path::PathBuf, OwnedFd)> {
    /// Another process can take the device between GET_FREE and CONFIGURE; retry a few times.
    const LOOP_ATTACH_ATTEMPTS_MAX: u32 = 16;
    let control = open(Path::new("/dev/loop-control"), libc::O_RDWR)?;
    // Hundreds of shells starting at once all get the same "free" device and race for it;
    // an exclusive lock on the control device (held until `control` closes, across
    // processes) makes GET_FREE + CONFIGURE one step. It is held for well under a ms.
    // SAFETY: flock on a descriptor we own.
    check(unsafe { libc::flock(control.as_raw_fd(), libc::LOCK_EX) })?;
    let mut last_err = io::Error::other("no loop device attempt made");
    for _ in 0..LOOP_ATTACH_ATTEMPTS_MAX {
        // SAFETY: ioctl without a pointer argument.
        let n = check(unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE) })?;
        let dev = std::path::PathBuf::from(format!("/dev/loop{n}"));
        let dev_fd = open(&dev, libc::O_RDWR)?;
        // SAFETY: LoopConfig is plain old data; all-zero is valid.
        let mut config: LoopConfig = unsafe { std::mem::zeroed() };
        config.fd = image.as_raw_fd() as u32;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        // SAFETY: LOOP_CONFIGURE reads the LoopConfig we pass.
        let ret = unsafe { libc::ioctl(dev_fd.as_raw_fd(), LOOP_CONFIGURE, &config) };
        match check(ret) {
            Ok(_) => return Ok((dev, dev_fd)),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

/// Writes `data` to a file that must already exist (cgroup and /proc knobs).
pub fn write_file(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(data)
}

/// `waitpid(-1, ...)`: reaps any child. `Ok(None)` when none has exited (with WNOHANG).
pub fn wait_any(flags: libc::c_int) -> io::Result<Option<(libc::pid_t, libc::c_int)>> {
    let mut status = 0;
    // SAFETY: valid pointer to an int.
    let pid = check(unsafe { libc::waitpid(-1, &mut status, flags) })?;
    Ok(if pid == 0 { None } else { Some((pid, status)) })
}

/// `execve(2)`; only returns on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    // SAFETY: null-terminated arrays of valid C strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// Terminates the calling process at once, skipping atexit handlers and destructors
/// (the right exit for a forked child that must not run the parent's cleanup).
pub fn exit_now(code: libc::c_int) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Current process id.
pub fn getpid() -> libc::pid_t {
    // SAFETY: always succeeds.
    unsafe { libc::getpid() }
}

/// Parent process id.
pub fn getppid() -> libc::pid_t {
    // SAFETY: always succeeds.
    unsafe { libc::getppid() }
}

/// Effective uid.
pub fn geteuid() -> libc::uid_t {
    // SAFETY: always succeeds.
    unsafe { libc::geteuid() }
}

/// `setsid(2)`: the runtime leads its own session and process group.
pub fn setsid() -> io::Result<()> {
    // SAFETY: always safe to call.
    check(unsafe { libc::setsid() }).map(|_| ())
}

/// `kill(2)`.
pub fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::kill(pid, signal) }).map(|_| ())
}

/// `chmod(2)`.
pub fn chmod(path: &Path, mode: libc::mode_t) -> io::Result<()> {
    let p = cpath(path)?;
    // SAFETY: valid C string.
    check(unsafe { libc::chmod(p.as_ptr(), mode) }).map(|_| ())
}

/// Blocks SIGCHLD and returns a signalfd that becomes readable when a child exits, so a
/// single-threaded loop can poll children and sockets together.
pub fn sigchld_fd() -> io::Result<OwnedFd> {
    // SAFETY: sigset_t manipulation on a local value, then plain syscalls.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        check(libc::sigprocmask(
            libc::SIG_BLOCK,
            &set,
            std::ptr::null_mut(),
        ))?;
        let fd = check(libc::signalfd(
            -1,
            &set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Restores the default signal mask (a forked child must not inherit a blocked SIGCHLD).
pub fn unblock_all_signals() -> io::Result<()> {
    // SAFETY: sigset_t manipulation on a local value, then a plain syscall.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        check(libc::sigprocmask(
            libc::SIG_SETMASK,
            &set,
            std::ptr::null_mut(),
        ))?;
    }
    Ok(())
}

/// Drains a nonblocking fd (used for the signalfd) and ignores what was read.
pub fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 1024];
    loop {
        // SAFETY: reading into a local buffer of the given size.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
    }
}

/// `poll(2)` on the given fds for readability; returns which are readable (or hung up).
pub fn poll_readable(fds: &[RawFd], timeout_ms: libc::c_int) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: pfds is a valid array of the given length.
        let ret = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if ret == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(pfds.iter().map(|p| p.revents != 0).collect());
    }
}

/// `read(2)` into `buf` (for nonblocking pipes the platform polls itself).
pub fn read(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading into a buffer we own, of the length we pass.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `write(2)` of a small status word to a pipe (used between init and its forked runtime).
pub fn write_i32(fd: RawFd, value: i32) {
    let bytes = value.to_ne_bytes();
    // SAFETY: writing from a local buffer; a failure here has no one left to report to.
    unsafe {
        libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Reads a status word written by [`write_i32`]; `None` on EOF (the exec succeeded).
pub fn read_i32(fd: RawFd) -> io::Result<Option<i32>> {
    let mut bytes = [0u8; 4];
    loop {
        // SAFETY: reading into a local buffer of the given size.
        let n = unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), bytes.len()) };
        if n == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(if n == 4 {
            Some(i32::from_ne_bytes(bytes))
        } else {
            None
        });
    }
}

/// Writes the process's own `oom_score_adj` (lowering needs CAP_SYS_RESOURCE).
pub fn set_oom_score_adj(value: i32) -> io::Result<()> {
    write_file(
        Path::new("/proc/self/oom_score_adj"),
        value.to_string().as_bytes(),
    )
}

/// Restores the default action of SIGPIPE (terminate quietly), which Rust's runtime sets to
/// ignore. For short-lived client commands only: `nimbus cost | head` then ends like any Unix
/// tool instead of panicking on a closed stdout. Never for `serve`, whose writes to pipes of
/// exited children must fail with `EPIPE`, not kill the server.
pub fn default_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL installs no handler code; it only
    // changes what the kernel does on a write to a closed pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
