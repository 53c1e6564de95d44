//! End-to-end: traffic-shifting deployments on real sandboxes, with the wall clock moved by
//! hand (`nimbus serve --manual-clock`, `POST /nimbus/v1/clock`): no test sleeps through a
//! canary. A canary completes once the clock passes its minutes; a failing new version rolls
//! the alias back; a failing PreTraffic hook leaves the alias untouched; hooks get
//! CodeDeploy's payload; stop and supersede roll back; a deployment resumes after a restart.

mod common;

use base64::Engine;
use common::bin;
use nimbus_testkit::{Lambda, Response, Server, python_zip, unique};
use serde_json::{Value, json};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long (real time) the engine may take to act after a clock move or a hook.
const SETTLE_WITHIN: Duration = Duration::from_secs(60);
/// One minute of the manual clock.
const MINUTE_MS: i64 = 60_000;
/// Alias invocations tried while waiting for one routed to a 10 % version (p(miss) ≈ 0.9^n).
const ROUTED_TRIES_MAX: usize = 300;

const OK_V1: &str = "def handler(event, context):\n    return 'v1'\n";
const OK_V2: &str = "def handler(event, context):\n    return 'v2'\n";
const FAILS: &str = "def handler(event, context):\n    raise ValueError('v2 is broken')\n";
/// A hook that fails, echoing its event so the test can see CodeDeploy's payload.
const HOOK_FAILS: &str = "import json\ndef handler(event, context):\n    raise RuntimeError('HOOK ' + json.dumps(event, sort_keys=True))\n";
const HOOK_OK: &str = "def handler(event, context):\n    return 'Succeeded'\n";

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1", "--manual-clock"]))
}

