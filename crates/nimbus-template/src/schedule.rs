//! A shape check of schedule expressions (`rate(…)`, `cron(…)`, and `at(…)` for
//! ScheduleV2) so a typo is reported at its line instead of at deploy. The scheduler
//! itself parses them fully.

/// Fields of an EventBridge cron expression: minutes, hours, day of month, month, day of
/// week, year.
const CRON_FIELDS: usize = 6;

/// Characters a cron field may contain: digits, names (`MON`, `JAN`), and `, - * / ? L W #`.
fn cron_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ",-*/?#".contains(c)
}

/// `Ok` if `expression` is well-formed; else why not.
pub(crate) fn check(expression: &str, v2: bool) -> Result<(), String> {
    let bad = |why: &str| Err(format!("schedule '{expression}': {why}"));
    let Some((kind, rest)) = expression.split_once('(') else {
        return bad("expected rate(…), cron(…) or at(…)");
    };
    let Some(body) = rest.strip_suffix(')') else {
        return bad("missing the closing ')'");
    };
    match kind.trim() {
        "rate" => rate(body).or_else(|why| bad(&why)),
        "cron" => cron(body).or_else(|why| bad(&why)),
        "at" if v2 => at(body).or_else(|why| bad(&why)),
        "at" => bad("at(…) is only for ScheduleV2 events"),
        _ => bad("expected rate(…), cron(…) or at(…)"),
    }
}

/// `rate(N unit)`: N ≥ 1; the unit singular exactly when N is 1.
fn rate(body: &str) -> Result<(), String> {
    let mut parts = body.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("rate takes a value and a unit: rate(5 minutes)".into());
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{n}' is not a positive integer"))?;
    if n == 0 {
        return Err("the rate must be at least 1".into());
    }
    let singular = ["minute", "hour", "day"];
    let plural = ["minutes", "hours", "days"];
    match (n == 1, singular.contains(&unit), plural.contains(&unit)) {
        (true, true, _) | (false, _, true) => Ok(()),
        (true, false, true) => Err(format!(
            "use the singular unit for 1: rate(1 {})",
            unit.trim_end_matches('s')
        )),
        (false, true, _) => Err(format!("use the plural unit for {n}: rate({n} {unit}s)")),
        _ => Err(format!("'{unit}' is not minute(s), hour(s) or day(s)")),
    }
}

/// `cron(min hour dom month dow year)`: six fields, `?` in exactly one of the day fields.
fn cron(body: &str) -> Result<(), String> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != CRON_FIELDS {
        return Err(format!(
            "cron takes {CRON_FIELDS} fields (minutes hours day-of-month month day-of-week year), found {}",
            fields.len()
        ));
    }
    if let Some(f) = fields.iter().find(|f| !f.chars().all(cron_char)) {
        return Err(format!("field '{f}' has a character cron does not allow"));
    }
    let (dom, dow) = (fields[2], fields[4]);
    if (dom == "?") == (dow == "?") {
        return Err("exactly one of day-of-month and day-of-week must be '?'".into());
    }
    Ok(())
}

/// `at(yyyy-mm-ddThh:mm:ss)`.
fn at(body: &str) -> Result<(), String> {
    let shape = "dddd-dd-ddTdd:dd:dd";
    let ok = body.len() == shape.len()
        && body.chars().zip(shape.chars()).all(|(c, s)| match s {
            'd' => c.is_ascii_digit(),
            _ => c == s,
        });
    if ok {
        Ok(())
    } else {
        Err("at takes yyyy-mm-ddThh:mm:ss".into())
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn good_expressions() {
        for e in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(1 day)",
            "cron(0 12 * * ? *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
        ] {
            assert_eq!(check(e, false), Ok(()), "{e}");
        }
        assert_eq!(check("at(2030-01-02T03:04:05)", true), Ok(()));
    }

    #[test]
    fn bad_expressions() {
        for e in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "cron(0 12 * * *)",
            "cron(0 12 * * * *)",
            "cron(0 12 ? * ? *)",
            "every 5 minutes",
            "at(2030-01-02T03:04:05)",
        ] {
            assert!(check(e, false).is_err(), "{e}");
        }
    }
}
