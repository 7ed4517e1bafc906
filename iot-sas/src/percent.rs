//! Percent-encoding and -decoding (no allocation): the one canonical encoder and the one
//! lenient decoder of the workspace, used for `sr`, DPS topics and user names, hub MQTT user
//! names and the CLI's display of resources (reference §1.3, §1.4.5).

use core::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything except the RFC 3986 unreserved set `A-Z a-z 0-9 - _ . ~` is escaped: the
/// canonical encoding of azure-sdk-for-c and the python device SDK (`quote(safe="")`),
/// reference §1.3 and `rust-ecosystem.md` §2.5. percent-encoding writes upper-case hex.
pub(crate) const CANONICAL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The canonical percent-encoding: RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// kept, every other byte of the UTF-8 text as `%XX` with upper-case hex (reference §1.3,
/// `rust-ecosystem.md` §2.5), so `/` becomes `%2F`. This is the `sr` of
/// [`ResourceUri`](crate::ResourceUri)'s `Display` for a plain resource, the python device
/// SDK's `quote(safe="")` and azure-sdk-for-c's encoder, and how query values of DPS user
/// names and paths are written.
///
/// azure-sdk-for-c writes the DPS separators as lower-case `%2fregistrations%2f`; this encoder
/// writes `%2F` like the python SDK. Both verify: the MAC covers `sr` as sent (§1.4.1).
///
/// ```
/// assert_eq!(iot_sas::percent_encode("hub/devices/a b").to_string(), "hub%2Fdevices%2Fa%20b");
/// ```
pub fn percent_encode(text: &str) -> impl fmt::Display + '_ {
    utf8_percent_encode(text, CANONICAL)
}

/// Percent-decodes `raw` once, lazily: `%XX` (either hex case) becomes its byte, a `%` that is
/// not followed by two hex digits stays literally (iot-sdk-c sends device IDs raw and `%` is a
/// legal device-ID character, reference §1.3, §4), and `+` stays `+` (never a space).
///
/// ```
/// let bytes: Vec<u8> = iot_sas::percent_decode("a%2Fb%2fc+100%").collect();
/// assert_eq!(bytes, b"a/b/c+100%");
/// ```
pub fn percent_decode(raw: &str) -> PercentDecode<'_> {
    PercentDecode {
        raw,
        bytes: Decode::new(raw.bytes()),
    }
}

/// The bytes of [`percent_decode`].
#[derive(Clone, Debug)]
pub struct PercentDecode<'a> {
    /// The undecoded text, for the borrowed fast path of the `decode_utf8*` methods.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    raw: &'a str,
    bytes: Decode<core::str::Bytes<'a>>,
}

impl Iterator for PercentDecode<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        self.bytes.next().map(|decoded| decoded.byte)
    }
}

#[cfg(feature = "alloc")]
impl<'a> PercentDecode<'a> {
    /// The decoded text, with invalid UTF-8 shown as U+FFFD; borrowed when `raw` holds no `%`.
    pub fn decode_utf8_lossy(self) -> alloc::borrow::Cow<'a, str> {
        if !self.raw.contains('%') {
            return alloc::borrow::Cow::Borrowed(self.raw);
        }
        let bytes: alloc::vec::Vec<u8> = self.collect();
        alloc::borrow::Cow::Owned(alloc::string::String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The decoded text; borrowed when `raw` holds no `%`.
    ///
    /// # Errors
    ///
    /// The decoded bytes are not UTF-8.
    pub fn decode_utf8(self) -> Result<alloc::borrow::Cow<'a, str>, alloc::string::FromUtf8Error> {
        if !self.raw.contains('%') {
            return Ok(alloc::borrow::Cow::Borrowed(self.raw));
        }
        alloc::string::String::from_utf8(self.collect()).map(alloc::borrow::Cow::Owned)
    }
}

/// Value of an ASCII hex digit (either case).
pub(crate) const fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Position of the first `needle` in `haystack`: the `memchr` crate's word-at-a-time (SIMD where
/// the target has it) search, which keeps the token parser well below the HMAC's cost.
#[inline]
pub(crate) fn find(haystack: &[u8], needle: u8) -> Option<usize> {
    memchr::memchr(needle, haystack)
}

/// The escape at the start of `bytes` (`%XX`, either hex case), if it is one.
pub(crate) fn escape_at(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [b'%', hi, lo, ..] => Some(hex_value(*hi)? << 4 | hex_value(*lo)?),
        _ => None,
    }
}

/// One decoded byte and whether it came from a `%XX` escape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) byte: u8,
    pub(crate) escaped: bool,
}

/// Decodes `%XX` escapes (either hex case) from a byte iterator. A `%` that is not followed by
/// two hex digits is passed through literally, like `percent_encoding::percent_decode` and
/// .NET's `UrlDecode`: iot-sdk-c sends device IDs raw and `%` is a legal device-ID character
/// (reference §1.3, §4). `+` is never turned into a space here.
#[derive(Clone, Debug)]
pub(crate) struct Decode<I> {
    inner: I,
    pending: [u8; 2],
    pending_len: u8,
}

impl<I: Iterator<Item = u8>> Decode<I> {
    pub(crate) fn new(inner: I) -> Self {
        Self {
            inner,
            pending: [0; 2],
            pending_len: 0,
        }
    }

