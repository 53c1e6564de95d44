//! Human numbers for the CLI and the cost API: counts (`10M`, `1.5k`, `10,000,000`),
//! durations (`200ms`, `1s`, `1.5h`), memory (`256`, `256MB`, `1GB`), on/off, and points in
//! time (`24h` ago, RFC 3339, ms since the epoch). Decimals are parsed exactly (no floats): a
//! value that is not a whole number of the target unit is refused rather than rounded.

/// Largest integer part accepted (keeps every product below `u128` overflow).
const DIGITS_MAX: usize = 30;

/// Milliseconds-since-epoch values are at least this (1973): a smaller bare number is
/// surely not a timestamp.
const EPOCH_MS_MIN: i64 = 100_000_000_000;

/// Times are at most the end of year 9999 (RFC 3339's last year), so a window's length
/// and every sum over it stay far inside `i64` milliseconds.
pub const TIME_MS_MAX: i64 = 253_402_300_799_999;

/// Input that is not a number of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {expected}")]
pub struct ParseError {
    value: String,
    expected: &'static str,
}

fn error(value: &str, expected: &'static str) -> ParseError {
    ParseError {
        value: value.to_string(),
        expected,
    }
}

/// An exact decimal: `mantissa / 10^scale`.
struct Decimal {
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    /// Parses `12`, `1.5`, `10,000,000`, `1_000` (separators only in the integer part).
    fn parse(text: &str) -> Option<Decimal> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let whole: String = whole.chars().filter(|c| *c != ',' && *c != '_').collect();
        if (whole.is_empty() && frac.is_empty())
            || whole.len() > DIGITS_MAX
            || frac.len() > DIGITS_MAX
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{whole}{frac}");
        Some(Decimal {
            mantissa: digits.parse().ok()?,
            scale: u32::try_from(frac.len()).ok()?,
        })
    }

    /// `self × factor` if it is a whole number.
    fn times(&self, factor: u128) -> Option<u128> {
        let product = self.mantissa.checked_mul(factor)?;
        let divisor = 10u128.checked_pow(self.scale)?;
        (product % divisor == 0).then_some(product / divisor)
    }
}

/// Splits `"200ms"` into `("200", "ms")`.
fn split_unit(text: &str) -> (&str, &str) {
    let t = text.trim();
    let at = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',' || c == '_'))
        .unwrap_or(t.len());
    (t[..at].trim(), t[at..].trim())
}

/// A count: `10M`, `1.5k`, `2B`, `10,000,000`, `1e6`.
pub fn parse_count(text: &str) -> Result<u64, ParseError> {
    const EXPECTED: &str = "a count like 10M, 1.5k or 10,000,000";
    let bad = || error(text, EXPECTED);
    if let Some((m, e)) = text.trim().split_once(['e', 'E']) {
        let exp: u32 = e.parse().map_err(|_| bad())?;
        let factor = 10u128.checked_pow(exp).ok_or_else(bad)?;
        let value = Decimal::parse(m)
            .and_then(|d| d.times(factor))
            .ok_or_else(bad)?;
        return u64::try_from(value).map_err(|_| bad());
    }
    let (number, unit) = split_unit(text);
    let factor: u128 = match unit {
        "" => 1,
        "k" | "K" => 1_000,
        "m" | "M" => 1_000_000,
        "b" | "B" | "g" | "G" => 1_000_000_000,
        _ => return Err(bad()),
    };
    let value = Decimal::parse(number)
        .and_then(|d| d.times(factor))
        .ok_or_else(bad)?;
    u64::try_from(value).map_err(|_| bad())
}

/// A duration in microseconds: `200ms`, `1s`, `1.5s`, `250us`, `2m`, `1h`, `1d`; a bare
/// number is milliseconds (what Lambda reports).
pub fn parse_duration_us(text: &str) -> Result<u64, ParseError> {
    const EXPECTED: &str = "a duration like 200ms, 1.5s or 2m";
    let bad = || error(text, EXPECTED);
    let (number, unit) = split_unit(text);
    let factor: u128 = match unit {
        "us" | "µs" => 1,
        "" | "ms" => 1_000,
        "s" | "sec" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => return Err(bad()),
    };
    let value = Decimal::parse(number)
        .and_then(|d| d.times(factor))
        .ok_or_else(bad)?;
    u64::try_from(value).map_err(|_| bad())
}

