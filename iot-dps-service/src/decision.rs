//! Registration decisions as values: what DPS decided ([`RegistrationDecision`],
//! [`RegistrationOutcome`], [`RegisterStep`]) and what the hubs must do ([`HubChange`]); why
//! a registration failed is in `failure.rs` (reference
//! ../shared/reference/azure-iot-protocol.md §5.4, §7.5, §8.3, §9).

use core::fmt;

use iot_hub_auth::DeviceIdentity;
use serde::Serialize;

use crate::attest::Attested;
use crate::response::DeviceResponse;
use crate::{AllocationRequest, RecordSubstatus, RegistrationFailure, RegistrationRecord};

use crate::{EnrollmentRef, InitialTwin};

/// What the hub's twin should become (§8.1, §8.3).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum TwinChange {
    /// Apply this twin (the enrollment's `initialTwin`, or the webhook's): initial
    /// assignment and reset-style reprovisioning.
    Initial {
        /// The twin.
        twin: InitialTwin,
    },
    /// Copy the twin and device data from the device's old hub (migrate).
    MigrateFrom {
        /// The old hub.
        hub: String,
        /// The device ID there.
        device_id: String,
    },
    /// Leave the twin as it is (same hub, migrate; or never-reprovision).
    Keep,
}

/// One change a hub must apply so that its registry matches a DPS decision (§7.5, §7.6,
/// §8.3).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "a handful per registration; matching on it stays simple"
)]
pub enum HubChange {
    /// Create or update the device in `hub`.
    Upsert {
        /// Hub host name.
        hub: String,
        /// The identity: `sas` with the key the device attested with (the derived key for
        /// groups), or `selfSigned` with the leaf's SHA-256 thumbprint (§7.5).
        identity: DeviceIdentity,
        /// What to do with the twin.
        twin: TwinChange,
    },
    /// Delete the device from `hub` (it moved away, or the enrollment was deleted).
    Remove {
        /// Hub host name.
        hub: String,
        /// Device ID.
        device_id: String,
    },
    /// Disable the device in `hub` (revocation of a disabled enrollment, §7.6).
    Disable {
        /// Hub host name.
        hub: String,
        /// Device ID.
        device_id: String,
    },
}

impl HubChange {
    /// The hub this change is for.
    pub fn hub(&self) -> &str {
        match self {
            Self::Upsert { hub, .. } | Self::Remove { hub, .. } | Self::Disable { hub, .. } => hub,
        }
    }
}

/// What DPS decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// Assigned to `hub` as `device_id`.
    Assigned {
        /// The enrollment the device attested through.
        enrollment: EnrollmentRef,
        /// Hub host name.
        hub: String,
        /// Device ID in that hub.
        device_id: String,
        /// Reprovisioning outcome (§8.3).
        substatus: RecordSubstatus,
    },
    /// The enrollment is disabled: not provisioned (§7.5). Hub access is NOT revoked by this.
    Disabled {
        /// The disabled enrollment.
        enrollment: EnrollmentRef,
    },
    /// Refused or failed.
    Failed(RegistrationFailure),
}

impl fmt::Display for RegistrationDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Assigned {
                enrollment,
                hub,
                device_id,
                substatus,
            } => {
                write!(
                    f,
                    "assigned to {hub} as '{device_id}' through {enrollment}, substatus {}",
                    substatus.as_str()
                )
            }
            Self::Disabled { enrollment } => write!(f, "not provisioned: {enrollment} is disabled"),
            Self::Failed(failure) => write!(f, "failed with {}: {failure}", failure.error_code()),
        }
    }
}

/// The complete result of a registration.
///
/// **Which part goes where**: send the device [`RegistrationOutcome::wire`] (the status and
/// body, nothing more); keep [`RegistrationOutcome::decision`] for operators. A refusal before
/// attestation answers every credential problem alike (`401002`, message `unauthorized`,
/// [`RegistrationFailure::wire_message`]); the decision says which enrollment, key, CA or
/// certificate was at fault.
#[derive(Clone, Debug)]
pub struct RegistrationOutcome {
    /// The decision and its reason, for operators (not for the device).
    pub decision: RegistrationDecision,
    /// What the device receives: HTTP / MQTT status (§5.4); see [`Self::wire`].
    pub status_code: u16,
    /// The body the device receives; see [`Self::wire`].
    pub response: DeviceResponse,
    /// The record to persist for this registration ID (`None`: leave it unchanged, e.g. the
    /// device was not authenticated).
    pub record: Option<RegistrationRecord>,
    /// What the hubs must apply (create/update in the new hub, remove from the old one).
    pub hub_changes: Vec<HubChange>,
}

/// What may go back to the device for a registration: the status (HTTP status, or the
/// `{status}` of the MQTT response topic `$dps/registrations/res/{status}/`) and the body
/// (§5.2, §5.4). It holds nothing an unattested caller may not learn (see
/// [`RegistrationOutcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireResponse<'a> {
    /// HTTP / MQTT status.
    pub status_code: u16,
    /// The body.
    pub body: &'a DeviceResponse,
}

impl WireResponse<'_> {
    /// The body's JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        self.body.to_json()
    }
}

impl RegistrationOutcome {
    /// The client-safe view: what to send the device. Relay this; log [`Self::decision`].
    pub fn wire(&self) -> WireResponse<'_> {
        WireResponse {
            status_code: self.status_code,
            body: &self.response,
        }
    }
}

/// A registration waiting for the custom allocation webhook (§8.2). POST
/// [`PendingAllocation::request`] to the enrollment's webhook, then call
/// [`ProvisioningService::complete_custom_allocation`](crate::ProvisioningService::complete_custom_allocation).
#[derive(Clone, Debug)]
pub struct PendingAllocation {
    /// The webhook request body.
    pub request: AllocationRequest,
    /// The webhook to call.
    pub webhook_url: String,
    pub(crate) attested: Attested,
    pub(crate) previous: Option<RegistrationRecord>,
    pub(crate) operation_id: String,
    pub(crate) now: u64,
}

/// The first step of a registration.
#[derive(Clone, Debug)]
pub enum RegisterStep {
    /// Decided.
    Done(Box<RegistrationOutcome>),
    /// The enrollment uses custom allocation: the caller performs the webhook call.
    NeedsCustomAllocation(Box<PendingAllocation>),
}
