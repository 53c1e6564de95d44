//! Real cgroups on the CI host (root, v1 memory/cpu/pids, hybrid cgroup2 mount). These tests fail,
//! rather than skip, when that is not the case. Each uses its own instance name, so they run in
//! parallel, and a guard kills its processes and removes its groups even when an assert fails.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::root::remove_trees;
use super::*;

/// The real interpreter; `python3` on PATH may be a slow pyenv shim.
const PYTHON: &str = "/usr/bin/python3";
/// A subtree name whose owner can never be alive (pid above PID_MAX_LIMIT).
const DEAD_OWNER: &str = "nimbus.4194304";
/// How long a test waits for its child processes to show up in the group.
const SPAWN_WAIT_MAX: Duration = Duration::from_secs(5);

/// Kills the children and removes the groups on drop, including after a failed assert.
#[derive(Default)]
struct Guard {
    dirs: Vec<PathBuf>,
    children: Vec<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = remove_trees(&self.dirs);
    }
}

fn require_real_host(layout: &CgroupLayout) {
    assert!(
        rustix::process::geteuid().is_root(),
        "real cgroup tests must run as root (CI does); got euid {}",
        rustix::process::geteuid().as_raw()
    );
    assert!(
        matches!(layout.placement(Controller::Memory), Placement::V1(_)),
        "real cgroup tests expect the CI host's v1 memory hierarchy; detected {layout:?}"
    );
}

/// This host as detected: memory, cpu, pids on v1, freezer on the hybrid cgroup2 mount.
fn hybrid_layout() -> CgroupLayout {
    let layout = CgroupLayout::detect().expect("read /proc/self/{mountinfo,cgroup}");
    require_real_host(&layout);
    layout
}

/// This host seen as pure v1 (cgroup2 mount ignored): freezer on v1, no `cgroup.kill`.
fn v1_only_layout() -> CgroupLayout {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let without_v2: String = mountinfo
        .lines()
        .filter(|l| !l.contains(" - cgroup2 "))
        .map(|l| format!("{l}\n"))
        .collect();
    let self_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let layout = CgroupLayout::detect_from(&without_v2, &self_cgroup, Path::new("/"));
    require_real_host(&layout);
    assert!(
        matches!(layout.placement(Controller::Freezer), Placement::V1(_)),
        "{layout:?}"
    );
    layout
}

fn dir_of(env: &EnvCgroup, controller: Controller) -> PathBuf {
    env.placement(controller).dir().unwrap().to_path_buf()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

fn limits(memory_mb: u32) -> EnvLimits {
    EnvLimits {
        memory_bytes: u64::from(memory_mb) << 20,
        memory_mb,
        pids_max: 1024,
    }
}

/// Spawns `program args`, holding it at its first stdin read until we attach it.
fn spawn_held(guard: &mut Guard, program: &str, args: &[&str]) -> usize {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    guard.children.push(child);
    guard.children.len() - 1
}

fn send_line(child: &mut Child) {
    child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    child.stdin.as_mut().unwrap().flush().unwrap();
}

fn wait_for_procs(env: &EnvCgroup, count: usize) {
    let start = std::time::Instant::now();
    while env.procs().len() < count {
        assert!(
            start.elapsed() < SPAWN_WAIT_MAX,
            "only {:?} in group",
            env.procs()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn v1_limits_peak_and_oom_kill() {
    let layout = hybrid_layout();
    let mut guard = Guard::default();
    let root = CgroupRoot::create(&layout, "real-limits").unwrap();
    guard.dirs = root.dirs();
    let env = root.env("e1").unwrap();
    env.create(&limits(64)).unwrap();

    let mem = dir_of(&env, Controller::Memory);
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");
    if mem.join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(read(mem.join("memory.memsw.limit_in_bytes")), "67108864");
    }
    assert_eq!(
        read(mem.join("memory.swappiness")),
        "0",
        "inherited from our subtree"
    );
    let cpu = dir_of(&env, Controller::Cpu);
    assert_eq!(read(cpu.join("cpu.shares")), "37");
    assert_eq!(
        read(dir_of(&env, Controller::Pids).join("pids.max")),
        "1024"
    );
    env.set_cpu_quota_for_memory(64).unwrap();
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "3617");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");

    // Raising then lowering the limit keeps memsw >= limit (the kernel enforces it).
    env.set_memory_limit(256 << 20).unwrap();
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "268435456");
    env.set_memory_limit(64 << 20).unwrap();
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");

    let script = "import sys\n\
                  sys.stdin.readline()\n\
                  b = bytearray(40 << 20)\n\
                  del b\n\
                  print('freed', flush=True)\n\
                  sys.stdin.readline()\n\
                  b = bytearray(200 << 20)\n";
    let i = spawn_held(&mut guard, PYTHON, &["-c", script]);
    let pid = guard.children[i].id();
    env.attach(pid).unwrap();
    assert_eq!(env.procs(), vec![pid]);
    assert!(env.pids_current().unwrap() >= 1);
    assert_eq!(env.oom_kills(), Some(0));

    send_line(&mut guard.children[i]);
    let mut line = String::new();
    let stdout = guard.children[i].stdout.take().unwrap();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "freed");
    let peak = env.peak_bytes().unwrap();
    assert!(peak >= 40 << 20, "peak {peak}");
    assert!(env.reset_peak().unwrap());
    let after_reset = env.peak_bytes().unwrap();
    assert!(after_reset < 20 << 20, "peak after reset {after_reset}");

    // 200 MB under a 64 MB limit: the OOM killer takes it.
    send_line(&mut guard.children[i]);
    let status = guard.children[i].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert_eq!(env.oom_kills(), Some(1));
    let peak = env.peak_bytes().unwrap();
    assert!(peak > 32 << 20 && peak <= 64 << 20, "peak {peak}");

    env.kill_all().unwrap();
    env.remove().unwrap();
    for dir in env.attach_files(false) {
        assert!(!dir.parent().unwrap().exists(), "{}", dir.display());
    }
    root.remove().unwrap();
    assert!(root.dirs().iter().all(|d| !d.exists()));
}

