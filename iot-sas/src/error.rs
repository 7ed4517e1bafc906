//! The crate's one error type.

/// Why a base64 text (a key or a token's `sig`) was refused.
///
/// Decoding is strict (RFC 4648 standard alphabet, `=` padding required and canonical,
/// non-zero trailing bits refused): see `../shared/reference/azure-iot-protocol.md` §1.2 and the
/// crate README. Offsets count bytes of the base64 text; the offending byte itself is never
/// reported, because for a key it would be part of the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Base64Error {
    /// A byte outside the standard alphabet (`A-Z a-z 0-9 + /`), or misplaced padding.
    InvalidByte {
        /// Offset of the byte in the base64 text.
        offset: usize,
    },
    /// The number of symbols cannot be valid base64 (padding missing or wrong).
    InvalidLength {
        /// Number of base64 symbols seen.
        len: usize,
    },
    /// The last symbol carries non-zero bits that would be discarded (non-canonical form).
    InvalidLastSymbol {
        /// Offset of the symbol in the base64 text.
        offset: usize,
    },
    /// Padding is missing or not canonical.
    InvalidPadding,
}

impl core::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidByte { offset } => write!(f, "invalid base64 byte at offset {offset}"),
            Self::InvalidLength { len } => write!(f, "invalid base64 length {len}"),
            Self::InvalidLastSymbol { offset } => {
                write!(f, "non-canonical last base64 symbol at offset {offset}")
            }
            Self::InvalidPadding => f.write_str("missing or non-canonical base64 padding"),
        }
    }
}

/// The detail of an [`Error`] variant, reported as its [`source`](core::error::Error::source).
impl core::error::Error for Base64Error {}

impl From<base64::DecodeError> for Base64Error {
    fn from(err: base64::DecodeError) -> Self {
        match err {
            base64::DecodeError::InvalidByte(offset, _) => Self::InvalidByte { offset },
            base64::DecodeError::InvalidLength(len) => Self::InvalidLength { len },
            base64::DecodeError::InvalidLastSymbol { offset, .. } => {
                Self::InvalidLastSymbol { offset }
            }
            base64::DecodeError::InvalidPadding => Self::InvalidPadding,
        }
    }
}

/// Why the `se` (expiry) value of a token was refused (reference §1.1: decimal Unix seconds,
/// no sign, no leading zeros in any SDK output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpiryError {
    /// A byte other than `0`-`9` (this includes `+` and `-` signs and fractions).
    NotDecimal,
    /// More than one digit and the first is `0` (`0123`); `0` alone is accepted.
    LeadingZero,
    /// Larger than `u64::MAX`.
    Overflow,
}

impl core::fmt::Display for ExpiryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NotDecimal => "not a decimal number",
            Self::LeadingZero => "leading zero",
            Self::Overflow => "larger than u64",
        })
    }
}

/// The detail of an [`Error`] variant, reported as its [`source`](core::error::Error::source).
impl core::error::Error for ExpiryError {}

/// Why a `sig` value was refused (reference §1.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureError {
    /// A `%` not followed by two hex digits.
    InvalidEscape {
        /// Offset of the `%` inside the `sig` value.
        offset: usize,
    },
    /// After percent-decoding, the value is not 44 characters long (the base64 form of an
    /// HMAC-SHA256 value).
    WrongLength {
        /// Length of the percent-decoded value.
        len: usize,
    },
    /// The 44 base64 characters decode to a number of bytes other than 32.
    WrongMacLength {
        /// Decoded length in bytes.
        bytes: usize,
    },
    /// The percent-decoded value is not strict standard base64.
    Base64(Base64Error),
}

impl core::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidEscape { offset } => {
                write!(f, "invalid percent escape at offset {offset}")
            }
            Self::WrongLength { len } => {
                write!(
                    f,
                    "decoded length {len}, expected 44 base64 characters (32 bytes)"
                )
            }
            Self::WrongMacLength { bytes } => {
                write!(f, "decodes to {bytes} bytes, expected 32")
            }
            Self::Base64(err) => write!(f, "{err}"),
        }
    }
}

/// The detail of an [`Error`] variant, reported as its [`source`](core::error::Error::source).
impl core::error::Error for SignatureError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Base64(error) => Some(error),
            _ => None,
        }
    }
}

