//! SAM / CloudFormation templates → the resolved [`StackSpec`] `nimbus deploy` sends.
//!
//! The pipeline, one module per step:
//!
//! 1. `yaml` reads the text (≤ 1 MB) into a small tree of `ast::Node`s, each with its
//!    line and column, rewriting short tags (`!Ref X`) into long form (`{Ref: X}`).
//! 2. `template` splits the sections and checks the `Transform`; `params` resolves
//!    `Parameters` (defaults, `--parameter` overrides, `AllowedValues`); `conditions`
//!    evaluates `Conditions`; `globals` merges `Globals.Function` into each function by
//!    SAM's rules.
//! 3. `resources` gives every resource its physical name and the values `!Ref` /
//!    `!GetAtt` resolve to (SAM's implicit resources included: `ServerlessRestApi`,
//!    `<Fn>Role`, `<Fn>Alias<Name>`, …), before any property is read, so properties may
//!    refer to any resource.
//! 4. `eval` resolves the intrinsics of each resource's properties; `function`,
//!    `events`, `queue` and `alarm` read the resolved properties into the spec types,
//!    warning (never silently) about anything Nimbus ignores; `outputs` resolves `Outputs`
//!    and points API Gateway URLs at the Nimbus gateway.
//!
//! Errors stop the load and name `file:line:column`; warnings and notes are collected in
//! [`Loaded::diagnostics`]. Every bound is in [`limits`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alarm;
mod ast;
mod conditions;
mod diag;
mod eval;
mod events;
mod function;
mod globals;
pub mod limits;
mod names;
mod outputs;
mod params;
mod props;
mod queue;
mod resources;
mod schedule;
mod template;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use nimbus_api::stack::StackSpec;

pub use diag::{Diagnostic, ErrorKind, Severity, TemplateError};

/// Where and as what the template is deployed: the values of the pseudo parameters and the
/// endpoints resource attributes point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// `AWS::StackName`, and the prefix of generated physical names.
    pub stack_name: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId` (12 digits).
    pub account_id: String,
    /// Base of queue URLs (`{base}/{account}/{name}`), e.g. `http://127.0.0.1:9000`.
    pub queue_url_base: String,
    /// The gateway listener, e.g. `http://127.0.0.1:3000`: API Gateway URLs in `Outputs`
    /// are rewritten to it.
    pub gateway_url: String,
    /// `--parameter K=V` overrides.
    pub parameters: BTreeMap<String, String>,
}

/// Where a function's code comes from. Paths are resolved against the template's directory
/// and exist (checked while loading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    /// `CodeUri` naming a directory (or no `CodeUri`: the template's directory, as
    /// `sam build` does): zipped by the CLI.
    Dir(PathBuf),
    /// `CodeUri` naming a `.zip` file: uploaded as is.
    Zip(PathBuf),
    /// `InlineCode`: the source text, packaged as one file.
    Inline(String),
}

/// A loaded template.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The resolved stack; every `code_sha256` is empty (the CLI fills them in).
    pub spec: StackSpec,
    /// Each function's code, by logical id.
    pub code: BTreeMap<String, CodeSource>,
    /// Warnings and notes, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each resource that exists (its `Condition` holds) is defined: (line, column)
    /// of its logical id, 1-based, by logical id; lets checks of the spec point at the
    /// template.
    pub positions: BTreeMap<String, (usize, usize)>,
}

impl Loaded {
    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

/// Reads and resolves the template at `path`.
pub fn load(path: &Path, ctx: &Context) -> Result<Loaded, TemplateError> {
    let whole_file = |kind| TemplateError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        kind,
    };
    // stat first: opening a FIFO would block; a device has no length to check.
    let meta = std::fs::metadata(path).map_err(|e| whole_file(ErrorKind::Read(e.to_string())))?;
    if !meta.is_file() {
        return Err(whole_file(ErrorKind::Read("not a regular file".into())));
    }
    let file = std::fs::File::open(path).map_err(|e| whole_file(ErrorKind::Read(e.to_string())))?;
    // Read one byte past the cap so a file that grows after the stat is still caught.
    let mut bytes = Vec::new();
    std::io::Read::take(file, limits::TEMPLATE_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole_file(ErrorKind::Read(e.to_string())))?;
    if bytes.len() > limits::TEMPLATE_BYTES_MAX {
        let size = usize::try_from(meta.len())
            .unwrap_or(usize::MAX)
            .max(bytes.len());
        return Err(whole_file(ErrorKind::TooLarge {
            size,
            limit: limits::TEMPLATE_BYTES_MAX,
        }));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| whole_file(ErrorKind::Read("not UTF-8 text".into())))?;
    load_str(&text, path, ctx)
}

/// Resolves template `text`; `file` names it in messages and is the base of relative code
/// paths.
pub fn load_str(text: &str, file: &Path, ctx: &Context) -> Result<Loaded, TemplateError> {
    if text.len() > limits::TEMPLATE_BYTES_MAX {
        return Err(TemplateError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            kind: ErrorKind::TooLarge {
                size: text.len(),
                limit: limits::TEMPLATE_BYTES_MAX,
            },
        });
    }
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut diags = diag::Diags::default();
    let result = yaml::parse(text).and_then(|root| template::build(root, ctx, &base, &mut diags));
    match result {
        Ok((spec, code, positions)) => Ok(Loaded {
            spec,
            code,
            diagnostics: diags.into_diagnostics(file),
            positions,
        }),
        Err(fail) => Err(fail.into_error(file)),
    }
}
