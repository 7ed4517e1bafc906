//! Key text: the strict base64 rule every key is read with, the lengths a key may have, and
//! the 16..=64-byte rule of the keys IoT Hub and DPS hold (reference §1.2, §8.1).

use core::ops::RangeInclusive;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// Largest decoded key accepted, in bytes.
///
/// IoT Hub and DPS keys are 16..=64 bytes (reference §1.2); TPM endorsement keys used as DPS
/// group keys are ~316 bytes (§3). 512 leaves room and keeps
/// [`SharedAccessKey`](crate::SharedAccessKey) allocation-free.
pub const MAX_KEY_LEN: usize = 512;

/// Decoded length of every key IoT Hub and DPS hold: device and module keys, shared access
/// policy keys and enrollment keys (reference §1.2, §8.1).
///
/// Signing and verifying accept any non-empty key up to [`MAX_KEY_LEN`] (SDK tests sign with
/// 8-byte keys, derived group keys of TPM endorsement keys are longer); this rule applies where
/// a key is registered: [`SharedAccessKey::from_registered_base64`](crate::SharedAccessKey::from_registered_base64)
/// and [`SharedAccessKey::from_registered_bytes`](crate::SharedAccessKey::from_registered_bytes).
pub const REGISTERED_KEY_LEN: RangeInclusive<usize> = 16..=64;

/// Decodes strict base64 key text into `buf` and returns the decoded bytes: RFC 4648 standard
/// alphabet with canonical `=` padding; URL-safe characters, whitespace, missing or extra
/// padding and non-zero trailing bits are errors (reference §1.2: python and csharp reject
/// invalid base64; node's lenient decoder is not copied).
pub(crate) fn decode_key_text<'b>(
    text: &str,
    buf: &'b mut [u8; MAX_KEY_LEN + 2],
) -> Result<&'b [u8], Error> {
    if text.is_empty() {
        return Err(Error::EmptyKey);
    }
    // Every 4 symbols give at most 3 bytes: refuse texts that cannot fit before decoding.
    let max_text = MAX_KEY_LEN.div_ceil(3) * 4;
    if text.len() > max_text {
        return Err(Error::KeyTooLong {
            len: text.len() / 4 * 3,
            max: MAX_KEY_LEN,
        });
    }
    let len = STANDARD
        .decode_slice(text, &mut buf[..])
        .map_err(|err| match err {
            base64::DecodeSliceError::DecodeError(err) => Error::KeyBase64(err.into()),
            base64::DecodeSliceError::OutputSliceTooSmall => Error::KeyTooLong {
                len: text.len() / 4 * 3,
                max: MAX_KEY_LEN,
            },
        })?;
    Ok(buf.get(..len).unwrap_or_default())
}

/// Any key: not empty, at most [`MAX_KEY_LEN`] bytes.
pub(crate) fn check_len(bytes: &[u8]) -> Result<(), Error> {
    if bytes.is_empty() {
        return Err(Error::EmptyKey);
    }
    if bytes.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLong {
            len: bytes.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(())
}

/// A registered key: [`REGISTERED_KEY_LEN`] bytes.
pub(crate) fn check_registered_len(bytes: &[u8]) -> Result<(), Error> {
    if REGISTERED_KEY_LEN.contains(&bytes.len()) {
        Ok(())
    } else {
        Err(Error::RegisteredKeyLength { len: bytes.len() })
    }
}

/// Writes the standard padded base64 of `bytes` into `out`.
pub(crate) fn encode_base64_into<'b>(bytes: &[u8], out: &'b mut [u8]) -> Result<&'b str, Error> {
    let required = base64::encoded_len(bytes.len(), true).unwrap_or(usize::MAX);
    let written = STANDARD
        .encode_slice(bytes, out)
        .map_err(|_| Error::BufferTooSmall { required })?;
    let text = out
        .get(..written)
        .ok_or(Error::BufferTooSmall { required })?;
    core::str::from_utf8(text).map_err(|_| Error::BufferTooSmall { required })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_keys_are_16_to_64_bytes() {
        assert_eq!(check_registered_len(&[1; 16]), Ok(()));
        assert_eq!(check_registered_len(&[1; 64]), Ok(()));
        assert_eq!(
            check_registered_len(&[1; 15]),
            Err(Error::RegisteredKeyLength { len: 15 })
        );
        assert_eq!(
            check_registered_len(&[1; 65]),
            Err(Error::RegisteredKeyLength { len: 65 })
        );
        assert_eq!(
            check_registered_len(&[]),
            Err(Error::RegisteredKeyLength { len: 0 })
        );
    }
}
