//! The child side of a sandbox: what runs between `clone3` and the runtime's `execve`, and
//! then stays as the sandbox's init (PID 1 of its pid namespace).
//!
//! A shell is built ahead of need: it joins its cgroups, builds the private root and mounts
//! `/tmp` (the slow, generic parts), reports `Ready`, and blocks. On `Go` it adds the
//! function-specific mounts, pivots into the new root, forks the runtime (which drops every
//! privilege and execs), reports `Started`, and reaps children until the runtime exits.
//!
//! This code runs in a forked copy of the single-threaded spawner, so it may allocate, but it
//! must never return into the spawner's loop: every path ends in `exit_now`.

use crate::protocol::{self, Go, InitMessage, Isolation, RootfsSpec, ShellSpec, TmpSpec};
use crate::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// fd number of the control socket inside the shell.
const CONTROL_FD: RawFd = 3;
/// fd number of the log pipe's write end inside the shell (also the runtime's stdout/stderr).
const LOG_FD: RawFd = 4;
/// Where the host root is parked during `pivot_root`, relative to the new root.
const OLD_ROOT: &str = ".old_root";
/// Size of the tmpfs holding the skeleton root (directories, mount points, symlinks only).
const ROOT_TMPFS_SIZE: &str = "size=1m,nr_inodes=4096,mode=0755";
/// `/dev` holds only a handful of device nodes and symlinks.
const DEV_TMPFS_SIZE: &str = "size=64k,nr_inodes=64,mode=0755";
/// The init's own uid/gid once the runtime is started: unprivileged, and not the runtime's,
/// so the function can neither signal nor trace it.
const INIT_UID: u32 = 992;
/// oom_score_adj of the init: the OOM killer must pick the runtime, never the init.
const INIT_OOM_SCORE_ADJ: i32 = -1000;

/// Character devices every Lambda environment has: (name, major, minor).
const DEVICE_NODES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Entry point of a freshly cloned shell. Never returns.
pub(crate) fn shell_main(spec: ShellSpec, control: OwnedFd, log_write: OwnedFd) -> ! {
    if let Err(e) = arrange_fds(control, log_write) {
        // No control socket to report on; the platform sees the socket close.
        let _ = e;
        sys::exit_now(120);
    }
    let code = match run(&spec) {
        Ok(code) => code,
        Err(failure) => {
            let _ = protocol::send(CONTROL_FD, &failure, &[]);
            121
        }
    };
    sys::exit_now(code)
}

/// Builds an `InitMessage::Failed` from a step name and an io error.
fn failed(stage: &str, err: io::Error) -> InitMessage {
    InitMessage::Failed {
        stage: stage.to_string(),
        errno: err.raw_os_error(),
        message: err.to_string(),
    }
}

/// Attaches a step name to io errors.
trait Stage<T> {
    fn stage(self, stage: &str) -> Result<T, InitMessage>;
}

impl<T> Stage<T> for io::Result<T> {
    fn stage(self, stage: &str) -> Result<T, InitMessage> {
        self.map_err(|e| failed(stage, e))
    }
}

/// Puts the control socket at fd 3 and the log pipe at fd 4, stdio on /dev/null and the log
/// pipe, and closes every other descriptor inherited from the spawner (other sandboxes' fds
/// must never leak in here).
fn arrange_fds(control: OwnedFd, log_write: OwnedFd) -> io::Result<()> {
    sys::unblock_all_signals()?;
    // PID namespace children see a parent pid of 0, so the death signal is the only guard
    // against outliving the spawner (the control socket's EOF is the other).
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)?;
    // Move both out of the way first so the dup2s below cannot clobber one another.
    let control_hi = 1000;
    let log_hi = 1001;
    sys::dup2(control.as_raw_fd(), control_hi)?;
    sys::dup2(log_write.as_raw_fd(), log_hi)?;
    drop(control);
    drop(log_write);
    sys::dup2(control_hi, CONTROL_FD)?;
    sys::dup2(log_hi, LOG_FD)?;
    let null = sys::open(Path::new("/dev/null"), libc::O_RDWR)?;
    sys::dup2(null.as_raw_fd(), 0)?;
    drop(null);
    sys::dup2(LOG_FD, 1)?;
    sys::dup2(LOG_FD, 2)?;
    sys::close_fds_from(LOG_FD as u32 + 1)?;
    // The runtime gets stdio only; the control socket stays with the init.
    sys::set_cloexec(CONTROL_FD, true)?;
    sys::set_cloexec(LOG_FD, true)?;
    Ok(())
}

