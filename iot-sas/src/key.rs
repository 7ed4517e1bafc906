//! Shared access keys: the decoded key bytes and a pre-keyed HMAC-SHA256 state.

#[cfg(feature = "alloc")]
use base64::Engine as _;
#[cfg(feature = "alloc")]
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq as _;
use zeroize::ZeroizeOnDrop;

use crate::key_text::{
    MAX_KEY_LEN, check_len, check_registered_len, decode_key_text, encode_base64_into,
};
use crate::{Error, MacKey};

/// A shared access key (device, module, policy, enrollment or derived key).
///
/// Holds the decoded key bytes inline (no allocation) and an HMAC-SHA256 state that has already
/// absorbed the key, so each signature or verification only clones that state
/// (`../shared/reference/rust-ecosystem.md` §2.1, about 40 % faster than re-keying).
///
/// Secret hygiene (DESIGN.md principle 4): the bytes and the HMAC state are wiped on drop,
/// `Debug` prints `SharedAccessKey(<redacted>)`, there is no `Display`, and `==` compares in
/// constant time (for keys of equal length).
///
/// Any non-empty key length up to [`MAX_KEY_LEN`] is accepted: the 16..=64-byte rule of IoT Hub
/// and DPS applies where identities and enrollments are created, not to signing.
#[derive(Clone, ZeroizeOnDrop)]
pub struct SharedAccessKey {
    bytes: [u8; MAX_KEY_LEN],
    len: usize,
    #[zeroize(skip)] // wiped by its own `ZeroizeOnDrop` (hmac/sha2 feature `zeroize`)
    mac: MacKey,
}

