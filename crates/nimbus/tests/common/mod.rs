//! Shared set-up of the end-to-end tests: one real server per test binary.

#![allow(dead_code)]

use nimbus_testkit::{Lambda, Server};
use std::path::Path;
use std::sync::OnceLock;

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
