//! The registration decision: attestation, allocation, reprovisioning, the device's answer
//! and the hub changes (reference ../shared/reference/azure-iot-protocol.md §5.3, §5.4, §8,
//! §9 "DPS registration decision").

use core::fmt;

use iot_dps_proto::{DeviceRegistration, UserNameParts};

use crate::RegistrationRequest;
use crate::attest::Attested;
use crate::registration_id::{clip, validate_registration_id};
use crate::response::{DeviceResponse, failed_response, hub_changes, iso8601, success_response};
use crate::{
    AllocationPolicy, AllocationRequest, AllocationResponse, DeviceRuntimeContext, EnrollmentRef,
    HubChange, MalformedRequest, PreviousAssignment, ProvisioningService, RecordStatus,
    RecordSubstatus, RegistrationFailure, RegistrationRecord, allocate_geo_latency,
    allocate_hashed, candidate_hubs, decide_reprovision,
};

/// What DPS decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
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

impl fmt::Display for Decision {
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
    pub decision: Decision,
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
/// [`ProvisioningService::complete_custom_allocation`].
#[derive(Clone, Debug)]
pub struct PendingAllocation {
    /// The webhook request body.
    pub request: AllocationRequest,
    /// The webhook to call.
    pub webhook_url: String,
    attested: Attested,
    previous: Option<RegistrationRecord>,
    operation_id: String,
    now: u64,
}

/// The first step of a registration.
#[derive(Clone, Debug)]
pub enum RegisterStep {
    /// Decided.
    Done(Box<RegistrationOutcome>),
    /// The enrollment uses custom allocation: the caller performs the webhook call.
    NeedsCustomAllocation(Box<PendingAllocation>),
}

impl ProvisioningService {
    /// Decides a registration (§9): checks the request, attests the device, allocates a hub
    /// (§8.2), applies the reprovision policy against `previous` (the record stored for this
    /// registration ID, §8.3) and returns the device's answer, the new record and the hub
    /// changes. A record for another registration ID is ignored.
    pub fn register(
        &self,
        req: &RegistrationRequest<'_>,
        previous: Option<&RegistrationRecord>,
    ) -> RegisterStep {
        let previous =
            previous.filter(|r| r.registration_id.eq_ignore_ascii_case(req.registration_id));
        let attested = match self.check_and_attest(req) {
            Ok(a) => a,
            Err(failure) => return done(self.fail(failure, req.operation_id, req.now)),
        };
        if attested.disabled() {
            return done(self.disabled(attested, previous, req.operation_id, req.now));
        }
        let policy = attested
            .settings
            .allocation_policy
            .unwrap_or(self.instance.allocation_policy);
        let candidates = candidate_hubs(&self.instance, &attested.settings);
        let chosen = match policy {
            AllocationPolicy::Custom => {
                return RegisterStep::NeedsCustomAllocation(Box::new(
                    self.pending(attested, previous, req),
                ));
            }
            AllocationPolicy::Static => candidates.first().copied(),
            AllocationPolicy::Hashed => allocate_hashed(&attested.registration_id, &candidates),
            AllocationPolicy::GeoLatency => {
                allocate_geo_latency(&attested.registration_id, &candidates, req.latencies)
            }
        };
        let Some(hub) = chosen else {
            let failure = RegistrationFailure::NoHub {
                enrollment: attested.enrollment.clone(),
            };
            return done(self.fail_attested(
                &attested,
                failure,
                previous,
                req.operation_id,
                req.now,
            ));
        };
        let hub = hub.host.clone();
        done(self.assign(&attested, &hub, None, previous, req.operation_id, req.now))
    }

    /// Completes a custom allocation with the webhook's answer: `Ok(response)`, or
    /// `Err(http_status)` when the call failed. The chosen hub must be one of the request's
    /// `linkedHubs`, else the registration fails with 400207 (§8.2).
    pub fn complete_custom_allocation(
        &self,
        pending: PendingAllocation,
        response: Result<AllocationResponse, u16>,
    ) -> RegistrationOutcome {
        let PendingAllocation {
            request,
            attested,
            previous,
            operation_id,
            now,
            ..
        } = pending;
        let failure = |reason: String| RegistrationFailure::CustomAllocation { reason };
        let result = match response {
            Err(status) => Err(failure(format!("status code: {status}"))),
            Ok(r) => match request
                .linked_hubs
                .iter()
                .find(|h| h.eq_ignore_ascii_case(&r.iot_hub_host_name))
            {
                Some(hub) => Ok((hub.clone(), r)),
                None => Err(failure(format!(
                    "hub '{}' is not one of the linked hubs",
                    clip(&r.iot_hub_host_name)
                ))),
            },
        };
        match result {
            Ok((hub, r)) => self.assign(
                &attested,
                &hub,
                Some(r),
                previous.as_ref(),
                &operation_id,
                now,
            ),
            Err(f) => self.fail_attested(&attested, f, previous.as_ref(), &operation_id, now),
        }
    }