/// The shared server has one clock: tests on it take turns, so one test's clock moves
/// (or its alarm windows) are not disturbed by another's.
fn clock_turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn send(l: &Lambda, method: &str, path: &str, body: Value) -> Response {
    l.request(
        method,
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

fn zip_b64(source: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(python_zip(source))
}

/// A function with version 1 (`v1`) and version 2 (`v2`), and alias `live` on version 1.
fn two_versions(l: &Lambda, name: &str, v1: &str, v2: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(v1),
        json!({ "Publish": true }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["Version"], json!("1"), "{}", r.text());
    let r = send(
        l,
        "PUT",
        &format!("/2015-03-31/functions/{name}/code"),
        json!({ "ZipFile": zip_b64(v2), "Publish": true }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Version"], json!("2"), "{}", r.text());
    let r = send(
        l,
        "POST",
        &format!("/2015-03-31/functions/{name}/aliases"),
        json!({ "Name": "live", "FunctionVersion": "1" }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn hook_function(l: &Lambda, name: &str, source: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(source),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn start(l: &Lambda, function: &str, preference: Value, alarms: Value) -> Response {
    send(
        l,
        "POST",
        "/nimbus/v1/deployments",
        json!({
            "FunctionName": function,
            "Alias": "live",
            "FromVersion": "1",
            "ToVersion": "2",
            "DeploymentPreference": preference,
            "Alarms": alarms,
            "Owner": "e2e",
        }),
    )
}

fn started(l: &Lambda, function: &str, preference: Value) -> Value {
    let r = start(l, function, preference, json!([]));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn deployment(l: &Lambda, id: &str) -> Value {
    let r = l.request("GET", &format!("/nimbus/v1/deployments/{id}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Waits until the deployment's status is `status`.
fn wait_status(l: &Lambda, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let d = deployment(l, id);
        if d["Status"] == json!(status) {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "deployment {id} never reached {status}: {d:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn advance(l: &Lambda, ms: i64) -> i64 {
    let r = send(l, "POST", "/nimbus/v1/clock", json!({ "AdvanceMs": ms }));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["NowMs"].as_i64().expect("NowMs")
}

fn alias(l: &Lambda, function: &str) -> Value {
    let r = l.request(
        "GET",
        &format!("/2015-03-31/functions/{function}/aliases/live"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn invoke_alias(l: &Lambda, function: &str) -> Response {
    l.invoke(&format!("{function}:live"), "{}")
}

#[test]
fn a_canary_completes_once_the_clock_passes_its_minutes() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("canary");
    two_versions(&l, &name, OK_V1, OK_V2);
    let d = started(&l, &name, json!({ "Type": "Canary10Percent5Minutes" }));
    let id = d["DeploymentId"].as_str().expect("id").to_string();
    assert!(id.starts_with("d-"), "{d}");
    assert_eq!(d["Status"], json!("Shifting"), "{d:#}");
    assert_eq!(d["TrafficPercent"], json!(10), "{d:#}");
    assert_eq!(d["Owner"], json!("e2e"));
    let a = alias(&l, &name);
    assert_eq!(a["FunctionVersion"], json!("1"), "{a}");
    assert_eq!(
        a["RoutingConfig"]["AdditionalVersionWeights"]["2"],
        json!(0.1),
        "{a}"
    );
    // The alias serves both versions, and version 2 answers without errors.
    let ok = invoke_alias(&l, &name);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.header("x-amz-function-error").is_none(), "{}", ok.text());

    // Four minutes in: still the canary.
    advance(&l, 4 * MINUTE_MS);
    std::thread::sleep(Duration::from_millis(300));
    let d = deployment(&l, &id);
    assert_eq!(d["Status"], json!("Shifting"), "{d:#}");
    assert_eq!(d["TrafficPercent"], json!(10), "{d:#}");

    // Five minutes in: everything on version 2, no routing left.
    advance(&l, MINUTE_MS);
    let d = wait_status(&l, &id, "Succeeded");
    assert_eq!(d["TrafficPercent"], json!(100), "{d:#}");
    assert!(d["Reason"].is_null(), "{d:#}");
    let a = alias(&l, &name);
    assert_eq!(a["FunctionVersion"], json!("2"), "{a}");
    assert!(a.get("RoutingConfig").is_none_or(Value::is_null), "{a}");
    let r = invoke_alias(&l, &name);
    assert_eq!(r.text(), "\"v2\"");
    assert_eq!(r.header("x-amz-executed-version").as_deref(), Some("2"));

    // Listed, newest first, for its function.
    let list = l.request(
        "GET",
        &format!("/nimbus/v1/deployments?function={name}"),
        &[],
        None,
    );
    assert_eq!(list.status, 200, "{}", list.text());
    let ids: Vec<Value> = list.json()["Deployments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["DeploymentId"].clone())
        .collect();
    assert_eq!(ids, vec![json!(id)]);
}

#[test]
fn a_failing_new_version_rolls_the_alias_back() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("broken");
    two_versions(&l, &name, OK_V1, FAILS);
    let d = started(&l, &name, json!({ "Type": "Linear10PercentEvery1Minute" }));
    let id = d["DeploymentId"].as_str().expect("id").to_string();
    assert_eq!(d["TrafficPercent"], json!(10), "{d:#}");
    // Invoke the alias until one invocation is routed to version 2: it fails, and is
    // counted under version 2.
    let mut routed = false;
    for _ in 0..ROUTED_TRIES_MAX {
        let r = invoke_alias(&l, &name);
        if r.header("x-amz-executed-version").as_deref() == Some("2") {
            assert!(r.header("x-amz-function-error").is_some(), "{}", r.text());
            routed = true;
            break;
        }
    }
    assert!(routed, "no invocation routed to version 2");
    let d = wait_status(&l, &id, "RolledBack");
    let reason = d["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("error rate of version 2"), "{d:#}");
    assert_eq!(d["TrafficPercent"], json!(0), "{d:#}");
    let a = alias(&l, &name);
    assert_eq!(a["FunctionVersion"], json!("1"), "{a}");
    assert!(a.get("RoutingConfig").is_none_or(Value::is_null), "{a}");
    // The clock moving on changes nothing any more.
    advance(&l, 30 * MINUTE_MS);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(alias(&l, &name)["FunctionVersion"], json!("1"));
    assert_eq!(deployment(&l, &id)["Status"], json!("RolledBack"));
}

#[test]
fn a_failing_pre_traffic_hook_leaves_the_alias_untouched() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("prehook");
    let hook = unique("prehook-fn");
    two_versions(&l, &name, OK_V1, OK_V2);
    hook_function(&l, &hook, HOOK_FAILS);
    let before = alias(&l, &name);
    let d = started(
        &l,
        &name,
        json!({ "Type": "AllAtOnce", "PreTrafficHook": hook }),
    );
    let id = d["DeploymentId"].as_str().expect("id").to_string();
    let d = wait_status(&l, &id, "RolledBack");
    let reason = d["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("PreTraffic hook {hook} failed")),
        "{d:#}"
    );
    // The hook got CodeDeploy's payload.
    assert!(
        reason.contains(&format!("\\\"DeploymentId\\\": \\\"{id}\\\"")),
        "{reason}"
    );
    assert!(reason.contains("LifecycleEventHookExecutionId"), "{reason}");
    assert_eq!(d["PreTrafficHook"]["Status"], json!("Failed"), "{d:#}");
    // Not even rewritten: same revision.
    assert_eq!(alias(&l, &name), before);
}

#[test]
fn hooks_that_succeed_run_before_and_after_the_traffic_moves() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("hooks");
    let hook = unique("hooks-fn");
    two_versions(&l, &name, OK_V1, OK_V2);
    hook_function(&l, &hook, HOOK_OK);
    let d = started(
        &l,
        &name,
        json!({ "Type": "AllAtOnce", "PreTrafficHook": hook, "PostTrafficHook": hook }),
    );
    let id = d["DeploymentId"].as_str().expect("id").to_string();
    let d = wait_status(&l, &id, "Succeeded");
    assert_eq!(d["PreTrafficHook"]["Status"], json!("Succeeded"), "{d:#}");
    assert_eq!(d["PostTrafficHook"]["Status"], json!("Succeeded"), "{d:#}");
    let statuses: Vec<&str> = d["Events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["Status"].as_str())
        .collect();
    let first = |s: &str| statuses.iter().position(|x| *x == s).unwrap_or(usize::MAX);
    assert!(
        first("PreTraffic") < first("Shifting")
            && first("Shifting") < first("PostTraffic")
            && first("PostTraffic") < first("Succeeded"),
        "{statuses:?}"
    );
    assert_eq!(alias(&l, &name)["FunctionVersion"], json!("2"));
}

#[test]
fn stop_and_supersede_roll_back() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("stop");
    two_versions(&l, &name, OK_V1, OK_V2);
    let first = started(&l, &name, json!({ "Type": "Canary10Percent30Minutes" }));
    let first_id = first["DeploymentId"].as_str().expect("id").to_string();
    // A second deployment of the alias rolls the first back before it starts.
    let second = started(
        &l,
        &name,
        json!({ "Type": "Linear10PercentEvery10Minutes" }),
    );
    let second_id = second["DeploymentId"].as_str().expect("id").to_string();
    let d = deployment(&l, &first_id);
    assert_eq!(d["Status"], json!("RolledBack"), "{d:#}");
    assert!(
        d["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("superseded by deployment {second_id}")),
        "{d:#}"
    );
    assert_eq!(second["TrafficPercent"], json!(10), "{second:#}");

    let r = send(
        &l,
        "POST",
        &format!("/nimbus/v1/deployments/{second_id}/stop"),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json();
    assert_eq!(d["Status"], json!("RolledBack"), "{d:#}");
    assert_eq!(d["Reason"], json!("stopped by request"));
    let a = alias(&l, &name);
    assert_eq!(a["FunctionVersion"], json!("1"), "{a}");
    assert!(a.get("RoutingConfig").is_none_or(Value::is_null), "{a}");
    // Stopping a finished deployment is a conflict.
    let again = send(
        &l,
        "POST",
        &format!("/nimbus/v1/deployments/{second_id}/stop"),
        json!({}),
    );
    assert_eq!(again.status, 409, "{}", again.text());
}

#[test]
fn bad_requests_are_refused() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("bad");
    two_versions(&l, &name, OK_V1, OK_V2);
    let r = start(
        &l,
        &name,
        json!({ "Type": "Canary50Percent1Minute" }),
        json!([]),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("Linear10PercentEvery10Minutes"),
        "{}",
        r.text()
    );
    let alarm = json!([{ "LogicalId": "A", "AlarmName": "a", "MetricName": "Errors",
        "Statistic": "p99", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold" }]);
    let r = start(&l, &name, json!({ "Type": "AllAtOnce" }), alarm);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("statistic"), "{}", r.text());
    let missing = l.request("GET", "/nimbus/v1/deployments/d-NOSUCHONE", &[], None);
    assert_eq!(missing.status, 404, "{}", missing.text());
    // Nothing moved.
    assert_eq!(alias(&l, &name)["FunctionVersion"], json!("1"));
}

#[test]
fn an_alarm_on_the_new_version_rolls_back() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("alarm");
    two_versions(&l, &name, OK_V1, OK_V2);
    // Any invocation of the new version trips it (Invocations Sum > 0 on `fn:live`, which
    // during a deployment means the new version).
    let alarm = json!([{ "LogicalId": "Busy", "AlarmName": "busy-new-version",
        "MetricName": "Invocations", "Resource": format!("{name}:live"), "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold" }]);
    let r = start(
        &l,
        &name,
        json!({ "Type": "Canary10Percent5Minutes" }),
        alarm,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["DeploymentId"].as_str().expect("id").to_string();
    let ok = l.invoke(&format!("{name}:2"), "{}");
    assert_eq!(ok.status, 200, "{}", ok.text());
    let d = wait_status(&l, &id, "RolledBack");
    assert!(
        d["Reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("alarm busy-new-version: Invocations Sum 1 > 0"),
        "{d:#}"
    );
    assert_eq!(alias(&l, &name)["FunctionVersion"], json!("1"));
}

#[test]
fn a_deployment_resumes_after_a_restart() {
    // Its own server: a restart must not disturb the other tests.
    let mut server = Server::start(bin(), &["--shell-pool", "1", "--manual-clock"]);
    let l = server.lambda();
    let name = unique("resume");
    two_versions(&l, &name, OK_V1, OK_V2);
    let d = started(&l, &name, json!({ "Type": "Canary10Percent5Minutes" }));
    let id = d["DeploymentId"].as_str().expect("id").to_string();
    server.restart();
    let l = server.lambda();
    // The clock restarts at real time; the step time stored is absolute.
    let d = deployment(&l, &id);
    assert_eq!(d["Status"], json!("Shifting"), "{d:#}");
    assert_eq!(d["TrafficPercent"], json!(10), "{d:#}");
    assert_eq!(
        alias(&l, &name)["RoutingConfig"]["AdditionalVersionWeights"]["2"],
        json!(0.1)
    );
    advance(&l, 5 * MINUTE_MS);
    wait_status(&l, &id, "Succeeded");
    assert_eq!(alias(&l, &name)["FunctionVersion"], json!("2"));
}

#[test]
fn the_clock_route_exists_only_under_manual_clock() {
    let _turn = clock_turn();
    let l = server().lambda();
    let r = l.request("GET", "/nimbus/v1/clock", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let before = r.json()["NowMs"].as_i64().expect("NowMs");
    assert_eq!(advance(&l, 0), before);
    assert_eq!(advance(&l, 1500), before + 1500);

    let plain = common::server().lambda();
    let r = send(
        &plain,
        "POST",
        "/nimbus/v1/clock",
        json!({ "AdvanceMs": 1 }),
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

/// Runs `nimbus deployments <args>` against the shared server.
fn cli(args: &[&str]) -> common::Finished {
    let mut cmd = std::process::Command::new(bin());
    cmd.arg("deployments")
        .args(args)
        .arg("--endpoint")
        .arg(&server().endpoint);
    common::run_with_deadline(cmd, "nimbus deployments", SETTLE_WITHIN)
}

#[test]
fn the_cli_lists_shows_watches_and_stops() {
    let _turn = clock_turn();
    let l = server().lambda();
    let name = unique("cli");
    two_versions(&l, &name, OK_V1, OK_V2);
    let d = started(&l, &name, json!({ "Type": "Linear10PercentEvery2Minutes" }));
    let id = d["DeploymentId"].as_str().expect("id").to_string();

    let list = cli(&["list", "--function", &name]);
    assert!(list.status.success(), "{}", list.stderr);
    assert!(list.stdout.contains("STATUS"), "{}", list.stdout);
    assert!(list.stdout.contains(&id), "{}", list.stdout);
    assert!(list.stdout.contains("10 %"), "{}", list.stdout);

    let show = cli(&["show", &id]);
    assert!(show.status.success(), "{}", show.stderr);
    assert!(
        show.stdout.contains("Linear10PercentEvery2Minutes"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("step 1/10"), "{}", show.stdout);

    let json_out = cli(&["show", &id, "--output", "json"]);
    let v: Value = serde_json::from_str(&json_out.stdout).expect("json");
    assert_eq!(v["DeploymentId"], json!(id));

    let stop = cli(&["stop", &id]);
    assert!(stop.status.success(), "{}", stop.stderr);
    assert!(
        stop.stdout.contains("stopped by request"),
        "{}",
        stop.stdout
    );
    // Watching a finished deployment returns at once; it did not succeed, so non-zero.
    let watch = cli(&["show", &id, "--watch"]);
    assert_eq!(watch.status.code(), Some(1), "{}", watch.stdout);
    assert!(watch.stdout.contains("RolledBack"), "{}", watch.stdout);
}
