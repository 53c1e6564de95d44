//! What was (or would be) consumed: requests and memory × time, in exact integer units.
//!
//! Duration quantities are MB-microseconds (`u128`): every billed millisecond of every
//! memory size is a whole number of them, and so is a modelled average like 0.5 ms, so
//! sums never round. GB-seconds are derived (÷ [`PriceTable::mb_us_per_gb_second`]) only
//! when pricing or showing.

use crate::prices::{Arch, PriceTable};
use serde::{Deserialize, Serialize};

/// Milliseconds in the month bills are projected to. Lambda bills calendar months; a fixed
/// 30 days (720 hours, the seed's "× 720 hrs") keeps projections comparable.
pub const MONTH_MS: u64 = 30 * 24 * 3600 * 1000;

/// Microseconds in a millisecond.
const US_PER_MS: u128 = 1000;

/// A quantity per architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerArch {
    /// x86_64.
    #[serde(rename = "x86_64", with = "u128_text")]
    pub x86_64: u128,
    /// arm64.
    #[serde(rename = "arm64", with = "u128_text")]
    pub arm64: u128,
}

impl PerArch {
    /// The quantity of `arch`.
    pub fn get(&self, arch: Arch) -> u128 {
        match arch {
            Arch::X86_64 => self.x86_64,
            Arch::Arm64 => self.arm64,
        }
    }

    /// Adds to the quantity of `arch`.
    pub fn add(&mut self, arch: Arch, amount: u128) {
        match arch {
            Arch::X86_64 => self.x86_64 = self.x86_64.saturating_add(amount),
            Arch::Arm64 => self.arm64 = self.arm64.saturating_add(amount),
        }
    }

    /// Both architectures.
    pub fn total(&self) -> u128 {
        self.x86_64.saturating_add(self.arm64)
    }

    fn scaled(&self, period: Period) -> PerArch {
        PerArch {
            x86_64: period.scale(self.x86_64),
            arm64: period.scale(self.arm64),
        }
    }

    fn inverse_scaled(&self, period: Period) -> PerArch {
        PerArch {
            x86_64: period.inverse_scale(self.x86_64),
            arm64: period.inverse_scale(self.arm64),
        }
    }

    fn plus(&self, other: &PerArch) -> PerArch {
        PerArch {
            x86_64: self.x86_64.saturating_add(other.x86_64),
            arm64: self.arm64.saturating_add(other.arm64),
        }
    }
}

/// Consumption over some period. Quantities are MB-µs unless named otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Usage {
    /// Invocation attempts (each pays a request, provisioned or not).
    pub requests: u64,
    /// Billed duration × memory of on-demand invocations.
    pub on_demand: PerArch,
    /// Billed duration × memory of invocations served by provisioned concurrency (priced at
    /// the provisioned duration rate instead of the on-demand tiers).
    pub provisioned_invocations: PerArch,
    /// Provisioned concurrency configured × memory × time configured.
    pub provisioned_configured: PerArch,
    /// Billed duration × `/tmp` size above the included size.
    #[serde(with = "u128_text")]
    pub ephemeral_extra: u128,
}

impl Usage {
    /// Adds `count` invocations of one kind whose billed durations sum to `billed_ms`.
    #[allow(clippy::too_many_arguments)]
    pub fn add_invocations(
        &mut self,
        table: &PriceTable,
        arch: Arch,
        memory_mb: u32,
        ephemeral_mb: u32,
        count: u64,
        billed_ms: u64,
        on_provisioned: bool,
    ) {
        let billed_us = u128::from(billed_ms) * US_PER_MS;
        self.add_invocations_us(
            table,
            arch,
            memory_mb,
            ephemeral_mb,
            count,
            billed_us,
            on_provisioned,
        );
    }

    /// [`Usage::add_invocations`] with the billed time in microseconds (models of an
    /// average duration with a fraction of a millisecond).
    #[allow(clippy::too_many_arguments)]
    pub fn add_invocations_us(
        &mut self,
        table: &PriceTable,
        arch: Arch,
        memory_mb: u32,
        ephemeral_mb: u32,
        count: u64,
        billed_us: u128,
        on_provisioned: bool,
    ) {
        self.requests = self.requests.saturating_add(count);
        let mb_us = billed_us.saturating_mul(u128::from(memory_mb));
        if on_provisioned {
            self.provisioned_invocations.add(arch, mb_us);
        } else {
            self.on_demand.add(arch, mb_us);
        }
        let extra_mb = ephemeral_mb.saturating_sub(table.ephemeral_free_mb);
        self.ephemeral_extra = self
            .ephemeral_extra
            .saturating_add(billed_us.saturating_mul(u128::from(extra_mb)));
    }

    /// Adds provisioned concurrency configured for `ms` milliseconds.
    pub fn add_provisioned(&mut self, arch: Arch, memory_mb: u32, concurrency: u64, ms: u64) {
        let mb_us = u128::from(ms) * US_PER_MS * u128::from(memory_mb) * u128::from(concurrency);
        self.provisioned_configured.add(arch, mb_us);
    }

    /// The sum of two usages.
    pub fn plus(&self, other: &Usage) -> Usage {
        Usage {
            requests: self.requests.saturating_add(other.requests),
            on_demand: self.on_demand.plus(&other.on_demand),
            provisioned_invocations: self
                .provisioned_invocations
                .plus(&other.provisioned_invocations),
            provisioned_configured: self
                .provisioned_configured
                .plus(&other.provisioned_configured),
            ephemeral_extra: self.ephemeral_extra.saturating_add(other.ephemeral_extra),
        }
    }

