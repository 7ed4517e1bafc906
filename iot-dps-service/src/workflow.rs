//! The test-to-production workflow (reference ../shared/reference/azure-iot-protocol.md
//! §7.5, §7.6, §8.3, §8.4), end to end over every crate of the workspace, in memory. Used by
//! `iot demo` and by this crate's `tests/test_to_production.rs`: both run this code.
//!
//! The five steps, per attestation kind: (1) the device registers and DPS assigns the Test
//! hub; (2) it connects to Test: allowed; (3) the operator moves the enrollment to Production
//! and deletes the device from Test; (4) Test refuses the next connect; (5) the device
//! registers again, DPS assigns Production (`deviceDataReset`: reset to the initial config is
//! the reprovision policy that discards test data, §8.4) and Production allows it.

use base64::Engine as _;
use iot_dps_proto::Event;
use iot_hub_auth::{AuthenticationType, DenyReason, HubSettings, Transport};
use iot_sas::{SharedAccessKey, derive_device_key};
use iot_x509::CertificateDer;
use serde::Serialize;

pub use crate::frontend::{DeviceCredential, DpsFrontEnd, Hubs, Provisioning, SimDevice};
use crate::service::{hex_upper, sha256};
use crate::{
    AllocationPolicy, Attestation, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup,
    EnrollmentRef, EnrollmentSettings, Error, HubChange, IndividualEnrollment, LinkedHub,
    ProvisioningService, ReprovisionPolicy, X509Attestation, X509CaReferences,
    X509CertificateWithInfo, X509Certificates,
};

/// Registration ID of the individual symmetric-key device.
pub const SYMMETRIC_DEVICE: &str = "sym-device-01";
/// Registration ID of the symmetric-key group device.
pub const GROUP_DEVICE: &str = "group-device-01";
/// Registration ID (leaf CN) of the X.509 CA group device.
pub const CA_DEVICE: &str = "ca-device-01";
/// Registration ID (leaf CN) of the individual X.509 device.
pub const X509_DEVICE: &str = "x509-device-01";
/// Registration ID of the device whose enrollment is revoked.
pub const REVOKED_DEVICE: &str = "revoked-device-01";
/// Name of the root CA registered (and verified) in DPS.
pub const ROOT_CA_NAME: &str = "demo-root";

/// Everything the workflow needs from outside: names, time, and freshly generated keys and
/// certificates (the caller owns randomness; this crate never draws any).
#[derive(Clone, Debug)]
pub struct ScenarioInputs {
    /// DPS ID scope.
    pub id_scope: String,
    /// Test hub host name.
    pub test_hub: String,
    /// Production hub host name.
    pub production_hub: String,
    /// Start time, Unix seconds.
    pub now: u64,
    /// Individual enrollment keys (primary, secondary), base64, 16..=64 bytes.
    pub individual_keys: (String, String),
    /// Symmetric-key group keys (primary, secondary), base64, 16..=64 bytes.
    pub group_keys: (String, String),
    /// Keys of the enrollment that gets revoked (primary, secondary), base64.
    pub revoked_keys: (String, String),
    /// Root CA certificate, DER (registered in DPS, verified).
    pub root_ca_der: Vec<u8>,
    /// Device certificate with CN = [`CA_DEVICE`], issued by the root CA, DER.
    pub ca_device_der: Vec<u8>,
    /// Device certificate with CN = [`X509_DEVICE`] (self-signed or CA-issued), DER.
    pub x509_device_der: Vec<u8>,
}

impl ScenarioInputs {
    /// Names: ID scope `0ne00DEMO01`, hubs `contoso-test.azure-devices.net` and
    /// `contoso-prod.azure-devices.net`.
    pub fn with_material(
        now: u64,
        keys: [[u8; 32]; 6],
        root_ca_der: Vec<u8>,
        ca_device_der: Vec<u8>,
        x509_device_der: Vec<u8>,
    ) -> Self {
        let b64 = |k: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
        Self {
            id_scope: "0ne00DEMO01".into(),
            test_hub: "contoso-test.azure-devices.net".into(),
            production_hub: "contoso-prod.azure-devices.net".into(),
            now,
            individual_keys: (b64(&keys[0]), b64(&keys[1])),
            group_keys: (b64(&keys[2]), b64(&keys[3])),
            revoked_keys: (b64(&keys[4]), b64(&keys[5])),
            root_ca_der,
            ca_device_der,
            x509_device_der,
        }
    }
}

