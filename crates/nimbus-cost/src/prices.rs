//! Price tables: what a request, a GB-second of each architecture, provisioned concurrency
//! and extra `/tmp` cost. The default is AWS Lambda in us-east-1 (see
//! `shared/reference/lambda-compat.md` §12); a TOML or JSON file may override any part.

use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// MB in one GB when converting MB-seconds to GB-seconds. AWS's pricing examples divide by
/// 1,024 ("512 MB / 1024 = 0.5 GB"); the seed article divides by 1,000 ("256 MB = 0.256
/// GB"), which is why its figures need `mb_per_gb = 1000` to be reproduced.
pub const MB_PER_GB_AWS: u32 = 1024;

/// The seed article's convention (decimal GB), kept so its worked examples can be checked.
pub const MB_PER_GB_DECIMAL: u32 = 1000;

/// `/tmp` included in the price: only the configured size above it is billed. AWS.
pub const EPHEMERAL_FREE_MB_AWS: u32 = 512;

/// A function's instruction set, which selects its duration prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Arch {
    /// `x86_64` (Lambda's default).
    #[serde(rename = "x86_64")]
    X86_64,
    /// `arm64` (Graviton; cheaper per GB-s).
    #[serde(rename = "arm64")]
    Arm64,
}

impl Arch {
    /// Lambda's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// From Lambda's spelling (`Architectures` member); anything else is `None`.
    pub fn parse(text: &str) -> Option<Arch> {
        match text {
            "x86_64" | "x86" | "amd64" => Some(Arch::X86_64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }

    /// From a function's `Architectures` (Lambda's default, x86_64, when empty or unknown).
    pub fn of_function(architectures: &[String]) -> Arch {
        architectures
            .first()
            .and_then(|a| Arch::parse(a))
            .unwrap_or(Arch::X86_64)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One duration tier: GB-seconds of the month up to `up_to_gb_seconds` (cumulative; `None`
/// for the last, unbounded tier) cost `per_gb_second`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Cumulative upper bound in GB-s per month; `None`: no bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_gb_seconds: Option<u64>,
    /// Price of one GB-second in this tier.
    pub per_gb_second: Money,
}

/// The prices of one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchPrices {
    /// On-demand duration, by monthly tier (ascending bounds, the last unbounded).
    pub duration_tiers: Vec<Tier>,
    /// Provisioned concurrency: per GB-s configured, invoked or not.
    pub provisioned_per_gb_second: Money,
    /// Duration of invocations served by provisioned concurrency (instead of the on-demand
    /// tiers).
    pub provisioned_duration_per_gb_second: Money,
}

/// The monthly free tier (per account, both architectures together; not for provisioned
/// concurrency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTier {
    /// Free requests per month.
    pub requests: u64,
    /// Free GB-seconds per month.
    pub gb_seconds: u64,
}

/// Everything a bill is priced from. Missing keys in a file keep the defaults; a given
/// architecture section replaces that section entirely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriceTable {
    /// Shown with reports.
    pub name: String,
    /// MB per GB when converting memory × time to GB-seconds.
    pub mb_per_gb: u32,
    /// Price of a million requests.
    pub requests_per_million: Money,
    /// The monthly free tier (applied when asked for).
    pub free_tier: FreeTier,
    /// x86_64 prices.
    pub x86_64: ArchPrices,
    /// arm64 prices.
    pub arm64: ArchPrices,
    /// Per GB-s of configured `/tmp` above `ephemeral_free_mb`.
    pub ephemeral_per_gb_second: Money,
    /// `/tmp` included in the price, in MB.
    pub ephemeral_free_mb: u32,
}

/// A price file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Not valid TOML or JSON for a price table.
    #[error("cannot read the table: {0}")]
    Syntax(String),
    /// Read, but inconsistent.
    #[error("invalid table: {0}")]
    Invalid(String),
}

/// Exact price text of the defaults; these constants are AWS's published numbers.
fn price(text: &str) -> Money {
    // The literals below are valid; a typo would show in the tests, never at run time.
    Money::parse_dollars(text).unwrap_or(Money::ZERO)
}

impl Default for PriceTable {
    /// AWS Lambda, us-east-1, as published in 2025 (lambda-compat.md §12). The arm64 third
    /// tier and the provisioned rates come from AWS's pricing page via secondary sources.
    fn default() -> Self {
        PriceTable {
            name: "AWS Lambda us-east-1 (2025)".to_string(),
            mb_per_gb: MB_PER_GB_AWS,
            requests_per_million: price("0.20"),
            free_tier: FreeTier {
                requests: 1_000_000,
                gb_seconds: 400_000,
            },
            x86_64: ArchPrices {
                duration_tiers: vec![
                    Tier {
                        up_to_gb_seconds: Some(6_000_000_000),
                        per_gb_second: price("0.0000166667"),
                    },
                    Tier {
                        up_to_gb_seconds: Some(15_000_000_000),
                        per_gb_second: price("0.000015"),
                    },
                    Tier {
                        up_to_gb_seconds: None,
                        per_gb_second: price("0.0000133334"),
                    },
                ],
                provisioned_per_gb_second: price("0.0000041667"),
                provisioned_duration_per_gb_second: price("0.0000097222"),
            },
            arm64: ArchPrices {
                duration_tiers: vec![
                    Tier {
                        up_to_gb_seconds: Some(7_500_000_000),
                        per_gb_second: price("0.0000133334"),
                    },
                    Tier {
                        up_to_gb_seconds: Some(18_750_000_000),
                        per_gb_second: price("0.0000120001"),
                    },
                    Tier {
                        up_to_gb_seconds: None,
                        per_gb_second: price("0.0000106667"),
                    },
                ],
                provisioned_per_gb_second: price("0.0000033334"),
                provisioned_duration_per_gb_second: price("0.0000077778"),
            },
            ephemeral_per_gb_second: price("0.0000000309"),
            ephemeral_free_mb: EPHEMERAL_FREE_MB_AWS,
        }
    }
}

