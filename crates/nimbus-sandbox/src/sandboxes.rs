//! The platform-side manager of execution environments: starts the spawner, keeps a small
//! pool of pre-built empty sandboxes ("shells"), turns a shell into a function's environment
//! on demand, and tears environments down completely.
//!
//! Cold-start budget: building a shell (namespaces, cgroup placement — up to ~10-19 ms on an
//! idle cgroup v1 host — root filesystem, `/tmp` mount) happens in a background thread, so a
//! cold start only pays a few cgroup writes, one message, the remaining mounts and the exec.

use crate::cgroup::{CgroupLayout, CgroupRoot, Controller, EnvCgroup, EnvLimits};
use crate::protocol::{self, Go, InitMessage, Isolation, RootfsSpec, ShellSpec, TmpSpec};
use crate::scratch::ScratchImages;
use crate::spawner::{ShellFds, SpawnerHandle};
use crate::{etc, sys};
use std::collections::VecDeque;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Unprivileged uid/gid the runtime runs as (Lambda's `sbx_user1051` is 993).
pub const RUNTIME_UID: u32 = 993;
/// Group of the runtime user.
pub const RUNTIME_GID: u32 = 990;
/// Lambda's per-environment file descriptor quota.
pub const NOFILE_MAX: u64 = 1024;
/// Lambda's per-environment process and thread quota.
pub const PIDS_MAX: u32 = 1024;
/// Memory limit of a shell before it is given to a function: the smallest function size, so
/// a later limit is never below what the shell already uses.
const SHELL_MEMORY_MB: u32 = 128;
/// How long a new shell may take to report `Ready` (a cgroup attach can stall ~20 ms; mounting
/// an image is a few ms; anything near this bound means the host is in trouble).
const SHELL_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long teardown waits for an environment's processes to disappear after SIGKILL.
const TEARDOWN_WAIT: Duration = Duration::from_secs(5);
/// Pause after a failed shell build before the pool thread retries (bounds a failure loop).
const REFILL_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Shells set up at once. Hundreds of set-ups at the same moment (a burst of cold starts)
/// only starve one another of CPU until they miss [`SHELL_READY_TIMEOUT`]; queued, each
/// finishes in milliseconds.
const SHELL_SETUPS_MAX: usize = 8;
/// Longest a cold start waits for a set-up slot before failing (bounds the queue's wait).
const SHELL_SETUP_QUEUE_WAIT: Duration = Duration::from_secs(60);
/// Upper bound on pre-built shells, whatever the configuration says.
pub const POOL_SIZE_MAX: usize = 64;
/// Hostname inside every sandbox.
const SANDBOX_HOSTNAME: &str = "nimbus-sandbox";

/// Configuration of the sandbox layer.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Scratch space: rootfs mount point, generated `/etc`, `/tmp` images (`<data>/run`).
    pub run_dir: PathBuf,
    /// Runtime support files (bootstraps), shown read-only at `/var/runtime`.
    pub runtime_dir: PathBuf,
    /// Executable to run as the spawner (normally `/proc/self/exe`).
    pub spawner_exe: PathBuf,
    /// Number of pre-built shells kept ready.
    pub pool_size: usize,
    /// `/tmp` size of pre-built shells (Lambda's default EphemeralStorage).
    pub default_tmp_mb: u32,
    /// Force process isolation even when root (development and tests of the fallback).
    pub force_process_isolation: bool,
}

/// What the sandbox layer enforces on this host; printed once at start-up.
#[derive(Debug, Clone)]
pub struct Protections {
    /// Isolation level in use.
    pub isolation: Isolation,
    /// Each protection that is NOT enforced, in words.
    pub not_enforced: Vec<String>,
}

/// Paths as the runtime sees them, which differ between isolation levels.
#[derive(Debug, Clone)]
pub struct InsidePaths {
    /// `LAMBDA_TASK_ROOT`.
    pub task_root: PathBuf,
    /// `LAMBDA_RUNTIME_DIR`.
    pub runtime_dir: PathBuf,
}

