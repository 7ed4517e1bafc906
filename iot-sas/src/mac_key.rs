//! Compact pre-keyed HMAC-SHA256 keys: only the keyed state, not the key bytes.

use hmac::block_api::HmacCore;
use hmac::digest::block_api::CoreProxy as _;
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

use crate::key_text::{MAX_KEY_LEN, check_len, decode_key_text};
use crate::{Error, SasToken, Signature, Signer};

pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// SHA-256 block size: HMAC keys are padded (or first hashed) to this length (RFC 2104 §2).
const BLOCK_LEN: usize = 64;

/// A key reduced to its pre-keyed HMAC-SHA256 state: enough to sign and verify, nothing else.
///
/// [`SharedAccessKey`](crate::SharedAccessKey) also keeps the decoded key bytes (inline, room
/// for [`MAX_KEY_LEN`] bytes) so it can print its base64 text; a `MacKey` keeps only the state
/// that has already absorbed the key (`../shared/reference/rust-ecosystem.md` §2.1), so a
/// registry of a million identities, or a [`Verifier`](crate::Verifier), stays small. Each
/// signature or verification clones the state and absorbs the message (reference §1.2).
///
/// Secret hygiene (DESIGN.md principle 4): the state is wiped on drop (`hmac`'s `zeroize`
/// feature), `Debug` prints `MacKey(<redacted>)`, there is no `Display` and no way to read the
/// key back.
#[derive(Clone)]
pub struct MacKey {
    /// The two SHA-256 states after the inner and outer padded key blocks (80 bytes); the
    /// block buffer of a full `Hmac` is added per use, empty.
    core: HmacCore<Sha256>,
}

// The state wipes itself: hmac 0.13's `HmacCore` and `Hmac` carry no `ZeroizeOnDrop` marker,
// but their fields do the work on drop: two SHA-256 cores (`Sha256VarCore`, sha2's `zeroize`
// feature) and, in the per-use `Hmac`, the block buffer (block-buffer's `zeroize` feature,
// enabled through `hmac/zeroize`). This is a compile-time check of both.
const _: fn() = || {
    fn wiped<T: zeroize::ZeroizeOnDrop>() {}
    wiped::<sha2::block_api::Sha256VarCore>();
    wiped::<
        hmac::digest::block_buffer::BlockBuffer<
            hmac::digest::consts::U64,
            hmac::digest::block_buffer::Eager,
        >,
    >();
};

impl zeroize::ZeroizeOnDrop for MacKey {}

impl MacKey {
    /// Pre-keys raw key bytes (same rules as
    /// [`SharedAccessKey::from_bytes`](crate::SharedAccessKey::from_bytes)).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyKey`] or [`Error::KeyTooLong`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        check_len(bytes)?;
        Ok(Self::prekeyed(bytes))
    }

    /// Decodes and pre-keys a key from its base64 text, with exactly the strict rules of
    /// [`SharedAccessKey::from_base64`](crate::SharedAccessKey::from_base64) (standard
    /// alphabet, canonical padding, reference §1.2). The decoded bytes are wiped.
    ///
    /// # Errors
    ///
    /// [`Error::KeyBase64`], [`Error::EmptyKey`] or [`Error::KeyTooLong`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let mut buf = zeroize::Zeroizing::new([0u8; MAX_KEY_LEN + 2]);
        let bytes = decode_key_text(text, &mut buf)?;
        Self::from_bytes(bytes)
    }

    /// Builds the keyed HMAC state without a fallible constructor: the RFC 2104 block-sized
    /// key `K0` (the key zero-padded to 64 bytes, or its SHA-256 digest zero-padded when
    /// longer) is exactly what `Hmac::new_from_slice` would derive. Any length is accepted.
    pub(crate) fn prekeyed(key: &[u8]) -> Self {
        let mut k0 = zeroize::Zeroizing::new([0u8; BLOCK_LEN]);
        if key.len() > BLOCK_LEN {
            let mut digest = Sha256::digest(key);
            k0[..32].copy_from_slice(&digest);
            digest.as_mut_slice().zeroize();
        } else {
            k0[..key.len()].copy_from_slice(key);
        }
        Self {
            core: HmacCore::new(&(*k0).into()),
        }
    }

    /// A fresh HMAC computation keyed with this key (a copy of the keyed state).
    pub(crate) fn mac(&self) -> HmacSha256 {
        HmacSha256::compose(self.core.clone(), Default::default())
    }

    /// HMAC-SHA256 of `message_parts` concatenated in order (for a SAS token: `sr`, `"\n"`,
    /// `se`, reference §1.2). Also available through [`Signer`].
    pub fn sign(&self, message_parts: &[&[u8]]) -> Signature {
        let mut mac = self.mac();
        for part in message_parts {
            mac.update(part);
        }
        Signature(mac.finalize().into_bytes().into())
    }

    /// Checks the token's MAC: HMAC-SHA256 over the raw `sr`, a line feed and the raw `se`
    /// exactly as received (reference §1.4.1), compared with the decoded `sig` in constant
    /// time (§1.4.2). Expiry and resource are not looked at (see
    /// [`Verifier`](crate::Verifier)).
    ///
    /// # Errors
    ///
    /// [`Error::SignatureMismatch`].
    pub fn verify(&self, token: &SasToken<'_>) -> Result<(), Error> {
        let tag = self.sign(&token.signed_parts());
        if ct_eq_32(&tag.0, token.signature_bytes()) {
            Ok(())
        } else {
            Err(Error::SignatureMismatch)
        }
    }
}