    fn check_and_attest(
        &self,
        req: &RegistrationRequest<'_>,
    ) -> Result<Attested, RegistrationFailure> {
        let bad = RegistrationFailure::BadRequest;
        validate_registration_id(req.registration_id)
            .map_err(|e| bad(MalformedRequest::RegistrationId(e)))?;
        if let Some(user) = req.mqtt_user_name {
            let parts =
                UserNameParts::parse(user).map_err(|e| bad(MalformedRequest::UserName(e)))?;
            if !parts.id_scope.eq_ignore_ascii_case(&self.instance.id_scope) {
                return Err(bad(MalformedRequest::UserNameIdScope {
                    id_scope: clip(parts.id_scope),
                }));
            }
            if parts.registration_id != req.registration_id {
                return Err(bad(MalformedRequest::UserNameRegistrationId {
                    registration_id: clip(parts.registration_id),
                }));
            }
        }
        let body =
            DeviceRegistration::from_slice(req.body).map_err(|e| bad(MalformedRequest::Body(e)))?;
        if let Some(id) = body
            .registration_id
            .as_deref()
            .filter(|id| *id != req.registration_id)
        {
            return Err(bad(MalformedRequest::BodyRegistrationId {
                registration_id: clip(id),
            }));
        }
        match (req.sas_token, req.client_chain.is_empty()) {
            (Some(_), false) => Err(RegistrationFailure::AmbiguousCredential),
            (Some(token), true) => self.attest_symmetric_key(req.registration_id, token, req.now),
            (None, false) => {
                let (attested, via_ca) =
                    self.attest_x509(req.registration_id, req.client_chain, req.now)?;
                if via_ca && req.transport.is_websocket() && !self.instance.x509_ca_over_websockets
                {
                    return Err(RegistrationFailure::X509CaOverWebSockets);
                }
                Ok(attested)
            }
            (None, true) if body.tpm.is_some() => Err(RegistrationFailure::TpmNotSupported),
            (None, true) => Err(RegistrationFailure::MissingCredential),
        }
        .map(|mut a| {
            a.payload = body.payload;
            a
        })
    }

    fn pending(
        &self,
        attested: Attested,
        previous: Option<&RegistrationRecord>,
        req: &RegistrationRequest<'_>,
    ) -> PendingAllocation {
        let candidates = candidate_hubs(&self.instance, &attested.settings);
        let current = previous.filter(|r| !r.assigned_hub.is_empty());
        let mut ctx = DeviceRuntimeContext {
            registration_id: attested.registration_id.clone(),
            current_iot_hub_host_name: current.map(|r| r.assigned_hub.clone()),
            current_device_id: current.map(|r| r.device_id.clone()),
            payload: attested.payload.clone(),
            ..DeviceRuntimeContext::default()
        };
        let group_id = match &attested.enrollment {
            EnrollmentRef::Group(id) => serde_json::json!({ "enrollmentGroupId": id }),
            EnrollmentRef::Individual(_) => serde_json::json!({}),
        };
        if attested.leaf_der.is_some() {
            ctx.x509 = Some(group_id);
        } else {
            ctx.symmetric_key = Some(group_id);
        }
        let (individual_enrollment, enrollment_group) = match &attested.enrollment {
            EnrollmentRef::Individual(id) => {
                (self.individual(id).map(without_keys_individual), None)
            }
            EnrollmentRef::Group(id) => (None, self.group(id).map(without_keys_group)),
        };
        let webhook_url = attested
            .settings
            .custom_allocation_definition
            .as_ref()
            .map(|d| d.webhook_url.clone())
            .unwrap_or_default();
        PendingAllocation {
            request: AllocationRequest {
                individual_enrollment,
                enrollment_group,
                device_runtime_context: ctx,
                linked_hubs: candidates.iter().map(|h| h.host.clone()).collect(),
            },
            webhook_url,
            attested,
            previous: previous.cloned(),
            operation_id: req.operation_id.to_owned(),
            now: req.now,
        }
    }

