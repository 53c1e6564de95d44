//! Lambda pricing, pure: price tables (AWS us-east-1 by default, a TOML/JSON file to
//! override), exact money, the bill of a [`Usage`] with line items, models of hypothetical
//! workloads ([`model`], [`model_steady`]), projection of a window to a 30-day month, and
//! the human number parsing the CLI and the cost API share.
//!
//! No clock, no I/O: metering (`nimbus-platform`) measures, this crate prices. Money is an
//! integer count of picodollars and quantities are integer MB-microseconds, so a bill is
//! exact until it is rounded to cents for display.

#![forbid(unsafe_code)]

mod bill;
pub mod crossover;
mod model;
mod money;
pub mod parse;
mod prices;
mod usage;

pub use bill::{Bill, LineItem};
pub use model::{Modeled, model, model_steady};
pub use money::{Money, MoneyError, PICOS_PER_DOLLAR};
pub use prices::{
    Arch, ArchPrices, EPHEMERAL_FREE_MB_AWS, FreeTier, MB_PER_GB_AWS, MB_PER_GB_DECIMAL,
    PriceError, PriceTable, Tier,
};
pub use usage::{MONTH_MS, PerArch, Period, Usage, gb_seconds};
