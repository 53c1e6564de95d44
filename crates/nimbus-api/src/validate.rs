//! Request validation with Lambda's messages.
//!
//! Two kinds of failure, as in Lambda:
//! - model constraint violations (length, range, pattern, enum, required) are
//!   collected and reported together as one `ValidationException` in Coral's
//!   words: `1 validation error detected: Value '10241' at 'memorySize' failed
//!   to satisfy constraint: Member must have value less than or equal to 10240`
//!   (members in lower camel case, several joined with `; `);
//! - semantic checks run after that, first failure wins, and answer
//!   `InvalidParameterValueException` (Lambda's own text where known).
//!
//! Messages marked "(unconfirmed)" in a doc comment were chosen by Nimbus.

use std::fmt;

use base64::Engine as _;

use crate::error::{ErrorBody, ErrorCode};
use crate::function::{ApplicationLogLevel, SystemLogLevel};
use crate::function::{
    Architecture, CreateFunctionRequest, Environment, EphemeralStorage, FunctionCode, LogFormat,
    LoggingConfig, PackageType, SnapStart, SnapStartApplyOn, StringMap, TracingConfig, TracingMode,
    UpdateFunctionCodeRequest, UpdateFunctionConfigurationRequest,
};
use crate::limits;
use crate::names::FunctionRef;
use crate::patterns;
use crate::runtimes::{self, SupportedRuntime};

/// A failed check: the exception and its message. Convert with
/// [`ValidationFailure::into_error_body`] to answer the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFailure {
    /// The exception to send.
    pub code: ErrorCode,
    /// The message to send.
    pub message: String,
}

impl ValidationFailure {
    /// A failure with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ValidationFailure {
        ValidationFailure {
            code,
            message: message.into(),
        }
    }

    /// An `InvalidParameterValueException`.
    pub fn invalid_parameter(message: impl Into<String>) -> ValidationFailure {
        ValidationFailure::new(ErrorCode::InvalidParameterValue, message)
    }

    /// The error response body.
    pub fn into_error_body(self) -> ErrorBody {
        ErrorBody::new(self.code, self.message)
    }
}

impl From<ValidationFailure> for ErrorBody {
    fn from(f: ValidationFailure) -> ErrorBody {
        f.into_error_body()
    }
}

impl fmt::Display for ValidationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for ValidationFailure {}

/// How Coral shows the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShownValue {
    /// `Value '<text>' at ...`.
    Text(String),
    /// `Value null at ...` (required member missing).
    Null,
    /// `Value at ...` (sensitive member: the value is not echoed).
    Hidden,
}

/// One model-constraint violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The value as shown in the message.
    pub value: ShownValue,
    /// Member path in lower camel case, e.g. `ephemeralStorage.size`.
    pub member: String,
    /// The constraint text, e.g. `Member must have value less than or equal to 10240`.
    pub constraint: String,
}

impl Violation {
    /// A violation that echoes `value`.
    pub fn new(
        value: impl Into<String>,
        member: impl Into<String>,
        constraint: impl Into<String>,
    ) -> Violation {
        Violation {
            value: ShownValue::Text(value.into()),
            member: member.into(),
            constraint: constraint.into(),
        }
    }

    /// A required member is missing.
    pub fn null(member: impl Into<String>) -> Violation {
        Violation {
            value: ShownValue::Null,
            member: member.into(),
            constraint: NOT_NULL.to_string(),
        }
    }

    /// A violation on a sensitive member (value not echoed).
    pub fn hidden(member: impl Into<String>, constraint: impl Into<String>) -> Violation {
        Violation {
            value: ShownValue::Hidden,
            member: member.into(),
            constraint: constraint.into(),
        }
    }

    /// Coral's sentence for this violation.
    pub fn render(&self) -> String {
        let value = match &self.value {
            ShownValue::Text(v) => format!("Value '{v}' "),
            ShownValue::Null => "Value null ".to_string(),
            ShownValue::Hidden => "Value ".to_string(),
        };
        format!(
            "{value}at '{}' failed to satisfy constraint: {}",
            self.member, self.constraint
        )
    }
}

/// Coral's "required" constraint text.
pub const NOT_NULL: &str = "Member must not be null";

/// `Member must have length less than or equal to {n}`.
pub fn max_length(n: usize) -> String {
    format!("Member must have length less than or equal to {n}")
}

/// `Member must have length greater than or equal to {n}`.
pub fn min_length(n: usize) -> String {
    format!("Member must have length greater than or equal to {n}")
}

/// `Member must have value less than or equal to {n}`.
pub fn max_value(n: i64) -> String {
    format!("Member must have value less than or equal to {n}")
}

/// `Member must have value greater than or equal to {n}`.
pub fn min_value(n: i64) -> String {
    format!("Member must have value greater than or equal to {n}")
}

/// `Member must satisfy regular expression pattern: {p}`.
pub fn pattern(p: &str) -> String {
    format!("Member must satisfy regular expression pattern: {p}")
}

/// `Member must satisfy enum value set: {set}` (`set` like `[a, b]`).
pub fn enum_set(set: &str) -> String {
    format!("Member must satisfy enum value set: {set}")
}

/// The single `ValidationException` for a list of violations, or `None` if empty.
pub fn validation_exception(violations: &[Violation]) -> Option<ValidationFailure> {
    let n = violations.len();
    if n == 0 {
        return None;
    }
    let noun = if n == 1 { "error" } else { "errors" };
    let parts: Vec<String> = violations.iter().map(Violation::render).collect();
    Some(ValidationFailure::new(
        ErrorCode::Validation,
        format!("{n} validation {noun} detected: {}", parts.join("; ")),
    ))
}

