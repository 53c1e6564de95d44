//! End-to-end: invoking functions through Lambda's Invoke API, with real sandboxes and the
//! shipped Python/Node bootstraps.

mod common;

use common::{lambda, report_line};
use nimbus_testkit::{bootstrap_zip, node_zip, python_zip, unique};
use serde_json::{Value, json};

const ECHO_PY: &str = r#"
import os
def handler(event, context):
    print("echo", event)
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": getattr(context.client_context, "custom", None) if context.client_context else None,
        "uid": os.getuid(),
        "cwd": os.getcwd(),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
        "region": os.environ.get("AWS_REGION"),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }
"#;

#[test]
fn python_invoke_returns_the_result_context_and_lambda_logs() {
    let l = lambda();
    let name = unique("py-echo");
    let created = l.create(
        &name,
        "python3.11",
        "app.handler",
        &python_zip(ECHO_PY),
        json!({ "Timeout": 7 }),
    );
    assert_eq!(created.status, 201, "{}", created.text());

    let first = l.invoke(&name, r#"{"hello": "world"}"#);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        first.header("x-amz-executed-version").as_deref(),
        Some("$LATEST")
    );
    assert!(first.header("x-amz-function-error").is_none());
    let body = first.json();
    let request_id = first.header("x-amzn-requestid").expect("request id");
    assert_eq!(body["event"], json!({"hello": "world"}));
    assert_eq!(body["request_id"], json!(request_id));
    assert_eq!(body["function_name"], json!(name));
    assert_eq!(body["version"], json!("$LATEST"));
    assert_eq!(body["memory"], json!("128"));
    assert_eq!(
        body["arn"],
        json!(format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}"
        ))
    );
    assert_eq!(body["log_group"], json!(format!("/aws/lambda/{name}")));
    assert!(
        body["log_stream"]
            .as_str()
            .unwrap_or_default()
            .contains("[$LATEST]")
    );
    let remaining = body["remaining_ms"].as_i64().unwrap_or(0);
    assert!(
        (6_000..=7_000).contains(&remaining),
        "remaining {remaining}"
    );
    assert_eq!(body["uid"], json!(993), "runs unprivileged");
    assert_eq!(body["cwd"], json!("/var/task"));
    assert_eq!(body["task_root"], json!("/var/task"));
    assert_eq!(body["runtime_api"], json!("127.0.0.1:9001"));
    assert_eq!(body["region"], json!("us-east-1"));
    assert!(
        body["trace"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Root=1-")
    );

    // Lambda's log lines, in order, with Init Duration on the cold start only.
    let tail = first.log_tail();
    let lines: Vec<&str> = tail.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("START "))
        .expect("START");
    assert_eq!(
        lines[start],
        format!("START RequestId: {request_id} Version: $LATEST")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INIT_START Runtime Version: python:3.")),
        "{tail}"
    );
    assert!(lines.contains(&"echo {'hello': 'world'}"), "{tail}");
    assert!(
        lines.contains(&format!("END RequestId: {request_id}").as_str()),
        "{tail}"
    );
    let report = report_line(&tail);
    assert!(
        report.starts_with(&format!("REPORT RequestId: {request_id}\tDuration: ")),
        "{report}"
    );
    assert!(
        report.contains("\tMemory Size: 128 MB\tMax Memory Used: "),
        "{report}"
    );
    assert!(
        report.contains("\tInit Duration: "),
        "cold start has Init Duration: {report}"
    );
    assert!(
        report.ends_with('\t'),
        "Lambda's REPORT ends with a tab: {report:?}"
    );

    let second = l.invoke(&name, "{}");
    assert_eq!(second.status, 200);
    let report = report_line(&second.log_tail());
    assert!(
        !report.contains("Init Duration"),
        "warm start has no Init Duration: {report}"
    );
    assert!(
        !second.log_tail().contains("INIT_START"),
        "warm start has no INIT_START"
    );
    l.delete(&name);
}

