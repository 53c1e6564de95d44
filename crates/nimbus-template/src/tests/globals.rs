//! `Globals.Function` merge rules (SAM's globals.py), and what `Globals` may not do.

use super::{SAM, diagnostics, error, function, load};
use crate::ast::Node;
use crate::eval::Budget;
use crate::globals::{Ignore, apply, merge};
use crate::yaml::parse;

fn yaml(text: &str) -> Node {
    match parse(text) {
        Ok(n) => n,
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn merge_rules() {
    let global = yaml(
        "p: g\nlist: [g1, g2]\nmap: {a: g, b: g, deep: {x: g}}\nonly_global: 1\nmismatch: [g]\ncall: !Ref G\n",
    );
    let local =
        yaml("p: l\nlist: [l1]\nmap: {b: l, c: l, deep: {y: l}}\nmismatch: l\ncall: {Ref: L}\n");
    let merged = merge(global, local).to_json();
    let expected = serde_json::json!({
        "p": "l",
        "list": ["g1", "g2", "l1"],
        "map": {"a": "g", "b": "l", "deep": {"x": "g", "y": "l"}, "c": "l"},
        "only_global": 1,
        "mismatch": "l",
        "call": {"Ref": "L"},
    });
    assert_eq!(merged, expected);
}

#[test]
fn ignore_globals() {
    let global = yaml("Timeout: 9\nMemorySize: 512\n");
    let local = yaml("Handler: h\n");
    let budget = Budget::default();
    let all = apply(Some(&global), local.clone(), &Ignore::All, &budget).map(|n| n.to_json());
    assert_eq!(all, Ok(serde_json::json!({"Handler": "h"})));
    let some = apply(
        Some(&global),
        local,
        &Ignore::Some(vec!["Timeout".into()]),
        &budget,
    )
    .map(|n| n.to_json());
    assert_eq!(
        some,
        Ok(serde_json::json!({"MemorySize": 512, "Handler": "h"}))
    );
}

const TEMPLATE: &str = "Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    Runtime: python3.12
    Handler: app.handler
    InlineCode: x
    Bogus: 1
    Environment:
      Variables:
        SHARED: g
        OVERRIDDEN: g
    Tags:
      team: core
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 20
      Environment:
        Variables:
          OVERRIDDEN: a
          OWN: a
  B:
    Type: AWS::Serverless::Function
  C:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Timeout, Bogus]
    Properties:
      Tags:
        app: c
";

#[test]
fn globals_apply_to_every_function() {
    let loaded = load(TEMPLATE);
    let a = function(&loaded, "A");
    assert_eq!(a.timeout, 20);
    assert_eq!(a.runtime, "python3.12");
    assert_eq!(
        a.environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        ["OVERRIDDEN=a", "OWN=a", "SHARED=g"]
    );
    let b = function(&loaded, "B");
    assert_eq!(b.timeout, 10);
    assert_eq!(b.environment.len(), 2);
    let c = function(&loaded, "C");
    assert_eq!(c.timeout, 3);
    assert_eq!(c.tags.len(), 2);
    // The unknown global property is reported once, where it is written.
    assert_eq!(
        diagnostics(&loaded),
        [
            "template.yaml:8:5: warning: unknown property 'Bogus' of AWS::Serverless::Function, ignored"
        ]
    );
}

#[test]
fn globals_may_not_set_role_policies_name_or_events() {
    for key in [
        "Role: arn:aws:iam::1:role/x",
        "Policies: [AWSLambdaBasicExecutionRole]",
        "FunctionName: f",
        "Events: {}",
    ] {
        let text = TEMPLATE.replace("    Bogus: 1\n", &format!("    {key}\n"));
        let e = error(&text);
        assert_eq!((e.line, e.column), (8, 5), "{e}");
        assert!(e.to_string().contains("Globals.Function cannot set"), "{e}");
    }
}

#[test]
fn globals_need_the_transform() {
    let e = error(
        "Globals:\n  Function:\n    Timeout: 3\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert_eq!(
        e.to_string(),
        "template.yaml:1:1: error: Globals needs `Transform: AWS::Serverless-2016-10-31`"
    );
}

#[test]
fn other_globals_sections() {
    let loaded = load(&format!(
        "{SAM}Globals:\n  Api:\n    Cors: '*'\n  SimpleTable:\n    SSESpecification: {{}}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    ));
    assert_eq!(
        diagnostics(&loaded),
        [
            "template.yaml:3:3: note: Globals.Api: Cors ignored: Nimbus serves every route on its gateway listener",
            "template.yaml:5:3: warning: Globals.SimpleTable: Nimbus does not support these resources, ignored",
        ]
    );
}
