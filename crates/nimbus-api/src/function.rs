//! Control-plane shapes for functions (member names exactly as `service-2.json`).
//!
//! Requests: every member is `Option` and enum-valued members are plain
//! `String`s, so that a missing or bad value reaches validation (which answers
//! with Lambda's messages) instead of failing deserialization. Unknown members
//! are ignored, since newer SDKs send members we do not know yet.
//!
//! Responses: every member is `Option` and skipped when `None`, so we emit
//! exactly what we set; enum-valued members the platform sets are typed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// String map (`Tags`, `Environment.Variables`): sorted, so output is deterministic.
pub type StringMap = BTreeMap<String, String>;

// ---------------------------------------------------------------------------
// Enums the platform emits.

/// Defines a string enum with `as_str`/`parse` and serde as its wire string.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in model order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parse the exact wire string.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// The model's enum values, as Coral prints them: `[a, b]`.
            pub fn enum_set() -> String {
                let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                format!("[{}]", names.join(", "))
            }
        }
    };
}

wire_enum!(
    /// `State` of a function version.
    State {
        /// Being created.
        Pending => "Pending",
        /// Ready to invoke.
        Active => "Active",
        /// Idle, reclaimed.
        Inactive => "Inactive",
        /// Creation failed.
        Failed => "Failed",
        /// Being deactivated.
        Deactivating => "Deactivating",
        /// Deactivated.
        Deactivated => "Deactivated",
        /// Active but not invocable.
        ActiveNonInvocable => "ActiveNonInvocable",
        /// Being deleted.
        Deleting => "Deleting",
    }
);

wire_enum!(
    /// `LastUpdateStatus` of a function version.
    LastUpdateStatus {
        /// The last update finished.
        Successful => "Successful",
        /// The last update failed.
        Failed => "Failed",
        /// An update is running.
        InProgress => "InProgress",
    }
);

wire_enum!(
    /// `PackageType`.
    PackageType {
        /// .zip deployment package.
        Zip => "Zip",
        /// Container image.
        Image => "Image",
    }
);

wire_enum!(
    /// Instruction set architecture.
    Architecture {
        /// x86-64 (default).
        X86_64 => "x86_64",
        /// 64-bit ARM.
        Arm64 => "arm64",
    }
);

wire_enum!(
    /// `TracingConfig.Mode`.
    TracingMode {
        /// Sample and trace.
        Active => "Active",
        /// Pass incoming trace headers through (default).
        PassThrough => "PassThrough",
    }
);

wire_enum!(
    /// `LoggingConfig.LogFormat`.
    LogFormat {
        /// JSON log lines.
        Json => "JSON",
        /// Plain text (default).
        Text => "Text",
    }
);

wire_enum!(
    /// `LoggingConfig.ApplicationLogLevel`.
    ApplicationLogLevel {
        /// TRACE
        Trace => "TRACE",
        /// DEBUG
        Debug => "DEBUG",
        /// INFO
        Info => "INFO",
        /// WARN
        Warn => "WARN",
        /// ERROR
        Error => "ERROR",
        /// FATAL
        Fatal => "FATAL",
    }
);

wire_enum!(
    /// `LoggingConfig.SystemLogLevel`.
    SystemLogLevel {
        /// DEBUG
        Debug => "DEBUG",
        /// INFO
        Info => "INFO",
        /// WARN
        Warn => "WARN",
    }
);

wire_enum!(
    /// `SnapStart.ApplyOn`.
    SnapStartApplyOn {
        /// Snapshot published versions.
        PublishedVersions => "PublishedVersions",
        /// No SnapStart (default).
        None => "None",
    }
);

wire_enum!(
    /// `SnapStart.OptimizationStatus` (response only).
    SnapStartOptimizationStatus {
        /// SnapStart in effect.
        On => "On",
        /// SnapStart not in effect.
        Off => "Off",
    }
);

// ---------------------------------------------------------------------------
// Shapes shared by requests and responses.

/// `FunctionCode`: where the code comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCode {
    /// Base64 text of the .zip (the SDK encodes the blob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_file: Option<String>,
    /// S3 bucket (not supported by Nimbus yet).
    #[serde(rename = "S3Bucket", skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// S3 key (not supported by Nimbus yet).
    #[serde(rename = "S3Key", skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// S3 object version (not supported by Nimbus yet).
    #[serde(rename = "S3ObjectVersion", skip_serializing_if = "Option::is_none")]
    pub s3_object_version: Option<String>,
    /// Container image URI (not supported by Nimbus yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    /// KMS key for the code at rest.
    #[serde(rename = "SourceKMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub source_kms_key_arn: Option<String>,
}

