//! Each rule flags a crafted spec; a well-configured stack yields nothing.

use std::collections::BTreeMap;
use std::path::Path;

use nimbus_api::async_invoke::{Destination, DestinationConfig};
use nimbus_api::stack::{
    EventInvokeConfigSpec, EventSource, EventSpec, FunctionSpec, FunctionUrlSpec, QueueSpec,
    StackSpec,
};

use crate::{Finding, Input, Observed, Rule, Severity, has_errors, lint};

fn function(id: &str) -> FunctionSpec {
    FunctionSpec {
        logical_id: id.to_string(),
        function_name: format!("app-{id}"),
        runtime: "python3.12".into(),
        handler: "app.handler".into(),
        memory_size: 128,
        timeout: 3,
        ..FunctionSpec::default()
    }
}

fn arn(queue_name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}")
}

fn queue(id: &str, attributes: &[(&str, &str)]) -> QueueSpec {
    QueueSpec {
        logical_id: id.to_string(),
        queue_name: format!("app-{id}"),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..QueueSpec::default()
    }
}

fn redrive(count: i64) -> String {
    format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{count}}}"#,
        arn("app-Dlq")
    )
}

fn event(name: &str, source: EventSource) -> EventSpec {
    EventSpec {
        name: name.to_string(),
        source,
    }
}

fn sqs_event(queue_id: &str, maximum_concurrency: Option<i64>) -> EventSpec {
    event(
        "Jobs",
        EventSource::Sqs {
            queue_arn: arn(&format!("app-{queue_id}")),
            batch_size: Some(10),
            maximum_batching_window_in_seconds: None,
            enabled: true,
            function_response_types: vec![],
            maximum_concurrency,
        },
    )
}

fn schedule_event() -> EventSpec {
    event(
        "Tick",
        EventSource::Schedule {
            expression: "rate(1 minute)".into(),
            timezone: None,
            input: None,
            enabled: true,
            v2: false,
        },
    )
}

fn api_event() -> EventSpec {
    event(
        "Hello",
        EventSource::HttpApi {
            path: Some("/hello".into()),
            method: Some("GET".into()),
            payload_format_version: "2.0".into(),
        },
    )
}

/// A stack that follows every rule: capped API, capped worker on a queue with redrive and
/// a long visibility timeout, capped schedule with a DLQ and bounded retries, provisioned
/// concurrency on an alias.
fn clean() -> StackSpec {
    let mut api = function("Api");
    api.events = vec![api_event()];
    api.reserved_concurrency = Some(50);
    api.auto_publish_alias = Some("live".into());
    api.provisioned_concurrency = Some(2);
    let mut worker = function("Worker");
    worker.timeout = 10;
    worker.events = vec![sqs_event("Jobs", None)];
    worker.reserved_concurrency = Some(10);
    let mut tick = function("Tick");
    tick.events = vec![schedule_event()];
    tick.reserved_concurrency = Some(1);
    tick.dead_letter_target_arn = Some(arn("app-Dlq"));
    tick.event_invoke_config = Some(EventInvokeConfigSpec {
        maximum_retry_attempts: Some(1),
        ..EventInvokeConfigSpec::default()
    });
    StackSpec {
        name: "app".into(),
        functions: vec![api, tick, worker],
        queues: vec![
            queue("Dlq", &[]),
            queue(
                "Jobs",
                &[("VisibilityTimeout", "60"), ("RedrivePolicy", &redrive(5))],
            ),
        ],
        ..StackSpec::default()
    }
}

fn run(spec: &StackSpec) -> Vec<Finding> {
    lint(&Input::spec_only(spec))
}

fn run_observed(spec: &StackSpec, id: &str, seen: Observed) -> Vec<Finding> {
    let observed = BTreeMap::from([(id.to_string(), seen)]);
    lint(&Input {
        observed: &observed,
        ..Input::spec_only(spec)
    })
}

/// (id, resource, severity) of each finding.
fn summary(found: &[Finding]) -> Vec<(&str, &str, Severity)> {
    found
        .iter()
        .map(|f| (f.id.as_str(), f.resource.as_str(), f.severity))
        .collect()
}

fn function_mut<'a>(spec: &'a mut StackSpec, id: &str) -> &'a mut FunctionSpec {
    spec.functions
        .iter_mut()
        .find(|f| f.logical_id == id)
        .expect("function in the stack")
}

fn queue_mut<'a>(spec: &'a mut StackSpec, id: &str) -> &'a mut QueueSpec {
    spec.queues
        .iter_mut()
        .find(|q| q.logical_id == id)
        .expect("queue in the stack")
}

