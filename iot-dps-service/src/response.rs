//! What the device receives (iot-dps-proto types, reference
//! ../shared/reference/azure-iot-protocol.md §5.4) and the hub identities DPS creates (§7.5,
//! §9 step 4).

use iot_dps_proto::{
    DeviceRegistrationResult, ErrorBody, RegistrationOperationStatus, RegistrationStatus,
    Substatus, SymmetricKeyRegistrationResult, X509CertificateInfo, X509RegistrationResult,
};
use iot_hub_auth::{
    Authentication, AuthenticationType, Capabilities, DeviceIdentity, IdentityStatus, SymmetricKey,
    X509Thumbprint,
};

use crate::attest::{Attested, HubCredential};
use crate::reprovision::{Reprovision, TwinPlan};
use crate::{
    EnrollmentRef, HubChange, InitialTwin, ProvisioningService, RecordStatus, RegisterStep,
    RegistrationDecision, RegistrationFailure, RegistrationOutcome, RegistrationRecord, TwinChange,
};

/// The body of the answer to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per registration; matching on it stays simple"
)]
pub enum DeviceResponse {
    /// A RegistrationOperationStatus (status 200/202): assigned, disabled or failed.
    Operation(RegistrationOperationStatus),
    /// An error body (4xx): the device was not authenticated or the request was bad.
    Error(ErrorBody),
}

impl DeviceResponse {
    /// The JSON bytes to send (MQTT payload or HTTPS body).
    pub fn to_json(&self) -> Vec<u8> {
        let bytes = match self {
            Self::Operation(op) => serde_json::to_vec(op),
            Self::Error(err) => serde_json::to_vec(err),
        };
        bytes.unwrap_or_default()
    }

    /// The operation status, if this is one.
    pub fn operation(&self) -> Option<&RegistrationOperationStatus> {
        match self {
            Self::Operation(op) => Some(op),
            Self::Error(_) => None,
        }
    }
}

/// Unix seconds as DPS writes times: ISO 8601 UTC with 7 fractional digits
/// (`2020-04-10T03:11:13.0000000Z`, reference §5.4). Times past the year 9999 print as plain
/// seconds.
pub fn iso8601(secs: u64) -> String {
    const DPS_TIME: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
    );
    i64::try_from(secs)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| t.format(DPS_TIME).ok())
        .unwrap_or_else(|| secs.to_string())
}

pub(crate) fn success_response(
    service: &ProvisioningService,
    attested: &Attested,
    record: &RegistrationRecord,
    operation_id: &str,
    payload: Option<serde_json::Value>,
) -> DeviceResponse {
    let _ = service;
    let group_id = match &attested.enrollment {
        EnrollmentRef::Group(id) => Some(id.clone()),
        EnrollmentRef::Individual(_) => None,
    };
    let (x509, symmetric_key) = match &attested.leaf_der {
        Some(leaf) => {
            let result = X509RegistrationResult {
                certificate_info: certificate_info(leaf),
                enrollment_group_id: group_id,
                signing_certificate_info: attested
                    .signing_der
                    .as_deref()
                    .and_then(certificate_info),
            };
            (Some(result), None)
        }
        None => (
            None,
            Some(SymmetricKeyRegistrationResult {
                enrollment_group_id: group_id,
            }),
        ),
    };
    let state = DeviceRegistrationResult {
        registration_id: Some(record.registration_id.clone()),
        created_date_time_utc: Some(iso8601(record.created)),
        assigned_hub: Some(record.assigned_hub.clone()),
        device_id: Some(record.device_id.clone()),
        status: Some(RegistrationStatus::Assigned),
        substatus: record.substatus.map(|s| Substatus::from_wire(s.as_str())),
        last_updated_date_time_utc: Some(iso8601(record.last_updated)),
        etag: Some(record.etag()),
        payload,
        x509,
        symmetric_key,
        ..DeviceRegistrationResult::default()
    };
    DeviceResponse::Operation(RegistrationOperationStatus {
        operation_id: operation_id.to_owned(),
        status: RegistrationStatus::Assigned,
        registration_state: Some(state),
    })
}