fn run(spec: &ShellSpec) -> Result<i32, InitMessage> {
    for file in &spec.attach {
        sys::write_file(file, b"0").stage("cgroup attach")?;
    }
    if spec.isolation == Isolation::Namespaces {
        // A cgroup namespace rooted at the environment's own group: /proc/self/cgroup shows
        // "/" instead of the host's hierarchy.
        sys::unshare(libc::CLONE_NEWCGROUP).stage("cgroup namespace")?;
    }
    let root = match (&spec.isolation, &spec.rootfs) {
        (Isolation::Namespaces, Some(rootfs)) => {
            build_root(rootfs).stage("root filesystem")?;
            mount_tmp(&spec.tmp, &rootfs.mountpoint.join("tmp")).stage("/tmp")?;
            Some(rootfs)
        }
        (Isolation::Namespaces, None) => {
            return Err(failed(
                "spec",
                io::Error::other("namespaces need a rootfs spec"),
            ));
        }
        (Isolation::Process, _) => None,
    };
    protocol::send(CONTROL_FD, &InitMessage::Ready, &[]).stage("report ready")?;

    let go: Go = match protocol::recv(CONTROL_FD).stage("wait for go")? {
        Some(msg) => msg.decode().stage("decode go")?,
        // The platform dropped this shell (shutdown or pool trim).
        None => return Ok(0),
    };
    if let Some(rootfs) = root {
        enter_root(rootfs, &go).stage("enter root")?;
        sys::sethostname(&rootfs.hostname).stage("hostname")?;
    }
    // Built before the fork: the runtime child must only apply it.
    let filters = crate::seccomp::Filters::build()
        .map_err(|e| failed("seccomp", std::io::Error::other(e)))?;
    let runtime_pid = start_runtime(&go, &filters)?;
    protocol::send(CONTROL_FD, &InitMessage::Started { pid: runtime_pid }, &[])
        .stage("report started")?;
    become_unprivileged_init(spec.isolation).stage("drop init privileges")?;
    filters.apply().stage("init seccomp")?;
    reap_until_runtime_exits(runtime_pid)
}

/// Mounts a tmpfs root with read-only views of the host's shared parts (still under the
/// host's root; `enter_root` pivots later).
fn build_root(rootfs: &RootfsSpec) -> io::Result<()> {
    // Nothing we mount may propagate back to the host.
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )?;
    let root = &rootfs.mountpoint;
    sys::mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(ROOT_TMPFS_SIZE),
    )?;
    for dir in [
        "etc",
        "var/task",
        "var/runtime",
        "opt",
        "tmp",
        "proc",
        "dev",
        OLD_ROOT,
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    for (name, target) in &rootfs.root_symlinks {
        std::os::unix::fs::symlink(target, root.join(name))?;
    }
    for dir in &rootfs.ro_dirs {
        bind_ro(dir, &inside(root, dir))?;
    }
    bind_ro(&rootfs.etc_dir, &root.join("etc"))?;
    bind_ro(&rootfs.runtime_dir, &root.join("var/runtime"))?;
    // A fresh procfs shows only this pid namespace.
    sys::mount(
        Some("proc"),
        &root.join("proc"),
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )?;
    build_dev(&root.join("dev"))?;
    sys::chmod(&root.join("tmp"), 0o1777)?;
    Ok(())
}

