//! cgroup v1 files: one hierarchy per controller, each group a plain directory.

use std::path::Path;

use super::fs::{self, Backoff};
use super::{CPU_QUOTA_PERIOD_US, CgroupError, FREEZE_WAIT_MAX};

/// Sets `memory.limit_in_bytes` and, when swap accounting exists, `memory.memsw.limit_in_bytes`
/// to the same value. The kernel rejects (EINVAL) a limit above memsw, so when raising, memsw
/// must go first; we try the limit first (right when lowering or on a fresh group, where both
/// are unlimited) and reorder only on EINVAL, which saves reading the current value.
pub(crate) fn set_memory_limit(dir: &Path, bytes: u64, memsw: bool) -> Result<(), CgroupError> {
    let limit = dir.join("memory.limit_in_bytes");
    let value = bytes.to_string();
    if !memsw {
        return fs::write(&limit, &value);
    }
    let memsw = dir.join("memory.memsw.limit_in_bytes");
    match fs::write(&limit, &value) {
        Ok(()) => fs::write(&memsw, &value),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            fs::write(&memsw, &value)?;
            fs::write(&limit, &value)
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn set_cpu_shares(dir: &Path, shares: u64) -> Result<(), CgroupError> {
    fs::write(&dir.join("cpu.shares"), &shares.to_string())
}

/// Period first: the quota is validated against it.
pub(crate) fn set_cpu_quota(dir: &Path, quota_us: u64) -> Result<(), CgroupError> {
    fs::write(
        &dir.join("cpu.cfs_period_us"),
        &CPU_QUOTA_PERIOD_US.to_string(),
    )?;
    fs::write(&dir.join("cpu.cfs_quota_us"), &quota_us.to_string())
}

/// Writing 0 sets the high-water mark to the current usage.
pub(crate) fn reset_peak(dir: &Path) -> Result<(), CgroupError> {
    fs::write(&dir.join("memory.max_usage_in_bytes"), "0")
}

/// Opens `memory.max_usage_in_bytes` for repeated resets and reads through one fd.
pub(crate) fn open_peak(dir: &Path) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("memory.max_usage_in_bytes"))
        .ok()
}

/// Writing 0 through a kept fd resets the high-water mark to the current usage.
pub(crate) fn reset_peak_fd(file: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    file.write_at(b"0", 0).is_ok()
}

pub(crate) fn peak_bytes(dir: &Path) -> Option<u64> {
    fs::read_u64_opt(&dir.join("memory.max_usage_in_bytes"))
}

/// `oom_kill N` in `memory.oom_control`.
pub(crate) fn oom_kills(dir: &Path) -> Option<u64> {
    fs::keyed_u64(&fs::read_opt(&dir.join("memory.oom_control"))?, "oom_kill")
}

/// Writes FROZEN and waits until the state reads FROZEN (it reads FREEZING while tasks are
/// still being stopped, e.g. one in uninterruptible sleep).
pub(crate) fn freeze(dir: &Path) -> Result<(), CgroupError> {
    let state = dir.join("freezer.state");
    fs::write(&state, "FROZEN")?;
    let mut backoff = Backoff::new(FREEZE_WAIT_MAX);
    loop {
        if fs::read(&state)?.trim() == "FROZEN" {
            return Ok(());
        }
        if !backoff.sleep() {
            return Err(CgroupError::Timeout {
                op: "freeze",
                path: state,
                waited: backoff.max(),
            });
        }
    }
}

/// Thawing takes effect at once; no wait needed.
pub(crate) fn thaw(dir: &Path) -> Result<(), CgroupError> {
    fs::write(&dir.join("freezer.state"), "THAWED")
}
