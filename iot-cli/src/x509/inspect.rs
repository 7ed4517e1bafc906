//! `iot x509 inspect`: every certificate of a file, for a person or a program.
//!
//! The identity fields come from `iot_x509::CertificateInfo` (the view the decisions use);
//! subject alternative names and the public key come from x509-parser directly.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use iot_x509::{CertificateDer, CertificateInfo, Thumbprint};
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::certs::read_certs;
use crate::when::{put_time, show};
use crate::{Exit, Failure, Out, Outcome};

/// `iot x509 inspect`.
pub(super) fn inspect(path: &Path, out: Out) -> Outcome {
    let certs = read_certs("--cert", path)?;
    let views = certs
        .iter()
        .enumerate()
        .map(|(i, der)| view(i + 1, der))
        .collect::<Result<Vec<_>, _>>()?;
    out.print(
        || {
            let mut text = String::new();
            for view in &views {
                if views.len() > 1 {
                    let _ = writeln!(text, "certificate {} of {}:", view["index"], views.len());
                }
                text.push_str(&as_text(view));
            }
            text
        },
        || json!({ "certificates": views }),
    )?;
    Ok(Exit::Ok)
}

/// The JSON view of one certificate (the text view is made from it).
fn view(index: usize, der: &CertificateDer<'_>) -> Result<Value, Failure> {
    let info = CertificateInfo::parse(der).map_err(|err| Failure::bad(err.code(), err))?;
    let parsed = X509Certificate::from_der(der)
        .map(|(_, cert)| cert)
        .map_err(|err| {
            Failure::bad(
                "malformed_certificate",
                format_args!("malformed certificate: {err}"),
            )
        })?;
    let sans = subject_alt_names(&parsed)?;
    let eku = info
        .extended_key_usage()
        .map(|oids| oids.iter().map(|oid| eku_name(oid)).collect::<Vec<_>>());
    let mut v = json!({
        "index": index,
        "subjectName": info.subject(),
        "commonNames": info.common_names(),
        "subjectAltNames": sans,
        "issuerName": info.issuer(),
        "serialNumber": info.serial_hex(),
        "version": info.version(),
        "isCa": info.is_ca(),
        "pathLenConstraint": info.path_len(),
        "keyUsage": info.key_usage(),
        "extendedKeyUsage": eku,
        "publicKey": public_key(&parsed),
        "selfIssued": info.is_self_issued(),
        "sha1Thumbprint": Thumbprint::sha1_of(der).to_string(),
        "sha256Thumbprint": Thumbprint::sha256_of(der).to_string(),
    });
    put_time(&mut v, "notBefore", info.not_before());
    put_time(&mut v, "notAfter", info.not_after());
    Ok(v)
}

fn as_text(v: &Value) -> String {
    let list = |key: &str| match &v[key] {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".to_owned(),
    };
    let text = |key: &str| v[key].as_str().unwrap_or("-").to_owned();
    let key = &v["publicKey"];
    let key_text = match (
        key["type"].as_str(),
        key["bits"].as_u64(),
        key["curve"].as_str(),
    ) {
        (Some(kind), Some(bits), Some(curve)) => format!("{kind} {bits} bits ({curve})"),
        (Some(kind), Some(bits), None) => format!("{kind} {bits} bits"),
        (Some(kind), None, _) => kind.to_owned(),
        _ => "-".to_owned(),
    };
    let ca = match (v["isCa"].as_bool(), v["pathLenConstraint"].as_u64()) {
        (Some(true), Some(n)) => format!("yes, pathLenConstraint {n}"),
        (Some(true), None) => "yes, no pathLenConstraint".to_owned(),
        _ => "no".to_owned(),
    };
    let time = |key: &str| {
        v[format!("{key}Unix")]
            .as_i64()
            .map_or_else(|| "-".to_owned(), show)
    };
    let mut out = String::new();
    let _ = writeln!(out, "subject:            {}", text("subjectName"));
    let _ = writeln!(out, "common name:        {}", list("commonNames"));
    let _ = writeln!(out, "subject alt names:  {}", list("subjectAltNames"));
    let _ = writeln!(out, "issuer:             {}", text("issuerName"));
    let _ = writeln!(out, "serial:             {}", text("serialNumber"));
    let _ = writeln!(out, "not before:         {}", time("notBefore"));
    let _ = writeln!(out, "not after:          {}", time("notAfter"));
    let _ = writeln!(out, "public key:         {key_text}");
    let _ = writeln!(out, "CA:                 {ca}");
    let _ = writeln!(out, "key usage:          {}", list("keyUsage"));
    let _ = writeln!(out, "extended key usage: {}", list("extendedKeyUsage"));
    let _ = writeln!(out, "sha1 thumbprint:    {}", text("sha1Thumbprint"));
    let _ = writeln!(out, "sha256 thumbprint:  {}", text("sha256Thumbprint"));
    out
}

/// RFC 5280 §4.2.1.12 purposes by their OpenSSL short names; other OIDs as dotted text.
fn eku_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.3.1" => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        "2.5.29.37.0" => "anyExtendedKeyUsage",
        other => other,
    }
    .to_owned()
}

/// Subject alternative names in OpenSSL's `TYPE:value` form (`DNS:localhost`, `IP:127.0.0.1`).
fn subject_alt_names(cert: &X509Certificate<'_>) -> Result<Vec<String>, Failure> {
    let ext = cert.subject_alternative_name().map_err(|err| {
        Failure::bad(
            "malformed_certificate",
            format_args!("malformed subjectAltName extension: {err}"),
        )
    })?;
    let Some(ext) = ext else {
        return Ok(Vec::new());
    };
    Ok(ext
        .value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(s) => format!("DNS:{s}"),
            GeneralName::RFC822Name(s) => format!("email:{s}"),
            GeneralName::URI(s) => format!("URI:{s}"),
            GeneralName::IPAddress(bytes) => match ip(bytes) {
                Some(addr) => format!("IP:{addr}"),
                None => format!("IP:<{} bytes>", bytes.len()),
            },
            GeneralName::DirectoryName(dn) => format!("dirName:{dn}"),
            GeneralName::RegisteredID(oid) => format!("registeredID:{oid}"),
            GeneralName::OtherName(oid, _) => format!("otherName:{oid}"),
            _ => "other:<unsupported>".to_owned(),
        })
        .collect())
}

fn ip(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Key type, size in bits and curve name.
fn public_key(cert: &X509Certificate<'_>) -> Value {
    let spki = cert.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => json!({ "type": "RSA", "bits": significant_bits(rsa.modulus) }),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let (name, bits) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256", 256),
                Some("1.3.132.0.34") => ("P-384", 384),
                Some("1.3.132.0.35") => ("P-521", 521),
                _ => ("unknown curve", 0),
            };
            if bits == 0 {
                json!({ "type": "EC", "bits": null, "curve": curve })
            } else {
                json!({ "type": "EC", "bits": bits, "curve": name })
            }
        }
        _ => match algorithm.as_str() {
            "1.3.101.112" => json!({ "type": "Ed25519", "bits": 256 }),
            "1.3.101.113" => json!({ "type": "Ed448", "bits": 456 }),
            other => json!({ "type": other, "bits": null }),
        },
    }
}

/// Bits of a big-endian unsigned integer without its leading zeros.
fn significant_bits(bytes: &[u8]) -> usize {
    let digits = match bytes.iter().position(|&b| b != 0) {
        Some(first) => bytes.get(first..).unwrap_or_default(),
        None => return 0,
    };
    let top = digits.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
    (digits.len() - 1) * 8 + top
}
