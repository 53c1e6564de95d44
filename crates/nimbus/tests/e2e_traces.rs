//! End-to-end: X-Ray trace ids on every invocation, on real sandboxes. A sync Invoke's
//! `X-Amzn-Trace-Id` reaches the runtime (`Lambda-Runtime-Trace-Id` → `_X_AMZN_TRACE_ID`) with
//! the caller's Root and a new Parent, and a missing or malformed one starts a fresh trace;
//! SQS keeps a message's `AWSTraceHeader` (system attribute or the SendMessage request's
//! header); the gateway continues or starts a trace; and a trace id flows from an async
//! invoke through its OnSuccess queue to the function mapped to that queue.

mod common;

use common::lambda;
use nimbus_testkit::{Lambda, Response, python_zip, unique};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long an asynchronous chain (invoke → destination → mapping → logs) may take.
const CHAIN_WITHIN: Duration = Duration::from_secs(90);

/// Returns the `_X_AMZN_TRACE_ID` the function saw, and prints it with what the SQS event's
/// records carried, for the log assertions.
const REPORTER: &str = r#"import json, os
def handler(event, context):
    trace = os.environ.get('_X_AMZN_TRACE_ID')
    attrs = [r.get('attributes', {}).get('AWSTraceHeader') for r in (event or {}).get('Records', [])] if isinstance(event, dict) else []
    print('SEEN ' + json.dumps({'env': trace, 'records': attrs}))
    return {'env': trace, 'headers': (event or {}).get('headers') if isinstance(event, dict) else None}
"#;

fn create(l: &Lambda, name: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(REPORTER),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

/// A header with a Root that cannot occur by chance (`tag` in its random part).
fn caller_trace(tag: u32) -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    let root = format!("1-{now:08x}-{tag:08x}{nanos:08x}{:08x}", std::process::id());
    (
        root.clone(),
        format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1"),
    )
}

/// The fields of an X-Ray header, checked for X-Ray's shape.
fn fields(header: &str) -> (String, Option<String>, Option<String>) {
    let mut root = None;
    let mut parent = None;
    let mut sampled = None;
    for part in header.split(';') {
        match part.split_once('=') {
            Some(("Root", v)) => root = Some(v.to_string()),
            Some(("Parent", v)) => parent = Some(v.to_string()),
            Some(("Sampled", v)) => sampled = Some(v.to_string()),
            _ => panic!("unexpected field {part:?} in {header:?}"),
        }
    }
    let root = root.unwrap_or_else(|| panic!("no Root in {header:?}"));
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = root.split('-').collect();
    assert!(
        parts.len() == 3 && parts[0] == "1" && hex(parts[1], 8) && hex(parts[2], 24),
        "Root {root:?} is not 1-<8 hex>-<24 hex>"
    );
    if let Some(p) = &parent {
        assert!(hex(p, 16), "Parent {p:?} is not 16 hex digits");
    }
    (root, parent, sampled)
}

fn invoke_with(l: &Lambda, function: &str, headers: &[(&str, &str)]) -> Response {
    l.request(
        "POST",
        &format!("/2015-03-31/functions/{function}/invocations"),
        headers,
        Some(b"{}".to_vec()),
    )
}

/// `_X_AMZN_TRACE_ID` as the function saw it during a sync invoke.
fn seen_trace(r: &Response) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("x-amz-function-error").is_none(), "{}", r.text());
    r.json()["env"]
        .as_str()
        .unwrap_or_else(|| panic!("no trace in {}", r.text()))
        .to_string()
}

#[test]
fn a_sync_invoke_runs_in_the_callers_trace_with_a_new_parent() {
    let l = lambda();
    let name = unique("trace-sync");
    create(&l, &name);
    let (root, header) = caller_trace(1);
    let r = invoke_with(&l, &name, &[("x-amzn-trace-id", &header)]);
    let seen = seen_trace(&r);
    let (seen_root, parent, sampled) = fields(&seen);
    assert_eq!(seen_root, root, "{seen}");
    // The function's own segment is a new hop: a Parent of its own.
    let parent = parent.expect("a Parent");
    assert_ne!(parent, "53995c3f42cd8ad8");
    // The caller's sampling decision travels with the trace.
    assert_eq!(sampled.as_deref(), Some("1"));

    // A header with only a Root is continued, and the undecided sampling is 0 (PassThrough).
    let (root, _) = caller_trace(2);
    let r = invoke_with(&l, &name, &[("x-amzn-trace-id", &format!("Root={root}"))]);
    let (seen_root, parent, sampled) = fields(&seen_trace(&r));
    assert_eq!(seen_root, root);
    assert!(parent.is_some());
    assert_eq!(sampled.as_deref(), Some("0"));
    l.delete(&name);
}

