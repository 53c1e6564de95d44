//! A thin, hand-written cgroup layer for execution environments: v1, v2 and hybrid hosts.
//!
//! * [`CgroupLayout`] finds, for each [`Controller`] we use, where our own process sits: on the
//!   unified (v2) hierarchy if the controller is enabled there, else on its v1 hierarchy, else
//!   nowhere ([`Placement::Absent`]). The v2 freezer is the core `cgroup.freeze`, so it is on v2
//!   whenever a usable unified mount exists.
//! * [`CgroupRoot`] is our subtree, `<own cgroup>/nimbus.<pid>.<instance>`, in every hierarchy used.
//! * [`EnvCgroup`] is one environment's group, `<root>/<env id>`, in every hierarchy used.
//!
//! We only ever write into groups we created. All calls are blocking file-system calls (some poll for
//! up to a few seconds, see the `*_WAIT_MAX` constants), so async callers use a blocking thread.
//! Absent controllers are skipped silently; report [`CgroupLayout::missing`] once at start-up.

mod env;
mod fs;
mod layout;
mod root;
mod v1;
mod v2;

#[cfg(test)]
mod tests_fake;
#[cfg(test)]
mod tests_real;

use std::path::PathBuf;
use std::time::Duration;

pub use env::{EnvCgroup, EnvLimits};
pub use layout::{CgroupLayout, Placement};
pub use root::CgroupRoot;

/// Memory size that buys one full vCPU, as on Lambda (MB).
pub const CPU_MB_PER_VCPU: u32 = 1769;
/// v1 `cpu.shares` of a group entitled to one vCPU (the kernel's default for a group, shares).
const CPU_SHARES_PER_VCPU: u64 = 1024;
/// Smallest `cpu.shares` the kernel accepts (shares).
const CPU_SHARES_MIN: u64 = 2;
/// v2 `cpu.weight` of a group entitled to one vCPU (the kernel's default weight, weight).
const CPU_WEIGHT_PER_VCPU: u64 = 100;
/// Range the kernel accepts for v2 `cpu.weight` (weight).
const CPU_WEIGHT_MIN: u64 = 1;
const CPU_WEIGHT_MAX: u64 = 10_000;
/// CFS period of the optional hard quota; shorter periods made cold starts worse when measured (µs).
const CPU_QUOTA_PERIOD_US: u64 = 100_000;
/// Smallest CFS quota the kernel accepts (µs).
const CPU_QUOTA_MIN_US: u64 = 1_000;

/// How long `freeze` waits for every task to reach the frozen state (measured p90: 2 ms).
const FREEZE_WAIT_MAX: Duration = Duration::from_secs(1);
/// How long `kill_all` and tree removal wait for killed tasks to leave the group (measured: 2–7 ms).
const KILL_WAIT_MAX: Duration = Duration::from_secs(5);
/// How long `rmdir` is retried while it fails with EBUSY (tasks still exiting).
const RMDIR_BUSY_WAIT_MAX: Duration = Duration::from_secs(2);
/// First and longest sleep between polls; polls start fast because the common case takes < 1 ms.
const POLL_SLEEP_MIN: Duration = Duration::from_micros(50);
const POLL_SLEEP_MAX: Duration = Duration::from_millis(5);
/// Rounds of moving our own cgroup's processes into the supervisor leaf; more than one only
/// matters when a process forks while we move it.
const SUPERVISOR_MOVE_ROUNDS_MAX: usize = 4;
/// Deepest subtree removed when sweeping; ours are two levels deep (root, environment).
const TREE_DEPTH_MAX: usize = 8;
/// Longest instance or environment name; leaves room in NAME_MAX for `nimbus.<pid>.` (bytes).
const NAME_LEN_MAX: usize = 128;

/// Name of the v2 leaf the supervisor moves its own cgroup's processes into (no-internal-process rule).
pub const SUPERVISOR_LEAF: &str = "nimbus-supervisor";
/// Prefix of our subtree's name in our own cgroup: `nimbus.<pid>.<instance>`.
const SUBTREE_PREFIX: &str = "nimbus.";

