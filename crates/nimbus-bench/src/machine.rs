//! Machine context (CPU count, load, kernel) and CPU time per component, read from `/proc`.

use std::collections::HashMap;
use std::path::Path;

/// Name prefix of the load generator's threads (the kernel keeps 15 bytes of a name).
pub const CLIENT_THREAD: &str = "bench-client";
/// Name prefix of the baseline server's threads.
pub const ECHO_THREAD: &str = "bench-echo";
/// `comm` of a custom runtime's process (`/var/task/bootstrap`).
const RUNTIME_COMM: &str = "bootstrap";

/// `/proc/loadavg`'s three averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The kernel release.
pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Logical CPUs available to this process.
pub fn nproc() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The first CPU model name in `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `git rev-parse --short HEAD` of the working directory, with `+dirty` when it has changes.
pub fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}+dirty")
            } else {
                commit
            }
        }
        None => "unknown".into(),
    }
}

/// CPU seconds used so far, per component. Read from each live thread's
/// `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on CPU), so time of threads or processes
/// that exited in between is not counted (none do during a warm load run).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// The `nimbus serve` process (all its threads: HTTP API, Runtime API, engine).
    pub server: f64,
    /// Custom runtime processes under the server (`bootstrap`).
    pub runtimes: f64,
    /// Every other descendant of the server (spawner, sandbox inits, interpreters).
    pub sandbox_other: f64,
    /// This process's load-generator threads.
    pub client: f64,
    /// This process's baseline-server threads.
    pub echo: f64,
}

impl Cpu {
    /// Reads the counters now.
    pub fn now(server_pid: Option<u32>) -> Cpu {
        let mut cpu = Cpu::default();
        if let Some(root) = server_pid {
            let parents = parent_pids();
            let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
            for (pid, (ppid, _)) in &parents {
                children.entry(*ppid).or_default().push(*pid);
            }
            cpu.server = process_cpu(root);
            let mut stack = children.get(&root).cloned().unwrap_or_default();
            while let Some(pid) = stack.pop() {
                let used = process_cpu(pid);
                match parents.get(&pid) {
                    Some((_, comm)) if comm == RUNTIME_COMM => cpu.runtimes += used,
                    _ => cpu.sandbox_other += used,
                }
                if let Some(c) = children.get(&pid) {
                    stack.extend(c);
                }
            }
        }
        for (comm, seconds) in threads_cpu(Path::new("/proc/self/task")) {
            if comm.starts_with(CLIENT_THREAD) {
                cpu.client += seconds;
            } else if comm.starts_with(ECHO_THREAD) {
                cpu.echo += seconds;
            }
        }
        cpu
    }

    /// The CPU used between `self` (earlier) and `later`; never negative (a process that
    /// exited in between takes its time with it).
    pub fn until(&self, later: &Cpu) -> Cpu {
        let d = |a: f64, b: f64| (b - a).max(0.0);
        Cpu {
            server: d(self.server, later.server),
            runtimes: d(self.runtimes, later.runtimes),
            sandbox_other: d(self.sandbox_other, later.sandbox_other),
            client: d(self.client, later.client),
            echo: d(self.echo, later.echo),
        }
    }
}

/// The pid of the `nimbus serve` whose command line names `data_dir`.
pub fn find_server(data_dir: &Path) -> Option<u32> {
    let wanted = data_dir.as_os_str().as_encoded_bytes();
    for pid in pids() {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let mut args = cmdline.split(|b| *b == 0);
        let is_serve = args.clone().any(|a| a == b"serve");
        if is_serve && args.any(|a| a == wanted) {
            return Some(pid);
        }
    }
    None
}

/// Every process id in `/proc`.
fn pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect()
}

/// pid → (parent pid, comm) of every process.
fn parent_pids() -> HashMap<u32, (u32, String)> {
    pids()
        .into_iter()
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (ppid, comm) = parse_stat(&text)?;
            Some((pid, (ppid, comm)))
        })
        .collect()
}

/// Parses `/proc/<pid>/stat`: `pid (comm) state ppid …` → (ppid, comm).
fn parse_stat(text: &str) -> Option<(u32, String)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    // After the comm: state, then ppid.
    let ppid = text
        .get(close + 1..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ppid, comm))
}

/// CPU seconds of every live thread of `pid`.
fn process_cpu(pid: u32) -> f64 {
    threads_cpu(Path::new(&format!("/proc/{pid}/task")))
        .iter()
        .map(|(_, s)| s)
        .sum()
}

/// (thread name, CPU seconds) of every thread under a `task` directory.
fn threads_cpu(task_dir: &Path) -> Vec<(String, f64)> {
    let Ok(entries) = std::fs::read_dir(task_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let schedstat = std::fs::read_to_string(e.path().join("schedstat")).ok()?;
            let ns: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            Some((comm.trim().to_string(), ns as f64 / 1e9))
        })
        .collect()
}

/// Resident set size of a process in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The directory of the running benchmark executable (where cargo puts its sibling binaries).
pub fn exe_dir() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    std::env::current_exe()
        .context("locate this executable")?
        .parent()
        .map(Path::to_path_buf)
        .context("executable has no directory")
}

/// The `nimbus` binary to benchmark: `given`, else the one next to this executable.
pub fn nimbus_binary(given: Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    let nimbus = match given {
        Some(path) => path,
        None => exe_dir()?.join("nimbus"),
    };
    if !nimbus.is_file() {
        anyhow::bail!(
            "no nimbus binary at {}; build it first with `cargo build --release -p nimbus` \
             (or pass --nimbus PATH)",
            nimbus.display()
        );
    }
    Ok(nimbus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 11 5 0 0 20 0 1 0 1 1 1";
        assert_eq!(parse_stat(line), Some((7, "a (b) c".to_string())));
    }
}
