//! Certificate thumbprints (reference §7.1): SHA-1 or SHA-256 of the whole DER certificate.

use core::fmt;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;

/// Which hash a thumbprint uses (reference §7.1: SHA-1 = 40 hex digits, SHA-256 = 64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbprintAlgorithm {
    /// SHA-1, 20 bytes, what the IoT Hub portal and DPS enrollments show.
    Sha1,
    /// SHA-256, 32 bytes, what DPS writes into the identities it creates (reference §7.1).
    Sha256,
}

impl ThumbprintAlgorithm {
    /// Digest length in bytes (20 or 32).
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

/// The hash of a whole DER certificate.
///
/// `Display` prints upper-case hex without separators, as the Azure portal and REST API do
/// (reference §7.1); serde uses the same string. Equality is constant time.
#[derive(Clone, Copy)]
pub struct Thumbprint {
    algorithm: ThumbprintAlgorithm,
    bytes: [u8; 32],
}

impl Thumbprint {
    /// SHA-1 thumbprint of `der`.
    pub fn sha1_of(der: &[u8]) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..20].copy_from_slice(&Sha1::digest(der));
        Self {
            algorithm: ThumbprintAlgorithm::Sha1,
            bytes,
        }
    }

    /// SHA-256 thumbprint of `der`.
    pub fn sha256_of(der: &[u8]) -> Self {
        Self {
            algorithm: ThumbprintAlgorithm::Sha256,
            bytes: Sha256::digest(der).into(),
        }
    }

    /// Thumbprint of `der` with the given algorithm.
    pub fn of(der: &[u8], algorithm: ThumbprintAlgorithm) -> Self {
        match algorithm {
            ThumbprintAlgorithm::Sha1 => Self::sha1_of(der),
            ThumbprintAlgorithm::Sha256 => Self::sha256_of(der),
        }
    }

    /// Builds a thumbprint from raw digest bytes (20 = SHA-1, 32 = SHA-256).
    ///
    /// # Errors
    /// [`Error::ThumbprintLength`] for any other length (counted in hex digits).
    pub fn from_digest(digest: &[u8]) -> Result<Self, Error> {
        let algorithm = match digest.len() {
            20 => ThumbprintAlgorithm::Sha1,
            32 => ThumbprintAlgorithm::Sha256,
            n => {
                return Err(Error::ThumbprintLength {
                    digits: n.saturating_mul(2),
                });
            }
        };
        let mut bytes = [0u8; 32];
        bytes[..digest.len()].copy_from_slice(digest);
        Ok(Self { algorithm, bytes })
    }

    /// Parses hex text: 40 or 64 hex digits, any case, optionally separated by `:` or
    /// whitespace (as `openssl x509 -fingerprint` prints them), reference §7.1.
    ///
    /// # Errors
    /// [`Error::ThumbprintCharacter`] for anything that is not a hex digit, `:` or whitespace;
    /// [`Error::ThumbprintLength`] when the digit count is not 40 or 64.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        let mut digits = 0usize;
        for (position, ch) in text.chars().enumerate() {
            if ch == ':' || ch.is_whitespace() {
                continue;
            }
            let Some(value) = ch.to_digit(16) else {
                return Err(Error::ThumbprintCharacter {
                    found: ch,
                    position,
                });
            };
            if let Some(slot) = bytes.get_mut(digits / 2) {
                // `value` < 16, so the cast is lossless.
                let nibble = value as u8;
                *slot = if digits.is_multiple_of(2) {
                    nibble << 4
                } else {
                    *slot | nibble
                };
            }
            digits = digits.saturating_add(1);
        }
        let algorithm = match digits {
            40 => ThumbprintAlgorithm::Sha1,
            64 => ThumbprintAlgorithm::Sha256,
            _ => return Err(Error::ThumbprintLength { digits }),
        };
        Ok(Self { algorithm, bytes })
    }

    /// The hash this thumbprint uses.
    pub fn algorithm(&self) -> ThumbprintAlgorithm {
        self.algorithm
    }

    /// The digest bytes (20 or 32).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algorithm.digest_len()]
    }

    /// Hashes `der` with this thumbprint's algorithm and compares in constant time.
    pub fn matches_der(&self, der: &[u8]) -> bool {
        *self == Self::of(der, self.algorithm)
    }
}

