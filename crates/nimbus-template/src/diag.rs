//! Positions, warnings, notes and errors, all pointing at a line and column of the template
//! so a user can jump straight to the cause.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// A place in the template: 1-based line and 1-based column (in characters), as compilers
/// and editors count them. Line 0 means "no particular place" (e.g. the file is unreadable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }
}

/// How serious a [`Diagnostic`] is. Errors are not diagnostics: they stop the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Something in the template is ignored or behaves differently on Nimbus.
    Warning,
    /// Something worth knowing that changes nothing the template asked for.
    Note,
}

impl Severity {
    fn word(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A warning or a note about one place of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or note.
    pub severity: Severity,
    /// The template file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_place(f, &self.file, self.line, self.column)?;
        write!(f, "{}: {}", self.severity.word(), self.message)
    }
}

/// Why a template could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read the template: {0}")]
    Read(String),
    /// The file is larger than [`crate::limits::TEMPLATE_BYTES_MAX`].
    #[error("the template is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not well-formed YAML (the parser's own message).
    #[error("YAML syntax error: {0}")]
    Syntax(String),
    /// `!Ref`, `!GetAtt` or `${…}` names nothing the template defines.
    #[error("unresolved reference '{0}'")]
    Unresolved(String),
    /// A value has the wrong type.
    #[error("{what} must be {expected}")]
    Type {
        /// The property or argument.
        what: String,
        /// What it must be ("an integer", "a string", …).
        expected: &'static str,
    },
    /// A required property is missing.
    #[error("{what} is required")]
    Missing {
        /// The property.
        what: String,
    },
    /// A bound of [`crate::limits`] was exceeded.
    #[error("{0}")]
    Limit(String),
    /// Valid CloudFormation that Nimbus cannot honour (e.g. an `s3://` CodeUri).
    #[error("{0}")]
    Unsupported(String),
    /// Anything else that makes the template invalid.
    #[error("{0}")]
    Invalid(String),
}

/// A template error with its place, displayed like a compiler error:
/// `template.yaml:12:5: error: unresolved reference 'Nope'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template file.
    pub file: PathBuf,
    /// 1-based line (0 when the error concerns the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_place(f, &self.file, self.line, self.column)?;
        write!(f, "error: {}", self.kind)
    }
}

impl std::error::Error for TemplateError {}

fn write_place(f: &mut fmt::Formatter<'_>, file: &Path, line: usize, column: usize) -> fmt::Result {
    if line == 0 {
        write!(f, "{}: ", file.display())
    } else {
        write!(f, "{}:{line}:{column}: ", file.display())
    }
}

/// An error inside the pipeline: a place and a kind. The file is added at the edge
/// ([`Fail::into_error`]) so the inner code never carries paths around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub pos: Pos,
    pub kind: ErrorKind,
}

/// Result of every fallible step of the pipeline.
pub(crate) type Res<T> = Result<T, Fail>;

impl Fail {
    pub fn new(pos: Pos, kind: ErrorKind) -> Fail {
        Fail { pos, kind }
    }

    /// [`ErrorKind::Invalid`] at `pos`.
    pub fn invalid(pos: Pos, message: impl Into<String>) -> Fail {
        Fail::new(pos, ErrorKind::Invalid(message.into()))
    }

    /// [`ErrorKind::Type`] at `pos`.
    pub fn ty(pos: Pos, what: impl Into<String>, expected: &'static str) -> Fail {
        Fail::new(
            pos,
            ErrorKind::Type {
                what: what.into(),
                expected,
            },
        )
    }

    /// [`ErrorKind::Missing`] at `pos`.
    pub fn missing(pos: Pos, what: impl Into<String>) -> Fail {
        Fail::new(pos, ErrorKind::Missing { what: what.into() })
    }

    /// [`ErrorKind::Unsupported`] at `pos`.
    pub fn unsupported(pos: Pos, message: impl Into<String>) -> Fail {
        Fail::new(pos, ErrorKind::Unsupported(message.into()))
    }

    /// [`ErrorKind::Limit`] at `pos`.
    pub fn limit(pos: Pos, message: impl Into<String>) -> Fail {
        Fail::new(pos, ErrorKind::Limit(message.into()))
    }

    pub fn into_error(self, file: &Path) -> TemplateError {
        TemplateError {
            file: file.to_path_buf(),
            line: self.pos.line,
            column: self.pos.column,
            kind: self.kind,
        }
    }
}

/// The warnings and notes collected while loading, in the order they were found. The same
/// message at the same place is kept once (a `Globals` value merged into ten functions is
/// reported once).
#[derive(Debug, Default)]
pub(crate) struct Diags {
    list: Vec<(Severity, Pos, String)>,
    seen: HashSet<(Severity, Pos, String)>,
}

impl Diags {
    pub fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Warning, pos, message.into());
    }

    pub fn note(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Note, pos, message.into());
    }

    fn push(&mut self, severity: Severity, pos: Pos, message: String) {
        if self.seen.insert((severity, pos, message.clone())) {
            self.list.push((severity, pos, message));
        }
    }

    pub fn into_diagnostics(self, file: &Path) -> Vec<Diagnostic> {
        self.list
            .into_iter()
            .map(|(severity, pos, message)| Diagnostic {
                severity,
                file: file.to_path_buf(),
                line: pos.line,
                column: pos.column,
                message,
            })
            .collect()
    }
}
