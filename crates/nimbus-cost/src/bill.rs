//! Pricing a [`Usage`] with a [`PriceTable`]: line items in exact money.
//!
//! Rules (AWS's, lambda-compat.md §12):
//! * every invocation attempt pays a request;
//! * on-demand duration is priced by monthly tier per architecture;
//! * invocations served by provisioned concurrency pay the provisioned duration rate, and the
//!   configured concurrency pays its own rate per GB-s whether used or not;
//! * the free tier (when asked for) removes requests and on-demand GB-s, x86_64 first (the
//!   dearer rate, so the customer's best case); it never covers provisioned concurrency;
//! * monthly allowances (free tier, tier bounds) are prorated to the period priced, so a day
//!   gets a thirtieth of the free tier.

use crate::money::Money;
use crate::prices::{Arch, ArchPrices, PriceTable};
use crate::usage::{Period, Usage, gb_seconds};
use serde::Serialize;

/// Requests per "per million" price.
const REQUESTS_PER_MILLION: u128 = 1_000_000;

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LineItem {
    /// What is charged (`requests`, `duration`, `provisioned-concurrency`, …).
    pub item: &'static str,
    /// The architecture, for duration-like items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Billable quantity after the free tier, in `unit`s (display only; amounts are exact).
    pub quantity: f64,
    /// Of the quantity used, what the free tier covered, in `unit`s.
    pub free: f64,
    /// `requests` or `GB-s`.
    pub unit: &'static str,
    /// Price per unit (the first tier's for tiered items).
    pub unit_price: Money,
    /// Exact amount.
    pub amount: Money,
}

/// A priced usage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bill {
    /// Requests.
    pub requests: Money,
    /// On-demand duration (both architectures).
    pub duration: Money,
    /// Provisioned concurrency: configured GB-s and the duration of invocations it served.
    pub provisioned: Money,
    /// `/tmp` above the included size.
    pub ephemeral: Money,
    /// Everything.
    pub total: Money,
    /// Whether the free tier was applied.
    pub free_tier: bool,
    /// The lines behind the totals.
    pub lines: Vec<LineItem>,
}

impl PriceTable {
    /// Prices `usage` measured over `period` (allowances prorated to it), with or without
    /// the free tier.
    pub fn bill(&self, usage: &Usage, period: Period, free_tier: bool) -> Bill {
        let d = self.mb_us_per_gb_second();
        let mut lines = Vec::new();

        let free_requests = if free_tier {
            period.scale(u128::from(self.free_tier.requests))
        } else {
            0
        };
        let used_requests = u128::from(usage.requests);
        let free_used = free_requests.min(used_requests);
        let billable_requests = used_requests - free_used;
        let requests = self
            .requests_per_million
            .mul_div(billable_requests, REQUESTS_PER_MILLION);
        lines.push(LineItem {
            item: "requests",
            arch: None,
            quantity: billable_requests as f64,
            free: free_used as f64,
            unit: "requests",
            unit_price: self.requests_per_million.mul_div(1, REQUESTS_PER_MILLION),
            amount: requests,
        });

        let mut free_mb_us = if free_tier {
            period.scale(u128::from(self.free_tier.gb_seconds).saturating_mul(d))
        } else {
            0
        };
        let mut duration = Money::ZERO;
        for arch in [Arch::X86_64, Arch::Arm64] {
            let used = usage.on_demand.get(arch);
            let free = free_mb_us.min(used);
            free_mb_us -= free;
            let billable = used - free;
            if used == 0 {
                continue;
            }
            let prices = self.arch(arch);
            let amount = tiered(prices, billable, d, period);
            duration += amount;
            lines.push(LineItem {
                item: "duration",
                arch: Some(arch),
                quantity: gb_seconds(billable, self),
                free: gb_seconds(free, self),
                unit: "GB-s",
                unit_price: first_tier_price(prices),
                amount,
            });
        }

        let mut provisioned = Money::ZERO;
        for arch in [Arch::X86_64, Arch::Arm64] {
            let prices = self.arch(arch);
            let items = [
                (
                    "provisioned-concurrency",
                    usage.provisioned_configured.get(arch),
                    prices.provisioned_per_gb_second,
                ),
                (
                    "provisioned-duration",
                    usage.provisioned_invocations.get(arch),
                    prices.provisioned_duration_per_gb_second,
                ),
            ];
            for (item, quantity, rate) in items {
                if quantity == 0 {
                    continue;
                }
                let amount = rate.mul_div(quantity, d);
                provisioned += amount;
                lines.push(LineItem {
                    item,
                    arch: Some(arch),
                    quantity: gb_seconds(quantity, self),
                    free: 0.0,
                    unit: "GB-s",
                    unit_price: rate,
                    amount,
                });
            }
        }

        let ephemeral = self
            .ephemeral_per_gb_second
            .mul_div(usage.ephemeral_extra, d);
        if usage.ephemeral_extra > 0 {
            lines.push(LineItem {
                item: "ephemeral-storage",
                arch: None,
                quantity: gb_seconds(usage.ephemeral_extra, self),
                free: 0.0,
                unit: "GB-s",
                unit_price: self.ephemeral_per_gb_second,
                amount: ephemeral,
            });
        }

        Bill {
            requests,
            duration,
            provisioned,
            ephemeral,
            total: requests + duration + provisioned + ephemeral,
            free_tier,
            lines,
        }
    }
}