// ---------------------------------------------------------------------------
// Model patterns as printed in messages.

/// Role pattern (model `RoleArn`).
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
/// Handler pattern (model `Handler`).
pub const HANDLER_PATTERN: &str = r"[^\s]+";
/// Environment variable name pattern (model `EnvironmentVariableName`).
pub const ENV_KEY_PATTERN: &str = "[a-zA-Z]([a-zA-Z0-9_])+";
/// Layer version ARN pattern (model `LayerVersionArn`).
pub const LAYER_ARN_PATTERN: &str = r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";
/// Log group pattern (model `LogGroup`).
pub const LOG_GROUP_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// Generic ARN-or-empty pattern (model `ResourceArn`, `KMSKeyArn`).
pub const RESOURCE_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()";
/// Largest log group name (model `LogGroup`).
const LOG_GROUP_CHARS_MAX: usize = 512;
/// Largest layer version ARN (model `LayerVersionArn`).
const LAYER_ARN_CHARS_MAX: usize = 2048;

// ---------------------------------------------------------------------------
// Semantic messages.

/// Lambda's text when Runtime or Handler is missing for a Zip function.
pub const MSG_RUNTIME_HANDLER_REQUIRED: &str =
    "Runtime and Handler are mandatory parameters for functions created with deployment packages.";

/// Lambda's text for more than five layers.
pub const MSG_TOO_MANY_LAYERS: &str = "Cannot reference more than 5 layers.";

/// Lambda's text for a package that is not a readable zip.
pub const MSG_COULD_NOT_UNZIP: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// Nimbus's text for `PackageType: Image` (unconfirmed: Nimbus-only limitation).
pub const MSG_IMAGE_UNSUPPORTED: &str = "Nimbus does not support container image functions (PackageType Image) yet. Use PackageType Zip with Code.ZipFile.";

/// Nimbus's text for S3 code locations (unconfirmed: Nimbus-only limitation).
pub const MSG_S3_CODE_UNSUPPORTED: &str = "Nimbus does not support S3 code locations (S3Bucket, S3Key, S3ObjectVersion) yet. Upload the deployment package inline as ZipFile.";

/// Nimbus's text when no code source is given (unconfirmed).
pub const MSG_ZIP_FILE_REQUIRED: &str =
    "Code must contain ZipFile: the base64-encoded .zip deployment package.";

/// Prefix of Lambda's reserved-environment-key message.
const MSG_RESERVED_KEYS: &str = "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ";

/// Prefix of Lambda's environment-size message.
const MSG_ENV_TOO_LARGE: &str = "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ";

/// Environment variables Lambda sets itself; users may not set them (lambda-compat §2.1).
pub const RESERVED_ENV_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

// ---------------------------------------------------------------------------
// Member checks that add violations.

/// Number of characters, as Coral counts string length.
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Range check on an integer member.
fn check_range(out: &mut Vec<Violation>, member: &str, value: i64, min: i64, max: i64) {
    if value < min {
        out.push(Violation::new(value.to_string(), member, min_value(min)));
    } else if value > max {
        out.push(Violation::new(value.to_string(), member, max_value(max)));
    }
}

/// `MemorySize`: 128–10240 (service limits).
pub fn check_memory_size(out: &mut Vec<Violation>, memory_mb: i64) {
    check_range(
        out,
        "memorySize",
        memory_mb,
        limits::MEMORY_MB_MIN,
        limits::MEMORY_MB_MAX,
    );
}

/// `Timeout`: 1–900 s (service limits).
pub fn check_timeout(out: &mut Vec<Violation>, timeout_s: i64) {
    check_range(
        out,
        "timeout",
        timeout_s,
        limits::TIMEOUT_S_MIN,
        limits::TIMEOUT_S_MAX,
    );
}

/// `EphemeralStorage.Size`: required, 512–10240 MB.
pub fn check_ephemeral_storage(out: &mut Vec<Violation>, storage: &EphemeralStorage) {
    match storage.size {
        None => out.push(Violation::null("ephemeralStorage.size")),
        Some(size) => check_range(
            out,
            "ephemeralStorage.size",
            size,
            limits::EPHEMERAL_MB_MIN,
            limits::EPHEMERAL_MB_MAX,
        ),
    }
}

/// `Description`: ≤ 256 characters.
pub fn check_description(out: &mut Vec<Violation>, description: &str) {
    if chars(description) > limits::DESCRIPTION_CHARS_MAX {
        out.push(Violation::new(
            description,
            "description",
            max_length(limits::DESCRIPTION_CHARS_MAX),
        ));
    }
}

/// `Handler`: ≤ 128 characters, pattern `[^\s]+`.
pub fn check_handler(out: &mut Vec<Violation>, handler: &str) {
    if chars(handler) > limits::HANDLER_CHARS_MAX {
        out.push(Violation::new(
            handler,
            "handler",
            max_length(limits::HANDLER_CHARS_MAX),
        ));
    }
    if !patterns::is_handler(handler) {
        out.push(Violation::new(handler, "handler", pattern(HANDLER_PATTERN)));
    }
}

