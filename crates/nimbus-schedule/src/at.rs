//! `at(yyyy-mm-ddThh:mm:ss)`: one slot, a wall-clock time in the schedule's time zone.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::ScheduleError;

/// Exactly `yyyy-mm-ddThh:mm:ss`: no offset, no fraction (the zone is a separate parameter).
const AT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";
const AT_LEN: usize = "yyyy-mm-ddThh:mm:ss".len();

/// The slot of `at(inner)` in ms since the epoch. A wall time that occurs twice (the hour
/// repeated when DST ends) is its first occurrence; one that does not occur (the hour skipped
/// when DST starts) is refused.
pub(crate) fn parse(expr: &str, inner: &str, tz: Tz) -> Result<i64, ScheduleError> {
    let invalid = |reason: &str| ScheduleError::invalid(expr, reason);
    if inner.len() != AT_LEN {
        return Err(invalid("at(…) takes yyyy-mm-ddThh:mm:ss"));
    }
    let local = NaiveDateTime::parse_from_str(inner, AT_FORMAT)
        .map_err(|_| invalid("at(…) takes a valid date and time as yyyy-mm-ddThh:mm:ss"))?;
    let instant = tz
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| invalid("that time does not exist in the time zone (DST gap)"))?;
    Ok(instant.timestamp_millis())
}