pub(crate) fn failed_response(
    record: &RegistrationRecord,
    failure: &RegistrationFailure,
    operation_id: &str,
) -> DeviceResponse {
    let state = DeviceRegistrationResult {
        registration_id: Some(record.registration_id.clone()),
        created_date_time_utc: Some(iso8601(record.created)),
        status: Some(RegistrationStatus::Failed),
        last_updated_date_time_utc: Some(iso8601(record.last_updated)),
        error_code: Some(failure.error_code()),
        error_message: Some(failure.to_string()),
        etag: Some(record.etag()),
        ..DeviceRegistrationResult::default()
    };
    DeviceResponse::Operation(RegistrationOperationStatus {
        operation_id: operation_id.to_owned(),
        status: RegistrationStatus::Failed,
        registration_state: Some(state),
    })
}

/// The certificate summary the device receives (§5.4, §7.5). Every certificate that reaches
/// here was parsed before: the leaf during attestation, a signing certificate when its
/// enrollment or CA was loaded; `None` only if that no longer holds.
fn certificate_info(der: &[u8]) -> Option<X509CertificateInfo> {
    let info = iot_x509::CertificateInfo::parse(der).ok()?;
    Some(wire_certificate_info(info.to_x509_certificate_info(der)))
}

/// iot-x509's certificate summary in iot-dps-proto's wire type: the same fields and JSON
/// names; the wire type keeps every field optional because a device reads what any service
/// sends. (iot-dps-proto is `no_std` and does not depend on iot-x509, so this is a function
/// here, not a `From` impl there.)
fn wire_certificate_info(info: iot_x509::X509CertificateInfo) -> X509CertificateInfo {
    X509CertificateInfo {
        subject_name: Some(info.subject_name),
        sha1_thumbprint: Some(info.sha1_thumbprint.to_string()),
        sha256_thumbprint: Some(info.sha256_thumbprint.to_string()),
        issuer_name: Some(info.issuer_name),
        not_before_utc: Some(info.not_before_utc),
        not_after_utc: Some(info.not_after_utc),
        serial_number: Some(info.serial_number),
        version: Some(info.version),
    }
}

/// The hub identity for an attested device (§7.5, §9 step 4).
pub(crate) fn identity(attested: &Attested, device_id: &str) -> DeviceIdentity {
    let authentication = match &attested.hub_credential {
        HubCredential::Sas { primary, secondary } => Authentication {
            r#type: AuthenticationType::Sas,
            symmetric_key: Some(SymmetricKey {
                primary_key: primary.to_string(),
                secondary_key: secondary.to_string(),
            }),
            x509_thumbprint: None,
        },
        // DPS registers X.509 devices as selfSigned with SHA-256 thumbprints, copying the
        // primary into the secondary slot when there is one certificate (§7.1, §7.5).
        HubCredential::SelfSigned { primary, secondary } => Authentication {
            r#type: AuthenticationType::SelfSigned,
            symmetric_key: None,
            x509_thumbprint: Some(X509Thumbprint {
                primary_thumbprint: Some(*primary),
                secondary_thumbprint: Some(*secondary),
            }),
        },
    };
    DeviceIdentity {
        device_id: device_id.to_owned(),
        module_id: None,
        status: IdentityStatus::Enabled,
        status_reason: None,
        authentication,
        capabilities: Capabilities {
            iot_edge: attested.settings.capabilities.iot_edge,
        },
    }
}

pub(crate) fn hub_changes(
    attested: &Attested,
    plan: &Reprovision,
    initial_twin: InitialTwin,
) -> Vec<HubChange> {
    let twin = match plan.twin {
        TwinPlan::Initial => TwinChange::Initial { twin: initial_twin },
        TwinPlan::Keep => TwinChange::Keep,
        TwinPlan::Migrate => match &plan.remove {
            Some((hub, device_id)) => TwinChange::MigrateFrom {
                hub: hub.clone(),
                device_id: device_id.clone(),
            },
            None => TwinChange::Keep,
        },
    };
    let mut changes = vec![HubChange::Upsert {
        hub: plan.hub.clone(),
        identity: identity(attested, &plan.device_id),
        twin,
    }];
    if let Some((hub, device_id)) = &plan.remove {
        changes.push(HubChange::Remove {
            hub: hub.clone(),
            device_id: device_id.clone(),
        });
    }
    changes
}

