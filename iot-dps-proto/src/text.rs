//! Small text helpers: writing into caller buffers, percent-encoding and -decoding.

use core::fmt::{self, Write};

use crate::Error;

/// Counts the bytes a formatting run would produce.
struct Counter(usize);

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        Ok(())
    }
}

/// Copies into a slice that is known to be large enough.
struct SliceWriter<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.out
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Formats `args` into `out`, all or nothing: when `out` is too small it is left untouched and
/// the error says how many bytes are needed (style anchors, practice 3).
pub(crate) fn write_into<'b>(
    out: &'b mut [u8],
    args: fmt::Arguments<'_>,
) -> Result<&'b str, Error> {
    let mut counter = Counter(0);
    // Our Display impls never fail on an infallible writer.
    let _ = counter.write_fmt(args);
    let required = counter.0;
    if required > out.len() {
        return Err(Error::BufferTooSmall { required });
    }
    let mut writer = SliceWriter { out, len: 0 };
    writer
        .write_fmt(args)
        .map_err(|_| Error::BufferTooSmall { required })?;
    let len = writer.len;
    let written = &writer.out[..len];
    // Only `&str` pieces were copied, so this is valid UTF-8.
    core::str::from_utf8(written).map_err(|_| Error::BufferTooSmall { required })
}

/// RFC 3986 percent-encoding: unreserved `A-Z a-z 0-9 - _ . ~` kept, everything else `%XX`
/// with upper-case hex, the encoder sdk-for-c and python use (reference §1.3, §11 item 3).
pub(crate) struct Encoded<'a>(pub(crate) &'a str);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for &b in self.0.as_bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                f.write_char(char::from(b))?;
            } else {
                f.write_char('%')?;
                f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
                f.write_char(char::from(HEX[usize::from(b & 0x0f)]))?;
            }
        }
        Ok(())
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Iterates over the bytes of percent-decoded text; a `%` not followed by two hex digits is
/// kept literally (lenient, like `urllib.parse.unquote`).
pub(crate) fn percent_decoded(raw: &str) -> impl Iterator<Item = u8> + '_ {
    let bytes = raw.as_bytes();
    let mut i = 0;
    core::iter::from_fn(move || {
        let b = *bytes.get(i)?;
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            )
        {
            i += 3;
            return Some(h << 4 | l);
        }
        i += 1;
        Some(b)
    })
}

/// True when `raw`, percent-decoded, equals `expected` (ASCII case-insensitively if asked).
pub(crate) fn decoded_eq(raw: &str, expected: &str, ignore_ascii_case: bool) -> bool {
    let mut decoded = percent_decoded(raw);
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
    fn write_into_leaves_buffer_untouched_when_too_small() {
        let mut buf = [0xCCu8; 4];
        assert_eq!(
            write_into(&mut buf, format_args!("{}", "hello")),
            Err(Error::BufferTooSmall { required: 5 })
        );
        assert_eq!(buf, [0xCC; 4]);
        let mut buf = [0u8; 5];
        assert_eq!(
            write_into(&mut buf, format_args!("{}", "hello")),
            Ok("hello")
        );
    }

    #[test]
    fn encodes_rfc3986_unreserved_upper_hex() {
        assert_eq!(
            Encoded("a-b_c.d~e f/g+é").to_string(),
            "a-b_c.d~e%20f%2Fg%2B%C3%A9"
        );
    }

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
