//! Pre-keyed primary/secondary keys for one identity or policy: two iot-sas [`MacKey`]s.
//!
//! The registry may hold a million of these, so they are compact: iot-sas's [`MacKey`]s keep
//! only the HMAC-SHA256 states that have already absorbed their keys, not the key bytes.
//! Verifying a token clones a state, absorbs `sr`, `\n`, `se` (the raw text,
//! azure-iot-protocol.md §1.2, §1.4.1) and compares the 32 MAC bytes in constant time, trying
//! the primary key first, then the secondary (§1.4.3): all of that is iot-sas's
//! [`KeySlot::that_signed`]. No base64, no key schedule, no allocation.

use iot_sas::{KeySlot, MacKey, SasToken, SharedAccessKey, Verifier};

use crate::error::Error;

/// Decodes one registered key with iot-sas's rule (strict base64, 16..=64 bytes,
/// azure-iot-protocol.md §1.2), naming its owner and slot in the error.
pub(crate) fn registered_key(
    owner: &str,
    slot: KeySlot,
    text: &str,
) -> Result<SharedAccessKey, Error> {
    SharedAccessKey::from_registered_base64(text).map_err(|source| Error::InvalidKey {
        owner: owner.into(),
        slot,
        source,
    })
}

/// A pre-keyed pair of shared access keys (primary, secondary): two iot-sas [`MacKey`]s
/// (160 bytes), checked as an iot-sas [`Verifier`] checks them, primary first.
///
/// Secret hygiene: the HMAC states are wiped on drop ([`MacKey`]), `Debug` prints
/// `<redacted>`, there is no `Display`.
#[derive(Clone)]
pub struct PreKeyedKeys {
    primary: MacKey,
    secondary: MacKey,
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
        Ok(Self::new(
            &registered_key(owner, KeySlot::Primary, primary)?,
            &registered_key(owner, KeySlot::Secondary, secondary)?,
        ))
    }

    /// Pre-keys two already decoded keys (no length rule applied).
    pub fn new(primary: &SharedAccessKey, secondary: &SharedAccessKey) -> Self {
        Self {
            primary: primary.mac_key(),
            secondary: secondary.mac_key(),
        }
    }

    /// Which key produced the token's MAC over its raw `sr` and `se`, if any: the primary key
    /// first, then the secondary (§1.4.3), each compared in constant time by iot-sas
    /// ([`KeySlot::that_signed`], exactly what [`Verifier::verify_signature`] does). Expiry and
    /// scope are checked by the caller.
    pub fn verify(&self, token: &SasToken<'_>) -> Option<KeySlot> {
        KeySlot::that_signed(token, &self.primary, Some(&self.secondary))
    }

    /// An iot-sas verifier holding both keys (default skew; full checks with
    /// [`Verifier::verify`]).
    pub fn to_verifier(&self) -> Verifier {
        Verifier::from_mac_keys(self.primary.clone(), Some(self.secondary.clone()))
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
        // Two keyed HMAC-SHA256 states, nothing else.
        assert_eq!(size_of::<PreKeyedKeys>(), 2 * size_of::<MacKey>());
        assert!(
            size_of::<PreKeyedKeys>() <= 160,
            "{}",
            size_of::<PreKeyedKeys>()
        );
    }

    #[test]
    fn from_bytes_applies_the_length_rule_and_agrees_with_base64() {
        let token = SasToken::parse(TOKEN).unwrap();
        let v1 = SharedAccessKey::from_base64(V1_KEY).unwrap();
        let other = SharedAccessKey::from_base64(OTHER).unwrap();
        // The registry's path: raw bytes through iot-sas's registered-key rule.
        let raw = |bytes: &[u8]| SharedAccessKey::from_registered_bytes(bytes);
        let k = PreKeyedKeys::new(
            &raw(other.secret_bytes()).unwrap(),
            &raw(v1.secret_bytes()).unwrap(),
        );
        assert_eq!(k.verify(&token), Some(KeySlot::Secondary));
        assert!(k.to_verifier().verify_signature(&token).is_ok());
        assert!(raw(&[1; 15]).is_err());
        assert!(raw(&[1; 16]).is_ok());
        assert!(raw(&[1; 65]).is_err());
    }
}