impl SharedAccessKey {
    /// Decodes a key from its base64 text.
    ///
    /// Strict RFC 4648 standard alphabet with canonical `=` padding: URL-safe characters,
    /// whitespace, missing or extra padding and non-zero trailing bits are errors (reference
    /// §1.2: python and csharp reject invalid base64; node's lenient decoder is not copied).
    ///
    /// # Errors
    ///
    /// [`Error::KeyBase64`], [`Error::EmptyKey`] or [`Error::KeyTooLong`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let mut buf = zeroize::Zeroizing::new([0u8; MAX_KEY_LEN + 2]);
        let bytes = decode_key_text(text, &mut buf)?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyKey`] or [`Error::KeyTooLong`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        check_len(bytes)?;
        let mut stored = [0u8; MAX_KEY_LEN];
        stored[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            bytes: stored,
            len: bytes.len(),
            mac: MacKey::prekeyed(bytes),
        })
    }

    /// Decodes a key that IoT Hub or DPS holds (a device, module, policy or enrollment key):
    /// the strict base64 of [`from_base64`](Self::from_base64), decoding to
    /// [`REGISTERED_KEY_LEN`](crate::REGISTERED_KEY_LEN) (16..=64) bytes (reference §1.2,
    /// §8.1). The one home of that rule: identities, policies and enrollments are checked here
    /// when they are loaded.
    ///
    /// # Errors
    ///
    /// [`Error::KeyBase64`], [`Error::EmptyKey`], [`Error::KeyTooLong`] or
    /// [`Error::RegisteredKeyLength`].
    pub fn from_registered_base64(text: &str) -> Result<Self, Error> {
        let mut buf = zeroize::Zeroizing::new([0u8; MAX_KEY_LEN + 2]);
        let bytes = decode_key_text(text, &mut buf)?;
        Self::from_registered_bytes(bytes)
    }

    /// Wraps the raw bytes of a key that IoT Hub or DPS holds: 16..=64 bytes
    /// ([`REGISTERED_KEY_LEN`](crate::REGISTERED_KEY_LEN), reference §1.2).
    ///
    /// # Errors
    ///
    /// [`Error::RegisteredKeyLength`].
    pub fn from_registered_bytes(bytes: &[u8]) -> Result<Self, Error> {
        check_registered_len(bytes)?;
        Self::from_bytes(bytes)
    }

    /// A key from exactly 32 bytes (a MAC output, as in group-key derivation); cannot fail.
    pub(crate) fn from_mac_output(bytes: &[u8; 32]) -> Self {
        let mut stored = [0u8; MAX_KEY_LEN];
        stored[..32].copy_from_slice(bytes);
        Self {
            bytes: stored,
            len: 32,
            mac: MacKey::prekeyed(bytes),
        }
    }

    /// Decoded length in bytes (never zero).
    #[allow(clippy::len_without_is_empty)] // a key is never empty
    pub fn len(&self) -> usize {
        self.len
    }

    /// The secret key bytes. Handle with care: never log or print them.
    pub fn secret_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Writes the standard padded base64 text of the key into `out` and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than the encoded length.
    pub fn encode_base64<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        encode_base64_into(self.secret_bytes(), out)
    }

    /// The standard padded base64 text of the key, wiped when dropped.
    #[cfg(feature = "alloc")]
    pub fn to_base64(&self) -> zeroize::Zeroizing<alloc::string::String> {
        zeroize::Zeroizing::new(STANDARD.encode(self.secret_bytes()))
    }

    /// The compact pre-keyed form of this key (a clone of its HMAC state, without the key
    /// bytes): what a [`Verifier`](crate::Verifier) or a large registry should keep.
    pub fn mac_key(&self) -> MacKey {
        self.mac.clone()
    }

    /// The pre-keyed state, borrowed.
    pub(crate) fn as_mac_key(&self) -> &MacKey {
        &self.mac
    }
}

impl From<&SharedAccessKey> for MacKey {
    fn from(key: &SharedAccessKey) -> Self {
        key.mac_key()
    }
}

impl From<SharedAccessKey> for MacKey {
    fn from(key: SharedAccessKey) -> Self {
        key.mac_key()
    }
}

impl core::fmt::Debug for SharedAccessKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedAccessKey(<redacted>)")
    }
}

impl PartialEq for SharedAccessKey {
    /// Constant time for keys of equal length; keys of different length are unequal.
    fn eq(&self, other: &Self) -> bool {
        self.secret_bytes().ct_eq(other.secret_bytes()).into()
    }
}

impl Eq for SharedAccessKey {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Base64Error;
    use crate::mac_key::HmacSha256;
    use hmac::{KeyInit as _, Mac as _};

    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";

    #[test]
    fn from_base64_round_trips() {
        let key = SharedAccessKey::from_base64(V1_KEY).unwrap();
        assert_eq!(key.len(), 32);
        let mut out = [0u8; 44];
        assert_eq!(key.encode_base64(&mut out).unwrap(), V1_KEY);
    }

    #[test]
    fn prekey_matches_new_from_slice_for_short_block_and_long_keys() {
        for len in [1usize, 8, 32, 63, 64, 65, 316, 512] {
            let bytes: std::vec::Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let key = SharedAccessKey::from_bytes(&bytes).unwrap();
            let ours = key.mac_key().sign(&[b"message"]);
            let mut reference = HmacSha256::new_from_slice(&bytes).unwrap();
            reference.update(b"message");
            assert_eq!(
                ours.0,
                <[u8; 32]>::from(reference.finalize().into_bytes()),
                "{len}"
            );
        }
    }

    #[test]
    fn from_base64_rejects_url_safe_alphabet() {
        let url_safe = V1_KEY.replace('+', "-");
        assert_eq!(
            SharedAccessKey::from_base64(&url_safe),
            Err(Error::KeyBase64(Base64Error::InvalidByte { offset: 13 }))
        );
    }

    #[test]
    fn from_base64_rejects_missing_padding() {
        let unpadded = V1_KEY.trim_end_matches('=');
        assert!(matches!(
            SharedAccessKey::from_base64(unpadded),
            Err(Error::KeyBase64(_))
        ));
    }

    #[test]
    fn from_base64_rejects_non_canonical_trailing_bits() {
        // `cGFzc3dvcmQ=` is "password"; `cGFzc3dvcmR=` has non-zero trailing bits.
        assert!(SharedAccessKey::from_base64("cGFzc3dvcmQ=").is_ok());
        assert!(matches!(
            SharedAccessKey::from_base64("cGFzc3dvcmR="),
            Err(Error::KeyBase64(Base64Error::InvalidLastSymbol { .. }))
        ));
    }

    #[test]
    fn from_base64_rejects_node_lenient_short_key() {
        // reference §1.8 V4: node decodes `key` to two bytes; strict base64 refuses it.
        assert!(matches!(
            SharedAccessKey::from_base64("key"),
            Err(Error::KeyBase64(_))
        ));
    }

    #[test]
    fn from_base64_rejects_whitespace() {
        let spaced = std::format!(" {V1_KEY}");
        assert!(matches!(
            SharedAccessKey::from_base64(&spaced),
            Err(Error::KeyBase64(_))
        ));
    }

    #[test]
    fn empty_and_too_long_keys_are_rejected() {
        assert_eq!(SharedAccessKey::from_base64(""), Err(Error::EmptyKey));
        assert_eq!(SharedAccessKey::from_bytes(&[]), Err(Error::EmptyKey));
        assert!(SharedAccessKey::from_bytes(&[1; MAX_KEY_LEN]).is_ok());
        assert_eq!(
            SharedAccessKey::from_bytes(&[1; MAX_KEY_LEN + 1]),
            Err(Error::KeyTooLong {
                len: MAX_KEY_LEN + 1,
                max: MAX_KEY_LEN
            })
        );
        let mut buf = [0u8; 1024];
        let long = encode_base64_into(&[1u8; MAX_KEY_LEN + 1], &mut buf).unwrap();
        assert!(matches!(
            SharedAccessKey::from_base64(long),
            Err(Error::KeyTooLong { .. })
        ));
        let max = encode_base64_into(&[1u8; MAX_KEY_LEN], &mut buf).unwrap();
        assert_eq!(
            SharedAccessKey::from_base64(max).unwrap().len(),
            MAX_KEY_LEN
        );
    }

    #[test]
    fn registered_keys_are_strict_base64_of_16_to_64_bytes() {
        let mut buf = [0u8; 512];
        for len in [16, 32, 64] {
            let text = encode_base64_into(&[7u8; 64][..len], &mut buf).unwrap();
            assert_eq!(
                SharedAccessKey::from_registered_base64(text).unwrap().len(),
                len
            );
        }
        for len in [1, 15, 65, 316] {
            let text = encode_base64_into(&[7u8; 316][..len], &mut buf).unwrap();
            assert_eq!(
                SharedAccessKey::from_registered_base64(text),
                Err(Error::RegisteredKeyLength { len })
            );
            assert!(SharedAccessKey::from_base64(text).is_ok());
        }
        assert_eq!(
            SharedAccessKey::from_registered_base64(""),
            Err(Error::EmptyKey)
        );
        assert!(matches!(
            SharedAccessKey::from_registered_base64("not base64!"),
            Err(Error::KeyBase64(_))
        ));
        assert_eq!(
            SharedAccessKey::from_registered_bytes(&[1; 15]),
            Err(Error::RegisteredKeyLength { len: 15 })
        );
        assert!(SharedAccessKey::from_registered_bytes(&[1; 16]).is_ok());
    }

    #[test]
    fn short_keys_are_accepted() {
        // Real SDK tests sign with 8-byte keys; `cGFzc3dvcmQ=` is the node test key "password".
        assert_eq!(
            SharedAccessKey::from_base64("cGFzc3dvcmQ=")
                .unwrap()
                .secret_bytes(),
            b"password"
        );
    }

    #[test]
    fn debug_is_redacted_and_eq_compares_bytes() {
        let a = SharedAccessKey::from_base64(V1_KEY).unwrap();
        let b = SharedAccessKey::from_base64(V1_KEY).unwrap();
        let c = SharedAccessKey::from_bytes(b"other").unwrap();
        assert_eq!(std::format!("{a:?}"), "SharedAccessKey(<redacted>)");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.clone(), a);
    }

    #[test]
    fn encode_base64_reports_buffer_too_small() {
        let key = SharedAccessKey::from_base64(V1_KEY).unwrap();
        let mut out = [0u8; 43];
        assert_eq!(
            key.encode_base64(&mut out),
            Err(Error::BufferTooSmall { required: 44 })
        );
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn to_base64_is_zeroizing_text() {
        let key = SharedAccessKey::from_base64(V1_KEY).unwrap();
        assert_eq!(&*key.to_base64(), V1_KEY);
    }
}
