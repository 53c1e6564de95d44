//! One environment's group, `<root>/<env id>`, in every hierarchy used.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::fs::{self, Backoff};
use super::layout::{CgroupLayout, Placement};
use super::{
    CgroupError, Controller, KILL_WAIT_MAX, cpu_quota_us_for_memory, cpu_shares_for_memory,
    cpu_weight_for_memory, v1, v2,
};

/// Limits applied when an environment's group is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvLimits {
    /// Hard memory limit (bytes); the function's MemorySize.
    pub memory_bytes: u64,
    /// The function's MemorySize (MB), for the CPU share (1769 MB = 1 vCPU).
    pub memory_mb: u32,
    /// Most tasks (processes and threads) at once (tasks).
    pub pids_max: u32,
}

/// What the kernel offers, probed once when the root is created.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Features {
    /// v1 swap accounting: `memory.memsw.limit_in_bytes` exists and must track the limit.
    pub(crate) v1_memsw: bool,
}

/// One environment's group in every hierarchy used. Cheap to clone; clones share the kept
/// `memory.peak` fd. All methods skip [`Placement::Absent`] controllers.
#[derive(Clone, Debug)]
pub struct EnvCgroup {
    layout: CgroupLayout,
    features: Features,
    /// v2 `memory.peak` opened once for per-fd resets (kernel ≥ 6.12); `None` until the first
    /// successful reset.
    peak_fd: Arc<Mutex<Option<File>>>,
}

impl EnvCgroup {
    pub(crate) fn new(layout: CgroupLayout, features: Features) -> Self {
        Self {
            layout,
            features,
            peak_fd: Arc::new(Mutex::new(None)),
        }
    }

    /// Creates the group in each hierarchy (an existing one is reused) and writes the limits:
    /// memory (v2 also `memory.oom.group`=1), CPU share ∝ memory, `pids.max`. Apply before the
    /// first exec. On failure the group is removed again.
    pub fn create(&self, limits: &EnvLimits) -> Result<(), CgroupError> {
        let result = self.create_and_limit(limits);
        if result.is_err()
            && let Err(e) = self.remove()
        {
            tracing::warn!(error = %e, "cgroup: cleanup after failed environment create");
        }
        result
    }

    fn create_and_limit(&self, limits: &EnvLimits) -> Result<(), CgroupError> {
        for dir in self.layout.unique_dirs() {
            fs::mkdir(&dir)?;
        }
        self.set_memory_limit(limits.memory_bytes)?;
        if let Placement::V2(dir) = self.placement(Controller::Memory) {
            v2::set_oom_group(dir)?;
        }
        self.set_cpu_for_memory(limits.memory_mb)?;
        if let Some(dir) = self.placement(Controller::Pids).dir() {
            fs::write(&dir.join("pids.max"), &limits.pids_max.to_string())?;
        }
        Ok(())
    }

    /// The `cgroup.procs` files a new child must write its pid into (`"0"` means "the writer",
    /// which also works from inside a pid namespace). With `clone_into_v2` (the child was created
    /// by `clone3(CLONE_INTO_CGROUP)` on [`Self::v2_dir`]) the v2 file is left out. Each write
    /// is a migration, which can cost an RCU grace period (~10 ms) on an idle host.
    pub fn attach_files(&self, clone_into_v2: bool) -> Vec<PathBuf> {
        let v2 = self.v2_dir();
        self.layout
            .unique_dirs()
            .into_iter()
            .filter(|d| !(clone_into_v2 && Some(d.as_path()) == v2))
            .map(|d| d.join("cgroup.procs"))
            .collect()
    }

    /// Moves process `pid` (with all its threads) into the group in every hierarchy.
    pub fn attach(&self, pid: u32) -> Result<(), CgroupError> {
        for file in self.attach_files(false) {
            fs::write(&file, &pid.to_string())?;
        }
        Ok(())
    }

    /// The unified directory, for `clone3(CLONE_INTO_CGROUP)`; `None` without v2.
    pub fn v2_dir(&self) -> Option<&Path> {
        self.layout.v2_dir()
    }

    /// Sets the hard memory limit.
    pub fn set_memory_limit(&self, bytes: u64) -> Result<(), CgroupError> {
        match self.placement(Controller::Memory) {
            Placement::V1(dir) => v1::set_memory_limit(dir, bytes, self.features.v1_memsw),
            Placement::V2(dir) => v2::set_memory_limit(dir, bytes),
            Placement::Absent => Ok(()),
        }
    }

    /// Sets the work-conserving CPU share for `memory_mb`: v1 `cpu.shares`, v2 `cpu.weight`.
    pub fn set_cpu_for_memory(&self, memory_mb: u32) -> Result<(), CgroupError> {
        match self.placement(Controller::Cpu) {
            Placement::V1(dir) => v1::set_cpu_shares(dir, cpu_shares_for_memory(memory_mb)),
            Placement::V2(dir) => v2::set_cpu_weight(dir, cpu_weight_for_memory(memory_mb)),
            Placement::Absent => Ok(()),
        }
    }

    /// Optional hard CPU cap ∝ `memory_mb` (100 ms period). Apply only after init: at 128 MB it
    /// multiplies a python cold start by ~10 (measured).
    pub fn set_cpu_quota_for_memory(&self, memory_mb: u32) -> Result<(), CgroupError> {
        let quota_us = cpu_quota_us_for_memory(memory_mb);
        match self.placement(Controller::Cpu) {
            Placement::V1(dir) => v1::set_cpu_quota(dir, quota_us),
            Placement::V2(dir) => v2::set_cpu_quota(dir, quota_us),
            Placement::Absent => Ok(()),
        }
    }

