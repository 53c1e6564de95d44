//! Shared parts of the benchmarks (`nimbus-bench`, `overload`): the load generator, latency
//! statistics, cold-start series, and what the machine and the server process are doing.

#![forbid(unsafe_code)]

pub mod cold;
pub mod load;
pub mod machine;
pub mod stats;
