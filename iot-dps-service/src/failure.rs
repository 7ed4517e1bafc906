//! Why a registration failed, as typed values that keep their cause, and the service's
//! 6-digit extended error codes (reference ../shared/reference/azure-iot-protocol.md §5.4, §9).

use crate::EnrollmentRef;

/// Why DPS refused or could not complete a registration. Every variant maps to the
/// service's 6-digit extended error code ([`RegistrationFailure::error_code`], §5.4).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationFailure {
    /// The request is malformed: bad registration ID, unparsable body, user name or body
    /// naming another registration ID ([`MalformedRequest`] says which). The `Display` text is
    /// the 400 answer's message ([`wire_message`](Self::wire_message)), so it restates the
    /// cause.
    #[error("bad request: {0}")]
    BadRequest(#[source] MalformedRequest),
    /// No credential: neither a SAS token nor a client certificate.
    #[error("no credential: send a SAS token or a client certificate")]
    MissingCredential,
    /// Both a SAS token and a client certificate were sent (strict choice: ambiguous).
    #[error("both a SAS token and a client certificate were sent")]
    AmbiguousCredential,
    /// TPM attestation is not decided by this crate (and not supported over MQTT, §5.1).
    #[error("tpm attestation is not supported")]
    TpmNotSupported,
    /// The SAS token does not parse, is expired, or its signature does not match.
    #[error("sas token rejected: {0}")]
    Token(#[source] iot_sas::Error),
    /// `skn` is present and is not `registration` (§1.5 note on DPS `skn`).
    #[error("sas token key name '{key_name}' is not 'registration'")]
    KeyName {
        /// The `skn` received.
        key_name: String,
    },
    /// The token's decoded `sr` is not `{idScope}/registrations/{registrationId}` (§9).
    #[error("sas token resource does not match '{expected}'")]
    ResourceMismatch {
        /// The resource required.
        expected: String,
    },
    /// No enrollment accepts this credential: no individual enrollment for the registration
    /// ID and no symmetric-key group whose derived key signed the token, or no X.509
    /// enrollment for any certificate of the chain (§7.5, §9).
    #[error("no enrollment matches registration '{registration_id}'")]
    NoEnrollment {
        /// The registration ID.
        registration_id: String,
    },
    /// An individual enrollment exists for the registration ID but its keys did not sign
    /// the token. Groups are not tried: the individual enrollment takes precedence (§7.6).
    #[error("{enrollment}: the token is not signed with its primary or secondary key")]
    KeyMismatch {
        /// The enrollment.
        enrollment: EnrollmentRef,
    },
    /// An individual enrollment exists for the registration ID (the leaf CN) but holds
    /// neither this leaf nor a reference to the CA that anchored the chain. Groups are not
    /// tried: the individual enrollment takes precedence (§7.6).
    #[error(
        "{enrollment}: the certificate is neither its device certificate nor issued by its referenced ca"
    )]
    CertificateMismatch {
        /// The enrollment.
        enrollment: EnrollmentRef,
    },
    /// The enrollment uses another attestation mechanism than the device.
    #[error("{enrollment} does not use {presented} attestation")]
    WrongAttestation {
        /// The enrollment.
        enrollment: EnrollmentRef,
        /// What the device presented (`symmetricKey` or `x509`).
        presented: &'static str,
    },
    /// The client certificate chain does not reach a verified CA (§7.5).
    #[error("certificate chain rejected: {0}")]
    Chain(#[source] iot_x509::ChainError),
    /// The leaf certificate is unusable: unparsable, no CN, CN not a valid registration ID,
    /// or outside its validity period.
    #[error("device certificate rejected: {0}")]
    Certificate(#[source] UnusableCertificate),
    /// The registration ID (MQTT client ID, HTTPS path) is not the leaf CN (§5.1, §7.5).
    #[error("registration id '{registration_id}' is not the certificate CN '{common_name}'")]
    RegistrationIdNotCommonName {
        /// Presented registration ID.
        registration_id: String,
        /// Leaf CN.
        common_name: String,
    },
    /// CA-signed X.509 over WebSockets while the instance keeps the historical restriction
    /// (`x509_ca_over_websockets = false`, §6.4).
    #[error("x.509 ca attestation over websockets is disabled on this instance")]
    X509CaOverWebSockets,
    /// No hub to allocate: no candidate hub for the enrollment (§5.4 code 400208).
    #[error("{enrollment}: no iot hub is configured for allocation")]
    NoHub {
        /// The enrollment.
        enrollment: EnrollmentRef,
    },
    /// The custom allocation webhook failed or answered a hub outside `linkedHubs` (§8.2,
    /// code 400207).
    #[error("custom allocation failed: {reason}")]
    CustomAllocation {
        /// What went wrong, e.g. [`CustomAllocationFailure::Status`].
        #[source]
        reason: CustomAllocationFailure,
    },
}

/// Why a custom allocation failed, the cause of [`RegistrationFailure::CustomAllocation`]
/// (§8.2, code 400207).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomAllocationFailure {
    /// The webhook call failed with this HTTP status.
    #[error("status code: {0}")]
    Status(u16),
    /// The webhook chose a hub that is not one of the request's `linkedHubs`.
    #[error("hub '{hub}' is not one of the linked hubs")]
    HubNotLinked {
        /// The hub host name the webhook answered (clipped like an identifier, as it comes
        /// from outside).
        hub: String,
    },
}

