//! End-to-end tests of the loader: small inline templates, and the template files of the
//! repository (`tests/templates/*/template.yaml`, `examples/sam-app/template.yaml`).

mod conditions;
mod diagnostics;
mod events;
mod files;
mod functions;
mod globals;
mod intrinsics;
mod outputs;
mod params;
mod queues_alarms;
mod reading;

use std::path::Path;

use nimbus_api::stack::FunctionSpec;

use crate::{Context, Loaded, Severity, TemplateError, load_str};

/// The deployment every test uses.
pub(crate) fn ctx() -> Context {
    Context {
        stack_name: "app".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        queue_url_base: "http://127.0.0.1:9000".into(),
        gateway_url: "http://127.0.0.1:3000".into(),
        parameters: Default::default(),
    }
}

/// The file name inline templates are loaded as.
pub(crate) const FILE: &str = "template.yaml";

/// SAM's header, so tests only write what they test.
pub(crate) const SAM: &str = "Transform: AWS::Serverless-2016-10-31\n";

/// Loads `text` with [`ctx`], panicking with the error's text on failure.
pub(crate) fn load(text: &str) -> Loaded {
    load_with(text, &ctx())
}

pub(crate) fn load_with(text: &str, ctx: &Context) -> Loaded {
    match load_str(text, Path::new(FILE), ctx) {
        Ok(l) => l,
        Err(e) => panic!("{e}\n--- template ---\n{text}"),
    }
}

/// Loads `text`, expecting an error.
pub(crate) fn error(text: &str) -> TemplateError {
    error_with(text, &ctx())
}

pub(crate) fn error_with(text: &str, ctx: &Context) -> TemplateError {
    match load_str(text, Path::new(FILE), ctx) {
        Ok(l) => panic!("expected an error, loaded {:#?}", l.spec),
        Err(e) => e,
    }
}

/// `file:line:col: severity: message` of every diagnostic.
pub(crate) fn diagnostics(loaded: &Loaded) -> Vec<String> {
    loaded.diagnostics.iter().map(ToString::to_string).collect()
}

/// The warnings only, as text.
pub(crate) fn warnings(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(ToString::to_string)
        .collect()
}

/// A SAM template with one inline-code function `Fn` whose extra properties are `props`
/// (indented by the caller to 6 spaces), followed by `rest` (more resources, indented 2).
pub(crate) fn function_template(props: &str, rest: &str) -> String {
    format!(
        "{SAM}Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      InlineCode: 'def handler(e, c): return e'\n{props}{rest}"
    )
}

/// The function with logical id `id`.
pub(crate) fn function<'a>(loaded: &'a Loaded, id: &str) -> &'a FunctionSpec {
    match loaded.spec.functions.iter().find(|f| f.logical_id == id) {
        Some(f) => f,
        None => panic!("no function {id} in {:#?}", loaded.spec.functions),
    }
}
