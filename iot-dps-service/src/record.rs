//! Registration records: one per registration ID, plain data the caller persists
//! (reference ../shared/reference/azure-iot-protocol.md §8.1, §8.3).

use iot_sas::KeySlot;
use iot_x509::Thumbprint;
use serde::{Deserialize, Serialize};

use crate::EnrollmentRef;

/// The registration state DPS keeps for one registration ID (§8.3 "Registration record
/// across reprovisioning"). The caller stores it and hands it back on the next registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRecord {
    /// Registration ID exactly as the device last presented it.
    pub registration_id: String,
    /// The hub the device is assigned to (empty unless `status` is assigned).
    pub assigned_hub: String,
    /// The device ID in that hub.
    pub device_id: String,
    /// Outcome of the last registration.
    pub status: RecordStatus,
    /// Substatus of the last successful assignment (§8.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substatus: Option<RecordSubstatus>,
    /// Extended error code of the last failure, e.g. 400207.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// When the record was created (Unix seconds); kept across re-registrations.
    pub created: u64,
    /// When the record last changed (Unix seconds).
    pub last_updated: u64,
    /// Incremented on every change; the etag is derived from it.
    pub generation: u64,
    /// The enrollment the device attested through.
    pub enrollment: EnrollmentRef,
    /// Which credential attested.
    pub credential: RecordCredential,
}

impl RegistrationRecord {
    /// The etag the service reports: base64 of a quoted string naming the generation, in
    /// the shape of §5.4 (`IjYx...` = base64 of `"61..."`).
    pub fn etag(&self) -> String {
        use base64::Engine as _;
        let quoted = format!(
            "\"{:016x}-{}\"",
            self.generation,
            self.registration_id.to_ascii_lowercase()
        );
        base64::engine::general_purpose::STANDARD.encode(quoted)
    }

    /// Whether the device is currently assigned to a hub.
    pub fn is_assigned(&self) -> bool {
        self.status == RecordStatus::Assigned && !self.assigned_hub.is_empty()
    }
}

/// Registration state of a record (§8.1: `assigned`, `failed`, `disabled`; the transient
/// `unassigned`/`assigning` states never persist here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordStatus {
    /// Assigned to a hub.
    Assigned,
    /// The last registration failed.
    Failed,
    /// The enrollment was disabled at the last registration.
    Disabled,
}

/// Substatus of an assignment (§8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordSubstatus {
    /// First assignment, or never-reprovision kept the device where it was.
    InitialAssignment,
    /// Moved to another hub with its data.
    DeviceDataMigrated,
    /// Moved to another hub (or reset) with the enrollment's initial twin.
    DeviceDataReset,
    /// Re-registered onto the hub it already had.
    ReprovisionedToInitialAssignment,
}

impl RecordSubstatus {
    /// The wire spelling (§5.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InitialAssignment => "initialAssignment",
            Self::DeviceDataMigrated => "deviceDataMigrated",
            Self::DeviceDataReset => "deviceDataReset",
            Self::ReprovisionedToInitialAssignment => "reprovisionedToInitialAssignment",
        }
    }
}

/// The credential a registration attested with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum RecordCredential {
    /// A symmetric key; `slot` says which enrollment key (or which group key the device key
    /// was derived from) matched. Recorded, not pinned: §8.1 notes the live service may pin
    /// the slot, which is OPEN; this crate accepts either key on every registration.
    SymmetricKey {
        /// Primary or secondary (`"primary"`, `"secondary"`).
        slot: KeySlot,
    },
    /// An X.509 leaf, by its SHA-256 thumbprint (upper-case hex, §7.1).
    X509 {
        /// SHA-256 thumbprint of the leaf DER (upper-case hex in JSON).
        sha256_thumbprint: Thumbprint,
    },
}
