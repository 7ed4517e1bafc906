//! Individual enrollments and enrollment groups in the DPS service REST API's JSON shapes
//! (reference ../shared/reference/azure-iot-protocol.md §8.1).
//!
//! Unknown fields (`registrationState`, `iotHubHostName`, `createdDateTimeUtc`,
//! `lastUpdatedDateTimeUtc`, ...) are accepted and ignored, so JSON pasted from
//! `az iot dps enrollment show` loads as is.

use core::fmt;
pub use iot_dps_proto::TpmAttestation;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

/// An individual enrollment: one device, named by its registration ID (§8.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndividualEnrollment {
    /// Registration ID, case-insensitive (§4); for X.509 the leaf certificate's CN (§7.5).
    pub registration_id: String,
    /// Device ID to create in the hub; the registration ID when absent (§4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// How the device proves who it is.
    pub attestation: Attestation,
    /// Common enrollment settings (status, allocation, reprovisioning, twin, ...).
    #[serde(flatten)]
    pub settings: EnrollmentSettings,
}

/// An enrollment group: many devices sharing one symmetric group key or one signing CA
/// (§8.1, §7.5). Device ID = registration ID for every member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentGroup {
    /// Enrollment group ID (registration-ID rules, §4).
    pub enrollment_group_id: String,
    /// `symmetricKey` (group key) or `x509` (signing certificates or CA references).
    pub attestation: Attestation,
    /// Common enrollment settings (status, allocation, reprovisioning, twin, ...).
    #[serde(flatten)]
    pub settings: EnrollmentSettings,
}

/// The fields individual enrollments and groups share (§8.1, §8.2, §8.3).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentSettings {
    /// `enabled` (default) or `disabled`.
    #[serde(default)]
    pub provisioning_status: ProvisioningStatus,
    /// The allocation policy; the instance default when absent (§8.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_policy: Option<AllocationPolicy>,
    /// Candidate hub host names; every linked hub that applies the allocation policy when
    /// empty (§8.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iot_hubs: Vec<String>,
    /// What a later registration may do (§8.3); both flags default to true.
    #[serde(default)]
    pub reprovision_policy: ReprovisionPolicy,
    /// Twin applied on initial assignment and on reset-style reprovisioning (§8.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<InitialTwin>,
    /// Device capabilities for the hub identity (§8.1).
    #[serde(default)]
    pub capabilities: DeviceCapabilities,
    /// The custom allocation webhook (§8.2); required with the `custom` policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_allocation_definition: Option<CustomAllocationDefinition>,
    /// Opaque ETag as the service returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// `provisioningStatus` (§8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProvisioningStatus {
    /// Devices may register.
    #[default]
    Enabled,
    /// Registrations end with status `disabled`; does NOT revoke hub access (§7.6).
    Disabled,
}

/// `allocationPolicy` (§8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AllocationPolicy {
    /// Evenly weighted distribution (weighted rendezvous hashing, see `allocate_hashed`).
    #[default]
    #[serde(alias = "Hashed")]
    Hashed,
    /// Lowest latency (latencies supplied by the caller), ties hashed.
    #[serde(alias = "geolatency", alias = "GeoLatency")]
    GeoLatency,
    /// Static configuration: the enrollment names exactly one hub.
    #[serde(alias = "Static")]
    Static,
    /// Custom webhook; cannot be the instance default.
    #[serde(alias = "Custom")]
    Custom,
}

impl AllocationPolicy {
    /// The REST spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hashed => "hashed",
            Self::GeoLatency => "geoLatency",
            Self::Static => "static",
            Self::Custom => "custom",
        }
    }
}

/// `reprovisionPolicy` (§8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReprovisionPolicy {
    /// Move the device when a later registration allocates another hub (default true).
    #[serde(default = "yes")]
    pub update_hub_assignment: bool,
    /// Copy twin and device data from the old hub (default true); reset to `initialTwin`
    /// when false.
    #[serde(default = "yes")]
    pub migrate_device_data: bool,
}

fn yes() -> bool {
    true
}

