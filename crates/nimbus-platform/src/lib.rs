//! The Nimbus engine: functions and their packages, runtimes, admission (concurrency),
//! execution environments and their pool, invocations, and function logs. No HTTP types
//! here: `nimbus-server` maps requests and results to the wire.

#![forbid(unsafe_code)]

pub mod admission;
pub mod aliases;
pub mod async_events;
pub mod clock;
pub mod concurrency;
pub mod config;
pub mod deployments;
pub(crate) mod env;
pub mod event_sources;
pub mod function_urls;
pub mod functions;
pub mod invoke;
pub mod limits;
pub mod logs;
pub mod logs_api;
pub mod metering;
pub mod metrics;
pub mod model;
pub mod otel;
pub mod package;
pub mod platform;
pub(crate) mod pool;
pub mod provisioned;
mod queue_sink;
pub(crate) mod runtime_env;
pub mod runtimes;
pub(crate) mod scaling;
pub mod schedules;
pub mod stacks;
pub mod traces;
pub mod version_metrics;
pub mod versions;

pub use platform::{AccountStats, FunctionStatsSnapshot, Platform, StatsSnapshot, Stores};
