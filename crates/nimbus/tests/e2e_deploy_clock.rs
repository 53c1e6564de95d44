//! End-to-end: the time-based parts of a template, with the wall clock moved by hand
//! (`nimbus serve --manual-clock`, `POST /nimbus/v1/clock`), never by sleeping through it:
//! a `rate(1 minute)` schedule fires once per slot, across a `kill -9` and a forward jump;
//! a code change under `DeploymentPreference: Canary10Percent5Minutes` shifts 10 %, then all
//! traffic once five minutes pass; a failing new version is rolled back with the traffic
//! back on the old one.

mod common;

use common::bin;
use nimbus_testkit::{Lambda, Server, unique};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long (real time) the engine may take to act after a clock move.
const SETTLE_WITHIN: Duration = Duration::from_secs(60);
/// How long a count must stay put to be taken as final.
const QUIET_FOR: Duration = Duration::from_secs(3);
/// One minute of the manual clock.
const MINUTE_MS: i64 = 60_000;
/// Alias invocations tried while waiting for one routed to the 10 % version.
const ROUTED_TRIES_MAX: usize = 300;

fn server() -> &'static Mutex<Server> {
    static SERVER: OnceLock<Mutex<Server>> = OnceLock::new();
    SERVER.get_or_init(|| {
        Mutex::new(Server::start(
            bin(),
            &[
                "--shell-pool",
                "1",
                "--manual-clock",
                "--async-time-scale",
                "0.01",
            ],
        ))
    })
}

/// One test at a time: they share the server's clock.
fn turn() -> MutexGuard<'static, Server> {
    server().lock().unwrap_or_else(|e| e.into_inner())
}

