//! The crate's error type.

/// Everything that can go wrong in this crate, except chain verification, which has its own
/// reason enum ([`ChainError`](crate::ChainError)) because it is a decision, not a failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was empty (or only whitespace).
    #[error("empty input: expected a certificate (PEM or DER)")]
    EmptyInput,
    /// A PEM block that is not a certificate, for example a private key or a CSR.
    #[error("found {found} (PEM label `{label}`), expected a certificate")]
    NotACertificate {
        /// What the block holds, in words ("a private key", "a certificate signing request").
        found: &'static str,
        /// The PEM label as written after `-----BEGIN `.
        label: String,
    },
    /// The PEM text is broken: missing end line, bad base64, mismatched labels.
    #[error("invalid PEM: {0}")]
    InvalidPem(#[source] PemProblem),
    /// Bytes follow the certificate (DER) or the last PEM block.
    #[error("trailing data after the certificate at byte {offset}")]
    TrailingData {
        /// Offset of the first unexpected byte (in the DER of the block for PEM input).
        offset: usize,
    },
    /// The bytes are neither PEM nor a DER certificate, or the certificate does not parse.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(#[source] CertificateProblem),
    /// A thumbprint does not have 40 (SHA-1) or 64 (SHA-256) hex digits.
    #[error("thumbprint has {digits} hex digits, expected 40 (SHA-1) or 64 (SHA-256)")]
    ThumbprintLength {
        /// Number of hex digits found after removing `:` and whitespace.
        digits: usize,
    },
    /// A thumbprint contains a character that is not a hex digit, `:` or whitespace.
    #[error("thumbprint has invalid character {found:?} at position {position}")]
    ThumbprintCharacter {
        /// The offending character.
        found: char,
        /// Its character position in the input.
        position: usize,
    },
    /// A registered CA needs a non-empty name.
    #[error("a registered CA needs a non-empty name")]
    EmptyCaName,
    /// A CA with this name is already registered.
    #[error("a CA named `{name}` is already registered")]
    DuplicateCa {
        /// The name.
        name: String,
    },
    /// A certificate registered as a CA is not a CA (no `basicConstraints` with `cA` true).
    #[error("certificate `{name}` is not a CA certificate (basicConstraints cA is not true)")]
    NotACa {
        /// The name it was registered under.
        name: String,
    },
    /// The leaf certificate has no subject common name.
    #[error("certificate subject has no common name")]
    NoCommonName,
    /// The subject carries several common names; identity binding refuses to pick one.
    #[error("certificate subject has {count} common names, identity is ambiguous")]
    AmbiguousCommonName {
        /// How many CN attributes the subject holds.
        count: usize,
    },
    /// The leaf CN is not the device ID (or `deviceId/moduleId`).
    #[error("certificate common name `{common_name}` does not match `{expected}`")]
    IdentityMismatch {
        /// The CN found in the certificate.
        common_name: String,
        /// The expected `deviceId` or `deviceId/moduleId`.
        expected: String,
    },
    /// Proof of possession: the verification certificate's CN is not the verification code.
    #[error(
        "verification certificate common name `{}` is not the verification code `{code}`",
        common_name.as_deref().unwrap_or("<none or several>")
    )]
    PopCodeMismatch {
        /// The CN found (`None` when there is none, or several).
        common_name: Option<String>,
        /// The verification code that was expected.
        code: String,
    },
    /// Proof of possession: the verification certificate's issuer is not the CA's subject.
    #[error("verification certificate issuer `{issuer}` is not the CA subject `{ca_subject}`")]
    PopIssuerMismatch {
        /// Issuer of the verification certificate.
        issuer: String,
        /// Subject of the CA being verified.
        ca_subject: String,
    },
    /// Proof of possession: the verification certificate is not signed by the CA's key.
    #[error("verification certificate is not signed by the CA's key")]
    PopBadSignature,
    /// Proof of possession: signature algorithm outside the supported set (no SHA-1).
    #[error("verification certificate uses an unsupported signature algorithm {oid}")]
    PopUnsupportedAlgorithm {
        /// Dotted OID of the signature algorithm (or of the key algorithm).
        oid: String,
    },
    /// Proof of possession: the verification certificate has expired.
    #[error("verification certificate expired at {not_after}, now is {now}")]
    PopExpired {
        /// Its `notAfter` (Unix seconds).
        not_after: i64,
        /// The time of the check.
        now: u64,
    },
    /// Proof of possession: the verification certificate is not valid yet.
    #[error("verification certificate is not valid before {not_before}, now is {now}")]
    PopNotYetValid {
        /// Its `notBefore` (Unix seconds).
        not_before: i64,
        /// The time of the check.
        now: u64,
    },
    /// Test PKI generation failed: rcgen's error (feature `generate`).
    #[cfg(feature = "generate")]
    #[error("certificate generation failed: {0}")]
    Generate(#[source] rcgen::Error),
}