/// `Role`: the IAM role ARN pattern.
pub fn check_role(out: &mut Vec<Violation>, role: &str) {
    if !patterns::is_role_arn(role) {
        out.push(Violation::new(role, "role", pattern(ROLE_PATTERN)));
    }
}

/// `Architectures`: exactly one of `x86_64`, `arm64`.
///
/// Lambda reports these as `ValidationException` (list length / enum), so
/// they are violations here, not `InvalidParameterValueException`.
pub fn check_architectures(out: &mut Vec<Violation>, architectures: &[String]) {
    let shown = format!("[{}]", architectures.join(", "));
    if architectures.len() > 1 {
        out.push(Violation::new(shown, "architectures", max_length(1)));
    } else if architectures.is_empty() {
        out.push(Violation::new(shown, "architectures", min_length(1)));
    } else if architectures
        .iter()
        .any(|a| Architecture::parse(a).is_none())
    {
        out.push(Violation::new(
            shown,
            "architectures",
            format!(
                "Member must satisfy constraint: [{}, {NOT_NULL}]",
                enum_set(&Architecture::enum_set())
            ),
        ));
    }
}

/// Environment variable names: pattern `[a-zA-Z]([a-zA-Z0-9_])+`.
///
/// The map is sensitive in the model, so the value is not echoed (Coral's
/// sensitive-member form; exact text unconfirmed).
pub fn check_environment_keys(out: &mut Vec<Violation>, env: &Environment) {
    let Some(vars) = &env.variables else {
        return;
    };
    if vars.keys().any(|k| !patterns::is_env_key(k)) {
        out.push(Violation::hidden(
            "environment.variables",
            format!(
                "Map keys must satisfy constraint: [{}]",
                pattern(ENV_KEY_PATTERN)
            ),
        ));
    }
}

/// `TracingConfig.Mode`: `Active` or `PassThrough`.
pub fn check_tracing_config(out: &mut Vec<Violation>, tracing: &TracingConfig) {
    if let Some(mode) = &tracing.mode
        && TracingMode::parse(mode).is_none()
    {
        out.push(Violation::new(
            mode.as_str(),
            "tracingConfig.mode",
            enum_set(&TracingMode::enum_set()),
        ));
    }
}

/// `PackageType`: `Zip` or `Image`.
pub fn check_package_type(out: &mut Vec<Violation>, package_type: &str) {
    if PackageType::parse(package_type).is_none() {
        out.push(Violation::new(
            package_type,
            "packageType",
            enum_set(&PackageType::enum_set()),
        ));
    }
}

/// `Layers`: each a layer version ARN, ≤ 2048 characters.
pub fn check_layers(out: &mut Vec<Violation>, layers: &[String]) {
    if layers
        .iter()
        .any(|l| chars(l) > LAYER_ARN_CHARS_MAX || !patterns::is_layer_version_arn(l))
    {
        out.push(Violation::new(
            format!("[{}]", layers.join(", ")),
            "layers",
            format!(
                "Member must satisfy constraint: [{}, {}, {}, {NOT_NULL}]",
                max_length(LAYER_ARN_CHARS_MAX),
                min_length(1),
                pattern(LAYER_ARN_PATTERN)
            ),
        ));
    }
}

/// `LoggingConfig`: enums and the log group pattern.
pub fn check_logging_config(out: &mut Vec<Violation>, logging: &LoggingConfig) {
    if let Some(f) = &logging.log_format
        && LogFormat::parse(f).is_none()
    {
        out.push(Violation::new(
            f.as_str(),
            "loggingConfig.logFormat",
            enum_set(&LogFormat::enum_set()),
        ));
    }
    if let Some(l) = &logging.application_log_level
        && ApplicationLogLevel::parse(l).is_none()
    {
        out.push(Violation::new(
            l.as_str(),
            "loggingConfig.applicationLogLevel",
            enum_set(&ApplicationLogLevel::enum_set()),
        ));
    }
    if let Some(l) = &logging.system_log_level
        && SystemLogLevel::parse(l).is_none()
    {
        out.push(Violation::new(
            l.as_str(),
            "loggingConfig.systemLogLevel",
            enum_set(&SystemLogLevel::enum_set()),
        ));
    }
    if let Some(g) = &logging.log_group {
        if chars(g) > LOG_GROUP_CHARS_MAX {
            out.push(Violation::new(
                g.as_str(),
                "loggingConfig.logGroup",
                max_length(LOG_GROUP_CHARS_MAX),
            ));
        }
        if !patterns::is_log_group_name(g) {
            out.push(Violation::new(
                g.as_str(),
                "loggingConfig.logGroup",
                pattern(LOG_GROUP_PATTERN),
            ));
        }
    }
}

/// `SnapStart.ApplyOn`: `PublishedVersions` or `None`.
pub fn check_snap_start(out: &mut Vec<Violation>, snap_start: &SnapStart) {
    if let Some(a) = &snap_start.apply_on
        && SnapStartApplyOn::parse(a).is_none()
    {
        out.push(Violation::new(
            a.as_str(),
            "snapStart.applyOn",
            enum_set(&SnapStartApplyOn::enum_set()),
        ));
    }
}

/// An ARN-or-empty member (`KMSKeyArn`, `DeadLetterConfig.TargetArn`).
pub fn check_resource_arn(out: &mut Vec<Violation>, member: &str, value: &str) {
    if !patterns::is_resource_arn_or_empty(value) {
        out.push(Violation::new(value, member, pattern(RESOURCE_ARN_PATTERN)));
    }
}