#[test]
fn an_invoke_without_a_usable_trace_starts_a_fresh_one_each_time() {
    let l = lambda();
    let name = unique("trace-fresh");
    create(&l, &name);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut roots = Vec::new();
    for headers in [
        vec![],
        vec![],
        vec![("x-amzn-trace-id", "garbage")],
        vec![("x-amzn-trace-id", "Root=1-zz-0;Parent=53995c3f42cd8ad8")],
    ] {
        let seen = seen_trace(&invoke_with(&l, &name, &headers));
        let (root, parent, sampled) = fields(&seen);
        assert!(parent.is_some(), "{seen}");
        assert_eq!(sampled.as_deref(), Some("0"), "{seen}");
        // The root's time is the invocation's (X-Ray's epoch field).
        let epoch = u64::from_str_radix(&root[2..10], 16).expect("hex");
        assert!(epoch.abs_diff(now) < 600, "{seen}");
        roots.push(root);
    }
    let mut distinct = roots.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), roots.len(), "{roots:?}");
    l.delete(&name);
}

fn sqs(l: &Lambda, action: &str, body: Value) -> Value {
    let r = l.sqs(action, &body).expect("sqs");
    assert_eq!(r.status, 200, "{action}: {}", r.text());
    r.json()
}

fn sqs_with_header(l: &Lambda, action: &str, body: Value, trace: &str) -> Value {
    let target = format!("AmazonSQS.{action}");
    let r = l.request(
        "POST",
        "/",
        &[
            ("x-amz-target", target.as_str()),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amzn-trace-id", trace),
        ],
        Some(body.to_string().into_bytes()),
    );
    assert_eq!(r.status, 200, "{action}: {}", r.text());
    r.json()
}

/// (queue URL, queue ARN) of a new standard queue.
fn queue(l: &Lambda, name: &str) -> (String, String) {
    let url = sqs(l, "CreateQueue", json!({ "QueueName": name }))["QueueUrl"]
        .as_str()
        .expect("url")
        .to_string();
    let attrs = sqs(
        l,
        "GetQueueAttributes",
        json!({ "QueueUrl": url, "AttributeNames": ["QueueArn"] }),
    );
    let arn = attrs["Attributes"]["QueueArn"]
        .as_str()
        .expect("arn")
        .to_string();
    (url, arn)
}

