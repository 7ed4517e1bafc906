//! Text helpers on top of iot-sas's buffer writer and percent-coding (the workspace's one
//! home of both, [`iot_sas::write_into`], [`iot_sas::percent_encode`],
//! [`iot_sas::percent_decode`]), plus this crate's identifier rule.

use core::fmt;

use crate::Error;

/// [`iot_sas::write_into`] with this crate's [`Error::BufferTooSmall`]: all or nothing, a
/// too-small `out` is left untouched (style anchors, practice 3).
pub(crate) fn write_into<'b>(
    out: &'b mut [u8],
    args: fmt::Arguments<'_>,
) -> Result<&'b str, Error> {
    iot_sas::write_into(out, args).map_err(|err| match err {
        iot_sas::Error::BufferTooSmall { required } => Error::BufferTooSmall { required },
        other => Error::Sas(other),
    })
}

/// True when `raw`, percent-decoded once ([`iot_sas::percent_decode`]: either hex case, a
/// stray `%` kept), equals `expected` (ASCII case-insensitively if asked).
pub(crate) fn decoded_eq(raw: &str, expected: &str, ignore_ascii_case: bool) -> bool {
    let mut decoded = iot_sas::percent_decode(raw);
    for &e in expected.as_bytes() {
        match decoded.next() {
            Some(d) if d == e || (ignore_ascii_case && d.eq_ignore_ascii_case(&e)) => {}
            _ => return false,
        }
    }
    decoded.next().is_none()
}

/// Rejects identifiers that would change the structure of a topic, user name or path:
/// empty, or containing `/ ? & # +`, whitespace or control characters (`#` and `+` are MQTT
/// wildcards and invalid in topic names, MQTT 3.1.1 §4.7.1).
pub(crate) fn check_identifier(value: &str, field: &'static str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Missing { field });
    }
    if value
        .chars()
        .any(|c| matches!(c, '/' | '?' | '&' | '#' | '+') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidIdentifier { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_leniently() {
        assert!(decoded_eq("%24rid", "$rid", false));
        assert!(decoded_eq("$rid", "$rid", false));
        assert!(decoded_eq("Retry-After", "retry-after", true));
        assert!(!decoded_eq("Retry-After", "retry-after", false));
        assert!(decoded_eq("100%", "100%", false));
        assert!(decoded_eq("%zz", "%zz", false));
        assert!(!decoded_eq("$ri", "$rid", false));
        assert!(!decoded_eq("$ridx", "$rid", false));
    }

    #[test]
    fn identifier_check_rejects_structure_characters() {
        assert_eq!(check_identifier("my-device.1:x_y", "id"), Ok(()));
        for bad in ["a/b", "a?b", "a&b", "a#b", "a+b", "a b", "a\nb"] {
            assert_eq!(
                check_identifier(bad, "id"),
                Err(Error::InvalidIdentifier { field: "id" })
            );
        }
        assert_eq!(
            check_identifier("", "id"),
            Err(Error::Missing { field: "id" })
        );
    }
}
