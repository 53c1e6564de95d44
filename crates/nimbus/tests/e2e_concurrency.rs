//! End-to-end: the concurrency machinery seen from outside, on real sandboxes: the scaling
//! rate, provisioned environments (kept warm past the keep-alive, replaced when they die,
//! split over a weighted alias, following an alias that moves, Init beyond 10 s, failures
//! reported), the engine counters, and request validation of the new calls.

mod common;

use common::{bin, lambda, processes_with_marker};
use nimbus_testkit::{Lambda, Response, Server, python_zip, unique};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a provisioned configuration may take to become READY here (a few Python Inits).
const READY_WITHIN: Duration = Duration::from_secs(60);

fn send(l: &Lambda, method: &str, path: &str, body: Value) -> Response {
    l.request(
        method,
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

fn create(l: &Lambda, name: &str, source: &str, marker: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(source),
        json!({ "Environment": { "Variables": { "NIMBUS_TEST_MARKER": marker } } }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn publish(l: &Lambda, name: &str) -> String {
    let r = send(
        l,
        "POST",
        &format!("/2015-03-31/functions/{name}/versions"),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["Version"].as_str().unwrap_or_default().to_string()
}

fn put_provisioned(l: &Lambda, name: &str, qualifier: &str, n: u32) -> Response {
    send(
        l,
        "PUT",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={qualifier}"),
        json!({ "ProvisionedConcurrentExecutions": n }),
    )
}

fn get_provisioned(l: &Lambda, name: &str, qualifier: &str) -> Value {
    let r = l.request(
        "GET",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={qualifier}"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Polls until the configuration leaves IN_PROGRESS (or the deadline passes).
fn wait_settled(l: &Lambda, name: &str, qualifier: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let c = get_provisioned(l, name, qualifier);
        if c["Status"] != json!("IN_PROGRESS") || Instant::now() > deadline {
            return c;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One value of a process's environment.
fn process_env(pid: u32, key: &str) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{key}=");
    env.split(|b| *b == 0).find_map(|kv| {
        std::str::from_utf8(kv)
            .ok()?
            .strip_prefix(&prefix)
            .map(str::to_string)
    })
}

/// The environments (log streams) running processes of `marker`, with their version.
fn environments(marker: &str) -> BTreeSet<(String, String)> {
    processes_with_marker(marker)
        .into_iter()
        .filter_map(|pid| {
            Some((
                process_env(pid, "AWS_LAMBDA_FUNCTION_VERSION")?,
                process_env(pid, "AWS_LAMBDA_LOG_STREAM_NAME")?,
            ))
        })
        .collect()
}

fn count_version(envs: &BTreeSet<(String, String)>, version: &str) -> usize {
    envs.iter().filter(|(v, _)| v == version).count()
}

/// Polls `check` until it holds (or fails with `what` after `within`).
fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stats(l: &Lambda) -> Value {
    let r = l.request("GET", "/nimbus/v1/stats", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Invokes `name` `n` times at once; returns the responses.
fn burst(endpoint: &str, name: &str, n: usize, payload: &str) -> Vec<Response> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (endpoint, name, payload) =
                (endpoint.to_string(), name.to_string(), payload.to_string());
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                let l = Lambda::new(&endpoint);
                barrier.wait();
                l.invoke(&name, &payload)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("invoke thread"))
        .collect()
}

const SLEEPER: &str = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'ok'\n";

#[test]
fn scaling_rate_throttles_new_environments_beyond_the_budget() {
    // One new environment per 10 s: the second concurrent request needs a second one.
    let server = Server::start(bin(), &["--shell-pool", "0", "--scaling-per-10s", "1"]);
    let l = server.lambda();
    let name = unique("scale");
    create(&l, &name, SLEEPER, &unique("m"));

    let first = burst(&server.endpoint, &name, 2, r#"{"sleep": 1.5}"#);
    let mut statuses: Vec<u16> = first.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 429]);
    let throttled = first.iter().find(|r| r.status == 429).expect("a 429");
    assert_eq!(
        throttled.error_type().as_deref(),
        Some("TooManyRequestsException")
    );
    assert_eq!(
        throttled.json()["Reason"],
        json!("FunctionInvocationRateLimitExceeded")
    );
    assert!(throttled.header("retry-after").is_some());

    // A warm environment needs no budget.
    assert_eq!(l.invoke(&name, "{}").status, 200);

    // With a reservation the same limit carries the reserved reason.
    let r = send(
        &l,
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        json!({ "ReservedConcurrentExecutions": 5 }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let second = burst(&server.endpoint, &name, 2, r#"{"sleep": 1}"#);
    let reasons: Vec<Value> = second
        .iter()
        .filter(|r| r.status == 429)
        .map(|r| r.json()["Reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        vec![json!("ReservedFunctionInvocationRateLimitExceeded")],
        "statuses: {:?}",
        second.iter().map(|r| r.status).collect::<Vec<_>>()
    );

    let s = stats(&l);
    assert_eq!(
        s["throttles"]["FunctionInvocationRateLimitExceeded"],
        json!(1)
    );
    assert_eq!(
        s["throttles"]["ReservedFunctionInvocationRateLimitExceeded"],
        json!(1)
    );
    assert_eq!(s["coldStarts"], json!(1), "{s}");
    assert!(s["warmStarts"].as_u64().unwrap_or(0) >= 2, "{s}");
    let f = s["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == json!(name)).cloned())
        .expect("function counters");
    assert_eq!(f["reserved"], json!(5));
    assert_eq!(f["inFlight"], json!(0));
}

#[test]
fn provisioned_environments_stay_warm_and_are_replaced_when_they_die() {
    // A 1 s keep-alive: on-demand environments go quickly, provisioned ones must not.
    let server = Server::start(bin(), &["--shell-pool", "0", "--keep-alive-secs", "1"]);
    let l = server.lambda();
    let name = unique("pc-warm");
    let marker = unique("m");
    create(&l, &name, SLEEPER, &marker);
    assert_eq!(publish(&l, &name), "1");
    let put = put_provisioned(&l, &name, "1", 2);
    assert_eq!(put.status, 202, "{}", put.text());
    let ready = wait_settled(&l, &name, "1", READY_WITHIN);
    assert_eq!(ready["Status"], json!("READY"), "{ready}");
    let before = environments(&marker);
    assert_eq!(count_version(&before, "1"), 2, "{before:?}");

    // An on-demand environment of $LATEST comes and goes; the provisioned ones stay.
    assert_eq!(l.invoke(&name, "{}").status, 200);
    eventually(
        "the on-demand environment is reaped",
        Duration::from_secs(15),
        || count_version(&environments(&marker), "$LATEST") == 0,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        environments(&marker),
        before,
        "provisioned environments were reaped"
    );
    let s = stats(&l);
    assert_eq!(s["provisionedEnvironments"], json!(2), "{s}");

    // Invocations use them (no Init Duration) and count as provisioned.
    let r = l.invoke(&format!("{name}:1"), "{}");
    assert_eq!(r.status, 200);
    assert!(!r.log_tail().contains("Init Duration"), "{}", r.log_tail());
    assert_eq!(stats(&l)["provisionedInvocations"], json!(1));

    // Kill one: it is replaced.
    let victim = before.iter().next().expect("an environment").1.clone();
    for pid in processes_with_marker(&marker) {
        if process_env(pid, "AWS_LAMBDA_LOG_STREAM_NAME").as_deref() == Some(victim.as_str()) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
    eventually("the dead environment is replaced", READY_WITHIN, || {
        let now = environments(&marker);
        count_version(&now, "1") == 2 && !now.iter().any(|(_, s)| *s == victim)
    });
    let c = wait_settled(&l, &name, "1", READY_WITHIN);
    assert_eq!(c["Status"], json!("READY"), "{c}");
    assert_eq!(c["AllocatedProvisionedConcurrentExecutions"], json!(2));

    // Deleting the configuration hands them back to on-demand, and the keep-alive reaps them.
    let d = l.request(
        "DELETE",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=1"),
        &[],
        None,
    );
    assert_eq!(d.status, 204, "{}", d.text());
    eventually(
        "released environments are reaped",
        Duration::from_secs(15),
        || environments(&marker).is_empty(),
    );
}

#[test]
fn provisioned_concurrency_follows_a_weighted_alias_and_its_moves() {
    let server = Server::start(bin(), &["--shell-pool", "0", "--keep-alive-secs", "1"]);
    let l = server.lambda();
    let name = unique("pc-alias");
    let marker = unique("m");
    create(&l, &name, SLEEPER, &marker);
    publish(&l, &name);
    let u = send(
        &l,
        "PUT",
        &format!("/2015-03-31/functions/{name}/configuration"),
        json!({ "Timeout": 5 }),
    );
    assert_eq!(u.status, 200);
    assert_eq!(publish(&l, &name), "2");
    let a = send(
        &l,
        "POST",
        &format!("/2015-03-31/functions/{name}/aliases"),
        json!({ "Name": "live", "FunctionVersion": "1",
                "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.5 } } }),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(put_provisioned(&l, &name, "live", 4).status, 202);
    let c = wait_settled(&l, &name, "live", READY_WITHIN);
    assert_eq!(c["Status"], json!("READY"), "{c}");
    // Split by the alias's weights.
    let envs = environments(&marker);
    assert_eq!(
        (count_version(&envs, "1"), count_version(&envs, "2")),
        (2, 2),
        "{envs:?}"
    );

    // The alias moves to version 2 only: the configuration follows it.
    let m = send(
        &l,
        "PUT",
        &format!("/2015-03-31/functions/{name}/aliases/live"),
        json!({ "FunctionVersion": "2", "RoutingConfig": { "AdditionalVersionWeights": {} } }),
    );
    assert_eq!(m.status, 200, "{}", m.text());
    eventually(
        "4 environments of version 2 and none of 1",
        READY_WITHIN,
        || {
            let envs = environments(&marker);
            count_version(&envs, "2") == 4 && count_version(&envs, "1") == 0
        },
    );
    assert_eq!(
        wait_settled(&l, &name, "live", READY_WITHIN)["Status"],
        json!("READY")
    );

    // A version behind a provisioned alias cannot go; the alias and its config can.
    let del = l.request(
        "DELETE",
        &format!("/2015-03-31/functions/{name}?Qualifier=2"),
        &[],
        None,
    );
    assert_eq!(del.status, 409, "{}", del.text());
    let del = l.request(
        "DELETE",
        &format!("/2015-03-31/functions/{name}/aliases/live"),
        &[],
        None,
    );
    assert_eq!(del.status, 204);
    let gone = l.request(
        "GET",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=live"),
        &[],
        None,
    );
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.error_type().as_deref(),
        Some("ProvisionedConcurrencyConfigNotFoundException")
    );
    eventually(
        "released environments are reaped",
        Duration::from_secs(15),
        || environments(&marker).is_empty(),
    );
}

#[test]
fn provisioned_init_may_exceed_10_s_and_init_failures_are_reported() {
    let l = lambda();
    // On demand this Init would be cut at 10 s; provisioned it may take up to 130 s.
    let slow = unique("pc-slow");
    create(
        &l,
        &slow,
        "import time\ntime.sleep(11)\ndef handler(event, context):\n    return 'ok'\n",
        &unique("m"),
    );
    publish(&l, &slow);
    let broken = unique("pc-broken");
    create(
        &l,
        &broken,
        "raise RuntimeError('cannot start')\ndef handler(event, context):\n    return 'ok'\n",
        &unique("m"),
    );
    publish(&l, &broken);
    let started = Instant::now();
    assert_eq!(put_provisioned(&l, &slow, "1", 1).status, 202);
    assert_eq!(put_provisioned(&l, &broken, "1", 1).status, 202);

    let failed = wait_settled(&l, &broken, "1", READY_WITHIN);
    assert_eq!(failed["Status"], json!("FAILED"), "{failed}");
    let reason = failed["StatusReason"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot start"), "{reason}");
    assert_eq!(failed["AllocatedProvisionedConcurrentExecutions"], json!(0));

    assert_eq!(
        get_provisioned(&l, &slow, "1")["Status"],
        json!("IN_PROGRESS")
    );
    let ready = wait_settled(&l, &slow, "1", READY_WITHIN);
    assert_eq!(ready["Status"], json!("READY"), "{ready}");
    assert!(started.elapsed() >= Duration::from_secs(11));
    let r = l.invoke(&format!("{slow}:1"), "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.log_tail().contains("Init Duration"), "{}", r.log_tail());
}

#[test]
fn new_calls_validate_their_input_and_change_nothing() {
    let l = lambda();
    let name = unique("val");
    create(&l, &name, SLEEPER, &unique("m"));
    publish(&l, &name);
    let alias = |body: Value| {
        send(
            &l,
            "POST",
            &format!("/2015-03-31/functions/{name}/aliases"),
            body,
        )
    };
    for (body, error) in [
        (
            json!({ "Name": "w", "FunctionVersion": "1",
                    "RoutingConfig": { "AdditionalVersionWeights": { "2": -0.5 } } }),
            "ValidationException",
        ),
        (
            json!({ "Name": "$LATEST", "FunctionVersion": "1" }),
            "ValidationException",
        ),
        (
            json!({ "Name": "42", "FunctionVersion": "1" }),
            "ValidationException",
        ),
        (json!({ "Name": "ok" }), "ValidationException"),
        (
            json!({ "Name": "ok", "FunctionVersion": "$LATEST",
                    "RoutingConfig": { "AdditionalVersionWeights": { "1": 0.5 } } }),
            "InvalidParameterValueException",
        ),
    ] {
        let r = alias(body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some(error),
            "{body}: {}",
            r.text()
        );
    }
    let listed = l.request(
        "GET",
        &format!("/2015-03-31/functions/{name}/aliases"),
        &[],
        None,
    );
    assert_eq!(listed.json()["Aliases"], json!([]));

    let no_qualifier = l.request(
        "GET",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency"),
        &[],
        None,
    );
    assert_eq!(no_qualifier.status, 400, "{}", no_qualifier.text());
    let zero = put_provisioned(&l, &name, "1", 0);
    assert_eq!(zero.status, 400, "{}", zero.text());
    assert_eq!(zero.error_type().as_deref(), Some("ValidationException"));
    let missing_version = put_provisioned(&l, &name, "9", 1);
    assert_eq!(missing_version.status, 404, "{}", missing_version.text());
    let negative = send(
        &l,
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        json!({ "ReservedConcurrentExecutions": -1 }),
    );
    assert_eq!(negative.status, 400, "{}", negative.text());
    let huge = send(
        &l,
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        json!({ "ReservedConcurrentExecutions": 9_000_000_000_i64 }),
    );
    assert_eq!(huge.status, 400, "{}", huge.text());
    let concurrency = l.request(
        "GET",
        &format!("/2019-09-30/functions/{name}/concurrency"),
        &[],
        None,
    );
    assert_eq!(concurrency.json(), json!({}));
    let listed = l.request(
        "GET",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?List=ALL"),
        &[],
        None,
    );
    assert_eq!(listed.json()["ProvisionedConcurrencyConfigs"], json!([]));
    let unknown = l.request(
        "GET",
        "/2019-09-30/functions/no-such-function/concurrency",
        &[],
        None,
    );
    assert_eq!(unknown.status, 404);
}
