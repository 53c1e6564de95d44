//! Every intrinsic function, in its short (`!Ref`) and long (`Ref:` / `Fn::X:`) forms, and
//! the pseudo parameters.

use super::{SAM, error, function, load};

/// A template whose function's environment holds one variable per intrinsic under test.
fn env_of(vars: &str) -> std::collections::BTreeMap<String, String> {
    let text = format!(
        "{SAM}Parameters:
  Stage:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: 'a, b,c'
Mappings:
  Sizes:
    dev:
      Memory: 256
      Zones: [x, y]
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: my-fn
      Handler: app.handler
      Runtime: python3.12
      InlineCode: x
      Environment:
        Variables:
{vars}
  Queue:
    Type: AWS::SQS::Queue
"
    );
    load(&text).spec.functions[0].environment.clone()
}

fn one(var: &str) -> String {
    let env = env_of(&format!("          V: {var}"));
    match env.get("V") {
        Some(v) => v.clone(),
        None => panic!("V removed: {env:?}"),
    }
}

#[test]
fn ref_both_forms() {
    assert_eq!(one("!Ref Stage"), "dev");
    assert_eq!(one("{Ref: Stage}"), "dev");
    assert_eq!(one("\n            Ref: Stage"), "dev");
}

#[test]
fn pseudo_parameters() {
    assert_eq!(one("!Ref AWS::Region"), "us-east-1");
    assert_eq!(one("!Ref AWS::AccountId"), "123456789012");
    assert_eq!(one("!Ref AWS::StackName"), "app");
    assert_eq!(one("!Ref AWS::Partition"), "aws");
    assert_eq!(one("{Ref: AWS::URLSuffix}"), "amazonaws.com");
    assert!(
        one("!Ref AWS::StackId")
            .starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/app/")
    );
}

#[test]
fn ref_and_getatt_of_resources() {
    assert_eq!(one("!Ref Fn"), "my-fn");
    assert_eq!(
        one("!GetAtt Fn.Arn"),
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
    );
    assert_eq!(
        one("!Ref Queue"),
        "http://127.0.0.1:9000/123456789012/app-Queue"
    );
    let arn = "arn:aws:sqs:us-east-1:123456789012:app-Queue";
    assert_eq!(one("!GetAtt Queue.Arn"), arn);
    assert_eq!(one("!GetAtt [Queue, Arn]"), arn);
    assert_eq!(one("{'Fn::GetAtt': [Queue, Arn]}"), arn);
    assert_eq!(one("{'Fn::GetAtt': Queue.Arn}"), arn);
    assert_eq!(
        one("!GetAtt [Queue, !Join ['', [Queue, Name]]]"),
        "app-Queue"
    );
    assert_eq!(
        one("!GetAtt Queue.QueueUrl"),
        "http://127.0.0.1:9000/123456789012/app-Queue"
    );
    // SAM's implicit role of a function without Role.
    assert_eq!(
        one("!GetAtt FnRole.Arn"),
        "arn:aws:iam::123456789012:role/app-FnRole"
    );
}

#[test]
fn sub_both_forms() {
    assert_eq!(
        one("!Sub '${AWS::Region}/${Stage}/${Queue.QueueName}/${!Literal}/${Fn}'"),
        "us-east-1/dev/app-Queue/${Literal}/my-fn"
    );
    assert_eq!(
        one("{'Fn::Sub': ['${A}-${B}-${AWS::AccountId}', {A: !Ref Stage, B: 7}]}"),
        "dev-7-123456789012"
    );
    assert_eq!(
        one("\n            Fn::Sub: 'arn:${AWS::Partition}:x'"),
        "arn:aws:x"
    );
    assert_eq!(
        one("!Sub\n            - 'q=${Q}'\n            - Q: !GetAtt Queue.Arn"),
        "q=arn:aws:sqs:us-east-1:123456789012:app-Queue"
    );
    assert_eq!(one("!Sub 'no ${ end'"), "no ${ end");
}