// ---------------------------------------------------------------------------
// Semantic checks.

/// Check a runtime identifier.
///
/// - supported by Nimbus → `Ok`;
/// - a real Lambda identifier Lambda itself no longer accepts → Lambda's
///   "no longer supported" text (InvalidParameterValueException);
/// - a real Lambda identifier Nimbus does not run (e.g. `java21`) →
///   InvalidParameterValueException saying so (text chosen by Nimbus);
/// - anything else → InvalidParameterValueException with Lambda's enum text
///   `Value foo at 'runtime' failed to satisfy constraint: Member must satisfy
///   enum value set: [...] or be a valid ARN` (Lambda answers this as
///   InvalidParameterValueException, not ValidationException, per public
///   error reports; the listed set is Nimbus's).
pub fn validate_runtime(runtime: &str) -> Result<SupportedRuntime, ValidationFailure> {
    if let Some(r) = SupportedRuntime::parse(runtime) {
        return Ok(r);
    }
    if runtimes::is_blocked_by_lambda(runtime) {
        return Err(ValidationFailure::invalid_parameter(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    let supported = supported_runtime_list();
    if runtimes::is_lambda_runtime(runtime) {
        return Err(ValidationFailure::invalid_parameter(format!(
            "The runtime parameter of {runtime} is not supported by Nimbus. Supported runtimes: [{supported}]."
        )));
    }
    Err(ValidationFailure::invalid_parameter(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{supported}] or be a valid ARN"
    )))
}

/// `python3.9, python3.10, ...` (Nimbus's supported set).
fn supported_runtime_list() -> String {
    let names: Vec<&str> = SupportedRuntime::ALL.iter().map(|r| r.as_str()).collect();
    names.join(", ")
}

/// Bytes the environment counts against the 4 KB limit.
///
/// Nimbus measures the compact JSON text of the variable map (keys sorted,
/// UTF-8, no escaping of non-ASCII), which is also the "String measured" that
/// Lambda's message prints (`{"PG_PASSWORD":"hunter2"}` in public reports).
/// Lambda's exact counting is unconfirmed.
pub fn environment_measure(vars: &StringMap) -> String {
    serde_json::to_string(vars).unwrap_or_default()
}

/// Reserved keys, then the 4 KB limit (Lambda's texts).
///
/// Reserved keys are listed sorted, joined with `, ` as in public reports.
pub fn validate_environment(env: &Environment) -> Result<(), ValidationFailure> {
    let Some(vars) = &env.variables else {
        return Ok(());
    };
    let reserved: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV_KEYS.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(ValidationFailure::invalid_parameter(format!(
            "{MSG_RESERVED_KEYS}{}",
            reserved.join(", ")
        )));
    }
    let measured = environment_measure(vars);
    if measured.len() > limits::ENV_VARS_BYTES_MAX {
        return Err(ValidationFailure::invalid_parameter(format!(
            "{MSG_ENV_TOO_LARGE}{measured}"
        )));
    }
    Ok(())
}

/// At most five layers (Lambda's text).
pub fn validate_layer_count(layers: &[String]) -> Result<(), ValidationFailure> {
    if layers.len() > limits::LAYERS_MAX {
        return Err(ValidationFailure::invalid_parameter(MSG_TOO_MANY_LAYERS));
    }
    Ok(())
}

/// The code source must be an inline `ZipFile` (S3 and images: not yet in Nimbus).
pub fn validate_code_source(
    zip_file: Option<&str>,
    s3_bucket: Option<&str>,
    s3_key: Option<&str>,
    s3_object_version: Option<&str>,
    image_uri: Option<&str>,
) -> Result<(), ValidationFailure> {
    if s3_bucket.is_some() || s3_key.is_some() || s3_object_version.is_some() {
        return Err(ValidationFailure::invalid_parameter(
            MSG_S3_CODE_UNSUPPORTED,
        ));
    }
    if image_uri.is_some() {
        return Err(ValidationFailure::invalid_parameter(MSG_IMAGE_UNSUPPORTED));
    }
    if zip_file.is_none() {
        return Err(ValidationFailure::invalid_parameter(MSG_ZIP_FILE_REQUIRED));
    }
    Ok(())
}

/// Decode `ZipFile` base64 text into the package bytes.
///
/// Standard alphabet; padding optional (Java's decoder, which Lambda runs on,
/// accepts both). Bad base64 answers Lambda's "Could not unzip" text
/// (InvalidParameterValueException; the exact answer for bad base64 is
/// unconfirmed).
pub fn decode_zip_file(zip_file_base64: &str) -> Result<Vec<u8>, ValidationFailure> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(zip_file_base64)
        .map_err(|_| ValidationFailure::invalid_parameter(MSG_COULD_NOT_UNZIP))
}

/// Lambda's text when the unzipped package is over 262,144,000 bytes
/// (InvalidParameterValueException).
pub fn unzipped_too_large() -> ValidationFailure {
    ValidationFailure::invalid_parameter(format!(
        "Unzipped size must be smaller than {} bytes",
        limits::CODE_UNZIPPED_BYTES_MAX
    ))
}

/// `RequestEntityTooLargeException` if a CreateFunction/UpdateFunctionCode body
/// is over 69,905,067 bytes; `operation` is e.g. `CreateFunction`.
pub fn check_code_body_size(body_bytes: usize, operation: &str) -> Result<(), ValidationFailure> {
    if body_bytes > limits::CREATE_FUNCTION_BODY_BYTES_MAX {
        let body = ErrorBody::request_entity_too_large(operation);
        return Err(ValidationFailure::new(body.code, body.message));
    }
    Ok(())
}

