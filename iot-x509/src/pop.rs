//! Proof of possession of a registered CA's key (reference §7.4).

use ring::signature::{self, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer as _;

use crate::{CertificateInfo, CertificateProblem, Error};

const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const RSA_SHA512: &str = "1.2.840.113549.1.1.13";
const ED25519: &str = "1.3.101.112";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// Checks a verification certificate for a CA (reference §7.4 steps 3-4):
///
/// 1. its subject CN equals `code` exactly (one CN, ordinal comparison);
/// 2. its issuer name equals the CA's subject name;
/// 3. its signature verifies with the CA's public key (ECDSA P-256/P-384 with SHA-256/384,
///    RSA PKCS #1 2048+ bits with SHA-256/384/512, Ed25519: rustls-webpki's set, so no SHA-1);
/// 4. `now` (Unix seconds) lies within its validity period.
///
/// The verification certificate's own profile (CA flag, EKU) is not checked: Microsoft's
/// scripts make a leaf, other tools differ, and the service only checks the signature.
///
/// # Errors
/// Parse errors, [`Error::PopCodeMismatch`], [`Error::PopIssuerMismatch`],
/// [`Error::PopBadSignature`], [`Error::PopUnsupportedAlgorithm`], [`Error::PopExpired`],
/// [`Error::PopNotYetValid`].
pub fn verify_proof_of_possession(
    ca_der: &[u8],
    verification_cert_der: &[u8],
    code: &str,
    now: u64,
) -> Result<(), Error> {
    let ca_info = CertificateInfo::parse(ca_der)?;
    let info = CertificateInfo::parse(verification_cert_der)?;
    if info.common_name() != Some(code) {
        return Err(Error::PopCodeMismatch {
            common_name: info.common_name().map(str::to_owned),
            code: code.to_owned(),
        });
    }
    let (_, ca) = X509Certificate::from_der(ca_der).map_err(CertificateProblem::from)?;
    let (_, cert) =
        X509Certificate::from_der(verification_cert_der).map_err(CertificateProblem::from)?;
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(Error::PopIssuerMismatch {
            issuer: info.issuer().to_owned(),
            ca_subject: ca_info.subject().to_owned(),
        });
    }
    let spki = ca.public_key();
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    let algorithm: &dyn VerificationAlgorithm = match (sig_oid.as_str(), curve.as_deref()) {
        (ECDSA_SHA256, Some(P256)) => &signature::ECDSA_P256_SHA256_ASN1,
        (ECDSA_SHA256, Some(P384)) => &signature::ECDSA_P384_SHA256_ASN1,
        (ECDSA_SHA384, Some(P256)) => &signature::ECDSA_P256_SHA384_ASN1,
        (ECDSA_SHA384, Some(P384)) => &signature::ECDSA_P384_SHA384_ASN1,
        (RSA_SHA256, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA_SHA384, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA_SHA512, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (ED25519, _) => &signature::ED25519,
        _ => return Err(Error::PopUnsupportedAlgorithm { oid: sig_oid }),
    };
    signature::UnparsedPublicKey::new(algorithm, &spki.subject_public_key.data)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| Error::PopBadSignature)?;
    let now_i = i64::try_from(now).unwrap_or(i64::MAX);
    if now_i > info.not_after() {
        return Err(Error::PopExpired {
            not_after: info.not_after(),
            now,
        });
    }
    if now_i < info.not_before() {
        return Err(Error::PopNotYetValid {
            not_before: info.not_before(),
            now,
        });
    }
    Ok(())
}