#[test]
fn function_errors_come_back_as_200_with_function_error() {
    let l = lambda();
    let name = unique("py-raise");
    let src =
        "def handler(event, context):\n    raise ValueError('bad input: ' + str(event.get('x')))\n";
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
    let r = l.invoke(&name, r#"{"x": 42}"#);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let body = r.json();
    assert_eq!(body["errorType"], json!("ValueError"));
    assert_eq!(body["errorMessage"], json!("bad input: 42"));
    assert!(
        body["stackTrace"].as_array().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        r.log_tail().contains("[ERROR] ValueError: bad input: 42"),
        "{}",
        r.log_tail()
    );
    // The environment survives a handled error.
    let again = l.invoke(&name, r#"{"x": 1}"#);
    assert!(!report_line(&again.log_tail()).contains("Init Duration"));
    l.delete(&name);
}

#[test]
fn init_errors_have_lambdas_types() {
    let l = lambda();
    let cases = [
        (
            "app.handler",
            "import no_such_module\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'app'",
        ),
        (
            "app.missing",
            "def handler(e, c):\n    return 1\n",
            "Runtime.HandlerNotFound",
            "Handler 'missing' missing on module 'app'",
        ),
        (
            "app.handler",
            "def handler(e, c)\n    return 1\n",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app'",
        ),
        (
            "nodot",
            "x = 1\n",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot'",
        ),
    ];
    for (handler, src, error_type, message) in cases {
        let name = unique("py-init");
        assert_eq!(
            l.create(&name, "python3.11", handler, &python_zip(src), json!({}))
                .status,
            201
        );
        let r = l.invoke(&name, "{}");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("x-amz-function-error").as_deref(),
            Some("Unhandled")
        );
        let body = r.json();
        assert_eq!(body["errorType"], json!(error_type), "{body}");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .starts_with(message),
            "{body}"
        );
        let tail = r.log_tail();
        assert!(
            tail.lines()
                .any(|l| l.starts_with("INIT_REPORT Init Duration: ")
                    && l.ends_with(&format!(
                        "\tPhase: init\tStatus: error\tError Type: {error_type}"
                    ))),
            "{tail}"
        );
        assert!(
            report_line(&tail).ends_with(&format!("Status: error\tError Type: {error_type}")),
            "{tail}"
        );
        l.delete(&name);
    }
}

