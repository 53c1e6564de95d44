//! End-to-end: `nimbus lint` on template files (offline: no server), its exit codes and
//! JSON; `nimbus deploy` showing the findings without failing; `nimbus lint --deployed`
//! reading the stacks from a real server.

mod common;

use common::bin;
use nimbus_testkit::unique;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// An address nothing listens on: offline lint must not need a server.
const NO_SERVER: &str = "http://127.0.0.1:9";

/// `nimbus <args>` with `endpoint`: (exit code, stdout, stderr).
fn nimbus(endpoint: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("NIMBUS_ENDPOINT", endpoint)
        .output()
        .expect("run nimbus");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` as `template.yaml` in a fresh directory.
fn write_template(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("template.yaml");
    std::fs::write(&path, text).expect("write template");
    (dir, path)
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The findings of the first (only) stack of `nimbus lint --output json`.
fn findings(v: &Value) -> Vec<Value> {
    v["Stacks"][0]["Findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {v}"))
        .clone()
}

fn ids(findings: &[Value]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| f["Id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Breaks every rule a template alone can show: NL001/NL002/NL007 (a schedule with no DLQ,
/// no cap, default retries), NL001/NL007 (a source queue without redrive), NL003 (timeout
/// above the visibility timeout: an error), NL007 (maxReceiveCount 50), NL009 (a public
/// route without a cap). NL004–NL006 need measurements; NL008 the reader itself refuses.
const BROKEN: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
    InlineCode: |
      def handler(event, context):
          return {"statusCode": 200, "body": "ok"}
Resources:
  Public:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: get
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 1
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 60
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
  Retrier:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 2
      Events:
        Slow:
          Type: SQS
          Properties:
            Queue: !GetAtt Slow.Arn
  Jobs:
    Type: AWS::SQS::Queue
  Slow:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 50
  Dlq:
    Type: AWS::SQS::Queue
"#;

/// Follows every rule: capped routes and workers, provisioned concurrency on an alias, a
/// schedule with a DLQ and bounded retries, a source queue with redrive and a visibility
/// timeout six times the worker's timeout.
const CLEAN: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
    Timeout: 10
    InlineCode: |
      def handler(event, context):
          return {"statusCode": 200, "body": "ok"}
Resources:
  Public:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 20
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 1
      FunctionUrlConfig:
        AuthType: NONE
      Events:
        Hello:
          Type: Api
          Properties:
            Path: /hello
            Method: get
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 1
      DeadLetterQueue:
        Type: SQS
        TargetArn: !GetAtt Dlq.Arn
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 600
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 5
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 5
  Dlq:
    Type: AWS::SQS::Queue
"#;

#[test]
fn a_template_breaking_every_rule_is_flagged_and_exits_1() {
    let (_dir, path) = write_template(BROKEN);
    let t = path.to_str().expect("utf-8 path");

    let (code, out, err) = nimbus(NO_SERVER, &["lint", t]);
    assert_eq!(code, 1, "errors exit 1:\n{out}\n{err}");
    for id in ["NL001", "NL002", "NL003", "NL007", "NL009"] {
        assert!(out.contains(id), "{id} missing from:\n{out}");
    }
    assert!(out.contains("error"), "{out}");

    let (code, out, err) = nimbus(NO_SERVER, &["lint", t, "--output", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let v = json_of(&out);
    let found = findings(&v);
    assert_eq!(
        ids(&found),
        ["NL001", "NL002", "NL003", "NL007", "NL009"]
            .map(String::from)
            .into(),
    );
    let on = |id: &str, resource: &str| {
        found
            .iter()
            .find(|f| f["Id"] == id && f["Resource"] == resource)
            .unwrap_or_else(|| panic!("no {id} on {resource} in {found:#?}"))
            .clone()
    };
    assert_eq!(on("NL003", "Worker")["Severity"], "Error");
    assert_eq!(on("NL001", "Jobs")["Severity"], "Error");
    assert_eq!(on("NL001", "Tick")["Severity"], "Error");
    assert_eq!(on("NL002", "Worker")["Severity"], "Warning");
    assert_eq!(on("NL007", "Slow")["Severity"], "Warning");
    assert_eq!(on("NL007", "Tick")["Severity"], "Warning");
    assert_eq!(on("NL009", "Public")["Severity"], "Warning");
    // Each finding points at its resource's line in the template.
    let public = on("NL009", "Public");
    assert_eq!(public["Location"]["Line"], 11, "{public}");
    assert_eq!(public["Location"]["Column"], 3, "{public}");
    for f in &found {
        for key in ["Message", "Why", "Fix"] {
            let text = f[key].as_str().unwrap_or_default();
            assert!(!text.is_empty() && !text.contains('\n'), "{key} of {f}");
        }
    }
    // Errors come first.
    assert_eq!(found[0]["Severity"], "Error", "{found:#?}");
}

#[test]
fn a_clean_template_has_no_findings_and_exits_0() {
    let (_dir, path) = write_template(CLEAN);
    let t = path.to_str().expect("utf-8 path");
    let (code, out, err) = nimbus(NO_SERVER, &["lint", t]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("no findings"), "{out}");
    let (code, out, err) = nimbus(NO_SERVER, &["lint", t, "--output", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json_of(&out);
    assert_eq!(findings(&v), Vec::<Value>::new());
    assert_eq!(v["Template"], t);
}

#[test]
fn warnings_alone_exit_0() {
    let text = CLEAN.replace("      ReservedConcurrentExecutions: 20\n", "");
    let (_dir, path) = write_template(&text);
    let t = path.to_str().expect("utf-8 path");
    let (code, out, err) = nimbus(NO_SERVER, &["lint", t, "--output", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let found = findings(&json_of(&out));
    assert_eq!(ids(&found), ["NL009".to_string()].into());
    let message = found[0]["Message"].as_str().unwrap_or_default();
    assert!(
        message.contains("GET /hello") && message.contains("function URL"),
        "{message}"
    );
}

#[test]
fn a_template_error_is_reported_at_its_line() {
    let (_dir, path) = write_template("Resources:\n  X: [\n");
    let (code, _, err) = nimbus(NO_SERVER, &["lint", path.to_str().expect("utf-8")]);
    assert_ne!(code, 0);
    assert!(err.contains("template.yaml:"), "{err}");
}

/// The repository's own templates load and lint (what they find is reported, not pinned:
/// they are examples, edited for other reasons).
#[test]
fn the_repository_templates_lint() {
    let root = common::repo_root();
    let mut templates = vec![root.join("examples/sam-app/template.yaml")];
    let dir = root.join("tests/templates");
    for entry in std::fs::read_dir(&dir).expect("tests/templates") {
        let t = entry.expect("entry").path().join("template.yaml");
        if t.exists() {
            templates.push(t);
        }
    }
    for t in templates {
        let (code, out, err) = nimbus(
            NO_SERVER,
            &["lint", t.to_str().expect("utf-8"), "--output", "json"],
        );
        let v = json_of(&out);
        let found = findings(&v);
        let has_error = found.iter().any(|f| f["Severity"] == "Error");
        assert_eq!(code, i32::from(has_error), "{}:\n{out}\n{err}", t.display());
        // The example app is what newcomers copy: it must pass its own lint.
        if t.ends_with("examples/sam-app/template.yaml") {
            assert!(!has_error, "the example app has lint errors:\n{out}");
        }
        for f in &found {
            let id = f["Id"].as_str().unwrap_or_default();
            assert!(
                id.starts_with("NL") && id.len() == 5,
                "{}: {f}",
                t.display()
            );
        }
    }
}

/// A deployable template with findings: a schedule without a DLQ (an error), a worker whose
/// timeout is above a sixth of its queue's visibility timeout (a warning: the server, like
/// AWS, refuses a timeout above the visibility timeout itself).
fn deployable() -> String {
    r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
Resources:
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: "def handler(event, context):\n    return {}\n"
      ReservedConcurrentExecutions: 1
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: "def handler(event, context):\n    return {\"batchItemFailures\": []}\n"
      Timeout: 20
      ReservedConcurrentExecutions: 1
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3
  Dlq:
    Type: AWS::SQS::Queue
"#
    .to_string()
}

#[test]
fn deploy_shows_findings_without_failing_and_lint_deployed_reads_the_server() {
    let endpoint = common::server().endpoint.clone();
    let (_dir, path) = write_template(&deployable());
    common::assert_cfn_lint_accepts(&path);
    let t = path.to_str().expect("utf-8 path");
    let stack = unique("lint");
    let expected: BTreeSet<(String, String)> =
        [("NL001", "Tick"), ("NL003", "Worker"), ("NL007", "Tick")]
            .iter()
            .map(|(i, r)| (i.to_string(), r.to_string()))
            .collect();
    let pairs = |found: &[Value]| -> BTreeSet<(String, String)> {
        found
            .iter()
            .map(|f| {
                (
                    f["Id"].as_str().unwrap_or_default().to_string(),
                    f["Resource"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };

    // JSON: the findings are in "Lint"; an Error finding does not fail the deploy.
    let (code, out, err) = nimbus(
        &endpoint,
        &["deploy", t, "--stack", &stack, "--output", "json"],
    );
    assert_eq!(code, 0, "deploy must not fail on findings:\n{out}\n{err}");
    let v = json_of(&out);
    let lint = v["Lint"].as_array().expect("Lint in the deploy JSON");
    assert_eq!(pairs(lint), expected);
    assert!(lint.iter().all(|f| f["Location"]["Line"].is_u64()), "{v}");

    // Table: the findings come before the summary.
    let (code, out, err) = nimbus(&endpoint, &["deploy", t, "--stack", &stack]);
    assert_eq!(code, 0, "{out}\n{err}");
    let lint_at = out
        .find("Lint: 1 error, 2 warnings")
        .unwrap_or_else(|| panic!("{out}"));
    let summary_at = out
        .find(&format!("Stack {stack}"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(lint_at < summary_at, "{out}");

    // --deployed: the same findings, from the stored spec (no template positions).
    let (code, out, err) = nimbus(
        &endpoint,
        &["lint", "--deployed", "--stack", &stack, "--output", "json"],
    );
    assert_eq!(code, 1, "an error finding exits 1:\n{out}\n{err}");
    let v = json_of(&out);
    assert_eq!(v["Stacks"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["Stacks"][0]["Stack"], stack.as_str());
    assert_eq!(pairs(&findings(&v)), expected);

    // The server's endpoint (the console's view) finds the same.
    let l = common::server().lambda();
    let r = l.request("GET", &format!("/nimbus/v1/lint?stack={stack}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["Stack"], stack.as_str(), "{v}");
    assert_eq!(v["Errors"], 1, "{v}");
    assert_eq!(pairs(v["Findings"].as_array().expect("findings")), expected);
    let r = l.request("GET", "/nimbus/v1/lint", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let all = r.json();
    let ours = all["Stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .find(|s| s["Stack"] == stack.as_str())
        .unwrap_or_else(|| panic!("{stack} not in {all}"));
    assert_eq!(
        pairs(ours["Findings"].as_array().expect("findings")),
        expected
    );
    let r = l.request("GET", "/nimbus/v1/lint?stack=no-such-stack", &[], None);
    assert_eq!(r.status, 404, "{}", r.text());

    let (code, out, _) = nimbus(&endpoint, &["lint", "--deployed", "--stack", &stack]);
    assert_eq!(code, 1);
    assert!(out.contains("NL003") && out.contains("Worker"), "{out}");

    let (code, _, err) = nimbus(
        &endpoint,
        &["lint", "--deployed", "--stack", "no-such-stack"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("no-such-stack"), "{err}");

    let (code, out, err) = nimbus(&endpoint, &["stack", "delete", &stack]);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// `--deployed` conflicts with a template path.
#[test]
fn deployed_and_a_template_are_exclusive() {
    let (code, _, err) = nimbus(NO_SERVER, &["lint", "t.yaml", "--deployed"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Two functions whose settings their measurements contradict: `Roomy` has 1024 MB and
/// uses a few tens; `Slow` sleeps 2.75 s of its 3 s timeout.
const MEASURED: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
    ReservedConcurrentExecutions: 1
Resources:
  Roomy:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1024
      InlineCode: "def handler(event, context):\n    return {}\n"
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 3
      InlineCode: "import time\ndef handler(event, context):\n    time.sleep(2.75)\n    return {}\n"
"#;

#[test]
fn lint_deployed_uses_what_the_server_measured() {
    let endpoint = common::server().endpoint.clone();
    let (_dir, path) = write_template(MEASURED);
    common::assert_cfn_lint_accepts(&path);
    let t = path.to_str().expect("utf-8 path");
    let stack = unique("lintobs");
    let (code, out, err) = nimbus(&endpoint, &["deploy", t, "--stack", &stack]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.contains("Lint:"),
        "nothing to say before measuring:\n{out}"
    );

    let lambda = common::lambda();
    for _ in 0..10 {
        let r = lambda.invoke(&format!("{stack}-Roomy"), "{}");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Whether it ends in time or times out, its duration is at least 2.75 s of 3.
    let r = lambda.invoke(&format!("{stack}-Slow"), "{}");
    assert_eq!(r.status, 200, "{}", r.text());

    let (code, out, err) = nimbus(
        &endpoint,
        &["lint", "--deployed", "--stack", &stack, "--output", "json"],
    );
    assert_eq!(code, 0, "warnings and info exit 0:\n{out}\n{err}");
    let v = json_of(&out);
    let found = findings(&v);
    let on = |id: &str, resource: &str| {
        found
            .iter()
            .find(|f| f["Id"] == id && f["Resource"] == resource)
            .cloned()
    };
    let note = v["Note"].as_str().unwrap_or_default();
    if note.contains("/nimbus/v1/metering") {
        assert!(on("NL004", "Roomy").is_none(), "{v}");
    } else {
        let roomy = on("NL004", "Roomy").unwrap_or_else(|| panic!("no NL004 in {v}"));
        assert_eq!(roomy["Severity"], "Info", "{roomy}");
        assert!(
            roomy["Message"]
                .as_str()
                .is_some_and(|m| m.contains("1024 MB")),
            "{roomy}"
        );
    }
    if note.contains("/nimbus/v1/metrics/summary") {
        assert!(on("NL005", "Slow").is_none(), "{v}");
    } else {
        let slow = on("NL005", "Slow").unwrap_or_else(|| panic!("no NL005 in {v}"));
        assert_eq!(slow["Severity"], "Warning", "{slow}");
    }
    assert!(
        found
            .iter()
            .all(|f| ["NL004", "NL005"].contains(&f["Id"].as_str().unwrap_or_default())),
        "only what the measurements show: {v}"
    );
    let (code, out, err) = nimbus(&endpoint, &["stack", "delete", &stack]);
    assert_eq!(code, 0, "{out}\n{err}");
}
