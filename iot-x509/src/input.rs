//! Certificate input: DER, one PEM certificate, or a PEM bundle (leaf first).
//!
//! Azure accepts a CA or verification certificate as PEM or as a base64/DER `.cer` file
//! (reference §7.4 step 1 and 4); devices present their chain leaf first (reference §7.3).

use base64::Engine as _;
use rustls_pki_types::CertificateDer;

use crate::{CertificateProblem, Error, PemProblem};

/// Most certificates accepted from one input (a device chain is a handful; this bounds work).
pub const MAX_CERTIFICATES: usize = 64;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Parses certificate input: a DER certificate, one PEM certificate, or a bundle of
/// `CERTIFICATE` blocks (kept in input order, so leaf first for a device chain).
///
/// Explanatory text *before* each PEM block is allowed (RFC 7468 §2; `openssl x509 -text`
/// and `openssl s_client -showcerts` write it), anything but whitespace after the last block is
/// [`Error::TrailingData`]. Every block must be a certificate: a private key, a CSR, a public
/// key or a CRL gives [`Error::NotACertificate`] naming what was found, so a `cert+key` file is
/// refused instead of silently half-used. Every certificate must parse and must not be
/// followed by extra bytes.
///
/// # Errors
/// [`Error::EmptyInput`], [`Error::NotACertificate`], [`Error::InvalidPem`],
/// [`Error::TrailingData`], [`Error::MalformedCertificate`].
pub fn parse_certificates(input: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let Some(first) = input.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(Error::EmptyInput);
    };
    if input.get(first) == Some(&0x30) {
        let der = input.get(first..).unwrap_or_default();
        check_der(der)?;
        return Ok(vec![CertificateDer::from(der.to_vec())]);
    }
    let Ok(text) = core::str::from_utf8(input) else {
        return Err(CertificateProblem::NeitherPemNorDer.into());
    };
    if !text.contains(BEGIN) {
        return Err(CertificateProblem::NoPemBlock.into());
    }
    parse_pem(text)
}

