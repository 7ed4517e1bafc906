//! Bounds on untrusted JSON bodies, checked before serde sees them (DESIGN principle 3).

use alloc::vec::Vec;

use serde::de::DeserializeOwned;

use crate::Error;

/// Largest JSON body accepted or produced: 96 KiB, the DPS maximum message size
/// (reference §5.5, service limits, DOC includes/iot-dps-limits "max message size 96 KB").
pub const MAX_PAYLOAD_LEN: usize = 96 * 1024;

/// Deepest nesting of JSON objects and arrays accepted.
///
/// DPS documents no limit; real bodies nest at most 4 levels below a custom `payload`
/// (reference §5.4). 32 leaves room for any sane custom allocation payload while keeping
/// serde's recursion shallow on small device stacks (serde_json's own limit is 128).
pub const MAX_JSON_DEPTH: usize = 32;

/// Checks size and nesting depth with one cheap pass over the bytes.
///
/// Brackets inside strings (including escaped quotes) do not count.
///
/// # Errors
/// [`Error::PayloadTooLarge`] or [`Error::JsonTooDeep`].
pub fn check_json_bounds(bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > MAX_PAYLOAD_LEN {
        return Err(Error::PayloadTooLarge {
            len: bytes.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    let mut depth = 0usize;
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            // Skip the string in one search for its end: brackets inside do not count.
            b'"' => rest = skip_string(rest),
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(Error::JsonTooDeep {
                        max: MAX_JSON_DEPTH,
                    });
                }
            }
            // Unbalanced closers are serde's problem; never underflow here.
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The bytes after the closing quote of a string whose opening quote was just consumed
/// (empty if the string never ends).
fn skip_string(mut rest: &[u8]) -> &[u8] {
    while let Some(pos) = rest.iter().position(|&c| c == b'"' || c == b'\\') {
        let (quote_or_escape, after) = (
            rest.get(pos).copied(),
            rest.get(pos + 1..).unwrap_or_default(),
        );
        if quote_or_escape == Some(b'"') {
            return after;
        }
        // A backslash escapes the next byte, whatever it is.
        rest = after.get(1..).unwrap_or_default();
    }
    &[]
}

/// True when the body is empty or only JSON whitespace.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Bounded `serde_json::from_slice`.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    check_json_bounds(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| Error::json(&e))
}

/// Serializes and enforces [`MAX_PAYLOAD_LEN`] on the result.
pub(crate) fn to_vec<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let out = serde_json::to_vec(value).map_err(|e| Error::json(&e))?;
    if out.len() > MAX_PAYLOAD_LEN {
        return Err(Error::PayloadTooLarge {
            len: out.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_scan_counts_brackets_outside_strings_only() {
        let deep = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert_eq!(check_json_bounds(deep.as_bytes()), Ok(()));
        let too_deep = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        assert_eq!(
            check_json_bounds(too_deep.as_bytes()),
            Err(Error::JsonTooDeep {
                max: MAX_JSON_DEPTH
            })
        );
        // An escaped backslash does not escape the closing quote: the brackets after count.
        let after_escaped_backslash = format!("[\"a\\\\\",{}", "[".repeat(MAX_JSON_DEPTH));
        assert_eq!(
            check_json_bounds(after_escaped_backslash.as_bytes()),
            Err(Error::JsonTooDeep {
                max: MAX_JSON_DEPTH
            })
        );
        assert_eq!(check_json_bounds(b"\"unterminated [[[["), Ok(()));
        let in_string = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert_eq!(check_json_bounds(in_string.as_bytes()), Ok(()));
    }

    #[test]
    fn size_cap_is_the_dps_message_limit() {
        let body = vec![b' '; MAX_PAYLOAD_LEN + 1];
        assert_eq!(
            check_json_bounds(&body),
            Err(Error::PayloadTooLarge {
                len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        assert_eq!(check_json_bounds(&body[..MAX_PAYLOAD_LEN]), Ok(()));
    }

    #[test]
    fn serde_errors_keep_position() {
        let err = from_slice::<serde_json::Value>(b"{\n  \"a\": }").unwrap_err();
        assert!(matches!(err, Error::InvalidJson { line: 2, .. }), "{err:?}");
    }
}
