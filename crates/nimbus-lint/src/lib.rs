//! `nimbus lint`: the seed's "two-minute rule" as checks of a resolved stack.
//!
//! A function is production-ready when someone can say, in two minutes, what triggers it,
//! how long it takes, where its failures go and how far it can scale. Each rule here looks
//! for one way a [`StackSpec`] leaves one of those unanswered (no dead-letter queue, no
//! concurrency cap, a timeout that fights the queue's visibility timeout, …), and, when
//! observations of the running function are given ([`Observed`]), for settings that the
//! measurements contradict (memory, timeout, Init).
//!
//! The crate is pure: it reads a spec (from a template or from the server) and returns
//! [`Finding`]s; reading files, calling the server and printing belong to the CLI. Rules and
//! their severities are listed in [`rules::Rule`]; every threshold is a named constant in
//! [`thresholds`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod concurrency;
mod failures;
mod observed;
pub mod rules;
pub mod thresholds;
mod timing;
mod triggers;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use nimbus_api::stack::StackSpec;
use serde::{Deserialize, Serialize};

pub use rules::Rule;

/// How much a finding matters. `nimbus lint` exits non-zero when any finding is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Will lose events, or AWS would refuse the configuration.
    Error,
    /// A risk that depends on load or on failures: fix before production traffic.
    Warning,
    /// Money or headroom left on the table; nothing breaks.
    Info,
}

impl Severity {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
            Severity::Info => "Info",
        }
    }
}

/// Where in the template a resource is defined (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    /// The rule's id, `NL001` … (stable: documented in docs/compat.md).
    pub id: String,
    /// How much it matters.
    pub severity: Severity,
    /// Logical id of the resource at fault (a function or a queue).
    pub resource: String,
    /// What is wrong with this resource, one line.
    pub message: String,
    /// Why it matters, one line.
    pub why: String,
    /// What to change, one line.
    pub fix: String,
    /// Where the resource is defined, when linting a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// What the platform measured for one function. Every field is optional: a rule that needs
/// a missing measurement is skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Observed {
    /// Highest `Max Memory Used` of any invocation, MB.
    #[serde(default)]
    pub max_memory_used_mb: Option<f64>,
    /// 99th percentile of invocation duration, ms.
    #[serde(default)]
    pub p99_duration_ms: Option<f64>,
    /// Longest Init (cold start) duration, ms.
    #[serde(default)]
    pub max_init_ms: Option<f64>,
    /// How many invocations the measurements cover.
    #[serde(default)]
    pub invocations: Option<u64>,
}

/// Everything a lint run reads.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The stack.
    pub spec: &'a StackSpec,
    /// Measurements by function logical id.
    pub observed: &'a BTreeMap<String, Observed>,
    /// Attributes of queues that event sources read but the stack does not define, by
    /// queue ARN (the stack's own queues are read from [`StackSpec::queues`]).
    pub external_queues: &'a BTreeMap<String, BTreeMap<String, String>>,
    /// (line, column) of each resource by logical id, when the spec came from a template.
    pub positions: &'a BTreeMap<String, (usize, usize)>,
}

impl<'a> Input<'a> {
    /// A spec alone: no observations, no external queues, no positions.
    pub fn spec_only(spec: &'a StackSpec) -> Input<'a> {
        static EMPTY_OBSERVED: BTreeMap<String, Observed> = BTreeMap::new();
        static EMPTY_QUEUES: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        static EMPTY_POSITIONS: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        Input {
            spec,
            observed: &EMPTY_OBSERVED,
            external_queues: &EMPTY_QUEUES,
            positions: &EMPTY_POSITIONS,
        }
    }
}

/// Runs every rule. Findings come most severe first, then by rule id and resource, so the
/// output is the same for the same input.
pub fn lint(input: &Input<'_>) -> Vec<Finding> {
    let mut found = Vec::new();
    failures::check(input, &mut found);
    concurrency::check(input, &mut found);
    timing::check(input, &mut found);
    observed::check(input, &mut found);
    for f in &mut found {
        f.location = input
            .positions
            .get(&f.resource)
            .map(|&(line, column)| Location { line, column });
    }
    found.sort_by(|a, b| {
        (a.severity, &a.id, &a.resource, &a.message).cmp(&(
            b.severity,
            &b.id,
            &b.resource,
            &b.message,
        ))
    });
    found
}

/// True when any finding is an error (the CLI's exit code).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// A finding of `rule` on `resource` with the rule's default severity and texts; `message`
/// says what this resource does wrong.
pub(crate) fn finding(rule: Rule, resource: &str, message: String) -> Finding {
    Finding {
        id: rule.id().to_string(),
        severity: rule.severity(),
        resource: resource.to_string(),
        message,
        why: rule.why().to_string(),
        fix: rule.fix().to_string(),
        location: None,
    }
}
