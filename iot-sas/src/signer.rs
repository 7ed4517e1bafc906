//! Signatures and the signer trait (the TPM / HSM hook).

use crate::SharedAccessKey;

/// An HMAC-SHA256 value as it goes into a token's `sig` (after base64 and percent-encoding).
///
/// It is public (it travels in every token), but `==` still compares in constant time so it is
/// safe to use for verification.
#[derive(Clone, Copy)]
pub struct Signature(pub [u8; 32]);

impl Signature {
    /// Writes the standard padded base64 form (44 characters) into `out` and returns it.
    pub fn encode_base64<'b>(&self, out: &'b mut [u8; 44]) -> &'b str {
        // 32 bytes always encode to exactly 44 characters.
        crate::key_text::encode_base64_into(&self.0, out).unwrap_or_default()
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        crate::mac_key::ct_eq_32(&self.0, &other.0)
    }
}

impl Eq for Signature {}

impl core::fmt::Debug for Signature {
    /// Prints only the first 4 bytes: logs must never carry a complete signature.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "Signature({a:02x}{b:02x}{c:02x}{d:02x}..)")
    }
}

/// Produces HMAC-SHA256 over the concatenation of `message_parts` with a key it holds.
///
/// [`SharedAccessKey`] implements it in software. Implement it for a TPM or HSM so tokens can
/// be signed (with [`sign_into`](crate::sign_into)) without the key ever entering this crate
/// (reference style-anchors practice 4, like azure-sdk-for-c's `sas_get_signature` /
/// `sas_get_password` split). For a SAS token the parts are `sr`, `"\n"`, `se` (§1.2).
pub trait Signer {
    /// The signer's own error; [`sign_into`](crate::sign_into) reports it as
    /// [`Error::SignerFailed`](crate::Error::SignerFailed).
    type Error: core::fmt::Debug;

    /// HMAC-SHA256 of `message_parts` concatenated in order.
    ///
    /// # Errors
    ///
    /// Whatever the device reports.
    fn sign(&self, message_parts: &[&[u8]]) -> Result<Signature, Self::Error>;
}

impl Signer for SharedAccessKey {
    type Error = core::convert::Infallible;

    fn sign(&self, message_parts: &[&[u8]]) -> Result<Signature, Self::Error> {
        Ok(self.as_mac_key().sign(message_parts))
    }
}

impl<S: Signer + ?Sized> Signer for &S {
    type Error = S::Error;

    fn sign(&self, message_parts: &[&[u8]]) -> Result<Signature, Self::Error> {
        (**self).sign(message_parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_vector_from_python_sdk() {
        // reference §1.8 V1 (azure-iot-sdk-python test_signing_mechanism.py).
        let key =
            SharedAccessKey::from_base64("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=").unwrap();
        let sig = key.sign(&[b"sign this ", b"message"]).unwrap();
        assert_eq!(
            sig.encode_base64(&mut [0; 44]),
            "8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M="
        );
    }

    #[test]
    fn v3_vector_from_node_sdk() {
        // reference §1.8 V3 (azure-iot-sdk-node _authorization_test.js).
        let key = SharedAccessKey::from_base64("cGFzc3dvcmQ=").unwrap();
        let sig = key.sign(&[b"string-to-sign"]).unwrap();
        assert_eq!(
            sig.encode_base64(&mut [0; 44]),
            "o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4="
        );
    }

    #[test]
    fn debug_prints_a_prefix_only() {
        let sig = Signature([0xab; 32]);
        assert_eq!(std::format!("{sig:?}"), "Signature(abababab..)");
        assert_eq!(sig, Signature([0xab; 32]));
        assert_ne!(sig, Signature([0xac; 32]));
    }
}