/// The AWSTraceHeader of each message received (one receive asking for `names`).
fn received_traces(l: &Lambda, url: &str, names: Value) -> Vec<Option<String>> {
    let got = sqs(
        l,
        "ReceiveMessage",
        json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "MessageSystemAttributeNames": names }),
    );
    got["Messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    m["Attributes"]["AWSTraceHeader"]
                        .as_str()
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sqs_keeps_a_messages_trace_header_from_the_attribute_or_the_request_header() {
    let l = lambda();
    let (url, _) = queue(&l, &unique("trace-q"));
    let (_, by_attribute) = caller_trace(3);
    let (_, by_header) = caller_trace(4);

    // The system attribute, and its MD5 in the answer.
    let sent = sqs(
        &l,
        "SendMessage",
        json!({
            "QueueUrl": url,
            "MessageBody": "one",
            "MessageSystemAttributes": {
                "AWSTraceHeader": { "DataType": "String", "StringValue": by_attribute }
            },
        }),
    );
    let md5 = sent["MD5OfMessageSystemAttributes"].as_str().expect("md5");
    assert_eq!(md5.len(), 32, "{sent}");
    assert_eq!(
        received_traces(&l, &url, json!(["AWSTraceHeader"])),
        [Some(by_attribute.clone())]
    );

    // The request's X-Amzn-Trace-Id, for every message of a batch without its own; the
    // attribute wins where both are given.
    let (_, other) = caller_trace(5);
    let batch = sqs_with_header(
        &l,
        "SendMessageBatch",
        json!({
            "QueueUrl": url,
            "Entries": [
                { "Id": "a", "MessageBody": "two" },
                {
                    "Id": "b",
                    "MessageBody": "three",
                    "MessageSystemAttributes": {
                        "AWSTraceHeader": { "DataType": "String", "StringValue": other }
                    },
                },
            ],
        }),
        &by_header,
    );
    assert_eq!(
        batch["Successful"].as_array().map(Vec::len),
        Some(2),
        "{batch}"
    );
    assert!(
        batch["Successful"][0]
            .get("MD5OfMessageSystemAttributes")
            .is_none()
    );
    assert!(batch["Successful"][1]["MD5OfMessageSystemAttributes"].is_string());
    let mut traces = received_traces(&l, &url, json!(["All"]));
    traces.sort();
    let mut want = vec![Some(by_header.clone()), Some(other)];
    want.sort();
    assert_eq!(traces, want);

    // Not asked for: not returned.
    sqs_with_header(
        &l,
        "SendMessage",
        json!({ "QueueUrl": url, "MessageBody": "four" }),
        &by_header,
    );
    assert_eq!(received_traces(&l, &url, json!(["SentTimestamp"])), [None]);
}

#[test]
fn the_gateway_continues_or_starts_a_trace() {
    let server = common::server();
    let l = server.lambda();
    let name = unique("trace-url");
    create(&l, &name);
    let r = l.request(
        "POST",
        &format!("/2021-10-31/functions/{name}/url"),
        &[("content-type", "application/json")],
        Some(json!({ "AuthType": "NONE" }).to_string().into_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["FunctionUrl"].as_str().expect("url").to_string();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let gateway = Lambda::new(server.gateway_endpoint.as_deref().expect("gateway"));

    let (root, header) = caller_trace(6);
    let r = gateway.request(
        "GET",
        "/",
        &[("host", host), ("x-amzn-trace-id", &header)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let (seen_root, _, _) = fields(body["env"].as_str().expect("env"));
    assert_eq!(seen_root, root);
    // The event's headers carry the trace too, as API Gateway's do.
    let in_event = body["headers"]["x-amzn-trace-id"].as_str().expect("header");
    assert_eq!(fields(in_event).0, root);

    let r = gateway.request("GET", "/", &[("host", host)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let (started, _, _) = fields(body["env"].as_str().expect("env"));
    assert_eq!(
        fields(body["headers"]["x-amzn-trace-id"].as_str().expect("header")).0,
        started
    );
    assert_ne!(started, root);
    l.delete(&name);
}

/// `SEEN {...}` lines of a function's logs (waits until one is there).
fn seen_lines(l: &Lambda, function: &str) -> Vec<Value> {
    let deadline = Instant::now() + CHAIN_WITHIN;
    loop {
        let resp = l.request(
            "POST",
            "/",
            &[
                ("x-amz-target", "Logs_20140328.FilterLogEvents"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Some(
                json!({ "logGroupName": format!("/aws/lambda/{function}") })
                    .to_string()
                    .into_bytes(),
            ),
        );
        let seen: Vec<Value> = resp.json()["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .filter_map(|m| m.trim().strip_prefix("SEEN "))
                    .filter_map(|j| serde_json::from_str(j).ok())
                    .collect()
            })
            .unwrap_or_default();
        if !seen.is_empty() {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{function} logged nothing within {CHAIN_WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_trace_id_flows_from_an_async_invoke_through_a_queue_to_a_mapped_function() {
    let l = lambda();
    let a = unique("trace-a");
    let b = unique("trace-b");
    create(&l, &a);
    create(&l, &b);
    let (_, q_arn) = queue(&l, &unique("trace-chain"));

    // A's successes go to Q; Q is mapped to B.
    let r = l.request(
        "PUT",
        &format!("/2019-09-25/functions/{a}/event-invoke-config"),
        &[("content-type", "application/json")],
        Some(
            json!({ "DestinationConfig": { "OnSuccess": { "Destination": q_arn } } })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = l.request(
        "POST",
        "/2015-03-31/event-source-mappings/",
        &[("content-type", "application/json")],
        Some(
            json!({ "EventSourceArn": q_arn, "FunctionName": b, "BatchSize": 1 })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(r.status, 202, "{}", r.text());

    let (root, header) = caller_trace(7);
    let r = l.request(
        "POST",
        &format!("/2015-03-31/functions/{a}/invocations"),
        &[
            ("x-amz-invocation-type", "Event"),
            ("x-amzn-trace-id", &header),
        ],
        Some(b"{\"hop\": 1}".to_vec()),
    );
    assert_eq!(r.status, 202, "{}", r.text());

    // A ran in the caller's trace.
    let seen_a = seen_lines(&l, &a);
    let env_a = seen_a[0]["env"].as_str().expect("A's trace");
    assert_eq!(fields(env_a).0, root, "{seen_a:?}");

    // B got A's record through Q: the record carries the trace as AWSTraceHeader, and B's
    // invocation continues it.
    let seen_b = seen_lines(&l, &b);
    let line = &seen_b[0];
    let records = line["records"].as_array().expect("records");
    assert_eq!(records.len(), 1, "{line}");
    let attribute = records[0].as_str().expect("AWSTraceHeader");
    assert_eq!(fields(attribute).0, root, "{line}");
    let env_b = line["env"].as_str().expect("B's trace");
    let (b_root, b_parent, _) = fields(env_b);
    assert_eq!(b_root, root, "{line}");
    // B is a hop of its own.
    assert_ne!(b_parent, fields(env_a).1, "{line}");

    l.delete(&a);
    l.delete(&b);
}