fn advance(l: &Lambda, ms: i64) {
    let r = l.request(
        "POST",
        "/nimbus/v1/clock",
        &[("content-type", "application/json")],
        Some(json!({ "AdvanceMs": ms }).to_string().into_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

fn deploy(s: &Server, template: &Path, stack: &str) -> Value {
    common::assert_cfn_lint_accepts(template);
    let out = Command::new(bin())
        .args([
            "deploy",
            template.to_str().unwrap(),
            "--stack",
            stack,
            "--output",
            "json",
        ])
        .env("NIMBUS_ENDPOINT", &s.endpoint)
        .output()
        .expect("run nimbus deploy");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn app(template: &str, code: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("src")).expect("mkdir");
    std::fs::write(dir.path().join("src/app.py"), code).expect("code");
    let t = dir.path().join("template.yaml");
    std::fs::write(&t, template).expect("template");
    (dir, t)
}

/// START lines in the function's log group: one per invocation.
fn invocations(l: &Lambda, function: &str) -> usize {
    let r = l.request(
        "POST",
        "/",
        &[
            ("x-amz-target", "Logs_20140328.FilterLogEvents"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        Some(
            json!({"logGroupName": format!("/aws/lambda/{function}"), "filterPattern": "START", "limit": 10000})
                .to_string()
                .into_bytes(),
        ),
    );
    if r.status != 200 {
        return 0;
    }
    r.json()["events"].as_array().map_or(0, |e| {
        e.iter()
            .filter(|e| {
                e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("START "))
            })
            .count()
    })
}

/// Waits until the count reaches `want`, then checks it stays there.
fn settle_at(l: &Lambda, function: &str, want: usize) {
    let deadline = Instant::now() + SETTLE_WITHIN;
    while invocations(l, function) < want {
        assert!(
            Instant::now() < deadline,
            "{function}: {} invocations, want {want}",
            invocations(l, function)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(QUIET_FOR);
    assert_eq!(
        invocations(l, function),
        want,
        "{function}: more invocations than slots"
    );
}

#[test]
fn a_rate_schedule_fires_once_per_slot_across_a_kill_and_a_clock_jump() {
    let mut s = turn();
    let stack = unique("sch");
    let template = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"tick": true}'
"#;
    let (_dir, t) = app(
        template,
        "def handler(event, context):\n    assert event == {'tick': True}, event\n    return 'ok'\n",
    );
    deploy(&s, &t, &stack);
    let l = s.lambda();
    let f = format!("{stack}-Tick");
    // A rate's first slot is its creation time.
    settle_at(&l, &f, 1);
    advance(&l, MINUTE_MS);
    settle_at(&l, &f, 2);
    // A redeploy of the same template keeps the timetable: no extra slot.
    deploy(&s, &t, &stack);
    std::thread::sleep(QUIET_FOR);
    assert_eq!(invocations(&l, &f), 2);
    // kill -9 and restart: the slot already fired is not fired again.
    s.kill9();
    s.start_again();
    let l = s.lambda();
    std::thread::sleep(QUIET_FOR);
    assert_eq!(invocations(&l, &f), 2, "a restart replayed a slot");
    // A jump over ten slots fires the latest one only.
    advance(&l, 10 * MINUTE_MS);
    settle_at(&l, &f, 3);
    let schedules = l.request("GET", "/nimbus/v1/schedules", &[], None).json();
    let mine = schedules["Schedules"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["owner"] == stack.as_str()).cloned())
        .expect("schedule listed");
    assert!(mine["nextSlot"].is_string(), "{mine}");
    // Removing the event removes the schedule.
    std::fs::write(&t, template.replace("      Events:\n        Every:\n          Type: Schedule\n          Properties:\n            Schedule: rate(1 minute)\n            Input: '{\"tick\": true}'\n", "")).unwrap();
    let result = deploy(&s, &t, &stack);
    assert!(
        result["Result"]["Changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["ResourceType"] == "Nimbus::Schedule" && c["Action"] == "Delete"),
        "{result}"
    );
    advance(&l, 5 * MINUTE_MS);
    std::thread::sleep(QUIET_FOR);
    assert_eq!(invocations(&l, &f), 3);
}

const CANARY: &str = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
"#;

fn alias(l: &Lambda, function: &str) -> Value {
    l.request(
        "GET",
        &format!("/2015-03-31/functions/{function}/aliases/live"),
        &[],
        None,
    )
    .json()
}

fn deployment(l: &Lambda, id: &str) -> Value {
    l.request("GET", &format!("/nimbus/v1/deployments/{id}"), &[], None)
        .json()
}

fn wait_status(l: &Lambda, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let d = deployment(l, id);
        if d["Status"] == want {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "deployment never reached {want}: {d}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_code_change_runs_a_canary_and_a_failing_version_is_rolled_back() {
    let s = turn();
    let l = s.lambda();
    let stack = unique("can");
    let f = format!("{stack}-Api");
    let (dir, t) = app(CANARY, "def handler(event, context):\n    return 'v1'\n");
    deploy(&s, &t, &stack);
    assert_eq!(alias(&l, &f)["FunctionVersion"], "1");

    // New code: version 2 gets 10 % at once, the rest after five minutes.
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    return 'v2'\n",
    )
    .unwrap();
    let result = deploy(&s, &t, &stack);
    let id = result["Result"]["Deployments"][0]
        .as_str()
        .expect("a deployment")
        .to_string();
    let a = alias(&l, &f);
    assert_eq!(a["FunctionVersion"], "1", "{a}");
    assert_eq!(
        a["RoutingConfig"]["AdditionalVersionWeights"]["2"], 0.1,
        "{a}"
    );
    advance(&l, 5 * MINUTE_MS - 1_000);
    std::thread::sleep(QUIET_FOR);
    assert_eq!(deployment(&l, &id)["TrafficPercent"], 10);
    advance(&l, 2_000);
    wait_status(&l, &id, "Succeeded");
    let a = alias(&l, &f);
    assert_eq!(a["FunctionVersion"], "2", "{a}");
    assert!(
        a["RoutingConfig"].is_null()
            || a["RoutingConfig"]["AdditionalVersionWeights"]
                .as_object()
                .is_none_or(|w| w.is_empty()),
        "{a}"
    );

    // A broken version 3: its first error during the shift rolls the alias back to 2.
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    raise ValueError('v3 is broken')\n",
    )
    .unwrap();
    let result = deploy(&s, &t, &stack);
    let id = result["Result"]["Deployments"][0]
        .as_str()
        .expect("a deployment")
        .to_string();
    let mut routed_to_3 = false;
    for _ in 0..ROUTED_TRIES_MAX {
        let r = l.request(
            "POST",
            &format!("/2015-03-31/functions/{f}:live/invocations"),
            &[],
            Some(b"{}".to_vec()),
        );
        if r.header("x-amz-executed-version").as_deref() == Some("3") {
            assert_eq!(
                r.header("x-amz-function-error").as_deref(),
                Some("Unhandled")
            );
            routed_to_3 = true;
            break;
        }
    }
    assert!(routed_to_3, "no invocation reached version 3 at 10 %");
    let d = wait_status(&l, &id, "RolledBack");
    assert!(
        d["Reason"].as_str().is_some_and(|r| r.contains("error")),
        "{d}"
    );
    let a = alias(&l, &f);
    assert_eq!(a["FunctionVersion"], "2", "{a}");
    for _ in 0..20 {
        let r = l.request(
            "POST",
            &format!("/2015-03-31/functions/{f}:live/invocations"),
            &[],
            Some(b"{}".to_vec()),
        );
        assert_eq!(r.header("x-amz-executed-version").as_deref(), Some("2"));
        assert_eq!(r.text(), "\"v2\"");
    }
}
