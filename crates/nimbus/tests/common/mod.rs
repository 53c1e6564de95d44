//! Shared set-up of the end-to-end tests: one real server per test binary.

#![allow(dead_code)]

use nimbus_testkit::{Lambda, Server};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `nimbus` binary under test.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_nimbus"))
}

/// A server shared by the tests of one binary (they use unique function names). It stops
/// when the test process exits (its stdin closes).
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1"]))
}

/// A client of the shared server.
pub fn lambda() -> Lambda {
    server().lambda()
}

/// The REPORT line of a log tail.
pub fn report_line(tail: &str) -> String {
    tail.lines()
        .find(|l| l.starts_with("REPORT "))
        .unwrap_or_else(|| panic!("no REPORT line in:\n{tail}"))
        .to_string()
}

/// Processes on the host whose environment contains `marker` (a unique variable value given
/// to a function), i.e. processes of that function's sandboxes.
pub fn processes_with_marker(marker: &str) -> Vec<u32> {
    let needle = format!("NIMBUS_TEST_MARKER={marker}");
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ"))
                && env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())
            {
                found.push(pid);
            }
        }
    }
    found
}

/// The repository root (this crate is `<root>/crates/nimbus`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// What a finished command printed.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `cmd` to completion with stdout and stderr captured, killing it (and failing the
/// test) if it is still running after `limit`: a hung child must not hang the test run.
pub fn run_with_deadline(mut cmd: Command, what: &str, limit: Duration) -> Finished {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = drain(&mut child, true);
    let stderr = drain(&mut child, false);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {limit:?}; killed it.\nstdout:\n{}\nstderr:\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Reads one of the child's pipes to the end on a thread (so it never blocks on a full pipe).
fn drain(child: &mut Child, stdout: bool) -> std::thread::JoinHandle<String> {
    let mut pipe: Box<dyn Read + Send> = if stdout {
        Box::new(child.stdout.take().expect("stdout piped"))
    } else {
        Box::new(child.stderr.take().expect("stderr piped"))
    };
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// The last `n` lines of `text`.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Asserts that the real `cfn-lint` (from the test venv: `$NIMBUS_TEST_VENV`, else
/// `<repo>/.venv`, made by `scripts/setup-test-env.sh`) accepts a template a test deploys.
pub fn assert_cfn_lint_accepts(template: &Path) {
    let venv = std::env::var_os("NIMBUS_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    let cfn_lint = venv.join("bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is missing at {}: run `scripts/setup-test-env.sh` (or scripts/test.sh)",
        cfn_lint.display()
    );
    let mut cmd = Command::new(&cfn_lint);
    cmd.arg(template);
    let run = run_with_deadline(cmd, "cfn-lint", Duration::from_secs(300));
    assert!(
        run.status.success(),
        "cfn-lint rejects {}:\n{}{}\n--- template ---\n{}",
        template.display(),
        run.stdout,
        run.stderr,
        std::fs::read_to_string(template).unwrap_or_default()
    );
}
