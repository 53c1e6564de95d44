//! The engine: functions, packages, runtimes, admission, environment pool, invocations, logs.

pub mod package;
