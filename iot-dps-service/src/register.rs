//! The registration flow (reference ../shared/reference/azure-iot-protocol.md §5.3, §5.4, §8,
//! §9 "DPS registration decision"): check the request, attest (`attest.rs`), allocate
//! (`allocation.rs`), reprovision (`reprovision.rs`) and assign; the decision types are in
//! `decision.rs`, the answers that do not assign in `response.rs`.

use iot_dps_proto::{DeviceRegistration, UserNameParts};

use crate::allocation::choose_hub;
use crate::attest::Attested;
use crate::registration_id::{clip, validate_registration_id};
use crate::response::{done, hub_changes, success_response};
use crate::{
    AllocationPolicy, AllocationResponse, CustomAllocationFailure, MalformedRequest,
    PendingAllocation, PreviousAssignment, ProvisioningService, RecordStatus, RegisterStep,
    RegistrationDecision, RegistrationFailure, RegistrationOutcome, RegistrationRecord,
    RegistrationRequest, candidate_hubs, decide_reprovision,
};

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
        if policy == AllocationPolicy::Custom {
            return RegisterStep::NeedsCustomAllocation(Box::new(
                self.pending(attested, previous, req),
            ));
        }
        let chosen = choose_hub(
            policy,
            &attested.registration_id,
            &candidates,
            req.latencies,
        );
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
        let failure = |reason| RegistrationFailure::CustomAllocation { reason };
        let result = match response {
            Err(status) => Err(failure(CustomAllocationFailure::Status(status))),
            Ok(r) => match request
                .linked_hubs
                .iter()
                .find(|h| h.eq_ignore_ascii_case(&r.iot_hub_host_name))
            {
                Some(hub) => Ok((hub.clone(), r)),
                None => Err(failure(CustomAllocationFailure::HubNotLinked {
                    hub: clip(&r.iot_hub_host_name),
                })),
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

    /// Whether the request's credential still attests its registration ID, deciding nothing
    /// else: the check a device's later requests (the operation-status poll) go through.
    /// `Err` is the outcome a register with this credential would have answered (a refusal
    /// before attestation).
    pub fn authenticate(
        &self,
        req: &RegistrationRequest<'_>,
    ) -> Result<(), Box<RegistrationOutcome>> {
        self.check_and_attest(req)
            .map(|_| ())
            .map_err(|failure| Box::new(self.fail(failure, req.operation_id, req.now)))
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
            decision: RegistrationDecision::Assigned {
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
}
