//! v2 and hybrid placement against a fake cgroup tree: plain files in a temp dir. The kernel is
//! simulated by pre-creating the files our code reads or writes (cgroupfs never lets us create
//! a file, so our writes never create one either).

use std::path::{Path, PathBuf};

use super::*;

/// A pid that can never exist (above PID_MAX_LIMIT), so nothing real is ever signalled.
const FAKE_PID: u32 = 4_194_305;

const V2_MOUNTINFO: &str =
    "30 25 0:26 / /sys/fs/cgroup rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
const V2_SELF: &str = "0::/system.slice/nimbus.service\n";

fn put(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn get(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A pure v2 host under systemd with `Delegate=yes`: our service group holds a process.
fn fake_v2_host() -> (tempfile::TempDir, PathBuf, CgroupLayout) {
    let tmp = tempfile::tempdir().unwrap();
    let own = tmp.path().join("sys/fs/cgroup/system.slice/nimbus.service");
    put(
        &own.join("cgroup.controllers"),
        "cpuset cpu io memory pids\n",
    );
    put(&own.join("cgroup.subtree_control"), "");
    put(&own.join("cgroup.type"), "domain\n");
    put(&own.join("cgroup.procs"), &format!("{FAKE_PID}\n"));
    put(&own.join("nimbus-supervisor/cgroup.procs"), "");
    let layout = CgroupLayout::detect_from(V2_MOUNTINFO, V2_SELF, tmp.path());
    assert!(layout.all_v2());
    (tmp, own, layout)
}

/// What the kernel would create in a new subtree / environment group.
fn fake_kernel_group(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        put(&dir.join(name), content);
    }
}

/// Creates our subtree on the fake v2 host, after simulating the files the kernel would create.
fn fake_v2_root(own: &Path, layout: &CgroupLayout, instance: &str) -> CgroupRoot {
    let subtree = own.join(format!("nimbus.{}.{instance}", std::process::id()));
    fake_kernel_group(&subtree, &[("cgroup.subtree_control", "")]);
    CgroupRoot::create(layout, instance).unwrap()
}

#[test]
fn v2_root_moves_supervisor_and_enables_controllers() {
    let (_tmp, own, layout) = fake_v2_host();
    let subtree = own.join(format!("nimbus.{}.fake-root", std::process::id()));
    fake_kernel_group(
        &subtree,
        &[("cgroup.subtree_control", ""), ("memory.swap.max", "max\n")],
    );

    let root = CgroupRoot::create(&layout, "fake-root").unwrap();

    assert_eq!(
        get(&own.join("nimbus-supervisor/cgroup.procs")),
        FAKE_PID.to_string()
    );
    assert_eq!(
        get(&own.join("cgroup.subtree_control")),
        "+memory +cpu +pids"
    );
    assert_eq!(
        get(&subtree.join("cgroup.subtree_control")),
        "+memory +cpu +pids"
    );
    assert_eq!(get(&subtree.join("memory.swap.max")), "0");
    assert_eq!(root.dirs(), vec![subtree]);
}

#[test]
fn v2_env_limits_peak_oom_freeze_kill() {
    let (_tmp, own, layout) = fake_v2_host();
    let root = fake_v2_root(&own, &layout, "fake-env");
    let env = root.env("env-1").unwrap();
    let dir = own.join(format!("nimbus.{}.fake-env/env-1", std::process::id()));
    fake_kernel_group(
        &dir,
        &[
            ("memory.max", "max\n"),
            ("memory.oom.group", "0\n"),
            ("memory.peak", "12345\n"),
            (
                "memory.events",
                "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 1\n",
            ),
            ("cpu.weight", "100\n"),
            ("cpu.max", "max 100000\n"),
            ("pids.max", "max\n"),
            ("pids.current", "3\n"),
            ("cgroup.procs", ""),
            ("cgroup.kill", ""),
            ("cgroup.freeze", "0\n"),
            ("cgroup.events", "populated 1\nfrozen 1\n"),
        ],
    );

    let limits = EnvLimits {
        memory_bytes: 128 << 20,
        memory_mb: 128,
        pids_max: 1024,
    };
    env.create(&limits).unwrap();
    assert_eq!(get(&dir.join("memory.max")), "134217728");
    assert_eq!(get(&dir.join("memory.oom.group")), "1");
    assert_eq!(get(&dir.join("cpu.weight")), "7");
    assert_eq!(get(&dir.join("pids.max")), "1024");
    assert_eq!(
        get(&dir.join("cpu.max")),
        "max 100000\n",
        "no quota until asked"
    );

    env.set_cpu_quota_for_memory(128).unwrap();
    assert_eq!(get(&dir.join("cpu.max")), "7235 100000");

    assert_eq!(env.v2_dir(), Some(dir.as_path()));
    assert_eq!(env.attach_files(false), vec![dir.join("cgroup.procs")]);
    assert!(env.attach_files(true).is_empty());

    // Peak: since creation until reset; after a reset, read through the kept fd.
    assert_eq!(env.peak_bytes(), Some(12345));
    assert!(env.reset_peak().unwrap());
    let peak = dir.join("memory.peak");
    std::fs::write(&peak, "777\n").unwrap();
    assert_eq!(env.peak_bytes(), Some(777));
    // Replace the file: a path read would now see 999; the kept fd still sees the old inode.
    std::fs::remove_file(&peak).unwrap();
    put(&peak, "999\n");
    assert_eq!(env.peak_bytes(), Some(777));
    assert!(env.reset_peak().unwrap(), "reset reuses the kept fd");

    assert_eq!(env.oom_kills(), Some(1));
    assert_eq!(env.pids_current(), Some(3));

    env.freeze().unwrap();
    assert_eq!(get(&dir.join("cgroup.freeze")), "1");
    env.thaw().unwrap();
    assert_eq!(get(&dir.join("cgroup.freeze")), "0");

    env.kill_all().unwrap();
    assert_eq!(get(&dir.join("cgroup.kill")), "1");
    assert!(env.procs().is_empty());

    // rmdir needs an empty directory, as the kernel's would be once its files are gone.
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    env.remove().unwrap();
    assert!(!dir.exists());
    env.remove().unwrap();
}

#[test]
fn v2_freeze_times_out_if_never_frozen() {
    let (_tmp, own, layout) = fake_v2_host();
    let root = fake_v2_root(&own, &layout, "fake-freeze");
    let env = root.env("e").unwrap();
    let dir = own.join(format!("nimbus.{}.fake-freeze/e", std::process::id()));
    fake_kernel_group(
        &dir,
        &[
            ("cgroup.freeze", "0\n"),
            ("cgroup.events", "populated 1\nfrozen 0\n"),
        ],
    );
    let err = env.freeze().unwrap_err();
    assert!(matches!(err, CgroupError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("cgroup.events"), "{err}");
}

#[test]
fn hybrid_uses_v2_only_for_freezer_and_moves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cg = tmp.path().join("sys/fs/cgroup");
    let mountinfo = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
    let self_cgroup = "8:pids:/\n4:memory:/jobs/j1\n1:cpu:/\n0::/\n";
    for dir in ["cpu", "memory/jobs/j1", "pids"] {
        std::fs::create_dir_all(cg.join(dir)).unwrap();
    }
    // The real root: no cgroup.type; it holds processes and is exempt from the internal-process rule.
    put(&cg.join("unified/cgroup.controllers"), "hugetlb\n");
    put(&cg.join("unified/cgroup.subtree_control"), "");
    put(&cg.join("unified/cgroup.procs"), "1\n");
    let layout = CgroupLayout::detect_from(mountinfo, self_cgroup, tmp.path());

    let root = CgroupRoot::create(&layout, "fake-hybrid").unwrap();
    let name = format!("nimbus.{}.fake-hybrid", std::process::id());
    assert_eq!(
        root.dirs(),
        vec![
            cg.join("memory/jobs/j1").join(&name),
            cg.join("cpu").join(&name),
            cg.join("pids").join(&name),
            cg.join("unified").join(&name),
        ]
    );
    assert!(root.dirs().iter().all(|d| d.is_dir()));
    assert_eq!(get(&cg.join("unified/cgroup.subtree_control")), "");
    assert!(!cg.join("unified/nimbus-supervisor").exists());

    let env = root.env("e").unwrap();
    let v1_files: Vec<PathBuf> = ["memory/jobs/j1", "cpu", "pids"]
        .iter()
        .map(|d| cg.join(d).join(&name).join("e/cgroup.procs"))
        .collect();
    assert_eq!(env.attach_files(true), v1_files);
    assert_eq!(env.attach_files(false).len(), 4);
    assert_eq!(
        env.v2_dir(),
        Some(cg.join("unified").join(&name).join("e").as_path())
    );

    root.remove().unwrap();
    assert!(root.dirs().iter().all(|d| !d.exists()));
}

#[test]
fn sweep_removes_only_dead_owners() {
    let (_tmp, own, layout) = fake_v2_host();
    let me = std::process::id();
    let stale = own.join("nimbus.4194304.old");
    std::fs::create_dir_all(stale.join("env-a")).unwrap();
    std::fs::create_dir_all(stale.join("env-b")).unwrap();
    let keep = [
        own.join(format!("nimbus.{me}.live")),
        own.join("nimbus.not-a-pid"),
        own.join("someone-else"),
        own.join("nimbus-supervisor"),
    ];
    for dir in &keep {
        std::fs::create_dir_all(dir).unwrap();
    }

    assert_eq!(CgroupRoot::sweep_stale(&layout).unwrap(), 1);
    assert!(!stale.exists());
    assert!(keep.iter().all(|d| d.is_dir()));
    assert_eq!(CgroupRoot::sweep_stale(&layout).unwrap(), 0);
}

#[test]
fn names_are_validated_before_any_io() {
    let (_tmp, own, layout) = fake_v2_host();
    assert!(matches!(
        CgroupRoot::create(&layout, "../x"),
        Err(CgroupError::InvalidName { .. })
    ));
    let root = fake_v2_root(&own, &layout, "fake-names");
    for bad in ["..", "a/b", "", "cgroup.procs"] {
        assert!(root.env(bad).is_err(), "{bad:?}");
    }
}
