//! The scenarios of the workflow: each step compares the decision that happened with the
//! expected one (reference ../shared/reference/azure-iot-protocol.md §7.5, §7.6, §8.3, §8.4).

use iot_dps_proto::Event;
use iot_hub_auth::{AuthenticationType, DenyReason, Transport};

use super::{ScenarioReport, SimDevice, StepReport, World};
use iot_dps_service::{EnrollmentRef, Error, HubChange};

/// What a connect step expects.
enum Expect {
    Allowed,
    Denied(fn(&DenyReason) -> bool, &'static str),
}

impl World {
    fn tick(&mut self, secs: u64) -> u64 {
        self.now += secs;
        self.now
    }

    /// Registers the device; the step passes when DPS assigns `hub` with `substatus`.
    fn register_step(
        &mut self,
        title: &str,
        device: &SimDevice,
        hub: &str,
        substatus: &str,
        leaf: Option<&[u8]>,
    ) -> StepReport {
        let now = self.tick(10);
        let run = super::provision(&mut self.front, &self.service, &mut self.hubs, device, now);
        let mut notes: Vec<String> = Vec::new();
        if let Some(outcome) = &run.outcome {
            notes.push(format!("dps decision: {}", outcome.decision));
            for change in &outcome.hub_changes {
                notes.push(describe_change(change));
            }
        }
        notes.push(format!(
            "{} mqtt messages through the iot-dps-proto state machine",
            run.messages
        ));
        let expected = format!("assigned to {hub}, substatus {substatus}");
        let (actual, mut ok) = match &run.event {
            Some(Event::Assigned {
                assigned_hub,
                device_id,
                substatus: s,
                ..
            }) => {
                let s = s.as_ref().map_or("none", |s| s.as_str());
                (
                    format!("assigned to {assigned_hub} as '{device_id}', substatus {s}"),
                    assigned_hub == hub && s == substatus,
                )
            }
            other => (describe_event(other.as_ref()), false),
        };
        if let Some(leaf) = leaf {
            let (line, good) = self.thumbprint_note(hub, &device.registration_id, leaf);
            notes.push(line);
            ok &= good;
        }
        StepReport {
            step: title.into(),
            expected,
            actual,
            ok,
            notes,
        }
    }

    /// X.509 devices land in the hub as selfSigned with the leaf's SHA-256 thumbprint (§7.5).
    fn thumbprint_note(&self, hub: &str, device_id: &str, leaf: &[u8]) -> (String, bool) {
        use iot_hub_auth::Registry as _;
        let want = iot_x509::Thumbprint::sha256_of(leaf).to_string();
        let identity = self.hubs.registry(hub).and_then(|r| r.get(device_id, None));
        match identity {
            Some(id) => {
                let tp = id
                    .authentication
                    .x509_thumbprint
                    .as_ref()
                    .and_then(|t| t.primary_thumbprint.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let good = id.authentication.r#type == AuthenticationType::SelfSigned
                    && tp.eq_ignore_ascii_case(&want);
                (
                    format!(
                        "hub identity '{device_id}': type {}, primary thumbprint {tp} (leaf SHA-256 {want})",
                        id.authentication.r#type.as_str()
                    ),
                    good,
                )
            }
            None => (
                format!("hub identity '{device_id}' missing in {hub}"),
                false,
            ),
        }
    }

    fn connect_step(
        &mut self,
        title: &str,
        hub: &str,
        device: &SimDevice,
        transport: Transport,
        expect: Expect,
    ) -> StepReport {
        let (expect_allowed, deny_check, deny_label) = match expect {
            Expect::Allowed => (true, (|_| false) as fn(&DenyReason) -> bool, ""),
            Expect::Denied(check, label) => (false, check, label),
        };
        let now = self.tick(5);
        let result = super::connect(
            &self.hubs,
            hub,
            &device.registration_id,
            &device.credential,
            transport,
            now,
        );
        let expected = if expect_allowed {
            format!("{hub} allows the connection")
        } else {
            format!("{hub} refuses: {deny_label}")
        };
        let (actual, ok) = match &result {
            Ok(()) => (format!("{hub} allowed the connection"), expect_allowed),
            Err(reason) => (
                format!("{hub} refused: {reason}"),
                !expect_allowed && deny_check(reason),
            ),
        };
        StepReport {
            step: title.into(),
            expected,
            actual,
            ok,
            notes: Vec::new(),
        }
    }

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

    fn retarget(&mut self, enrollment: &EnrollmentRef, hub: &str) -> Result<(), Error> {
        match enrollment {
            EnrollmentRef::Individual(id) => {
                let mut e =
                    self.service
                        .individual(id)
                        .cloned()
                        .ok_or_else(|| Error::NotFound {
                            enrollment: enrollment.clone(),
                        })?;
                e.settings.iot_hubs = vec![hub.to_owned()];
                self.service.upsert_individual(e)
            }
            EnrollmentRef::Group(id) => {
                let mut g = self
                    .service
                    .group(id)
                    .cloned()
                    .ok_or_else(|| Error::NotFound {
                        enrollment: enrollment.clone(),
                    })?;
                g.settings.iot_hubs = vec![hub.to_owned()];
                self.service.upsert_group(g)
            }
        }
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

fn describe_change(change: &HubChange) -> String {
    match change {
        HubChange::Upsert {
            hub,
            identity,
            twin,
        } => {
            let twin = match twin {
                iot_dps_service::TwinChange::Initial { .. } => "initial twin",
                iot_dps_service::TwinChange::MigrateFrom { .. } => "twin migrated",
                iot_dps_service::TwinChange::Keep => "twin kept",
            };
            format!(
                "hub change: create/update '{}' in {hub} as {} ({twin})",
                identity.device_id,
                identity.authentication.r#type.as_str()
            )
        }
        HubChange::Remove { hub, device_id } => {
            format!("hub change: delete '{device_id}' from {hub}")
        }
        HubChange::Disable { hub, device_id } => {
            format!("hub change: disable '{device_id}' in {hub}")
        }
        other => format!("hub change in {}", other.hub()),
    }
}

fn describe_event(event: Option<&Event>) -> String {
    match event {
        Some(Event::Assigned {
            assigned_hub,
            device_id,
            ..
        }) => format!("assigned to {assigned_hub} as '{device_id}'"),
        Some(Event::Disabled) => "registration disabled".into(),
        Some(Event::Failed { status, error }) => format!(
            "failed (status {}, error code {})",
            status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            error
                .error_code()
                .map_or_else(|| "none".to_owned(), |c| c.to_string())
        ),
        None => "no answer".into(),
    }
}
