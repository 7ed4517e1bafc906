//! Certificate files as people have them: PEM or DER, a bundle, a byte-order mark, text
//! before the first block or after the last one (`openssl x509 -text` writes both), and
//! readable errors for the files that are not what they seem (a PKCS#12 archive, a truncated
//! DER file).
//!
//! Parsing itself is `iot_x509::parse_certificates`; this module only trims what RFC 7468 §2
//! calls explanatory text and words the errors. Error reasons are `iot_x509::Error::code()`
//! values, plus `pkcs12` and `truncated_der`.

use std::path::Path;

use iot_x509::CertificateDer;
use x509_parser::asn1_rs::{FromDer as _, Header, Length};

use crate::exit::Failure;
use crate::input::{file_path, read_file};

const END: &str = "-----END ";

/// A chain verdict in words, with its times as RFC 3339 and Unix seconds.
pub(crate) fn chain_message(err: &iot_x509::ChainError) -> String {
    use crate::when::show;
    match err {
        iot_x509::ChainError::Expired { not_after, now } => format!(
            "certificate expired at {}, now is {}",
            show(*not_after),
            show(*now)
        ),
        iot_x509::ChainError::NotYetValid { not_before, now } => format!(
            "certificate is not valid before {}, now is {}",
            show(*not_before),
            show(*now)
        ),
        other => other.to_string(),
    }
}

/// Reads every certificate of a file (`-` = stdin), in file order.
pub(crate) fn read_certs(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let bytes = read_file(flag, path)?;
    parse(&bytes).map_err(|(reason, message)| {
        Failure::bad(
            reason,
            format_args!("{flag} {}: {message}", file_path(path).display()),
        )
    })
}

/// Reads the first certificate of a file.
pub(crate) fn read_first(flag: &str, path: &Path) -> Result<CertificateDer<'static>, Failure> {
    read_certs(flag, path)?.into_iter().next().ok_or_else(|| {
        Failure::bad(
            "empty_input",
            format_args!("{flag} {}: no certificate", file_path(path).display()),
        )
    })
}

/// Parses certificate bytes; the error is `(reason, message)`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, (&'static str, String)> {
    let trimmed = trim_after_last_block(bytes);
    iot_x509::parse_certificates(trimmed).map_err(|err| explain(trimmed, &err))
}

/// Drops explanatory text after the last `-----END ...-----` line, unless it starts another
/// block (a truncated block must still be an error).
fn trim_after_last_block(bytes: &[u8]) -> &[u8] {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes;
    };
    let Some(start) = text.rfind(END) else {
        return bytes;
    };
    let line_end = text
        .get(start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |n| start + n + 1);
    let tail = text.get(line_end..).unwrap_or_default();
    if tail.contains("-----BEGIN") {
        return bytes;
    }
    bytes.get(..line_end).unwrap_or(bytes)
}

/// Words an `iot_x509` input error for a person: PKCS#12 and truncated DER get their own
/// message instead of the DER parser's internals.
fn explain(bytes: &[u8], err: &iot_x509::Error) -> (&'static str, String) {
    if bytes.first() == Some(&0x30) {
        if looks_like_pkcs12(bytes) {
            return (
                "pkcs12",
                "this is a PKCS#12 archive (.pfx/.p12), not a certificate; extract the \
                 certificate with `openssl pkcs12 -in FILE -clcerts -nokeys -out cert.pem`"
                    .to_owned(),
            );
        }
        if let Ok((rest, header)) = Header::from_der(bytes)
            && let Length::Definite(len) = header.length()
        {
            let header_len = bytes.len().saturating_sub(rest.len());
            let want = header_len.saturating_add(len);
            if want > bytes.len() {
                return (
                    "truncated_der",
                    format!(
                        "truncated DER: the certificate says {want} bytes, the file has {}",
                        bytes.len()
                    ),
                );
            }
        }
        if let iot_x509::Error::MalformedCertificate(_) = err {
            return (
                err.code(),
                "malformed DER certificate: it does not parse as X.509".to_owned(),
            );
        }
    }
    (err.code(), err.to_string())
}

/// A DER SEQUENCE whose first element is INTEGER 3 (PFX `version`, RFC 7292 §4) and whose
/// second is a SEQUENCE (`authSafe`): a certificate starts with a SEQUENCE (`tbsCertificate`).
fn looks_like_pkcs12(bytes: &[u8]) -> bool {
    let Ok((body, outer)) = Header::from_der(bytes) else {
        return false;
    };
    if outer.tag().0 != 16 {
        return false;
    }
    matches!(body, [0x02, 0x01, 0x03, 0x30, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_after_the_last_block_is_dropped_unless_it_starts_a_block() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\nnotes\n";
        assert_eq!(
            trim_after_last_block(pem),
            &pem[..pem.len() - "notes\n".len()]
        );
        let broken = b"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n-----BEGIN C";
        assert_eq!(trim_after_last_block(broken), &broken[..]);
    }

    proptest::proptest! {
        /// Any bytes, and any text around PEM markers, give certificates or a worded error.
        #[test]
        fn any_bytes_are_an_answer_not_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn pem_like_text_is_an_answer_not_a_panic(
            before in "[ -~\n]{0,40}",
            body in "[A-Za-z0-9+/=\n]{0,80}",
            after in "[ -~\n]{0,40}",
            der_prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..8),
        ) {
            let text = format!(
                "{before}-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n{after}"
            );
            let _ = parse(text.as_bytes());
            let mut der = vec![0x30];
            der.extend(der_prefix);
            let _ = parse(&der);
        }
    }

    #[test]
    fn pkcs12_shape_is_recognised() {
        assert!(looks_like_pkcs12(&[
            0x30, 0x06, 0x02, 0x01, 0x03, 0x30, 0x01, 0x00
        ]));
        assert!(!looks_like_pkcs12(&[0x30, 0x03, 0x30, 0x01, 0x00]));
    }
}
