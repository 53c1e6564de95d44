//! The SQS-compatible queue engine.
//!
//! Queues and messages live in the store ([`nimbus_store::QueueStore`]); every operation is
//! one store transaction, so whatever was acknowledged survives a crash, and leases
//! (visibility timeouts) are absolute times that a restart simply resumes. The engine adds
//! SQS's rules on top: attribute defaults and validation, delays, deduplication for FIFO
//! queues, receipt handles, redrive to dead-letter queues and long polling.
//!
//! Wire parsing and error shapes are in [`nimbus_api::sqs`]; the HTTP glue is in
//! `nimbus-server`.

#![forbid(unsafe_code)]

mod clock;
mod engine;
mod limits;
mod receipt;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Queue, Queues, ReceiveOptions, Received, SendEntry, Sent};
pub use limits::*;
pub use receipt::Receipt;