/// What is wrong with PEM text ([`Error::InvalidPem`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemProblem {
    /// A `-----BEGIN ` line that does not end in `-----`.
    #[error("malformed begin line `{line}`")]
    MalformedBeginLine {
        /// The line, trimmed.
        line: String,
    },
    /// An `-----END ` line whose label is not the open block's.
    #[error("`{line}` does not close `-----BEGIN {label}-----`")]
    MismatchedEnd {
        /// The end line, trimmed.
        line: String,
        /// The label of the open block.
        label: String,
    },
    /// The body of a block is not standard padded base64.
    #[error("bad base64 in `{label}` block: {source}")]
    Base64 {
        /// The label of the block.
        label: String,
        /// The base64 decoder's error (offset and byte).
        #[source]
        source: base64::DecodeError,
    },
    /// More certificates than [`MAX_CERTIFICATES`](crate::MAX_CERTIFICATES) in one input.
    #[error("more than {max} certificates")]
    TooManyCertificates {
        /// The limit.
        max: usize,
    },
    /// A block carries RFC 1421 headers (`Proc-Type:`, `DEK-Info:`): encrypted or legacy PEM.
    #[error("PEM headers (`{line}`) are not supported: encrypted or legacy PEM")]
    Headers {
        /// The header line, trimmed.
        line: String,
    },
    /// The input ends inside a block.
    #[error("missing `-----END {label}-----`")]
    MissingEnd {
        /// The label of the open block.
        label: String,
    },
}

/// Why bytes are not a certificate ([`Error::MalformedCertificate`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// The input is not UTF-8 text and does not start like DER.
    #[error("input is neither PEM text nor a DER certificate")]
    NeitherPemNorDer,
    /// The input is text without any `-----BEGIN` line.
    #[error("input is neither PEM text nor a DER certificate (no `-----BEGIN` line)")]
    NoPemBlock,
    /// The first byte is not 0x30: a certificate is a constructed DER SEQUENCE
    /// (RFC 5280 §4.1, X.690 §8.9.1).
    #[error("a certificate is a DER SEQUENCE: its first byte must be 0x30")]
    NotASequence,
    /// x509-parser refused the DER (the structure, or an extension when it is read).
    #[error("{0}")]
    Parse(#[source] ParseError),
    /// The version field is outside v1..=v3 (RFC 5280 §4.1.2.1).
    #[error("unsupported X.509 version value {version}")]
    UnsupportedVersion {
        /// The encoded value (0 for v1, 2 for v3).
        version: u32,
    },
    /// rustls-webpki refused the certificate (as a trust anchor, or while verifying a chain,
    /// for a reason that has no [`ChainError`](crate::ChainError) of its own).
    #[error("{0}")]
    Webpki(#[source] webpki::Error),
}

/// An x509-parser error, kept whole as the cause of [`CertificateProblem::Parse`]. Its
/// `Display` is x509-parser's text; [`source`](std::error::Error::source) gives x509-parser's
/// error itself. It is opaque so that the x509-parser version is not part of this crate's API.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError(ParseErrorInner);

#[derive(Clone, Debug, PartialEq)]
enum ParseErrorInner {
    /// From a whole-certificate parse (nom's wrapper says whether more input was needed).
    Der(x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// From reading one extension of a parsed certificate.
    Extension(x509_parser::error::X509Error),
}

// x509-parser's errors hold no floating-point values, so their `PartialEq` is an equivalence
// (x509-parser only leaves `Eq` underived); `Error` derives `Eq` and needs it here.
impl Eq for ParseError {}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            ParseErrorInner::Der(err) => err.fmt(f),
            ParseErrorInner::Extension(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            ParseErrorInner::Der(err) => Some(err),
            ParseErrorInner::Extension(err) => Some(err),
        }
    }
}

impl From<x509_parser::nom::Err<x509_parser::error::X509Error>> for CertificateProblem {
    fn from(err: x509_parser::nom::Err<x509_parser::error::X509Error>) -> Self {
        Self::Parse(ParseError(ParseErrorInner::Der(err)))
    }
}

impl From<x509_parser::error::X509Error> for CertificateProblem {
    fn from(err: x509_parser::error::X509Error) -> Self {
        Self::Parse(ParseError(ParseErrorInner::Extension(err)))
    }
}