/// On-demand duration of `mb_us` through the monthly tiers (bounds prorated to `period`).
fn tiered(prices: &ArchPrices, mb_us: u128, d: u128, period: Period) -> Money {
    let mut amount = Money::ZERO;
    let mut priced: u128 = 0;
    for tier in &prices.duration_tiers {
        if priced >= mb_us {
            break;
        }
        let upper = match tier.up_to_gb_seconds {
            Some(bound) => period.scale(u128::from(bound).saturating_mul(d)).min(mb_us),
            None => mb_us,
        };
        if upper <= priced {
            continue;
        }
        amount += tier.per_gb_second.mul_div(upper - priced, d);
        priced = upper;
    }
    amount
}

fn first_tier_price(prices: &ArchPrices) -> Money {
    prices
        .duration_tiers
        .first()
        .map(|t| t.per_gb_second)
        .unwrap_or(Money::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::Tier;

    fn gbs(table: &PriceTable, gb_seconds: u128) -> u128 {
        gb_seconds * table.mb_us_per_gb_second()
    }

    #[test]
    fn free_tier_covers_requests_and_gb_seconds_x86_first() {
        let t = PriceTable::default();
        let mut u = Usage {
            requests: 3_000_000,
            ..Usage::default()
        };
        u.on_demand.x86_64 = gbs(&t, 300_000);
        u.on_demand.arm64 = gbs(&t, 200_000);
        let off = t.bill(&u, Period::MONTH, false);
        let on = t.bill(&u, Period::MONTH, true);
        assert_eq!(off.requests.to_string(), "$0.60");
        assert_eq!(on.requests.to_string(), "$0.40");
        // 400,000 free: all 300,000 x86 GB-s and 100,000 of arm64's; 100,000 arm64 left.
        assert_eq!(
            on.duration,
            Money::parse_dollars("0.0000133334")
                .expect("p")
                .mul_div(100_000, 1)
        );
        let arm = on
            .lines
            .iter()
            .find(|l| l.arch == Some(Arch::Arm64))
            .expect("arm line");
        assert_eq!(arm.free, 100_000.0);
        assert_eq!(on.total, on.requests + on.duration);
    }

    #[test]
    fn free_tier_is_prorated_to_the_period() {
        let t = PriceTable::default();
        let u = Usage {
            requests: 1_000_000,
            ..Usage::default()
        };
        // A day gets 1,000,000 / 30 = 33,333 free requests.
        let day = t.bill(&u, Period::of_days(1), true);
        assert_eq!(day.lines[0].free, 33_333.0);
        assert_eq!(
            day.requests,
            Money::parse_dollars("0.20")
                .expect("p")
                .mul_div(1_000_000 - 33_333, 1_000_000)
        );
    }

    #[test]
    fn duration_tiers_split_at_their_bounds() {
        let mut t = PriceTable::default();
        t.x86_64.duration_tiers = vec![
            Tier {
                up_to_gb_seconds: Some(10),
                per_gb_second: Money::parse_dollars("1").expect("p"),
            },
            Tier {
                up_to_gb_seconds: Some(20),
                per_gb_second: Money::parse_dollars("0.5").expect("p"),
            },
            Tier {
                up_to_gb_seconds: None,
                per_gb_second: Money::parse_dollars("0.1").expect("p"),
            },
        ];
        let mut u = Usage::default();
        u.on_demand.x86_64 = gbs(&t, 25);
        // 10 × $1 + 10 × $0.50 + 5 × $0.10.
        assert_eq!(
            t.bill(&u, Period::MONTH, false).duration.to_string(),
            "$15.50"
        );
    }

    #[test]
    fn provisioned_concurrency_has_its_own_rates_and_no_free_tier() {
        let t = PriceTable::default();
        let mut u = Usage::default();
        // 10 environments × 1 GB (1024 MB) for one hour = 36,000 GB-s.
        u.add_provisioned(Arch::X86_64, 1024, 10, 3_600_000);
        let b = t.bill(&u, Period::MONTH, true);
        assert_eq!(
            b.provisioned,
            Money::parse_dollars("0.0000041667")
                .expect("p")
                .mul_div(36_000, 1)
        );
        assert_eq!(b.provisioned.to_string(), "$0.15");
        assert_eq!(b.duration, Money::ZERO);
    }

    #[test]
    fn extra_ephemeral_storage_is_billed() {
        let t = PriceTable::default();
        let mut u = Usage::default();
        // 10,240 MB of /tmp (9,728 MB billed) for 1,000 invocations of 1 s.
        u.add_invocations(&t, Arch::X86_64, 128, 10_240, 1_000, 1_000_000, false);
        let b = t.bill(&u, Period::MONTH, false);
        let expected = t
            .ephemeral_per_gb_second
            .mul_div(1_000_000 * 1000 * 9_728, t.mb_us_per_gb_second());
        assert_eq!(b.ephemeral, expected);
        assert!(b.lines.iter().any(|l| l.item == "ephemeral-storage"));
    }
}
