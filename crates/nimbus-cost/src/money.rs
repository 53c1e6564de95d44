//! Exact money: an integer count of picodollars (10⁻¹² $).
//!
//! Lambda's unit prices have up to ten decimals ($0.0000166667 per GB-s, $0.0000000309 per
//! GB-s of extra `/tmp`), so micro-dollars cannot even hold a price. Picodollars hold every
//! published price exactly, and an `i128` holds any bill (a month of a whole region is far
//! below 10²⁶ picodollars). Nothing is a float until a number is shown: amounts are summed
//! exactly and rounded once, to cents, when rendered.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Picodollars in one dollar.
pub const PICOS_PER_DOLLAR: i128 = 1_000_000_000_000;

/// Picodollars in one cent (the unit bills are rounded to when shown).
const PICOS_PER_CENT: i128 = PICOS_PER_DOLLAR / 100;

/// Fractional digits a price may have (picodollars are 10⁻¹²).
const PRICE_DECIMALS_MAX: usize = 12;

/// An amount of money, exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i128);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// From picodollars.
    pub const fn from_picos(picos: i128) -> Self {
        Money(picos)
    }

    /// Picodollars.
    pub const fn picos(self) -> i128 {
        self.0
    }

    /// Whole cents, rounded half away from zero (how a bill is shown).
    pub fn cents(self) -> i128 {
        let half = PICOS_PER_CENT / 2;
        if self.0 >= 0 {
            (self.0 + half) / PICOS_PER_CENT
        } else {
            -((-self.0 + half) / PICOS_PER_CENT)
        }
    }

    /// `$1,234.56` (rounded to cents; `-$0.50` when negative).
    pub fn to_cents_string(self) -> String {
        let cents = self.cents();
        let sign = if cents < 0 { "-" } else { "" };
        let cents = cents.unsigned_abs();
        format!(
            "{sign}${}.{:02}",
            group_thousands(&(cents / 100).to_string()),
            cents % 100
        )
    }

    /// Exact decimal dollars (`8.5333504`), trailing zeros trimmed: for JSON and prices.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / PICOS_PER_DOLLAR.unsigned_abs();
        let frac = abs % PICOS_PER_DOLLAR.unsigned_abs();
        if frac == 0 {
            return format!("{sign}{whole}");
        }
        let digits = format!("{frac:012}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }

    /// Parses exact decimal dollars (`"0.0000166667"`, `"0.20"`, `"$3"`); at most 12
    /// fractional digits, so the value is representable exactly.
    pub fn parse_dollars(text: &str) -> Result<Money, MoneyError> {
        let bad = || MoneyError(text.to_string());
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let t = t.strip_prefix('$').unwrap_or(t);
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
            return Err(bad());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > PRICE_DECIMALS_MAX {
            return Err(bad());
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let mut picos_frac: i128 = 0;
        for (i, b) in frac.bytes().enumerate() {
            let digit = i128::from(b - b'0');
            picos_frac += digit * 10i128.pow((PRICE_DECIMALS_MAX - 1 - i) as u32);
        }
        let picos = whole
            .checked_mul(PICOS_PER_DOLLAR)
            .and_then(|w| w.checked_add(picos_frac))
            .ok_or_else(bad)?;
        Ok(Money(if negative { -picos } else { picos }))
    }

    /// `amount × numerator / denominator`, rounded half up to a picodollar (prices per unit
    /// applied to quantities in finer units). `denominator` must not be zero.
    pub fn mul_div(self, numerator: u128, denominator: u128) -> Money {
        debug_assert!(denominator > 0);
        let denominator = denominator.max(1);
        let negative = self.0 < 0;
        let product = self.0.unsigned_abs().saturating_mul(numerator);
        let rounded = (product.saturating_add(denominator / 2)) / denominator;
        let value = i128::try_from(rounded).unwrap_or(i128::MAX);
        Money(if negative { -value } else { value })
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl fmt::Display for Money {
    /// Rounded to cents: `$10.53`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_cents_string())
    }
}

/// In JSON and TOML, money is an exact decimal string (`"0.0000166667"`); a number is also
/// accepted on input (rounded to the nearest picodollar: a price file written by hand).
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_decimal_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Integer(i64),
            Number(f64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(t) => Money::parse_dollars(&t).map_err(serde::de::Error::custom),
            Repr::Integer(n) => Ok(Money(i128::from(n) * PICOS_PER_DOLLAR)),
            Repr::Number(x) => {
                let picos = x * PICOS_PER_DOLLAR as f64;
                if !picos.is_finite() || picos.abs() > 1e30 {
                    return Err(serde::de::Error::custom(format!(
                        "price {x} is out of range"
                    )));
                }
                Ok(Money(picos.round() as i128))
            }
        }
    }
}

/// A price that is not an exact decimal with at most 12 fractional digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an amount of dollars with at most 12 decimals")]
pub struct MoneyError(String);

/// `1234567` → `1,234,567`.
pub fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prices_exactly() {
        let p = Money::parse_dollars("0.0000166667").expect("price");
        assert_eq!(p.picos(), 16_666_700);
        assert_eq!(
            Money::parse_dollars("0.20").expect("price").picos(),
            200_000_000_000
        );
        assert_eq!(
            Money::parse_dollars("$3").expect("price").picos(),
            3 * PICOS_PER_DOLLAR
        );
        assert_eq!(
            Money::parse_dollars("0.0000000309").expect("price").picos(),
            30_900
        );
        assert!(Money::parse_dollars("0.0000000000001").is_err());
        assert!(Money::parse_dollars("1.2.3").is_err());
        assert!(Money::parse_dollars("").is_err());
        assert!(Money::parse_dollars("abc").is_err());
        assert_eq!(p.to_decimal_string(), "0.0000166667");
    }

    #[test]
    fn renders_cents_rounded_half_up_with_separators() {
        assert_eq!(Money::from_picos(8_533_350_400_000).to_string(), "$8.53");
        assert_eq!(
            Money::from_picos(5 * PICOS_PER_CENT / 10).to_string(),
            "$0.01"
        );
        assert_eq!(
            Money::from_picos(4 * PICOS_PER_CENT / 10).to_string(),
            "$0.00"
        );
        assert_eq!(
            Money::from_picos(11_059_222_214_400 * 1000).to_string(),
            "$11,059.22"
        );
        assert_eq!(
            Money::from_picos(-PICOS_PER_DOLLAR / 2).to_string(),
            "-$0.50"
        );
        assert_eq!(group_thousands("1234567"), "1,234,567");
        assert_eq!(group_thousands("123"), "123");
    }

    #[test]
    fn mul_div_rounds_once() {
        // 512,000 GB-s at $0.0000166667 = $8.5333504 exactly.
        let rate = Money::parse_dollars("0.0000166667").expect("price");
        assert_eq!(rate.mul_div(512_000, 1).to_decimal_string(), "8.5333504");
        assert_eq!(Money::from_picos(10).mul_div(1, 4).picos(), 3);
    }

    #[test]
    fn json_is_an_exact_string_and_numbers_are_accepted() {
        let m: Money = serde_json::from_str("\"0.0000041667\"").expect("string");
        assert_eq!(m.picos(), 4_166_700);
        let m: Money = serde_json::from_str("0.0000041667").expect("number");
        assert_eq!(m.picos(), 4_166_700);
        let m: Money = serde_json::from_str("2").expect("integer");
        assert_eq!(m.picos(), 2 * PICOS_PER_DOLLAR);
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            "\"2\"".to_string()
        );
    }
}