#[test]
fn a_well_configured_stack_has_no_findings() {
    let spec = clean();
    assert_eq!(run(&spec), vec![]);
    let healthy = Observed {
        max_memory_used_mb: Some(90.0),
        p99_duration_ms: Some(400.0),
        max_init_ms: Some(350.0),
        invocations: Some(1_000),
    };
    assert_eq!(run_observed(&spec, "Api", healthy), vec![]);
}

#[test]
fn nl001_async_function_without_dlq_or_on_failure() {
    let mut spec = clean();
    function_mut(&mut spec, "Tick").dead_letter_target_arn = None;
    let found = run(&spec);
    assert_eq!(summary(&found), [("NL001", "Tick", Severity::Error)]);
    assert!(found[0].message.contains("Schedule Tick"), "{found:?}");
    assert!(has_errors(&found));

    // An OnFailure destination is as good as a DLQ.
    function_mut(&mut spec, "Tick")
        .event_invoke_config
        .as_mut()
        .expect("config")
        .destination_config = Some(DestinationConfig {
        on_success: None,
        on_failure: Some(Destination {
            destination: Some(arn("app-Dlq")),
        }),
    });
    assert_eq!(run(&spec), vec![]);
}

#[test]
fn nl001_event_invoke_config_makes_a_function_async() {
    let mut spec = clean();
    function_mut(&mut spec, "Api").event_invoke_config = Some(EventInvokeConfigSpec {
        maximum_event_age_in_seconds: Some(60),
        ..EventInvokeConfigSpec::default()
    });
    assert_eq!(summary(&run(&spec)), [("NL001", "Api", Severity::Error)]);
}

#[test]
fn nl001_and_nl007_source_queue_without_redrive() {
    let mut spec = clean();
    queue_mut(&mut spec, "Jobs")
        .attributes
        .remove("RedrivePolicy");
    let found = run(&spec);
    assert_eq!(
        summary(&found),
        [
            ("NL001", "Jobs", Severity::Error),
            ("NL007", "Jobs", Severity::Warning)
        ]
    );
    assert!(found[0].message.contains("Worker"), "{found:?}");
}

#[test]
fn a_function_dlq_does_not_cover_its_sqs_events() {
    let mut spec = clean();
    queue_mut(&mut spec, "Jobs")
        .attributes
        .remove("RedrivePolicy");
    function_mut(&mut spec, "Worker").dead_letter_target_arn = Some(arn("app-Dlq"));
    let ids: Vec<_> = run(&spec).into_iter().map(|f| f.id).collect();
    assert_eq!(ids, ["NL001", "NL007"]);
}

#[test]
fn a_queue_read_by_two_functions_is_reported_once() {
    let mut spec = clean();
    queue_mut(&mut spec, "Jobs")
        .attributes
        .remove("RedrivePolicy");
    let mut second = function("Second");
    second.timeout = 10;
    second.reserved_concurrency = Some(1);
    second.events = vec![sqs_event("Jobs", None)];
    spec.functions.push(second);
    let found = run(&spec);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].message.contains("Worker, Second"), "{found:?}");
}

#[test]
fn queues_outside_the_stack_are_checked_only_with_their_attributes() {
    let mut spec = clean();
    let external = arn("shared-jobs");
    if let EventSource::Sqs { queue_arn, .. } =
        &mut function_mut(&mut spec, "Worker").events[0].source
    {
        *queue_arn = external.clone();
    }
    assert_eq!(run(&spec), vec![]);
    let queues = BTreeMap::from([(
        external,
        BTreeMap::from([("VisibilityTimeout".to_string(), "30".to_string())]),
    )]);
    let found = lint(&Input {
        external_queues: &queues,
        ..Input::spec_only(&spec)
    });
    assert_eq!(
        summary(&found),
        [
            ("NL001", "shared-jobs", Severity::Error),
            ("NL003", "Worker", Severity::Warning),
            ("NL007", "shared-jobs", Severity::Warning),
        ]
    );
}

#[test]
fn nl002_batch_and_async_functions_without_reserved_concurrency() {
    let mut spec = clean();
    function_mut(&mut spec, "Worker").reserved_concurrency = None;
    function_mut(&mut spec, "Tick").reserved_concurrency = None;
    let found = run(&spec);
    assert_eq!(
        summary(&found),
        [
            ("NL002", "Tick", Severity::Warning),
            ("NL002", "Worker", Severity::Warning)
        ]
    );
    assert!(!has_errors(&found));
}

#[test]
fn nl002_maximum_concurrency_on_every_sqs_event_is_a_cap() {
    let mut spec = clean();
    let worker = function_mut(&mut spec, "Worker");
    worker.reserved_concurrency = None;
    worker.events = vec![sqs_event("Jobs", Some(5))];
    assert_eq!(run(&spec), vec![]);
}