/// `Environment` (request): the whole variable map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Variables; replaces the stored map on update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<StringMap>,
}

/// `EphemeralStorage`: size of `/tmp`, MB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    /// MB, 512–10240 (required by the model; `None` when the client omitted it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// `TracingConfig` (request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `Active` or `PassThrough`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `DeadLetterConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// SQS queue or SNS topic ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// `VpcConfig` (request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// Subnets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    /// Security groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    /// IPv6 for dual-stack subnets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_allowed_for_dual_stack: Option<bool>,
}

/// `VpcConfigResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfigResponse {
    /// Subnets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    /// Security groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    /// VPC id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// IPv6 for dual-stack subnets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_allowed_for_dual_stack: Option<bool>,
}

/// `LoggingConfig` (request and response; enum members kept as strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `JSON` or `Text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// `TRACE`..`FATAL` (JSON format only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<String>,
    /// `DEBUG`, `INFO`, `WARN` (JSON format only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<String>,
    /// Log group, default `/aws/lambda/<function name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
}

/// `SnapStart` (request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    /// `PublishedVersions` or `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_on: Option<String>,
}

/// `SnapStartResponse`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStartResponse {
    /// `PublishedVersions` or `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_on: Option<SnapStartApplyOn>,
    /// `On` or `Off`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimization_status: Option<SnapStartOptimizationStatus>,
}

/// `ImageConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// ENTRYPOINT override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<Vec<String>>,
    /// CMD override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// WORKDIR override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
}

/// `{ErrorCode, Message}` used by several response shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigError {
    /// Error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `ImageConfigResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfigResponse {
    /// The configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_config: Option<ImageConfig>,
    /// Why it could not be applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConfigError>,
}

/// `FileSystemConfig` (EFS / S3 Files mount).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileSystemConfig {
    /// Access point ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Mount path under `/mnt/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_mount_path: Option<String>,
}

/// `EnvironmentResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    /// Variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<StringMap>,
    /// Why the variables could not be applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConfigError>,
}

/// `TracingConfigResponse`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfigResponse {
    /// Tracing mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<TracingMode>,
}

/// `Layer` as referenced from a function configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerReference {
    /// Layer version ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Size of the layer archive, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_size: Option<i64>,
    /// Signing profile version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_profile_version_arn: Option<String>,
    /// Signing job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_job_arn: Option<String>,
}

/// `RuntimeVersionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeVersionConfig {
    /// `arn:aws:lambda:<region>::runtime:<64 hex>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_version_arn: Option<String>,
    /// Why the runtime version could not be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConfigError>,
}

// ---------------------------------------------------------------------------
// Requests.

/// `CreateFunction` body (`POST /2015-03-31/functions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionRequest {
    /// Name, partial ARN or ARN (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// Runtime identifier (required for Zip).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Execution role ARN (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Handler (required for Zip).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Code (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<FunctionCode>,
    /// Description, ≤ 256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds, 1–900.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// MB, 128–10240.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i64>,
    /// Publish version 1 as well.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// `LATEST_PUBLISHED` (newer feature; not supported by Nimbus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_to: Option<String>,
    /// VPC attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// `Zip` (default) or `Image`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    /// Async failure target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// KMS key for environment variables (`""` means the default key).
    #[serde(rename = "KMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// X-Ray tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
    /// Layer version ARNs, ≤ 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// File-system mounts (≤ 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_configs: Option<Vec<FileSystemConfig>>,
    /// Code signing config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_signing_config_arn: Option<String>,
    /// Image overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_config: Option<ImageConfig>,
    /// Exactly one of `x86_64`, `arm64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    /// `/tmp` size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// SnapStart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snap_start: Option<SnapStart>,
    /// Logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
}

