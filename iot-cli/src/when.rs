//! Times and durations as people type them, and as the CLI prints them.
//!
//! * A time (`--now`, `--expiry`) is Unix seconds (`1767225600`) or RFC 3339
//!   (`2026-01-01T00:00:00Z`, `2026-01-01T01:00:00+01:00`).
//! * A duration (`--ttl`, `--days`) is a number with an optional unit, or several:
//!   `3600`, `90m`, `1h`, `30d`, `1h 30m` (units of the `humantime` crate). A bare number is
//!   seconds for `--ttl` and days for `--days`.
//! * Times are printed as RFC 3339 UTC with the Unix value beside them in text, and as two
//!   JSON keys (`expiry` and `expiryUnix`).
//!
//! The CLI works with times from 1970 to the end of year 9999, the range RFC 3339's four-digit
//! year can write. A time or a sum outside it is bad usage (status 2), never an overflow.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exit::Failure;

/// The last second RFC 3339 can write: 9999-12-31T23:59:59Z.
pub(crate) const MAX_TIME: u64 = 253_402_300_799;

/// Parses a time flag: Unix seconds or RFC 3339, within 1970..=9999.
pub(crate) fn parse_time(text: &str) -> Result<u64, String> {
    let secs = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().map_err(|_| out_of_range())?
    } else {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|err| {
            format!("expected Unix seconds or RFC 3339 (2026-01-01T00:00:00Z): {err}")
        })?;
        u64::try_from(parsed.unix_timestamp()).map_err(|_| out_of_range())?
    };
    if secs > MAX_TIME {
        return Err(out_of_range());
    }
    Ok(secs)
}

fn out_of_range() -> String {
    "out of range: times from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z (Unix 0 to \
     253402300799) are supported"
        .to_owned()
}

/// Parses a duration flag in seconds; a bare number counts `unit_secs` each.
pub(crate) fn parse_duration(text: &str, unit_secs: u64) -> Result<u64, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_secs))
            .filter(|&secs| secs <= MAX_TIME)
            .ok_or_else(too_long);
    }
    let duration = humantime::parse_duration(text)
        .map_err(|err| format!("expected a number or a duration such as 1h or 30d: {err}"))?;
    if duration.subsec_nanos() != 0 {
        return Err("whole seconds expected".to_owned());
    }
    Some(duration.as_secs())
        .filter(|&secs| secs <= MAX_TIME)
        .ok_or_else(too_long)
}

fn too_long() -> String {
    "longer than the supported time range (up to year 9999)".to_owned()
}

/// `--ttl`: a duration, bare numbers in seconds.
pub(crate) fn parse_ttl(text: &str) -> Result<u64, String> {
    parse_duration(text, 1)
}

/// `--days`: a duration of at least one second, bare numbers in days.
pub(crate) fn parse_days(text: &str) -> Result<u64, String> {
    match parse_duration(text, 86_400)? {
        0 => Err("must be longer than zero".to_owned()),
        secs => Ok(secs),
    }
}

/// `now` plus `secs`, refused past year 9999.
pub(crate) fn add(now: u64, secs: u64, what: &str) -> Result<u64, Failure> {
    now.checked_add(secs)
        .filter(|&end| end <= MAX_TIME)
        .ok_or_else(|| {
            Failure::usage(format_args!(
                "{what} would end after 9999-12-31T23:59:59Z; choose an earlier time or a \
                 shorter duration"
            ))
        })
}

/// The `--now` value, or the clock.
pub(crate) fn now_or(flag: Option<u64>) -> u64 {
    flag.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// RFC 3339 UTC text of a time, `None` outside 0000..=9999.
pub(crate) fn rfc3339(secs: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// Text form: `2026-01-01T00:00:00Z (1767225600)`; a time RFC 3339 cannot write is shown as
/// `Unix 99999999999 (after year 9999)`.
pub(crate) fn show(secs: impl Into<i128>) -> String {
    let secs = secs.into();
    match i64::try_from(secs).ok().and_then(rfc3339) {
        Some(text) => format!("{text} ({secs})"),
        None => format!("Unix {secs} (outside years 0000-9999)"),
    }
}

/// Sets the JSON pair for a time: `name` (RFC 3339 or `null`) and `nameUnix`.
pub(crate) fn put_time(object: &mut Value, name: &str, secs: impl Into<i128>) {
    let secs = secs.into();
    object[name] = json!(i64::try_from(secs).ok().and_then(rfc3339));
    object[format!("{name}Unix")] = json!(secs);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn times_in_both_forms() {
        assert_eq!(parse_time("1767225600"), Ok(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00"), Ok(1_767_225_600));
        assert_eq!(parse_time("253402300799"), Ok(MAX_TIME));
        assert!(parse_time("253402300800").is_err());
        assert!(parse_time("18446744073709551615").is_err());
        assert!(parse_time("1969-12-31T23:59:59Z").is_err());
        assert!(parse_time("").is_err());
        assert!(parse_time("-5").is_err());
    }

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        assert_eq!(parse_ttl("1h"), Ok(3600));
        assert_eq!(parse_ttl("1h 30m"), Ok(5400));
        assert_eq!(parse_days("30"), Ok(30 * 86_400));
        assert_eq!(parse_days("30d"), Ok(30 * 86_400));
        assert_eq!(parse_days("12h"), Ok(12 * 3600));
        assert!(parse_days("0").is_err());
        assert!(parse_days("0d").is_err());
        assert!(parse_days("4000000").is_err());
        assert!(parse_ttl("1.5s").is_err());
        assert!(parse_ttl("soon").is_err());
    }

    proptest::proptest! {
        /// Any flag text is a time, a duration or a message; never a panic or an overflow.
        #[test]
        fn any_text_is_an_answer_not_a_panic(text in "[0-9a-zA-Z:+. -]{0,40}") {
            if let Ok(secs) = parse_time(&text) {
                proptest::prop_assert!(secs <= MAX_TIME);
                proptest::prop_assert!(rfc3339(i64::try_from(secs).unwrap_or(0)).is_some());
            }
            for unit in [1, 86_400] {
                if let Ok(secs) = parse_duration(&text, unit) {
                    proptest::prop_assert!(secs <= MAX_TIME);
                }
            }
        }

        #[test]
        fn any_time_shows_and_adds_without_panic(secs in proptest::num::u64::ANY, more in proptest::num::u64::ANY) {
            let _ = show(secs);
            if let Ok(end) = add(secs, more, "x") {
                proptest::prop_assert!(end <= MAX_TIME);
            }
        }
    }

    #[test]
    fn shown_with_unix_beside() {
        assert_eq!(show(1_767_225_600u64), "2026-01-01T00:00:00Z (1767225600)");
        assert_eq!(
            show(u64::MAX),
            "Unix 18446744073709551615 (outside years 0000-9999)"
        );
        let mut v = json!({});
        put_time(&mut v, "expiry", 0u64);
        assert_eq!(
            v,
            json!({"expiry": "1970-01-01T00:00:00Z", "expiryUnix": 0})
        );
        assert!(add(MAX_TIME - 1, 2, "x").is_err());
        assert_eq!(add(1, 2, "x").unwrap(), 3);
    }
}