/// Why a connection string was refused (reference §2, rules in the crate README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionStringError {
    /// The text is empty, or a `;`-separated segment is empty (`a=b;;c=d`, trailing `;`).
    EmptySegment {
        /// Byte offset of the empty segment.
        offset: usize,
    },
    /// A segment has no `=`.
    MissingEquals {
        /// Byte offset of the segment.
        offset: usize,
    },
    /// A key that is not one of the documented, case-sensitive names.
    UnknownKey {
        /// Byte offset of the key.
        offset: usize,
    },
    /// The same key appears twice.
    DuplicateKey {
        /// The key.
        key: &'static str,
    },
    /// A key with an empty value.
    EmptyValue {
        /// The key.
        key: &'static str,
    },
    /// A required key is absent.
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A device or module string has none of `SharedAccessKey`, `SharedAccessSignature`, `x509`.
    MissingCredential,
    /// Two keys that cannot be combined (for example `SharedAccessKey` and `x509`).
    Conflict {
        /// The first key.
        first: &'static str,
        /// The second key.
        second: &'static str,
    },
    /// `x509` has a value other than exactly `true`.
    InvalidX509Value,
    /// A device or module string whose `HostName` is a DPS service: no SDK has a DPS device
    /// connection string (reference §2.1).
    DpsDevice,
    /// Longer than [`MAX_CONNECTION_STRING_LEN`](crate::MAX_CONNECTION_STRING_LEN).
    TooLong {
        /// Length of the text.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

impl core::fmt::Display for ConnectionStringError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::EmptySegment { offset } => write!(f, "empty segment at offset {offset}"),
            Self::MissingEquals { offset } => write!(f, "segment at offset {offset} has no `=`"),
            Self::UnknownKey { offset } => write!(f, "unknown key at offset {offset}"),
            Self::DuplicateKey { key } => write!(f, "duplicate key `{key}`"),
            Self::EmptyValue { key } => write!(f, "empty value for `{key}`"),
            Self::MissingKey { key } => write!(f, "missing key `{key}`"),
            Self::MissingCredential => f.write_str(
                "missing credential: one of `SharedAccessKey`, `SharedAccessSignature`, `x509`",
            ),
            Self::Conflict { first, second } => {
                write!(f, "`{first}` cannot be combined with `{second}`")
            }
            Self::InvalidX509Value => f.write_str("`x509` must be exactly `true`"),
            Self::DpsDevice => {
                f.write_str("a DPS host name cannot be used in a device connection string")
            }
            Self::TooLong { len, max } => write!(f, "{len} bytes, the maximum is {max}"),
        }
    }
}

/// The detail of an [`Error`] variant, reported as its [`source`](core::error::Error::source).
impl core::error::Error for ConnectionStringError {}

