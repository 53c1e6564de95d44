//! `nimbus lint [template.yaml] [--output json]` and `nimbus lint --deployed [--stack NAME]`:
//! the production-readiness checks of `nimbus-lint`, on a template (offline) or on the
//! stacks a server runs (with what the server measured, when it can say: `observe`).
//!
//! Exit code 1 when any finding is an error, so CI can gate on it; warnings and notes
//! alone exit 0.

use crate::cli::{Endpoint, Output};
use crate::client::Client;
use crate::deploy::{self, ServerInfo, TEMPLATE_DEFAULT};
use anyhow::bail;
use clap::Args;
use nimbus_api::stack::StackSpec;
use nimbus_lint::{Finding, Input, Severity};
use nimbus_template::Loaded;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod observe;

/// Region a template is resolved in when no server is asked (it only shapes ARNs).
const OFFLINE_REGION: &str = "us-east-1";
/// Account a template is resolved in when no server is asked (Nimbus's default account).
const OFFLINE_ACCOUNT: &str = "000000000000";

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The SAM template (default: template.yaml).
    #[arg(conflicts_with = "deployed")]
    pub template: Option<PathBuf>,
    /// Lint the stacks deployed on the server (with its measurements) instead of a template.
    #[arg(long)]
    pub deployed: bool,
    /// Stack name: with --deployed, only this stack; with a template, the name it is
    /// resolved under (default: the template directory's name).
    #[arg(long)]
    pub stack: Option<String>,
    /// Template parameter override (repeatable).
    #[arg(
        long = "parameter",
        value_name = "KEY=VALUE",
        conflicts_with = "deployed"
    )]
    pub parameters: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// One stack's findings.
struct Linted {
    stack: String,
    findings: Vec<Finding>,
}

pub async fn run(a: LintArgs) -> anyhow::Result<ExitCode> {
    let (linted, observed_note) = if a.deployed {
        deployed(&a).await?
    } else {
        (vec![template(&a)?], None)
    };
    print(
        &linted,
        observed_note.as_deref(),
        a.output,
        a.template.as_deref(),
    );
    let errors = linted.iter().any(|l| nimbus_lint::has_errors(&l.findings));
    Ok(if errors {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Lints a loaded template (no observations: nothing has run yet).
pub fn lint_loaded(loaded: &Loaded) -> Vec<Finding> {
    nimbus_lint::lint(&Input {
        positions: &loaded.positions,
        ..Input::spec_only(&loaded.spec)
    })
}

fn template(a: &LintArgs) -> anyhow::Result<Linted> {
    let path = a
        .template
        .clone()
        .unwrap_or_else(|| PathBuf::from(TEMPLATE_DEFAULT));
    let stack = a
        .stack
        .clone()
        .unwrap_or_else(|| deploy::default_stack_name(&path));
    let info = ServerInfo {
        region: OFFLINE_REGION.to_string(),
        account_id: OFFLINE_ACCOUNT.to_string(),
        endpoint_url: None,
        gateway_url: None,
    };
    let loaded = deploy::load_template(&path, &stack, &a.parameters, &info, &a.endpoint.endpoint)?;
    Ok(Linted {
        stack,
        findings: lint_loaded(&loaded),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StackList {
    stacks: Vec<DeployedStack>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeployedStack {
    name: String,
    #[serde(default)]
    spec: Option<StackSpec>,
}

/// Every deployed stack (or the one named), linted with the server's measurements. The
/// note says when there were none to use.
async fn deployed(a: &LintArgs) -> anyhow::Result<(Vec<Linted>, Option<String>)> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let list: StackList = client.json(Method::GET, "/nimbus/v1/stacks", None).await?;
    let stacks: Vec<(String, StackSpec)> = list
        .stacks
        .into_iter()
        .filter(|s| a.stack.as_ref().is_none_or(|n| *n == s.name))
        .filter_map(|s| s.spec.map(|spec| (s.name, spec)))
        .collect();
    if let Some(name) = &a.stack
        && stacks.is_empty()
    {
        bail!("no deployed stack named {name:?}");
    }
    let mut observer = observe::Observer::new();
    let mut linted = Vec::new();
    for (stack, spec) in stacks {
        let mut observed = BTreeMap::new();
        for f in &spec.functions {
            if let Some(seen) = observer.observe(&client, &f.function_name).await {
                observed.insert(f.logical_id.clone(), seen);
            }
        }
        let findings = nimbus_lint::lint(&Input {
            observed: &observed,
            ..Input::spec_only(&spec)
        });
        linted.push(Linted { stack, findings });
    }
    Ok((linted, observer.note()))
}

fn print(linted: &[Linted], note: Option<&str>, output: Output, template: Option<&Path>) {
    if let Some(n) = note {
        eprintln!("nimbus lint: {n}");
    }
    if let Output::Json = output {
        let stacks: Vec<Value> = linted
            .iter()
            .map(|l| json!({ "Stack": l.stack, "Findings": l.findings }))
            .collect();
        let mut v = json!({ "Stacks": stacks });
        if let Some(t) = template {
            v["Template"] = json!(t.display().to_string());
        }
        if let Some(n) = note {
            v["Note"] = json!(n);
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    if linted.is_empty() {
        println!("No stacks deployed.");
    }
    for l in linted {
        println!("Stack {}: {}", l.stack, counts(&l.findings));
        if !l.findings.is_empty() {
            print!("{}", render(&l.findings));
        }
    }
}

/// "no findings" or "1 error, 2 warnings, 1 info".
pub fn counts(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".to_string();
    }
    let n = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let plural = |k: usize, word: &str| {
        if k == 1 || word == "info" {
            format!("{k} {word}")
        } else {
            format!("{k} {word}s")
        }
    };
    [
        (n(Severity::Error), "error"),
        (n(Severity::Warning), "warning"),
        (n(Severity::Info), "info"),
    ]
    .iter()
    .filter(|(k, _)| *k > 0)
    .map(|(k, w)| plural(*k, w))
    .collect::<Vec<_>>()
    .join(", ")
}

/// One block per finding: id, severity and resource (with its template line), then what is
/// wrong, why it matters and the fix, each on its own line (readable at any width).
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let resource = match f.location {
            Some(l) => format!("{} (line {})", f.resource, l.line),
            None => f.resource.clone(),
        };
        out.push_str(&format!(
            "  {} {:<7} {resource}\n      {}\n      why: {}\n      fix: {}\n",
            f.id,
            f.severity.as_str(),
            f.message,
            f.why,
            f.fix
        ));
    }
    out
}

/// Shown by `nimbus deploy` before its summary; deploys go ahead whatever it says.
pub fn print_for_deploy(findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    println!("Lint: {}", counts(findings));
    println!("{}", render(findings));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_naturally() {
        let f = |severity| Finding {
            id: "NL001".into(),
            severity,
            resource: "F".into(),
            message: String::new(),
            why: String::new(),
            fix: String::new(),
            location: None,
        };
        assert_eq!(counts(&[]), "no findings");
        assert_eq!(
            counts(&[
                f(Severity::Error),
                f(Severity::Warning),
                f(Severity::Warning)
            ]),
            "1 error, 2 warnings"
        );
        assert_eq!(counts(&[f(Severity::Info), f(Severity::Info)]), "2 info");
    }
}
