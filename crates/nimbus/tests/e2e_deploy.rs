//! End-to-end: `nimbus deploy` of SAM templates against a real server: resources created as
//! the template says, HTTP routes served on the gateway, a second deploy that changes
//! nothing, a code change that updates only that function, removals, ownership and route
//! conflicts refused before anything changes, template errors pointing at their line, and
//! `nimbus stack delete` removing what the stack created.

mod common;

use common::bin;
use nimbus_testkit::{Lambda, Server, unique};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(bin(), &["--shell-pool", "1"]))
}

/// `nimbus <args>` against the shared server: (exit code, stdout, stderr).
fn nimbus(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("NIMBUS_ENDPOINT", &server().endpoint)
        .output()
        .expect("run nimbus");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Deploys and returns the JSON result; panics with the output when it fails.
fn deploy_json(template: &Path, stack: &str) -> Value {
    common::assert_cfn_lint_accepts(template);
    let t = template.to_str().expect("utf-8 path");
    let (code, out, err) = nimbus(&["deploy", t, "--stack", stack, "--output", "json"]);
    assert_eq!(code, 0, "deploy failed:\n{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn actions(result: &Value) -> Vec<(String, String)> {
    result["Result"]["Changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["Action"] != "NoChange")
        .map(|c| {
            (
                c["Action"].as_str().unwrap_or("").to_string(),
                c["LogicalId"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn gateway() -> String {
    let info = server()
        .lambda()
        .request("GET", "/nimbus/v1/info", &[], None)
        .json();
    info["GatewayUrl"]
        .as_str()
        .expect("the server reports its gateway")
        .to_string()
}

fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let gw = gateway();
    let path = url.strip_prefix(gw.as_str()).expect("a gateway URL");
    let r = Lambda::new(&gw)
        .try_request(method, path, &[], body.map(|b| b.as_bytes().to_vec()))
        .expect("gateway request");
    (r.status, r.text())
}

/// A throwaway app directory: `template.yaml` and `src/app.py`.
struct App {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl App {
    fn new(template: &str, handler: &str) -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("src")).expect("mkdir");
        let app = App { _dir: dir, root };
        app.write_template(template);
        app.write_code(handler);
        app
    }

    fn template(&self) -> PathBuf {
        self.root.join("template.yaml")
    }

    fn write_template(&self, text: &str) {
        std::fs::write(self.template(), text).expect("write template");
    }

    fn write_code(&self, text: &str) {
        std::fs::write(self.root.join("src/app.py"), text).expect("write code");
    }
}

const HANDLER_V1: &str = r#"
import json
def hello(event, context):
    name = (event.get("pathParameters") or {}).get("name", "world")
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"hello": name, "version": "v1"})}
def work(event, context):
    return {"batchItemFailures": []}
"#;

fn template(stack_suffix: &str, with_worker: bool) -> String {
    let worker = if with_worker {
        r#"
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.work
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
"#
    } else {
        ""
    };
    format!(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    Timeout: 5
    Environment:
      Variables:
        STAGE: test
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.hello
      MemorySize: 256
      Events:
        Greet:
          Type: HttpApi
          Properties:
            Path: /hello-{stack_suffix}/{{name}}
            Method: GET
{worker}
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDlq.Arn
        maxReceiveCount: 3
  JobsDlq:
    Type: AWS::SQS::Queue
Outputs:
  HelloName:
    Value: !Ref Hello
  JobsUrl:
    Value: !Ref Jobs
"#
    )
}

#[test]
fn deploy_serves_then_redeploys_as_a_no_op_then_updates_only_what_changed() {
    let stack = unique("app");
    let app = App::new(&template(&stack, true), HANDLER_V1);
    let l: Lambda = server().lambda();

    // First deploy: everything is created.
    let first = deploy_json(&app.template(), &stack);
    let created = actions(&first);
    for id in ["Hello", "Worker", "Jobs", "JobsDlq"] {
        assert!(
            created.contains(&("Create".into(), id.into())),
            "{id} not created: {created:?}"
        );
    }
    let hello = format!("{stack}-Hello");
    let f = l.get(&hello).json();
    assert_eq!(f["Configuration"]["MemorySize"], 256);
    assert_eq!(f["Configuration"]["Timeout"], 5);
    assert_eq!(
        f["Configuration"]["Environment"]["Variables"]["STAGE"],
        "test"
    );
    let outputs = &first["Result"]["Outputs"];
    assert_eq!(outputs[0]["Value"], hello.as_str());
    assert!(
        outputs[1]["Value"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/{stack}-Jobs"))),
        "{outputs}"
    );
    // The queue exists with its redrive policy; the mapping polls it.
    let attrs = l
        .sqs(
            "GetQueueAttributes",
            &json!({"QueueUrl": outputs[1]["Value"], "AttributeNames": ["All"]}),
        )
        .expect("queue")
        .json();
    assert!(
        attrs["Attributes"]["RedrivePolicy"]
            .as_str()
            .is_some_and(|p| p.contains(&format!("{stack}-JobsDlq"))),
        "{attrs}"
    );
    let mappings = l
        .request(
            "GET",
            &format!("/2015-03-31/event-source-mappings/?FunctionName={stack}-Worker"),
            &[],
            None,
        )
        .json();
    assert_eq!(
        mappings["EventSourceMappings"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(mappings["EventSourceMappings"][0]["BatchSize"], 5);

    // The route is served on the gateway.
    let (status, body) = http("GET", &format!("{}/hello-{stack}/ada", gateway()), None);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(body, json!({"hello": "ada", "version": "v1"}));

    // Second deploy of the same files: nothing changes.
    let again = deploy_json(&app.template(), &stack);
    assert_eq!(actions(&again), Vec::<(String, String)>::new(), "{again}");
    let (code, out, _) = nimbus(&[
        "deploy",
        app.template().to_str().unwrap(),
        "--stack",
        &stack,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("no changes"), "{out}");

    // A code change updates that function's code only (both share CodeUri, so both change).
    app.write_code(&HANDLER_V1.replace("\"v1\"", "\"v2\""));
    let changed = deploy_json(&app.template(), &stack);
    let updates = actions(&changed);
    assert!(
        updates.contains(&("Update".into(), "Hello".into())),
        "{updates:?}"
    );
    assert!(
        !updates
            .iter()
            .any(|(_, id)| id == "Jobs" || id == "JobsDlq"),
        "{updates:?}"
    );
    let (status, body) = http("GET", &format!("{}/hello-{stack}/ada", gateway()), None);
    assert_eq!(status, 200);
    assert!(body.contains("\"v2\""), "{body}");

    // Removing a function from the template deletes it and its mapping.
    app.write_template(&template(&stack, false));
    let removed = deploy_json(&app.template(), &stack);
    let removals = actions(&removed);
    assert!(
        removals.contains(&("Delete".into(), "Worker".into())),
        "{removals:?}"
    );
    assert_eq!(l.get(&format!("{stack}-Worker")).status, 404);

    // `stack delete` removes everything.
    let (code, out, err) = nimbus(&["stack", "delete", &stack, "--output", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(l.get(&hello).status, 404);
    assert!(
        l.sqs(
            "GetQueueUrl",
            &json!({"QueueName": format!("{stack}-Jobs")})
        )
        .is_err_or_status(400),
        "queue still there"
    );
    let (status, _) = http("GET", &format!("{}/hello-{stack}/ada", gateway()), None);
    assert_eq!(status, 404);
    let (code, _, err) = nimbus(&["stack", "delete", &stack]);
    assert_ne!(code, 0);
    assert!(err.contains("does not exist"), "{err}");
}

/// `Lambda::sqs` answers `Err` for transport errors and `Ok` with any status.
trait StatusOr {
    fn is_err_or_status(&self, status: u16) -> bool;
}

impl StatusOr for Result<nimbus_testkit::Response, String> {
    fn is_err_or_status(&self, status: u16) -> bool {
        match self {
            Ok(r) => r.status == status,
            Err(_) => true,
        }
    }
}

#[test]
fn taking_over_a_function_or_a_route_is_refused_before_anything_changes() {
    let stack = unique("own");
    let l = server().lambda();
    // A function of the same name exists outside any stack.
    let r = l.create(
        &format!("{stack}-Hello"),
        "python3.12",
        "app.hello",
        &nimbus_testkit::python_zip("def hello(e, c):\n    return 1\n"),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let app = App::new(&template(&stack, true), HANDLER_V1);
    let (code, out, err) = nimbus(&[
        "deploy",
        app.template().to_str().unwrap(),
        "--stack",
        &stack,
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("already exists and does not belong to stack"),
        "{err}"
    );
    // Nothing of the stack was created (the queues come first in a deploy).
    assert!(
        l.sqs(
            "GetQueueUrl",
            &json!({"QueueName": format!("{stack}-Jobs")})
        )
        .is_err_or_status(400)
    );

    // Two stacks claiming one route: the second is refused, naming both.
    let first = unique("rta");
    let second = unique("rtb");
    let shared = template("shared-route", false).replace(
        "/hello-shared-route/{name}",
        &format!("/shared-{first}/{{name}}"),
    );
    let a = App::new(&shared, HANDLER_V1);
    deploy_json(&a.template(), &first);
    let b = App::new(&shared, HANDLER_V1);
    let (code, _, err) = nimbus(&["deploy", b.template().to_str().unwrap(), "--stack", &second]);
    assert_ne!(code, 0);
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    assert_eq!(l.get(&format!("{second}-Hello")).status, 404);
    let (code, _, _) = nimbus(&["stack", "delete", &first]);
    assert_eq!(code, 0);
}

#[test]
fn template_errors_point_at_their_line_and_change_nothing() {
    let stack = unique("bad");
    let text = template(&stack, true).replace("!GetAtt Jobs.Arn", "!GetAtt Nope.Arn");
    let app = App::new(&text, HANDLER_V1);
    let (code, out, err) = nimbus(&[
        "deploy",
        app.template().to_str().unwrap(),
        "--stack",
        &stack,
    ]);
    assert_ne!(code, 0, "{out}");
    let line = text
        .lines()
        .position(|l| l.contains("!GetAtt Nope.Arn"))
        .expect("line")
        + 1;
    assert!(
        err.contains(&format!("template.yaml:{line}:")),
        "error does not point at line {line}: {err}"
    );
    assert!(err.contains("Nope"), "{err}");
    assert_eq!(server().lambda().get(&format!("{stack}-Hello")).status, 404);
}

#[test]
fn dev_deploys_then_redeploys_when_code_changes() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let stack = unique("dev");
    let app = App::new(&template(&stack, false), HANDLER_V1);
    let mut child = Command::new(bin())
        .args(["dev", app.template().to_str().unwrap(), "--stack", &stack])
        .env("NIMBUS_ENDPOINT", &server().endpoint)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn nimbus dev");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |needle: &str| -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
        }
        panic!("no {needle:?} from nimbus dev; saw:\n{}", seen.join("\n"));
    };
    let first = wait_for("Watching");
    assert!(
        first
            .iter()
            .any(|l| l.contains(&format!("/hello-{stack}/{{name}}"))),
        "routes not printed: {first:?}"
    );
    let url = format!("{}/hello-{stack}/grace", gateway());
    assert!(http("GET", &url, None).1.contains("\"v1\""));
    // Saving a file redeploys the code.
    app.write_code(&HANDLER_V1.replace("\"v1\"", "\"v3\""));
    wait_for("redeploying");
    let after = wait_for("Stack ");
    assert!(
        after.iter().any(|l| l.contains("Update")),
        "no update reported: {after:?}"
    );
    assert!(http("GET", &url, None).1.contains("\"v3\""));
    let _ = child.kill();
    let _ = child.wait();
    let (code, _, _) = nimbus(&["stack", "delete", &stack]);
    assert_eq!(code, 0);
}