impl From<CertificateProblem> for Error {
    fn from(problem: CertificateProblem) -> Self {
        Self::MalformedCertificate(problem)
    }
}

impl From<PemProblem> for Error {
    fn from(problem: PemProblem) -> Self {
        Self::InvalidPem(problem)
    }
}

impl Error {
    /// A stable snake_case code for the error, for logs, JSON output and programs that branch
    /// on the cause (`not_a_certificate`, `identity_mismatch`, `pop_bad_signature`, ...). The
    /// code of a variant never changes; the `Display` text may be reworded. Chain verdicts have
    /// their own codes ([`ChainError::code`](crate::ChainError::code)).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyInput => "empty_input",
            Self::NotACertificate { .. } => "not_a_certificate",
            Self::InvalidPem(_) => "invalid_pem",
            Self::TrailingData { .. } => "trailing_data",
            Self::MalformedCertificate(_) => "malformed_certificate",
            Self::ThumbprintLength { .. } => "thumbprint_length",
            Self::ThumbprintCharacter { .. } => "thumbprint_character",
            Self::EmptyCaName => "empty_ca_name",
            Self::DuplicateCa { .. } => "duplicate_ca",
            Self::NotACa { .. } => "not_a_ca",
            Self::NoCommonName => "no_common_name",
            Self::AmbiguousCommonName { .. } => "ambiguous_common_name",
            Self::IdentityMismatch { .. } => "identity_mismatch",
            Self::PopCodeMismatch { .. } => "pop_code_mismatch",
            Self::PopIssuerMismatch { .. } => "pop_issuer_mismatch",
            Self::PopBadSignature => "pop_bad_signature",
            Self::PopUnsupportedAlgorithm { .. } => "pop_unsupported_algorithm",
            Self::PopExpired { .. } => "pop_expired",
            Self::PopNotYetValid { .. } => "pop_not_yet_valid",
            #[cfg(feature = "generate")]
            Self::Generate(_) => "generate_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CertificateProblem, Error, PemProblem};

    #[test]
    fn codes_are_stable_snake_case_and_distinct() {
        let samples = [
            (Error::EmptyInput, "empty_input"),
            (
                Error::NotACertificate {
                    found: "a private key",
                    label: "PRIVATE KEY".into(),
                },
                "not_a_certificate",
            ),
            (
                Error::InvalidPem(PemProblem::MissingEnd {
                    label: "CERTIFICATE".into(),
                }),
                "invalid_pem",
            ),
            (Error::TrailingData { offset: 1 }, "trailing_data"),
            (
                Error::MalformedCertificate(CertificateProblem::NotASequence),
                "malformed_certificate",
            ),
            (Error::ThumbprintLength { digits: 3 }, "thumbprint_length"),
            (
                Error::ThumbprintCharacter {
                    found: 'x',
                    position: 0,
                },
                "thumbprint_character",
            ),
            (Error::EmptyCaName, "empty_ca_name"),
            (Error::DuplicateCa { name: "a".into() }, "duplicate_ca"),
            (Error::NotACa { name: "a".into() }, "not_a_ca"),
            (Error::NoCommonName, "no_common_name"),
            (
                Error::AmbiguousCommonName { count: 2 },
                "ambiguous_common_name",
            ),
            (
                Error::IdentityMismatch {
                    common_name: "a".into(),
                    expected: "b".into(),
                },
                "identity_mismatch",
            ),
            (
                Error::PopCodeMismatch {
                    common_name: None,
                    code: "c".into(),
                },
                "pop_code_mismatch",
            ),
            (
                Error::PopIssuerMismatch {
                    issuer: "a".into(),
                    ca_subject: "b".into(),
                },
                "pop_issuer_mismatch",
            ),
            (Error::PopBadSignature, "pop_bad_signature"),
            (
                Error::PopUnsupportedAlgorithm { oid: "1.2".into() },
                "pop_unsupported_algorithm",
            ),
            (
                Error::PopExpired {
                    not_after: 1,
                    now: 2,
                },
                "pop_expired",
            ),
            (
                Error::PopNotYetValid {
                    not_before: 2,
                    now: 1,
                },
                "pop_not_yet_valid",
            ),
            #[cfg(feature = "generate")]
            (
                Error::Generate(rcgen::Error::CouldNotParseKeyPair),
                "generate_failed",
            ),
        ];
        for (i, (err, code)) in samples.iter().enumerate() {
            assert_eq!(err.code(), *code, "{err:?}");
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            for (other, other_code) in samples.get(i + 1..).unwrap_or_default() {
                assert_ne!(code, other_code, "{err:?} and {other:?} share a code");
            }
        }
    }
}
