//! Our subtree, `<own cgroup>/nimbus.<pid>.<instance>`, and removal of whole subtrees.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::env::{EnvCgroup, Features};
use super::fs;
use super::layout::{CgroupLayout, Placement};
use super::{
    CgroupError, Controller, SUBTREE_PREFIX, SUPERVISOR_LEAF, SUPERVISOR_MOVE_ROUNDS_MAX,
    TREE_DEPTH_MAX, v2, validate_name,
};

/// Our subtree in every hierarchy used. Not removed on drop: call [`CgroupRoot::remove`] on
/// shutdown; a crashed supervisor's subtree is removed by the next start's [`CgroupRoot::sweep_stale`].
#[derive(Debug)]
pub struct CgroupRoot {
    layout: CgroupLayout,
    features: Features,
}

impl CgroupRoot {
    /// Creates `<own cgroup>/nimbus.<pid>.<instance>` in every hierarchy of `layout` (from
    /// [`CgroupLayout::detect`]). `instance` tells apart several roots in one process; 1–128 of
    /// `[A-Za-z0-9_-]`. An existing subtree of that name (our pid reused after a crash) is
    /// emptied and reused.
    ///
    /// On v2, if a controller we use must be handed down and our own group is not the root, our
    /// own group's processes first move into a `nimbus-supervisor` leaf (the kernel refuses
    /// `subtree_control` on a group that holds processes), then `+memory +cpu +pids` (those on v2)
    /// are enabled in our own group and in the subtree.
    pub fn create(layout: &CgroupLayout, instance: &str) -> Result<Self, CgroupError> {
        validate_name(instance)?;
        let name = format!("{SUBTREE_PREFIX}{}.{instance}", std::process::id());
        Self::create_named(layout, &name)
    }

    /// [`Self::create`] with the subtree's directory name given (tests fake a dead owner's subtree).
    pub(crate) fn create_named(own: &CgroupLayout, name: &str) -> Result<Self, CgroupError> {
        let layout = own.child(name);
        let v2_controllers: Vec<&str> = [Controller::Memory, Controller::Cpu, Controller::Pids]
            .into_iter()
            .filter(|&c| matches!(own.placement(c), Placement::V2(_)))
            .map(Controller::name)
            .collect();
        if let Some(own_v2) = own.v2_dir().filter(|_| !v2_controllers.is_empty()) {
            leave_own_group(own_v2)?;
            v2::enable_controllers(own_v2, &v2_controllers)?;
        }
        let dirs = layout.unique_dirs();
        for dir in &dirs {
            if !fs::mkdir(dir)? {
                remove_trees(&list_subdirs(dir)?)?;
            }
        }
        let configured = configure(&layout, &v2_controllers);
        match configured {
            Ok(features) => Ok(Self { layout, features }),
            Err(e) => {
                if let Err(cleanup) = remove_trees(&dirs) {
                    tracing::warn!(error = %cleanup, "cgroup: cleanup after failed root create");
                }
                Err(e)
            }
        }
    }

    /// Removes subtrees `nimbus.<pid>.*` in our own groups whose pid is no longer alive (a crashed
    /// earlier supervisor): kills their tasks, removes leaves first. Returns how many distinct
    /// subtrees were removed. A reused pid keeps its subtree; that is the safe side.
    pub fn sweep_stale(layout: &CgroupLayout) -> Result<usize, CgroupError> {
        let me = std::process::id();
        let mut names = BTreeSet::new();
        let mut dirs = Vec::new();
        for own in layout.unique_dirs() {
            for dir in list_subdirs(&own)? {
                let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if let Some(pid) = owner_pid(name).filter(|&p| p != me && !fs::pid_alive(p)) {
                    tracing::info!(dir = %dir.display(), pid, "cgroup: removing stale subtree");
                    names.insert(name.to_string());
                    dirs.push(dir);
                }
            }
        }
        remove_trees(&dirs)?;
        Ok(names.len())
    }

    /// The group of environment `env_id` (1–128 of `[A-Za-z0-9_-]`); pure path computation.
    pub fn env(&self, env_id: &str) -> Result<EnvCgroup, CgroupError> {
        validate_name(env_id)?;
        Ok(EnvCgroup::new(self.layout.child(env_id), self.features))
    }

    /// Our subtree's directory in each hierarchy used (for logs).
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.layout.unique_dirs()
    }

    /// On shutdown: kills every environment's tasks and removes all environment groups and our
    /// subtree. The `nimbus-supervisor` leaf stays: it holds the supervisor itself.
    pub fn remove(&self) -> Result<(), CgroupError> {
        remove_trees(&self.layout.unique_dirs())
    }
}