/// Map a body that is not valid JSON for the operation's shape (syntax or type
/// error) to a failure. Text chosen by Nimbus (unconfirmed: Lambda's answer to
/// a malformed control-plane body is not documented).
pub fn malformed_body(err: &serde_json::Error) -> ValidationFailure {
    ValidationFailure::new(
        ErrorCode::InvalidRequestContent,
        format!("Could not parse request body into json: {err}"),
    )
}

// ---------------------------------------------------------------------------
// Whole requests.

/// Collect constraint violations shared by Create and UpdateConfiguration.
#[allow(clippy::too_many_arguments)]
fn check_config_members(
    out: &mut Vec<Violation>,
    role: Option<&str>,
    handler: Option<&str>,
    description: Option<&str>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<&Environment>,
    kms_key_arn: Option<&str>,
    tracing: Option<&TracingConfig>,
    dead_letter_target: Option<&str>,
    layers: Option<&[String]>,
    ephemeral: Option<&EphemeralStorage>,
    snap_start: Option<&SnapStart>,
    logging: Option<&LoggingConfig>,
) {
    if let Some(r) = role {
        check_role(out, r);
    }
    if let Some(h) = handler {
        check_handler(out, h);
    }
    if let Some(d) = description {
        check_description(out, d);
    }
    if let Some(t) = timeout {
        check_timeout(out, t);
    }
    if let Some(m) = memory_size {
        check_memory_size(out, m);
    }
    if let Some(e) = environment {
        check_environment_keys(out, e);
    }
    if let Some(k) = kms_key_arn {
        check_resource_arn(out, "kMSKeyArn", k);
    }
    if let Some(t) = tracing {
        check_tracing_config(out, t);
    }
    if let Some(t) = dead_letter_target {
        check_resource_arn(out, "deadLetterConfig.targetArn", t);
    }
    if let Some(l) = layers {
        check_layers(out, l);
    }
    if let Some(e) = ephemeral {
        check_ephemeral_storage(out, e);
    }
    if let Some(s) = snap_start {
        check_snap_start(out, s);
    }
    if let Some(l) = logging {
        check_logging_config(out, l);
    }
}

/// Validate a CreateFunction request; on success return the parsed name and runtime.
///
/// Order: all model constraints (one ValidationException), then
/// PackageType Image, code source, Runtime/Handler presence, runtime support,
/// environment (reserved keys, size), layer count.
pub fn validate_create_function(
    req: &CreateFunctionRequest,
) -> Result<(FunctionRef, SupportedRuntime), ValidationFailure> {
    let mut out = Vec::new();
    let mut name = None;
    match &req.function_name {
        None => out.push(Violation::null("functionName")),
        Some(n) => match FunctionRef::parse_for_create(n) {
            Ok(r) => name = Some(r),
            Err(e) => out.extend(e.violations().iter().cloned()),
        },
    }
    if req.role.is_none() {
        out.push(Violation::null("role"));
    }
    if req.code.is_none() {
        out.push(Violation::null("code"));
    }
    if let Some(archs) = &req.architectures {
        check_architectures(&mut out, archs);
    }
    if let Some(p) = &req.package_type {
        check_package_type(&mut out, p);
    }
    check_config_members(
        &mut out,
        req.role.as_deref(),
        req.handler.as_deref(),
        req.description.as_deref(),
        req.timeout,
        req.memory_size,
        req.environment.as_ref(),
        req.kms_key_arn.as_deref(),
        req.tracing_config.as_ref(),
        req.dead_letter_config
            .as_ref()
            .and_then(|d| d.target_arn.as_deref()),
        req.layers.as_deref(),
        req.ephemeral_storage.as_ref(),
        req.snap_start.as_ref(),
        req.logging_config.as_ref(),
    );
    if let Some(f) = validation_exception(&out) {
        return Err(f);
    }

    if req.package_type.as_deref() == Some(PackageType::Image.as_str()) {
        return Err(ValidationFailure::invalid_parameter(MSG_IMAGE_UNSUPPORTED));
    }
    let code: &FunctionCode = match &req.code {
        Some(c) => c,
        None => return Err(ValidationFailure::invalid_parameter(MSG_ZIP_FILE_REQUIRED)),
    };
    validate_code_source(
        code.zip_file.as_deref(),
        code.s3_bucket.as_deref(),
        code.s3_key.as_deref(),
        code.s3_object_version.as_deref(),
        code.image_uri.as_deref(),
    )?;
    let (Some(runtime), Some(_handler)) = (&req.runtime, &req.handler) else {
        return Err(ValidationFailure::invalid_parameter(
            MSG_RUNTIME_HANDLER_REQUIRED,
        ));
    };
    let runtime = validate_runtime(runtime)?;
    if let Some(env) = &req.environment {
        validate_environment(env)?;
    }
    if let Some(layers) = &req.layers {
        validate_layer_count(layers)?;
    }
    match name {
        Some(n) => Ok((n, runtime)),
        // Unreachable: a missing or bad name was reported above.
        None => Err(ValidationFailure::new(
            ErrorCode::Validation,
            "functionName",
        )),
    }
}