#[test]
fn node_sync_async_callback_and_esm_handlers() {
    let l = lambda();
    // As on Lambda, a plain function's return value is ignored (it must return a promise or
    // call the callback); the response is `null` once the event loop is empty.
    let name = unique("node-sync");
    let src = "exports.handler = (event) => ({ kind: 'sync', event });";
    assert_eq!(
        l.create(
            &name,
            "nodejs20.x",
            "index.handler",
            &node_zip(src, false),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&name, r#"{"n": 7}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "null");
    l.delete(&name);
    let cases = [
        (
            "exports.handler = async (event, context) => ({ kind: 'async', event, fn: context.functionName });",
            false,
        ),
        (
            "exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { kind: 'callback', event }), 5); };",
            false,
        ),
        (
            "export const handler = async (event) => ({ kind: 'esm', event });",
            true,
        ),
    ];
    for (src, esm) in cases {
        let name = unique("node");
        let created = l.create(
            &name,
            "nodejs20.x",
            "index.handler",
            &node_zip(src, esm),
            json!({}),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let r = l.invoke(&name, r#"{"n": 7}"#);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.header("x-amz-function-error").is_none(),
            "{} {}",
            src,
            r.text()
        );
        let body = r.json();
        assert_eq!(body["event"], json!({"n": 7}), "{src}");
        l.delete(&name);
    }
    // A rejected promise is a function error with Node's error shape.
    let name = unique("node-err");
    let src = "exports.handler = async () => { throw new TypeError('nope'); };";
    assert_eq!(
        l.create(
            &name,
            "nodejs20.x",
            "index.handler",
            &node_zip(src, false),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&name, "{}");
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    assert_eq!(r.json()["errorType"], json!("TypeError"));
    assert_eq!(r.json()["errorMessage"], json!("nope"));
    l.delete(&name);
}

#[test]
fn payload_rules() {
    let l = lambda();
    let name = unique("py-size");
    let src = "def handler(event, context):\n    return {'type': type(event).__name__, 'len': len(str(event))}\n";
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
    let path = format!("/2015-03-31/functions/{name}/invocations");

    // Empty body: the function receives {} (our documented rule, as Lambda's SDKs send).
    let r = l.request("POST", &path, &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["type"], json!("dict"));

    // Exactly 6,291,456 bytes is accepted; one more byte is refused with 413 before running.
    let string_len = 6_291_456 - 2;
    let exact = format!("\"{}\"", "a".repeat(string_len));
    assert_eq!(exact.len(), 6_291_456);
    let r = l.request("POST", &path, &[], Some(exact.into_bytes()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["type"], json!("str"));
    let over = format!("\"{}\"", "a".repeat(string_len + 1));
    let r = l.request("POST", &path, &[], Some(over.into_bytes()));
    assert_eq!(r.status, 413);
    assert_eq!(r.error_type().as_deref(), Some("RequestTooLargeException"));

    // Not JSON.
    for bad in ["{", "{\"a\":1,}", "NaN", "\"\\ud800\""] {
        let r = l.request("POST", &path, &[], Some(bad.as_bytes().to_vec()));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(
            r.error_type().as_deref(),
            Some("InvalidRequestContentException"),
            "{bad}"
        );
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Could not parse request body into json")
        );
    }
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let r = l.request("POST", &path, &[], Some(deep.into_bytes()));
    assert_eq!(r.status, 400, "deep nesting is refused without crashing");
    let r = l.request("POST", &path, &[], Some(vec![0xff, 0xfe]));
    assert_eq!(r.status, 400, "invalid UTF-8");
    l.delete(&name);
}

#[test]
fn names_qualifiers_and_invocation_types() {
    let l = lambda();
    let name = unique("py-names");
    let src = "def handler(event, context):\n    return context.invoked_function_arn\n";
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
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    for (target, qualifier, invoked) in [
        (name.clone(), None, arn.clone()),
        (arn.clone(), None, arn.clone()),
        (format!("000000000000:function:{name}"), None, arn.clone()),
        (format!("{name}:$LATEST"), None, format!("{arn}:$LATEST")),
        (name.clone(), Some("$LATEST"), format!("{arn}:$LATEST")),
    ] {
        let mut path = format!("/2015-03-31/functions/{target}/invocations");
        if let Some(q) = qualifier {
            path.push_str(&format!("?Qualifier={}", q.replace('$', "%24")));
        }
        let r = l.request("POST", &path, &[], Some(b"{}".to_vec()));
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        assert_eq!(r.json(), json!(invoked), "{target}");
    }
    // Unknown function and unknown version: 404 with Lambda's message.
    let r = l.invoke("no-such-function", "{}");
    assert_eq!(r.status, 404);
    assert_eq!(r.error_type().as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(
        r.json()["Message"],
        json!(
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function"
        )
    );
    let r = l.invoke(&format!("{name}:7"), "{}");
    assert_eq!(r.status, 404);
    // Another account's ARN is never ours.
    let r = l.invoke(
        &format!("arn:aws:lambda:us-east-1:111111111111:function:{name}"),
        "{}",
    );
    assert_eq!(r.status, 404);
    // Bad names.
    for bad in ["a%2Fb", "%2E%2E", &"x".repeat(65)] {
        let r = l.invoke(bad, "{}");
        assert!(r.status == 400 || r.status == 404, "{bad}: {}", r.status);
    }
    // DryRun checks without running; Event is accepted (202) and queued durably.
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let r = l.request(
        "POST",
        &path,
        &[("x-amz-invocation-type", "DryRun")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 204);
    let r = l.request(
        "POST",
        &path,
        &[("x-amz-invocation-type", "Event")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.header("x-amzn-requestid").is_some());
    let r = l.request(
        "POST",
        &path,
        &[("x-amz-invocation-type", "Sometimes")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type().as_deref(), Some("ValidationException"));
    l.delete(&name);
}

#[test]
fn client_context_reaches_the_function() {
    use base64::Engine;
    let l = lambda();
    let name = unique("py-cc");
    assert_eq!(
        l.create(
            &name,
            "python3.11",
            "app.handler",
            &python_zip(ECHO_PY),
            json!({})
        )
        .status,
        201
    );
    let cc = json!({"custom": {"tenant": "t-1"}, "client": {}, "env": {}});
    let header = base64::engine::general_purpose::STANDARD.encode(cc.to_string());
    let r = l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("x-amz-client-context", &header)],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["client_context"], json!({"tenant": "t-1"}));
    let r = l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("x-amz-client-context", "not base64 json!")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(r.status, 400);
    l.delete(&name);
}

#[test]
fn custom_runtime_entrypoint_errors() {
    let l = lambda();
    // No bootstrap at all.
    let name = unique("prov-missing");
    let zip = python_zip("x = 1\n");
    assert_eq!(
        l.create(&name, "provided.al2023", "x", &zip, json!({}))
            .status,
        201
    );
    let r = l.invoke(&name, "{}");
    assert_eq!(
        r.json()["errorType"],
        json!("Runtime.InvalidEntrypoint"),
        "{}",
        r.text()
    );
    assert!(
        r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("Couldn't find valid bootstrap(s)")
    );
    l.delete(&name);
    // A bootstrap without the exec bit.
    let name = unique("prov-noexec");
    let zip = nimbus_testkit::zip(&[nimbus_testkit::File {
        name: "bootstrap",
        data: b"#!/bin/sh\necho hi\n",
        mode: 0o644,
    }]);
    assert_eq!(
        l.create(&name, "provided.al2023", "x", &zip, json!({}))
            .status,
        201
    );
    let r = l.invoke(&name, "{}");
    assert_eq!(
        r.json()["errorType"],
        json!("Runtime.InvalidEntrypoint"),
        "{}",
        r.text()
    );
    assert!(
        r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("permission denied")
    );
    l.delete(&name);
    // A bootstrap that exits at once.
    let name = unique("prov-exit");
    assert_eq!(
        l.create(
            &name,
            "provided.al2023",
            "x",
            &bootstrap_zip(b"#!/bin/sh\nexit 3\n"),
            json!({})
        )
        .status,
        201
    );
    let r = l.invoke(&name, "{}");
    assert_eq!(
        r.json()["errorType"],
        json!("Runtime.ExitError"),
        "{}",
        r.text()
    );
    assert!(
        r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Runtime exited with error: exit status 3")
    );
    let tail = r.log_tail();
    assert!(
        tail.contains("\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"),
        "{tail}"
    );
    l.delete(&name);
}

#[test]
fn logs_are_readable_through_the_cloudwatch_logs_api() {
    let l = lambda();
    let name = unique("py-logs");
    let src = "def handler(event, context):\n    print('line one')\n    print('line two')\n    return 1\n";
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
    let request_id = r.header("x-amzn-requestid").expect("id");
    let group = format!("/aws/lambda/{name}");
    // The log writer batches for up to 200 ms.
    let mut messages: Vec<String> = Vec::new();
    for _ in 0..50 {
        let resp = l.request(
            "POST",
            "/",
            &[
                ("x-amz-target", "Logs_20140328.FilterLogEvents"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Some(json!({ "logGroupName": group }).to_string().into_bytes()),
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
        messages = resp.json()["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if messages.iter().any(|m| m.starts_with("REPORT ")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let start = messages
        .iter()
        .position(|m| *m == format!("START RequestId: {request_id} Version: $LATEST"));
    let one = messages.iter().position(|m| m == "line one");
    let two = messages.iter().position(|m| m == "line two");
    let end = messages
        .iter()
        .position(|m| *m == format!("END RequestId: {request_id}"));
    assert!(
        start < one && one < two && two < end && start.is_some(),
        "{messages:?}"
    );
    let streams = l.request(
        "POST",
        "/",
        &[
            ("x-amz-target", "Logs_20140328.DescribeLogStreams"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        Some(json!({ "logGroupName": group }).to_string().into_bytes()),
    );
    let names: Vec<Value> = streams.json()["logStreams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(names.len(), 1, "one environment, one stream: {names:?}");
    let unknown = l.request(
        "POST",
        "/",
        &[
            ("x-amz-target", "Logs_20140328.FilterLogEvents"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        Some(
            json!({ "logGroupName": "/aws/lambda/nope" })
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["__type"], json!("ResourceNotFoundException"));
    l.delete(&name);
}