/// Everything that can go wrong in this crate. Each variant says exactly why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key's base64 text is not strict standard base64 (reference §1.2).
    #[error("key is not valid base64: {0}")]
    KeyBase64(#[source] Base64Error),
    /// A key decodes to zero bytes.
    #[error("key is empty")]
    EmptyKey,
    /// A key is longer than [`MAX_KEY_LEN`](crate::MAX_KEY_LEN) decoded bytes.
    #[error("key is {len} bytes, the maximum is {max}")]
    KeyTooLong {
        /// Decoded length (or a lower bound of it).
        len: usize,
        /// [`MAX_KEY_LEN`](crate::MAX_KEY_LEN).
        max: usize,
    },
    /// A key that IoT Hub or DPS holds (identity, policy or enrollment key) does not decode
    /// to [`REGISTERED_KEY_LEN`](crate::REGISTERED_KEY_LEN) (16..=64) bytes (reference §1.2,
    /// §8.1).
    #[error("key is {len} bytes, IoT Hub and DPS keys are 16 to 64 bytes")]
    RegisteredKeyLength {
        /// Decoded length.
        len: usize,
    },
    /// The token text is longer than [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN).
    #[error("token is {len} bytes, the maximum is {max}")]
    TokenTooLong {
        /// Length of the text.
        len: usize,
        /// [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN).
        max: usize,
    },
    /// The text does not start with `SharedAccessSignature ` (exact case, one space; §1.1).
    #[error("token does not start with `SharedAccessSignature `")]
    MissingPrefix,
    /// A byte that may not appear in a token: whitespace (other than the one space after the
    /// prefix), a control character or a non-ASCII byte.
    #[error("invalid byte 0x{byte:02x} at offset {offset}")]
    InvalidCharacter {
        /// Byte offset in the token text.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A `&`-separated field is empty (`&&`, a leading or trailing `&`).
    #[error("empty field at offset {offset}")]
    EmptyField {
        /// Byte offset in the token text.
        offset: usize,
    },
    /// A field has no `=`, or an empty name.
    #[error("field at offset {offset} is not `name=value`")]
    MalformedField {
        /// Byte offset in the token text.
        offset: usize,
    },
    /// A field name other than exactly `sr`, `sig`, `se` or `skn` (case-sensitive).
    #[error("unknown field at offset {offset}")]
    UnknownField {
        /// Byte offset in the token text.
        offset: usize,
    },
    /// A field appears twice.
    #[error("duplicate field `{field}`")]
    DuplicateField {
        /// The field name.
        field: &'static str,
    },
    /// A field is present with an empty value.
    #[error("empty value for field `{field}`")]
    EmptyValue {
        /// The field name.
        field: &'static str,
    },
    /// A required field (`sr`, `sig`, `se`) is absent.
    #[error("missing field `{field}`")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// The `se` value is not canonical decimal Unix seconds.
    #[error("malformed expiry `se`: {0}")]
    MalformedExpiry(#[source] ExpiryError),
    /// The `sig` value cannot be decoded into a 32-byte MAC.
    #[error("malformed signature `sig`: {0}")]
    MalformedSignature(#[source] SignatureError),
    /// No key (neither primary nor secondary) produced the token's MAC (§1.4.1-3).
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The token expired: `expiry + skew < now` (§1.4.4).
    #[error("token expired at {expiry}, now is {now} (beyond the tolerated clock skew)")]
    Expired {
        /// The token's `se`.
        expiry: u64,
        /// The time the check was made for.
        now: u64,
    },
    /// The token's resource does not cover the resource being accessed (§1.4.5).
    #[error(
        "token resource does not cover the requested resource (first difference at path segment {segment})"
    )]
    ResourceMismatch {
        /// Index (0 = host or ID scope) of the first path segment of the token's decoded
        /// resource that differs from, or has no counterpart in, the requested resource.
        segment: usize,
    },
    /// A key name (`skn`) to sign with is empty, longer than 64 characters, or has characters
    /// outside `A-Z a-z 0-9 _ - @ .` (reference §4, csharp policy-name rule).
    #[error("invalid key name: 1 to 64 characters of A-Z a-z 0-9 _ - @ . expected")]
    InvalidKeyName,
    /// The output buffer is too small; `required` bytes are enough.
    #[error("buffer too small: {required} bytes required")]
    BufferTooSmall {
        /// A buffer of this many bytes is large enough.
        required: usize,
    },
    /// A [`Signer`](crate::Signer) (TPM, HSM) reported an error.
    #[error("signer failed")]
    SignerFailed,
    /// A connection string was refused.
    #[error("connection string: {0}")]
    ConnectionString(#[source] ConnectionStringError),
}

impl Error {
    /// A stable snake_case code for the error, for logs, JSON output and programs that branch
    /// on the cause (`signature_mismatch`, `expired`, `malformed_signature`, ...). The code of a
    /// variant never changes; the `Display` text may be reworded.
    ///
    /// Token-text errors share the `malformed_*` / `*_field` family so a caller can tell a
    /// broken token from a refused one; [`Error::SignatureMismatch`], [`Error::Expired`] and
    /// [`Error::ResourceMismatch`] are the three verdicts on a well-formed token (§1.4).
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeyBase64(_) => "key_not_base64",
            Self::EmptyKey => "empty_key",
            Self::KeyTooLong { .. } => "key_too_long",
            Self::RegisteredKeyLength { .. } => "registered_key_length",
            Self::TokenTooLong { .. } => "token_too_long",
            Self::MissingPrefix => "missing_prefix",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::EmptyField { .. } => "empty_field",
            Self::MalformedField { .. } => "malformed_field",
            Self::UnknownField { .. } => "unknown_field",
            Self::DuplicateField { .. } => "duplicate_field",
            Self::EmptyValue { .. } => "empty_value",
            Self::MissingField { .. } => "missing_field",
            Self::MalformedExpiry(_) => "malformed_expiry",
            Self::MalformedSignature(_) => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::Expired { .. } => "expired",
            Self::ResourceMismatch { .. } => "resource_mismatch",
            Self::InvalidKeyName => "invalid_key_name",
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::SignerFailed => "signer_failed",
            Self::ConnectionString(_) => "invalid_connection_string",
        }
    }
}

