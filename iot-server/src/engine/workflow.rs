//! The test-to-production workflow (reference ../shared/reference/azure-iot-protocol.md
//! §7.5, §7.6, §8.3, §8.4), end to end over every crate of the workspace, in memory. Used by
//! `iot demo` and by this crate's `tests/test_to_production.rs`: both run this code, and the
//! server's DPS endpoint and hubs are the same [`DpsFrontEnd`] and [`Hubs`].
//!
//! The five steps, per attestation kind: (1) the device registers and DPS assigns the Test
//! hub; (2) it connects to Test: allowed; (3) the operator moves the enrollment to Production
//! and deletes the device from Test; (4) Test refuses the next connect; (5) the device
//! registers again, DPS assigns Production (`deviceDataReset`: reset to the initial config is
//! the reprovision policy that discards test data, §8.4) and Production allows it.

use base64::Engine as _;
use iot_hub_auth::HubSettings;
use iot_sas::{SharedAccessKey, derive_device_key};
use iot_x509::CertificateDer;
use serde::Serialize;

pub use crate::engine::dps::DpsFrontEnd;
pub use crate::engine::hubs::Hubs;
use iot_dps_service::{
    AllocationPolicy, Attestation, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup,
    EnrollmentRef, EnrollmentSettings, Error, IndividualEnrollment, LinkedHub, ProvisioningService,
    ReprovisionPolicy, X509Attestation, X509CaReferences, X509CertificateWithInfo,
    X509Certificates,
};
pub use sim::{DeviceCredential, Provisioning, SimDevice, connect, provision};

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
/// certificates (the caller owns randomness; this crate never draws any). `Debug` prints the
/// names and sizes, never the keys.
#[derive(Clone)]
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

impl core::fmt::Debug for ScenarioInputs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScenarioInputs")
            .field("id_scope", &self.id_scope)
            .field("test_hub", &self.test_hub)
            .field("production_hub", &self.production_hub)
            .field("now", &self.now)
            .field("individual_keys", &"<redacted>")
            .field("group_keys", &"<redacted>")
            .field("revoked_keys", &"<redacted>")
            .field("root_ca_der_len", &self.root_ca_der.len())
            .field("ca_device_der_len", &self.ca_device_der.len())
            .field("x509_device_der_len", &self.x509_device_der.len())
            .finish()
    }
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
    SharedAccessKey::from_base64(text).map_err(|source| Error::InvalidKey {
        enrollment: EnrollmentRef::Individual("scenario input".into()),
        slot: iot_sas::KeySlot::Primary,
        source,
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
}

mod scenarios;
mod sim;
mod steps;
pub use steps::identity_of_leaf;