impl PriceTable {
    /// Reads a price table from TOML or JSON text (JSON when it starts with `{`); keys that
    /// are absent keep the defaults.
    pub fn parse(text: &str) -> Result<PriceTable, PriceError> {
        let table: PriceTable = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| PriceError::Syntax(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| PriceError::Syntax(e.to_string()))?
        };
        table.validate()?;
        Ok(table)
    }

    /// The prices of `arch`.
    pub fn arch(&self, arch: Arch) -> &ArchPrices {
        match arch {
            Arch::X86_64 => &self.x86_64,
            Arch::Arm64 => &self.arm64,
        }
    }

    /// MB-microseconds in one GB-second (the exact divisor of every duration quantity).
    pub fn mb_us_per_gb_second(&self) -> u128 {
        u128::from(self.mb_per_gb) * 1_000_000
    }

    /// Checks what serde cannot: a positive GB size, tiers ascending and ending unbounded.
    pub fn validate(&self) -> Result<(), PriceError> {
        if self.mb_per_gb == 0 {
            return Err(PriceError::Invalid("mb_per_gb must be positive".into()));
        }
        let money = [
            self.requests_per_million,
            self.ephemeral_per_gb_second,
            self.x86_64.provisioned_per_gb_second,
            self.x86_64.provisioned_duration_per_gb_second,
            self.arm64.provisioned_per_gb_second,
            self.arm64.provisioned_duration_per_gb_second,
        ];
        if money.iter().any(|m| m.picos() < 0) {
            return Err(PriceError::Invalid("prices must not be negative".into()));
        }
        for arch in [Arch::X86_64, Arch::Arm64] {
            let tiers = &self.arch(arch).duration_tiers;
            let invalid = |why: &str| PriceError::Invalid(format!("{arch} duration_tiers: {why}"));
            let Some((last, bounded)) = tiers.split_last() else {
                return Err(invalid("at least one tier is needed"));
            };
            if last.up_to_gb_seconds.is_some() {
                return Err(invalid("the last tier must have no up_to_gb_seconds"));
            }
            let mut previous = 0;
            for tier in bounded {
                match tier.up_to_gb_seconds {
                    Some(bound) if bound > previous => previous = bound,
                    _ => return Err(invalid("bounds must be given and ascending")),
                }
            }
            if tiers.iter().any(|t| t.per_gb_second.picos() < 0) {
                return Err(invalid("prices must not be negative"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_exact() {
        let t = PriceTable::default();
        t.validate().expect("valid");
        assert_eq!(t.requests_per_million.to_decimal_string(), "0.2");
        assert_eq!(
            t.x86_64.duration_tiers[0].per_gb_second.to_decimal_string(),
            "0.0000166667"
        );
        assert_eq!(
            t.arm64.duration_tiers[0].per_gb_second.to_decimal_string(),
            "0.0000133334"
        );
        assert_eq!(t.free_tier.gb_seconds, 400_000);
        assert_eq!(t.mb_us_per_gb_second(), 1_024_000_000);
    }

    #[test]
    fn a_toml_file_overrides_only_what_it_names() {
        let t = PriceTable::parse(
            "name = \"mine\"\nmb_per_gb = 1000\nrequests_per_million = \"0.25\"\n\
             [free_tier]\nrequests = 0\ngb_seconds = 0\n",
        )
        .expect("toml");
        assert_eq!(t.name, "mine");
        assert_eq!(t.mb_per_gb, 1000);
        assert_eq!(t.requests_per_million.to_decimal_string(), "0.25");
        assert_eq!(t.x86_64, PriceTable::default().x86_64);
    }

    #[test]
    fn a_json_file_may_replace_an_architecture() {
        let t = PriceTable::parse(
            r#"{"arm64": {"duration_tiers": [{"per_gb_second": "0.00001"}],
                "provisioned_per_gb_second": 0.000003,
                "provisioned_duration_per_gb_second": "0.000007"}}"#,
        )
        .expect("json");
        assert_eq!(t.arm64.duration_tiers.len(), 1);
        assert_eq!(t.arm64.provisioned_per_gb_second.picos(), 3_000_000);
        assert_eq!(t.x86_64, PriceTable::default().x86_64);
    }

    #[test]
    fn inconsistent_files_are_refused_with_a_reason() {
        let e = PriceTable::parse("mb_per_gb = 0").expect_err("zero");
        assert!(e.to_string().contains("mb_per_gb"), "{e}");
        let e = PriceTable::parse(
            "[x86_64]\nprovisioned_per_gb_second = \"0\"\nprovisioned_duration_per_gb_second = \"0\"\n\
             duration_tiers = [{ up_to_gb_seconds = 10, per_gb_second = \"1\" }]\n",
        )
        .expect_err("bounded last tier");
        assert!(e.to_string().contains("last tier"), "{e}");
        let e = PriceTable::parse("no_such_key = 1").expect_err("unknown key");
        assert!(matches!(e, PriceError::Syntax(_)), "{e}");
        let e =
            PriceTable::parse("requests_per_million = \"0.0000000000001\"").expect_err("precision");
        assert!(matches!(e, PriceError::Syntax(_)), "{e}");
    }

    #[test]
    fn architectures_parse_like_lambda() {
        assert_eq!(Arch::of_function(&[]), Arch::X86_64);
        assert_eq!(Arch::of_function(&["arm64".to_string()]), Arch::Arm64);
        assert_eq!(Arch::parse("sparc"), None);
    }
}