#[test]
fn nl003_timeout_above_a_sixth_of_the_visibility_timeout() {
    let mut spec = clean();
    function_mut(&mut spec, "Worker").timeout = 11;
    let found = run(&spec);
    assert_eq!(summary(&found), [("NL003", "Worker", Severity::Warning)]);
    assert!(found[0].fix.contains("at least 66 s"), "{found:?}");
    assert!(found[0].fix.contains("lower Timeout to 10 s"), "{found:?}");
}

#[test]
fn nl003_is_an_error_when_the_timeout_exceeds_the_visibility_timeout() {
    let mut spec = clean();
    function_mut(&mut spec, "Worker").timeout = 61;
    assert_eq!(summary(&run(&spec)), [("NL003", "Worker", Severity::Error)]);
}

#[test]
fn nl003_uses_sqs_default_visibility_when_unset() {
    let mut spec = clean();
    queue_mut(&mut spec, "Jobs")
        .attributes
        .remove("VisibilityTimeout");
    // 10 s × 6 = 60 s > SQS's default 30 s.
    assert_eq!(
        summary(&run(&spec)),
        [("NL003", "Worker", Severity::Warning)]
    );
    function_mut(&mut spec, "Worker").timeout = 5;
    assert_eq!(run(&spec), vec![]);
}

#[test]
fn nl004_memory_within_ten_percent_of_the_peak() {
    let spec = clean();
    let seen = Observed {
        max_memory_used_mb: Some(120.0),
        ..Observed::default()
    };
    let found = run_observed(&spec, "Api", seen);
    assert_eq!(summary(&found), [("NL004", "Api", Severity::Warning)]);
    assert!(found[0].fix.contains("180 MB"), "{found:?}");
}

#[test]
fn nl004_memory_far_above_the_peak() {
    let mut spec = clean();
    function_mut(&mut spec, "Api").memory_size = 1024;
    let seen = Observed {
        max_memory_used_mb: Some(100.0),
        invocations: Some(500),
        ..Observed::default()
    };
    let found = run_observed(&spec, "Api", seen);
    assert_eq!(summary(&found), [("NL004", "Api", Severity::Info)]);
    assert!(found[0].fix.contains("150 MB"), "{found:?}");
    assert!(!has_errors(&found));

    // Too few invocations to claim the peak, or too little slack to matter: silent.
    let few = Observed {
        invocations: Some(3),
        ..seen
    };
    assert_eq!(run_observed(&spec, "Api", few), vec![]);
    function_mut(&mut spec, "Api").memory_size = 320;
    let small = Observed {
        max_memory_used_mb: Some(70.0),
        ..seen
    };
    assert_eq!(run_observed(&spec, "Api", small), vec![]);
}

#[test]
fn nl005_p99_within_ten_percent_of_the_timeout() {
    let spec = clean();
    let seen = Observed {
        p99_duration_ms: Some(2_750.0),
        ..Observed::default()
    };
    assert_eq!(
        summary(&run_observed(&spec, "Api", seen)),
        [("NL005", "Api", Severity::Warning)]
    );
    let fine = Observed {
        p99_duration_ms: Some(2_650.0),
        ..Observed::default()
    };
    assert_eq!(run_observed(&spec, "Api", fine), vec![]);
}

#[test]
fn nl006_init_near_ten_seconds() {
    let spec = clean();
    let seen = Observed {
        max_init_ms: Some(8_000.0),
        ..Observed::default()
    };
    assert_eq!(
        summary(&run_observed(&spec, "Api", seen)),
        [("NL006", "Api", Severity::Warning)]
    );
    let fine = Observed {
        max_init_ms: Some(7_999.0),
        ..Observed::default()
    };
    assert_eq!(run_observed(&spec, "Api", fine), vec![]);
}

#[test]
fn nl007_async_retries_left_to_defaults_without_dlq() {
    let mut spec = clean();
    let tick = function_mut(&mut spec, "Tick");
    tick.dead_letter_target_arn = None;
    tick.event_invoke_config = None;
    let found = run(&spec);
    assert_eq!(
        summary(&found),
        [
            ("NL001", "Tick", Severity::Error),
            ("NL007", "Tick", Severity::Warning)
        ]
    );
    // A bound on either retries or age is a choice made: NL001 remains, NL007 goes.
    function_mut(&mut spec, "Tick").event_invoke_config = Some(EventInvokeConfigSpec {
        maximum_event_age_in_seconds: Some(600),
        ..EventInvokeConfigSpec::default()
    });
    assert_eq!(summary(&run(&spec)), [("NL001", "Tick", Severity::Error)]);
}