/// A cgroup controller Nimbus uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Controller {
    Memory,
    Cpu,
    Pids,
    Freezer,
}

impl Controller {
    /// Every controller, in the order used for placements and directory lists.
    pub const ALL: [Controller; 4] = [Self::Memory, Self::Cpu, Self::Pids, Self::Freezer];

    /// The kernel's name for the controller (v1 mount option, v2 `cgroup.controllers` entry).
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Cpu => "cpu",
            Self::Pids => "pids",
            Self::Freezer => "freezer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed cgroup operation; every variant names the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A file-system call failed.
    #[error("cgroup: {op} {path}: {error}")]
    Io {
        op: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// A bounded wait ran out.
    #[error("cgroup: {op} {path}: still not done after {waited:?}")]
    Timeout {
        op: &'static str,
        path: PathBuf,
        waited: Duration,
    },
    /// An instance or environment name that is not a safe single path component.
    #[error("cgroup: invalid name {name:?}: use 1 to {NAME_LEN_MAX} of [A-Za-z0-9_-]")]
    InvalidName { name: String },
}

impl CgroupError {
    fn io(op: &'static str, path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            error,
        }
    }

    /// The errno of an I/O failure, for callers that branch on EBUSY, EINVAL, ...
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Self::Io { error, .. } => error.raw_os_error(),
            _ => None,
        }
    }
}

/// Rejects names that could escape the directory they are joined to or clash with cgroup files.
fn validate_name(name: &str) -> Result<(), CgroupError> {
    let ok = !name.is_empty()
        && name.len() <= NAME_LEN_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CgroupError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// v1 `cpu.shares` for an environment of `memory_mb`: max(2, 1024·MB/1769).
pub(crate) fn cpu_shares_for_memory(memory_mb: u32) -> u64 {
    (CPU_SHARES_PER_VCPU * u64::from(memory_mb) / u64::from(CPU_MB_PER_VCPU)).max(CPU_SHARES_MIN)
}

/// v2 `cpu.weight` for an environment of `memory_mb`: clamp(round(100·MB/1769), 1, 10000).
pub(crate) fn cpu_weight_for_memory(memory_mb: u32) -> u64 {
    let per = u64::from(CPU_MB_PER_VCPU);
    ((CPU_WEIGHT_PER_VCPU * u64::from(memory_mb) + per / 2) / per)
        .clamp(CPU_WEIGHT_MIN, CPU_WEIGHT_MAX)
}

/// Hard CFS quota per [`CPU_QUOTA_PERIOD_US`] for `memory_mb`: period·MB/1769, at least 1000 µs.
pub(crate) fn cpu_quota_us_for_memory(memory_mb: u32) -> u64 {
    (CPU_QUOTA_PERIOD_US * u64::from(memory_mb) / u64::from(CPU_MB_PER_VCPU)).max(CPU_QUOTA_MIN_US)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_formulas() {
        assert_eq!(cpu_shares_for_memory(128), 74);
        assert_eq!(cpu_shares_for_memory(1769), 1024);
        assert_eq!(cpu_shares_for_memory(1), 2);
        assert_eq!(cpu_weight_for_memory(128), 7);
        assert_eq!(cpu_weight_for_memory(1769), 100);
        assert_eq!(cpu_weight_for_memory(1), 1);
        assert_eq!(cpu_weight_for_memory(10_240), 579);
        assert_eq!(cpu_weight_for_memory(u32::MAX), 10_000);
        assert_eq!(cpu_quota_us_for_memory(128), 7235);
        assert_eq!(cpu_quota_us_for_memory(1769), 100_000);
        assert_eq!(cpu_quota_us_for_memory(10), 1_000);
    }

    #[test]
    fn names() {
        assert!(validate_name("env-1_A").is_ok());
        for bad in ["", ".", "..", "a/b", "a.b", "memory.max", &"x".repeat(129)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
