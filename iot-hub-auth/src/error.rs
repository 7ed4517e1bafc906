//! The crate's one error type: everything that can be wrong with configuration data (identities,
//! policies, hub settings) or with a transport's identity claim (MQTT user name, AMQP SASL user
//! name).
//!
//! Connect *decisions* never return this type: they return [`crate::Decision`] with a
//! [`crate::DenyReason`].

use std::string::String;

/// Which kind of identifier an [`Error::InvalidId`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// An IoT Hub device ID.
    Device,
    /// An IoT Hub module ID.
    Module,
    /// A shared access policy (key) name.
    Policy,
    /// A hub host name.
    HostName,
    /// A registered CA certificate's name.
    Certificate,
}

impl core::fmt::Display for IdKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Device => "device ID",
            Self::Module => "module ID",
            Self::Policy => "policy name",
            Self::HostName => "host name",
            Self::Certificate => "certificate name",
        })
    }
}

/// What is wrong with an identifier ([`Error::InvalidId`], azure-iot-protocol.md §4).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdProblem {
    /// The identifier is empty.
    #[error("empty")]
    Empty,
    /// The identifier is longer than its limit.
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit (128 for device and module IDs, 64 for policy names, 253 for host names).
        max: usize,
    },
    /// The identifier holds a character outside its allowed set (the first one found).
    #[error("character {ch:?} is not allowed")]
    BadChar {
        /// The character.
        ch: char,
    },
    /// A host name with a single DNS label (no `.`).
    #[error("needs at least two labels")]
    SingleLabel,
    /// A host name with an empty DNS label or one longer than 63 characters.
    #[error("has an empty or too long label")]
    BadLabel,
}

/// What is wrong with an identity's thumbprints ([`Error::InvalidThumbprint`],
/// azure-iot-protocol.md §7.1). Thumbprint text is parsed by
/// [`Thumbprint`](iot_x509::Thumbprint) when the identity is read, so a bad hex string is a
/// [`Error::Json`] there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThumbprintProblem {
    /// The primary and secondary thumbprints use different hashes (40 and 64 hex digits).
    #[error("primary and secondary thumbprints differ in length")]
    LengthsDiffer {
        /// The primary thumbprint's hash.
        primary: iot_x509::ThumbprintAlgorithm,
        /// The secondary thumbprint's hash.
        secondary: iot_x509::ThumbprintAlgorithm,
    },
}

/// What is missing or superfluous in an identity's `authentication` block for its `type`
/// ([`Error::AuthenticationMismatch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticationProblem {
    /// `sas` without `symmetricKey`.
    #[error("symmetricKey with primaryKey and secondaryKey is required")]
    SymmetricKeyMissing,
    /// `sas` with an `x509Thumbprint`.
    #[error("x509Thumbprint must be empty")]
    ThumbprintSuperfluous,
    /// `selfSigned` with a `symmetricKey`.
    #[error("symmetricKey must be empty")]
    SymmetricKeySuperfluous,
    /// `selfSigned` without a primary thumbprint.
    #[error("x509Thumbprint.primaryThumbprint is required")]
    PrimaryThumbprintMissing,
    /// `certificateAuthority` or `none` with a `symmetricKey` or an `x509Thumbprint`.
    #[error("symmetricKey and x509Thumbprint must be empty")]
    CredentialsSuperfluous,
}