/// What the platform asks for to start one environment.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// MemorySize in MiB.
    pub memory_mb: u32,
    /// EphemeralStorage in MiB.
    pub tmp_mb: u32,
    /// Host directory holding the extracted code.
    pub task_dir: PathBuf,
    /// Host directories the runtime needs read-only at the same path (interpreter prefixes).
    pub extra_ro_dirs: Vec<PathBuf>,
    /// Program and arguments (paths as seen inside).
    pub argv: Vec<String>,
    /// Environment without `AWS_LAMBDA_RUNTIME_API` and `TMPDIR`, which this layer adds.
    pub envp: Vec<String>,
}

/// A launched environment: its handle plus the descriptors the platform serves.
pub struct Launched {
    /// Kill/cleanup handle and cgroup.
    pub handle: EnvHandle,
    /// Control socket to the init (reads `Started`, `Failed`, `Exited`).
    pub control: OwnedFd,
    /// Read end of the runtime's stdout+stderr.
    pub logs: OwnedFd,
    /// Runtime API listener to serve.
    pub listener: TcpListener,
    /// Whether a pre-built shell was used (false: it was built on the cold path).
    pub prebuilt: bool,
}

/// Owns an environment's kernel resources until [`EnvHandle::teardown`].
pub struct EnvHandle {
    /// Environment id (32 hex chars).
    pub id: String,
    /// Pid of the environment's init in the platform's pid namespace.
    pub pid: i32,
    pidfd: OwnedFd,
    cgroup: Option<EnvCgroup>,
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl EnvHandle {
    /// The environment's cgroup, when cgroups are in use.
    pub fn cgroup(&self) -> Option<&EnvCgroup> {
        self.cgroup.as_ref()
    }

    /// Kills every process of the environment now (SIGKILL to its pid-namespace init takes
    /// the whole namespace down; with cgroups, the group is killed too).
    pub fn kill(&self) {
        let _ = sys::pidfd_send_signal(&self.pidfd, libc::SIGKILL);
        if let Some(cg) = &self.cgroup {
            let _ = cg.kill_all();
        }
    }

    /// Kills, waits until nothing of the environment runs, and removes its cgroup and files.
    /// Blocking (milliseconds); call from a blocking context.
    pub fn teardown(self) -> io::Result<()> {
        self.kill();
        let deadline = Instant::now() + TEARDOWN_WAIT;
        // A pidfd turns readable when the process has exited.
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let ready = sys::poll_readable(&[self.pidfd.as_raw_fd()], left.as_millis() as i32)?;
            if ready[0] {
                break;
            }
        }
        let mut result = Ok(());
        if let Some(cg) = &self.cgroup {
            while Instant::now() < deadline && !cg.procs().is_empty() {
                let _ = cg.kill_all();
                std::thread::sleep(Duration::from_millis(5));
            }
            if let Err(e) = cg.remove() {
                result = Err(io::Error::other(e.to_string()));
            }
        }
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }
}

struct PooledShell {
    id: String,
    fds: ShellFds,
    cgroup: Option<EnvCgroup>,
    tmp: TmpSpec,
}

struct Inner {
    config: SandboxConfig,
    isolation: Isolation,
    spawner: Mutex<SpawnerHandle>,
    cgroups: Option<CgroupRoot>,
    scratch: Option<ScratchImages>,
    rootfs: Option<RootfsSpec>,
    pool: Mutex<VecDeque<PooledShell>>,
    wake: Condvar,
    /// Shells being set up now (at most [`SHELL_SETUPS_MAX`]), and its wake-up.
    setups: Mutex<usize>,
    setup_done: Condvar,
    stopping: AtomicBool,
    protections: Protections,
}

/// The sandbox layer. Create it with [`Sandboxes::start`] before any other thread exists.
pub struct Sandboxes {
    inner: Arc<Inner>,
    refill: Mutex<Option<JoinHandle<()>>>,
}

