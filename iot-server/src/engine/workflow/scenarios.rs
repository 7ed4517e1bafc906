//! The scenarios of the workflow: each step compares the decision that happened with the
//! expected one (reference ../shared/reference/azure-iot-protocol.md §7.5, §7.6, §8.3, §8.4).

use iot_dps_proto::Event;
use iot_hub_auth::{DenyReason, Transport};

use super::steps::{Expect, describe_change, describe_event};
use super::{ScenarioReport, SimDevice, StepReport, World};
use iot_dps_service::EnrollmentRef;

impl World {
    pub(super) fn move_to_production(
        &mut self,
        name: &str,
        enrollment: &EnrollmentRef,
        device: &SimDevice,
        leaf: Option<&[u8]>,
    ) -> ScenarioReport {
        let (test, prod) = (
            self.inputs.test_hub.clone(),
            self.inputs.production_hub.clone(),
        );
        let id = device.registration_id.clone();
        let mut steps = vec![self.register_step(
            "1. device registers with DPS",
            device,
            &test,
            "initialAssignment",
            leaf,
        )];
        steps.push(self.connect_step(
            "2. device connects to the Test hub",
            &test,
            device,
            Transport::Mqtt,
            Expect::Allowed,
        ));
        let mut notes = Vec::new();
        let moved = self.retarget(enrollment, &prod);
        notes.push(match &moved {
            Ok(()) => format!("{enrollment}: static allocation now names only {prod}; reprovision policy: reset to initial config"),
            Err(e) => format!("{enrollment}: update refused: {e}"),
        });
        let removed = self.hubs.remove_device(&test, &id);
        notes.push(format!(
            "{test}: device '{id}' deleted by the operator: {removed}"
        ));
        steps.push(StepReport {
            step: "3. operator moves the enrollment to Production and deletes the device from Test"
                .into(),
            expected: "enrollment updated, device deleted from Test".into(),
            actual: if moved.is_ok() && removed {
                "enrollment updated, device deleted from Test".into()
            } else {
                "operator step failed".into()
            },
            ok: moved.is_ok() && removed,
            notes,
        });
        steps.push(self.connect_step(
            "4. device connects to the Test hub again",
            &test,
            device,
            Transport::Mqtt,
            Expect::Denied(
                |r| matches!(r, DenyReason::UnknownIdentity { .. }),
                "the device is not registered in the hub",
            ),
        ));
        steps.push(self.register_step(
            "5. device registers again",
            device,
            &prod,
            "deviceDataReset",
            leaf,
        ));
        steps.push(self.connect_step(
            "5b. device connects to the Production hub",
            &prod,
            device,
            Transport::Mqtt,
            Expect::Allowed,
        ));
        report(name, steps)
    }

    pub(super) fn websocket_refused(&mut self, device: &SimDevice) -> ScenarioReport {
        let now = self.tick(10);
        let run = super::provision(&mut self.front, &self.service, &mut self.hubs, device, now);
        let expected =
            "dps refuses: X.509 CA attestation over WebSockets is disabled (401002)".to_owned();
        let (actual, ok) = match &run.outcome {
            Some(o) => {
                let ok = matches!(
                    &o.decision,
                    iot_dps_service::RegistrationDecision::Failed(
                        iot_dps_service::RegistrationFailure::X509CaOverWebSockets
                    )
                ) && o.status_code == 401
                    && o.hub_changes.is_empty();
                (format!("status {}: {}", o.status_code, o.decision), ok)
            }
            None => ("no decision".to_owned(), false),
        };
        let notes = vec![
            format!("device state machine: {}", describe_event(run.event.as_ref())),
            "the instance keeps the historical restriction (x509CaOverWebSockets = false, reference §6.4); the same device registers over plain MQTT".into(),
        ];
        report(
            "X.509 CA device over MQTT-over-WebSockets",
            vec![StepReport {
                step: "device registers over MQTT/WebSockets".into(),
                expected,
                actual,
                ok,
                notes,
            }],
        )
    }

    pub(super) fn revocation(&mut self, device: &SimDevice) -> ScenarioReport {
        let test = self.inputs.test_hub.clone();
        let mut steps = vec![self.register_step(
            "1. device registers with DPS",
            device,
            &test,
            "initialAssignment",
            None,
        )];
        steps.push(self.connect_step(
            "2. device connects to the Test hub",
            &test,
            device,
            Transport::Mqtt,
            Expect::Allowed,
        ));
        let target = EnrollmentRef::Individual(device.registration_id.clone());
        let records = self.front.records();
        let plan = self.service.disable_enrollment(&target, &records);
        let (actual, ok, notes, changes) = match plan {
            Ok(plan) => {
                let mut notes: Vec<String> =
                    plan.warnings.iter().map(ToString::to_string).collect();
                notes.extend(
                    plan.hub_changes
                        .iter()
                        .map(|c| format!("plan: {}", describe_change(c))),
                );
                let ok = plan.hub_changes.len() == 1
                    && plan.warnings.iter().any(|w| {
                        matches!(
                            w,
                            iot_dps_service::RevocationWarning::HubAccessRemainsUntilApplied { .. }
                        )
                    });
                (
                    format!(
                        "{target} disabled; the plan lists {} hub change(s)",
                        plan.hub_changes.len()
                    ),
                    ok,
                    notes,
                    plan.hub_changes,
                )
            }
            Err(e) => (
                format!("disable failed: {e}"),
                false,
                Vec::new(),
                Vec::new(),
            ),
        };
        steps.push(StepReport {
            step: "3. operator disables the enrollment in DPS".into(),
            expected: "a revocation plan: disable the device in Test, with the warning that DPS alone does not revoke hub access".into(),
            actual,
            ok,
            notes,
        });
        steps.push(self.connect_step(
            "4. device connects to the Test hub (plan not applied yet)",
            &test,
            device,
            Transport::Mqtt,
            Expect::Allowed,
        ));
        let now = self.tick(10);
        let run = super::provision(&mut self.front, &self.service, &mut self.hubs, device, now);
        let disabled = matches!(run.event, Some(Event::Disabled));
        steps.push(StepReport {
            step: "5. device registers again".into(),
            expected: "dps answers status disabled".into(),
            actual: format!(
                "device state machine: {}",
                describe_event(run.event.as_ref())
            ),
            ok: disabled,
            notes: run
                .outcome
                .iter()
                .map(|o| format!("dps decision: {}", o.decision))
                .collect(),
        });
        let applied: Vec<String> = changes.iter().map(|c| self.hubs.apply(c)).collect();
        let mut last = self.connect_step(
            "6. operator applies the plan; the device connects to Test",
            &test,
            device,
            Transport::Mqtt,
            Expect::Denied(
                |r| matches!(r, DenyReason::Disabled { .. }),
                "the device is disabled",
            ),
        );
        last.notes = applied;
        steps.push(last);
        report(
            "revoked enrollment: the device keeps hub access until the revocation plan is applied",
            steps,
        )
    }
}

fn report(name: &str, steps: Vec<StepReport>) -> ScenarioReport {
    ScenarioReport {
        name: name.into(),
        ok: steps.iter().all(|s| s.ok),
        steps,
    }
}
