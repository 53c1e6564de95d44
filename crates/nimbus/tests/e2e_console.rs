//! End-to-end: the web console in headless Chromium. A real server gets real data (a function
//! invoked a known number of times, a queue holding a known number of messages); then
//! `tests/console/console.test.mjs` (playwright-core driving Debian's `chromium`) checks that
//! the pages render, that the charts count those invocations, and that the live log tail shows
//! a new invocation. Screenshots land in `target/console-screenshots/` as artifacts.
//!
//! Needs `node`, `tests/console/node_modules` and `/usr/bin/chromium`:
//! `scripts/setup-test-env.sh` installs them (and `.ci/run` runs it).

mod common;

use common::{bin, repo_root, run_with_deadline, tail_lines};
use nimbus_testkit::{Server, python_zip, unique};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

/// Invocations made before the browser looks.
const INVOCATIONS: usize = 7;
/// Messages left in the queue.
const MESSAGES: usize = 3;
/// A stack the lint flags: its scheduled function has no dead-letter queue.
const LINTED_TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\n    return {}\n"
      ReservedConcurrentExecutions: 1
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
"#;

/// Upper bound for the browser run.
const BROWSER_LIMIT: Duration = Duration::from_secs(5 * 60);

#[test]
fn console_pages_render_real_data_and_tail_logs_live() {
    let root = repo_root();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists()
            && root
                .join("tests/console/node_modules/playwright-core")
                .exists(),
        "the console test needs {chromium} and tests/console/node_modules: run scripts/setup-test-env.sh"
    );
    let server = Server::start(bin(), &["--shell-pool", "1"]);
    let l = server.lambda();
    let name = unique("console");
    let r = l.create(
        &name,
        "python3.12",
        "app.handler",
        &python_zip(
            "def handler(event, context):\n    print('event', event)\n    return {'ok': True}\n",
        ),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for i in 0..INVOCATIONS {
        let r = l.invoke(&name, &json!({ "n": i }).to_string());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let queue = unique("console-q");
    let url = l
        .sqs("CreateQueue", &json!({ "QueueName": queue }))
        .expect("create queue")
        .json()["QueueUrl"]
        .as_str()
        .expect("queue url")
        .to_string();
    for i in 0..MESSAGES {
        let r = l
            .sqs(
                "SendMessage",
                &json!({ "QueueUrl": url, "MessageBody": format!("m{i}") }),
            )
            .expect("send");
        assert_eq!(r.status, 200, "{}", r.text());
    }

    // A stack with a lint finding: a schedule without a dead-letter queue (NL001).
    let stack = unique("console-stack");
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, LINTED_TEMPLATE).expect("write template");
    let mut deploy = Command::new(bin());
    deploy
        .arg("deploy")
        .arg(&template)
        .args(["--stack", &stack])
        .env("NIMBUS_ENDPOINT", &server.endpoint);
    let run = run_with_deadline(deploy, "nimbus deploy", BROWSER_LIMIT);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);

    let shots = root.join("target/console-screenshots");
    let mut cmd = Command::new("node");
    cmd.arg("console.test.mjs")
        .current_dir(root.join("tests/console"))
        .env("NIMBUS_ENDPOINT", &server.endpoint)
        .env("NIMBUS_FUNCTION", &name)
        .env("NIMBUS_EXPECT_INVOCATIONS", INVOCATIONS.to_string())
        .env("NIMBUS_QUEUE", &queue)
        .env("NIMBUS_STACK", &stack)
        .env("NIMBUS_EXPECT_DEPTH", MESSAGES.to_string())
        .env("NIMBUS_SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium);
    let run = run_with_deadline(cmd, "node console.test.mjs", BROWSER_LIMIT);
    assert!(
        run.status.success(),
        "the console test failed ({}):\n{}\n{}\n--- server log ---\n{}",
        run.status,
        run.stdout,
        run.stderr,
        tail_lines(&server.log(), 80)
    );
    for page in ["functions", "function", "queues", "stacks", "cost"] {
        assert!(
            shots.join(format!("{page}.png")).exists(),
            "no screenshot of {page}"
        );
    }
    println!("{}", run.stdout);
}
