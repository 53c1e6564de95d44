//! The template files of the repository load without errors or warnings:
//! `tests/templates/*/template.yaml` (the shapes of well-known public SAM examples) and the
//! example app the README runs (`examples/sam-app/template.yaml`).

use std::path::{Path, PathBuf};

use nimbus_api::stack::{EventSource, StackSpec};

use super::{ctx, function, warnings};
use crate::{CodeSource, Loaded, load};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_file(path: &Path) -> Loaded {
    match load(path, &ctx()) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

/// Every `template.yaml` under `tests/templates/`, sorted.
fn test_templates() -> Vec<PathBuf> {
    let dir = repo().join("tests/templates");
    let mut found: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path().join("template.yaml"))
            .filter(|p| p.is_file())
            .collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    found.sort();
    found
}

fn routes(spec: &StackSpec) -> Vec<String> {
    let mut out = Vec::new();
    for f in &spec.functions {
        for e in &f.events {
            let route = match &e.source {
                EventSource::Api { path, method } => format!("REST {method} {path}"),
                EventSource::HttpApi { path, method, .. } => format!(
                    "HTTP {} {}",
                    method.as_deref().unwrap_or("*"),
                    path.as_deref().unwrap_or("*")
                ),
                _ => continue,
            };
            out.push(format!("{route} → {}", f.logical_id));
        }
    }
    out
}

#[test]
fn every_template_loads_without_warnings() {
    let mut files = test_templates();
    assert!(files.len() >= 4, "{files:?}");
    files.push(repo().join("examples/sam-app/template.yaml"));
    for file in files {
        let loaded = load_file(&file);
        assert!(
            warnings(&loaded).is_empty(),
            "{}: {:#?}",
            file.display(),
            warnings(&loaded)
        );
        for (id, code) in &loaded.code {
            match code {
                CodeSource::Dir(d) => assert!(d.is_dir(), "{id}: {}", d.display()),
                other => panic!("{id}: {other:?}"),
            }
        }
    }
}

#[test]
fn hello_world() {
    let dir = repo().join("tests/templates/hello-world");
    let loaded = load_file(&dir.join("template.yaml"));
    let f = function(&loaded, "HelloWorldFunction");
    assert_eq!((f.timeout, f.handler.as_str()), (3, "app.lambda_handler"));
    assert_eq!(
        routes(&loaded.spec),
        ["REST GET /hello → HelloWorldFunction"]
    );
    assert_eq!(
        loaded.code["HelloWorldFunction"],
        CodeSource::Dir(dir.join("hello_world/"))
    );
    let values: Vec<&str> = loaded
        .spec
        .outputs
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(
        values,
        [
            "http://127.0.0.1:3000/hello/",
            "arn:aws:lambda:us-east-1:123456789012:function:app-HelloWorldFunction",
            "arn:aws:iam::123456789012:role/app-HelloWorldFunctionRole",
        ]
    );
}

#[test]
fn api_sqs_lambda() {
    let loaded = load_file(&repo().join("tests/templates/api-sqs-lambda/template.yaml"));
    assert_eq!(routes(&loaded.spec), ["HTTP POST /submit → SubmitFunction"]);
    let submit = function(&loaded, "SubmitFunction");
    assert_eq!(
        submit.environment["QUEUE_URL"],
        "http://127.0.0.1:9000/123456789012/app-SubmissionsQueue"
    );
    assert_eq!(
        submit.policies,
        Some(serde_json::json!([{"SQSSendMessagePolicy": {"QueueName": "app-SubmissionsQueue"}}]))
    );
    let worker = function(&loaded, "WorkerFunction");
    match &worker.events[0].source {
        EventSource::Sqs {
            queue_arn,
            batch_size,
            function_response_types,
            ..
        } => {
            assert_eq!(
                queue_arn,
                "arn:aws:sqs:us-east-1:123456789012:app-SubmissionsQueue"
            );
            assert_eq!(*batch_size, Some(5));
            assert_eq!(function_response_types, &["ReportBatchItemFailures"]);
        }
        other => panic!("{other:?}"),
    }
    let queue = &loaded.spec.queues[1];
    assert_eq!(queue.logical_id, "SubmissionsQueue");
    assert_eq!(
        queue.attributes["RedrivePolicy"],
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:app-SubmissionsDeadLetterQueue","maxReceiveCount":5}"#
    );
    assert_eq!(loaded.spec.outputs[0].value, "http://127.0.0.1:3000/submit");
}