/// `UpdateFunctionCode` body (`PUT /2015-03-31/functions/{FunctionName}/code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionCodeRequest {
    /// Base64 text of the .zip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_file: Option<String>,
    /// S3 bucket (not supported by Nimbus yet).
    #[serde(rename = "S3Bucket", skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// S3 key (not supported by Nimbus yet).
    #[serde(rename = "S3Key", skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// S3 object version (not supported by Nimbus yet).
    #[serde(rename = "S3ObjectVersion", skip_serializing_if = "Option::is_none")]
    pub s3_object_version: Option<String>,
    /// Container image URI (not supported by Nimbus yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    /// Exactly one architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    /// Publish a version after updating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// Validate only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Only update if the current revision matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// KMS key for the code at rest.
    #[serde(rename = "SourceKMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub source_kms_key_arn: Option<String>,
}

/// `UpdateFunctionConfiguration` body (`PUT .../{FunctionName}/configuration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionConfigurationRequest {
    /// Execution role ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i64>,
    /// VPC attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// Replaces the whole variable map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Runtime identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Async failure target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// KMS key for environment variables.
    #[serde(rename = "KMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// X-Ray tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
    /// Only update if the current revision matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// Layer version ARNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// File-system mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_configs: Option<Vec<FileSystemConfig>>,
    /// Image overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_config: Option<ImageConfig>,
    /// `/tmp` size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// SnapStart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snap_start: Option<SnapStart>,
    /// Logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
}

// ---------------------------------------------------------------------------
// Responses.

/// `FunctionConfiguration`: response of Create/Get*/Update*/Publish and list items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    /// Function name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// Function ARN (qualified for published versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// Runtime identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Execution role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Package size, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_size: Option<i64>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i64>,
    /// `YYYY-MM-DDThh:mm:ss.sss+0000` (see [`crate::time::format_last_modified`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Base64 of the SHA-256 of the package (not hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// `$LATEST` or a version number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// VPC attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfigResponse>,
    /// Async failure target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentResponse>,
    /// KMS key for environment variables.
    #[serde(rename = "KMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// Tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfigResponse>,
    /// Lambda@Edge master function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_arn: Option<String>,
    /// Revision (UUID); changes on every update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// Layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerReference>>,
    /// Lifecycle state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Why the state is what it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Code for `StateReason` (model enum `StateReasonCode`, kept as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    /// Status of the last update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<LastUpdateStatus>,
    /// Why the last update is what it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// Code for `LastUpdateStatusReason` (model enum, kept as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<String>,
    /// File-system mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_configs: Option<Vec<FileSystemConfig>>,
    /// Signing profile version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_profile_version_arn: Option<String>,
    /// Signing job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_job_arn: Option<String>,
    /// `Zip` or `Image`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_type: Option<PackageType>,
    /// Image overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_config_response: Option<ImageConfigResponse>,
    /// Exactly one architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<Architecture>>,
    /// `/tmp` size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// SnapStart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snap_start: Option<SnapStartResponse>,
    /// Runtime version in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_version_config: Option<RuntimeVersionConfig>,
    /// Logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
    /// Hash of the configuration (newer model member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
}

/// `FunctionCodeLocation` in GetFunction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCodeLocation {
    /// `S3` for zip packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_type: Option<String>,
    /// URL to download the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Image URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    /// Resolved image URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_image_uri: Option<String>,
}

/// `Concurrency`: reserved concurrency (GetFunction member, and
/// Put/GetFunctionConcurrency body).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    /// Reserved executions, ≥ 0 (0 disables the function).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<i64>,
}

/// `GetFunction` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionResponse {
    /// The version's configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<FunctionConfiguration>,
    /// Where to download the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<FunctionCodeLocation>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
    /// Reserved concurrency, only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

/// `ListFunctions` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionsResponse {
    /// Marker for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Up to 50 configurations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<FunctionConfiguration>>,
}

