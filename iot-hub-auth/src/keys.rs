//! Pre-keyed primary/secondary HMAC-SHA256 states for one identity or policy.
//!
//! The registry may hold a million of these, so they are compact: two HMAC states that have
//! already absorbed their key (about 300 bytes together), instead of the decoded key bytes plus
//! a state per key (`iot_sas::SharedAccessKey` keeps room for 512-byte keys inline). Verifying
//! a token clones a state, absorbs `sr`, `\n`, `se` (the raw text, azure-iot-protocol.md §1.2,
//! §1.4.1) and compares the 32 MAC bytes in constant time, trying the primary key first, then
//! the secondary (§1.4.3). No base64, no key schedule, no allocation.

use hmac::{Hmac, KeyInit as _, Mac as _};
use iot_sas::{KeySlot, SasToken, SharedAccessKey};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::error::{Error, Slot};
use crate::identity::decode_key;

type HmacSha256 = Hmac<Sha256>;

/// A pre-keyed pair of shared access keys (primary, secondary).
///
/// Secret hygiene: the HMAC states are wiped on drop (`hmac`'s `zeroize` feature), `Debug`
/// prints `<redacted>`, there is no `Display`.
#[derive(Clone)]
pub struct PreKeyedKeys {
    primary: HmacSha256,
    secondary: HmacSha256,
}

impl core::fmt::Debug for PreKeyedKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PreKeyedKeys(<redacted>)")
    }
}

impl PreKeyedKeys {
    /// Decodes and pre-keys two base64 keys, each of which must decode to 16..=64 bytes
    /// (azure-iot-protocol.md §1.2); `owner` names the identity or policy in errors.
    pub fn from_base64(owner: &str, primary: &str, secondary: &str) -> Result<Self, Error> {
        let key = |slot, text: &str| -> Result<HmacSha256, Error> {
            decode_key(owner, slot, text)?;
            let key = SharedAccessKey::from_base64(text).map_err(|e| Error::InvalidKey {
                owner: owner.into(),
                slot,
                reason: e.to_string(),
            })?;
            Ok(Self::state(&key))
        };
        Ok(Self {
            primary: key(Slot::Primary, primary)?,
            secondary: key(Slot::Secondary, secondary)?,
        })
    }

    /// Pre-keys two already decoded keys (no length rule applied).
    pub fn new(primary: &SharedAccessKey, secondary: &SharedAccessKey) -> Self {
        Self {
            primary: Self::state(primary),
            secondary: Self::state(secondary),
        }
    }

    fn state(key: &SharedAccessKey) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for HMAC.
        HmacSha256::new_from_slice(key.secret_bytes())
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()))
    }

    /// Which key produced the token's MAC over its raw `sr` and `se`, if any.
    pub fn verify(&self, token: &SasToken<'_>) -> Option<KeySlot> {
        let expected = token.signature().ok()?;
        if Self::matches(&self.primary, token, &expected.0) {
            Some(KeySlot::Primary)
        } else if Self::matches(&self.secondary, token, &expected.0) {
            Some(KeySlot::Secondary)
        } else {
            None
        }
    }

    fn matches(state: &HmacSha256, token: &SasToken<'_>, expected: &[u8; 32]) -> bool {
        let mut mac = state.clone();
        for part in token.signed_parts() {
            mac.update(part);
        }
        let tag: [u8; 32] = mac.finalize().into_bytes().into();
        ct_eq_32(&tag, expected)
    }
}

/// Constant-time equality of two MACs, compared as four 64-bit words with `subtle` (four
/// optimization barriers instead of thirty-two for a byte-wise `ct_eq`).
fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let word = |bytes: &[u8; 32], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(bytes.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(w)
    };
    let eq = (0..4).fold(subtle::Choice::from(1), |acc, i| {
        acc & word(a, i).ct_eq(&word(b, i))
    });
    bool::from(eq)
}

#[cfg(test)]
mod tests {
    use super::*;

    // reference §1.8: V1 key, hub device RFC 3986 upper-case row.
    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
    const OTHER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn primary_then_secondary() {
        let token = SasToken::parse(TOKEN).unwrap();
        let k = PreKeyedKeys::from_base64("d", V1_KEY, OTHER).unwrap();
        assert_eq!(k.verify(&token), Some(KeySlot::Primary));
        let k = PreKeyedKeys::from_base64("d", OTHER, V1_KEY).unwrap();
        assert_eq!(k.verify(&token), Some(KeySlot::Secondary));
        let k = PreKeyedKeys::from_base64("d", OTHER, OTHER).unwrap();
        assert_eq!(k.verify(&token), None);
        assert_eq!(format!("{k:?}"), "PreKeyedKeys(<redacted>)");
    }

    #[test]
    fn constant_time_compare() {
        let a = [7u8; 32];
        assert!(ct_eq_32(&a, &a));
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!ct_eq_32(&a, &b), "{i}");
        }
    }

    #[test]
    fn key_rules_apply() {
        assert!(PreKeyedKeys::from_base64("d", "AAAA", OTHER).is_err());
    }

    #[test]
    fn compact() {
        let size = size_of::<PreKeyedKeys>();
        assert!(size <= 512, "{size}");
    }
}