impl Sandboxes {
    /// Starts the spawner, detects what the host can enforce, prepares the shared sandbox
    /// files and starts filling the shell pool.
    pub fn start(config: SandboxConfig) -> io::Result<Self> {
        let spawner = SpawnerHandle::start(&config.spawner_exe)?;
        std::fs::create_dir_all(&config.run_dir)?;
        // Shells bind it before the platform has written the bootstraps into it.
        std::fs::create_dir_all(&config.runtime_dir)?;
        // Per-environment TMPDIRs of a previous run (process isolation) are garbage now.
        let stale_tmp = config.run_dir.join("tmp-dirs");
        if stale_tmp.exists() {
            let _ = std::fs::remove_dir_all(&stale_tmp);
        }
        let root = sys::geteuid() == 0;
        let isolation = if root && !config.force_process_isolation {
            Isolation::Namespaces
        } else {
            Isolation::Process
        };
        let mut not_enforced = Vec::new();
        let cgroups = match isolation {
            Isolation::Process => {
                not_enforced.push(
                    "isolation: functions run as plain processes of this user, with the host's \
                     filesystem, network and process table (not root)"
                        .to_string(),
                );
                not_enforced.push(
                    "memory, CPU and process limits, and Max Memory Used in REPORT (no cgroups)"
                        .to_string(),
                );
                None
            }
            Isolation::Namespaces => match setup_cgroups() {
                Ok((root, missing)) => {
                    for c in missing {
                        not_enforced.push(format!(
                            "{} limits (no {c:?} cgroup controller)",
                            controller_words(c)
                        ));
                    }
                    Some(root)
                }
                Err(e) => {
                    not_enforced.push(format!(
                        "memory, CPU and process limits (cgroups unusable: {e})"
                    ));
                    None
                }
            },
        };
        let scratch = match isolation {
            Isolation::Namespaces => {
                match ScratchImages::open(&config.run_dir.join("tmp-images")) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        not_enforced.push(format!(
                        "disk-backed /tmp ({e}); /tmp is a tmpfs charged to the function's memory"
                    ));
                        None
                    }
                }
            }
            Isolation::Process => {
                not_enforced.push("/tmp size cap (a host directory is used)".to_string());
                None
            }
        };
        let rootfs = match isolation {
            Isolation::Namespaces => Some(prepare_rootfs(&config)?),
            Isolation::Process => None,
        };
        let protections = Protections {
            isolation,
            not_enforced,
        };
        let inner = Arc::new(Inner {
            config,
            isolation,
            spawner: Mutex::new(spawner),
            cgroups,
            scratch,
            rootfs,
            pool: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            setups: Mutex::new(0),
            setup_done: Condvar::new(),
            stopping: AtomicBool::new(false),
            protections,
        });
        let refill = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("nimbus-shell-pool".into())
                .spawn(move || refill_loop(&inner))?
        };
        Ok(Self {
            inner,
            refill: Mutex::new(Some(refill)),
        })
    }

    /// What is and is not enforced on this host.
    pub fn protections(&self) -> &Protections {
        &self.inner.protections
    }

    /// Paths the runtime sees for a given host code directory.
    pub fn inside_paths(&self, task_dir: &Path) -> InsidePaths {
        match self.inner.isolation {
            Isolation::Namespaces => InsidePaths {
                task_root: PathBuf::from("/var/task"),
                runtime_dir: PathBuf::from("/var/runtime"),
            },
            Isolation::Process => InsidePaths {
                task_root: task_dir.to_path_buf(),
                runtime_dir: self.inner.config.runtime_dir.clone(),
            },
        }
    }

    /// Number of shells ready right now.
    pub fn pooled(&self) -> usize {
        self.inner.pool.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Turns a shell into an environment running `spec.argv`. Returns as soon as the `Go`
    /// is sent; the init reports `Started` or `Failed` on the control socket. Blocking only
    /// when no pre-built shell is available.
    pub fn launch(&self, spec: &LaunchSpec) -> io::Result<Launched> {
        let inner = &self.inner;
        let pooled = inner
            .pool
            .lock()
            .map_err(|_| io::Error::other("pool lock poisoned"))?
            .pop_front();
        inner.wake.notify_one();
        let (shell, prebuilt) = match pooled {
            Some(shell) => (shell, true),
            None => (build_ready_shell(inner)?, false),
        };
        self.go(shell, spec, prebuilt)
    }

    fn go(&self, shell: PooledShell, spec: &LaunchSpec, prebuilt: bool) -> io::Result<Launched> {
        let inner = &self.inner;
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        match &shell.tmp {
            TmpSpec::Image(p) => files.push(p.clone()),
            TmpSpec::HostDir(d) => dirs.push(d.clone()),
            TmpSpec::Tmpfs { .. } => {}
        }
        let handle_parts = (shell.id.clone(), shell.fds.pid, shell.cgroup.clone());
        let ShellFds {
            pidfd,
            control,
            logs,
            listener,
            runtime_api,
            ..
        } = shell.fds;
        let mut handle = EnvHandle {
            id: handle_parts.0,
            pid: handle_parts.1,
            pidfd,
            cgroup: handle_parts.2,
            files,
            dirs,
        };
        let prepared = (|| -> io::Result<Go> {
            if let Some(cg) = &handle.cgroup {
                let bytes = u64::from(spec.memory_mb) * 1024 * 1024;
                cg.set_memory_limit(bytes).map_err(io::Error::other)?;
                cg.set_cpu_for_memory(spec.memory_mb)
                    .map_err(io::Error::other)?;
            }
            let tmp_override = if spec.tmp_mb != inner.config.default_tmp_mb {
                match (&inner.scratch, inner.isolation) {
                    (Some(scratch), _) => {
                        let image = scratch.create(spec.tmp_mb, &handle.id)?;
                        handle.files.push(image.clone());
                        Some(TmpSpec::Image(image))
                    }
                    (None, Isolation::Namespaces) => Some(TmpSpec::Tmpfs {
                        size_mb: spec.tmp_mb,
                    }),
                    (None, Isolation::Process) => None,
                }
            } else {
                None
            };
            let mut envp = spec.envp.clone();
            envp.push(format!("AWS_LAMBDA_RUNTIME_API={runtime_api}"));
            if let TmpSpec::HostDir(dir) = &shell.tmp {
                envp.push(format!("TMPDIR={}", dir.display()));
            }
            let paths = self.inside_paths(&spec.task_dir);
            Ok(Go {
                task_dir: spec.task_dir.clone(),
                extra_ro_dirs: spec.extra_ro_dirs.clone(),
                tmp: tmp_override,
                argv: spec.argv.clone(),
                envp,
                cwd: paths.task_root,
                uid: RUNTIME_UID,
                gid: RUNTIME_GID,
                nofile: NOFILE_MAX,
            })
        })();
        let sent = prepared.and_then(|go| protocol::send(control.as_raw_fd(), &go, &[]));
        if let Err(e) = sent {
            let _ = handle.teardown();
            return Err(e);
        }
        Ok(Launched {
            handle,
            control,
            logs,
            listener,
            prebuilt,
        })
    }

    /// Stops the pool and removes every pooled shell and our cgroup subtree. Environments
    /// handed out must be torn down by their owners first.
    pub fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
        if let Ok(mut refill) = self.refill.lock()
            && let Some(handle) = refill.take()
        {
            let _ = handle.join();
        }
        let shells: Vec<PooledShell> = match self.inner.pool.lock() {
            Ok(mut pool) => pool.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for shell in shells {
            discard(shell);
        }
        if let Some(root) = &self.inner.cgroups {
            let _ = root.remove();
        }
    }
}