fn parse_pem(text: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut certs = Vec::new();
    // (label, base64 body) of the open block
    let mut open: Option<(&str, String)> = None;
    let mut offset = 0usize;
    let mut trailing_at: Option<usize> = None;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset = offset.saturating_add(raw_line.len());
        let line = raw_line.trim();
        match open.as_mut() {
            None => {
                if let Some(rest) = line.strip_prefix(BEGIN) {
                    let label = rest.strip_suffix(DASHES).ok_or_else(|| {
                        PemProblem::MalformedBeginLine {
                            line: line.to_owned(),
                        }
                    })?;
                    open = Some((label, String::new()));
                    trailing_at = None;
                } else if !line.is_empty() && trailing_at.is_none() {
                    trailing_at = Some(line_start);
                }
            }
            Some((label, body)) => {
                if let Some(rest) = line.strip_prefix(END) {
                    if rest.strip_suffix(DASHES) != Some(*label) {
                        return Err(PemProblem::MismatchedEnd {
                            line: line.to_owned(),
                            label: (*label).to_owned(),
                        }
                        .into());
                    }
                    let label = *label;
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(body.as_bytes())
                        .map_err(|source| PemProblem::Base64 {
                            label: label.to_owned(),
                            source,
                        })?;
                    open = None;
                    if let Some(found) = non_certificate(label) {
                        return Err(Error::NotACertificate {
                            found,
                            label: label.to_owned(),
                        });
                    }
                    check_der(&der)?;
                    if certs.len() >= MAX_CERTIFICATES {
                        return Err(PemProblem::TooManyCertificates {
                            max: MAX_CERTIFICATES,
                        }
                        .into());
                    }
                    certs.push(CertificateDer::from(der));
                } else if line.contains(':') {
                    return Err(PemProblem::Headers {
                        line: line.to_owned(),
                    }
                    .into());
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if let Some((label, _)) = open {
        return Err(PemProblem::MissingEnd {
            label: label.to_owned(),
        }
        .into());
    }
    if let Some(offset) = trailing_at {
        return Err(Error::TrailingData { offset });
    }
    Ok(certs)
}

/// `Some(description)` for a PEM label that is not a certificate (RFC 7468 labels).
fn non_certificate(label: &str) -> Option<&'static str> {
    Some(match label {
        "CERTIFICATE" | "X509 CERTIFICATE" => return None,
        "PRIVATE KEY"
        | "RSA PRIVATE KEY"
        | "EC PRIVATE KEY"
        | "ENCRYPTED PRIVATE KEY"
        | "DSA PRIVATE KEY"
        | "OPENSSH PRIVATE KEY" => "a private key",
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => "a certificate signing request",
        "PUBLIC KEY" | "RSA PUBLIC KEY" => "a public key",
        "X509 CRL" => "a certificate revocation list",
        "TRUSTED CERTIFICATE" => "an OpenSSL trusted certificate (with trust settings)",
        "PKCS7" | "CMS" => "a PKCS #7 / CMS bundle",
        "EC PARAMETERS" => "EC parameters",
        _ => "an unknown PEM block",
    })
}

/// Checks that `der` is exactly one well-formed certificate.
fn check_der(der: &[u8]) -> Result<(), Error> {
    // The full view, so that every accepted certificate can also be inspected (fuzzing found
    // certificates whose extensions x509-parser rejects only when they are read).
    match crate::CertificateInfo::parse(der) {
        Ok(_) => Ok(()),
        Err(err @ Error::TrailingData { .. }) => Err(err),
        Err(err) => Err(match der_lookalike(der) {
            Some(found) => Error::NotACertificate {
                found,
                label: "DER".into(),
            },
            None => err,
        }),
    }
}

/// Names DER that is a well-known non-certificate structure, to give a clearer error.
fn der_lookalike(der: &[u8]) -> Option<&'static str> {
    use x509_parser::prelude::FromDer as _;
    if x509_parser::certification_request::X509CertificationRequest::from_der(der).is_ok() {
        return Some("a certificate signing request");
    }
    // PKCS #8, PKCS #1 and SEC 1 private keys: SEQUENCE { INTEGER 0 or 1, ... }.
    let (_, any) = x509_parser::der_parser::der::parse_der_sequence(der).ok()?;
    let items = any.as_sequence().ok()?;
    let version = items.first()?.as_u32().ok()?;
    (version <= 1 && items.len() >= 3).then_some("a private key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_fails() {
        assert_eq!(parse_certificates(b""), Err(Error::EmptyInput));
        assert_eq!(parse_certificates(b" \n\t"), Err(Error::EmptyInput));
    }

    #[test]
    fn garbage_fails() {
        assert!(matches!(
            parse_certificates(b"hello"),
            Err(Error::MalformedCertificate(_))
        ));
        assert!(matches!(
            parse_certificates(&[0x30, 0x03, 1]),
            Err(Error::MalformedCertificate(_))
        ));
        assert!(matches!(
            parse_certificates(&[0xff, 0xfe]),
            Err(Error::MalformedCertificate(_))
        ));
    }

    #[test]
    fn private_key_block_is_named() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            parse_certificates(pem),
            Err(Error::NotACertificate {
                found: "a private key",
                label: "PRIVATE KEY".into()
            })
        );
    }

    #[test]
    fn pem_and_parse_errors_keep_their_cause() {
        use std::error::Error as _;
        // Bad base64: the decoder's own error is down the source chain.
        let pem = b"-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n";
        let err = parse_certificates(pem).unwrap_err();
        let Error::InvalidPem(PemProblem::Base64 { label, .. }) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(label, "CERTIFICATE");
        let problem = err.source().expect("InvalidPem has a source");
        let decode = problem.source().expect("Base64 keeps the decoder's error");
        assert_eq!(
            decode.downcast_ref::<base64::DecodeError>(),
            Some(&base64::DecodeError::InvalidByte(1, b'*'))
        );
        // A truncated SEQUENCE: x509-parser's error is down the chain, not a string.
        let err = parse_certificates(&[0x30, 0x03, 1]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MalformedCertificate(CertificateProblem::Parse(_))
            ),
            "{err:?}"
        );
        let problem = err.source().expect("MalformedCertificate has a source");
        let parse = problem.source().expect("Parse keeps x509-parser's error");
        let nom = parse
            .source()
            .expect("the wrapper gives x509-parser's error");
        assert!(
            nom.downcast_ref::<x509_parser::nom::Err<x509_parser::error::X509Error>>()
                .is_some(),
            "{nom:?}"
        );
        // Causes the crate finds itself are typed, with no source below them.
        let err = parse_certificates(b"hello").unwrap_err();
        assert_eq!(
            err,
            Error::MalformedCertificate(CertificateProblem::NoPemBlock)
        );
        assert!(err.source().and_then(|p| p.source()).is_none());
    }

    #[test]
    fn unterminated_block_fails() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert_eq!(
            parse_certificates(pem),
            Err(Error::InvalidPem(PemProblem::MissingEnd {
                label: "CERTIFICATE".into()
            }))
        );
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(parse_certificates(pem), Err(Error::InvalidPem(_))));
    }
}