/// A length of time in milliseconds: `90s`, `30m`, `24h`, `7d`, `2w` (a unit is required).
pub fn parse_window_ms(text: &str) -> Result<u64, ParseError> {
    const EXPECTED: &str = "a length of time like 1h, 24h or 7d";
    let bad = || error(text, EXPECTED);
    let (number, unit) = split_unit(text);
    let factor: u128 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    let value = Decimal::parse(number)
        .and_then(|d| d.times(factor))
        .ok_or_else(bad)?;
    u64::try_from(value).map_err(|_| bad())
}

/// Memory in MB: `256`, `256MB`, `1GB` / `1G` (1,024 MB, as Lambda's MemorySize counts).
pub fn parse_memory_mb(text: &str) -> Result<u32, ParseError> {
    const EXPECTED: &str = "a memory size like 256, 256MB or 1GB";
    let bad = || error(text, EXPECTED);
    let (number, unit) = split_unit(text);
    let factor: u128 = match unit {
        "" | "MB" | "M" | "mb" | "MiB" => 1,
        "GB" | "G" | "gb" | "GiB" => 1024,
        _ => return Err(bad()),
    };
    let value = Decimal::parse(number)
        .and_then(|d| d.times(factor))
        .ok_or_else(bad)?;
    match u32::try_from(value) {
        Ok(mb) if mb > 0 => Ok(mb),
        _ => Err(bad()),
    }
}

