//! End-to-end: limits enforced for real, hostile functions, and environment lifecycle
//! (timeouts, crashes, OOM, /tmp, processes, isolation, concurrency, scale to zero).

mod common;

use common::{bin, lambda, processes_with_marker, report_line};
use nimbus_testkit::{Server, bootstrap_zip, python_zip, unique};
use serde_json::json;
use std::time::{Duration, Instant};

fn marker_env(marker: &str) -> serde_json::Value {
    json!({ "Environment": { "Variables": { "NIMBUS_TEST_MARKER": marker } } })
}

fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

/// Waits until no process carries `marker` (or the deadline passes); returns the survivors.
fn wait_gone(marker: &str, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = processes_with_marker(marker);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn timeout_kills_everything_and_reports_sandbox_timedout() {
    let l = lambda();
    let name = unique("py-timeout");
    let marker = unique("m");
    let src = "import os, time, subprocess\ndef handler(event, context):\n    subprocess.Popen(['sleep', '100'])\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(100)\n    time.sleep(100)\n";
    let extra = with(marker_env(&marker), json!({ "Timeout": 1 }));
    assert_eq!(
        l.create(&name, "python3.11", "app.handler", &python_zip(src), extra)
            .status,
        201
    );
    let started = Instant::now();
    let r = l.invoke(&name, "{}");
    let took = started.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let body = r.json();
    let id = r.header("x-amzn-requestid").expect("id");
    assert_eq!(body["errorType"], json!("Sandbox.Timedout"));
    assert_eq!(
        body["errorMessage"],
        json!(format!(
            "RequestId: {id} Error: Task timed out after 1.00 seconds"
        ))
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "timed out after {took:?}"
    );
    let tail = r.log_tail();
    assert!(report_line(&tail).ends_with("\tStatus: timeout"), "{tail}");
    assert!(
        tail.contains(&format!("{id} Task timed out after 1.00 seconds")),
        "{tail}"
    );
    // Nothing of the environment runs 2 s later: not the runtime, not its children, not the
    // double-forked daemon.
    let survivors = wait_gone(&marker, Duration::from_secs(2));
    assert!(
        survivors.is_empty(),
        "processes survived the timeout: {survivors:?}"
    );
    // The next invocation gets a fresh environment.
    let r = l.invoke(&name, "{}");
    assert!(report_line(&r.log_tail()).contains("Init Duration"));
    l.delete(&name);
}

#[test]
fn crashes_are_runtime_exit_errors_and_the_next_invoke_is_fresh() {
    let l = lambda();
    let name = unique("py-crash");
    let src = "import os, ctypes\ndef handler(event, context):\n    if event.get('segv'):\n        ctypes.string_at(0)\n    os._exit(event.get('code', 3))\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&name, r#"{"code": 3}"#);
    let id = r.header("x-amzn-requestid").expect("id");
    assert_eq!(
        r.json()["errorType"],
        json!("Runtime.ExitError"),
        "{}",
        r.text()
    );
    assert_eq!(
        r.json()["errorMessage"],
        json!(format!(
            "RequestId: {id} Error: Runtime exited with error: exit status 3"
        ))
    );
    assert!(report_line(&r.log_tail()).ends_with("Status: error\tError Type: Runtime.ExitError"));
    let r = l.invoke(&name, r#"{"segv": true}"#);
    assert!(
        r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .ends_with("signal: segmentation fault"),
        "{}",
        r.text()
    );
    let r = l.invoke(&name, r#"{"code": 0}"#);
    assert!(
        r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Runtime exited without providing a reason"),
        "{}",
        r.text()
    );
    l.delete(&name);
}

#[test]
fn memory_over_the_limit_is_out_of_memory() {
    let l = lambda();
    let name = unique("py-oom");
    let src = "def handler(event, context):\n    b = bytearray(event['mb'] * 1024 * 1024)\n    return len(b)\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            json!({ "MemorySize": 128 })
        )
        .status,
        201
    );
    let ok = l.invoke(&name, r#"{"mb": 40}"#);
    assert_eq!(ok.text(), "41943040");
    let report = report_line(&ok.log_tail());
    let used: u64 = report
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(
        (40..=128).contains(&used),
        "max memory used {used} MB after allocating 40 MB: {report}"
    );
    let r = l.invoke(&name, r#"{"mb": 300}"#);
    assert_eq!(
        r.json()["errorType"],
        json!("Runtime.OutOfMemory"),
        "{}",
        r.text()
    );
    let report = report_line(&r.log_tail());
    assert!(report.contains("Max Memory Used: 128 MB"), "{report}");
    assert!(
        report.ends_with("Status: error\tError Type: Runtime.OutOfMemory"),
        "{report}"
    );
    l.delete(&name);
}

#[test]
fn tmp_is_disk_not_memory_and_capped() {
    let l = lambda();
    let name = unique("py-tmp");
    let src = r#"
import os, errno
def handler(event, context):
    chunk = b"x" * (1024 * 1024)
    written = 0
    try:
        with open("/tmp/big", "wb") as f:
            for _ in range(event["mb"]):
                f.write(chunk)
                written += 1
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        return {"written_mb": written, "errno": errno.errorcode.get(e.errno)}
    st = os.statvfs("/tmp")
    return {"written_mb": written, "errno": None, "size_mb": st.f_blocks * st.f_frsize // (1024 * 1024)}
"#;
    let extra = json!({ "MemorySize": 128, "Timeout": 60 });
    assert_eq!(
        l.create(&name, "python3.11", "app.handler", &python_zip(src), extra)
            .status,
        201
    );
    // 400 MB into a 512 MB /tmp with only 128 MB of memory: /tmp is not charged to memory.
    let r = l.invoke(&name, r#"{"mb": 400}"#);
    assert_eq!(r.json()["written_mb"], json!(400), "{}", r.text());
    assert_eq!(r.json()["errno"], json!(null));
    // Past the cap: ENOSPC, inside the function only.
    let r = l.invoke(&name, r#"{"mb": 600}"#);
    assert_eq!(r.json()["errno"], json!("ENOSPC"), "{}", r.text());
    let written = r.json()["written_mb"].as_u64().unwrap_or(0);
    assert!(
        (500..=513).contains(&written),
        "cap at 512 MB, wrote {written} MB"
    );
    l.delete(&name);
}

#[test]
fn fork_bomb_is_capped_and_the_function_keeps_working() {
    let l = lambda();
    let name = unique("py-forks");
    let src = r#"
import os, time
def handler(event, context):
    n, err = 0, None
    for _ in range(3000):
        try:
            pid = os.fork()
        except OSError as e:
            err = e.errno
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    return {"forked": n, "errno": err}
"#;
    // Enough memory that the process cap, not the memory limit, is what stops the bomb.
    let extra = json!({ "Timeout": 30, "MemorySize": 1024 });
    assert_eq!(
        l.create(&name, "python3.11", "app.handler", &python_zip(src), extra)
            .status,
        201
    );
    let r = l.invoke(&name, "{}");
    let forked = r.json()["forked"].as_u64().unwrap_or(0);
    assert!(
        forked <= 1022 && forked > 900,
        "pids capped at 1,024 tasks: {}",
        r.text()
    );
    assert_eq!(r.json()["errno"], json!(11), "EAGAIN");
    l.delete(&name);
}

#[test]
fn functions_cannot_see_each_other_or_the_host() {
    let l = lambda();
    let server = common::server();
    let secret_name = unique("secret");
    let secret = unique("TOPSECRET");
    let secret_src = format!("SECRET = '{secret}'\ndef handler(e, c):\n    return SECRET\n");
    assert_eq!(
        l.create(
            &secret_name,
            "python3.11",
            "app.handler",
            &python_zip(&secret_src),
            json!({})
        )
        .status,
        201
    );
    assert_eq!(l.invoke(&secret_name, "{}").json(), json!(secret));

    let port = server.endpoint.rsplit(':').next().expect("port");
    let data_dir = server.data_dir().display().to_string();
    // The probe gets the secret hex-encoded so its own source never contains it.
    let secret_hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let probe = format!(
        r#"
import os, socket
NEEDLE = bytes.fromhex("{secret_hex}")
def handler(event, context):
    out = {{}}
    out["root"] = sorted(os.listdir("/"))
    out["data_dir_visible"] = os.path.exists("{data_dir}")
    out["procs"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found = []
    for top in ["/var", "/tmp", "/opt", "/etc"]:
        for d, _, files in os.walk(top):
            for f in files:
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        if NEEDLE in fh.read():
                            found.append(os.path.join(d, f))
                except OSError:
                    pass
    out["secret_found"] = found
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect(("127.0.0.1", {port})); out["host_api"] = "reachable"
    except OSError as e:
        out["host_api"] = type(e).__name__
    try:
        open("/etc/shadow").read(); out["shadow"] = "readable"
    except OSError as e:
        out["shadow"] = type(e).__name__
    try:
        open("/var/task/x", "w"); out["task_write"] = "ok"
    except OSError as e:
        out["task_write"] = type(e).__name__
    out["nnp"] = [l for l in open("/proc/self/status") if l.startswith(("NoNewPrivs", "CapEff"))]
    return out
"#
    );
    let probe_name = unique("probe");
    assert_eq!(
        l.create(
            &probe_name,
            "python3.11",
            "app.handler",
            &python_zip(&probe),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&probe_name, "{}");
    let out = r.json();
    assert_eq!(out["data_dir_visible"], json!(false), "{out}");
    assert_eq!(
        out["secret_found"],
        json!([]),
        "another function's code is invisible: {out}"
    );
    assert_eq!(out["host_api"], json!("ConnectionRefusedError"), "{out}");
    assert_eq!(out["shadow"], json!("FileNotFoundError"), "{out}");
    assert_eq!(out["task_write"], json!("OSError"), "read-only code: {out}");
    let procs = out["procs"].as_array().map(|a| a.len()).unwrap_or(99);
    assert!(procs <= 3, "only the sandbox's own processes: {out}");
    assert_eq!(
        out["nnp"],
        json!(["CapEff:\t0000000000000000\n", "NoNewPrivs:\t1\n"]),
        "{out}"
    );
    l.delete(&secret_name);
    l.delete(&probe_name);
}

#[test]
fn oversized_responses_become_function_errors() {
    let l = lambda();
    let name = unique("py-big");
    let src = "def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&name, "{}");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    assert_eq!(
        r.json()["errorType"],
        json!("Function.ResponseSizeTooLarge"),
        "{}",
        &r.text()[..200.min(r.text().len())]
    );
    assert!(r.body.len() < 1024, "never a truncated 200");
    l.delete(&name);
}

#[test]
fn updating_code_retires_old_environments() {
    let l = lambda();
    let name = unique("py-update");
    let marker = unique("m");
    let v1 = "def handler(e, c):\n    return 'v1'\n";
    let v2 = "def handler(e, c):\n    return 'v2'\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(v1),
            marker_env(&marker)
        )
        .status,
        201
    );
    assert_eq!(l.invoke(&name, "{}").json(), json!("v1"));
    let old = processes_with_marker(&marker);
    assert!(!old.is_empty(), "a warm environment exists");
    let zip = base64_of(&python_zip(v2));
    let r = l.request(
        "PUT",
        &format!("/2015-03-31/functions/{name}/code"),
        &[("content-type", "application/json")],
        Some(json!({ "ZipFile": zip }).to_string().into_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = l.invoke(&name, "{}");
    assert_eq!(r.json(), json!("v2"));
    assert!(
        report_line(&r.log_tail()).contains("Init Duration"),
        "new code, new environment"
    );
    std::thread::sleep(Duration::from_millis(500));
    let now = processes_with_marker(&marker);
    assert!(
        old.iter().all(|p| !now.contains(p)),
        "old environment stopped: {old:?} vs {now:?}"
    );
    l.delete(&name);
    assert!(
        wait_gone(&marker, Duration::from_secs(5)).is_empty(),
        "delete stops environments"
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn account_concurrency_limit_throttles_with_429() {
    let server = Server::start(bin(), &["--shell-pool", "1", "--account-concurrency", "2"]);
    let l = server.lambda();
    let name = unique("py-slow");
    let src = "import time\ndef handler(e, c):\n    time.sleep(1.5)\n    return 'done'\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            json!({ "Timeout": 10 })
        )
        .status,
        201
    );
    let endpoint = server.endpoint.clone();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let endpoint = endpoint.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(i * 100));
                nimbus_testkit::Lambda::new(&endpoint).invoke(&name, "{}")
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let ok = results.iter().filter(|r| r.status == 200).count();
    let throttled: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok, 2, "exactly the limit ran");
    assert_eq!(throttled.len(), 2);
    for r in throttled {
        assert_eq!(r.error_type().as_deref(), Some("TooManyRequestsException"));
        assert_eq!(
            r.json()["Reason"],
            json!("ConcurrentInvocationLimitExceeded")
        );
        assert_eq!(r.json()["message"], json!("Rate Exceeded."));
        assert!(r.header("retry-after").is_some());
    }
    let settings = l
        .request("GET", "/2016-08-19/account-settings", &[], None)
        .json();
    assert_eq!(settings["AccountLimit"]["ConcurrentExecutions"], json!(2));
}

#[test]
fn idle_environments_scale_to_zero() {
    let server = Server::start(bin(), &["--shell-pool", "1", "--keep-alive-secs", "1"]);
    let l = server.lambda();
    let name = unique("py-idle");
    let marker = unique("m");
    let src = "def handler(e, c):\n    return 1\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            marker_env(&marker)
        )
        .status,
        201
    );
    assert_eq!(l.invoke(&name, "{}").status, 200);
    assert!(!processes_with_marker(&marker).is_empty());
    let left = wait_gone(&marker, Duration::from_secs(5));
    assert!(
        left.is_empty(),
        "idle environment still running after keep-alive: {left:?}"
    );
    // And a new invocation starts cold.
    let r = l.invoke(&name, "{}");
    assert!(report_line(&r.log_tail()).contains("Init Duration"));
}

#[test]
fn a_crashing_bootstrap_is_not_respawned_in_a_loop() {
    let l = lambda();
    let name = unique("prov-crashloop");
    assert_eq!(
        l.create(
            &name,
            "provided.al2023",
            "x",
            &bootstrap_zip(b"#!/bin/sh\nexit 1\n"),
            json!({})
        )
        .status,
        201
    );
    let mut inits = 0;
    for _ in 0..10 {
        let r = l.invoke(&name, "{}");
        assert_eq!(r.json()["errorType"], json!("Runtime.ExitError"));
        if r.log_tail().contains("INIT_START") {
            inits += 1;
        }
    }
    assert!(
        inits <= 3,
        "10 quick invokes of a broken function started {inits} environments"
    );
    l.delete(&name);
}

#[test]
fn init_past_ten_seconds_is_retried_inside_the_invocation() {
    // A custom runtime that takes 12 s before its first /next: the 10 s Init cap ends the
    // first attempt (INIT_REPORT Status: timeout), Init is retried inside the invocation,
    // and the function timeout (3 s) ends that one: Sandbox.Timedout.
    let l = lambda();
    let name = unique("slow-init");
    let marker = unique("m");
    let bootstrap = b"#!/bin/sh\nsleep 12\nexit 0\n";
    let extra = with(marker_env(&marker), json!({ "Timeout": 3 }));
    assert_eq!(
        l.create(
            &name,
            "provided.al2023",
            "x",
            &bootstrap_zip(bootstrap),
            extra
        )
        .status,
        201
    );
    let started = Instant::now();
    let r = l.invoke(&name, "{}");
    let took = started.elapsed();
    assert_eq!(
        r.json()["errorType"],
        json!("Sandbox.Timedout"),
        "{}",
        r.text()
    );
    assert!(
        took >= Duration::from_secs(13) && took < Duration::from_secs(16),
        "took {took:?}"
    );
    let tail = r.log_tail();
    assert!(tail.contains("\tPhase: init\tStatus: timeout"), "{tail}");
    assert!(tail.contains("\tPhase: invoke\tStatus: timeout"), "{tail}");
    assert!(
        wait_gone(&marker, Duration::from_secs(2)).is_empty(),
        "both attempts were killed"
    );
    l.delete(&name);
}

#[test]
fn a_caller_that_goes_away_does_not_leak_the_environment() {
    let l = lambda();
    let server = common::server();
    let name = unique("py-hangup");
    let marker = unique("m");
    let src = "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'done'\n";
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(src),
            marker_env(&marker)
        )
        .status,
        201
    );
    assert_eq!(l.invoke(&name, "{}").status, 200);
    // The client gives up after 300 ms of a 1.5 s invocation.
    let impatient = reqwest::blocking::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let gave_up = impatient
        .post(format!(
            "{}/2015-03-31/functions/{name}/invocations",
            server.endpoint
        ))
        .body(r#"{"s": 1.5}"#)
        .send();
    assert!(gave_up.is_err(), "the client timed out");
    std::thread::sleep(Duration::from_millis(1800));
    // The invocation finished anyway and its environment went back to the pool: the next
    // invocation is warm, and there is still exactly one environment.
    let r = l.invoke(&name, "{}");
    assert_eq!(r.text(), "\"done\"");
    assert!(
        !report_line(&r.log_tail()).contains("Init Duration"),
        "warm: {}",
        r.log_tail()
    );
    let processes = processes_with_marker(&marker);
    assert_eq!(processes.len(), 1, "one runtime process: {processes:?}");
    l.delete(&name);
}
