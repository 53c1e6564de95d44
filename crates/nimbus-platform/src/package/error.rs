//! The error type of package handling and its mapping to Lambda's wire errors.

use std::io;

/// Lambda's sentence for a zip it cannot unpack (`InvalidParameterValueException`).
const COULD_NOT_UNZIP: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// Longest entry name quoted in an error, in characters; names can be 4 KiB of noise.
const NAME_QUOTE_CHARS_MAX: usize = 200;

/// Why a package was refused or could not be stored.
///
/// Every variant except [`PackageError::Io`] is the client's fault; see
/// [`PackageError::lambda_error_code`] and [`PackageError::lambda_message`] for the wire error.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The zip itself is over the zipped-size limit.
    #[error("zip file is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },

    /// Extraction wrote (or the headers declare) more than the unzipped-size limit.
    #[error("unzipped size is more than the limit of {limit} bytes")]
    UnzippedTooLarge { limit: u64 },

    /// Not a zip we can read: corrupt or truncated archive, CRC mismatch, encrypted entry,
    /// unsupported compression method, duplicate or overlapping entries.
    #[error("invalid zip file: {reason}")]
    InvalidZip { reason: String },

    /// An entry whose name, type or symlink target we refuse to write.
    /// `name` is escaped and shortened for display.
    #[error("entry '{name}': {reason}")]
    UnsafeEntry { name: String, reason: String },

    /// Too many zip entries, or too many files and directories created.
    #[error("too many {what}: {count}, the limit is {limit}")]
    TooManyEntries {
        what: &'static str,
        count: u64,
        limit: u64,
    },

    /// A local filesystem failure; the server's fault, not the package's.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl PackageError {
    /// Lambda's error code for this error, as sent in `X-Amzn-ErrorType`.
    ///
    /// `TooLarge` maps to 413 `RequestEntityTooLargeException` (AWS refuses the request body
    /// itself); the other client faults to 400 `InvalidParameterValueException`; `Io` to 500
    /// `ServiceException`.
    pub fn lambda_error_code(&self) -> &'static str {
        match self {
            PackageError::TooLarge { .. } => "RequestEntityTooLargeException",
            PackageError::UnzippedTooLarge { .. }
            | PackageError::InvalidZip { .. }
            | PackageError::UnsafeEntry { .. }
            | PackageError::TooManyEntries { .. } => "InvalidParameterValueException",
            PackageError::Io { .. } => "ServiceException",
        }
    }

    /// True when the package is at fault (4xx), false for local failures (5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, PackageError::Io { .. })
    }

    /// The user-facing message: Lambda's exact sentence where one is known, followed by our
    /// detail in parentheses.
    ///
    /// For a zip over 50 MiB sent inline, AWS answers with the request-size message
    /// ("Request must be smaller than 69905067 bytes for the CreateFunction operation"), which
    /// the HTTP layer should produce from the body size; the text for `TooLarge` here is ours.
    pub fn lambda_message(&self) -> String {
        match self {
            PackageError::TooLarge { size, limit } => {
                format!("Zipped size must be smaller than {limit} bytes (the zip is {size} bytes)")
            }
            PackageError::UnzippedTooLarge { limit } => {
                format!("Unzipped size must be smaller than {limit} bytes")
            }
            PackageError::InvalidZip { .. }
            | PackageError::UnsafeEntry { .. }
            | PackageError::TooManyEntries { .. } => format!("{COULD_NOT_UNZIP} ({self})"),
            PackageError::Io { .. } => {
                "An internal error occurred while storing the function code.".to_owned()
            }
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        PackageError::InvalidZip {
            reason: reason.into(),
        }
    }

    pub(crate) fn unsafe_entry(raw_name: &str, reason: impl Into<String>) -> Self {
        PackageError::UnsafeEntry {
            name: quote_name(raw_name),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        PackageError::Io {
            context: context.into(),
            source,
        }
    }
}

/// An entry name made safe to print: control characters and quotes escaped, shortened.
pub(crate) fn quote_name(raw: &str) -> String {
    let mut out = String::new();
    for (count, c) in raw.chars().enumerate() {
        if count >= NAME_QUOTE_CHARS_MAX {
            out.push_str("...");
            break;
        }
        if c.is_control() || c == '\'' || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_lambda() {
        let e = PackageError::UnzippedTooLarge { limit: 262_144_000 };
        assert_eq!(
            e.lambda_message(),
            "Unzipped size must be smaller than 262144000 bytes"
        );
        assert_eq!(e.lambda_error_code(), "InvalidParameterValueException");
        let e = PackageError::unsafe_entry("../x", "path escapes the package root");
        assert_eq!(
            e.lambda_message(),
            "Could not unzip uploaded file. Please check your file, then try to upload again. \
             (entry '../x': path escapes the package root)"
        );
        assert!(e.is_client_error());
        let e = PackageError::io("x", io::Error::other("boom"));
        assert!(!e.is_client_error());
        assert_eq!(e.lambda_error_code(), "ServiceException");
    }

    #[test]
    fn names_are_escaped_and_shortened() {
        assert_eq!(quote_name("a\0b\n'"), "a\\u{0}b\\n\\'");
        let long = "x".repeat(5000);
        let quoted = quote_name(&long);
        assert_eq!(quoted.len(), NAME_QUOTE_CHARS_MAX + 3);
    }
}
