//! `Parameters`: defaults, `--parameter` overrides, types and constraints.

use super::{SAM, ctx, error, error_with, function, load_with};

const TEMPLATE: &str = "Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
    ConstraintDescription: dev or prod
  Memory:
    Type: Number
    Default: 256
    MinValue: 128
  Zones:
    Type: CommaDelimitedList
    Default: 'a, b'
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.h
      Runtime: python3.12
      InlineCode: x
      MemorySize: !Ref Memory
      Environment:
        Variables:
          ENV: !Ref Env
          ZONES: !Join ['|', !Ref Zones]
";

fn with(params: &[(&str, &str)]) -> crate::Context {
    let mut c = ctx();
    for (k, v) in params {
        c.parameters.insert((*k).into(), (*v).into());
    }
    c
}

#[test]
fn defaults_apply() {
    let loaded = load_with(TEMPLATE, &ctx());
    let f = function(&loaded, "Fn");
    assert_eq!(f.memory_size, 256);
    assert_eq!(f.environment["ENV"], "dev");
    assert_eq!(f.environment["ZONES"], "a|b");
}

#[test]
fn overrides_win() {
    let loaded = load_with(
        TEMPLATE,
        &with(&[("Env", "prod"), ("Memory", "1024"), ("Zones", "x,y,z")]),
    );
    let f = function(&loaded, "Fn");
    assert_eq!(f.memory_size, 1024);
    assert_eq!(f.environment["ENV"], "prod");
    assert_eq!(f.environment["ZONES"], "x|y|z");
}

#[test]
fn allowed_values_are_checked() {
    let e = error_with(TEMPLATE, &with(&[("Env", "qa")]));
    assert_eq!(
        e.to_string(),
        "template.yaml:3:3: error: parameter 'Env': value 'qa' is not one of the AllowedValues (dev, prod) (dev or prod)"
    );
    let bad_default = TEMPLATE.replace("Default: dev", "Default: stage");
    let e = error_with(&bad_default, &ctx());
    assert_eq!(e.line, 5);
    assert_eq!(e.column, 14);
}

#[test]
fn numbers_are_checked() {
    let e = error_with(TEMPLATE, &with(&[("Memory", "lots")]));
    assert!(
        e.to_string()
            .ends_with("parameter 'Memory': value 'lots' is not a number"),
        "{e}"
    );
    let e = error_with(TEMPLATE, &with(&[("Memory", "64")]));
    assert!(e.to_string().contains("less than MinValue 128"), "{e}");
}

#[test]
fn a_parameter_without_a_value_is_an_error_at_its_line() {
    let e = error(&format!(
        "{SAM}Parameters:\n  Needed:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    ));
    assert_eq!(
        e.to_string(),
        "template.yaml:3:3: error: parameter 'Needed' has no value: give it a Default or pass --parameter Needed=VALUE"
    );
}

#[test]
fn unknown_overrides_are_errors() {
    let e = error_with(TEMPLATE, &with(&[("Nope", "1")]));
    assert!(
        e.to_string()
            .contains("the template has no parameter 'Nope'"),
        "{e}"
    );
}

#[test]
fn wrong_types_from_parameters_point_at_the_ref() {
    let text = TEMPLATE.replace(
        "Type: Number\n    Default: 256\n    MinValue: 128",
        "Type: String\n    Default: big",
    );
    let e = error_with(&text, &ctx());
    assert_eq!(
        e.to_string(),
        "template.yaml:21:19: error: MemorySize must be an integer"
    );
}