impl Drop for Sandboxes {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn controller_words(c: Controller) -> &'static str {
    match c {
        Controller::Memory => "memory",
        Controller::Cpu => "CPU share",
        Controller::Pids => "process count",
        Controller::Freezer => "freeze",
    }
}

fn setup_cgroups() -> Result<(CgroupRoot, Vec<Controller>), String> {
    let layout = CgroupLayout::detect().map_err(|e| e.to_string())?;
    let _ = CgroupRoot::sweep_stale(&layout);
    let instance = format!("{}", std::process::id());
    let root = CgroupRoot::create(&layout, &instance).map_err(|e| e.to_string())?;
    Ok((root, layout.missing()))
}

/// The read-only host directories and symlinks every sandbox root is made of.
fn prepare_rootfs(config: &SandboxConfig) -> io::Result<RootfsSpec> {
    let mountpoint = config.run_dir.join("rootfs");
    std::fs::create_dir_all(&mountpoint)?;
    let etc_dir = config.run_dir.join("etc");
    etc::build_etc(&etc_dir, SANDBOX_HOSTNAME, RUNTIME_UID, RUNTIME_GID)?;
    let mut ro_dirs = vec![PathBuf::from("/usr")];
    let mut root_symlinks = Vec::new();
    // Merged-/usr hosts have these as symlinks; older layouts have real directories.
    for name in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(name);
        match std::fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&host)?;
                root_symlinks.push((name.to_string(), target.to_string_lossy().into_owned()));
            }
            Ok(meta) if meta.is_dir() => ro_dirs.push(host),
            _ => {}
        }
    }
    Ok(RootfsSpec {
        mountpoint,
        etc_dir,
        runtime_dir: config.runtime_dir.clone(),
        ro_dirs,
        root_symlinks,
        hostname: SANDBOX_HOSTNAME.to_string(),
    })
}