/// The path `host` would have inside the new root (created as a mount point).
fn inside(root: &Path, host: &Path) -> PathBuf {
    let relative = host.strip_prefix("/").unwrap_or(host);
    root.join(relative)
}

/// Bind-mounts `source` read-only, without setuid or device files, at `target`.
fn bind_ro(source: &Path, target: &Path) -> io::Result<()> {
    std::fs::create_dir_all(target)?;
    sys::mount_path(source, target, None, libc::MS_BIND, None)?;
    sys::mount(
        None,
        target,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )
    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", target.display())))
}

/// A minimal `/dev`: the standard character devices and the fd symlinks.
fn build_dev(dev: &Path) -> io::Result<()> {
    sys::mount(
        Some("tmpfs"),
        dev,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(DEV_TMPFS_SIZE),
    )?;
    for (name, major, minor) in DEVICE_NODES {
        let path = sys::cpath(&dev.join(name))?;
        // SAFETY: valid C string; creating a character device node in our private tmpfs.
        let ret = unsafe {
            libc::mknod(
                path.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(*major, *minor),
            )
        };
        if ret == -1 {
            return Err(io::Error::last_os_error());
        }
        // mknod honours the umask; the nodes must be usable by the unprivileged runtime.
        sys::chmod(&dev.join(name), 0o666)?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name))?;
    }
    Ok(())
}

/// Mounts `/tmp`. An ext4 image through a loop device is disk-backed, so `/tmp` is not charged
/// to the function's memory limit (a tmpfs would be), and capped by the image size.
fn mount_tmp(tmp: &TmpSpec, target: &Path) -> io::Result<()> {
    match tmp {
        TmpSpec::Image(image) => {
            let file = sys::open(image, libc::O_RDWR)?;
            let (device, device_fd) = sys::attach_loop_device(&file)?;
            drop(file);
            sys::mount_path(
                &device,
                target,
                Some("ext4"),
                libc::MS_NOSUID | libc::MS_NODEV,
                None,
            )?;
            // The mount now holds the device; autoclear detaches it when the mount goes away.
            drop(device_fd);
            // mke2fs makes a lost+found and a 0755 root; Lambda's /tmp is empty and world-writable.
            let _ = std::fs::remove_dir(target.join("lost+found"));
        }
        TmpSpec::Tmpfs { size_mb } => {
            let data = format!("size={size_mb}m,mode=1777");
            sys::mount(
                Some("tmpfs"),
                target,
                Some("tmpfs"),
                libc::MS_NOSUID | libc::MS_NODEV,
                Some(&data),
            )?;
        }
        // Only meaningful without namespaces; nothing to mount.
        TmpSpec::HostDir(_) => return Ok(()),
    }
    sys::chmod(target, 0o1777)
}

/// Adds the function's code (and a non-default /tmp), pivots into the new root and makes it
/// read-only.
fn enter_root(rootfs: &RootfsSpec, go: &Go) -> io::Result<()> {
    let root = &rootfs.mountpoint;
    bind_ro(&go.task_dir, &root.join("var/task"))?;
    for dir in &go.extra_ro_dirs {
        bind_ro(dir, &inside(root, dir))?;
    }
    if let Some(tmp_spec) = &go.tmp {
        let tmp = root.join("tmp");
        sys::umount2(&tmp, libc::MNT_DETACH)?;
        mount_tmp(tmp_spec, &tmp)?;
    }
    sys::pivot_root(root, &root.join(OLD_ROOT))?;
    std::env::set_current_dir("/")?;
    let old = Path::new("/").join(OLD_ROOT);
    sys::umount2(&old, libc::MNT_DETACH)?;
    std::fs::remove_dir(&old)?;
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )
}