impl Default for ReprovisionPolicy {
    fn default() -> Self {
        Self {
            update_hub_assignment: true,
            migrate_device_data: true,
        }
    }
}

/// `initialTwin`: `{ "tags": {...}, "properties": { "desired": {...} } }` (§8.1).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitialTwin {
    /// Twin tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    /// Twin properties (only `desired` is meaningful).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<TwinProperties>,
}

/// `initialTwin.properties`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinProperties {
    /// Desired properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Value>,
}

/// `capabilities` (§8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCapabilities {
    /// The hub device is an IoT Edge device.
    #[serde(default)]
    pub iot_edge: bool,
}

/// `customAllocationDefinition` (§8.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAllocationDefinition {
    /// The webhook the caller POSTs the [`crate::AllocationRequest`] to.
    pub webhook_url: String,
    /// Webhook API version, e.g. `2019-03-31` or `2021-10-01`.
    pub api_version: String,
}

/// `attestation` (§8.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The mechanism.
    #[serde(rename = "type")]
    pub kind: AttestationType,
    /// Symmetric keys (`type = symmetricKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<SymmetricKeyAttestation>,
    /// Certificates or CA references (`type = x509`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509: Option<X509Attestation>,
    /// TPM keys (`type = tpm`, individual enrollments only; modelled, not attested here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<TpmAttestation>,
}

impl Attestation {
    /// A symmetric-key attestation with base64 primary and secondary keys.
    pub fn symmetric_key(primary: &str, secondary: &str) -> Self {
        Self {
            kind: AttestationType::SymmetricKey,
            symmetric_key: Some(SymmetricKeyAttestation {
                primary_key: KeyText::new(primary),
                secondary_key: KeyText::new(secondary),
            }),
            x509: None,
            tpm: None,
        }
    }

    /// An X.509 attestation.
    pub fn x509(x509: X509Attestation) -> Self {
        Self {
            kind: AttestationType::X509,
            symmetric_key: None,
            x509: Some(x509),
            tpm: None,
        }
    }
}

/// `attestation.type` (§8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttestationType {
    /// Symmetric key (individual key, or derived key for groups, §3).
    SymmetricKey,
    /// X.509 certificate (§7.5).
    X509,
    /// Trusted Platform Module.
    Tpm,
    /// `none` (exists in SDK enums).
    None,
}

/// `attestation.symmetricKey` (§8.1): base64 keys of 16..=64 decoded bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKeyAttestation {
    /// Primary key (base64).
    pub primary_key: KeyText,
    /// Secondary key (base64).
    pub secondary_key: KeyText,
}

/// A base64 key as it appears in enrollment JSON: zeroized on drop, redacted in `Debug`,
/// no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyText(Zeroizing<String>);

impl Serialize for KeyText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| Self(Zeroizing::new(s)))
    }
}

impl KeyText {
    /// Wraps base64 key text.
    pub fn new(text: &str) -> Self {
        Self(Zeroizing::new(text.to_owned()))
    }

    /// The base64 text (secret).
    pub fn secret_text(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyText(<redacted>)")
    }
}

/// `attestation.x509` (§8.1, §7.5).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Attestation {
    /// Device (leaf) certificates of an individual enrollment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificates: Option<X509Certificates>,
    /// Root or intermediate CA certificates of a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificates: Option<X509Certificates>,
    /// Names of CAs registered with the DPS instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_references: Option<X509CaReferences>,
}

/// `primary`/`secondary` certificate pair.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificates {
    /// Primary certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<X509CertificateWithInfo>,
    /// Secondary certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<X509CertificateWithInfo>,
}

/// `{ certificate, info }`: the certificate as PEM or base64 DER; `info` (the service's
/// computed X509CertificateInfo) is kept as given and never trusted.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateWithInfo {
    /// PEM or base64 DER (the REST API returns it on create; `show` may omit it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// X509CertificateInfo as returned by the service (ignored by decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
}

impl X509CertificateWithInfo {
    /// A certificate given as PEM or base64 DER text.
    pub fn new(certificate: &str) -> Self {
        Self {
            certificate: Some(certificate.to_owned()),
            info: None,
        }
    }
}