fn refill_loop(inner: &Inner) {
    let target = inner.config.pool_size.min(POOL_SIZE_MAX);
    loop {
        {
            let Ok(mut pool) = inner.pool.lock() else {
                return;
            };
            while pool.len() >= target && !inner.stopping.load(Ordering::SeqCst) {
                pool = match inner.wake.wait(pool) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
        }
        if inner.stopping.load(Ordering::SeqCst) {
            return;
        }
        match build_ready_shell(inner) {
            Ok(shell) => match inner.pool.lock() {
                Ok(mut pool) if !inner.stopping.load(Ordering::SeqCst) => pool.push_back(shell),
                _ => discard(shell),
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not pre-build a sandbox; retrying");
                std::thread::sleep(REFILL_RETRY_DELAY);
            }
        }
    }
}

/// A set-up slot, given back on drop.
struct SetupSlot<'a>(&'a Inner);

impl<'a> SetupSlot<'a> {
    fn take(inner: &'a Inner) -> io::Result<Self> {
        let running = inner
            .setups
            .lock()
            .map_err(|_| io::Error::other("setup lock poisoned"))?;
        let (mut running, waited) = inner
            .setup_done
            .wait_timeout_while(running, SHELL_SETUP_QUEUE_WAIT, |n| *n >= SHELL_SETUPS_MAX)
            .map_err(|_| io::Error::other("setup lock poisoned"))?;
        if waited.timed_out() && *running >= SHELL_SETUPS_MAX {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "too many execution environments starting at once",
            ));
        }
        *running += 1;
        Ok(SetupSlot(inner))
    }
}

impl Drop for SetupSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.0.setups.lock() {
            *running = running.saturating_sub(1);
        }
        self.0.setup_done.notify_one();
    }
}