#[test]
fn join_both_forms() {
    assert_eq!(one("!Join ['-', [a, !Ref Stage, 3]]"), "a-dev-3");
    assert_eq!(one("{'Fn::Join': [',', !Ref Names]}"), "a,b,c");
    assert_eq!(one("!Join ['', []]"), "");
}

#[test]
fn select_split_getazs_both_forms() {
    assert_eq!(one("!Select [1, !Ref Names]"), "b");
    assert_eq!(one("{'Fn::Select': ['0', [p, q]]}"), "p");
    assert_eq!(one("!Select [2, !Split [':', 'a:b:c']]"), "c");
    assert_eq!(one("!Select [1, {'Fn::Split': ['/', 'x/y']}]"), "y");
    assert_eq!(one("!Select [0, !GetAZs '']"), "us-east-1a");
    assert_eq!(
        one("!Select [1, {'Fn::GetAZs': !Ref AWS::Region}]"),
        "us-east-1b"
    );
    assert_eq!(one("!Select [2, !GetAZs eu-west-1]"), "eu-west-1c");
}

#[test]
fn if_both_forms_and_no_value() {
    assert_eq!(one("!If [IsDev, on-dev, elsewhere]"), "on-dev");
    assert_eq!(one("{'Fn::If': [IsDev, !Ref Stage, x]}"), "dev");
    let env = env_of(
        "          GONE: !If [IsDev, !Ref AWS::NoValue, kept]\n          ALSO_GONE: !Ref AWS::NoValue\n          KEPT: k",
    );
    assert_eq!(env.len(), 1, "{env:?}");
    assert_eq!(env["KEPT"], "k");
}

#[test]
fn find_in_map_both_forms() {
    assert_eq!(one("!FindInMap [Sizes, !Ref Stage, Memory]"), "256");
    assert_eq!(one("{'Fn::FindInMap': [Sizes, dev, Memory]}"), "256");
    assert_eq!(one("!Join ['+', !FindInMap [Sizes, dev, Zones]]"), "x+y");
}

#[test]
fn base64_both_forms() {
    assert_eq!(one("!Base64 hello"), "aGVsbG8=");
    assert_eq!(one("{'Fn::Base64': !Ref Stage}"), "ZGV2");
}

#[test]
fn no_value_removes_a_property_so_the_default_applies() {
    let text = format!(
        "{SAM}Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h.h\n      Runtime: python3.12\n      InlineCode: x\n      MemorySize: !Ref AWS::NoValue\n      Timeout: {{'Fn::If': [Never, 10, !Ref AWS::NoValue]}}\n      Tags:\n        Keep: 'yes'\n        Drop: !Ref AWS::NoValue\nConditions:\n  Never: !Equals [a, b]\n"
    );
    let loaded = load(&text);
    let f = function(&loaded, "Fn");
    assert_eq!((f.memory_size, f.timeout), (128, 3));
    assert_eq!(f.tags.len(), 1);
}

#[test]
fn intrinsic_errors_name_the_place() {
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${{Nope}}-q'\n"
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:6:18: error: unresolved reference 'Nope'"
    );
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: !Select [5, [1]]\n"
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:6:21: error: Fn::Select index 5 is out of range (the list has 1 items)"
    );
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: !ImportValue other\n"
    ));
    assert!(
        e.to_string()
            .starts_with("template.yaml:6:21: error: cross-stack"),
        "{e}"
    );
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: !Equals [a, a]\n"
    ));
    assert!(
        e.to_string()
            .contains("only be used in the Conditions section"),
        "{e}"
    );
    let e = error(&format!(
        "{SAM}Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: !GetAtt Q.Nope\n"
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:6:21: error: unresolved reference 'Q.Nope'"
    );
    let e = error(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: !Bogus 1\n",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:5:21: error: unknown tag '!Bogus'"
    );
}
