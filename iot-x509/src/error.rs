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
    InvalidPem(String),
    /// Bytes follow the certificate (DER) or the last PEM block.
    #[error("trailing data after the certificate at byte {offset}")]
    TrailingData {
        /// Offset of the first unexpected byte (in the DER of the block for PEM input).
        offset: usize,
    },
    /// The bytes are neither PEM nor a DER certificate, or the certificate does not parse.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
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
    /// Test PKI generation failed (feature `generate`).
    #[error("certificate generation failed: {0}")]
    Generate(String),
}