/// Validate an UpdateFunctionConfiguration request (members present only).
pub fn validate_update_function_configuration(
    req: &UpdateFunctionConfigurationRequest,
) -> Result<Option<SupportedRuntime>, ValidationFailure> {
    let mut out = Vec::new();
    check_config_members(
        &mut out,
        req.role.as_deref(),
        req.handler.as_deref(),
        req.description.as_deref(),
        req.timeout,
        req.memory_size,
        req.environment.as_ref(),
        req.kms_key_arn.as_deref(),
        req.tracing_config.as_ref(),
        req.dead_letter_config
            .as_ref()
            .and_then(|d| d.target_arn.as_deref()),
        req.layers.as_deref(),
        req.ephemeral_storage.as_ref(),
        req.snap_start.as_ref(),
        req.logging_config.as_ref(),
    );
    if let Some(f) = validation_exception(&out) {
        return Err(f);
    }
    let runtime = match &req.runtime {
        Some(r) => Some(validate_runtime(r)?),
        None => None,
    };
    if let Some(env) = &req.environment {
        validate_environment(env)?;
    }
    if let Some(layers) = &req.layers {
        validate_layer_count(layers)?;
    }
    Ok(runtime)
}

/// Validate an UpdateFunctionCode request.
pub fn validate_update_function_code(
    req: &UpdateFunctionCodeRequest,
) -> Result<(), ValidationFailure> {
    let mut out = Vec::new();
    if let Some(archs) = &req.architectures {
        check_architectures(&mut out, archs);
    }
    if let Some(f) = validation_exception(&out) {
        return Err(f);
    }
    validate_code_source(
        req.zip_file.as_deref(),
        req.s3_bucket.as_deref(),
        req.s3_key.as_deref(),
        req.s3_object_version.as_deref(),
        req.image_uri.as_deref(),
    )
}

/// Parse the `MaxItems` query parameter of list calls (1–10000).
///
/// A non-number is reported like Coral's type failure (text unconfirmed).
pub fn parse_max_items(raw: &str) -> Result<i64, ValidationFailure> {
    let Ok(n) = raw.parse::<i64>() else {
        return Err(ValidationFailure::new(
            ErrorCode::Validation,
            format!(
                "1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must be a number"
            ),
        ));
    };
    let mut out = Vec::new();
    check_range(&mut out, "maxItems", n, 1, limits::MAX_ITEMS_PARAM_MAX);
    match validation_exception(&out) {
        Some(f) => Err(f),
        None => Ok(n),
    }
}

/// `ListFunctions` master-region pattern: `ALL` or a region.
const MASTER_REGION_PATTERN: &str = r"ALL|(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}";

/// Parse `ListFunctions` query parameters (`MasterRegion`, `FunctionVersion`,
/// `Marker`, `MaxItems`); unknown parameters are ignored. Constraint failures
/// are reported together.
pub fn parse_list_functions_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<crate::function::ListFunctionsQuery, ValidationFailure> {
    let mut q = crate::function::ListFunctionsQuery::default();
    let mut out = Vec::new();
    for (key, value) in pairs {
        match key {
            "MasterRegion" => {
                if value != "ALL" && !patterns::is_region(value) {
                    out.push(Violation::new(
                        value,
                        "masterRegion",
                        pattern(MASTER_REGION_PATTERN),
                    ));
                }
                q.master_region = Some(value.to_string());
            }
            "FunctionVersion" => {
                if value != "ALL" {
                    out.push(Violation::new(value, "functionVersion", enum_set("[ALL]")));
                }
                q.function_version = Some(value.to_string());
            }
            "Marker" => q.marker = Some(value.to_string()),
            "MaxItems" => match parse_max_items(value) {
                Ok(n) => q.max_items = Some(n),
                Err(_) => out.push(max_items_violation(value)),
            },
            _ => {}
        }
    }
    match validation_exception(&out) {
        Some(f) => Err(f),
        None => Ok(q),
    }
}

