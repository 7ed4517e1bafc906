//! A read-only view of one certificate (x509-parser), and the DPS `X509CertificateInfo` shape.

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::X509Name;

use crate::validity::format_utc;
use crate::{CertificateProblem, Error, Thumbprint};

/// Owned facts about one certificate, parsed once with x509-parser.
///
/// Names are printed in RFC 4514 order (most specific RDN first: `CN=dev, O=Contoso, C=US`), the
/// form .NET's `X500DistinguishedName` and therefore the Azure portal and DPS print.
///
/// **Common name rule.** A subject may hold several CN attributes. [`common_name`](Self::common_name)
/// returns the CN only when there is exactly one; [`common_names`](Self::common_names) lists all.
/// Identity binding ([`check_identity`](crate::check_identity)) rejects a subject with several
/// CNs as ambiguous ([`Error::AmbiguousCommonName`]) rather than guessing: EdgeHub keeps the last
/// CN it sees (shared/reference/rust-ecosystem.md §2.7), a naive reader the first, and a device
/// must not be able to pick which one a service honours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    subject: String,
    common_names: Vec<String>,
    issuer: String,
    serial: Vec<u8>,
    not_before: i64,
    not_after: i64,
    version: u32,
    is_ca: bool,
    path_len: Option<u32>,
    key_usage: Option<Vec<&'static str>>,
    extended_key_usage: Option<Vec<String>>,
    self_issued: bool,
}

/// OID of the `id-kp-clientAuth` extended key usage (RFC 5280 §4.2.1.12).
pub const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// OID of the `id-kp-serverAuth` extended key usage (RFC 5280 §4.2.1.12).
pub const OID_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

impl CertificateInfo {
    /// Parses one DER certificate (no trailing bytes allowed).
    ///
    /// A certificate is a SEQUENCE (RFC 5280 §4.1), which DER always encodes constructed, so
    /// its first byte is 0x30 (X.690 §8.9.1, §10.1). x509-parser does not check the
    /// constructed bit, so a primitive 0x10 is refused here: such bytes are no certificate to
    /// OpenSSL or rustls, and `parse_certificates` would take them from PEM but not as DER.
    ///
    /// # Errors
    /// [`Error::MalformedCertificate`] or [`Error::TrailingData`].
    pub fn parse(der: &[u8]) -> Result<Self, Error> {
        if der.first() != Some(&0x30) {
            return Err(CertificateProblem::NotASequence.into());
        }
        let (rest, cert) = X509Certificate::from_der(der).map_err(CertificateProblem::from)?;
        if !rest.is_empty() {
            return Err(Error::TrailingData {
                offset: der.len().saturating_sub(rest.len()),
            });
        }
        Self::from_parsed(&cert)
    }