    /// Every duration quantity that is billed per GB-s of memory (on-demand, provisioned
    /// invocations, configured provisioned concurrency), in MB-µs.
    pub fn memory_mb_us(&self) -> u128 {
        self.on_demand
            .total()
            .saturating_add(self.provisioned_invocations.total())
            .saturating_add(self.provisioned_configured.total())
    }

    /// Billed duration × memory of invocations (on-demand and provisioned), in GB-s: the
    /// figure a REPORT line's `Billed Duration × Memory Size` adds up to.
    pub fn invocation_gb_seconds(&self, table: &PriceTable) -> f64 {
        gb_seconds(
            self.on_demand
                .total()
                .saturating_add(self.provisioned_invocations.total()),
            table,
        )
    }

    /// The same rate of use over a 30-day month: this usage, measured over `period`,
    /// scaled by 1 / `period` (rounded down to whole units).
    pub fn projected_to_month(&self, period: Period) -> Usage {
        Usage {
            requests: u64::try_from(period.inverse_scale(u128::from(self.requests)))
                .unwrap_or(u64::MAX),
            on_demand: self.on_demand.inverse_scaled(period),
            provisioned_invocations: self.provisioned_invocations.inverse_scaled(period),
            provisioned_configured: self.provisioned_configured.inverse_scaled(period),
            ephemeral_extra: period.inverse_scale(self.ephemeral_extra),
        }
    }

    /// This usage × `period` (a month's usage cut to a shorter period).
    pub fn scaled(&self, period: Period) -> Usage {
        Usage {
            requests: u64::try_from(period.scale(u128::from(self.requests))).unwrap_or(u64::MAX),
            on_demand: self.on_demand.scaled(period),
            provisioned_invocations: self.provisioned_invocations.scaled(period),
            provisioned_configured: self.provisioned_configured.scaled(period),
            ephemeral_extra: period.scale(self.ephemeral_extra),
        }
    }
}

/// MB-µs → GB-s, for showing (prices use the exact integers).
pub fn gb_seconds(mb_us: u128, table: &PriceTable) -> f64 {
    mb_us as f64 / table.mb_us_per_gb_second() as f64
}

/// A length of time as an exact fraction of a [`MONTH_MS`] month: monthly allowances (free
/// tier, tier bounds) are prorated by it, and a window's usage is projected with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Milliseconds.
    pub ms: u64,
}

impl Period {
    /// A whole 30-day month.
    pub const MONTH: Period = Period { ms: MONTH_MS };

    /// `ms` milliseconds (at least one, so a fraction always exists).
    pub fn of_ms(ms: u64) -> Period {
        Period { ms: ms.max(1) }
    }

    /// `days` days.
    pub fn of_days(days: u32) -> Period {
        Period::of_ms(u64::from(days) * 24 * 3600 * 1000)
    }

    /// `x × period / month`, rounded down.
    pub fn scale(self, x: u128) -> u128 {
        x.saturating_mul(u128::from(self.ms)) / u128::from(MONTH_MS)
    }

    /// `x × month / period`, rounded down.
    pub fn inverse_scale(self, x: u128) -> u128 {
        x.saturating_mul(u128::from(MONTH_MS)) / u128::from(self.ms.max(1))
    }
}

/// `u128` as a decimal string in JSON (JavaScript numbers lose integers above 2⁵³; a month
/// at 1,000 × 256 MB is 6.6 × 10¹⁷ MB-µs).
mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(u64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
            Repr::Number(n) => Ok(u128::from(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_add_exact_mb_microseconds() {
        let t = PriceTable::default();
        let mut u = Usage::default();
        u.add_invocations(&t, Arch::X86_64, 128, 512, 2, 39, false);
        u.add_invocations(&t, Arch::Arm64, 256, 1024, 1, 10, true);
        assert_eq!(u.requests, 3);
        assert_eq!(u.on_demand.x86_64, 39 * 1000 * 128);
        assert_eq!(u.provisioned_invocations.arm64, 10 * 1000 * 256);
        // Only the second had /tmp above 512 MB.
        assert_eq!(u.ephemeral_extra, 10 * 1000 * 512);
        assert!(
            (u.invocation_gb_seconds(&t) - (39.0 * 0.125 + 10.0 * 0.25) / 1000.0).abs() < 1e-12
        );
    }

    #[test]
    fn a_window_projects_to_a_month_and_back() {
        let u = Usage {
            requests: 100,
            on_demand: PerArch {
                x86_64: 1_000,
                arm64: 0,
            },
            ..Usage::default()
        };
        let day = Period::of_days(1);
        let month = u.projected_to_month(day);
        assert_eq!(month.requests, 3_000);
        assert_eq!(month.on_demand.x86_64, 30_000);
        assert_eq!(month.scaled(day), u);
        assert_eq!(u.projected_to_month(Period::MONTH), u);
    }

    #[test]
    fn json_keeps_big_quantities_exact() {
        let mut u = Usage::default();
        u.on_demand.x86_64 = 663_552_000_000_000_000;
        let text = serde_json::to_string(&u).expect("json");
        assert!(text.contains("\"663552000000000000\""), "{text}");
        let back: Usage = serde_json::from_str(&text).expect("back");
        assert_eq!(back, u);
    }
}
