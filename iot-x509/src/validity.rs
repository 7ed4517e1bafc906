//! Fast read of a certificate's validity period, and Unix time as ISO 8601 text.
//!
//! The verified-chain path needs `notBefore`/`notAfter` of every certificate it accepted; a full
//! x509-parser parse costs ~4 µs per certificate (shared/reference/rust-ecosystem.md §4.2), so
//! this walks only the DER headers up to `validity` (RFC 5280 §4.1). Any surprise returns `None`
//! and the caller falls back to x509-parser; unit tests cross-check both on every fixture.

/// `(not_before, not_after)` in Unix seconds, read straight from the DER.
pub(crate) fn validity_of(der: &[u8]) -> Option<(i64, i64)> {
    let (cert, _) = tlv(der, 0x30)?;
    let (mut tbs, _) = tlv(cert, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs, 0xa0)?.1;
    }
    let (_, rest) = tlv(tbs, 0x02)?; // serialNumber
    let (_, rest) = tlv(rest, 0x30)?; // signature AlgorithmIdentifier
    let (_, rest) = tlv(rest, 0x30)?; // issuer Name
    let (validity, _) = tlv(rest, 0x30)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, _) = time(rest)?;
    Some((not_before, not_after))
}

/// Reads one TLV with the expected tag: `(contents, rest)`.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(n)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    rest.split_at_checked(len)
}

fn time(input: &[u8]) -> Option<(i64, &[u8])> {
    let (tag, digits_len) = match input.first()? {
        0x17 => (0x17, 12), // UTCTime YYMMDDHHMMSSZ
        0x18 => (0x18, 14), // GeneralizedTime YYYYMMDDHHMMSSZ
        _ => return None,
    };
    let (body, rest) = tlv(input, tag)?;
    if body.len() != digits_len + 1 || body.last() != Some(&b'Z') {
        return None;
    }
    let mut values = [0i64; 7];
    let mut digits = body.get(..digits_len)?.iter();
    let mut next2 = || -> Option<i64> {
        let a = digits.next().filter(|c| c.is_ascii_digit())?;
        let b = digits.next().filter(|c| c.is_ascii_digit())?;
        Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    };
    let year = if tag == 0x17 {
        let yy = next2()?;
        if yy >= 50 { 1900 + yy } else { 2000 + yy } // RFC 5280 §4.1.2.5.1
    } else {
        next2()? * 100 + next2()?
    };
    values[0] = year;
    for slot in values.iter_mut().skip(1).take(5) {
        *slot = next2()?;
    }
    let [year, month, day, hour, minute, second, _] = values;
    // `time` validates the calendar (no 31 February) and does the epoch arithmetic.
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some((
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp(),
        rest,
    ))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (the ISO 8601 form DPS prints, reference §7.5).
/// Times outside the years 0000-9999 (which X.509 cannot express) print as plain seconds.
pub(crate) fn format_utc(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn agrees_with_x509_parser_on_every_fixture() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openssl");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let Ok(certs) = crate::parse_certificates(&bytes) else {
                continue;
            };
            for der in certs {
                let info = crate::CertificateInfo::parse(&der).unwrap();
                assert_eq!(
                    validity_of(&der),
                    Some((info.not_before(), info.not_after()))
                );
                checked += 1;
            }
        }
        assert!(checked >= 20);
    }

    #[test]
    fn impossible_dates_are_none() {
        // notBefore 2024-02-31 (UTCTime) inside an otherwise well-formed validity walk.
        let mut body = b"\x17\x0d240231000000Z".to_vec();
        body.extend_from_slice(b"\x17\x0d340101000000Z");
        assert!(time(&body).is_none());
        assert!(time(b"\x17\x0d240229000000Z").is_some());
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(validity_of(b""), None);
        assert_eq!(validity_of(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