/// The outcomes that do not assign a hub (§5.4).
impl ProvisioningService {
    pub(crate) fn disabled(
        &self,
        attested: Attested,
        previous: Option<&RegistrationRecord>,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let record = follow_up_record(&attested, previous, RecordStatus::Disabled, None, now);
        let state = DeviceRegistrationResult {
            registration_id: Some(attested.registration_id.clone()),
            status: Some(RegistrationStatus::Disabled),
            created_date_time_utc: Some(iso8601(record.created)),
            last_updated_date_time_utc: Some(iso8601(now)),
            etag: Some(record.etag()),
            ..Default::default()
        };
        RegistrationOutcome {
            decision: RegistrationDecision::Disabled {
                enrollment: attested.enrollment.clone(),
            },
            status_code: 200,
            response: DeviceResponse::Operation(RegistrationOperationStatus {
                operation_id: operation_id.to_owned(),
                status: RegistrationStatus::Disabled,
                registration_state: Some(state),
            }),
            record: Some(record),
            hub_changes: Vec::new(),
        }
    }

    /// A failure after attestation: recorded, reported as a `failed` operation (§5.4).
    pub(crate) fn fail_attested(
        &self,
        attested: &Attested,
        failure: RegistrationFailure,
        previous: Option<&RegistrationRecord>,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let record = follow_up_record(
            attested,
            previous,
            RecordStatus::Failed,
            Some(failure.error_code()),
            now,
        );
        let response = failed_response(&record, &failure, operation_id);
        RegistrationOutcome {
            decision: RegistrationDecision::Failed(failure),
            status_code: 200,
            response,
            record: Some(record),
            hub_changes: Vec::new(),
        }
    }

    /// A refusal before attestation: error body, no operation, no record change.
    pub(crate) fn fail(
        &self,
        failure: RegistrationFailure,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let body = ErrorBody {
            error_code: Some(failure.error_code()),
            tracking_id: Some(operation_id.to_owned()),
            message: Some(failure.wire_message()),
            timestamp_utc: Some(iso8601(now)),
            info: None,
        };
        RegistrationOutcome {
            status_code: failure.status_code(),
            decision: RegistrationDecision::Failed(failure),
            response: DeviceResponse::Error(body),
            record: None,
            hub_changes: Vec::new(),
        }
    }
}

pub(crate) fn done(outcome: RegistrationOutcome) -> RegisterStep {
    RegisterStep::Done(Box::new(outcome))
}

/// A record for a registration that did not assign: keeps the previous hub and device ID
/// (the hub identity still exists there) and the creation time.
fn follow_up_record(
    attested: &Attested,
    previous: Option<&RegistrationRecord>,
    status: RecordStatus,
    error_code: Option<u32>,
    now: u64,
) -> RegistrationRecord {
    RegistrationRecord {
        registration_id: attested.registration_id.clone(),
        assigned_hub: previous.map(|r| r.assigned_hub.clone()).unwrap_or_default(),
        device_id: previous.map_or_else(|| attested.device_id.clone(), |r| r.device_id.clone()),
        status,
        substatus: None,
        error_code,
        created: previous.map_or(now, |r| r.created),
        last_updated: now,
        generation: previous.map_or(1, |r| r.generation.saturating_add(1)),
        enrollment: attested.enrollment.clone(),
        credential: attested.record_credential.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversion writes exactly the JSON that iot-x509's own summary serializes to.
    #[test]
    fn wire_certificate_info_has_the_same_json_as_iot_x509() {
        let info = iot_x509::X509CertificateInfo {
            subject_name: "CN=dev-1".into(),
            sha1_thumbprint: iot_x509::Thumbprint::sha1_of(b"der"),
            sha256_thumbprint: iot_x509::Thumbprint::sha256_of(b"der"),
            issuer_name: "CN=root".into(),
            not_before_utc: "2024-01-01T00:00:00Z".into(),
            not_after_utc: "2025-01-01T00:00:00Z".into(),
            serial_number: "0A".into(),
            version: 3,
        };
        assert_eq!(
            serde_json::to_value(wire_certificate_info(info.clone())).unwrap(),
            serde_json::to_value(info).unwrap()
        );
    }

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(iso8601(1_586_488_273), "2020-04-10T03:11:13.0000000Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.0000000Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20.0000000Z");
    }
}
