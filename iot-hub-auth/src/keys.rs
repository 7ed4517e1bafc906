//! Pre-keyed primary/secondary keys for one identity or policy: an [`iot_sas::Verifier`].
//!
//! The registry may hold a million of these, so they are compact: iot-sas's [`MacKey`]s keep
//! only the HMAC-SHA256 states that have already absorbed their keys, not the key bytes.
//! Verifying a token clones a state, absorbs `sr`, `\n`, `se` (the raw text,
//! azure-iot-protocol.md §1.2, §1.4.1) and compares the 32 MAC bytes in constant time, trying
//! the primary key first, then the secondary (§1.4.3): all of that is iot-sas's
//! [`Verifier::verify_signature`]. No base64, no key schedule, no allocation.

use iot_sas::{KeySlot, MacKey, SasToken, SharedAccessKey, Verifier};
use zeroize::Zeroizing;

use crate::error::{Error, Slot};
use crate::identity::decode_key;

/// A pre-keyed pair of shared access keys (primary, secondary), kept as an iot-sas
/// [`Verifier`].
///
/// Secret hygiene: the HMAC states are wiped on drop ([`MacKey`]), `Debug` prints
/// `<redacted>`, there is no `Display`.
#[derive(Clone)]
pub struct PreKeyedKeys {
    verifier: Verifier,
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
        let key = |slot, text: &str| -> Result<MacKey, Error> {
            let bytes = Zeroizing::new(decode_key(owner, slot, text)?);
            MacKey::from_bytes(&bytes).map_err(|e| Error::InvalidKey {
                owner: owner.into(),
                slot,
                reason: e.to_string(),
            })
        };
        Ok(Self {
            verifier: Verifier::from_mac_keys(
                key(Slot::Primary, primary)?,
                Some(key(Slot::Secondary, secondary)?),
            ),
        })
    }

    /// Pre-keys two already decoded keys (no length rule applied).
    pub fn new(primary: &SharedAccessKey, secondary: &SharedAccessKey) -> Self {
        Self {
            verifier: Verifier::from_mac_keys(primary.mac_key(), Some(secondary.mac_key())),
        }
    }

    /// Which key produced the token's MAC over its raw `sr` and `se`, if any
    /// ([`Verifier::verify_signature`]; expiry and scope are checked by the caller).
    pub fn verify(&self, token: &SasToken<'_>) -> Option<KeySlot> {
        self.verifier.verify_signature(token).ok()
    }

    /// The iot-sas verifier holding both keys (default skew; full checks with
    /// [`Verifier::verify`]).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
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
        let shared = |t| SharedAccessKey::from_base64(t).unwrap();
        let k = PreKeyedKeys::new(&shared(OTHER), &shared(V1_KEY));
        assert_eq!(k.verify(&token), Some(KeySlot::Secondary));
    }

    #[test]
    fn key_rules_apply() {
        assert!(PreKeyedKeys::from_base64("d", "AAAA", OTHER).is_err());
    }

    #[test]
    fn compact() {
        let size = size_of::<PreKeyedKeys>();
        assert!(size <= 512, "{size}");
        assert_eq!(size, size_of::<Verifier>());
    }
}