#[test]
fn scheduled() {
    let loaded = load_file(&repo().join("tests/templates/scheduled/template.yaml"));
    let noon = &function(&loaded, "NoonReportFunction").events[0].source;
    assert_eq!(
        noon,
        &EventSource::Schedule {
            expression: "cron(0 12 * * ? *)".into(),
            timezone: None,
            input: Some(r#"{"report": "daily"}"#.into()),
            enabled: true,
            v2: false,
        }
    );
    let morning = &function(&loaded, "MorningDigestFunction").events[0].source;
    assert_eq!(
        morning,
        &EventSource::Schedule {
            expression: "cron(30 8 ? * MON-FRI *)".into(),
            timezone: Some("Europe/Paris".into()),
            input: Some(r#"{"report": "digest"}"#.into()),
            enabled: true,
            v2: true,
        }
    );
}

#[test]
fn safe_deployment() {
    let loaded = load_file(&repo().join("tests/templates/safe-deployment/template.yaml"));
    let checkout = function(&loaded, "CheckoutFunction");
    assert_eq!(checkout.auto_publish_alias.as_deref(), Some("live"));
    let dp = checkout.deployment_preference.clone().unwrap_or_default();
    assert_eq!(dp.kind, "Linear10PercentEvery1Minute");
    assert_eq!(dp.alarms, ["CheckoutAliasErrorsAlarm"]);
    assert_eq!(
        dp.pre_traffic_hook.as_deref(),
        Some("CodeDeployHook_app-pre-traffic")
    );
    let hook = function(&loaded, "PreTrafficCheckFunction");
    assert_eq!(hook.function_name, "CodeDeployHook_app-pre-traffic");
    assert_eq!(hook.deployment_preference, None);
    assert_eq!(
        hook.environment["TARGET_VERSION"],
        "arn:aws:lambda:us-east-1:123456789012:function:app-CheckoutFunction:$LATEST"
    );
    let alarm = &loaded.spec.alarms[0];
    assert_eq!(alarm.resource.as_deref(), Some("app-CheckoutFunction:live"));
    assert_eq!(alarm.function_name.as_deref(), Some("app-CheckoutFunction"));
    assert_eq!((alarm.threshold, alarm.evaluation_periods), (0.0, 2));
}

#[test]
fn the_example_app() {
    let loaded = load_file(&repo().join("examples/sam-app/template.yaml"));
    let spec = &loaded.spec;
    let ids: Vec<&str> = spec
        .functions
        .iter()
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "CreateOrderFunction",
            "HelloFunction",
            "ProcessOrderFunction",
            "TickFunction"
        ]
    );
    assert_eq!(
        routes(spec),
        [
            "HTTP POST /orders → CreateOrderFunction",
            "HTTP GET /hello/{name} → HelloFunction",
        ]
    );
    let hello = function(&loaded, "HelloFunction");
    assert_eq!(hello.runtime, "python3.12");
    assert_eq!(hello.auto_publish_alias.as_deref(), Some("live"));
    assert_eq!(
        hello
            .deployment_preference
            .as_ref()
            .map(|d| d.kind.as_str()),
        Some("Canary10Percent5Minutes")
    );
    let queues: Vec<&str> = spec.queues.iter().map(|q| q.queue_name.as_str()).collect();
    assert_eq!(
        queues,
        [
            "app-OrdersDeadLetterQueue",
            "app-OrdersQueue",
            "app-TickDeadLetterQueue"
        ]
    );
    let outputs: Vec<(&str, &str)> = spec
        .outputs
        .iter()
        .map(|o| (o.key.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        outputs,
        [
            ("ApiUrl", "http://127.0.0.1:3000/"),
            (
                "OrdersQueueUrl",
                "http://127.0.0.1:9000/123456789012/app-OrdersQueue"
            ),
            (
                "OrdersDeadLetterQueueUrl",
                "http://127.0.0.1:9000/123456789012/app-OrdersDeadLetterQueue"
            ),
            (
                "HelloAliasArn",
                "arn:aws:lambda:us-east-1:123456789012:function:app-HelloFunction:live"
            ),
        ]
    );
    let tick = function(&loaded, "TickFunction");
    assert!(matches!(
        &tick.events[0].source,
        EventSource::Schedule { expression, v2: false, .. } if expression == "rate(1 minute)"
    ));
    // A schedule invokes asynchronously: failures go to a DLQ, retries are bounded.
    assert_eq!(
        tick.dead_letter_target_arn.as_deref(),
        Some("arn:aws:sqs:us-east-1:123456789012:app-TickDeadLetterQueue")
    );
    assert_eq!(tick.reserved_concurrency, Some(1));
    assert!(tick.event_invoke_config.is_some());
}

#[test]
fn only_regular_files_within_the_cap_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A device or a FIFO would fill memory or block forever if it were read.
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for path in [Path::new("/dev/zero"), dir.path(), fifo.as_path()] {
        let e = load(path, &ctx()).expect_err("not a regular file");
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; crate::limits::TEMPLATE_BYTES_MAX + 1]).expect("write");
    let e = load(&big, &ctx()).expect_err("over the cap");
    assert!(
        matches!(e.kind, crate::diag::ErrorKind::TooLarge { .. }),
        "{e}"
    );
    std::fs::write(&big, [0xff, 0xfe, b'\n']).expect("write");
    let e = load(&big, &ctx()).expect_err("binary");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}
