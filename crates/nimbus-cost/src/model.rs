//! Hypothetical workloads: what a month of `invocations × duration × memory` costs, or a
//! steady `concurrency` kept busy some hours a day.
//!
//! The seed article's worked example is reproduced exactly (256 MB, 200 ms, 10M invocations:
//! $2.00 + $8.53 = $10.53) under its own convention of 1 GB = 1,000 MB
//! ([`crate::prices::MB_PER_GB_DECIMAL`]); AWS divides by 1,024, which gives $2.00 + $8.33.
//!
//! Its high-concurrency figure does not follow from its own formula: it prices
//! "1,000 concurrent × 24 h × 30 days × $0.0000166667 × 256 MB × 1 s" at $3,686/month, but
//! 1,000 × 0.256 GB × 86,400 s × 30 = 663,552,000 GB-s, which is **$11,059.22**. $3,686.41 is
//! 221,184,000 GB-s: the same load for 8 hours a day. [`model_steady`] computes the formula;
//! the tests pin both figures (and the 1,024-MB ones: $10,800.02 and $3,600.01).

use crate::prices::{Arch, PriceTable};
use crate::usage::{Period, Usage};

/// Microseconds in a second.
const US_PER_SECOND: u128 = 1_000_000;

/// A modelled usage and the period it covers (allowances are prorated to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modeled {
    /// The usage.
    pub usage: Usage,
    /// The period it covers.
    pub period: Period,
}

/// A month of `invocations` lasting `avg_duration_us` on average (billed as that average:
/// the per-invocation 1 ms rounding is unknowable from an average).
pub fn model(
    table: &PriceTable,
    memory_mb: u32,
    avg_duration_us: u64,
    invocations: u64,
    arch: Arch,
) -> Modeled {
    let mut usage = Usage::default();
    let billed_us = u128::from(avg_duration_us).saturating_mul(u128::from(invocations));
    usage.add_invocations_us(
        table,
        arch,
        memory_mb,
        table.ephemeral_free_mb,
        invocations,
        billed_us,
        false,
    );
    Modeled {
        usage,
        period: Period::MONTH,
    }
}

