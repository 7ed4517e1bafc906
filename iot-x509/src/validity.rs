//! Fast read of a certificate's validity period, and Unix-time <-> civil date helpers.
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
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some((
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second,
        rest,
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (the ISO 8601 form DPS prints, reference §7.5).
pub(crate) fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
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
    fn garbage_is_none() {
        assert_eq!(validity_of(b""), None);
        assert_eq!(validity_of(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
