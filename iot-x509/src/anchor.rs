//! The registered CA's own constraints when it anchors a chain.
//!
//! rustls-webpki treats a trust anchor as a bare subject name and key (RFC 5280 §6.1.1 leaves
//! the anchor's extensions to the relying party). A CA registered in a hub or DPS instance is
//! a whole certificate, and OpenSSL's `verify -purpose sslclient`, whose verdicts this crate
//! follows (README), applies that certificate's extensions too:
//!
//! * `keyUsage`, when present, must include `keyCertSign` (RFC 5280 §4.2.1.3; OpenSSL
//!   `X509_V_ERR_KEYUSAGE_NO_CERTSIGN`);
//! * `extendedKeyUsage`, when present, must include `clientAuth` (RFC 5280 §4.2.1.12; OpenSSL
//!   "unsuitable certificate purpose"; `anyExtendedKeyUsage` does not count, for OpenSSL's
//!   `sslclient` purpose nor for rustls-webpki's check of intermediates);
//! * `pathLenConstraint` bounds the number of non-self-issued intermediates between the anchor
//!   and the leaf (RFC 5280 §4.2.1.9, §6.1.4 (l)-(m); OpenSSL
//!   `X509_V_ERR_PATH_LENGTH_EXCEEDED`).
//!
//! Both IoT Hub connects and DPS attestation verify chains through
//! [`verify_client_chain`](crate::verify_client_chain), which applies these checks to the
//! anchor of every candidate path (a path the anchor refuses is not accepted; webpki goes on
//! trying other paths).

use webpki::VerifiedPath;

use crate::{CertificateInfo, ChainError, OID_CLIENT_AUTH};

/// What a registered CA's certificate allows when it anchors a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AnchorConstraints {
    /// `basicConstraints` `pathLenConstraint`.
    path_len: Option<u32>,
    /// No EKU extension, or one listing `clientAuth`.
    client_auth: bool,
    /// No keyUsage extension, or one with `keyCertSign`.
    cert_sign: bool,
}

impl AnchorConstraints {
    /// The constraints of a CA certificate.
    pub(crate) fn of(info: &CertificateInfo) -> Self {
        Self {
            path_len: info.path_len(),
            client_auth: info
                .extended_key_usage()
                .is_none_or(|ekus| ekus.iter().any(|oid| oid == OID_CLIENT_AUTH)),
            cert_sign: info
                .key_usage()
                .is_none_or(|bits| bits.contains(&"keyCertSign")),
        }
    }

    /// Whether this anchor may end `path`, in OpenSSL's order of checks.
    pub(crate) fn admit(&self, path: &VerifiedPath<'_>) -> Result<(), ChainError> {
        if !self.cert_sign {
            return Err(ChainError::CaKeyUsage);
        }
        if !self.client_auth {
            return Err(ChainError::NotClientAuth);
        }
        if let Some(max) = self.path_len {
            // Self-issued intermediates (subject = issuer, e.g. key rollover certificates) do
            // not count (RFC 5280 §6.1.4 (l)).
            let below = path
                .intermediate_certificates()
                .filter(|cert| cert.subject() != cert.issuer())
                .count();
            if u32::try_from(below).map_or(true, |below| below > max) {
                return Err(ChainError::PathTooLong);
            }
        }
        Ok(())
    }
}
