//! Every wire limit as a named constant, unit last.
//!
//! Each doc line says why the number is what it is and whether AWS sets it
//! ("AWS") or Nimbus chose it ("Nimbus"). Sources: lambda-compat.md §5, §6, §11.

/// Sync invoke request and response payload cap: 6 MiB (AWS quota "6 MB").
pub const SYNC_PAYLOAD_BYTES_MAX: usize = 6_291_456;

/// Async (`Event`) invoke payload cap: 1 MiB (AWS since Oct 2025; was 256 KiB).
pub const ASYNC_PAYLOAD_BYTES_MAX: usize = 1_048_576;

/// Legacy async payload cap, 256 KiB (AWS before Oct 2025); kept for a config option.
pub const ASYNC_PAYLOAD_BYTES_MAX_LEGACY: usize = 262_144;

/// Zipped deployment package, direct upload: 50 MiB (AWS `CodeSizeZipped`).
pub const CODE_ZIP_BYTES_MAX: u64 = 52_428_800;

/// Unzipped code plus layers: 250 MiB (AWS `CodeSizeUnzipped`).
pub const CODE_UNZIPPED_BYTES_MAX: u64 = 262_144_000;

/// CreateFunction / UpdateFunctionCode JSON body cap: 50 MiB base64-encoded, rounded up (AWS).
pub const CREATE_FUNCTION_BODY_BYTES_MAX: usize = 69_905_067;

/// Total code storage per region: 75 GiB (AWS `TotalCodeSize`).
pub const TOTAL_CODE_SIZE_BYTES: u64 = 80_530_636_800;

/// Smallest function memory: 128 MB (AWS).
pub const MEMORY_MB_MIN: i64 = 128;

/// Largest function memory: 10,240 MB (AWS service quota; the newest model allows more).
pub const MEMORY_MB_MAX: i64 = 10_240;

/// Default function memory when the request omits `MemorySize`: 128 MB (AWS).
pub const MEMORY_MB_DEFAULT: i64 = 128;

/// Shortest function timeout: 1 s (AWS model minimum).
pub const TIMEOUT_S_MIN: i64 = 1;

/// Longest function timeout: 900 s (AWS service quota; the newest model allows more).
pub const TIMEOUT_S_MAX: i64 = 900;

/// Default function timeout when the request omits `Timeout`: 3 s (AWS).
pub const TIMEOUT_S_DEFAULT: i64 = 3;

/// Smallest `/tmp` (`EphemeralStorage.Size`): 512 MB (AWS).
pub const EPHEMERAL_MB_MIN: i64 = 512;

/// Largest `/tmp` (`EphemeralStorage.Size`): 10,240 MB (AWS service quota).
pub const EPHEMERAL_MB_MAX: i64 = 10_240;

/// Default `/tmp` size: 512 MB (AWS).
pub const EPHEMERAL_MB_DEFAULT: i64 = 512;

/// Environment variables, total size: 4 KB, measured on the compact JSON of the map (AWS limit; measure: Nimbus).
pub const ENV_VARS_BYTES_MAX: usize = 4096;

/// Layers per function: 5 (AWS).
pub const LAYERS_MAX: usize = 5;

/// Most items one ListFunctions page returns, whatever `MaxItems` asks (AWS).
pub const LIST_PAGE_MAX: usize = 50;

/// `X-Amz-Client-Context` header, base64 text: 3,583 bytes (AWS).
pub const CLIENT_CONTEXT_BYTES_MAX: usize = 3583;

/// `X-Amz-Log-Result` carries the last 4 KB of the invocation log, before base64 (AWS).
pub const LOG_TAIL_BYTES: usize = 4096;

/// Account concurrency quota per region: 1,000 (AWS default).
pub const ACCOUNT_CONCURRENCY_DEFAULT: u32 = 1000;

/// Concurrency that reservations must leave unreserved: 100 (AWS).
pub const UNRESERVED_CONCURRENCY_MIN: u32 = 100;

/// Init phase limit for on-demand environments: 10 s (AWS).
pub const INIT_TIMEOUT_MS: u64 = 10_000;

/// Function description length: 256 characters (AWS model).
pub const DESCRIPTION_CHARS_MAX: usize = 256;

/// Handler string length: 128 characters (AWS model).
pub const HANDLER_CHARS_MAX: usize = 128;

/// Bare function name length: 64 characters (AWS).
pub const FUNCTION_NAME_CHARS_MAX: usize = 64;

/// `FunctionName` as accepted by CreateFunction (name, partial or full ARN): 140 characters (AWS model).
pub const FUNCTION_REF_CREATE_CHARS_MAX: usize = 140;

/// `FunctionName` path parameter of Invoke/Get/Delete/...: 256 characters (AWS model).
pub const FUNCTION_REF_CHARS_MAX: usize = 256;

/// Qualifier (version or alias) length: 128 characters (AWS model).
pub const QUALIFIER_CHARS_MAX: usize = 128;

/// Alias name length: 128 characters (AWS model).
pub const ALIAS_CHARS_MAX: usize = 128;

/// Largest `MaxItems` accepted on list calls: 10,000 (AWS model; pages still stop at 50).
pub const MAX_ITEMS_PARAM_MAX: i64 = 10_000;

/// Runtime API payload cap for events and responses: 6 MiB + 100 B envelope (AWS RIE `MaxPayloadSize`).
pub const RUNTIME_RESPONSE_BYTES_MAX: usize = 6 * 1024 * 1024 + 100;

/// JSON nesting depth the invoke payload validator accepts: 512 (Nimbus; bounds work on hostile input).
pub const JSON_DEPTH_MAX: usize = 512;
