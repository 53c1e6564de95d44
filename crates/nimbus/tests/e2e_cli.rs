//! End-to-end: the `nimbus` command-line client against a real server, and the server's
//! fallback when it runs without root.

mod common;

use common::bin;
use nimbus_testkit::{Server, unique};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn nimbus(server: &Server, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("NIMBUS_ENDPOINT", &server.endpoint)
        .output()
        .expect("run nimbus")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write_function(dir: &Path, file: &str, source: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(file), source).expect("write");
}

#[test]
fn cli_create_list_get_invoke_logs_update_delete() {
    let server = common::server();
    let dir = tempfile::tempdir().expect("tempdir");
    let v1 = dir.path().join("v1");
    write_function(
        &v1,
        "app.py",
        "def handler(event, context):\n    print('cli log line')\n    return {'got': event}\n",
    );
    let name = unique("cli");

    let o = nimbus(
        server,
        &[
            "create",
            &name,
            "--runtime",
            "python3.11",
            "--handler",
            "app.handler",
            "--code",
            v1.to_str().unwrap_or_default(),
            "--memory",
            "256",
            "--env",
            "GREETING=hi",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains(&format!("FunctionName: {name}")), "{out}");
    assert!(out.contains("MemorySize:   256 MB"), "{out}");

    let o = nimbus(server, &["list"]);
    assert!(o.status.success());
    assert!(text(&o).0.contains(&name), "{}", text(&o).0);
    let o = nimbus(server, &["list", "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        listed["Functions"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["FunctionName"] == name.as_str()))
    );

    let o = nimbus(server, &["get", &name, "--output", "json"]);
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        got["Configuration"]["Environment"]["Variables"]["GREETING"],
        "hi"
    );

    let payload_file = dir.path().join("event.json");
    std::fs::write(&payload_file, r#"{"from": "file"}"#).expect("write");
    let o = nimbus(
        server,
        &[
            "invoke",
            &name,
            "--payload",
            &format!("@{}", payload_file.display()),
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(out.trim(), r#"{"got": {"from": "file"}}"#);
    assert!(
        err.starts_with("REPORT RequestId: ") && err.contains("Init Duration"),
        "REPORT on stderr: {err}"
    );

    let mut logs = String::new();
    for _ in 0..30 {
        logs = text(&nimbus(server, &["logs", &name, "--since", "5m"])).0;
        if logs.contains("REPORT RequestId") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        logs.contains("cli log line") && logs.contains("START RequestId"),
        "{logs}"
    );

    let v2 = dir.path().join("v2");
    write_function(
        &v2,
        "app.py",
        "def handler(event, context):\n    return 'v2'\n",
    );
    let o = nimbus(
        server,
        &[
            "update-code",
            &name,
            "--code",
            v2.to_str().unwrap_or_default(),
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = nimbus(server, &["invoke", &name]);
    assert_eq!(text(&o).0.trim(), "\"v2\"");

    // A function error exits non-zero and says so.
    let bad = dir.path().join("bad");
    write_function(
        &bad,
        "app.py",
        "def handler(event, context):\n    raise RuntimeError('boom')\n",
    );
    let bad_name = unique("cli-bad");
    assert!(
        nimbus(
            server,
            &[
                "create",
                &bad_name,
                "--runtime",
                "python3.11",
                "--handler",
                "app.handler",
                "--code",
                bad.to_str().unwrap_or_default()
            ]
        )
        .status
        .success()
    );
    let o = nimbus(server, &["invoke", &bad_name]);
    assert!(!o.status.success());
    assert!(text(&o).0.contains("RuntimeError"));

    let o = nimbus(server, &["delete", &name]);
    assert!(o.status.success());
    let o = nimbus(server, &["get", &name]);
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("ResourceNotFoundException"),
        "{:?}",
        text(&o)
    );
    nimbus(server, &["delete", &bad_name]);
}

#[test]
fn cli_reports_an_unreachable_server_clearly() {
    let o = Command::new(bin())
        .args(["list"])
        .env("NIMBUS_ENDPOINT", "http://127.0.0.1:1")
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("cannot reach the Nimbus server"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn without_root_functions_still_run_and_the_server_says_what_is_off() {
    // nobody: no namespaces, no cgroups, no loop devices.
    let server = Server::start_unprivileged(bin(), &["--shell-pool", "1"], 65534);
    let log = server.log();
    assert!(
        log.contains("WARNING: running with reduced isolation"),
        "{log}"
    );
    assert!(log.contains("memory, CPU and process limits"), "{log}");
    let l = server.lambda();
    let name = unique("np");
    let src = "import os\ndef handler(e, c):\n    return {'uid': os.getuid(), 'tmp': os.environ.get('TMPDIR', '')}\n";
    let r = l.create(
        &name,
        "python3.11",
        "app.handler",
        &nimbus_testkit::python_zip(src),
        serde_json::json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = l.invoke(&name, "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["uid"], 65534);
    assert!(
        !r.json()["tmp"].as_str().unwrap_or_default().is_empty(),
        "a private TMPDIR is given"
    );
    let timeout = unique("np-timeout");
    let slow = "import time\ndef handler(e, c):\n    time.sleep(30)\n";
    let r = l.create(
        &timeout,
        "python3.11",
        "app.handler",
        &nimbus_testkit::python_zip(slow),
        serde_json::json!({ "Timeout": 1 }),
    );
    assert_eq!(r.status, 201);
    let r = l.invoke(&timeout, "{}");
    assert_eq!(r.json()["errorType"], "Sandbox.Timedout", "{}", r.text());
}

/// A reader that goes away (`nimbus cost model … | head -0`) ends a printing command the
/// Unix way, by SIGPIPE, not with a panic and a backtrace.
#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(bin())
        .args([
            "cost",
            "model",
            "--memory",
            "256",
            "--duration",
            "200ms",
            "--invocations",
            "10M",
        ])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run nimbus");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "{:?}: {stderr}", out.status);
}
