//! `AWS::Serverless::Function`: properties, defaults, names, code sources, aliases and
//! deployment preferences.

use std::path::Path;

use nimbus_api::async_invoke::{Destination, DestinationConfig};
use nimbus_api::stack::{DeploymentPreferenceSpec, EventInvokeConfigSpec, FunctionUrlSpec};

use super::{SAM, ctx, diagnostics, error, function, function_template, load};
use crate::{CodeSource, load_str};

#[test]
fn defaults_and_generated_name() {
    let loaded = load(&function_template("", ""));
    let f = function(&loaded, "Fn");
    assert_eq!(f.function_name, "app-Fn");
    assert_eq!((f.memory_size, f.timeout), (128, 3));
    assert_eq!(
        (f.handler.as_str(), f.runtime.as_str()),
        ("app.handler", "python3.12")
    );
    assert!(f.code_sha256.is_empty());
    assert!(
        diagnostics(&loaded).is_empty(),
        "{:?}",
        diagnostics(&loaded)
    );
}

#[test]
fn long_generated_names_are_cut_to_64() {
    let id = "F".repeat(70);
    let text = function_template("", "").replace("  Fn:\n", &format!("  {id}:\n"));
    let loaded = load(&text);
    let name = &loaded.spec.functions[0].function_name;
    assert_eq!(name.len(), 64);
    assert!(name.starts_with("app-FFF"));
}

#[test]
fn every_supported_property() {
    let props = "      FunctionName: orders
      Description: takes orders
      MemorySize: 512
      Timeout: 30
      Architectures: [arm64]
      EphemeralStorage:
        Size: 1024
      Role: arn:aws:iam::123456789012:role/r
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Dlq.QueueName
      Tracing: Active
      ReservedConcurrentExecutions: 5
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 2
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref ErrorsAlarm, external-alarm]
        Hooks:
          PreTraffic: !Ref Check
      DeadLetterQueue:
        Type: SQS
        TargetArn: !GetAtt Dlq.Arn
      EventInvokeConfig:
        MaximumEventAgeInSeconds: 600
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt Dlq.Arn
      FunctionUrlConfig:
        AuthType: NONE
        InvokeMode: RESPONSE_STREAM
      Tags:
        team: shop
";
    let rest = "  Dlq:
    Type: AWS::SQS::Queue
  Check:
    Type: AWS::Serverless::Function
    Properties:
      Handler: c.h
      Runtime: python3.12
      InlineCode: x
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
Outputs:
  Alias:
    Value: !Ref FnAliaslive
  AliasToo:
    Value: !Ref Fn.Alias
  Url:
    Value: !GetAtt FnUrl.FunctionUrl
";
    let loaded = load(&function_template(props, rest));
    // The one diagnostic: Role and Policies are recorded, not enforced.
    let notes = diagnostics(&loaded);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("no IAM engine"), "{notes:?}");
    let f = function(&loaded, "Fn");
    let dlq_arn = "arn:aws:sqs:us-east-1:123456789012:app-Dlq";
    assert_eq!(f.function_name, "orders");
    assert_eq!(f.description.as_deref(), Some("takes orders"));
    assert_eq!((f.memory_size, f.timeout), (512, 30));
    assert_eq!(f.architectures, ["arm64"]);
    assert_eq!(f.ephemeral_storage, Some(1024));
    assert_eq!(f.role.as_deref(), Some("arn:aws:iam::123456789012:role/r"));
    assert_eq!(
        f.policies,
        Some(serde_json::json!([{"SQSSendMessagePolicy": {"QueueName": "app-Dlq"}}]))
    );
    assert_eq!(f.tracing.as_deref(), Some("Active"));
    assert_eq!(f.reserved_concurrency, Some(5));
    assert_eq!(f.provisioned_concurrency, Some(2));
    assert_eq!(f.auto_publish_alias.as_deref(), Some("live"));
    assert_eq!(
        f.deployment_preference,
        Some(DeploymentPreferenceSpec {
            kind: "Canary10Percent5Minutes".into(),
            enabled: true,
            alarms: vec!["ErrorsAlarm".into(), "external-alarm".into()],
            pre_traffic_hook: Some("app-Check".into()),
            post_traffic_hook: None,
        })
    );
    assert_eq!(f.dead_letter_target_arn.as_deref(), Some(dlq_arn));
    assert_eq!(
        f.event_invoke_config,
        Some(EventInvokeConfigSpec {
            maximum_retry_attempts: Some(1),
            maximum_event_age_in_seconds: Some(600),
            destination_config: Some(DestinationConfig {
                on_success: None,
                on_failure: Some(Destination {
                    destination: Some(dlq_arn.into())
                }),
            }),
        })
    );
    assert_eq!(
        f.function_url,
        Some(FunctionUrlSpec {
            auth_type: "NONE".into(),
            invoke_mode: Some("RESPONSE_STREAM".into()),
        })
    );
    assert_eq!(f.tags["team"], "shop");
    let alias_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders:live";
    assert_eq!(loaded.spec.outputs[0].value, alias_arn);
    assert_eq!(loaded.spec.outputs[1].value, alias_arn);
    let url = &loaded.spec.outputs[2].value;
    assert!(url.starts_with("http://"), "{url}");
    assert!(
        url.ends_with(".lambda-url.us-east-1.localhost:3000/"),
        "{url}"
    );
    let suffix = ".lambda-url.us-east-1.localhost:3000/";
    assert_eq!(url.len(), "http://".len() + 32 + suffix.len());
}

