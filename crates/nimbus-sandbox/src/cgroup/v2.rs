//! cgroup v2 files: one unified hierarchy; controllers are handed down via `cgroup.subtree_control`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::fs::{self, Backoff};
use super::{CPU_QUOTA_PERIOD_US, CgroupError, FREEZE_WAIT_MAX};

/// Longest `memory.peak` content we read through a kept fd (a u64 and a newline fit easily).
const PEAK_READ_BUF_BYTES: usize = 32;

/// Enables `controllers` for the children of `dir`, in one write: "+memory +cpu +pids".
pub(crate) fn enable_controllers(dir: &Path, controllers: &[&str]) -> Result<(), CgroupError> {
    let line: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
    fs::write(&dir.join("cgroup.subtree_control"), &line.join(" "))
}

pub(crate) fn set_memory_limit(dir: &Path, bytes: u64) -> Result<(), CgroupError> {
    fs::write(&dir.join("memory.max"), &bytes.to_string())
}

/// `memory.oom.group`=1 makes an OOM kill take the whole environment, so a half-dead runtime
/// never answers the next invocation.
pub(crate) fn set_oom_group(dir: &Path) -> Result<(), CgroupError> {
    fs::write(&dir.join("memory.oom.group"), "1")
}

pub(crate) fn set_cpu_weight(dir: &Path, weight: u64) -> Result<(), CgroupError> {
    fs::write(&dir.join("cpu.weight"), &weight.to_string())
}

pub(crate) fn set_cpu_quota(dir: &Path, quota_us: u64) -> Result<(), CgroupError> {
    fs::write(
        &dir.join("cpu.max"),
        &format!("{quota_us} {CPU_QUOTA_PERIOD_US}"),
    )
}

/// Opens `memory.peak` for a per-fd reset (kernel ≥ 6.12: a write resets the peak seen through
/// this fd). Older kernels make the file read-only, so the open or the write fails: `None`.
pub(crate) fn open_and_reset_peak(dir: &Path) -> Option<File> {
    let path = dir.join("memory.peak");
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "memory.peak: no per-fd reset");
            return None;
        }
    };
    reset_peak_fd(&file).then_some(file)
}

/// Any non-empty write resets the fd's peak to the current usage.
pub(crate) fn reset_peak_fd(file: &File) -> bool {
    match file.write_at(b"0", 0) {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(%error, "memory.peak: per-fd reset failed");
            false
        }
    }
}

pub(crate) fn read_peak_fd(file: &File) -> Option<u64> {
    let mut buf = [0u8; PEAK_READ_BUF_BYTES];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

/// Peak since the group was created (what `memory.peak` shows through a fresh fd).
pub(crate) fn peak_bytes(dir: &Path) -> Option<u64> {
    fs::read_u64_opt(&dir.join("memory.peak"))
}

/// `oom_kill N` in `memory.events`.
pub(crate) fn oom_kills(dir: &Path) -> Option<u64> {
    fs::keyed_u64(&fs::read_opt(&dir.join("memory.events"))?, "oom_kill")
}

/// Writes 1 to `cgroup.freeze` and waits for `frozen 1` in `cgroup.events`.
pub(crate) fn freeze(dir: &Path) -> Result<(), CgroupError> {
    fs::write(&dir.join("cgroup.freeze"), "1")?;
    let events = dir.join("cgroup.events");
    let mut backoff = Backoff::new(FREEZE_WAIT_MAX);
    loop {
        if fs::keyed_u64(&fs::read(&events)?, "frozen") == Some(1) {
            return Ok(());
        }
        if !backoff.sleep() {
            return Err(CgroupError::Timeout {
                op: "freeze",
                path: events,
                waited: backoff.max(),
            });
        }
    }
}

/// Unfreezing takes effect at once; no wait needed.
pub(crate) fn thaw(dir: &Path) -> Result<(), CgroupError> {
    fs::write(&dir.join("cgroup.freeze"), "0")
}

/// SIGKILLs every task in the subtree atomically (no fork race). False if the kernel predates
/// `cgroup.kill` (5.14), so the caller falls back to a kill loop.
pub(crate) fn kill(dir: &Path) -> Result<bool, CgroupError> {
    let path = dir.join("cgroup.kill");
    if !path.exists() {
        return Ok(false);
    }
    fs::write(&path, "1")?;
    Ok(true)
}
