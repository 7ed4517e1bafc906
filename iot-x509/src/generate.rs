//! Test PKI (feature `generate`): the certificates of Microsoft's `certGen.sh` (reference §7.4),
//! made with rcgen, P-256 keys, PEM out.
//!
//! Key generation draws from the OS random generator (through ring): this module is the one
//! exception to the crate's zero-I/O rule, which is why it sits behind a feature meant for tests
//! and tooling. Times are still passed in.

use core::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use sha2::{Digest, Sha256};

use crate::Error;

/// A validity period in Unix seconds (both ends inclusive, RFC 5280 §4.1.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// `notBefore`.
    pub not_before: i64,
    /// `notAfter`.
    pub not_after: i64,
}

impl Validity {
    /// `days` days starting at `not_before`.
    pub fn days(not_before: i64, days: u32) -> Self {
        Self {
            not_before,
            not_after: not_before.saturating_add(i64::from(days) * 86_400),
        }
    }
}

/// A generated certificate with its private key.
///
/// `key_pem` is a secret: it is wiped on drop and `Debug` prints `<redacted>`.
#[derive(Clone)]
pub struct GeneratedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS #8 PEM.
    pub key_pem: zeroize::Zeroizing<String>,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

impl core::fmt::Debug for GeneratedCert {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GeneratedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl GeneratedCert {
    /// Loads an issuer from PEM files (a certificate made earlier, e.g. by `iot x509 new-ca`).
    ///
    /// # Errors
    /// [`Error::Generate`] when the key does not parse, or certificate input errors.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let certs = crate::parse_certificates(cert_pem.as_bytes())?;
        let der = certs.into_iter().next().ok_or(Error::EmptyInput)?.to_vec();
        KeyPair::from_pem(key_pem).map_err(generate_error)?;
        Ok(Self {
            cert_pem: cert_pem.to_owned(),
            key_pem: zeroize::Zeroizing::new(key_pem.to_owned()),
            der,
        })
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>, Error> {
        let key = KeyPair::from_pem(&self.key_pem).map_err(generate_error)?;
        Issuer::from_ca_cert_der(&self.der.as_slice().into(), key).map_err(generate_error)
    }
}

fn generate_error(err: rcgen::Error) -> Error {
    Error::Generate(err)
}

/// A self-signed root CA: `basicConstraints=critical,CA:true`,
/// `keyUsage=critical,digitalSignature,cRLSign,keyCertSign` (certGen.sh `v3_ca`).
///
/// # Errors
/// [`Error::Generate`].
pub fn new_root_ca(common_name: &str, validity: Validity) -> Result<GeneratedCert, Error> {
    let params = ca_params(common_name, validity)?;
    make(params, None)
}

/// An intermediate CA signed by `issuer`, same profile as the root (certGen.sh
/// `v3_intermediate_ca`).
///
/// # Errors
/// [`Error::Generate`].
pub fn new_intermediate_ca(
    common_name: &str,
    issuer: &GeneratedCert,
    validity: Validity,
) -> Result<GeneratedCert, Error> {
    let params = ca_params(common_name, validity)?;
    make(params, Some(issuer))
}

/// A device certificate, CN = device ID (or `deviceId/moduleId`), signed by `issuer`, with
/// certGen.sh's `usr_cert` profile: `CA:FALSE`, `keyUsage=critical,nonRepudiation,
/// digitalSignature,keyEncipherment`, `extendedKeyUsage=clientAuth,emailProtection`.
///
/// # Errors
/// [`Error::Generate`].
pub fn new_device_cert(
    device_id: &str,
    issuer: &GeneratedCert,
    validity: Validity,
) -> Result<GeneratedCert, Error> {
    make(leaf_params(device_id, validity)?, Some(issuer))
}

/// A self-signed device certificate (CN = device ID, leaf profile) for thumbprint
/// authentication (reference §7.2).
///
/// # Errors
/// [`Error::Generate`].
pub fn new_self_signed_device_cert(
    device_id: &str,
    validity: Validity,
) -> Result<GeneratedCert, Error> {
    make(leaf_params(device_id, validity)?, None)
}

/// A verification certificate for proof of possession (reference §7.4 step 3): CN = the
/// verification code exactly, signed by the CA being verified, leaf profile
/// (certGen.sh `create_verification_certificate`).
///
/// # Errors
/// [`Error::Generate`].
pub fn new_verification_cert(
    code: &str,
    ca: &GeneratedCert,
    validity: Validity,
) -> Result<GeneratedCert, Error> {
    make(leaf_params(code, validity)?, Some(ca))
}

fn base_params(common_name: &str, validity: Validity) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate_error)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(validity.not_before.max(0).unsigned_abs());
    params.not_after = epoch + Duration::from_secs(validity.not_after.max(0).unsigned_abs());
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn ca_params(common_name: &str, validity: Validity) -> Result<CertificateParams, Error> {
    let mut params = base_params(common_name, validity)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::KeyCertSign,
    ];
    Ok(params)
}

fn leaf_params(common_name: &str, validity: Validity) -> Result<CertificateParams, Error> {
    let mut params = base_params(common_name, validity)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::ContentCommitment,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::EmailProtection,
    ];
    Ok(params)
}

fn make(
    mut params: CertificateParams,
    issuer: Option<&GeneratedCert>,
) -> Result<GeneratedCert, Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(generate_error)?;
    // Serial: 16 bytes of SHA-256 over the key and the parameters, top bit clear (positive).
    let mut hasher = Sha256::new();
    hasher.update(rcgen::PublicKeyData::der_bytes(&key));
    hasher.update(params.not_before.unix_timestamp().to_be_bytes());
    let digest = hasher.finalize();
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let cert = match issuer {
        None => {
            params.use_authority_key_identifier_extension = false;
            params.self_signed(&key).map_err(generate_error)?
        }
        Some(issuer) => params
            .signed_by(&key, &issuer.issuer()?)
            .map_err(generate_error)?,
    };
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: zeroize::Zeroizing::new(key.serialize_pem()),
        der: cert.der().to_vec(),
    })
}
