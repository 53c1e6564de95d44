//! Nimbus wire types: the Lambda control plane, Invoke, the Runtime API,
//! CloudWatch Logs (subset) and their error bodies, with AWS casing.
//!
//! No I/O and no async: parsing, validation and serialization only.
//! botocore's `lambda/2015-03-31/service-2.json` is the authority on member
//! names and patterns; messages follow Lambda's text where it is known.
//!
//! Modules:
//! - [`error`] — Lambda exception codes and the JSON error body.
//! - [`function`] — CreateFunction/Update*/Get*/List* shapes.
//! - [`account`] — GetAccountSettings.
//! - [`names`] — function names, ARNs, qualifiers, aliases.
//! - [`validate`] — request validation with Lambda's messages.
//! - [`invoke`] — Invoke headers, client context, payload checks.
//! - [`json`] — the strict iterative JSON validator.
//! - [`runtime_api`] — Runtime API headers and bodies.
//! - [`logs`] — CloudWatch Logs subset.
//! - [`runtimes`] — supported runtime identifiers and families.
//! - [`limits`] — every wire limit.
//! - [`time`] — `LastModified` formatting.
//! - [`patterns`] — hand-written matchers for the model's regexes.
//! - [`versions`] — versions, aliases, reserved and provisioned concurrency.
//! - [`async_invoke`] — event-invoke configurations and invocation records.
//! - [`sqs`] — the SQS JSON-protocol contract: shapes, validation, errors, MD5s.
//! - [`stack`] — a resolved SAM stack as `nimbus deploy` sends it.
//! - [`trace`] — X-Ray trace headers (`X-Amzn-Trace-Id`, `AWSTraceHeader`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod async_invoke;
pub mod error;
pub mod event_source;
pub mod function;
pub mod invoke;
pub mod json;
pub mod limits;
pub mod logs;
pub mod names;
pub mod patterns;
pub mod runtime_api;
pub mod runtimes;
pub mod sqs;
pub mod stack;
pub mod time;
pub mod trace;
pub mod validate;
pub mod versions;

pub use error::{ErrorBody, ErrorCode, ErrorType, ThrottleReason};
pub use names::{FunctionRef, NameError};
pub use runtimes::{RuntimeFamily, SupportedRuntime};
pub use validate::ValidationFailure;
