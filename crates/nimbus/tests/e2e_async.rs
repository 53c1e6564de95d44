//! End-to-end: asynchronous invocations (`InvocationType: Event`) on real sandboxes, with
//! Lambda's delays scaled down (`--async-time-scale 0.01`: one minute takes 0.6 s): the 202
//! only after a durable accept, retries and their spacing, throttles and expiry, reserved
//! concurrency 0, function destinations with Lambda's invocation record, payload limits, and
//! accepted events surviving `kill -9`.

mod common;

use common::bin;
use nimbus_testkit::{Lambda, Response, Server, python_zip, unique};
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// 1/100 of Lambda's timing.
const TIME_SCALE: &str = "0.01";
/// Lambda's first retry delay (60 s) on that scale.
const FIRST_RETRY: Duration = Duration::from_millis(600);
/// Lambda's second retry delay (120 s) on that scale.
const SECOND_RETRY: Duration = Duration::from_millis(1200);
/// How long an event may take to reach a terminal state in these tests.
const SETTLE_WITHIN: Duration = Duration::from_secs(60);

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::start(
            bin(),
            &["--shell-pool", "1", "--async-time-scale", TIME_SCALE],
        )
    })
}

fn create(l: &Lambda, name: &str, source: &str, extra: Value) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(source),
        extra,
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn invoke_event(l: &Lambda, function: &str, payload: &str) -> Response {
    l.request(
        "POST",
        &format!("/2015-03-31/functions/{function}/invocations"),
        &[("x-amz-invocation-type", "Event")],
        Some(payload.as_bytes().to_vec()),
    )
}

fn accepted(l: &Lambda, function: &str, payload: &str) -> String {
    let r = invoke_event(l, function, payload);
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty());
    r.header("x-amzn-requestid").expect("request id")
}

