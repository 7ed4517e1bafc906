//! Temporary stand-in for `iot_x509::Thumbprint` until that crate compiles; same names and
//! behaviour for the subset used here (azure-iot-protocol.md §7.1).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which hash a thumbprint uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbprintAlgorithm {
    /// SHA-1, 40 hex digits.
    Sha1,
    /// SHA-256, 64 hex digits.
    Sha256,
}

/// A certificate thumbprint (upper-case hex, no separators).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Thumbprint {
    hex: String,
}

impl Thumbprint {
    /// Parses 40 or 64 hex digits, `:` and whitespace ignored.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let mut hex = String::with_capacity(64);
        for c in text.chars() {
            if c == ':' || c.is_whitespace() {
                continue;
            }
            if !c.is_ascii_hexdigit() {
                return Err(format!("{c:?} is not a hex digit"));
            }
            hex.push(c.to_ascii_uppercase());
        }
        if hex.len() != 40 && hex.len() != 64 {
            return Err(format!("{} hex digits, expected 40 or 64", hex.len()));
        }
        Ok(Self { hex })
    }

    /// SHA-1 for 40 digits, SHA-256 for 64.
    pub fn algorithm(&self) -> ThumbprintAlgorithm {
        if self.hex.len() == 40 {
            ThumbprintAlgorithm::Sha1
        } else {
            ThumbprintAlgorithm::Sha256
        }
    }
}

impl core::fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.hex)
    }
}

impl Serialize for Thumbprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex)
    }
}

impl<'de> Deserialize<'de> for Thumbprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_hex(&text).map_err(serde::de::Error::custom)
    }
}