    fn assign(
        &self,
        attested: &Attested,
        hub: &str,
        webhook: Option<AllocationResponse>,
        previous: Option<&RegistrationRecord>,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let prev = previous
            .filter(|r| !r.assigned_hub.is_empty())
            .map(|r| PreviousAssignment {
                hub: &r.assigned_hub,
                device_id: &r.device_id,
            });
        let plan = decide_reprovision(
            prev,
            hub,
            &attested.device_id,
            attested.settings.reprovision_policy,
        );
        let record = RegistrationRecord {
            registration_id: attested.registration_id.clone(),
            assigned_hub: plan.hub.clone(),
            device_id: plan.device_id.clone(),
            status: RecordStatus::Assigned,
            substatus: Some(plan.substatus),
            error_code: None,
            created: previous.map_or(now, |r| r.created),
            last_updated: now,
            generation: previous.map_or(1, |r| r.generation.saturating_add(1)),
            enrollment: attested.enrollment.clone(),
            credential: attested.record_credential.clone(),
        };
        let (twin, payload) = match webhook {
            Some(r) => (
                r.initial_twin
                    .or_else(|| attested.settings.initial_twin.clone()),
                r.payload,
            ),
            None => (attested.settings.initial_twin.clone(), None),
        };
        let changes = hub_changes(attested, &plan, twin.unwrap_or_default());
        let response = success_response(self, attested, &record, operation_id, payload);
        RegistrationOutcome {
            decision: Decision::Assigned {
                enrollment: attested.enrollment.clone(),
                hub: plan.hub,
                device_id: plan.device_id,
                substatus: plan.substatus,
            },
            status_code: 200,
            response,
            record: Some(record),
            hub_changes: changes,
        }
    }

    fn disabled(
        &self,
        attested: Attested,
        previous: Option<&RegistrationRecord>,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let record = follow_up_record(&attested, previous, RecordStatus::Disabled, None, now);
        let state = iot_dps_proto::DeviceRegistrationResult {
            registration_id: Some(attested.registration_id.clone()),
            status: Some(iot_dps_proto::RegistrationStatus::Disabled),
            created_date_time_utc: Some(iso8601(record.created)),
            last_updated_date_time_utc: Some(iso8601(now)),
            etag: Some(record.etag()),
            ..Default::default()
        };
        RegistrationOutcome {
            decision: Decision::Disabled {
                enrollment: attested.enrollment.clone(),
            },
            status_code: 200,
            response: DeviceResponse::Operation(iot_dps_proto::RegistrationOperationStatus {
                operation_id: operation_id.to_owned(),
                status: iot_dps_proto::RegistrationStatus::Disabled,
                registration_state: Some(state),
            }),
            record: Some(record),
            hub_changes: Vec::new(),
        }
    }

    /// A failure after attestation: recorded, reported as a `failed` operation (§5.4).
    fn fail_attested(
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
            decision: Decision::Failed(failure),
            status_code: 200,
            response,
            record: Some(record),
            hub_changes: Vec::new(),
        }
    }

    /// A refusal before attestation: error body, no operation, no record change.
    fn fail(
        &self,
        failure: RegistrationFailure,
        operation_id: &str,
        now: u64,
    ) -> RegistrationOutcome {
        let body = iot_dps_proto::ErrorBody {
            error_code: Some(failure.error_code()),
            tracking_id: Some(operation_id.to_owned()),
            message: Some(failure.wire_message()),
            timestamp_utc: Some(iso8601(now)),
            info: None,
        };
        RegistrationOutcome {
            status_code: failure.status_code(),
            decision: Decision::Failed(failure),
            response: DeviceResponse::Error(body),
            record: None,
            hub_changes: Vec::new(),
        }
    }
}

fn done(outcome: RegistrationOutcome) -> RegisterStep {
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

fn without_keys_individual(e: &crate::IndividualEnrollment) -> crate::IndividualEnrollment {
    let mut e = e.clone();
    e.attestation.symmetric_key = None;
    e
}

fn without_keys_group(g: &crate::EnrollmentGroup) -> crate::EnrollmentGroup {
    let mut g = g.clone();
    g.attestation.symmetric_key = None;
    g
}