/// `concurrency` invocations always in flight for `seconds_per_day` a day, over `days` days.
/// Requests are counted only when the average duration is known (`avg_duration_us`): each
/// in-flight slot then serves one request per average duration.
pub fn model_steady(
    table: &PriceTable,
    concurrency: u64,
    memory_mb: u32,
    seconds_per_day: u64,
    days: u32,
    arch: Arch,
    avg_duration_us: Option<u64>,
) -> Modeled {
    let busy_us = u128::from(concurrency)
        .saturating_mul(u128::from(seconds_per_day))
        .saturating_mul(u128::from(days))
        .saturating_mul(US_PER_SECOND);
    let requests = match avg_duration_us {
        Some(d) if d > 0 => u64::try_from(busy_us / u128::from(d)).unwrap_or(u64::MAX),
        _ => 0,
    };
    let mut usage = Usage::default();
    usage.add_invocations_us(
        table,
        arch,
        memory_mb,
        table.ephemeral_free_mb,
        requests,
        busy_us,
        false,
    );
    Modeled {
        usage,
        period: Period::of_days(days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::MB_PER_GB_DECIMAL;
    use crate::usage::gb_seconds;

    /// The seed's convention: 256 MB = 0.256 GB.
    fn seed_table() -> PriceTable {
        PriceTable {
            mb_per_gb: MB_PER_GB_DECIMAL,
            ..PriceTable::default()
        }
    }

    const HOUR: u64 = 3600;

    #[test]
    fn the_seed_worked_example_to_the_cent() {
        let t = seed_table();
        let m = model(&t, 256, 200_000, 10_000_000, Arch::X86_64);
        assert_eq!(gb_seconds(m.usage.on_demand.x86_64, &t), 512_000.0);
        let bill = t.bill(&m.usage, m.period, false);
        assert_eq!(bill.requests.to_string(), "$2.00");
        assert_eq!(bill.duration.to_string(), "$8.53");
        assert_eq!(bill.duration.to_decimal_string(), "8.5333504");
        assert_eq!(bill.total.to_string(), "$10.53");
    }

    #[test]
    fn the_seed_example_with_aws_gigabytes() {
        let t = PriceTable::default();
        let m = model(&t, 256, 200_000, 10_000_000, Arch::X86_64);
        assert_eq!(gb_seconds(m.usage.on_demand.x86_64, &t), 500_000.0);
        let bill = t.bill(&m.usage, m.period, false);
        assert_eq!(bill.requests.to_string(), "$2.00");
        assert_eq!(bill.duration.to_string(), "$8.33");
        assert_eq!(bill.total.to_string(), "$10.33");
        // With the free tier: 9M requests ($1.80) and 100,000 GB-s ($1.67).
        let free = t.bill(&m.usage, m.period, true);
        assert_eq!(free.requests.to_string(), "$1.80");
        assert_eq!(free.duration.to_string(), "$1.67");
    }

    #[test]
    fn the_seed_high_concurrency_figure_corrected() {
        let t = seed_table();
        let m = model_steady(&t, 1_000, 256, 24 * HOUR, 30, Arch::X86_64, None);
        assert_eq!(m.period, Period::MONTH);
        assert_eq!(gb_seconds(m.usage.on_demand.x86_64, &t), 663_552_000.0);
        let bill = t.bill(&m.usage, m.period, false);
        assert_eq!(bill.duration.to_string(), "$11,059.22");
        assert_eq!(bill.requests.to_string(), "$0.00");
    }

    #[test]
    fn the_seed_3686_figure_is_eight_hours_a_day() {
        let t = seed_table();
        let m = model_steady(&t, 1_000, 256, 8 * HOUR, 30, Arch::X86_64, None);
        assert_eq!(gb_seconds(m.usage.on_demand.x86_64, &t), 221_184_000.0);
        assert_eq!(
            t.bill(&m.usage, m.period, false).duration.to_string(),
            "$3,686.41"
        );
    }

    #[test]
    fn steady_load_with_aws_gigabytes() {
        let t = PriceTable::default();
        let day = model_steady(&t, 1_000, 256, 24 * HOUR, 30, Arch::X86_64, None);
        assert_eq!(gb_seconds(day.usage.on_demand.x86_64, &t), 648_000_000.0);
        assert_eq!(
            t.bill(&day.usage, day.period, false).duration.to_string(),
            "$10,800.02"
        );
        let eight = model_steady(&t, 1_000, 256, 8 * HOUR, 30, Arch::X86_64, None);
        assert_eq!(
            t.bill(&eight.usage, eight.period, false)
                .duration
                .to_string(),
            "$3,600.01"
        );
    }

    #[test]
    fn steady_load_counts_requests_from_the_average_duration() {
        let t = PriceTable::default();
        // 10 slots × 1 hour of 100 ms invocations = 360,000 requests, over one day.
        let m = model_steady(&t, 10, 128, HOUR, 1, Arch::Arm64, Some(100_000));
        assert_eq!(m.usage.requests, 360_000);
        assert_eq!(m.period, Period::of_days(1));
        assert_eq!(m.usage.on_demand.arm64, 10 * 3_600_000_000 * 128);
    }

    #[test]
    fn arm64_is_cheaper_per_gb_second() {
        let t = PriceTable::default();
        let x = model(&t, 1024, 1_000_000, 1_000_000, Arch::X86_64);
        let a = model(&t, 1024, 1_000_000, 1_000_000, Arch::Arm64);
        // 1,000,000 GB-s each.
        assert_eq!(
            t.bill(&x.usage, x.period, false).duration.to_string(),
            "$16.67"
        );
        assert_eq!(
            t.bill(&a.usage, a.period, false).duration.to_string(),
            "$13.33"
        );
    }
}
