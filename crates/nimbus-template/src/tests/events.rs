//! `Events` → `EventSpec`s.

use nimbus_api::stack::EventSource;

use super::{diagnostics, error, function, function_template, load};

fn events_of(events: &str) -> (Vec<(String, EventSource)>, Vec<String>) {
    let text = function_template(
        &format!("      Events:\n{events}"),
        "  Q:\n    Type: AWS::SQS::Queue\n",
    );
    let loaded = load(&text);
    let events = function(&loaded, "Fn")
        .events
        .iter()
        .map(|e| (e.name.clone(), e.source.clone()))
        .collect();
    (events, diagnostics(&loaded))
}

#[test]
fn api_routes() {
    let (events, diags) = events_of(
        "        Hello:
          Type: Api
          Properties:
            Path: /hello/{name}
            Method: get
        Any:
          Type: Api
          Properties:
            Path: /{proxy+}
            Method: any
",
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        events,
        [
            (
                "Any".to_string(),
                EventSource::Api {
                    path: "/{proxy+}".into(),
                    method: "ANY".into()
                }
            ),
            (
                "Hello".to_string(),
                EventSource::Api {
                    path: "/hello/{name}".into(),
                    method: "GET".into()
                }
            ),
        ]
    );
}

#[test]
fn http_api_routes_and_the_catch_all() {
    let (events, _) = events_of(
        "        CatchAll:
          Type: HttpApi
        PathOnly:
          Type: HttpApi
          Properties:
            Path: /items
            PayloadFormatVersion: '1.0'
        Post:
          Type: HttpApi
          Properties:
            Path: /orders
            Method: Post
",
    );
    let http = |path: Option<&str>, method: Option<&str>, v: &str| EventSource::HttpApi {
        path: path.map(Into::into),
        method: method.map(Into::into),
        payload_format_version: v.into(),
    };
    assert_eq!(
        events,
        [
            ("CatchAll".to_string(), http(None, None, "2.0")),
            (
                "PathOnly".to_string(),
                http(Some("/items"), Some("ANY"), "1.0")
            ),
            (
                "Post".to_string(),
                http(Some("/orders"), Some("POST"), "2.0")
            ),
        ]
    );
}

#[test]
fn sqs_mappings() {
    let (events, diags) = events_of(
        "        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 2
            Enabled: false
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig:
              MaximumConcurrency: 4
",
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        events[0].1,
        EventSource::Sqs {
            queue_arn: "arn:aws:sqs:us-east-1:123456789012:app-Q".into(),
            batch_size: Some(5),
            maximum_batching_window_in_seconds: Some(2),
            enabled: false,
            function_response_types: vec!["ReportBatchItemFailures".into()],
            maximum_concurrency: Some(4),
        }
    );
}

#[test]
fn schedules() {
    let (events, diags) = events_of(
        "        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{\"job\": \"tick\"}'
        Noon:
          Type: Schedule
          Properties:
            Schedule: cron(0 12 * * ? *)
            State: DISABLED
        Paris:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 9 ? * MON-FRI *)
            ScheduleExpressionTimezone: Europe/Paris
            State: ENABLED
",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let schedule =
        |e: &str, tz: Option<&str>, input: Option<&str>, enabled, v2| EventSource::Schedule {
            expression: e.into(),
            timezone: tz.map(Into::into),
            input: input.map(Into::into),
            enabled,
            v2,
        };
    assert_eq!(
        events,
        [
            (
                "Every".to_string(),
                schedule(
                    "rate(1 minute)",
                    None,
                    Some("{\"job\": \"tick\"}"),
                    true,
                    false
                )
            ),
            (
                "Noon".to_string(),
                schedule("cron(0 12 * * ? *)", None, None, false, false)
            ),
            (
                "Paris".to_string(),
                schedule(
                    "cron(0 9 ? * MON-FRI *)",
                    Some("Europe/Paris"),
                    None,
                    true,
                    true
                )
            ),
        ]
    );
}

#[test]
fn unsupported_event_types_are_warned_about_where_they_are() {
    let (events, diags) = events_of(
        "        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Q
            Events: s3:ObjectCreated:*
        Topic:
          Type: SNS
          Properties:
            Topic: arn:aws:sns:us-east-1:123456789012:t
        Kept:
          Type: HttpApi
",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(
        diags,
        [
            "template.yaml:10:9: warning: event 'Upload': type S3 is not supported yet, ignored",
            "template.yaml:15:9: warning: event 'Topic': type SNS is not supported yet, ignored",
        ]
    );
}

#[test]
fn event_errors() {
    let e = error(&function_template(
        "      Events:\n        Bad:\n          Type: Schedule\n          Properties:\n            Schedule: rate(5 minute)\n",
        "",
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:13:23: error: schedule 'rate(5 minute)': use the plural unit for 5: rate(5 minutes)"
    );
    let e = error(&function_template(
        "      Events:\n        Bad:\n          Type: SQS\n          Properties:\n            Queue: my-queue\n",
        "",
    ));
    assert!(
        e.to_string()
            .starts_with("template.yaml:13:20: error: Queue 'my-queue' is not an SQS queue ARN"),
        "{e}"
    );
    let e = error(&function_template(
        "      Events:\n        Bad:\n          Type: Api\n          Properties:\n            Path: /x\n",
        "",
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:13:13: error: Api event: Method is required"
    );
}
