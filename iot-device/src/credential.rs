//! What a device proves itself with: a symmetric key (its own or derived from a group key) or
//! an X.509 certificate chain with its private key.

use iot_sas::SharedAccessKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroize as _;

use crate::{Error, InvalidInput};

/// A device credential, for DPS and for the hub alike.
///
/// Secret hygiene (DESIGN.md principle 4): the key material zeroizes on drop and `Debug`
/// redacts it.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A symmetric key: SAS tokens are signed with it (reference §1.2). For a device of a
    /// symmetric-key enrollment group, use [`Credential::derived_from_group_key`].
    SymmetricKey(Box<SharedAccessKey>),
    /// A client certificate chain (leaf first) and its private key, presented in the TLS
    /// handshake; no password is sent (reference §5.1, §6.1).
    X509(X509Identity),
}

impl Credential {
    /// A symmetric key from its base64 text.
    ///
    /// # Errors
    /// [`Error::Sas`] for text that is not a valid key.
    pub fn symmetric_key(base64: &str) -> Result<Self, Error> {
        Ok(Self::SymmetricKey(Box::new(SharedAccessKey::from_base64(
            base64,
        )?)))
    }

    /// The device key of a symmetric-key enrollment group: HMAC-SHA256 of the registration ID
    /// under the group key (reference §3, `iot_sas::derive_device_key`). The same key signs the
    /// DPS token and, after assignment, the hub tokens.
    ///
    /// # Errors
    /// [`Error::Sas`] for a group key that is not valid base64.
    pub fn derived_from_group_key(group_key: &str, registration_id: &str) -> Result<Self, Error> {
        let group = SharedAccessKey::from_base64(group_key)?;
        Ok(Self::SymmetricKey(Box::new(iot_sas::derive_device_key(
            &group,
            registration_id,
        ))))
    }

    /// An X.509 identity from PEM text: the certificate chain (leaf first, then any
    /// intermediates) and the private key (PKCS #8, PKCS #1 or SEC1).
    ///
    /// # Errors
    /// [`Error::Invalid`] when no certificate or no key can be read.
    pub fn x509_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        X509Identity::from_pem(chain_pem, key_pem).map(Self::X509)
    }

    /// True for [`Credential::X509`].
    pub fn is_x509(&self) -> bool {
        matches!(self, Self::X509(_))
    }
}

/// A client certificate chain and its private key.
pub struct X509Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl X509Identity {
    /// From DER values: `chain` leaf first.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty chain.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, Error> {
        if chain.is_empty() {
            return Err(InvalidInput::EmptyChain.into());
        }
        Ok(Self { chain, key })
    }

    /// From PEM text (see [`Credential::x509_from_pem`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] when no certificate or no key can be read.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(InvalidInput::CertificatePem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(InvalidInput::KeyPem)?;
        Self::new(chain, key)
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        // `new` refuses an empty chain.
        &self.chain[0]
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

impl Clone for X509Identity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Drop for X509Identity {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl core::fmt::Debug for X509Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("X509Identity")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_key_matches_the_reference_vector() {
        // Reference §3 (docs' legacy-device vector): group key and registration ID below
        // derive Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=.
        let Credential::SymmetricKey(key) = Credential::derived_from_group_key(
            "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
            "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
        )
        .unwrap() else {
            panic!("expected a symmetric key")
        };
        assert_eq!(
            key.to_base64().as_str(),
            "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let c = Credential::symmetric_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("AQIDBAUG"), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }

    #[test]
    fn bad_pem_is_a_typed_error() {
        assert!(matches!(
            Credential::x509_from_pem(b"not pem", b"not pem"),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            Credential::symmetric_key("not base64!"),
            Err(Error::Sas(_))
        ));
    }
}