/// Query parameters of `ListFunctions` (`GET /2015-03-31/functions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFunctionsQuery {
    /// `ALL` or a region (Lambda@Edge replicas).
    pub master_region: Option<String>,
    /// `ALL` lists every version.
    pub function_version: Option<String>,
    /// Opaque marker from the previous page.
    pub marker: Option<String>,
    /// 1–10000; pages still stop at 50.
    pub max_items: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Captured from boto3 1.44.8 (botocore event `before-send`), fully populated.
    const BOTO3_CREATE_FULL: &str = r#"{"FunctionName": "my-fn", "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/lambda-role", "Handler": "app.handler", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}, "Description": "demo", "Timeout": 30, "MemorySize": 256, "Publish": true, "Environment": {"Variables": {"STAGE": "dev", "LOG_LEVEL": "debug"}}, "Architectures": ["arm64"], "EphemeralStorage": {"Size": 1024}, "TracingConfig": {"Mode": "PassThrough"}, "Tags": {"team": "core"}, "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"], "PackageType": "Zip", "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"}, "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN", "LogGroup": "/aws/lambda/custom"}, "SnapStart": {"ApplyOn": "None"}, "KMSKeyArn": "", "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}}"#;

    /// Captured from boto3 1.44.8: the minimal CreateFunction.
    const BOTO3_CREATE_MIN: &str = r#"{"FunctionName": "min-fn", "Runtime": "provided.al2023", "Role": "arn:aws:iam::123456789012:role/r", "Handler": "bootstrap", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}"#;

    /// Captured from boto3 1.44.8: UpdateFunctionCode.
    const BOTO3_UPDATE_CODE: &str = r#"{"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "Publish": false, "RevisionId": "rev-1", "Architectures": ["x86_64"]}"#;

    /// Captured from boto3 1.44.8: UpdateFunctionConfiguration.
    const BOTO3_UPDATE_CONFIG: &str = r#"{"MemorySize": 512, "Timeout": 10, "Environment": {"Variables": {"A1": "x"}}, "RevisionId": "rev-2", "Handler": "app.other"}"#;

    #[test]
    fn boto3_create_full_deserializes() {
        let r: CreateFunctionRequest = serde_json::from_str(BOTO3_CREATE_FULL).unwrap();
        assert_eq!(r.function_name.as_deref(), Some("my-fn"));
        assert_eq!(r.runtime.as_deref(), Some("python3.12"));
        assert_eq!(
            r.code.as_ref().and_then(|c| c.zip_file.as_deref()),
            Some("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")
        );
        assert_eq!(r.timeout, Some(30));
        assert_eq!(r.memory_size, Some(256));
        assert_eq!(r.publish, Some(true));
        assert_eq!(
            r.environment
                .as_ref()
                .and_then(|e| e.variables.as_ref())
                .map(|v| v.len()),
            Some(2)
        );
        assert_eq!(r.architectures, Some(vec!["arm64".to_string()]));
        assert_eq!(r.ephemeral_storage.and_then(|e| e.size), Some(1024));
        assert_eq!(
            r.tracing_config.as_ref().and_then(|t| t.mode.as_deref()),
            Some("PassThrough")
        );
        assert_eq!(r.layers.as_ref().map(|l| l.len()), Some(1));
        assert_eq!(r.package_type.as_deref(), Some("Zip"));
        assert_eq!(r.kms_key_arn.as_deref(), Some(""));
        assert_eq!(
            r.logging_config
                .as_ref()
                .and_then(|l| l.log_group.as_deref()),
            Some("/aws/lambda/custom")
        );
        assert_eq!(
            r.snap_start.as_ref().and_then(|s| s.apply_on.as_deref()),
            Some("None")
        );
        assert_eq!(
            r.vpc_config.as_ref().and_then(|v| v.subnet_ids.clone()),
            Some(vec![])
        );
        // Nothing lost: re-serializing gives the same JSON value.
        let back = serde_json::to_value(&r).unwrap();
        let orig: Value = serde_json::from_str(BOTO3_CREATE_FULL).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn boto3_small_bodies_deserialize_losslessly() {
        let r: CreateFunctionRequest = serde_json::from_str(BOTO3_CREATE_MIN).unwrap();
        assert_eq!(r.handler.as_deref(), Some("bootstrap"));
        let c: UpdateFunctionCodeRequest = serde_json::from_str(BOTO3_UPDATE_CODE).unwrap();
        assert_eq!(c.revision_id.as_deref(), Some("rev-1"));
        let u: UpdateFunctionConfigurationRequest =
            serde_json::from_str(BOTO3_UPDATE_CONFIG).unwrap();
        assert_eq!(u.memory_size, Some(512));
        for (text, value) in [
            (BOTO3_CREATE_MIN, serde_json::to_value(&r).unwrap()),
            (BOTO3_UPDATE_CODE, serde_json::to_value(&c).unwrap()),
            (BOTO3_UPDATE_CONFIG, serde_json::to_value(&u).unwrap()),
        ] {
            assert_eq!(serde_json::from_str::<Value>(text).unwrap(), value);
        }
    }

    #[test]
    fn unknown_members_are_ignored() {
        let body = json!({
            "FunctionName": "f",
            "Role": "arn:aws:iam::123456789012:role/r",
            "Code": {"ZipFile": "AA==", "S3ObjectStorageMode": "COPY"},
            "TenancyConfig": {"TenantIsolationMode": "PER_TENANT"},
            "DurableConfig": {"ExecutionTimeout": 10},
            "SomethingFromTheFuture": [1, 2, 3]
        });
        let r: CreateFunctionRequest = serde_json::from_value(body).unwrap();
        assert_eq!(r.function_name.as_deref(), Some("f"));
    }

    #[test]
    fn function_configuration_snapshot() {
        let cfg = FunctionConfiguration {
            function_name: Some("my-function".into()),
            function_arn: Some("arn:aws:lambda:us-west-2:123456789012:function:my-function".into()),
            runtime: Some("python3.12".into()),
            role: Some("arn:aws:iam::123456789012:role/lambda-role".into()),
            handler: Some("index.handler".into()),
            code_size: Some(5_797_206),
            description: Some("desc".into()),
            timeout: Some(15),
            memory_size: Some(256),
            last_modified: Some("2020-04-10T19:06:32.563+0000".into()),
            code_sha256: Some("YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=".into()),
            version: Some("$LATEST".into()),
            vpc_config: Some(VpcConfigResponse {
                subnet_ids: Some(vec![]),
                security_group_ids: Some(vec![]),
                vpc_id: Some(String::new()),
                ipv6_allowed_for_dual_stack: Some(false),
            }),
            dead_letter_config: Some(DeadLetterConfig {
                target_arn: Some("arn:aws:sqs:us-west-2:123456789012:dlq".into()),
            }),
            environment: Some(EnvironmentResponse {
                variables: Some(StringMap::from([("BUCKET".into(), "my-bucket".into())])),
                error: None,
            }),
            kms_key_arn: Some("arn:aws:kms:us-west-2:123456789012:key/k".into()),
            tracing_config: Some(TracingConfigResponse {
                mode: Some(TracingMode::Active),
            }),
            master_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:edge".into()),
            revision_id: Some("b75dcd81-xmpl-48a8-a75a-93ba8b5b9727".into()),
            layers: Some(vec![LayerReference {
                arn: Some("arn:aws:lambda:us-west-2:123456789012:layer:deps:3".into()),
                code_size: Some(169),
                signing_profile_version_arn: None,
                signing_job_arn: None,
            }]),
            state: Some(State::Active),
            state_reason: Some("ok".into()),
            state_reason_code: Some("Idle".into()),
            last_update_status: Some(LastUpdateStatus::Successful),
            last_update_status_reason: Some("done".into()),
            last_update_status_reason_code: Some("InternalError".into()),
            file_system_configs: Some(vec![FileSystemConfig {
                arn: Some("arn:aws:elasticfilesystem:us-west-2:123456789012:access-point/fsap-0123456789abcdef0".into()),
                local_mount_path: Some("/mnt/efs".into()),
            }]),
            signing_profile_version_arn: Some("arn:sp".into()),
            signing_job_arn: Some("arn:sj".into()),
            package_type: Some(PackageType::Zip),
            image_config_response: Some(ImageConfigResponse {
                image_config: Some(ImageConfig {
                    entry_point: Some(vec!["/e".into()]),
                    command: Some(vec!["c".into()]),
                    working_directory: Some("/w".into()),
                }),
                error: Some(ConfigError {
                    error_code: Some("E".into()),
                    message: Some("m".into()),
                }),
            }),
            architectures: Some(vec![Architecture::X86_64]),
            ephemeral_storage: Some(EphemeralStorage { size: Some(512) }),
            snap_start: Some(SnapStartResponse {
                apply_on: Some(SnapStartApplyOn::None),
                optimization_status: Some(SnapStartOptimizationStatus::Off),
            }),
            runtime_version_config: Some(RuntimeVersionConfig {
                runtime_version_arn: Some("arn:aws:lambda:us-west-2::runtime:abc".into()),
                error: None,
            }),
            logging_config: Some(LoggingConfig {
                log_format: Some("Text".into()),
                application_log_level: None,
                system_log_level: None,
                log_group: Some("/aws/lambda/my-function".into()),
            }),
            config_sha256: Some("cfg".into()),
        };
        let expected = r#"{"FunctionName":"my-function","FunctionArn":"arn:aws:lambda:us-west-2:123456789012:function:my-function","Runtime":"python3.12","Role":"arn:aws:iam::123456789012:role/lambda-role","Handler":"index.handler","CodeSize":5797206,"Description":"desc","Timeout":15,"MemorySize":256,"LastModified":"2020-04-10T19:06:32.563+0000","CodeSha256":"YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=","Version":"$LATEST","VpcConfig":{"SubnetIds":[],"SecurityGroupIds":[],"VpcId":"","Ipv6AllowedForDualStack":false},"DeadLetterConfig":{"TargetArn":"arn:aws:sqs:us-west-2:123456789012:dlq"},"Environment":{"Variables":{"BUCKET":"my-bucket"}},"KMSKeyArn":"arn:aws:kms:us-west-2:123456789012:key/k","TracingConfig":{"Mode":"Active"},"MasterArn":"arn:aws:lambda:us-east-1:123456789012:function:edge","RevisionId":"b75dcd81-xmpl-48a8-a75a-93ba8b5b9727","Layers":[{"Arn":"arn:aws:lambda:us-west-2:123456789012:layer:deps:3","CodeSize":169}],"State":"Active","StateReason":"ok","StateReasonCode":"Idle","LastUpdateStatus":"Successful","LastUpdateStatusReason":"done","LastUpdateStatusReasonCode":"InternalError","FileSystemConfigs":[{"Arn":"arn:aws:elasticfilesystem:us-west-2:123456789012:access-point/fsap-0123456789abcdef0","LocalMountPath":"/mnt/efs"}],"SigningProfileVersionArn":"arn:sp","SigningJobArn":"arn:sj","PackageType":"Zip","ImageConfigResponse":{"ImageConfig":{"EntryPoint":["/e"],"Command":["c"],"WorkingDirectory":"/w"},"Error":{"ErrorCode":"E","Message":"m"}},"Architectures":["x86_64"],"EphemeralStorage":{"Size":512},"SnapStart":{"ApplyOn":"None","OptimizationStatus":"Off"},"RuntimeVersionConfig":{"RuntimeVersionArn":"arn:aws:lambda:us-west-2::runtime:abc"},"LoggingConfig":{"LogFormat":"Text","LogGroup":"/aws/lambda/my-function"},"ConfigSha256":"cfg"}"#;
        assert_eq!(serde_json::to_string(&cfg).unwrap(), expected);
        let back: FunctionConfiguration = serde_json::from_str(expected).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn empty_configuration_is_empty_object() {
        assert_eq!(
            serde_json::to_string(&FunctionConfiguration::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn get_function_and_list_shapes() {
        let g = GetFunctionResponse {
            configuration: Some(FunctionConfiguration {
                function_name: Some("f".into()),
                ..Default::default()
            }),
            code: Some(FunctionCodeLocation {
                repository_type: Some("S3".into()),
                location: Some("http://127.0.0.1/code".into()),
                image_uri: None,
                resolved_image_uri: None,
            }),
            tags: Some(StringMap::from([("a".into(), "b".into())])),
            concurrency: Some(Concurrency {
                reserved_concurrent_executions: Some(5),
            }),
        };
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            json!({"Configuration":{"FunctionName":"f"},"Code":{"RepositoryType":"S3","Location":"http://127.0.0.1/code"},"Tags":{"a":"b"},"Concurrency":{"ReservedConcurrentExecutions":5}})
        );
        let l = ListFunctionsResponse {
            next_marker: Some("m".into()),
            functions: Some(vec![]),
        };
        assert_eq!(
            serde_json::to_value(&l).unwrap(),
            json!({"NextMarker":"m","Functions":[]})
        );
    }

    #[test]
    fn wire_enums() {
        assert_eq!(Architecture::enum_set(), "[x86_64, arm64]");
        assert_eq!(Architecture::parse("arm64"), Some(Architecture::Arm64));
        assert_eq!(Architecture::parse("ARM64"), None);
        assert_eq!(State::parse("Pending"), Some(State::Pending));
        assert_eq!(LogFormat::Json.as_str(), "JSON");
        assert_eq!(
            serde_json::to_string(&SnapStartApplyOn::None).unwrap(),
            "\"None\""
        );
    }
}