#[test]
fn deployment_preference_needs_an_alias() {
    let e = error(&function_template(
        "      DeploymentPreference:\n        Type: AllAtOnce\n",
        "",
    ));
    assert_eq!((e.line, e.column), (10, 9));
    assert!(e.to_string().contains("needs AutoPublishAlias"), "{e}");
}

#[test]
fn type_errors_point_at_the_value() {
    let e = error(&function_template("      MemorySize: lots\n", ""));
    assert_eq!(
        e.to_string(),
        "template.yaml:9:19: error: MemorySize must be an integer"
    );
    let e = error(&function_template("      Timeout: 901\n", ""));
    assert_eq!(
        e.to_string(),
        "template.yaml:9:16: error: Timeout must be between 1 and 900, not 901"
    );
    let e = error(&function_template(
        "      EphemeralStorage:\n        Size: big\n",
        "",
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:10:15: error: EphemeralStorage.Size must be an integer"
    );
    let e = error(&function_template("", "").replace("python3.12", "java21"));
    assert!(
        e.to_string()
            .starts_with("template.yaml:7:16: error: Runtime 'java21' is not supported"),
        "{e}"
    );
    let e = error(&function_template("", "").replace("python3.12", "provided.al2023"));
    assert_eq!(
        e.to_string(),
        "template.yaml:8:7: error: InlineCode needs a Python or Node.js runtime, not provided.al2023"
    );
    let e = error(&function_template("      PackageType: Image\n", ""));
    assert!(
        e.to_string()
            .starts_with("template.yaml:9:20: error: PackageType Image is not supported"),
        "{e}"
    );
}

#[test]
fn names_must_not_collide() {
    let e = error(&function_template(
        "      FunctionName: same\n",
        "  Other:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: same\n      Handler: a.b\n      Runtime: python3.12\n      InlineCode: x\n",
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:10:3: error: function name 'same' is already used by 'Fn'"
    );
}

/// A template in `dir` with one function whose code is `code` (a property line or none).
fn code_of(dir: &Path, code: &str) -> Result<(CodeSource, Vec<String>), String> {
    let text = format!(
        "{SAM}Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n{code}"
    );
    let file = dir.join("template.yaml");
    match load_str(&text, &file, &ctx()) {
        Ok(mut l) => {
            let d = l.diagnostics.iter().map(|d| d.message.clone()).collect();
            l.code
                .remove("Fn")
                .map(|c| (c, d))
                .ok_or_else(|| "no code".to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn the_four_ways_of_naming_code() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("src"))?;
    std::fs::write(dir.path().join("bundle.zip"), b"PK")?;
    std::fs::write(dir.path().join("notes.txt"), b"x")?;
    // A directory, relative to the template.
    assert_eq!(
        code_of(dir.path(), "      CodeUri: src/\n"),
        Ok((CodeSource::Dir(dir.path().join("src/")), vec![]))
    );
    // A zip file.
    assert_eq!(
        code_of(dir.path(), "      CodeUri: bundle.zip\n"),
        Ok((CodeSource::Zip(dir.path().join("bundle.zip")), vec![]))
    );
    // Inline code.
    assert_eq!(
        code_of(
            dir.path(),
            "      InlineCode: |\n        def handler(e, c):\n          return 1\n"
        ),
        Ok((
            CodeSource::Inline("def handler(e, c):\n  return 1\n".into()),
            vec![]
        ))
    );
    // Nothing: the template's directory, with a note.
    let (code, notes) = code_of(dir.path(), "").map_err(std::io::Error::other)?;
    assert_eq!(code, CodeSource::Dir(dir.path().to_path_buf()));
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("the template's directory is packaged"));
    Ok(())
}

#[test]
fn code_that_cannot_be_used() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("notes.txt"), b"x")?;
    let err = |code: &str| code_of(dir.path(), code).err().unwrap_or_default();
    let file = dir.path().join("template.yaml");
    let at = |line_col: &str| format!("{}:{line_col}: error: ", file.display());
    assert_eq!(
        err("      CodeUri: s3://bucket/key.zip\n"),
        format!(
            "{}CodeUri: upload not supported, use a local path (Nimbus cannot fetch S3 objects)",
            at("8:16")
        )
    );
    assert!(err("      CodeUri:\n        Bucket: b\n        Key: k\n").starts_with(&at("9:9")));
    assert!(err("      CodeUri: missing/\n").contains("CodeUri 'missing/' does not exist"));
    assert!(err("      CodeUri: notes.txt\n").contains("is neither a directory nor a .zip file"));
    assert!(err("      CodeUri: .\n      InlineCode: x\n").contains("cannot both be set"));
    Ok(())
}
