//! Small file helpers shared by the v1 and v2 code: cgroup files are tiny, written in one `write`.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::process::{Pid, Signal};

use super::{CgroupError, POLL_SLEEP_MAX, POLL_SLEEP_MIN, RMDIR_BUSY_WAIT_MAX};

/// Writes `content` to an existing cgroup file in one `write` call. No `O_CREAT`: on cgroupfs a
/// missing file then fails with ENOENT (with `O_CREAT` the kernel would answer EACCES).
pub(crate) fn write(path: &Path, content: &str) -> Result<(), CgroupError> {
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| CgroupError::io("open for write", path, e))?;
    file.write_all(content.as_bytes())
        .map_err(|e| CgroupError::io("write", path, e))
}

pub(crate) fn read(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|e| CgroupError::io("read", path, e))
}

/// Reads a file that may legitimately be absent (older kernel, controller off, group gone).
pub(crate) fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Reads a file holding a single number; `None` if it is absent or not a number.
pub(crate) fn read_u64_opt(path: &Path) -> Option<u64> {
    read_opt(path).and_then(|s| s.trim().parse().ok())
}

/// The value of `key` in a flat-keyed file (`key value` per line: memory.events, memory.oom_control).
pub(crate) fn keyed_u64(content: &str, key: &str) -> Option<u64> {
    content.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        if k == key {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

/// Creates a directory; an existing one is reused (returns false).
pub(crate) fn mkdir(path: &Path) -> Result<bool, CgroupError> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(CgroupError::io("mkdir", path, e)),
    }
}

/// Removes an (empty) cgroup directory. ENOENT counts as removed. EBUSY means tasks are still
/// exiting: retry with a bounded wait, and with `kill_stragglers` SIGKILL whatever is still listed
/// (processes that forked while the group was being killed without a freezer).
pub(crate) fn rmdir(path: &Path, kill_stragglers: bool) -> Result<(), CgroupError> {
    let mut backoff = Backoff::new(RMDIR_BUSY_WAIT_MAX);
    loop {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                if kill_stragglers {
                    kill_pids(&read_pids(path));
                }
                if !backoff.sleep() {
                    return Err(CgroupError::io("rmdir", path, e));
                }
            }
            Err(e) => return Err(CgroupError::io("rmdir", path, e)),
        }
    }
}

/// The pids in `dir/cgroup.procs`; empty if the file is absent (group removed, fake tree).
pub(crate) fn read_pids(dir: &Path) -> Vec<u32> {
    read_opt(&dir.join("cgroup.procs"))
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Sends SIGKILL to each pid. A pid that is already gone is fine; other failures are logged,
/// because the caller's wait-until-empty loop is what decides success.
pub(crate) fn kill_pids(pids: &[u32]) {
    for &pid in pids {
        let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            continue;
        };
        match rustix::process::kill_process(p, Signal::KILL) {
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => tracing::warn!(pid, error = %e, "cgroup: SIGKILL failed"),
        }
    }
}

/// Whether a process with this pid exists in our pid namespace. EPERM means it exists.
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    !matches!(rustix::process::test_kill_process(p), Err(Errno::SRCH))
}

/// Exponential sleep between polls, bounded by a total deadline.
pub(crate) struct Backoff {
    start: Instant,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self {
            start: Instant::now(),
            max,
            next: POLL_SLEEP_MIN,
        }
    }

    /// Sleeps before the next poll; false once the deadline has passed (the caller gives up).
    pub(crate) fn sleep(&mut self) -> bool {
        let elapsed = self.start.elapsed();
        if elapsed >= self.max {
            return false;
        }
        std::thread::sleep(self.next.min(self.max - elapsed));
        self.next = (self.next * 2).min(POLL_SLEEP_MAX);
        true
    }

    pub(crate) fn max(&self) -> Duration {
        self.max
    }
}