    fn pull(&mut self) -> Option<u8> {
        if self.pending_len > 0 {
            let byte = self.pending[0];
            self.pending[0] = self.pending[1];
            self.pending_len -= 1;
            Some(byte)
        } else {
            self.inner.next()
        }
    }
}

impl<I: Iterator<Item = u8>> Iterator for Decode<I> {
    type Item = Decoded;

    fn next(&mut self) -> Option<Decoded> {
        let byte = self.pull()?;
        if byte != b'%' {
            return Some(Decoded {
                byte,
                escaped: false,
            });
        }
        let Some(hi) = self.pull() else {
            return Some(Decoded {
                byte,
                escaped: false,
            });
        };
        let Some(hi_value) = hex_value(hi) else {
            self.push_front(&[hi]);
            return Some(Decoded {
                byte,
                escaped: false,
            });
        };
        let Some(lo) = self.pull() else {
            self.push_front(&[hi]);
            return Some(Decoded {
                byte,
                escaped: false,
            });
        };
        match hex_value(lo) {
            Some(lo_value) => Some(Decoded {
                byte: hi_value << 4 | lo_value,
                escaped: true,
            }),
            None => {
                self.push_front(&[hi, lo]);
                Some(Decoded {
                    byte,
                    escaped: false,
                })
            }
        }
    }
}

impl<I> Decode<I> {
    /// Only called right after `pull` emptied the pending slots, so `bytes` always fits.
    fn push_front(&mut self, bytes: &[u8]) {
        for (slot, byte) in self.pending.iter_mut().zip(bytes) {
            *slot = *byte;
        }
        self.pending_len = bytes.len().min(2) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn decode(text: &str) -> Vec<u8> {
        Decode::new(text.bytes()).map(|d| d.byte).collect()
    }

    #[test]
    fn decodes_either_hex_case_and_keeps_plus() {
        assert_eq!(decode("a%2Fb%2fc+d"), b"a/b/c+d");
    }

    #[test]
    fn passes_malformed_escapes_through() {
        assert_eq!(decode("%"), b"%");
        assert_eq!(decode("%4"), b"%4");
        assert_eq!(decode("%zz%41"), b"%zzA");
        assert_eq!(decode("%4%41"), b"%4A");
        assert_eq!(decode("a%%41"), b"a%A");
    }

    #[test]
    fn find_agrees_with_position() {
        let text: Vec<u8> = (0..100u8)
            .map(|i| if i % 37 == 36 { b'&' } else { b'a' + i % 26 })
            .collect();
        for start in 0..text.len() {
            let hay = &text[start..];
            assert_eq!(find(hay, b'&'), hay.iter().position(|&b| b == b'&'));
            assert_eq!(find(hay, b'z'), hay.iter().position(|&b| b == b'z'));
        }
    }

    #[test]
    fn find_exact_next_to_borrowing_bytes() {
        // Matches next to bytes that differ from the needle in one bit or are high bytes.
        for needle in [b'&', b'%', 0x00, 0x80, 0xff] {
            for other in [needle ^ 1, needle ^ 0x80, 0x00, 0x01, 0x80, 0xff] {
                for at in 0..20 {
                    let mut hay = [other; 20];
                    if let Some(slot) = hay.get_mut(at) {
                        *slot = needle;
                    }
                    for end in 0..=hay.len() {
                        let hay = &hay[..end];
                        assert_eq!(
                            find(hay, needle),
                            hay.iter().position(|&b| b == needle),
                            "{needle} {other} {at} {end}"
                        );
                    }
                }
            }
        }
    }

    /// Moved from iot-dps-proto's `text.rs` with its own decoder: the one decoder keeps
    /// malformed escapes literally and decodes either hex case.
    #[test]
    fn decodes_leniently() {
        let eq = |raw: &str, expected: &str| percent_decode(raw).eq(expected.bytes());
        assert!(eq("%24rid", "$rid"));
        assert!(eq("$rid", "$rid"));
        assert!(eq("100%", "100%"));
        assert!(eq("%zz", "%zz"));
        assert!(eq("%4", "%4"));
        assert!(eq("%4%41", "%4A"));
        assert!(!eq("$ri", "$rid"));
        assert!(!eq("$ridx", "$rid"));
        #[cfg(feature = "alloc")]
        {
            assert_eq!(
                percent_decode("a%C3%A9%FF").decode_utf8_lossy(),
                "a\u{e9}\u{fffd}"
            );
            assert!(percent_decode("a%FF").decode_utf8().is_err());
            assert!(matches!(
                percent_decode("plain+text").decode_utf8(),
                Ok(std::borrow::Cow::Borrowed("plain+text"))
            ));
        }
    }

    /// Moved from iot-dps-proto's `text.rs` with its own encoder.
    #[test]
    fn encodes_rfc3986_unreserved_upper_hex() {
        assert_eq!(
            std::format!("{}", percent_encode("a-b_c.d~e f/g+\u{e9}")),
            "a-b_c.d~e%20f%2Fg%2B%C3%A9"
        );
    }

    #[test]
    fn double_decoding_unwraps_two_levels() {
        let twice: Vec<u8> = Decode::new(Decode::new("dev%2523x".bytes()).map(|d| d.byte))
            .map(|d| d.byte)
            .collect();
        assert_eq!(twice, b"dev#x");
    }
}