/// Errors in identities, hub settings or transport identity claims.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier is empty, too long or holds a character outside its allowed set
    /// (azure-iot-protocol.md §4).
    #[error("invalid {kind} {id:?}: {reason}")]
    InvalidId {
        /// Which identifier.
        kind: IdKind,
        /// The offending text (IDs are not secret).
        id: String,
        /// What is wrong, e.g. [`IdProblem::TooLong`].
        #[source]
        reason: IdProblem,
    },
    /// A symmetric key is not canonical base64 or does not decode to 16..=64 bytes
    /// (azure-iot-protocol.md §1.2; the rule is iot-sas's
    /// [`SharedAccessKey::from_registered_base64`](iot_sas::SharedAccessKey::from_registered_base64)).
    #[error("{slot} key of {owner:?} is invalid: {source}")]
    InvalidKey {
        /// Device/module ID or policy name that owns the key.
        owner: String,
        /// Primary or secondary key.
        slot: iot_sas::KeySlot,
        /// Why iot-sas refused it (never the key itself).
        #[source]
        source: iot_sas::Error,
    },
    /// The identity's thumbprints do not fit together: the primary and secondary use
    /// different hashes (azure-iot-protocol.md §7.1). A thumbprint that is not 40 (SHA-1) or
    /// 64 (SHA-256) hex digits is refused when the identity is read ([`Error::Json`]).
    #[error("thumbprint of {owner:?} is invalid: {reason}")]
    InvalidThumbprint {
        /// Device/module ID that owns the thumbprint.
        owner: String,
        /// What is wrong.
        #[source]
        reason: ThumbprintProblem,
    },
    /// The identity's `authentication` block does not fit its `type` (for example `sas`
    /// without `symmetricKey`, or `selfSigned` without a primary thumbprint).
    #[error("authentication of {owner:?} does not fit type {auth_type:?}: {reason}")]
    AuthenticationMismatch {
        /// Device/module ID.
        owner: String,
        /// The declared `authentication.type`.
        auth_type: String,
        /// What is missing or superfluous.
        #[source]
        reason: AuthenticationProblem,
    },
    /// The `statusReason` is longer than 128 characters (azure-iot-protocol.md §7.1).
    #[error("statusReason of {owner:?} is longer than 128 characters")]
    StatusReasonTooLong {
        /// Device/module ID.
        owner: String,
    },
    /// A shared access policy's rights text holds an unknown right.
    #[error(
        "unknown access right {right:?} (expected RegistryRead, RegistryWrite, ServiceConnect or DeviceConnect)"
    )]
    UnknownRight {
        /// The unknown word.
        right: String,
    },
    /// The same identity or policy appears twice.
    #[error("duplicate {kind} {id:?}")]
    Duplicate {
        /// Which kind of identifier.
        kind: IdKind,
        /// The duplicated ID (`device/module` for modules).
        id: String,
    },
    /// A module identity names a device that is not in the registry.
    #[error("module {module_id:?} names device {device_id:?}, which is not in the registry")]
    ParentMissing {
        /// The device ID.
        device_id: String,
        /// The module ID.
        module_id: String,
    },
    /// A registered CA certificate could not be loaded: it does not parse, or it is not a CA
    /// certificate.
    #[error("certificate {name:?} could not be loaded: {source}")]
    InvalidCertificate {
        /// The certificate's name.
        name: String,
        /// Why iot-x509 refused it.
        #[source]
        source: iot_x509::Error,
    },
    /// A registered CA certificate's text holds more (or fewer) than one certificate.
    #[error("certificate {name:?} could not be loaded: expected one certificate, found {found}")]
    NotOneCertificate {
        /// The certificate's name.
        name: String,
        /// How many certificates the text holds.
        found: usize,
    },
    /// The MQTT CONNECT user name does not have the shape
    /// `{host}/{deviceId}[/{moduleId}]/?{query}` (azure-iot-protocol.md §6.1).
    #[error("malformed MQTT user name: {reason}")]
    MalformedUserName {
        /// What is wrong.
        reason: &'static str,
    },
    /// The AMQP SASL PLAIN user name is neither `{deviceId}@sas.{hub}` nor
    /// `{policy}@sas.root.{hub}` (azure-iot-protocol.md §1.6).
    #[error("malformed AMQP SASL user name: {reason}")]
    MalformedSaslUserName {
        /// What is wrong.
        reason: &'static str,
    },
    /// The in-memory registry cannot address more: its ID or key arena would pass 4 GiB
    /// (about 30 million identities).
    #[error("the in-memory registry is full: its {what} would pass 4 GiB")]
    RegistryFull {
        /// `device and module IDs`, `key bytes` or `identities`.
        what: &'static str,
    },
    /// A JSON document (identity, hub file) could not be read.
    #[error("invalid JSON: {message}")]
    Json {
        /// serde_json's message (with line and column).
        message: String,
    },
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::Json {
            message: err.to_string(),
        }
    }
}