impl From<ConnectionStringError> for Error {
    fn from(err: ConnectionStringError) -> Self {
        Self::ConnectionString(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::error::Error as _;
    use std::string::ToString;

    /// Wrapped details stay reachable as `source()`, down to the base64 cause.
    #[test]
    fn wrapped_details_are_sources() {
        let expiry = Error::MalformedExpiry(ExpiryError::LeadingZero);
        let source = expiry.source().map(ToString::to_string);
        assert_eq!(source, Some(ExpiryError::LeadingZero.to_string()));
        let sig = Error::MalformedSignature(SignatureError::Base64(Base64Error::InvalidPadding));
        let base64 = sig.source().and_then(|detail| detail.source());
        assert_eq!(
            base64.map(ToString::to_string),
            Some(Base64Error::InvalidPadding.to_string())
        );
        assert!(
            Error::KeyBase64(Base64Error::InvalidPadding)
                .source()
                .is_some()
        );
        assert!(Error::SignatureMismatch.source().is_none());
    }

    #[test]
    fn messages_are_lowercase_without_period() {
        let samples = [
            Error::SignatureMismatch,
            Error::Expired {
                expiry: 1,
                now: 400,
            },
            Error::MalformedExpiry(ExpiryError::LeadingZero),
            Error::KeyBase64(Base64Error::InvalidPadding),
            Error::ConnectionString(ConnectionStringError::MissingKey { key: "HostName" }),
            Error::MalformedSignature(SignatureError::WrongLength { len: 3 }),
        ];
        for err in samples {
            let text = alloc_free_display(&err);
            assert!(
                text.as_str().starts_with(|c: char| c.is_ascii_lowercase()),
                "{text:?}"
            );
            assert!(!text.as_str().ends_with('.'), "{text:?}");
        }
        assert_eq!(
            alloc_free_display(&Error::Expired {
                expiry: 1,
                now: 400
            })
            .as_str(),
            "token expired at 1, now is 400 (beyond the tolerated clock skew)"
        );
    }

    #[test]
    fn codes_are_stable_snake_case_and_distinct() {
        let samples = [
            (
                Error::KeyBase64(Base64Error::InvalidPadding),
                "key_not_base64",
            ),
            (Error::EmptyKey, "empty_key"),
            (Error::KeyTooLong { len: 65, max: 64 }, "key_too_long"),
            (
                Error::RegisteredKeyLength { len: 15 },
                "registered_key_length",
            ),
            (Error::TokenTooLong { len: 9, max: 1 }, "token_too_long"),
            (Error::MissingPrefix, "missing_prefix"),
            (
                Error::InvalidCharacter { offset: 0, byte: 0 },
                "invalid_character",
            ),
            (Error::EmptyField { offset: 0 }, "empty_field"),
            (Error::MalformedField { offset: 0 }, "malformed_field"),
            (Error::UnknownField { offset: 0 }, "unknown_field"),
            (Error::DuplicateField { field: "sr" }, "duplicate_field"),
            (Error::EmptyValue { field: "sr" }, "empty_value"),
            (Error::MissingField { field: "sr" }, "missing_field"),
            (
                Error::MalformedExpiry(ExpiryError::Overflow),
                "malformed_expiry",
            ),
            (
                Error::MalformedSignature(SignatureError::WrongMacLength { bytes: 1 }),
                "malformed_signature",
            ),
            (Error::SignatureMismatch, "signature_mismatch"),
            (Error::Expired { expiry: 1, now: 2 }, "expired"),
            (Error::ResourceMismatch { segment: 1 }, "resource_mismatch"),
            (Error::InvalidKeyName, "invalid_key_name"),
            (Error::BufferTooSmall { required: 1 }, "buffer_too_small"),
            (Error::SignerFailed, "signer_failed"),
            (
                Error::ConnectionString(ConnectionStringError::DpsDevice),
                "invalid_connection_string",
            ),
        ];
        for (i, (err, code)) in samples.iter().enumerate() {
            assert_eq!(err.code(), *code, "{err:?}");
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            for (other, other_code) in samples.get(i + 1..).unwrap_or_default() {
                assert_ne!(code, other_code, "{err:?} and {other:?} share a code");
            }
        }
    }

    struct Buf {
        bytes: [u8; 256],
        len: usize,
    }
    impl Buf {
        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.len]).unwrap()
        }
    }
    impl core::fmt::Debug for Buf {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str(self.as_str())
        }
    }
    impl core::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(core::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    fn alloc_free_display(err: &Error) -> Buf {
        use core::fmt::Write;
        let mut buf = Buf {
            bytes: [0; 256],
            len: 0,
        };
        write!(buf, "{err}").unwrap();
        buf
    }
}
