//! The engine's own view of a function: what is stored, and the immutable snapshot an
//! execution environment is built from. Wire shapes (`FunctionConfiguration`) are rendered
//! from these in `functions`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A function's configuration (everything but the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// Lambda runtime identifier (`python3.12`, `nodejs20.x`, `provided.al2023`).
    pub runtime: String,
    /// Handler string (`module.func`, `file.export`); informational for `provided*`.
    pub handler: String,
    /// Execution role ARN (stored and returned; Nimbus does not assume roles).
    pub role: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// MemorySize in MiB.
    pub memory_mb: u32,
    /// EphemeralStorage.Size in MiB.
    pub ephemeral_mb: u32,
    /// User environment variables.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// `x86_64` or `arm64` (recorded; Nimbus runs the host's architecture).
    #[serde(default)]
    pub architectures: Vec<String>,
    /// `PassThrough` or `Active`.
    #[serde(default)]
    pub tracing_mode: String,
    /// Layer version ARNs (recorded).
    #[serde(default)]
    pub layers: Vec<String>,
    /// DeadLetterConfig.TargetArn (used by async invocations).
    #[serde(default)]
    pub dead_letter_target: Option<String>,
    /// KMSKeyArn (recorded).
    #[serde(default)]
    pub kms_key_arn: Option<String>,
    /// LoggingConfig.LogFormat (`Text` or `JSON`).
    #[serde(default)]
    pub log_format: Option<String>,
    /// LoggingConfig.LogGroup override.
    #[serde(default)]
    pub log_group: Option<String>,
    /// LoggingConfig.ApplicationLogLevel.
    #[serde(default)]
    pub application_log_level: Option<String>,
    /// LoggingConfig.SystemLogLevel.
    #[serde(default)]
    pub system_log_level: Option<String>,
    /// Tags given at creation.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The deployment package of a function version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// SHA-256 of the zip, lowercase hex (our content address).
    pub sha256_hex: String,
    /// SHA-256 of the zip, base64 (Lambda's `CodeSha256`).
    pub sha256_b64: String,
    /// Zip size in bytes (`CodeSize`).
    pub size: u64,
    /// Bytes extracted.
    pub unzipped_size: u64,
}

/// What is stored per function (as the store's opaque JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFunction {
    /// Configuration.
    pub config: FunctionConfig,
    /// Code.
    pub code: CodeInfo,
    /// Highest version number ever published (numbers are never reused).
    #[serde(default)]
    pub last_published: u64,
    /// `$LATEST`'s revision when it was last published: publishing an unchanged `$LATEST`
    /// again returns that version instead of a new one.
    #[serde(default)]
    pub published_from_revision: Option<String>,
}

/// An immutable snapshot of one function version: what environments are built from and
/// what an invocation runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersion {
    /// Function name.
    pub name: String,
    /// `$LATEST` or a published number.
    pub version: String,
    /// Changes on every update; environments of an older revision are never reused.
    pub revision_id: String,
    /// Unqualified function ARN.
    pub arn: String,
    /// Configuration.
    pub config: FunctionConfig,
    /// Code.
    pub code: CodeInfo,
    /// Creation time (ms since epoch).
    pub created_ms: i64,
    /// Last modification (ms since epoch).
    pub last_modified_ms: i64,
    /// Highest version number published from this function (on `$LATEST` only).
    pub last_published: u64,
    /// `$LATEST`'s revision when it was last published (on `$LATEST` only).
    pub published_from_revision: Option<String>,
}

impl FunctionVersion {
    /// The key environments of this snapshot are pooled under.
    pub fn env_key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}",
            self.name, self.version, self.revision_id
        )
    }

    /// `/aws/lambda/<name>` unless LoggingConfig overrides it.
    pub fn log_group(&self) -> String {
        self.config
            .log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.name))
    }
}