/// The violation for a bad `MaxItems`.
fn max_items_violation(raw: &str) -> Violation {
    match raw.parse::<i64>() {
        Ok(n) if n < 1 => Violation::new(raw, "maxItems", min_value(1)),
        Ok(_) => Violation::new(raw, "maxItems", max_value(limits::MAX_ITEMS_PARAM_MAX)),
        Err(_) => Violation::new(raw, "maxItems", "Member must be a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::DeadLetterConfig;

    #[test]
    fn list_functions_query() {
        let q = parse_list_functions_query([
            ("MaxItems", "10"),
            ("Marker", "abc"),
            ("FunctionVersion", "ALL"),
            ("MasterRegion", "us-east-1"),
            ("Other", "x"),
        ])
        .unwrap();
        assert_eq!(q.max_items, Some(10));
        assert_eq!(q.marker.as_deref(), Some("abc"));
        let f = parse_list_functions_query([("MaxItems", "0"), ("FunctionVersion", "SOME")])
            .unwrap_err();
        assert_eq!(
            f.message,
            "2 validation errors detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'SOME' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
        );
        assert!(parse_list_functions_query([("MasterRegion", "mars")]).is_err());
    }

    fn base_request() -> CreateFunctionRequest {
        CreateFunctionRequest {
            function_name: Some("my-fn".into()),
            runtime: Some("python3.12".into()),
            role: Some("arn:aws:iam::123456789012:role/lambda-role".into()),
            handler: Some("app.handler".into()),
            code: Some(FunctionCode {
                zip_file: Some("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment {
            variables: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn valid_request_passes() {
        let (name, rt) = validate_create_function(&base_request()).unwrap();
        assert_eq!(name.name, "my-fn");
        assert_eq!(rt, SupportedRuntime::Python312);
    }

    #[test]
    fn memory_message_is_coral() {
        let mut r = base_request();
        r.memory_size = Some(10241);
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(f.code, ErrorCode::Validation);
        assert_eq!(
            f.message,
            "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"
        );
        r.memory_size = Some(127);
        assert!(
            validate_create_function(&r)
                .unwrap_err()
                .message
                .ends_with("Member must have value greater than or equal to 128")
        );
    }

    #[test]
    fn several_violations_are_joined() {
        let mut r = base_request();
        r.timeout = Some(901);
        r.memory_size = Some(99999);
        r.ephemeral_storage = Some(EphemeralStorage { size: Some(100) });
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(
            f.message,
            "3 validation errors detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900; Value '99999' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240; Value '100' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512"
        );
    }

    #[test]
    fn required_members() {
        let r = CreateFunctionRequest::default();
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(
            f.message,
            "3 validation errors detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null; Value null at 'role' failed to satisfy constraint: Member must not be null; Value null at 'code' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn role_description_handler() {
        let mut r = base_request();
        r.role = Some("lambda-role".into());
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            r"1 validation error detected: Value 'lambda-role' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
        );
        let mut r = base_request();
        r.description = Some("x".repeat(257));
        assert!(
            validate_create_function(&r)
                .unwrap_err()
                .message
                .ends_with("at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
        );
        let mut r = base_request();
        r.handler = Some("app handler".into());
        assert!(
            validate_create_function(&r)
                .unwrap_err()
                .message
                .contains(r"Member must satisfy regular expression pattern: [^\s]+")
        );
        r.handler = Some("h".repeat(129));
        assert!(
            validate_create_function(&r)
                .unwrap_err()
                .message
                .contains("at 'handler' failed to satisfy constraint: Member must have length less than or equal to 128")
        );
    }

    #[test]
    fn architectures_exactly_one() {
        let mut r = base_request();
        r.architectures = Some(vec!["x86_64".into(), "arm64".into()]);
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"
        );
        r.architectures = Some(vec![]);
        assert!(
            validate_create_function(&r)
                .unwrap_err()
                .message
                .ends_with("Member must have length greater than or equal to 1")
        );
        r.architectures = Some(vec!["sparc".into()]);
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            "1 validation error detected: Value '[sparc]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
        );
        r.architectures = Some(vec!["arm64".into()]);
        assert!(validate_create_function(&r).is_ok());
    }

    #[test]
    fn runtimes() {
        assert_eq!(
            validate_runtime("nodejs22.x").unwrap(),
            SupportedRuntime::Nodejs22
        );
        let f = validate_runtime("java21").unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidParameterValue);
        assert!(f.message.starts_with(
            "The runtime parameter of java21 is not supported by Nimbus. Supported runtimes: [python3.9, "
        ));
        let f = validate_runtime("python3.7").unwrap_err();
        assert_eq!(
            f.message,
            "The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        );
        let f = validate_runtime("cobol85").unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidParameterValue);
        assert!(f.message.starts_with(
            "Value cobol85 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [python3.9,"
        ));
        assert!(f.message.ends_with("provided.al2023] or be a valid ARN"));
    }

    #[test]
    fn runtime_and_handler_mandatory() {
        let mut r = base_request();
        r.handler = None;
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            MSG_RUNTIME_HANDLER_REQUIRED
        );
        let mut r = base_request();
        r.runtime = None;
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            MSG_RUNTIME_HANDLER_REQUIRED
        );
    }

    #[test]
    fn reserved_env_keys() {
        let mut r = base_request();
        r.environment = Some(env(&[("AWS_REGION", "x"), ("OK_KEY", "y")]));
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidParameterValue);
        assert_eq!(
            f.message,
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"
        );
        r.environment = Some(env(&[
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("AWS_ACCESS_KEY_ID", "y"),
        ]));
        assert!(validate_create_function(&r).unwrap_err().message.ends_with(
            "Reserved keys used in this request: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"
        ));
        for k in RESERVED_ENV_KEYS {
            let e = env(&[(k, "v")]);
            assert!(validate_environment(&e).is_err(), "{k}");
        }
    }

    #[test]
    fn env_size_limit() {
        // {"K1":"<v>"} is 9 bytes + len(v).
        let ok = "v".repeat(4096 - 9);
        assert!(validate_environment(&env(&[("K1", &ok)])).is_ok());
        let big = "v".repeat(4096 - 8);
        let f = validate_environment(&env(&[("K1", &big)])).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidParameterValue);
        assert_eq!(
            f.message,
            format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {{\"K1\":\"{big}\"}}"
            )
        );
        // Multi-byte characters count as bytes.
        let e = "é".repeat(2044);
        assert!(validate_environment(&env(&[("K1", &e)])).is_err());
    }

    #[test]
    fn env_key_pattern_is_validation() {
        let mut r = base_request();
        r.environment = Some(env(&[("1BAD", "x")]));
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
        );
    }

    #[test]
    fn layers() {
        let l = "arn:aws:lambda:us-east-1:123456789012:layer:deps:3".to_string();
        let mut r = base_request();
        r.layers = Some(vec![l.clone(); 6]);
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            MSG_TOO_MANY_LAYERS
        );
        r.layers = Some(vec![l.clone(); 5]);
        assert!(validate_create_function(&r).is_ok());
        r.layers = Some(vec!["not-an-arn".into()]);
        assert_eq!(
            validate_create_function(&r).unwrap_err().code,
            ErrorCode::Validation
        );
    }

    #[test]
    fn package_type_and_code_sources() {
        let mut r = base_request();
        r.package_type = Some("Image".into());
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            MSG_IMAGE_UNSUPPORTED
        );
        r.package_type = Some("Tarball".into());
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            "1 validation error detected: Value 'Tarball' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Zip, Image]"
        );
        let mut r = base_request();
        r.code = Some(FunctionCode {
            s3_bucket: Some("b".into()),
            s3_key: Some("k".into()),
            ..Default::default()
        });
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidParameterValue);
        assert_eq!(f.message, MSG_S3_CODE_UNSUPPORTED);
        r.code = Some(FunctionCode::default());
        assert_eq!(
            validate_create_function(&r).unwrap_err().message,
            MSG_ZIP_FILE_REQUIRED
        );
    }

    #[test]
    fn enums_in_sub_shapes() {
        let mut r = base_request();
        r.tracing_config = Some(TracingConfig {
            mode: Some("On".into()),
        });
        r.logging_config = Some(LoggingConfig {
            log_format: Some("XML".into()),
            log_group: Some("bad group".into()),
            ..Default::default()
        });
        r.snap_start = Some(SnapStart {
            apply_on: Some("Always".into()),
        });
        r.dead_letter_config = Some(DeadLetterConfig {
            target_arn: Some("queue".into()),
        });
        let f = validate_create_function(&r).unwrap_err();
        assert!(f.message.starts_with("5 validation errors detected: "));
        assert!(f.message.contains(
            "Value 'On' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]"
        ));
        assert!(f.message.contains(
            "Value 'Always' at 'snapStart.applyOn' failed to satisfy constraint: Member must satisfy enum value set: [PublishedVersions, None]"
        ));
    }

    #[test]
    fn bad_function_name_in_create() {
        let mut r = base_request();
        r.function_name = Some("x".repeat(65));
        let f = validate_create_function(&r).unwrap_err();
        assert_eq!(f.code, ErrorCode::Validation);
        assert!(f.message.contains("at 'functionName'"));
    }

    #[test]
    fn update_configuration() {
        let u = UpdateFunctionConfigurationRequest {
            memory_size: Some(512),
            runtime: Some("python3.13".into()),
            ..Default::default()
        };
        assert_eq!(
            validate_update_function_configuration(&u).unwrap(),
            Some(SupportedRuntime::Python313)
        );
        let u = UpdateFunctionConfigurationRequest {
            timeout: Some(0),
            ..Default::default()
        };
        assert_eq!(
            validate_update_function_configuration(&u)
                .unwrap_err()
                .message,
            "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let u = UpdateFunctionConfigurationRequest {
            environment: Some(env(&[("TZ", "UTC")])),
            ..Default::default()
        };
        assert_eq!(
            validate_update_function_configuration(&u).unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
    }

    #[test]
    fn update_code() {
        let c = UpdateFunctionCodeRequest {
            zip_file: Some("AA==".into()),
            ..Default::default()
        };
        assert!(validate_update_function_code(&c).is_ok());
        let c = UpdateFunctionCodeRequest {
            s3_bucket: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(
            validate_update_function_code(&c).unwrap_err().message,
            MSG_S3_CODE_UNSUPPORTED
        );
        let c = UpdateFunctionCodeRequest {
            zip_file: Some("AA==".into()),
            architectures: Some(vec!["x86_64".into(), "x86_64".into()]),
            ..Default::default()
        };
        assert_eq!(
            validate_update_function_code(&c).unwrap_err().code,
            ErrorCode::Validation
        );
    }

    #[test]
    fn zip_decoding_and_sizes() {
        assert_eq!(
            decode_zip_file("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==").unwrap()[..4],
            *b"PK\x05\x06"
        );
        assert_eq!(decode_zip_file("UEsFBg").unwrap(), b"PK\x05\x06");
        assert_eq!(
            decode_zip_file("not base64!").unwrap_err().message,
            MSG_COULD_NOT_UNZIP
        );
        assert!(check_code_body_size(69_905_067, "CreateFunction").is_ok());
        let f = check_code_body_size(69_905_068, "UpdateFunctionCode").unwrap_err();
        assert_eq!(f.code, ErrorCode::RequestEntityTooLarge);
        assert_eq!(
            f.message,
            "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation"
        );
        assert_eq!(
            unzipped_too_large().message,
            "Unzipped size must be smaller than 262144000 bytes"
        );
    }

    #[test]
    fn max_items() {
        assert_eq!(parse_max_items("50").unwrap(), 50);
        assert_eq!(
            parse_max_items("0").unwrap_err().message,
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        assert!(parse_max_items("10001").is_err());
        assert!(parse_max_items("abc").is_err());
    }

    #[test]
    fn malformed_body_maps_to_invalid_request_content() {
        let err =
            serde_json::from_str::<CreateFunctionRequest>(r#"{"MemorySize":"big"}"#).unwrap_err();
        let f = malformed_body(&err);
        assert_eq!(f.code, ErrorCode::InvalidRequestContent);
        assert!(
            f.message
                .starts_with("Could not parse request body into json: ")
        );
    }
}