/// Settings made once on the subtree, inherited or enforced hierarchically for every environment.
fn configure(layout: &CgroupLayout, v2_controllers: &[&str]) -> Result<Features, CgroupError> {
    let mut features = Features::default();
    if let Some(dir) = layout.v2_dir().filter(|_| !v2_controllers.is_empty()) {
        v2::enable_controllers(dir, v2_controllers)?;
    }
    match layout.placement(Controller::Memory) {
        Placement::V1(dir) => {
            // New v1 memory groups copy their parent's swappiness: one write here covers all.
            let swappiness = dir.join("memory.swappiness");
            if swappiness.exists() {
                fs::write(&swappiness, "0")?;
            }
            features.v1_memsw = dir.join("memory.memsw.limit_in_bytes").exists();
        }
        Placement::V2(dir) => {
            // memory.swap.max is hierarchical: 0 here forbids swap for every environment.
            let swap_max = dir.join("memory.swap.max");
            if swap_max.exists() {
                fs::write(&swap_max, "0")?;
            }
        }
        Placement::Absent => {}
    }
    Ok(features)
}

/// Moves every process of our own v2 group into the `nimbus-supervisor` leaf, unless the group
/// is the real root (it has no `cgroup.type`), which is exempt from the no-internal-process rule.
/// Under a cgroup namespace "/" may well be a non-root group, so the path alone does not tell.
fn leave_own_group(own: &Path) -> Result<(), CgroupError> {
    if !own.join("cgroup.type").exists() || fs::read_pids(own).is_empty() {
        return Ok(());
    }
    let leaf = own.join(SUPERVISOR_LEAF);
    fs::mkdir(&leaf)?;
    let procs = leaf.join("cgroup.procs");
    // Several rounds: a process that forks while being moved can leave its child behind.
    for _ in 0..SUPERVISOR_MOVE_ROUNDS_MAX {
        let pids = fs::read_pids(own);
        if pids.is_empty() {
            break;
        }
        tracing::info!(?pids, leaf = %leaf.display(), "cgroup: moving our own group's processes into the supervisor leaf");
        for pid in pids {
            match fs::write(&procs, &pid.to_string()) {
                Err(e) if e.raw_os_error() != Some(libc::ESRCH) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// The pid in a subtree name `nimbus.<pid>.<instance>`.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(SUBTREE_PREFIX)?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Child groups of `dir` (its subdirectories); none if `dir` is gone.
fn list_subdirs(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CgroupError::io("read dir", dir, e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| CgroupError::io("read dir", dir, e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// Kills every task in the given subtrees and removes them, leaves first. Two passes over all
/// hierarchies: first signal and thaw everything, then rmdir. A task frozen by a v1 freezer dies
/// only once thawed, so waiting for the memory group to empty before the freezer group is
/// thawed would time out.
pub(crate) fn remove_trees(dirs: &[PathBuf]) -> Result<(), CgroupError> {
    for dir in dirs {
        signal_tree(dir, 0);
    }
    let mut first_error = None;
    for dir in dirs {
        if let Err(e) = rmdir_tree(dir, 0) {
            tracing::warn!(error = %e, "cgroup: subtree removal failed");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Best effort: failures show up as EBUSY in `rmdir_tree`, which retries and re-kills.
/// Parents first: a v1 group stays FROZEN while its parent is.
fn signal_tree(dir: &Path, depth: usize) {
    let pids = fs::read_pids(dir);
    if !pids.is_empty() {
        match v2::kill(dir) {
            Ok(true) => {}
            Ok(false) => fs::kill_pids(&pids),
            Err(e) => {
                tracing::warn!(error = %e, "cgroup: cgroup.kill failed; killing one by one");
                fs::kill_pids(&pids);
            }
        }
    }
    thaw_if_frozen(dir, "freezer.state", "THAWED");
    thaw_if_frozen(dir, "cgroup.freeze", "0");
    if depth <= TREE_DEPTH_MAX {
        for child in list_subdirs(dir).unwrap_or_default() {
            signal_tree(&child, depth + 1);
        }
    }
}

fn thaw_if_frozen(dir: &Path, file: &str, thawed: &str) {
    let path = dir.join(file);
    if fs::read_opt(&path).is_some_and(|s| s.trim() != thawed)
        && let Err(e) = fs::write(&path, thawed)
    {
        tracing::warn!(error = %e, "cgroup: thaw failed");
    }
}

fn rmdir_tree(dir: &Path, depth: usize) -> Result<(), CgroupError> {
    if depth > TREE_DEPTH_MAX {
        return Err(CgroupError::io(
            "remove",
            dir,
            std::io::Error::other("cgroup tree deeper than expected"),
        ));
    }
    for child in list_subdirs(dir)? {
        rmdir_tree(&child, depth + 1)?;
    }
    fs::rmdir(dir, true)
}