/// The whole story.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Story {
    /// True when every expected decision happened.
    pub ok: bool,
    /// One report per scenario.
    pub scenarios: Vec<ScenarioReport>,
}

/// One scenario.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    /// What is being shown.
    pub name: String,
    /// True when every step went as expected.
    pub ok: bool,
    /// The steps.
    pub steps: Vec<StepReport>,
}

/// One step: what was expected, what happened, and why.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// The step.
    pub step: String,
    /// The expected decision.
    pub expected: String,
    /// The decision that happened, with its reason.
    pub actual: String,
    /// Whether they agree.
    pub ok: bool,
    /// Further facts (hub changes applied, identities created, warnings).
    pub notes: Vec<String>,
}

/// What a connect step expects.
enum Expect {
    Allowed,
    Denied(fn(&DenyReason) -> bool, &'static str),
}

struct World {
    inputs: ScenarioInputs,
    service: ProvisioningService,
    front: DpsFrontEnd,
    hubs: Hubs,
    now: u64,
}

/// Runs every scenario and returns the story.
///
/// # Errors
/// Setup errors only (inputs that do not make valid enrollments or hubs); every decision,
/// expected or not, is in the story.
pub fn run_test_to_production(inputs: &ScenarioInputs) -> Result<Story, Error> {
    let mut world = World::new(inputs)?;
    let mut scenarios = Vec::new();
    let root = CertificateDer::from(inputs.root_ca_der.clone());
    let sym_key = key(&inputs.individual_keys.0)?;
    let group_primary = key(&inputs.group_keys.0)?;
    let derived = derive_device_key(&group_primary, GROUP_DEVICE);
    let ca_chain = vec![
        CertificateDer::from(inputs.ca_device_der.clone()),
        root.clone(),
    ];
    let x509_chain = vec![CertificateDer::from(inputs.x509_device_der.clone())];
    let device = |id: &str, credential: DeviceCredential| SimDevice {
        registration_id: id.to_owned(),
        credential,
        dps_transport: DpsTransport::Mqtt,
    };
    scenarios.push(world.move_to_production(
        "individual enrollment, symmetric key",
        &EnrollmentRef::Individual(SYMMETRIC_DEVICE.into()),
        &device(
            SYMMETRIC_DEVICE,
            DeviceCredential::SymmetricKey(Box::new(sym_key)),
        ),
        None,
    ));
    scenarios.push(world.move_to_production(
        "enrollment group, symmetric key (device key derived from the group key)",
        &EnrollmentRef::Group("sym-group".into()),
        &device(
            GROUP_DEVICE,
            DeviceCredential::SymmetricKey(Box::new(derived)),
        ),
        None,
    ));
    scenarios.push(world.move_to_production(
        "enrollment group, X.509 CA (the hub gets a selfSigned SHA-256 thumbprint)",
        &EnrollmentRef::Group("ca-group".into()),
        &device(CA_DEVICE, DeviceCredential::X509(ca_chain.clone())),
        Some(&inputs.ca_device_der),
    ));
    scenarios.push(world.move_to_production(
        "individual enrollment, X.509 device certificate",
        &EnrollmentRef::Individual(X509_DEVICE.into()),
        &device(X509_DEVICE, DeviceCredential::X509(x509_chain)),
        Some(&inputs.x509_device_der),
    ));
    scenarios.push(world.websocket_refused(&SimDevice {
        dps_transport: DpsTransport::MqttWebSockets,
        ..device(CA_DEVICE, DeviceCredential::X509(ca_chain))
    }));
    let revoked_key = key(&inputs.revoked_keys.0)?;
    scenarios.push(world.revocation(&device(
        REVOKED_DEVICE,
        DeviceCredential::SymmetricKey(Box::new(revoked_key)),
    )));
    Ok(Story {
        ok: scenarios.iter().all(|s| s.ok),
        scenarios,
    })
}

fn key(text: &str) -> Result<SharedAccessKey, Error> {
    SharedAccessKey::from_base64(text).map_err(|_| Error::KeyNotBase64 {
        enrollment: EnrollmentRef::Individual("scenario input".into()),
    })
}

fn pem_free_base64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

impl World {
    fn new(inputs: &ScenarioInputs) -> Result<Self, Error> {
        let mut instance = DpsInstance::new(&inputs.id_scope);
        instance.linked_hubs = vec![
            LinkedHub::new(&inputs.test_hub),
            LinkedHub::new(&inputs.production_hub),
        ];
        instance.certificates = vec![DpsCertificate {
            name: ROOT_CA_NAME.into(),
            certificate: pem_free_base64(&inputs.root_ca_der),
            is_verified: true,
        }];
        let test_only = EnrollmentSettings {
            allocation_policy: Some(AllocationPolicy::Static),
            iot_hubs: vec![inputs.test_hub.clone()],
            reprovision_policy: ReprovisionPolicy {
                update_hub_assignment: true,
                migrate_device_data: false,
            },
            ..EnrollmentSettings::default()
        };
        let individual = |id: &str, attestation: Attestation| IndividualEnrollment {
            registration_id: id.into(),
            device_id: None,
            attestation,
            settings: test_only.clone(),
        };
        let x509_individual = X509Attestation {
            client_certificates: Some(X509Certificates {
                primary: Some(X509CertificateWithInfo::new(&pem_free_base64(
                    &inputs.x509_device_der,
                ))),
                secondary: None,
            }),
            ..X509Attestation::default()
        };
        let ca_group = X509Attestation {
            ca_references: Some(X509CaReferences {
                primary: Some(ROOT_CA_NAME.into()),
                secondary: None,
            }),
            ..X509Attestation::default()
        };
        let individuals = vec![
            individual(
                SYMMETRIC_DEVICE,
                Attestation::symmetric_key(&inputs.individual_keys.0, &inputs.individual_keys.1),
            ),
            individual(X509_DEVICE, Attestation::x509(x509_individual)),
            individual(
                REVOKED_DEVICE,
                Attestation::symmetric_key(&inputs.revoked_keys.0, &inputs.revoked_keys.1),
            ),
        ];
        let groups = vec![
            EnrollmentGroup {
                enrollment_group_id: "sym-group".into(),
                attestation: Attestation::symmetric_key(&inputs.group_keys.0, &inputs.group_keys.1),
                settings: test_only.clone(),
            },
            EnrollmentGroup {
                enrollment_group_id: "ca-group".into(),
                attestation: Attestation::x509(ca_group),
                settings: test_only.clone(),
            },
        ];
        let service = ProvisioningService::load(instance, individuals, groups)?;
        let mut hubs = Hubs::new();
        for host in [&inputs.test_hub, &inputs.production_hub] {
            let settings = HubSettings::new(host).map_err(|e| Error::InvalidHubHost {
                host: format!("{host}: {e}"),
            })?;
            hubs.add(settings);
        }
        Ok(Self {
            inputs: inputs.clone(),
            service,
            front: DpsFrontEnd::new(),
            hubs,
            now: inputs.now,
        })
    }

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
        let run = self
            .front
            .provision(&self.service, &mut self.hubs, device, now);
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
        let want = hex_upper(&sha256(leaf));
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
        let result = self.hubs.connect(
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

    fn move_to_production(
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

    fn websocket_refused(&mut self, device: &SimDevice) -> ScenarioReport {
        let now = self.tick(10);
        let run = self
            .front
            .provision(&self.service, &mut self.hubs, device, now);
        let expected =
            "dps refuses: X.509 CA attestation over WebSockets is disabled (401002)".to_owned();
        let (actual, ok) = match &run.outcome {
            Some(o) => {
                let ok = matches!(
                    &o.decision,
                    crate::Decision::Failed(crate::RegistrationFailure::X509CaOverWebSockets)
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

    fn revocation(&mut self, device: &SimDevice) -> ScenarioReport {
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
                            crate::RevocationWarning::HubAccessRemainsUntilApplied { .. }
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
        let run = self
            .front
            .provision(&self.service, &mut self.hubs, device, now);
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
                crate::TwinChange::Initial { .. } => "initial twin",
                crate::TwinChange::MigrateFrom { .. } => "twin migrated",
                crate::TwinChange::Keep => "twin kept",
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
