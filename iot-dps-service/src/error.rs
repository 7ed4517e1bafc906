//! The crate's error type: configuration and API-use errors. Registration outcomes are not
//! errors; they are decision values that say why.

use crate::{AttestationType, EnrollmentRef};

/// What went wrong while loading or changing DPS data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier breaks the rules of reference §4.
    #[error("invalid {kind} id '{id}': {reason}")]
    InvalidId {
        /// What the identifier names (`registration`, `device`, `enrollment group`, ...).
        kind: &'static str,
        /// The identifier (clipped).
        id: String,
        /// The broken rule.
        reason: &'static str,
    },
    /// An individual enrollment's `deviceId` is not an IoT Hub device ID (§4; the rule is
    /// [`iot_hub_auth::validate_device_id`]).
    #[error("{enrollment}: {source}")]
    InvalidDeviceId {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// iot-hub-auth's refusal.
        #[source]
        source: iot_hub_auth::Error,
    },
    /// The ID scope is empty or not ASCII alphanumeric (§4).
    #[error("invalid id scope '{scope}'")]
    InvalidIdScope {
        /// The scope (clipped).
        scope: String,
    },
    /// A linked hub's host name is empty or too long.
    #[error("invalid linked hub host name '{host}'")]
    InvalidHubHost {
        /// The host name (clipped).
        host: String,
    },
    /// A symmetric key is not strict standard base64 of 16..=64 bytes (§8.1; the rule is
    /// iot-sas's
    /// [`SharedAccessKey::from_registered_base64`](iot_sas::SharedAccessKey::from_registered_base64)).
    #[error("{enrollment}: {slot} symmetric key is invalid: {source}")]
    InvalidKey {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// Primary or secondary key.
        slot: iot_sas::KeySlot,
        /// Why iot-sas refused it (never the key itself).
        #[source]
        source: iot_sas::Error,
    },
    /// A required attestation or policy field is missing (§8.1).
    #[error("{enrollment}: missing {field}")]
    MissingAttestation {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// The missing field.
        field: &'static str,
    },
    /// The attestation type is not allowed here (TPM groups, `none`) (§8.1).
    #[error("{enrollment}: attestation type {kind:?} is not supported here")]
    UnsupportedAttestation {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// The type.
        kind: AttestationType,
    },
    /// A `static` policy must name exactly one hub (§8.2).
    #[error("{enrollment}: static allocation needs exactly one hub, found {count}")]
    StaticPolicyHubCount {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// Hubs named.
        count: usize,
    },
    /// An enrollment names a hub that is not linked to the instance (§8.2).
    #[error("{enrollment}: hub '{hub}' is not linked to the DPS instance")]
    HubNotLinked {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// The hub.
        hub: String,
    },
    /// `custom` cannot be the instance's default policy (§8.2).
    #[error("custom allocation cannot be the instance default policy")]
    CustomDefaultPolicy,
    /// A linked hub's allocation weight is outside 1..=1000 (§8.2).
    #[error("linked hub '{hub}': allocation weight {weight} is outside 1..=1000")]
    AllocationWeight {
        /// The hub.
        hub: String,
        /// The weight.
        weight: u32,
    },
    /// Two items share an identifier that must be unique.
    #[error("duplicate {what} '{id}'")]
    Duplicate {
        /// What kind of item.
        what: &'static str,
        /// The identifier.
        id: String,
    },
    /// A certificate appears in more than one enrollment (§7.5).
    #[error("certificate {thumbprint} is in both {first} and {second}")]
    DuplicateCertificate {
        /// SHA-256 thumbprint of the certificate.
        thumbprint: iot_x509::Thumbprint,
        /// The enrollment that has it.
        first: EnrollmentRef,
        /// The enrollment that also wants it.
        second: EnrollmentRef,
    },
    /// A service limit (§5.5) would be exceeded.
    #[error("too many {what}: {count}, the limit is {max}")]
    TooMany {
        /// What is counted.
        what: &'static str,
        /// How many there would be.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An enrollment's certificate cannot be used.
    #[error("{enrollment}: bad certificate: {source}")]
    Certificate {
        /// The enrollment (or CA name as a group reference).
        enrollment: EnrollmentRef,
        /// Why.
        #[source]
        source: BadCertificate,
    },
    /// A registered CA's certificate cannot be parsed or added.
    #[error("registered CA '{name}': {source}")]
    CaCertificate {
        /// CA name.
        name: String,
        /// Why.
        #[source]
        source: BadCertificate,
    },
    /// A `caReferences` entry names no registered CA.
    #[error("{enrollment}: CA reference '{name}' is not registered")]
    UnknownCaReference {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// The name.
        name: String,
    },
    /// No such enrollment.
    #[error("{enrollment} not found")]
    NotFound {
        /// The enrollment asked for.
        enrollment: EnrollmentRef,
    },
}

/// Why a certificate in DPS data (an enrollment's, a registered CA's) cannot be used: the
/// cause of [`Error::Certificate`] and [`Error::CaCertificate`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadCertificate {
    /// Neither PEM nor base64 DER (the REST API's two spellings).
    #[error("not PEM or base64 DER: {0}")]
    NotBase64(#[source] iot_sas::Base64Error),
    /// PEM text without a certificate block.
    #[error("no certificate")]
    NoCertificate,
    /// The PEM text or the certificate does not parse.
    #[error("{0}")]
    Unparsable(#[source] iot_x509::Error),
    /// An X.509 individual enrollment's certificate names another registration ID (§7.5).
    #[error("certificate CN '{common_name}' is not the registration id")]
    CommonName {
        /// The certificate's CN (clipped).
        common_name: String,
    },
    /// The registered CA set refuses the certificate (empty name, duplicate, not a CA, §7.4).
    #[error("{0}")]
    Refused(#[source] iot_x509::Error),
}
