//! Timestamp formatting for `LastModified` (no chrono in this crate).

/// Milliseconds in a day.
const MS_PER_DAY: i64 = 86_400_000;

/// Format epoch milliseconds (UTC) as Lambda's `LastModified`:
/// `YYYY-MM-DDThh:mm:ss.sss+0000`, e.g. `2020-04-10T19:06:32.563+0000`.
///
/// Negative inputs (before 1970) are handled; years are printed with at
/// least four digits.
pub fn format_last_modified(epoch_millis: i64) -> String {
    let days = epoch_millis.div_euclid(MS_PER_DAY);
    let ms_of_day = epoch_millis.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let hour = ms_of_day / 3_600_000;
    let minute = (ms_of_day / 60_000) % 60;
    let second = (ms_of_day / 1000) % 60;
    let millis = ms_of_day % 1000;
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}+0000")
}

/// Convert days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days` algorithm.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = if m <= 2 { y + 1 } else { y };
    // d and m are in small positive ranges by construction.
    (year, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_last_modified(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(
            format_last_modified(1_586_545_592_563),
            "2020-04-10T19:06:32.563+0000"
        );
        // Leap day.
        assert_eq!(
            format_last_modified(951_782_400_000),
            "2000-02-29T00:00:00.000+0000"
        );
        assert_eq!(
            format_last_modified(1_709_164_799_999),
            "2024-02-28T23:59:59.999+0000"
        );
        assert_eq!(format_last_modified(-1), "1969-12-31T23:59:59.999+0000");
        assert_eq!(
            format_last_modified(253_402_300_799_999),
            "9999-12-31T23:59:59.999+0000"
        );
    }

    #[test]
    fn days_round_trip_against_naive_counter() {
        // Walk day by day from 1900 to 2100 and compare with a naive calendar.
        let mut y: i64 = 1900;
        let mut m: u32 = 1;
        let mut d: u32 = 1;
        let start = -25_567; // 1900-01-01
        for days in start..start + 73_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "days={days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
