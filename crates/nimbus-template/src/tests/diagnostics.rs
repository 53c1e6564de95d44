//! Warnings and errors: exact places, the compiler-like format, and the limits.

use std::path::Path;

use super::{SAM, ctx, diagnostics, error, load, warnings};
use crate::limits::{DEPTH_MAX, RESOURCES_MAX, TEMPLATE_BYTES_MAX};
use crate::{ErrorKind, load_str};

#[test]
fn warnings_name_file_line_and_column() {
    let loaded = load(&format!(
        "{SAM}Bogus: 1
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
  Fn:
    Type: AWS::Serverless::Function
    Retain: true
    Properties:
      Handler: a.h
      Runtime: python3.12
      InlineCode: x
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:l:1]
      Colour: blue
      Environment:
        Variables:
          TABLE: !Ref Table
        Extra: 1
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
"
    ));
    assert_eq!(
        diagnostics(&loaded),
        [
            "template.yaml:2:1: warning: unknown top-level section 'Bogus', ignored",
            "template.yaml:5:11: warning: resource type AWS::DynamoDB::Table is not supported by Nimbus, ignored (references to 'Table' resolve to 'app-Table')",
            "template.yaml:10:5: warning: unknown resource attribute 'Retain', ignored",
            "template.yaml:20:9: warning: unknown property 'Environment.Extra' of AWS::Serverless::Function, ignored",
            "template.yaml:15:7: warning: Layers is not supported, ignored: the function runs without its layers",
            "template.yaml:16:7: warning: unknown property 'Colour' of AWS::Serverless::Function, ignored",
            "template.yaml:22:11: note: IAM roles and policies are accepted and their names and ARNs resolve, but nothing is enforced: Nimbus has no IAM engine",
        ]
    );
    assert_eq!(loaded.spec.functions[0].environment["TABLE"], "app-Table");
    assert_eq!(loaded.diagnostics[0].line, 2);
    assert_eq!(loaded.diagnostics[0].column, 1);
    assert_eq!(loaded.diagnostics[0].file, Path::new("template.yaml"));
}

#[test]
fn serverless_resources_need_the_transform() {
    let e = error("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n");
    assert_eq!(
        e.to_string(),
        "template.yaml:3:11: error: AWS::Serverless::Function needs `Transform: AWS::Serverless-2016-10-31` at the top of the template"
    );
    let loaded = load(
        "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert_eq!(
        warnings(&loaded),
        [
            "template.yaml:1:13: warning: transform 'AWS::LanguageExtensions' is not supported by Nimbus, ignored"
        ]
    );
}

#[test]
fn yaml_errors_have_the_parser_position() {
    let e = error("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n   Properties: {}\n");
    assert_eq!(e.line, 4);
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e}");
    assert!(e.to_string().starts_with("template.yaml:4:"), "{e}");
    let e = error("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n  Q:\n    Type: AWS::SQS::Queue\n");
    assert_eq!(e.to_string(), "template.yaml:4:3: error: duplicate key 'Q'");
    let e = error("Resources: [\n");
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e}");
    let e = error("a: 1\n---\nb: 2\n");
    assert!(e.to_string().contains("single YAML document"), "{e}");
    let e = error("");
    assert_eq!(
        e.to_string(),
        "template.yaml:1:1: error: the template is empty"
    );
}

#[test]
fn structural_errors() {
    let e = error("Description: x\n");
    assert_eq!(
        e.to_string(),
        "template.yaml:1:1: error: the Resources section is required"
    );
    let e = error("Resources:\n  my-queue:\n    Type: AWS::SQS::Queue\n");
    assert_eq!(
        e.to_string(),
        "template.yaml:2:3: error: logical id 'my-queue' must be alphanumeric"
    );
    let e = error("Resources:\n  Q:\n    Properties: {}\n");
    assert_eq!(
        e.to_string(),
        "template.yaml:2:3: error: resource 'Q': Type is required"
    );
    let e = error(
        "AWSTemplateFormatVersion: '2012-01-01'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert!(
        e.to_string()
            .starts_with("template.yaml:1:27: error: AWSTemplateFormatVersion"),
        "{e}"
    );
    let e = error("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    DependsOn: [Nope]\n");
    assert!(e.to_string().contains("DependsOn names 'Nope'"), "{e}");
}

#[test]
fn limits() {
    let big = format!("Description: '{}'\n", "x".repeat(TEMPLATE_BYTES_MAX));
    let e = error(&big);
    assert_eq!(e.line, 0);
    assert!(matches!(e.kind, ErrorKind::TooLarge { .. }));
    assert!(
        e.to_string()
            .starts_with("template.yaml: error: the template is"),
        "{e}"
    );

    let deep = format!(
        "a: {}{}\n",
        "[".repeat(DEPTH_MAX + 1),
        "]".repeat(DEPTH_MAX + 1)
    );
    let e = error(&deep);
    assert!(e.to_string().contains("nests deeper than 64 levels"), "{e}");
    // Far deeper than any stack could recurse: rejected without recursion.
    let very_deep = format!("a: {}\n", "[".repeat(200_000));
    assert!(matches!(
        error(&very_deep).kind,
        ErrorKind::Limit(_) | ErrorKind::Syntax(_)
    ));

    let mut many = String::from("Resources:\n");
    for i in 0..=RESOURCES_MAX {
        many.push_str(&format!("  Q{i}:\n    Type: AWS::SQS::Queue\n"));
    }
    assert!(error(&many).to_string().contains("at most 500 resources"));

    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert!(
        error(bomb)
            .to_string()
            .contains("more than 1000000 YAML nodes")
    );

    // `!Sub` doubling through its variables stays bounded.
    let mut sub = String::from("'x'");
    for _ in 0..25 {
        sub = format!("!Sub ['${{v}}${{v}}', {{v: {sub}}}]");
    }
    let text =
        format!("Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  O:\n    Value: {sub}\n");
    let e = error(&text);
    assert!(matches!(e.kind, ErrorKind::Limit(_)), "{e}");
}

#[test]
fn load_reads_files_and_reports_unreadable_ones() {
    let e = match crate::load(Path::new("/nonexistent/template.yaml"), &ctx()) {
        Ok(_) => panic!("loaded a missing file"),
        Err(e) => e,
    };
    assert!(
        e.to_string()
            .starts_with("/nonexistent/template.yaml: error: cannot read the template"),
        "{e}"
    );
    let ok = load_str(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        Path::new("t.yaml"),
        &ctx(),
    );
    assert!(ok.is_ok());
}