impl PartialEq for Thumbprint {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for Thumbprint {}

impl core::hash::Hash for Thumbprint {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.as_bytes() {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({:?}, {self})", self.algorithm)
    }
}

impl core::str::FromStr for Thumbprint {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_hex(text)
    }
}

impl serde::Serialize for Thumbprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Thumbprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Thumbprint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 40 or 64 digit hex thumbprint")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Thumbprint, E> {
                Thumbprint::from_hex(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// Which registered thumbprint matched (reference §7.1: either may match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbprintMatch {
    /// The primary thumbprint.
    Primary,
    /// The secondary thumbprint.
    Secondary,
}

/// Checks a certificate against a registered primary/secondary thumbprint pair (reference §7.2):
/// each may be SHA-1 or SHA-256; primary is tried first. Each hash is computed at most once.
pub fn match_thumbprints(
    der: &[u8],
    primary: Option<&Thumbprint>,
    secondary: Option<&Thumbprint>,
) -> Option<ThumbprintMatch> {
    let mut sha1 = None;
    let mut sha256 = None;
    let mut matches = |candidate: &Thumbprint| {
        let computed = match candidate.algorithm() {
            ThumbprintAlgorithm::Sha1 => *sha1.get_or_insert_with(|| Thumbprint::sha1_of(der)),
            ThumbprintAlgorithm::Sha256 => {
                *sha256.get_or_insert_with(|| Thumbprint::sha256_of(der))
            }
        };
        computed == *candidate
    };
    if primary.is_some_and(&mut matches) {
        Some(ThumbprintMatch::Primary)
    } else if secondary.is_some_and(&mut matches) {
        Some(ThumbprintMatch::Secondary)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_hex_accepts_separators_and_case() {
        let a = Thumbprint::from_hex("97388663832D0393C9246CAB4FBA2C8677185A25").unwrap();
        let b = Thumbprint::from_hex("97:38:86:63:83:2d:03:93:c9:24:6c:ab:4f:ba:2c:86:77:18:5a:25")
            .unwrap();
        let c = Thumbprint::from_hex(" 9738 8663 832d0393c9246cab4fba2c8677185a25\n").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.algorithm(), ThumbprintAlgorithm::Sha1);
        assert_eq!(a.to_string(), "97388663832D0393C9246CAB4FBA2C8677185A25");
    }

    #[test]
    fn from_hex_wrong_length_fails() {
        assert_eq!(
            Thumbprint::from_hex("abcd"),
            Err(Error::ThumbprintLength { digits: 4 })
        );
        assert_eq!(
            Thumbprint::from_hex(""),
            Err(Error::ThumbprintLength { digits: 0 })
        );
        let long = "a".repeat(66);
        assert_eq!(
            Thumbprint::from_hex(&long),
            Err(Error::ThumbprintLength { digits: 66 })
        );
    }

    #[test]
    fn from_hex_bad_char_fails() {
        assert_eq!(
            Thumbprint::from_hex("zz"),
            Err(Error::ThumbprintCharacter {
                found: 'z',
                position: 0
            })
        );
    }

    #[test]
    fn sha1_and_sha256_of_known_input() {
        // FIPS 180 "abc" vectors.
        assert_eq!(
            Thumbprint::sha1_of(b"abc").to_string(),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
        assert_eq!(
            Thumbprint::sha256_of(b"abc").to_string(),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
    }

    #[test]
    fn algorithms_never_equal() {
        let a = Thumbprint::from_digest(&[0u8; 20]).unwrap();
        let b = Thumbprint::from_digest(&[0u8; 32]).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn match_thumbprints_primary_then_secondary() {
        let der = b"certificate";
        let s1 = Thumbprint::sha1_of(der);
        let s256 = Thumbprint::sha256_of(der);
        let other = Thumbprint::sha1_of(b"other");
        assert_eq!(
            match_thumbprints(der, Some(&s1), Some(&s256)),
            Some(ThumbprintMatch::Primary)
        );
        assert_eq!(
            match_thumbprints(der, Some(&other), Some(&s256)),
            Some(ThumbprintMatch::Secondary)
        );
        assert_eq!(match_thumbprints(der, Some(&other), None), None);
        assert_eq!(match_thumbprints(der, None, None), None);
    }

    #[test]
    fn serde_round_trip_as_string() {
        let t = Thumbprint::sha256_of(b"abc");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"{t}\""));
        let back: Thumbprint = serde_json::from_str(&json.to_lowercase()).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Thumbprint>("\"12\"").is_err());
    }
}