/// Hours a day as seconds: `8`, `8.5`, `8h`, `30m`; at most 24 hours.
pub fn parse_hours_per_day(text: &str) -> Result<u64, ParseError> {
    const EXPECTED: &str = "hours a day like 8, 8.5 or 30m (at most 24h)";
    let bad = || error(text, EXPECTED);
    let (number, unit) = split_unit(text);
    let factor: u128 = match unit {
        "" | "h" => 3600,
        "m" | "min" => 60,
        "s" => 1,
        _ => return Err(bad()),
    };
    let value = Decimal::parse(number)
        .and_then(|d| d.times(factor))
        .ok_or_else(bad)?;
    match u64::try_from(value) {
        Ok(s) if s <= 24 * 3600 => Ok(s),
        _ => Err(bad()),
    }
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`).
pub fn parse_on_off(text: &str) -> Result<bool, ParseError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(error(text, "on or off")),
    }
}

/// A point in time as ms since the epoch: a length of time ago (`24h`, `7d`, relative to
/// `now_ms`), an RFC 3339 time (`2025-08-01T00:00:00Z`), or ms since the epoch.
pub fn parse_since(text: &str, now_ms: i64) -> Result<i64, ParseError> {
    const EXPECTED: &str = "a time like 1h, 24h, 7d, 2025-08-01T00:00:00Z or ms since the epoch, \
                            between 1970 and the end of 9999";
    let t = text.trim();
    let in_range = |ms: i64| {
        if (0..=TIME_MS_MAX).contains(&ms) {
            Ok(ms)
        } else {
            Err(error(text, EXPECTED))
        }
    };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return in_range(at.timestamp_millis());
    }
    if let Ok(ms) = t.parse::<i64>() {
        return if ms >= EPOCH_MS_MIN {
            in_range(ms)
        } else {
            Err(error(text, EXPECTED))
        };
    }
    let ago = parse_window_ms(t).map_err(|_| error(text, EXPECTED))?;
    // Further back than the epoch is the epoch: nothing was metered before it.
    Ok(now_ms
        .saturating_sub(i64::try_from(ago).unwrap_or(i64::MAX))
        .max(0))
}

/// `2025-08-01 00:00:00Z` for ms since the epoch; for tables.
pub fn format_utc_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// `1234567` → `"1,234,567"`; for tables.
pub fn format_count(n: u64) -> String {
    crate::money::group_thousands(&n.to_string())
}

/// GB-seconds for tables: thousands separators and two decimals (`512,000.00`).
pub fn format_gb_seconds(gb_s: f64) -> String {
    let text = format!("{gb_s:.2}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "00"));
    format!("{}.{frac}", crate::money::group_thousands(whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(parse_count("10M"), Ok(10_000_000));
        assert_eq!(parse_count("1.5k"), Ok(1_500));
        assert_eq!(parse_count("10,000,000"), Ok(10_000_000));
        assert_eq!(parse_count("2B"), Ok(2_000_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert_eq!(parse_count("42"), Ok(42));
        assert!(parse_count("1.2345k").is_err(), "not a whole number");
        assert!(parse_count("10X").is_err());
        assert!(parse_count("").is_err());
        assert!(parse_count("-5").is_err());
        assert!(parse_count("99999999999999999999999").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("200ms"), Ok(200_000));
        assert_eq!(parse_duration_us("1s"), Ok(1_000_000));
        assert_eq!(parse_duration_us("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration_us("0.5ms"), Ok(500));
        assert_eq!(parse_duration_us("250us"), Ok(250));
        assert_eq!(parse_duration_us("2m"), Ok(120_000_000));
        assert_eq!(parse_duration_us("200"), Ok(200_000));
        assert!(parse_duration_us("0.0001ms").is_err());
        assert!(parse_duration_us("5 parsecs").is_err());
    }

    #[test]
    fn windows_memory_hours_switches() {
        assert_eq!(parse_window_ms("24h"), Ok(86_400_000));
        assert_eq!(parse_window_ms("7d"), Ok(604_800_000));
        assert_eq!(parse_window_ms("1.5h"), Ok(5_400_000));
        assert!(parse_window_ms("24").is_err(), "a unit is required");
        assert_eq!(parse_memory_mb("256"), Ok(256));
        assert_eq!(parse_memory_mb("256MB"), Ok(256));
        assert_eq!(parse_memory_mb("1GB"), Ok(1024));
        assert_eq!(parse_memory_mb("1.5G"), Ok(1536));
        assert!(parse_memory_mb("0").is_err());
        assert_eq!(parse_hours_per_day("8"), Ok(8 * 3600));
        assert_eq!(parse_hours_per_day("8.5h"), Ok(8 * 3600 + 1800));
        assert_eq!(parse_hours_per_day("30m"), Ok(1800));
        assert!(parse_hours_per_day("25").is_err());
        assert_eq!(parse_on_off("on"), Ok(true));
        assert_eq!(parse_on_off("OFF"), Ok(false));
        assert!(parse_on_off("maybe").is_err());
    }

    #[test]
    fn points_in_time() {
        let now = 1_754_006_400_000; // 2025-08-01T00:00:00Z
        assert_eq!(parse_since("1h", now), Ok(now - 3_600_000));
        assert_eq!(parse_since("2025-08-01T00:00:00Z", 0), Ok(now));
        assert_eq!(parse_since("2025-08-01T02:00:00+02:00", 0), Ok(now));
        assert_eq!(parse_since(&now.to_string(), 0), Ok(now));
        assert!(parse_since("12", now).is_err());
        assert!(parse_since("yesterday", now).is_err());
        // Outside 1970..=9999: refused, so a window's length cannot overflow.
        assert!(parse_since("0000-01-01T00:00:00Z", now).is_err());
        assert!(parse_since("1969-12-31T23:59:59Z", now).is_err());
        assert!(parse_since(&i64::MAX.to_string(), now).is_err());
        assert_eq!(parse_since(&TIME_MS_MAX.to_string(), now), Ok(TIME_MS_MAX));
        assert_eq!(parse_since("106751991167d", now), Ok(0));
    }

    #[test]
    fn table_formatting() {
        assert_eq!(format_count(10_000_000), "10,000,000");
        assert_eq!(format_gb_seconds(512_000.0), "512,000.00");
        assert_eq!(format_gb_seconds(0.126), "0.13");
        assert_eq!(format_utc_ms(1_754_006_400_000), "2025-08-01 00:00:00Z");
    }
}