/// Builds one shell and waits until it reports `Ready`.
fn build_ready_shell(inner: &Inner) -> io::Result<PooledShell> {
    let _slot = SetupSlot::take(inner)?;
    let id = sys::random_hex_id()?;
    let cgroup = match &inner.cgroups {
        Some(root) => {
            let cg = root.env(&id).map_err(io::Error::other)?;
            let limits = EnvLimits {
                memory_bytes: u64::from(SHELL_MEMORY_MB) * 1024 * 1024,
                memory_mb: SHELL_MEMORY_MB,
                pids_max: PIDS_MAX,
            };
            cg.create(&limits).map_err(io::Error::other)?;
            Some(cg)
        }
        None => None,
    };
    let cleanup_cgroup = |cg: &Option<EnvCgroup>| {
        if let Some(cg) = cg {
            let _ = cg.kill_all();
            let _ = cg.remove();
        }
    };
    let tmp = match (inner.isolation, &inner.scratch) {
        (Isolation::Namespaces, Some(scratch)) => {
            match scratch.create(inner.config.default_tmp_mb, &id) {
                Ok(image) => TmpSpec::Image(image),
                Err(e) => {
                    cleanup_cgroup(&cgroup);
                    return Err(e);
                }
            }
        }
        (Isolation::Namespaces, None) => TmpSpec::Tmpfs {
            size_mb: inner.config.default_tmp_mb,
        },
        (Isolation::Process, _) => {
            let dir = inner.config.run_dir.join("tmp-dirs").join(&id);
            std::fs::create_dir_all(&dir)?;
            TmpSpec::HostDir(dir)
        }
    };
    let (attach, into_cgroup) = match &cgroup {
        Some(cg) => {
            // Born into the v2 group (no migration, no RCU stall); v1 hierarchies still need
            // the child to move itself, which happens here in the pool, off the cold path.
            let v2 = cg.v2_dir().map(Path::to_path_buf);
            (cg.attach_files(v2.is_some()), v2)
        }
        None => (Vec::new(), None),
    };
    let spec = ShellSpec {
        shell_id: id.clone(),
        isolation: inner.isolation,
        attach,
        into_cgroup,
        rootfs: inner.rootfs.clone(),
        tmp: tmp.clone(),
    };
    let built = inner
        .spawner
        .lock()
        .map_err(|_| io::Error::other("spawner lock poisoned"))?
        .build_shell(&spec);
    let fds = match built {
        Ok(fds) => fds,
        Err(e) => {
            cleanup_cgroup(&cgroup);
            remove_tmp(&tmp);
            return Err(e);
        }
    };
    let shell = PooledShell {
        id,
        fds,
        cgroup,
        tmp,
    };
    match wait_ready(&shell.fds.control) {
        Ok(()) => Ok(shell),
        Err(e) => {
            discard(shell);
            Err(e)
        }
    }
}

fn wait_ready(control: &OwnedFd) -> io::Result<()> {
    let fd = control.as_raw_fd();
    let ready = sys::poll_readable(&[fd], SHELL_READY_TIMEOUT.as_millis() as i32)?;
    if !ready[0] {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "shell did not become ready",
        ));
    }
    let msg = protocol::recv(fd)?.ok_or_else(|| io::Error::other("shell exited during set-up"))?;
    match msg.decode::<InitMessage>()? {
        InitMessage::Ready => Ok(()),
        InitMessage::Failed { stage, message, .. } => Err(io::Error::other(format!(
            "shell set-up failed at {stage}: {message}"
        ))),
        other => Err(io::Error::other(format!(
            "unexpected shell message {other:?}"
        ))),
    }
}

fn remove_tmp(tmp: &TmpSpec) {
    match tmp {
        TmpSpec::Image(p) => {
            let _ = std::fs::remove_file(p);
        }
        TmpSpec::HostDir(d) => {
            let _ = std::fs::remove_dir_all(d);
        }
        TmpSpec::Tmpfs { .. } => {}
    }
}

fn discard(shell: PooledShell) {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    match &shell.tmp {
        TmpSpec::Image(p) => files.push(p.clone()),
        TmpSpec::HostDir(d) => dirs.push(d.clone()),
        TmpSpec::Tmpfs { .. } => {}
    }
    let handle = EnvHandle {
        id: shell.id,
        pid: shell.fds.pid,
        pidfd: shell.fds.pidfd,
        cgroup: shell.cgroup,
        files,
        dirs,
    };
    let _ = handle.teardown();
}
