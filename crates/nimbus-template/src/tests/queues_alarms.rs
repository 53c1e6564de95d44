//! `AWS::SQS::Queue` and `AWS::CloudWatch::Alarm`.

use nimbus_api::stack::AlarmSpec;

use super::{diagnostics, error, load};

#[test]
fn queues_become_attribute_strings() {
    let loaded = load(
        "Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      MessageRetentionPeriod: 86400
      DelaySeconds: 1
      ReceiveMessageWaitTimeSeconds: 20
      MaximumMessageSize: 2048
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: 3
      Tags:
        - Key: team
          Value: shop
  OrdersDlq:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders-dlq
  Events:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      ContentBasedDeduplication: true
Outputs:
  Name:
    Value: !GetAtt OrdersDlq.QueueName
",
    );
    assert!(
        diagnostics(&loaded).is_empty(),
        "{:?}",
        diagnostics(&loaded)
    );
    let q: Vec<_> = loaded
        .spec
        .queues
        .iter()
        .map(|q| q.queue_name.as_str())
        .collect();
    assert_eq!(q, ["app-Events.fifo", "app-Orders", "orders-dlq"]);
    let orders = &loaded.spec.queues[1];
    let attrs: Vec<String> = orders
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        attrs,
        [
            "DelaySeconds=1",
            "MaximumMessageSize=2048",
            "MessageRetentionPeriod=86400",
            "ReceiveMessageWaitTimeSeconds=20",
            r#"RedrivePolicy={"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:orders-dlq","maxReceiveCount":3}"#,
            "VisibilityTimeout=60",
        ]
    );
    assert_eq!(orders.tags["team"], "shop");
    let fifo = &loaded.spec.queues[0];
    assert_eq!(fifo.attributes["FifoQueue"], "true");
    assert_eq!(fifo.attributes["ContentBasedDeduplication"], "true");
    assert_eq!(loaded.spec.outputs[0].value, "orders-dlq");
}

#[test]
fn queue_errors() {
    let e = error(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: jobs.fifo\n",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:5:18: error: QueueName must end in .fifo exactly when FifoQueue is true"
    );
    let e = error(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: 901\n",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:5:21: error: DelaySeconds must be between 0 and 900, not 901"
    );
}

const ALARMS: &str = "Resources:
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: fn-errors
      AlarmDescription: errors of fn
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: fn
        - Name: Resource
          Value: fn:live
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 2
      Threshold: 0.5
      ComparisonOperator: GreaterThanThreshold
  Cpu:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: CPUUtilization
      Statistic: Average
      Period: 60
      EvaluationPeriods: 1
      Threshold: 90
      ComparisonOperator: GreaterThanThreshold
Outputs:
  Name:
    Value: !Ref Errors
  Arn:
    Value: !GetAtt Errors.Arn
";

#[test]
fn lambda_alarms_are_kept_others_skipped_with_a_warning() {
    let loaded = load(ALARMS);
    assert_eq!(
        loaded.spec.alarms,
        [AlarmSpec {
            logical_id: "Errors".into(),
            alarm_name: "fn-errors".into(),
            metric_name: "Errors".into(),
            function_name: Some("fn".into()),
            resource: Some("fn:live".into()),
            statistic: "Sum".into(),
            period: 60,
            evaluation_periods: 2,
            threshold: 0.5,
            comparison_operator: "GreaterThanThreshold".into(),
        }]
    );
    assert_eq!(
        diagnostics(&loaded),
        [
            "template.yaml:22:18: warning: alarm 'Cpu' is skipped: namespace 'AWS/EC2' is not evaluated (Nimbus has only AWS/Lambda metrics)"
        ]
    );
    assert_eq!(loaded.spec.outputs[0].value, "fn-errors");
    assert_eq!(
        loaded.spec.outputs[1].value,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:fn-errors"
    );
}