    /// Starts a new peak measurement (call at invocation start). Returns false when the peak
    /// cannot be reset and [`Self::peak_bytes`] means "since the group was created" (v2 before
    /// kernel 6.12) or there is no memory controller.
    pub fn reset_peak(&self) -> Result<bool, CgroupError> {
        match self.placement(Controller::Memory) {
            Placement::V1(dir) => {
                // Per invocation on the warm path: keep the file open (pwrite/pread) instead
                // of open+write+close each time.
                let mut slot = self.peak_slot();
                if let Some(file) = slot.as_ref()
                    && v1::reset_peak_fd(file)
                {
                    return Ok(true);
                }
                *slot = None;
                v1::reset_peak(dir)?;
                *slot = v1::open_peak(dir);
                Ok(true)
            }
            Placement::V2(dir) => {
                let mut slot = self.peak_slot();
                if let Some(file) = slot.as_ref() {
                    if v2::reset_peak_fd(file) {
                        return Ok(true);
                    }
                    *slot = None;
                    return Ok(false);
                }
                *slot = v2::open_and_reset_peak(dir);
                Ok(slot.is_some())
            }
            Placement::Absent => Ok(false),
        }
    }

    /// Highest memory use (bytes) since the last [`Self::reset_peak`] (or since creation).
    /// Includes page cache and tmpfs pages charged to the group.
    pub fn peak_bytes(&self) -> Option<u64> {
        match self.placement(Controller::Memory) {
            Placement::V1(dir) => match self.peak_slot().as_ref() {
                Some(file) => v2::read_peak_fd(file),
                None => v1::peak_bytes(dir),
            },
            Placement::V2(dir) => match self.peak_slot().as_ref() {
                Some(file) => v2::read_peak_fd(file),
                None => v2::peak_bytes(dir),
            },
            Placement::Absent => None,
        }
    }

    /// How many times the kernel's OOM killer killed a task in this group (ever).
    pub fn oom_kills(&self) -> Option<u64> {
        match self.placement(Controller::Memory) {
            Placement::V1(dir) => v1::oom_kills(dir),
            Placement::V2(dir) => v2::oom_kills(dir),
            Placement::Absent => None,
        }
    }

    /// Tasks in the group now (`pids.current`).
    pub fn pids_current(&self) -> Option<u64> {
        let dir = self.placement(Controller::Pids).dir()?;
        fs::read_u64_opt(&dir.join("pids.current"))
    }

    /// Stops every task in the group and waits until all are stopped (bounded).
    pub fn freeze(&self) -> Result<(), CgroupError> {
        match self.placement(Controller::Freezer) {
            Placement::V1(dir) => v1::freeze(dir),
            Placement::V2(dir) => v2::freeze(dir),
            Placement::Absent => Ok(()),
        }
    }

    /// Lets the group's tasks run again.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        match self.placement(Controller::Freezer) {
            Placement::V1(dir) => v1::thaw(dir),
            Placement::V2(dir) => v2::thaw(dir),
            Placement::Absent => Ok(()),
        }
    }

    /// SIGKILLs every task and waits (bounded) until no hierarchy lists any. v2: `cgroup.kill`.
    /// Otherwise: freeze (so nothing forks meanwhile), SIGKILL every listed pid, thaw (a task
    /// frozen by the v1 freezer dies only when thawed), then re-kill stragglers until empty.
    /// Killed children of ours become zombies, which are no longer listed; reap them as usual.
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        let killed_by_kernel = match self.v2_dir().map(v2::kill) {
            Some(Ok(done)) => done,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "cgroup: cgroup.kill failed; killing one by one");
                false
            }
            None => false,
        };
        if !killed_by_kernel {
            if let Err(e) = self.freeze() {
                tracing::warn!(error = %e, "cgroup: freeze before kill failed; killing anyway");
            }
            fs::kill_pids(&self.procs());
            self.thaw()?;
        }
        let mut backoff = Backoff::new(KILL_WAIT_MAX);
        loop {
            let pids = self.procs();
            if pids.is_empty() {
                return Ok(());
            }
            if !backoff.sleep() {
                return Err(CgroupError::Timeout {
                    op: "kill",
                    path: self
                        .layout
                        .unique_dirs()
                        .into_iter()
                        .next()
                        .unwrap_or_default(),
                    waited: backoff.max(),
                });
            }
            fs::kill_pids(&pids);
        }
    }

    /// Every pid in the group, over all hierarchies, sorted.
    pub fn procs(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .layout
            .unique_dirs()
            .iter()
            .flat_map(|d| fs::read_pids(d))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Removes the group everywhere (kill its tasks first with [`Self::kill_all`]). Retries
    /// EBUSY for a bounded time while tasks finish exiting; an already removed group is fine.
    pub fn remove(&self) -> Result<(), CgroupError> {
        *self.peak_slot() = None;
        let mut first_error = None;
        for dir in self.layout.unique_dirs() {
            if let Err(e) = fs::rmdir(&dir, false) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Where `controller` lives for this environment.
    pub(crate) fn placement(&self, controller: Controller) -> &Placement {
        self.layout.placement(controller)
    }

    /// The lock only guards the fd slot; a panic elsewhere cannot leave it inconsistent.
    fn peak_slot(&self) -> MutexGuard<'_, Option<File>> {
        self.peak_fd
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