/// `caReferences` (§8.1).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CaReferences {
    /// Primary CA name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Secondary CA name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
}

/// Names an enrollment in decisions, records and errors.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "id")]
pub enum EnrollmentRef {
    /// An individual enrollment, by registration ID.
    Individual(String),
    /// An enrollment group, by group ID.
    Group(String),
}

impl fmt::Display for EnrollmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Individual(id) => write!(f, "individual enrollment '{id}'"),
            Self::Group(id) => write!(f, "enrollment group '{id}'"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn individual_enrollment_parses_rest_shape() {
        let json = r#"{
            "registrationId": "dev-01",
            "deviceId": "device-01",
            "registrationState": {"status": "assigned"},
            "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": "AAAAAAAAAAAAAAAAAAAAAA==", "secondaryKey": "AQEBAQEBAQEBAQEBAQEBAQ=="}},
            "iotHubHostName": "legacy.azure-devices.net",
            "initialTwin": {"tags": {"env": "test"}, "properties": {"desired": {"a": 1}}},
            "provisioningStatus": "disabled",
            "createdDateTimeUtc": "2020-04-10T03:11:13.0276997Z",
            "lastUpdatedDateTimeUtc": "2020-04-10T03:11:13.0276997Z",
            "etag": "IjYxMDA4ZDQ2In0=",
            "capabilities": {"iotEdge": true},
            "reprovisionPolicy": {"updateHubAssignment": true, "migrateDeviceData": false},
            "allocationPolicy": "geolatency",
            "iotHubs": ["a.azure-devices.net"]
        }"#;
        let e: IndividualEnrollment = serde_json::from_str(json).unwrap();
        assert_eq!(e.registration_id, "dev-01");
        assert_eq!(e.device_id.as_deref(), Some("device-01"));
        assert_eq!(e.attestation.kind, AttestationType::SymmetricKey);
        assert_eq!(e.settings.provisioning_status, ProvisioningStatus::Disabled);
        assert_eq!(
            e.settings.allocation_policy,
            Some(AllocationPolicy::GeoLatency)
        );
        assert!(e.settings.capabilities.iot_edge);
        assert!(e.settings.reprovision_policy.update_hub_assignment);
        assert!(!e.settings.reprovision_policy.migrate_device_data);
        let twin = e.settings.initial_twin.as_ref().unwrap();
        assert_eq!(twin.tags.as_ref().unwrap()["env"], "test");
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["allocationPolicy"], "geoLatency");
        assert_eq!(back["attestation"]["type"], "symmetricKey");
        assert_eq!(
            back["attestation"]["symmetricKey"]["primaryKey"],
            "AAAAAAAAAAAAAAAAAAAAAA=="
        );
    }

    #[test]
    fn defaults_match_the_service() {
        let json = r#"{"enrollmentGroupId": "g1",
            "attestation": {"type": "x509", "x509": {"caReferences": {"primary": "root"}}}}"#;
        let g: EnrollmentGroup = serde_json::from_str(json).unwrap();
        assert_eq!(g.settings.provisioning_status, ProvisioningStatus::Enabled);
        assert_eq!(g.settings.reprovision_policy, ReprovisionPolicy::default());
        assert!(g.settings.reprovision_policy.update_hub_assignment);
        assert!(g.settings.reprovision_policy.migrate_device_data);
        assert_eq!(g.settings.allocation_policy, None);
        let refs = g.attestation.x509.unwrap().ca_references.unwrap();
        assert_eq!(refs.primary.as_deref(), Some("root"));
        let partial: ReprovisionPolicy =
            serde_json::from_str(r#"{"migrateDeviceData": false}"#).unwrap();
        assert!(partial.update_hub_assignment && !partial.migrate_device_data);
    }

    #[test]
    fn key_text_debug_is_redacted() {
        let a = Attestation::symmetric_key("c2VjcmV0c2VjcmV0c2VjcmV0", "b3RoZXJvdGhlcm90aGVy");
        let text = format!("{a:?}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("<redacted>"));
    }
}
