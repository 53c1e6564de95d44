//! Runs the Python end-to-end suite (`tests/python`: boto3, the AWS CLI v1, awslambdaric and
//! Node handlers, all real and unmodified) against a real `nimbus serve` started here.
//!
//! The suite needs the test venv made by `scripts/setup-test-env.sh` (`scripts/test.sh` runs
//! it first): `$NIMBUS_TEST_VENV`, else `<repo>/.venv`. Without it this test FAILS, on
//! purpose: a missing client must never look like a pass.
//!
//! `cargo test -p nimbus --test e2e_clients -- --nocapture` shows pytest's report.

mod common;

use common::{repo_root, run_with_deadline, tail_lines};
use nimbus_testkit::Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Upper bound for the whole Python suite (it takes well under a minute here).
const SUITE_LIMIT: Duration = Duration::from_secs(15 * 60);

fn venv_dir(root: &Path) -> PathBuf {
    std::env::var_os("NIMBUS_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"))
}

/// The venv's interpreter, after checking the clients are importable in it.
fn venv_python(venv: &Path) -> PathBuf {
    let python = venv.join("bin/python");
    let usable = Command::new(&python)
        .args(["-c", "import boto3, awscli, pytest"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        usable,
        "the end-to-end test venv is missing or incomplete at {}.\n\
         Run `scripts/test.sh` (setup + cargo test), or `scripts/setup-test-env.sh` once, \
         or point NIMBUS_TEST_VENV at a venv with tests/python/requirements.txt installed.",
        venv.display()
    );
    python
}

#[test]
fn python_suite_with_real_aws_clients() {
    let root = repo_root();
    let venv = venv_dir(&root);
    let python = venv_python(&venv);
    let ric_dir = std::env::var_os("NIMBUS_RIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| venv.join("lambda-ric"));

    let server = Server::start(
        Path::new(env!("CARGO_BIN_EXE_nimbus")),
        // Seeded weighted-alias routing: the traffic-split test sees the same split each run.
        // Async delays at 1/100 (a minute of retry delay takes 0.6 s).
        &[
            "--shell-pool",
            "1",
            "--routing-seed",
            "20261127",
            "--async-time-scale",
            "0.01",
        ],
    );

    let mut pytest = Command::new(&python);
    pytest
        .args(["-m", "pytest", "tests/python", "-q", "-x"])
        .current_dir(&root)
        .env("NIMBUS_ENDPOINT", &server.endpoint)
        .env("NIMBUS_RIC_DIR", &ric_dir)
        // For tests that need a server of their own (restarts).
        .env("NIMBUS_BIN", env!("CARGO_BIN_EXE_nimbus"))
        // Keep the user's AWS configuration out of the clients' way.
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_LAMBDA")
        .env("AWS_CONFIG_FILE", "/nonexistent/nimbus-e2e/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/nimbus-e2e/credentials",
        )
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let run = run_with_deadline(pytest, "pytest tests/python", SUITE_LIMIT);

    assert!(
        run.status.success(),
        "the Python end-to-end suite failed ({}).\n--- pytest stdout ---\n{}\n--- pytest stderr ---\n{}\n\
         --- server log (last 150 lines of {}) ---\n{}",
        run.status,
        run.stdout,
        run.stderr,
        server.log_path.display(),
        tail_lines(&server.log(), 150)
    );
    // Shown with `-- --nocapture` (on failure the assertion above carries it all).
    println!(
        "pytest tests/python ({:.1} s):\n{}{}",
        run.elapsed.as_secs_f64(),
        run.stdout,
        run.stderr
    );
}