/// Constant-time equality of two 32-byte MACs, compared as four 64-bit words with `subtle`
/// (four optimization barriers instead of thirty-two for a byte-wise `ct_eq`).
pub(crate) fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> bool {
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

impl Signer for MacKey {
    type Error = core::convert::Infallible;

    fn sign(&self, message_parts: &[&[u8]]) -> Result<Signature, Self::Error> {
        Ok(Self::sign(self, message_parts))
    }
}

impl core::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharedAccessKey;

    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    // reference §1.8, complete vector row 1 (V1 key).
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";

    #[test]
    fn prekey_matches_new_from_slice_for_short_block_and_long_keys() {
        for len in [1usize, 8, 32, 63, 64, 65, 316, 512] {
            let bytes: std::vec::Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = MacKey::from_bytes(&bytes).unwrap().sign(&[b"mess", b"age"]);
            let mut reference = HmacSha256::new_from_slice(&bytes).unwrap();
            reference.update(b"message");
            assert_eq!(ours.0, <[u8; 32]>::from(reference.finalize().into_bytes()));
        }
    }

    #[test]
    fn v1_vector_from_python_sdk() {
        // reference §1.8 V1 (azure-iot-sdk-python test_signing_mechanism.py).
        let key = MacKey::from_base64(V1_KEY).unwrap();
        assert_eq!(
            key.sign(&[b"sign this ", b"message"])
                .encode_base64(&mut [0; 44]),
            "8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M="
        );
        let via_trait = Signer::sign(&key, &[b"sign this message"]).unwrap();
        assert_eq!(via_trait, key.sign(&[b"sign this message"]));
    }

    #[test]
    fn verify_known_token_and_refuse_other_keys() {
        let token = SasToken::parse(TOKEN).unwrap();
        let key = MacKey::from_base64(V1_KEY).unwrap();
        assert_eq!(key.verify(&token), Ok(()));
        let from_shared = SharedAccessKey::from_base64(V1_KEY).unwrap().mac_key();
        assert_eq!(from_shared.verify(&token), Ok(()));
        let other = MacKey::from_bytes(b"other").unwrap();
        assert_eq!(other.verify(&token), Err(Error::SignatureMismatch));
    }

    #[test]
    fn same_strict_rules_as_shared_access_key() {
        for text in [
            "",
            "key",
            "cGFzc3dvcmR=",
            "NMgJDvdKTxjLi-xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=",
            "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg",
            " NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=",
        ] {
            assert_eq!(
                MacKey::from_base64(text).err(),
                SharedAccessKey::from_base64(text).err(),
                "{text}"
            );
            assert!(MacKey::from_base64(text).is_err());
        }
        assert_eq!(MacKey::from_bytes(&[]).err(), Some(Error::EmptyKey));
        assert!(MacKey::from_bytes(&[1; MAX_KEY_LEN]).is_ok());
        assert_eq!(
            MacKey::from_bytes(&[1; MAX_KEY_LEN + 1]).err(),
            Some(Error::KeyTooLong {
                len: MAX_KEY_LEN + 1,
                max: MAX_KEY_LEN
            })
        );
    }

    #[test]
    fn debug_is_redacted_and_compact() {
        let key = MacKey::from_base64(V1_KEY).unwrap();
        assert_eq!(std::format!("{key:?}"), "MacKey(<redacted>)");
        assert!(size_of::<MacKey>() <= 96, "{}", size_of::<MacKey>());
        assert!(size_of::<MacKey>() < size_of::<SharedAccessKey>() / 2);
    }

    #[test]
    fn constant_time_compare_sees_every_byte() {
        let a = [7u8; 32];
        assert!(ct_eq_32(&a, &a));
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!ct_eq_32(&a, &b), "{i}");
        }
    }
}
