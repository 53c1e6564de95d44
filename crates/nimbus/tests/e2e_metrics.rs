//! End-to-end: `GET /metrics` on a real server counts exactly the invocations made
//! (successes, function errors, a cold then warm starts, a throttle by reserved concurrency
//! 0, an asynchronous event dropped after its only attempt, provisioned and spillover
//! invocations), reports queue depth, and `nimbus metrics` prints the same figures from
//! `/nimbus/v1/metrics/summary`. (Prometheus's own parser reads the text in
//! `tests/python/test_metrics.py`.)

mod common;

use common::{bin, run_with_deadline};
use nimbus_testkit::{Lambda, Response, Server, python_zip, unique};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long an asynchronous event or a provisioned environment may take in these tests.
const SETTLE_WITHIN: Duration = Duration::from_secs(60);

const HANDLER: &str = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('asked to fail')\n    return {'ok': True}\n";

/// This binary's own server: its account-wide counters see only these tests.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1"]))
}

fn send(l: &Lambda, method: &str, path: &str, body: Value) -> Response {
    l.request(
        method,
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

fn create(l: &Lambda, name: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(HANDLER),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn invoke(l: &Lambda, path_name: &str, payload: &str) -> Response {
    l.request(
        "POST",
        &format!("/2015-03-31/functions/{path_name}/invocations"),
        &[],
        Some(payload.as_bytes().to_vec()),
    )
}

fn scrape(l: &Lambda) -> String {
    let r = l.request("GET", "/metrics", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    r.text()
}

/// The value of the sample whose name and labels are exactly `series` (`name{…}`).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

fn labels(function: &str, version: &str) -> String {
    format!("{{function=\"{function}\",version=\"{version}\"}}")
}

/// Asserts each `(series, value)` of `want` in the exposition.
fn assert_samples(text: &str, want: &[(String, f64)]) {
    for (series, value) in want {
        assert_eq!(
            sample(text, series),
            Some(*value),
            "{series} in:\n{}",
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn settled(l: &Lambda, id: &str) -> Value {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let r = l.request("GET", &format!("/nimbus/v1/async-events/{id}"), &[], None);
        let e = r.json();
        if ["succeeded", "failed", "expired"].contains(&e["state"].as_str().unwrap_or_default()) {
            return e;
        }
        assert!(Instant::now() < deadline, "event {id} did not settle: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn counters_match_the_invocations_made() {
    let l = server().lambda();
    let name = unique("metrics");
    create(&l, &name);
    // Its dead-letter queue does not exist (set before any environment starts, so the change
    // costs no cold start).
    let missing = |what: &str| format!("arn:aws:sqs:us-east-1:000000000000:{}", unique(what));
    let r = send(
        &l,
        "PUT",
        &format!("/2015-03-31/functions/{name}/configuration"),
        json!({ "DeadLetterConfig": { "TargetArn": missing("no-dlq") } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // 3 successes and 2 function errors, one environment: 1 cold start, then warm.
    for i in 0..5 {
        let r = invoke(&l, &name, if i < 3 { "{}" } else { r#"{"fail":true}"# });
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("x-amz-function-error").is_some(), i >= 3);
    }
    // Reserved concurrency 0: throttled, never run.
    let off = unique("metrics-off");
    create(&l, &off);
    let r = send(
        &l,
        "PUT",
        &format!("/2017-10-31/functions/{off}/concurrency"),
        json!({ "ReservedConcurrentExecutions": 0 }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = invoke(&l, &off, "{}");
    assert_eq!(r.status, 429, "{}", r.text());
    // One asynchronous event that fails its only attempt: received, run once, dropped; its
    // dead-letter queue and its OnFailure destination do not exist, so both deliveries fail.
    let r = send(
        &l,
        "PUT",
        &format!("/2019-09-25/functions/{name}/event-invoke-config"),
        json!({
            "MaximumRetryAttempts": 0,
            "DestinationConfig": { "OnFailure": { "Destination": missing("no-dest") } }
        }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("x-amz-invocation-type", "Event")],
        Some(br#"{"fail":true}"#.to_vec()),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.header("x-amzn-requestid").expect("request id");
    assert_eq!(settled(&l, &id)["state"], json!("failed"));

    let text = scrape(&l);
    let latest = labels(&name, "$LATEST");
    let only = format!("{{function=\"{name}\"}}");
    let off_latest = labels(&off, "$LATEST");
    let duration_inf = format!(
        "lambda_duration_milliseconds_bucket{{function=\"{name}\",version=\"$LATEST\",le=\"+Inf\"}}"
    );
    assert_samples(
        &text,
        &[
            (format!("lambda_invocations_total{latest}"), 6.0),
            (format!("lambda_errors_total{latest}"), 3.0),
            (format!("lambda_throttles_total{latest}"), 0.0),
            (format!("nimbus_cold_starts_total{latest}"), 1.0),
            (format!("lambda_duration_milliseconds_count{latest}"), 6.0),
            (duration_inf, 6.0),
            (format!("lambda_provisioned_concurrency_invocations_total{latest}"), 0.0),
            (format!("lambda_invocations_total{off_latest}"), 0.0),
            (format!("lambda_throttles_total{off_latest}"), 1.0),
            (format!("nimbus_reserved_concurrency{{function=\"{off}\"}}"), 0.0),
            (
                "nimbus_throttles_by_reason_total{reason=\"ReservedFunctionConcurrentInvocationLimitExceeded\"}"
                    .to_string(),
                1.0,
            ),
            (format!("lambda_async_events_received_total{only}"), 1.0),
            (format!("lambda_async_events_dropped_total{only}"), 1.0),
            (format!("lambda_dead_letter_errors_total{only}"), 1.0),
            (format!("lambda_destination_delivery_failures_total{only}"), 1.0),
            ("nimbus_async_attempts_total".to_string(), 1.0),
            ("nimbus_metrics_folded_samples_total".to_string(), 0.0),
        ],
    );
    let sum = sample(&text, &format!("lambda_duration_milliseconds_sum{latest}"));
    assert!(sum.is_some_and(|s| s > 0.0), "{sum:?}");

    // The summary, through the CLI, says the same.
    let mut cmd = Command::new(bin());
    cmd.args(["metrics", &name, "--since", "15m", "--output", "json"])
        .env("NIMBUS_ENDPOINT", &server().endpoint);
    let run = run_with_deadline(cmd, "nimbus metrics", SETTLE_WITHIN);
    assert!(run.status.success(), "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).expect("summary JSON");
    let f = &summary["Functions"][0];
    assert_eq!(f["FunctionName"], json!(name));
    assert_eq!(
        (&f["Invocations"], &f["Errors"], &f["ColdStarts"]),
        (&json!(6), &json!(3), &json!(1)),
        "{summary}"
    );
    assert_eq!(f["ErrorPercent"], json!(50.0));
    assert!(f["DurationP99Ms"].as_f64() >= f["DurationP50Ms"].as_f64());
    assert_eq!(f["Versions"][0]["Version"], json!("$LATEST"));

    let mut cmd = Command::new(bin());
    cmd.args(["metrics", "--endpoint", &server().endpoint]);
    let run = run_with_deadline(cmd, "nimbus metrics", SETTLE_WITHIN);
    assert!(run.status.success(), "{}", run.stderr);
    let row = run
        .stdout
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{}", run.stdout));
    assert!(row.contains("50.0 %") && row.contains(" 6 "), "{row}");

    // A bad window is the caller's error.
    let r = l.request("GET", "/nimbus/v1/metrics/summary?since=2h", &[], None);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = l.request(
        "GET",
        &format!("/nimbus/v1/metrics/summary?function={}", unique("missing")),
        &[],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn provisioned_and_spillover_invocations_are_counted() {
    let l = server().lambda();
    let name = unique("metrics-pc");
    create(&l, &name);
    let r = send(
        &l,
        "POST",
        &format!("/2015-03-31/functions/{name}/versions"),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send(
        &l,
        "PUT",
        &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=1"),
        json!({ "ProvisionedConcurrentExecutions": 1 }),
    );
    assert!(r.status < 300, "{}", r.text());
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let c = l
            .request(
                "GET",
                &format!("/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=1"),
                &[],
                None,
            )
            .json();
        if c["Status"] == json!("READY") {
            break;
        }
        assert!(Instant::now() < deadline, "not ready: {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Version 1 runs on its provisioned environment; $LATEST spills over to on-demand.
    assert_eq!(invoke(&l, &format!("{name}:1"), "{}").status, 200);
    assert_eq!(invoke(&l, &name, "{}").status, 200);

    let text = scrape(&l);
    let v1 = labels(&name, "1");
    let latest = labels(&name, "$LATEST");
    assert_samples(
        &text,
        &[
            (format!("lambda_invocations_total{v1}"), 1.0),
            (
                format!("lambda_provisioned_concurrency_invocations_total{v1}"),
                1.0,
            ),
            (
                format!("lambda_provisioned_concurrency_spillover_invocations_total{v1}"),
                0.0,
            ),
            (format!("nimbus_cold_starts_total{v1}"), 0.0),
            (format!("lambda_invocations_total{latest}"), 1.0),
            (
                format!("lambda_provisioned_concurrency_invocations_total{latest}"),
                0.0,
            ),
            (
                format!("lambda_provisioned_concurrency_spillover_invocations_total{latest}"),
                1.0,
            ),
            (format!("nimbus_cold_starts_total{latest}"), 1.0),
            (
                format!("nimbus_provisioned_concurrency{{function=\"{name}\"}}"),
                1.0,
            ),
            (
                format!("lambda_provisioned_concurrent_executions{{function=\"{name}\"}}"),
                0.0,
            ),
            (
                format!("lambda_provisioned_concurrency_utilization{{function=\"{name}\"}}"),
                0.0,
            ),
        ],
    );
}

#[test]
fn queue_depth_is_reported() {
    let l = server().lambda();
    let queue = unique("metrics-q");
    let r = l
        .sqs("CreateQueue", &json!({ "QueueName": queue }))
        .expect("CreateQueue");
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["QueueUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for body in ["a", "b"] {
        let r = l
            .sqs(
                "SendMessage",
                &json!({ "QueueUrl": url, "MessageBody": body }),
            )
            .expect("SendMessage");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let text = scrape(&l);
    let q = format!("{{queue=\"{queue}\"}}");
    assert_samples(
        &text,
        &[
            (
                format!("sqs_approximate_number_of_messages_visible{q}"),
                2.0,
            ),
            (
                format!("sqs_approximate_number_of_messages_not_visible{q}"),
                0.0,
            ),
            (
                format!("sqs_approximate_number_of_messages_delayed{q}"),
                0.0,
            ),
        ],
    );
    let age = sample(
        &text,
        &format!("sqs_approximate_age_of_oldest_message_seconds{q}"),
    );
    assert!(age.is_some_and(|a| a >= 0.0), "{age:?}");
}

/// Every metric the Grafana dashboard in `deploy/` queries is one the server exports.
#[test]
fn the_dashboard_queries_only_exported_metrics() {
    let path = common::repo_root().join("deploy/grafana/nimbus-dashboard.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard")).expect("JSON");
    let exported: Vec<String> = scrape(&server().lambda())
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("expr");
            queried.extend(metric_names(expr));
        }
    }
    assert!(queried.len() > 20, "{queried:?}");
    for name in queried {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|base| exported.iter().any(|e| e == base))
            .unwrap_or(&name);
        assert!(
            exported.iter().any(|e| e == family),
            "the dashboard queries {name}, which /metrics does not export"
        );
    }
}

/// The `lambda_*`, `nimbus_*` and `sqs_*` identifiers of a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            ["lambda_", "nimbus_", "sqs_"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}