/// Several processes in one group: freeze, thaw, kill them all, remove. `frozen` reads the
/// freezer's state in its own file format.
fn freeze_and_kill(layout: &CgroupLayout, instance: &str, frozen: impl Fn(&EnvCgroup) -> bool) {
    let mut guard = Guard::default();
    let root = CgroupRoot::create(layout, instance).unwrap();
    guard.dirs = root.dirs();
    let env = root.env("e1").unwrap();
    env.create(&limits(128)).unwrap();

    let i = spawn_held(
        &mut guard,
        "/bin/sh",
        &["-c", "read x; sleep 100 & sleep 100 & wait"],
    );
    env.attach(guard.children[i].id()).unwrap();
    send_line(&mut guard.children[i]);
    wait_for_procs(&env, 3);

    env.freeze().unwrap();
    assert!(frozen(&env));
    env.thaw().unwrap();
    assert!(!frozen(&env));

    // Killing a frozen group must work too (v1: tasks die only once thawed).
    env.freeze().unwrap();
    env.kill_all().unwrap();
    assert!(env.procs().is_empty());
    assert_eq!(
        guard.children[i].wait().unwrap().signal(),
        Some(libc::SIGKILL)
    );
    env.remove().unwrap();

    // Shutdown with a live environment: root.remove kills it and removes everything.
    let env2 = root.env("e2").unwrap();
    env2.create(&limits(128)).unwrap();
    let j = spawn_held(&mut guard, "/bin/sleep", &["100"]);
    env2.attach(guard.children[j].id()).unwrap();
    root.remove().unwrap();
    assert!(root.dirs().iter().all(|d| !d.exists()));
    assert_eq!(
        guard.children[j].wait().unwrap().signal(),
        Some(libc::SIGKILL)
    );
}

#[test]
fn hybrid_freeze_and_kill_via_cgroup2() {
    let layout = hybrid_layout();
    assert!(
        matches!(layout.placement(Controller::Freezer), Placement::V2(_)),
        "expected the hybrid cgroup2 mount to carry the freezer: {layout:?}"
    );
    freeze_and_kill(&layout, "real-hybrid", |env| {
        let events = read(dir_of(env, Controller::Freezer).join("cgroup.events"));
        events.lines().any(|l| l == "frozen 1")
    });
}

#[test]
fn v1_freeze_and_kill_loop() {
    let layout = v1_only_layout();
    freeze_and_kill(&layout, "real-v1", |env| {
        read(dir_of(env, Controller::Freezer).join("freezer.state")) == "FROZEN"
    });
}

#[test]
fn sweep_removes_dead_supervisors_subtree() {
    let layout = v1_only_layout();
    let mut guard = Guard::default();
    let name = format!("{DEAD_OWNER}.real-sweep-{}", std::process::id());
    let stale = CgroupRoot::create_named(&layout, &name).unwrap();
    guard.dirs = stale.dirs();
    let env = stale.env("e1").unwrap();
    env.create(&limits(128)).unwrap();
    let i = spawn_held(&mut guard, "/bin/sleep", &["100"]);
    env.attach(guard.children[i].id()).unwrap();
    env.freeze().unwrap();

    let removed = CgroupRoot::sweep_stale(&layout).unwrap();
    assert!(removed >= 1, "removed {removed}");
    assert!(stale.dirs().iter().all(|d| !d.exists()));
    assert_eq!(
        guard.children[i].wait().unwrap().signal(),
        Some(libc::SIGKILL)
    );
}
