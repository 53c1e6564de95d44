//! Every bound the loader enforces, each with the reason for its value.
//!
//! A template is untrusted input (it may come from anywhere a user cloned), so nothing in
//! the pipeline grows without a limit: input size, nesting, node count, resource count and
//! the text the intrinsics produce.

/// Largest template accepted, in bytes: CloudFormation's limit for a template read from S3.
pub const TEMPLATE_BYTES_MAX: usize = 1_048_576;

/// Most resources in one template: CloudFormation's per-template quota.
pub const RESOURCES_MAX: usize = 500;

/// Most parameters: CloudFormation's per-template quota.
pub const PARAMETERS_MAX: usize = 200;

/// Most outputs: CloudFormation's per-template quota.
pub const OUTPUTS_MAX: usize = 200;

/// Most mappings: CloudFormation's per-template quota.
pub const MAPPINGS_MAX: usize = 200;

/// Deepest nesting of YAML collections: real templates stay under 20; the bound keeps every
/// recursive walk of the tree far from the stack limit.
pub const DEPTH_MAX: usize = 64;

/// Most YAML nodes, counting every alias expansion: a 1 MB template has at most ~500,000
/// nodes, so anything beyond is an alias bomb.
pub const NODES_MAX: usize = 1_000_000;

/// Deepest recursion through intrinsics and condition references (nesting depth plus chains
/// of `Condition` references): keeps evaluation bounded on the 2 MB stacks of test threads.
pub const EVAL_DEPTH_MAX: usize = 128;

/// Longest string one intrinsic (`!Sub`, `!Join`, `!Base64`) may produce: no real value is
/// larger than the template that spells it.
pub const STRING_BYTES_MAX: usize = TEMPLATE_BYTES_MAX;

/// Total bytes (strings plus one per node) evaluation may produce: 64× the largest template,
/// so `!Sub` over `!Sub` or `Globals` copied into 500 functions cannot exhaust memory.
pub const EVAL_BYTES_MAX: usize = 64 * TEMPLATE_BYTES_MAX;

/// Fewest and most conditions `Fn::And` / `Fn::Or` take: CloudFormation's rule.
pub const CONDITION_LIST_RANGE: (usize, usize) = (2, 10);

/// Length of a generated API id: API Gateway's ids are 10 lower-case letters and digits.
pub const API_ID_CHARS: usize = 10;

/// Longest generated IAM role name: IAM's limit.
pub const ROLE_NAME_CHARS_MAX: usize = 64;

/// Longest alarm name: CloudWatch's limit.
pub const ALARM_NAME_CHARS_MAX: usize = 255;