/// Forks the runtime process; returns its pid once `execve` succeeded.
fn start_runtime(go: &Go, filters: &crate::seccomp::Filters) -> Result<i32, InitMessage> {
    let to_c = |s: &str| CString::new(s).map_err(|_| io::Error::other("NUL byte in argv/envp"));
    let argv: Vec<CString> = go
        .argv
        .iter()
        .map(|a| to_c(a))
        .collect::<io::Result<_>>()
        .stage("argv")?;
    let envp: Vec<CString> = go
        .envp
        .iter()
        .map(|e| to_c(e))
        .collect::<io::Result<_>>()
        .stage("envp")?;
    let Some(program) = argv.first().cloned() else {
        return Err(failed("argv", io::Error::other("empty argv")));
    };
    // The init must survive the OOM killer; its children reset the score below.
    let _ = sys::set_oom_score_adj(INIT_OOM_SCORE_ADJ);
    let (status_read, status_write) = sys::pipe().stage("status pipe")?;
    match sys::fork().stage("fork runtime")? {
        None => {
            drop(status_read);
            let err = exec_runtime(go, filters, &program, &argv, &envp);
            sys::write_i32(
                status_write.as_raw_fd(),
                err.raw_os_error().unwrap_or(libc::EIO),
            );
            sys::exit_now(127);
        }
        Some(pid) => {
            drop(status_write);
            match sys::read_i32(status_read.as_raw_fd()).stage("read exec status")? {
                None => Ok(pid),
                Some(errno) => {
                    // Reap the failed child so the init's reaper loop does not report it.
                    let _ = sys::wait_any(0);
                    Err(InitMessage::Failed {
                        stage: "exec".to_string(),
                        errno: Some(errno),
                        message: format!("{}: {}", go.argv[0], io::Error::from_raw_os_error(errno)),
                    })
                }
            }
        }
    }
}

/// In the forked child: drop every privilege and exec. Returns only on failure.
fn exec_runtime(
    go: &Go,
    filters: &crate::seccomp::Filters,
    program: &CString,
    argv: &[CString],
    envp: &[CString],
) -> io::Error {
    let result = (|| -> io::Result<()> {
        sys::setsid()?;
        sys::set_oom_score_adj(0)?;
        sys::setrlimit(libc::RLIMIT_NOFILE, go.nofile)?;
        sys::setrlimit(libc::RLIMIT_CORE, 0)?;
        std::env::set_current_dir(&go.cwd)?;
        if sys::geteuid() == 0 {
            sys::drop_bounding_and_ambient_caps()?;
            sys::switch_user(go.uid, go.gid)?;
        }
        sys::set_no_new_privs()?;
        filters.apply()?;
        Ok(())
    })();
    match result {
        Err(e) => e,
        Ok(()) => sys::execve(program, argv, envp),
    }
}

/// After the runtime started the init needs no privilege at all.
fn become_unprivileged_init(isolation: Isolation) -> io::Result<()> {
    if isolation == Isolation::Namespaces && sys::geteuid() == 0 {
        sys::drop_bounding_and_ambient_caps()?;
        sys::switch_user(INIT_UID, INIT_UID)?;
    }
    sys::set_no_new_privs()
}

/// Reaps every child (orphans are re-parented to us as PID 1) until the runtime exits, then
/// reports how it ended. Our exit takes every remaining process of the namespace with us.
fn reap_until_runtime_exits(runtime_pid: i32) -> Result<i32, InitMessage> {
    loop {
        match sys::wait_any(0) {
            Ok(Some((pid, status))) if pid == runtime_pid => {
                let msg = if libc::WIFSIGNALED(status) {
                    InitMessage::Exited {
                        code: None,
                        signal: Some(libc::WTERMSIG(status)),
                    }
                } else {
                    InitMessage::Exited {
                        code: Some(libc::WEXITSTATUS(status)),
                        signal: None,
                    }
                };
                // Without a pid namespace our exit would not end the runtime's descendants:
                // end its whole process group (setsid made it the leader).
                let _ = sys::kill(-runtime_pid, libc::SIGKILL);
                let _ = protocol::send(CONTROL_FD, &msg, &[]);
                return Ok(0);
            }
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(failed("wait", e)),
        }
    }
}