#[test]
fn nl007_max_receive_count_above_the_bound() {
    let mut spec = clean();
    let q = queue_mut(&mut spec, "Jobs");
    q.attributes.insert("RedrivePolicy".into(), redrive(11));
    let found = run(&spec);
    assert_eq!(summary(&found), [("NL007", "Jobs", Severity::Warning)]);
    assert!(found[0].message.contains("11"), "{found:?}");
    // As SQS accepts it: a numeric string.
    let q = queue_mut(&mut spec, "Jobs");
    q.attributes.insert(
        "RedrivePolicy".into(),
        format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"10"}}"#,
            arn("app-Dlq")
        ),
    );
    assert_eq!(run(&spec), vec![]);
}

#[test]
fn nl008_provisioned_concurrency_without_an_alias() {
    let mut spec = clean();
    function_mut(&mut spec, "Api").auto_publish_alias = None;
    let found = run(&spec);
    assert_eq!(summary(&found), [("NL008", "Api", Severity::Error)]);
    assert!(has_errors(&found));
}

#[test]
fn nl009_public_routes_without_a_cap() {
    let mut spec = clean();
    let api = function_mut(&mut spec, "Api");
    api.reserved_concurrency = None;
    let found = run(&spec);
    assert_eq!(summary(&found), [("NL009", "Api", Severity::Warning)]);
    assert!(found[0].message.contains("GET /hello"), "{found:?}");

    let mut url = function("Url");
    url.function_url = Some(FunctionUrlSpec {
        auth_type: "AWS_IAM".into(),
        invoke_mode: None,
    });
    spec.functions.push(url.clone());
    assert_eq!(
        run(&spec).len(),
        1,
        "an IAM-authenticated URL is not public"
    );
    url.logical_id = "OpenUrl".into();
    url.function_url = Some(FunctionUrlSpec {
        auth_type: "NONE".into(),
        invoke_mode: None,
    });
    spec.functions.push(url);
    let found = run(&spec);
    assert_eq!(
        summary(&found),
        [
            ("NL009", "Api", Severity::Warning),
            ("NL009", "OpenUrl", Severity::Warning)
        ]
    );
    assert!(found[1].message.contains("function URL"), "{found:?}");
}

#[test]
fn findings_are_sorted_errors_first() {
    let mut spec = clean();
    function_mut(&mut spec, "Api").reserved_concurrency = None;
    function_mut(&mut spec, "Api").auto_publish_alias = None;
    let found = run(&spec);
    assert_eq!(
        summary(&found),
        [
            ("NL008", "Api", Severity::Error),
            ("NL009", "Api", Severity::Warning)
        ]
    );
}

#[test]
fn rules_have_distinct_ids_in_order_and_one_line_texts() {
    let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    let expected: Vec<String> = (1..=9).map(|n| format!("NL{n:03}")).collect();
    assert_eq!(ids, expected);
    for r in Rule::ALL {
        for text in [r.why(), r.fix(), r.title()] {
            assert!(!text.is_empty() && !text.contains('\n'), "{r:?}");
        }
    }
}

#[test]
fn findings_point_at_the_template_line_of_their_resource() {
    let text = "\
Transform: AWS::Serverless-2016-10-31
Resources:
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: 'def handler(e, c): pass'
      Handler: index.handler
      Runtime: python3.12
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: 'def handler(e, c): pass'
      Handler: index.handler
      Runtime: python3.12
      ReservedConcurrentExecutions: 2
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
";
    let ctx = nimbus_template::Context {
        stack_name: "app".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        queue_url_base: "http://127.0.0.1:9000".into(),
        gateway_url: "http://127.0.0.1:3000".into(),
        parameters: BTreeMap::new(),
    };
    let loaded = nimbus_template::load_str(text, Path::new("template.yaml"), &ctx)
        .unwrap_or_else(|e| panic!("{e}"));
    let found = lint(&Input {
        positions: &loaded.positions,
        ..Input::spec_only(&loaded.spec)
    });
    let located: Vec<_> = found
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.resource.as_str(),
                f.location.map(|l| (l.line, l.column)),
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            ("NL001", "Jobs", Some((14, 3))),
            ("NL001", "Tick", Some((3, 3))),
            ("NL002", "Tick", Some((3, 3))),
            ("NL007", "Jobs", Some((14, 3))),
            ("NL007", "Tick", Some((3, 3))),
        ]
    );
}

#[test]
fn findings_serialise_with_aws_casing() {
    let mut spec = clean();
    function_mut(&mut spec, "Api").auto_publish_alias = None;
    let positions = BTreeMap::from([("Api".to_string(), (7, 3))]);
    let found = lint(&Input {
        positions: &positions,
        ..Input::spec_only(&spec)
    });
    let json = serde_json::to_value(&found).expect("serialise");
    assert_eq!(json[0]["Id"], "NL008");
    assert_eq!(json[0]["Severity"], "Error");
    assert_eq!(json[0]["Resource"], "Api");
    assert_eq!(json[0]["Location"]["Line"], 7);
    assert!(json[0]["Why"].is_string() && json[0]["Fix"].is_string());
}