/// What is malformed in a registration request, the cause of
/// [`RegistrationFailure::BadRequest`] (§5.1, §5.3, §5.6). Each `Display` text restates only
/// the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedRequest {
    /// The registration ID breaks the rules of §4
    /// ([`validate_registration_id`](crate::validate_registration_id)).
    #[error("{0}")]
    RegistrationId(#[source] crate::Error),
    /// The MQTT user name is not `{idScope}/registrations/{registrationId}/api-version=...`.
    #[error("user name: {0}")]
    UserName(#[source] iot_dps_proto::Error),
    /// The MQTT user name names another instance's ID scope.
    #[error("user name id scope '{id_scope}' is not this instance's")]
    UserNameIdScope {
        /// The ID scope of the user name (clipped).
        id_scope: String,
    },
    /// The MQTT user name names another registration ID than the client ID.
    #[error("user name registration id '{registration_id}' is not the client id")]
    UserNameRegistrationId {
        /// The registration ID of the user name (clipped).
        registration_id: String,
    },
    /// The body is not a `DeviceRegistration` (§5.3).
    #[error("body: {0}")]
    Body(#[source] iot_dps_proto::Error),
    /// The body's `registrationId` is not the request's.
    #[error("body registration id '{registration_id}' is not the request's")]
    BodyRegistrationId {
        /// The body's registration ID (clipped).
        registration_id: String,
    },
}

/// Why a device's leaf certificate is unusable, the cause of
/// [`RegistrationFailure::Certificate`] (§7.5).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnusableCertificate {
    /// The leaf does not parse as an X.509 certificate.
    #[error("{0}")]
    Unparsable(#[source] iot_x509::Error),
    /// The leaf's subject has no common name (the registration ID, §7.5).
    #[error("no subject common name")]
    NoCommonName,
    /// The common name is longer than an X.509 registration ID may be (64 characters, §4).
    #[error("common name longer than 64 characters")]
    CommonNameTooLong,
    /// The common name is not a valid registration ID (§4).
    #[error("{0}")]
    CommonName(#[source] crate::Error),
    /// `now` is outside the leaf's validity period.
    #[error("outside its validity period ({not_before}..{not_after}) at {now}")]
    OutsideValidity {
        /// `notBefore`, Unix seconds.
        not_before: i64,
        /// `notAfter`, Unix seconds.
        not_after: i64,
        /// The decision's time, Unix seconds.
        now: u64,
    },
}

impl RegistrationFailure {
    /// The 6-digit extended code (§5.4): 400xxx bad request, 401002 unauthorized /
    /// invalid certificate, 400207 custom allocation failed, 400208 no hub.
    pub fn error_code(&self) -> u32 {
        match self {
            Self::BadRequest { .. } | Self::TpmNotSupported => 400_004,
            Self::NoHub { .. } => 400_208,
            Self::CustomAllocation { .. } => 400_207,
            _ => 401_002,
        }
    }

    /// The HTTP / MQTT status: the extended code divided by 1000 (§5.4).
    pub fn status_code(&self) -> u16 {
        u16::try_from(self.error_code() / 1000).unwrap_or(500)
    }

    /// The message that may go back to the device in the error body of a refusal before
    /// attestation (§5.4). Request-shape problems (status 400) keep their detail, which only
    /// restates the request. Every refusal of the credential (status 401) reads the same,
    /// `unauthorized`, so a caller that has not attested cannot tell whether an enrollment
    /// exists, which attestation it uses, which CA anchors it, or why its credential failed;
    /// operators read the failure itself (`Display`). After attestation the device has proved
    /// its identity and the record's `errorMessage` is the full `Display`.
    pub fn wire_message(&self) -> String {
        if self.status_code() == 401 {
            "unauthorized".to_owned()
        } else {
            self.to_string()
        }
    }

    /// Whether the device was authenticated before the failure: the failure is then
    /// reported as a `failed` registration (recorded), otherwise as an error body with no
    /// operation and no record change.
    pub fn after_attestation(&self) -> bool {
        matches!(self, Self::NoHub { .. } | Self::CustomAllocation { .. })
    }
}
