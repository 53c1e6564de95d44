//! `Conditions`, `Condition:` on resources and outputs, and the condition functions in both
//! forms.

use super::{SAM, ctx, error, error_with, load, load_with};

/// One queue per condition, so the queues created tell which conditions hold.
fn holding(env: &str) -> Vec<String> {
    let mut ctx = ctx();
    ctx.parameters.insert("Env".into(), env.into());
    let names = [
        "IsProd",
        "IsProdLong",
        "NotProd",
        "NotProdLong",
        "Both",
        "BothLong",
        "Either",
        "EitherLong",
        "Later",
    ];
    let queues: String = names
        .iter()
        .map(|n| format!("  Q{n}:\n    Type: AWS::SQS::Queue\n    Condition: {n}\n"))
        .collect();
    let text = format!(
        "Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
Conditions:
  Later: !Condition NotProd
  IsProd: !Equals [!Ref Env, prod]
  IsProdLong:
    Fn::Equals: [{{Ref: Env}}, prod]
  NotProd: !Not [!Condition IsProd]
  NotProdLong: {{'Fn::Not': [{{Condition: IsProd}}]}}
  Both: !And [!Condition IsProd, !Equals [1, '1']]
  BothLong: {{'Fn::And': [{{Condition: IsProd}}, {{Condition: NotProd}}]}}
  Either: !Or [!Condition IsProd, !Equals [a, b]]
  EitherLong:
    Fn::Or:
      - Condition: NotProd
      - Fn::Equals: [a, b]
Resources:
{queues}"
    );
    let loaded = load_with(&text, &ctx);
    loaded
        .spec
        .queues
        .iter()
        .map(|q| q.logical_id.trim_start_matches('Q').to_string())
        .collect()
}

#[test]
fn condition_functions_in_both_forms() {
    assert_eq!(holding("prod"), ["Both", "Either", "IsProd", "IsProdLong"]);
    assert_eq!(
        holding("dev"),
        ["EitherLong", "Later", "NotProd", "NotProdLong"]
    );
}

#[test]
fn false_condition_removes_resources_and_outputs() {
    let text = format!(
        "{SAM}Conditions:
  Off: !Equals [a, b]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Condition: Off
    Properties:
      Handler: a.b
      Runtime: python3.12
      InlineCode: x
  Q:
    Type: AWS::SQS::Queue
Outputs:
  Hidden:
    Condition: Off
    Value: !Ref Fn
  Shown:
    Value: !If [Off, x, y]
"
    );
    let loaded = load(&text);
    assert!(loaded.spec.functions.is_empty());
    assert_eq!(loaded.spec.outputs.len(), 1);
    assert_eq!(loaded.spec.outputs[0].value, "y");
}

#[test]
fn referring_to_a_resource_whose_condition_is_false_is_an_error() {
    let e = error(
        "Conditions:
  Off: !Equals [a, b]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Condition: Off
Outputs:
  Url:
    Value: !Ref Q
",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:9:12: error: 'Q' does not exist: its Condition 'Off' is false"
    );
}

#[test]
fn condition_errors() {
    let e = error(
        "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert!(
        e.to_string().contains("refers to itself (A → B → A)"),
        "{e}"
    );
    let e = error("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Condition: Nope\n");
    assert_eq!(
        e.to_string(),
        "template.yaml:4:16: error: unknown condition 'Nope'"
    );
    let e = error(
        "Conditions:\n  A: !And [!Equals [a, a]]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:2:6: error: Fn::And takes 2 to 10 conditions"
    );
    let mut c = ctx();
    c.parameters.insert("Env".into(), "dev".into());
    let e = error_with(
        "Parameters:\n  Env: {Type: String}\nConditions:\n  A: !Ref Env\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        &c,
    );
    assert!(
        e.to_string()
            .starts_with("template.yaml:4:6: error: 'Ref' cannot be a condition"),
        "{e}"
    );
}