    fn from_parsed(cert: &X509Certificate<'_>) -> Result<Self, Error> {
        let malformed =
            |err: x509_parser::error::X509Error| Error::from(CertificateProblem::from(err));
        let basic = cert.basic_constraints().map_err(malformed)?;
        let key_usage = cert.key_usage().map_err(malformed)?.map(|ku| {
            let ku = ku.value;
            [
                (ku.digital_signature(), "digitalSignature"),
                (ku.non_repudiation(), "nonRepudiation"),
                (ku.key_encipherment(), "keyEncipherment"),
                (ku.data_encipherment(), "dataEncipherment"),
                (ku.key_agreement(), "keyAgreement"),
                (ku.key_cert_sign(), "keyCertSign"),
                (ku.crl_sign(), "cRLSign"),
                (ku.encipher_only(), "encipherOnly"),
                (ku.decipher_only(), "decipherOnly"),
            ]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect()
        });
        let extended_key_usage = cert.extended_key_usage().map_err(malformed)?.map(|eku| {
            let eku = eku.value;
            let mut oids = Vec::new();
            let known = [
                (eku.any, "2.5.29.37.0"),
                (eku.server_auth, OID_SERVER_AUTH),
                (eku.client_auth, OID_CLIENT_AUTH),
                (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
            ];
            oids.extend(
                known
                    .iter()
                    .filter(|(set, _)| *set)
                    .map(|(_, oid)| (*oid).to_owned()),
            );
            oids.extend(eku.other.iter().map(ToString::to_string));
            oids
        });
        let common_names = cert
            .subject()
            .iter_common_name()
            .map(attribute_text)
            .collect();
        // RFC 5280 §4.1.2.1: v1, v2 or v3 (encoded 0, 1, 2).
        let version = cert.version().0;
        if version > 2 {
            return Err(CertificateProblem::UnsupportedVersion { version }.into());
        }
        let validity = cert.validity();
        Ok(Self {
            subject: name_to_string(cert.subject()),
            common_names,
            issuer: name_to_string(cert.issuer()),
            serial: cert.raw_serial().to_vec(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            version: version + 1,
            is_ca: basic.as_ref().is_some_and(|b| b.value.ca),
            path_len: basic.and_then(|b| b.value.path_len_constraint),
            key_usage,
            extended_key_usage,
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        })
    }

    /// Subject distinguished name, RFC 4514 order (`CN=dev, O=Contoso`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject CN when the subject has exactly one CN attribute (see the type docs).
    pub fn common_name(&self) -> Option<&str> {
        match self.common_names.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Every CN attribute of the subject, in DER order.
    pub fn common_names(&self) -> &[String] {
        &self.common_names
    }

    /// Issuer distinguished name, RFC 4514 order.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Serial number, big-endian bytes as encoded.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// Serial number as upper-case hex, as .NET's `X509Certificate2.SerialNumber` prints it.
    pub fn serial_hex(&self) -> String {
        self.serial.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// `notBefore` in Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `now` lies in `[notBefore, notAfter]` (RFC 5280 §4.1.2.5, both ends inclusive).
    pub fn is_valid_at(&self, now: u64) -> bool {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        self.not_before <= now && now <= self.not_after
    }

    /// X.509 version number (1, 2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// `basicConstraints` `cA` flag (false when the extension is absent).
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// `basicConstraints` `pathLenConstraint`, if set.
    pub fn path_len(&self) -> Option<u32> {
        self.path_len
    }

    /// Key usage bits by RFC 5280 name (`digitalSignature`, `keyCertSign`...), `None` if absent.
    pub fn key_usage(&self) -> Option<&[&'static str]> {
        self.key_usage.as_deref()
    }

    /// Extended key usage OIDs (dotted), `None` if the extension is absent.
    pub fn extended_key_usage(&self) -> Option<&[String]> {
        self.extended_key_usage.as_deref()
    }

    /// Whether the certificate may be used for TLS client authentication: no EKU extension, or
    /// one that lists `clientAuth` or `anyExtendedKeyUsage` (RFC 5280 §4.2.1.12; rustls-webpki's
    /// `KeyUsage::client_auth()` accepts exactly these).
    pub fn allows_client_auth(&self) -> bool {
        self.extended_key_usage.as_ref().is_none_or(|ekus| {
            ekus.iter()
                .any(|oid| oid == OID_CLIENT_AUTH || oid == "2.5.29.37.0")
        })
    }

    /// Subject equals issuer (a self-issued, usually self-signed, certificate).
    pub fn is_self_issued(&self) -> bool {
        self.self_issued
    }

    /// The DPS registration-record view of this certificate (reference §7.5), with both
    /// thumbprints of `der` (which must be the DER this info was parsed from).
    pub fn to_x509_certificate_info(&self, der: &[u8]) -> X509CertificateInfo {
        X509CertificateInfo {
            subject_name: self.subject.clone(),
            sha1_thumbprint: Thumbprint::sha1_of(der),
            sha256_thumbprint: Thumbprint::sha256_of(der),
            issuer_name: self.issuer.clone(),
            not_before_utc: format_utc(self.not_before),
            not_after_utc: format_utc(self.not_after),
            serial_number: self.serial_hex(),
            version: self.version,
        }
    }
}

/// The certificate summary DPS returns in registration records and enrollments
/// (`x509.clientCertificates.primary.info`, DPS REST API `X509CertificateInfo`), camelCase.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateInfo {
    /// Subject DN, RFC 4514 order.
    pub subject_name: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub sha1_thumbprint: Thumbprint,
    /// SHA-256 thumbprint, upper-case hex.
    pub sha256_thumbprint: Thumbprint,
    /// Issuer DN, RFC 4514 order.
    pub issuer_name: String,
    /// `notBefore` as `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_before_utc: String,
    /// `notAfter` as `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after_utc: String,
    /// Serial number, upper-case hex.
    pub serial_number: String,
    /// X.509 version (3 for every modern certificate).
    pub version: u32,
}

/// RFC 4514 string of a name: RDNs in reverse DER order, `+` inside multi-valued RDNs.
fn name_to_string(name: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let key = x509_parser::objects::oid2abbrev(attr.attr_type(), registry)
                        .map_or_else(|_| attr.attr_type().to_id_string(), str::to_owned);
                    let value = match attribute_string(attr) {
                        Some(text) => escape_value(&text),
                        None => attribute_text(attr),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(", ")
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, ch) in value.chars().enumerate() {
        let special = matches!(ch, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(ch, ' ' | '#'))
            || (i == last && ch == ' ');
        if special {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The attribute value as text: the string types of RFC 5280 §4.1.2.4 (UTF8String,
/// PrintableString, IA5String, NumericString, VisibleString, TeletexString read as UTF-8,
/// BMPString as UTF-16BE, UniversalString as UTF-32BE); `None` for anything else.
fn attribute_string(attr: &x509_parser::x509::AttributeTypeAndValue<'_>) -> Option<String> {
    use x509_parser::asn1_rs::Tag;
    let value = attr.attr_value();
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String => core::str::from_utf8(data).ok().map(str::to_owned),
        Tag::BmpString => {
            let units = data.chunks(2).map(|c| match c {
                [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                _ => None,
            });
            let units: Option<Vec<u16>> = units.collect();
            String::from_utf16(&units?).ok()
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| match c {
                [a, b, c, d] => char::from_u32(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The attribute value as text, or `#` + hex of its DER when it is not a string (RFC 4514
/// §2.4), so such a value never equals a device ID.
fn attribute_text(attr: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    attribute_string(attr).unwrap_or_else(|| {
        let hex: String = attr.as_slice().iter().map(|b| format!("{b:02x}")).collect();
        format!("#{hex}")
    })
}
