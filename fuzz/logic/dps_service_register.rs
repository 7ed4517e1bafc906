// Fuzz logic for `ProvisioningService::register` (iot-dps-service): a registration request
// with an arbitrary registration ID, SAS token, body, MQTT user name, client certificate and
// transport against a fixed instance (individual symmetric-key enrollment `dev-1`,
// symmetric-key group `g1`, X.509 CA group `cas` on a verified root). Never panics; checks
// the decision invariants. Shared by fuzz/fuzz_targets/dps_service_register.rs and
// iot-dps-service/tests/fuzz_replay.rs.
//
// Input: byte 0 = flags (bit 0 send the token, bit 1 send the certificate, bit 2 send the
// user name, bits 3..=5 transport, bit 6 pass a previous registration record on hub `a`), then fields separated by 0x00: registration ID, token,
// body, user name, then the rest of the input is the leaf certificate DER.

use std::sync::OnceLock;

use iot_dps_service::{
    Attestation, Decision, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup,
    EnrollmentRef, EnrollmentSettings, HubChange, IndividualEnrollment, KeySlotName, LinkedHub,
    ProvisioningService, RecordCredential, RecordStatus, RecordSubstatus, RegisterStep,
    RegistrationRecord, RegistrationRequest, X509Attestation, X509CaReferences,
};

const NOW: u64 = 1_700_000_000;
/// 32 bytes of 0x10, the group's primary key.
const GROUP_PRIMARY: &str = "EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA=";
const ROOT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBajCCARCgAwIBAgIQcWoGi7KT5icwpQZlzX6uLzAKBggqhkjOPQQDAjAUMRIw\nEAYDVQQDDAlmdXp6IHJvb3QwIBcNMjAwOTEzMTIyNjQwWhgPMjEyMDA4MjAxMjI2\nNDBaMBQxEjAQBgNVBAMMCWZ1enogcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\nA0IABPZtB1XCMMgYzMU0AiEFE1Lc2Cl2Fht83uky+aPINoQvIHMpODwcAn40GqS0\n7MpPybInCxcxc7Tb4YZIDco1PU6jQjBAMA4GA1UdDwEB/wQEAwIBhjAdBgNVHQ4E\nFgQUNo0agtln5Ckc5FEnAvPCI4djQx4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjO\nPQQDAgNIADBFAiAXMbQY+lbXA2SbZCzYVe+LNDohjcPXMQQvndp0SdaukQIhAMG0\nVGWpH4ZqntvOKQtwi/9bctepyeogcMm2+K0UqrwD\n-----END CERTIFICATE-----";

pub fn service() -> &'static ProvisioningService {
    static SERVICE: OnceLock<ProvisioningService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let mut dps = DpsInstance::new("0ne00000001");
        dps.linked_hubs = vec![LinkedHub::new("a.azure-devices.net"), LinkedHub::new("b.azure-devices.net")];
        dps.certificates = vec![DpsCertificate { name: "root".into(), certificate: ROOT_PEM.into(), is_verified: true }];
        let individual = IndividualEnrollment {
            registration_id: "dev-1".into(),
            device_id: None,
            // 32 bytes of 0x01 and 0x02.
            attestation: Attestation::symmetric_key(
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
                "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            ),
            settings: EnrollmentSettings::default(),
        };
        let group = EnrollmentGroup {
            enrollment_group_id: "g1".into(),
            attestation: Attestation::symmetric_key(GROUP_PRIMARY, "ERERERERERERERERERERERERERERERERERERERERERE="),
            settings: EnrollmentSettings::default(),
        };
        let refs = X509CaReferences { primary: Some("root".into()), secondary: None };
        let cas = EnrollmentGroup {
            enrollment_group_id: "cas".into(),
            attestation: Attestation::x509(X509Attestation { ca_references: Some(refs), ..X509Attestation::default() }),
            settings: EnrollmentSettings::default(),
        };
        match ProvisioningService::load(dps, [individual], [group, cas]) {
            Ok(service) => service,
            Err(err) => panic!("fixed fuzz instance must load: {err}"),
        }
    })
}

pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut fields = rest.splitn(5, |b| *b == 0);
    let mut next = || fields.next().unwrap_or_default();
    let (reg, token, body, user, cert) = (next(), next(), next(), next(), next());
    let Ok(reg) = std::str::from_utf8(reg) else { return };
    let token = std::str::from_utf8(token).ok().filter(|_| flags & 1 != 0);
    let user = std::str::from_utf8(user).ok().filter(|_| flags & 4 != 0);
    let chain: Vec<iot_x509::CertificateDer<'static>> =
        if flags & 2 != 0 && !cert.is_empty() { vec![iot_x509::CertificateDer::from(cert.to_vec())] } else { Vec::new() };
    let transport = match (flags >> 3) % 5 {
        0 => DpsTransport::Mqtt,
        1 => DpsTransport::MqttWebSockets,
        2 => DpsTransport::Amqp,
        3 => DpsTransport::AmqpWebSockets,
        _ => DpsTransport::Https,
    };
    let mut req = RegistrationRequest::new(reg, NOW);
    req.sas_token = token;
    req.mqtt_user_name = user;
    req.body = body;
    req.client_chain = &chain;
    req.transport = transport;
    req.operation_id = "fuzz";
    let previous = (flags & 64 != 0).then(|| RegistrationRecord {
        registration_id: reg.to_owned(),
        assigned_hub: "a.azure-devices.net".into(),
        device_id: reg.to_owned(),
        status: RecordStatus::Assigned,
        substatus: Some(RecordSubstatus::InitialAssignment),
        error_code: None,
        created: NOW - 1000,
        last_updated: NOW - 1000,
        generation: 7,
        enrollment: EnrollmentRef::Individual(reg.to_owned()),
        credential: RecordCredential::SymmetricKey { slot: KeySlotName::Primary },
    });
    let outcome = match service().register(&req, previous.as_ref()) {
        RegisterStep::Done(outcome) => *outcome,
        RegisterStep::NeedsCustomAllocation(_) => panic!("no enrollment uses custom allocation"),
    };
    let json = outcome.response.to_json();
    match &outcome.decision {
        Decision::Assigned { hub, enrollment, .. } => {
            assert_eq!(outcome.status_code, 200);
            assert!(hub == "a.azure-devices.net" || hub == "b.azure-devices.net");
            let record = outcome.record.as_ref();
            assert!(record.is_some_and(|r| r.status == RecordStatus::Assigned));
            if let (Some(prev), Some(new)) = (&previous, record) {
                // One record per registration ID: creation time kept, generation advanced.
                assert_eq!((new.created, new.generation), (prev.created, prev.generation + 1));
            }
            assert!(matches!(outcome.hub_changes.first(), Some(HubChange::Upsert { .. })));
            let op = iot_dps_proto::RegistrationOperationStatus::from_slice(&json);
            assert!(op.is_ok(), "assigned response must parse: {op:?}");
            if *enrollment == EnrollmentRef::Group("g1".into()) {
                // The group key itself is never accepted: only the derived key signs.
                let raw = iot_sas::SharedAccessKey::from_base64(GROUP_PRIMARY);
                let parsed = token.map(iot_sas::SasToken::parse);
                if let (Ok(raw), Some(Ok(parsed))) = (raw, parsed) {
                    assert!(parsed.verify_signature(&raw).is_err(), "group key accepted");
                }
            }
        }
        Decision::Disabled { .. } => panic!("no enrollment is disabled"),
        Decision::Failed(failure) => {
            if failure.after_attestation() {
                assert!(outcome.record.is_some());
            } else {
                assert!(outcome.record.is_none() && outcome.hub_changes.is_empty());
                assert!((400..500).contains(&outcome.status_code));
                let body = iot_dps_proto::ErrorBody::from_slice(&json);
                assert!(body.is_ok_and(|b| b.error_code == Some(failure.error_code())));
            }
        }
    }
}