fn event(l: &Lambda, id: &str) -> Value {
    let r = l.request("GET", &format!("/nimbus/v1/async-events/{id}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn settled(l: &Lambda, id: &str) -> Value {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let e = event(l, id);
        let state = e["state"].as_str().unwrap_or_default();
        if ["succeeded", "failed", "expired"].contains(&state) {
            return e;
        }
        assert!(Instant::now() < deadline, "event {id} did not settle: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn put_config(l: &Lambda, function: &str, body: Value) -> Response {
    l.request(
        "PUT",
        &format!("/2019-09-25/functions/{function}/event-invoke-config"),
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
}

/// Messages of a log group (waits until `want` of them match `filter`).
fn log_messages(l: &Lambda, group: &str, filter: &str, want: usize) -> Vec<String> {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let resp = l.request(
            "POST",
            "/",
            &[
                ("x-amz-target", "Logs_20140328.FilterLogEvents"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Some(json!({ "logGroupName": group }).to_string().into_bytes()),
        );
        let messages: Vec<String> = resp.json()["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .filter(|m| m.contains(filter))
                    .collect()
            })
            .unwrap_or_default();
        if messages.len() >= want || Instant::now() > deadline {
            return messages;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

const FAILS: &str = "import time\ndef handler(event, context):\n    print('ATTEMPT', context.aws_request_id, repr(time.time()))\n    raise ValueError('nope: ' + str(event.get('n')))\n";

const SINK: &str = "import json\ndef handler(event, context):\n    print('RECORD ' + json.dumps(event, sort_keys=True))\n    return 'stored'\n";

#[test]
fn a_failing_event_is_tried_three_times_at_lambdas_spacing_then_sent_on_failure() {
    let l = server().lambda();
    let name = unique("async-fails");
    let sink = unique("async-sink");
    create(&l, &name, FAILS, json!({}));
    create(&l, &sink, SINK, json!({}));
    let sink_arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{sink}");
    let r = put_config(
        &l,
        &name,
        json!({ "DestinationConfig": { "OnFailure": { "Destination": sink_arn } } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let id = accepted(&l, &name, r#"{"n": 7}"#);
    let e = settled(&l, &id);
    assert_eq!(e["state"], json!("failed"), "{e}");
    assert_eq!(e["attempts"], json!(3));
    assert_eq!(e["condition"], json!("RetriesExhausted"));
    assert_eq!(e["errorType"], json!("ValueError"));
    let record = &e["record"];
    assert_eq!(record["version"], json!("1.0"));
    assert_eq!(record["requestContext"]["requestId"], json!(id));
    assert_eq!(record["requestContext"]["approximateInvokeCount"], json!(3));
    assert_eq!(
        record["requestContext"]["functionArn"],
        json!(format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"
        ))
    );
    assert_eq!(record["requestPayload"], json!({ "n": 7 }));
    assert_eq!(
        record["responseContext"]["functionError"],
        json!("Unhandled")
    );
    assert_eq!(record["responsePayload"]["errorType"], json!("ValueError"));
    assert_eq!(
        e["delivered"],
        json!([{ "target": "onFailure", "arn": sink_arn }])
    );

    // Three attempts, with the same request id, about 1 and 2 (scaled) minutes apart.
    let attempts = log_messages(&l, &format!("/aws/lambda/{name}"), "ATTEMPT", 3);
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    let times: Vec<f64> = attempts
        .iter()
        .map(|m| {
            assert!(m.contains(&id), "{m}");
            m.split_whitespace()
                .last()
                .and_then(|t| t.parse().ok())
                .expect("time")
        })
        .collect();
    let gaps = [times[1] - times[0], times[2] - times[1]];
    assert!(
        gaps[0] >= FIRST_RETRY.as_secs_f64() * 0.9 && gaps[0] < FIRST_RETRY.as_secs_f64() * 5.0,
        "first retry after {:.3} s: {gaps:?}",
        gaps[0]
    );
    assert!(
        gaps[1] >= SECOND_RETRY.as_secs_f64() * 0.9 && gaps[1] < SECOND_RETRY.as_secs_f64() * 5.0,
        "second retry after {:.3} s: {gaps:?}",
        gaps[1]
    );

    // The destination function got exactly one record, Lambda's shape.
    let records = log_messages(&l, &format!("/aws/lambda/{sink}"), "RECORD ", 1);
    assert_eq!(records.len(), 1, "{records:?}");
    let got: Value =
        serde_json::from_str(records[0].trim_start_matches("RECORD ")).expect("record JSON");
    assert_eq!(
        got["requestContext"]["condition"],
        json!("RetriesExhausted")
    );
    assert_eq!(got["requestContext"]["requestId"], json!(id));
    assert_eq!(got["requestPayload"], json!({ "n": 7 }));
}

#[test]
fn retries_follow_the_configured_maximum_and_successes_go_on_success() {
    let l = server().lambda();
    let name = unique("async-once");
    let ok = unique("async-ok");
    let sink = unique("async-sink");
    create(&l, &name, FAILS, json!({}));
    create(
        &l,
        &ok,
        "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n",
        json!({}),
    );
    create(&l, &sink, SINK, json!({}));
    assert_eq!(
        put_config(&l, &name, json!({ "MaximumRetryAttempts": 0 })).status,
        200
    );
    let e = settled(&l, &accepted(&l, &name, r#"{"n": 1}"#));
    assert_eq!(
        (e["state"].clone(), e["attempts"].clone()),
        (json!("failed"), json!(1))
    );
    assert_eq!(
        e["delivered"],
        json!([]),
        "no destination, no DLQ: recorded only"
    );

    let sink_arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{sink}");
    assert_eq!(
        put_config(
            &l,
            &ok,
            json!({ "DestinationConfig": { "OnSuccess": { "Destination": sink_arn } } })
        )
        .status,
        200
    );
    let id = accepted(&l, &ok, r#"{"n": 21}"#);
    let e = settled(&l, &id);
    assert_eq!(e["state"], json!("succeeded"), "{e}");
    assert_eq!(e["attempts"], json!(1));
    assert_eq!(e["record"]["responsePayload"], json!({ "doubled": 42 }));
    assert_eq!(e["record"]["responseContext"]["statusCode"], json!(200));
    let records = log_messages(&l, &format!("/aws/lambda/{sink}"), "RECORD ", 1);
    let got: Value = serde_json::from_str(records[0].trim_start_matches("RECORD ")).unwrap();
    assert_eq!(got["requestContext"]["condition"], json!("Success"));
    assert_eq!(got["responsePayload"], json!({ "doubled": 42 }));
}

#[test]
fn reserved_concurrency_zero_sends_events_to_failure_handling_untried() {
    let l = server().lambda();
    let name = unique("async-off");
    create(&l, &name, FAILS, json!({}));
    let r = l.request(
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        &[("content-type", "application/json")],
        Some(br#"{"ReservedConcurrentExecutions": 0}"#.to_vec()),
    );
    assert_eq!(r.status, 200);
    let e = settled(&l, &accepted(&l, &name, "{}"));
    assert_eq!(e["state"], json!("failed"), "{e}");
    assert_eq!(e["attempts"], json!(0));
    assert_eq!(e["errorType"], json!("TooManyRequestsException"));
    assert_eq!(
        e["record"]["requestContext"]["approximateInvokeCount"],
        json!(0)
    );
    assert!(e["record"].get("responseContext").is_none(), "{e}");
    // The function never ran.
    assert!(log_messages(&l, &format!("/aws/lambda/{name}"), "ATTEMPT", 0).is_empty());
}

#[test]
fn throttled_events_wait_and_run_and_too_old_ones_expire_with_a_record() {
    let l = server().lambda();
    let name = unique("async-busy");
    create(
        &l,
        &name,
        "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 'done'\n",
        json!({ "Timeout": 30 }),
    );
    // One at a time: the others are throttled and retried with backoff.
    let r = l.request(
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        &[("content-type", "application/json")],
        Some(br#"{"ReservedConcurrentExecutions": 1}"#.to_vec()),
    );
    assert_eq!(r.status, 200);
    let ids: Vec<String> = (0..3)
        .map(|_| accepted(&l, &name, r#"{"sleep": 0.3}"#))
        .collect();
    let events: Vec<Value> = ids.iter().map(|id| settled(&l, id)).collect();
    assert!(
        events.iter().all(|e| e["state"] == json!("succeeded")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["systemRetries"].as_i64().unwrap_or(0) > 0),
        "some event must have been throttled: {events:?}"
    );
    assert!(
        events.iter().all(|e| e["attempts"] == json!(1)),
        "throttles are not attempts"
    );

    // With a 60 s (0.6 s scaled) maximum age, events stuck behind a long run expire.
    assert_eq!(
        put_config(&l, &name, json!({ "MaximumEventAgeInSeconds": 60 })).status,
        200
    );
    let long = accepted(&l, &name, r#"{"sleep": 4}"#);
    std::thread::sleep(Duration::from_millis(300));
    let stuck = accepted(&l, &name, r#"{"sleep": 0}"#);
    let e = settled(&l, &stuck);
    assert_eq!(e["state"], json!("expired"), "{e}");
    assert_eq!(e["condition"], json!("EventAgeExceeded"));
    assert_eq!(e["attempts"], json!(0));
    assert_eq!(
        e["record"]["requestContext"]["condition"],
        json!("EventAgeExceeded")
    );
    assert_eq!(settled(&l, &long)["state"], json!("succeeded"));
}

#[test]
fn bad_event_invokes_are_refused_and_enqueue_nothing() {
    let l = server().lambda();
    let name = unique("async-bad");
    create(&l, &name, FAILS, json!({}));
    let before = l
        .request("GET", "/nimbus/v1/async-events", &[], None)
        .json()["accepted"]
        .clone();
    // Over the 256 KiB default (a JSON string of that many bytes).
    let big = format!("\"{}\"", "x".repeat(262_144));
    let r = invoke_event(&l, &name, &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.error_type().as_deref(), Some("RequestTooLargeException"));
    let r = invoke_event(&l, &name, "{not json");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.error_type().as_deref(),
        Some("InvalidRequestContentException")
    );
    let r = invoke_event(&l, "no-such-function-anywhere", "{}");
    assert_eq!(r.status, 404);
    let r = l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations?Qualifier=9"),
        &[("x-amz-invocation-type", "Event")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 404);
    let after = l
        .request("GET", "/nimbus/v1/async-events", &[], None)
        .json()["accepted"]
        .clone();
    assert_eq!(before, after, "nothing was accepted");
    // Just under the limit is fine.
    let fits = format!("\"{}\"", "x".repeat(262_144 - 2));
    assert_eq!(invoke_event(&l, &name, &fits).status, 202);
    // A configuration of a missing qualifier, bad values, unsupported destinations.
    for (body, status) in [
        (json!({ "MaximumRetryAttempts": 3 }), 400),
        (json!({ "MaximumEventAgeInSeconds": 59 }), 400),
        (
            json!({ "DestinationConfig": { "OnFailure": { "Destination": "arn:aws:sns:us-east-1:000000000000:t" } } }),
            400,
        ),
    ] {
        let r = put_config(&l, &name, body.clone());
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    let r = l.request(
        "GET",
        &format!("/2019-09-25/functions/{name}/event-invoke-config"),
        &[],
        None,
    );
    assert_eq!(r.status, 404, "refused configurations were not stored");
}

#[test]
fn accepted_events_survive_kill_9_and_run_after_the_restart() {
    let mut server = Server::start(
        bin(),
        &["--shell-pool", "0", "--async-time-scale", TIME_SCALE],
    );
    let l = server.lambda();
    let name = unique("async-durable");
    create(
        &l,
        &name,
        "import time\ndef handler(event, context):\n    time.sleep(0.2)\n    print('RAN', event['i'])\n    return event['i']\n",
        json!({}),
    );
    let r = l.request(
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        &[("content-type", "application/json")],
        Some(br#"{"ReservedConcurrentExecutions": 2}"#.to_vec()),
    );
    assert_eq!(r.status, 200);
    let ids: Vec<String> = (0..20)
        .map(|i| accepted(&l, &name, &json!({ "i": i }).to_string()))
        .collect();
    // Some are running, most waiting: kill -9 now.
    server.kill9();
    server.start_again();
    let l = server.lambda();
    let mut ran = Vec::new();
    for id in &ids {
        let e = settled(&l, id);
        assert_eq!(e["state"], json!("succeeded"), "{e}");
        ran.push(e["record"]["responsePayload"].as_i64().expect("payload"));
    }
    ran.sort();
    assert_eq!(ran, (0..20).collect::<Vec<i64>>());
}
