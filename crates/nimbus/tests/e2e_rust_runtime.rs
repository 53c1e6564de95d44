//! A `provided.al2023` function built with the official, unmodified AWS `lambda_runtime`
//! crate (`examples/rust-hello`) runs on a real `nimbus serve`: cold then warm invokes, the
//! context the runtime sees, and the runtime's own error path.
//!
//! The function binary is built here with a nested `cargo build -p example-rust-hello`
//! (the outer `cargo test` holds no build-directory lock while tests run, so this does not
//! deadlock; the build is bounded by a deadline anyway).

mod common;

use common::{repo_root, run_with_deadline, tail_lines};
use nimbus_testkit::{Response, Server, bootstrap_zip, unique};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A cold build of the example and its dependencies takes ~2 minutes on 2 cores.
const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);
/// The function's Timeout setting, seconds.
const TIMEOUT_SECS: u64 = 5;

/// Builds `examples/rust-hello` and returns the path of its `bootstrap` executable, as
/// reported by cargo itself (so `CARGO_TARGET_DIR` and friends are honoured).
fn build_bootstrap() -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "-p",
            "example-rust-hello",
            "--bin",
            "bootstrap",
            "--locked",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(repo_root());
    let build = run_with_deadline(cargo, "cargo build -p example-rust-hello", BUILD_LIMIT);
    assert!(
        build.status.success(),
        "building examples/rust-hello failed ({}):\n{}",
        build.status,
        build.stderr
    );
    println!(
        "built example-rust-hello in {:.1} s",
        build.elapsed.as_secs_f64()
    );
    build
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "bootstrap")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no bootstrap executable:\n{}", build.stdout))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// The REPORT line of an invoke's log tail.
fn report_line(resp: &Response) -> String {
    let tail = resp.log_tail();
    tail.lines()
        .find(|l| l.starts_with("REPORT RequestId: "))
        .unwrap_or_else(|| panic!("no REPORT line in the log tail:\n{tail}"))
        .to_string()
}

/// Checks a successful echo and returns its body.
fn expect_echo(resp: &Response, event: &Value, name: &str, server: &Server) -> Value {
    assert_eq!(
        resp.status,
        200,
        "invoke failed: {}\nserver log:\n{}",
        resp.text(),
        tail_lines(&server.log(), 80)
    );
    assert_eq!(
        resp.header("x-amz-function-error"),
        None,
        "unexpected function error: {}\nlog tail:\n{}",
        resp.text(),
        resp.log_tail()
    );
    let body = resp.json();
    let request_id = resp.header("x-amzn-requestid").expect("x-amzn-RequestId");
    assert_eq!(&body["event"], event, "the event comes back unchanged");
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "context.request_id"
    );
    assert_eq!(body["function_name"], name, "env_config.function_name");
    assert_eq!(body["memory_mb"], 256, "env_config.memory");
    assert_eq!(body["version"], "$LATEST", "env_config.version");
    let arn = body["invoked_function_arn"].as_str().unwrap_or_default();
    assert!(
        arn.ends_with(&format!(":function:{name}")),
        "invoked ARN {arn}"
    );
    let deadline = body["deadline_ms"].as_u64().expect("deadline_ms");
    let now = now_ms();
    assert!(
        deadline > now.saturating_sub(TIMEOUT_SECS * 1000) && deadline <= now + TIMEOUT_SECS * 1000,
        "the deadline ({deadline}) must be about Timeout={TIMEOUT_SECS}s after the invoke (now {now})"
    );
    assert!(
        resp.log_tail()
            .contains(&format!("rust-hello handling request {request_id}")),
        "the function's stdout belongs in the log tail:\n{}",
        resp.log_tail()
    );
    body
}

#[test]
fn lambda_runtime_crate_function_cold_warm_and_error() {
    let bootstrap = build_bootstrap();
    let binary =
        std::fs::read(&bootstrap).unwrap_or_else(|e| panic!("read {}: {e}", bootstrap.display()));
    let package = bootstrap_zip(&binary);

    let server = Server::start(
        Path::new(env!("CARGO_BIN_EXE_nimbus")),
        &["--shell-pool", "1"],
    );
    let lambda = server.lambda();
    let name = unique("rust-hello");
    let created = lambda.create(
        &name,
        "provided.al2023",
        "unused.by.custom.runtimes",
        &package,
        json!({ "Timeout": TIMEOUT_SECS, "MemorySize": 256 }),
    );
    assert_eq!(created.status, 201, "CreateFunction: {}", created.text());

    // Cold: the first invoke starts the runtime, so REPORT carries Init Duration.
    let first_event = json!({ "hello": "rust", "n": 1 });
    let cold = lambda.invoke(&name, &first_event.to_string());
    let cold_body = expect_echo(&cold, &first_event, &name, &server);
    let cold_report = report_line(&cold);
    assert!(
        cold_report.contains("\tInit Duration: "),
        "a cold start's REPORT has Init Duration: {cold_report:?}"
    );

    // Warm: same environment, no init.
    let second_event = json!({ "hello": "again", "n": 2 });
    let warm = lambda.invoke(&name, &second_event.to_string());
    let warm_body = expect_echo(&warm, &second_event, &name, &server);
    let warm_report = report_line(&warm);
    assert!(
        !warm_report.contains("Init Duration"),
        "a warm invoke's REPORT has no Init Duration: {warm_report:?}"
    );
    assert_ne!(cold_body["request_id"], warm_body["request_id"]);

    // The runtime's error path: Err from the handler → POST /error with the crate's own
    // errorType (the Rust type name of `lambda_runtime::Error`).
    let failed = lambda.invoke(&name, r#"{"fail": true}"#);
    assert_eq!(failed.status, 200, "a function error is not an HTTP error");
    assert_eq!(
        failed.header("x-amz-function-error").as_deref(),
        Some("Unhandled"),
        "X-Amz-Function-Error; body {}",
        failed.text()
    );
    let error = failed.json();
    let request_id = failed.header("x-amzn-requestid").expect("x-amzn-RequestId");
    let error_type = error["errorType"].as_str().unwrap_or_default();
    assert!(
        error_type.contains("alloc::boxed::Box<dyn core::error::Error"),
        "errorType should be lambda_runtime's type name of its boxed Error: {error}"
    );
    assert_eq!(
        error["errorMessage"],
        format!("asked to fail by request {request_id}"),
        "errorMessage"
    );

    // The runtime keeps serving after a handler error (still warm).
    let after_event = json!({ "after": "error" });
    let after = lambda.invoke(&name, &after_event.to_string());
    expect_echo(&after, &after_event, &name, &server);
    assert!(
        !report_line(&after).contains("Init Duration"),
        "a handler error must not cost the environment"
    );

    let deleted = lambda.delete(&name);
    assert!(
        deleted.status == 204 || deleted.status == 200,
        "DeleteFunction: {} {}",
        deleted.status,
        deleted.text()
    );
}
