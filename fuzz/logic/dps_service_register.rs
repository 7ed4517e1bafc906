// Fuzz logic for `ProvisioningService::register` (iot-dps-service): a registration request
// with an arbitrary registration ID, SAS token, body, MQTT user name, client certificate and
// transport against a fixed instance. Shared by fuzz/fuzz_targets/dps_service_register.rs and
// iot-dps-service/tests/fuzz_replay.rs, which replays the seeds through `Input::parse` and
// `Input::register` below.
//
// Input: byte 0 = flags (bit 0 send the token, bit 1 send the certificate, bit 2 send the user
// name, bits 3..=5 the transport (mod 5: MQTT, MQTT-WS, AMQP, AMQP-WS, HTTPS), bit 6 pass a
// previous registration record on hub `a`), then fields separated by 0x00: registration ID,
// token, body, user name, then the rest of the input is the leaf certificate DER. A token that
// starts with 0x01 is signed here (fuzz/sas_reference.rs `sign_mode` with `KEYS`, plus keys 4
// and 5: the device keys derived from group `g1`'s keys for this registration ID).
//
// The world: ID scope `0ne00000001`, hubs `a` and `b`; individual symmetric-key enrollment
// `dev-1`; symmetric-key group `g1`; X.509 groups `cas` (a verified root), `cas-server` (a
// verified root whose EKU is serverAuth only) and `cas-nokcs` (a verified root without
// keyCertSign). Certificates and OpenSSL's verdicts: iot-dps-service/tests/data/fuzz-pki/, made
// by iot-dps-service/tests/data/make_fuzz_seeds.py.
//
// Invariants (oracles: the world tables, fuzz/sas_reference.rs, OpenSSL's verdicts): never
// panics; an `Assigned` decision by symmetric key has `skn` absent or `registration`, an `sr`
// that once decoded names exactly `{idScope}/registrations/{registrationId}`, and a MAC under
// the individual enrollment's key in the record's slot, or under the key derived from the
// group key (never the group key itself); by X.509 the leaf's CN is the registration ID and the
// group is one whose CA OpenSSL accepts for client auth; the record is for this registration
// ID and, after a previous one, keeps its creation time and advances its generation; refusals
// before attestation leave no record and answer a DPS error body with the failure's code.

use std::borrow::Cow;
use std::sync::OnceLock;

use iot_dps_service::{
    Attestation, RegistrationDecision, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup,
    EnrollmentRef, EnrollmentSettings, HubChange, IndividualEnrollment, LinkedHub,
    ProvisioningService, RecordCredential, RecordStatus, RecordSubstatus, RegisterStep,
    RegistrationOutcome, RegistrationRecord, RegistrationRequest, X509Attestation,
    X509CaReferences,
};

#[allow(dead_code)]
mod sas_reference {
    include!("../sas_reference.rs");
}

/// The decision time (2026-06-01, inside every certificate's validity).
pub const NOW: u64 = 1_780_272_000;
/// The instance's ID scope.
pub const SCOPE: &str = "0ne00000001";
/// Keys of the world (base64 of 32 equal bytes): `dev-1` primary and secondary (0x01, 0x02),
/// group `g1` primary and secondary (0x10, 0x11).
pub const KEYS: [&str; 4] = [
    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
    "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
    "EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA=",
    "ERERERERERERERERERERERERERERERERERERERERERE=",
];
/// X.509 groups and their CA: (group ID, CA name, PEM, whether OpenSSL accepts a client leaf
/// under it, fuzz-pki/verdicts.json).
pub const CA_GROUPS: [(&str, &str, &str, bool); 3] = [
    (
        "cas",
        "root",
        include_str!("../../iot-dps-service/tests/data/fuzz-pki/root.pem"),
        true,
    ),
    (
        "cas-server",
        "server-eku",
        include_str!("../../iot-dps-service/tests/data/fuzz-pki/server-eku-root.pem"),
        false,
    ),
    (
        "cas-nokcs",
        "no-keycertsign",
        include_str!("../../iot-dps-service/tests/data/fuzz-pki/no-keycertsign-root.pem"),
        false,
    ),
];

/// The service built from the tables (once).
pub fn service() -> &'static ProvisioningService {
    static SERVICE: OnceLock<ProvisioningService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let mut dps = DpsInstance::new(SCOPE);
        dps.linked_hubs = vec![
            LinkedHub::new("a.azure-devices.net"),
            LinkedHub::new("b.azure-devices.net"),
        ];
        let individual = IndividualEnrollment {
            registration_id: "dev-1".into(),
            device_id: None,
            attestation: Attestation::symmetric_key(KEYS[0], KEYS[1]),
            settings: EnrollmentSettings::default(),
        };
        let mut groups = vec![EnrollmentGroup {
            enrollment_group_id: "g1".into(),
            attestation: Attestation::symmetric_key(KEYS[2], KEYS[3]),
            settings: EnrollmentSettings::default(),
        }];
        for (group, ca, pem, _) in CA_GROUPS {
            dps.certificates.push(DpsCertificate {
                name: ca.into(),
                certificate: pem.into(),
                is_verified: true,
            });
            let refs = X509CaReferences {
                primary: Some(ca.into()),
                secondary: None,
            };
            groups.push(EnrollmentGroup {
                enrollment_group_id: group.into(),
                attestation: Attestation::x509(X509Attestation {
                    ca_references: Some(refs),
                    ..X509Attestation::default()
                }),
                settings: EnrollmentSettings::default(),
            });
        }
        match ProvisioningService::load(dps, [individual], groups) {
            Ok(service) => service,
            Err(err) => panic!("fixed fuzz instance must load: {err}"),
        }
    })
}

/// The device key derived from a group key for a registration ID (reference §3), computed
/// here: base64 of HMAC-SHA256(group key, registration ID).
pub fn derived_key(group_key: &str, registration_id: &str) -> Option<String> {
    let mac = iot_sas::MacKey::from_base64(group_key).ok()?;
    let mut out = [0u8; 44];
    Some(
        mac.sign(&[registration_id.as_bytes()])
            .encode_base64(&mut out)
            .to_owned(),
    )
}

/// One decoded fuzz input.
pub struct Input<'a> {
    /// The flags byte.
    pub flags: u8,
    /// Registration ID.
    pub registration_id: &'a str,
    /// SAS token (after sign mode), when sent.
    pub token: Option<Cow<'a, str>>,
    /// Register body.
    pub body: &'a [u8],
    /// MQTT user name, when sent.
    pub user_name: Option<&'a str>,
    /// The client chain (the leaf, or nothing).
    pub chain: Vec<iot_x509::CertificateDer<'a>>,
    /// Transport.
    pub transport: DpsTransport,
}

impl<'a> Input<'a> {
    /// Splits the input (see the top of this file).
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&flags, rest) = data.split_first()?;
        let mut fields = rest.splitn(5, |b| *b == 0);
        let mut next = || fields.next().unwrap_or_default();
        let (reg, token, body, user, cert) = (next(), next(), next(), next(), next());
        let registration_id = std::str::from_utf8(reg).ok()?;
        let token = std::str::from_utf8(token).ok().filter(|_| flags & 1 != 0);
        let derived: Vec<String> = [KEYS[2], KEYS[3]]
            .iter()
            .filter_map(|key| derived_key(key, registration_id))
            .collect();
        let keys: Vec<&str> = KEYS
            .iter()
            .copied()
            .chain(derived.iter().map(String::as_str))
            .collect();
        let token = token.map(|t| match sas_reference::sign_mode(t, &keys) {
            Some(signed) => Cow::Owned(signed),
            None => Cow::Borrowed(t),
        });
        let user_name = std::str::from_utf8(user).ok().filter(|_| flags & 4 != 0);
        let chain = if flags & 2 != 0 && !cert.is_empty() {
            vec![iot_x509::CertificateDer::from(cert)]
        } else {
            Vec::new()
        };
        let transport = match ((flags >> 3) & 7) % 5 {
            0 => DpsTransport::Mqtt,
            1 => DpsTransport::MqttWebSockets,
            2 => DpsTransport::Amqp,
            3 => DpsTransport::AmqpWebSockets,
            _ => DpsTransport::Https,
        };
        Some(Self {
            flags,
            registration_id,
            token,
            body,
            user_name,
            chain,
            transport,
        })
    }

    /// The record passed as the previous registration (flag bit 6).
    pub fn previous(&self) -> Option<RegistrationRecord> {
        (self.flags & 64 != 0).then(|| RegistrationRecord {
            registration_id: self.registration_id.to_owned(),
            assigned_hub: "a.azure-devices.net".into(),
            device_id: self.registration_id.to_owned(),
            status: RecordStatus::Assigned,
            substatus: Some(RecordSubstatus::InitialAssignment),
            error_code: None,
            created: NOW - 1000,
            last_updated: NOW - 1000,
            generation: 7,
            enrollment: EnrollmentRef::Individual(self.registration_id.to_owned()),
            credential: RecordCredential::SymmetricKey {
                slot: iot_sas::KeySlot::Primary,
            },
        })
    }

    /// The registration against the world.
    pub fn register(&self) -> RegistrationOutcome {
        let mut req = RegistrationRequest::new(self.registration_id, NOW);
        req.sas_token = self.token.as_deref();
        req.mqtt_user_name = self.user_name;
        req.body = self.body;
        req.client_chain = &self.chain;
        req.transport = self.transport;
        req.operation_id = "fuzz";
        match service().register(&req, self.previous().as_ref()) {
            RegisterStep::Done(outcome) => *outcome,
            RegisterStep::NeedsCustomAllocation(_) => {
                panic!("no enrollment uses custom allocation")
            }
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let reg = input.registration_id;
    let previous = input.previous();
    let outcome = input.register();
    let json = outcome.response.to_json();
    match &outcome.decision {
        RegistrationDecision::Assigned {
            hub,
            enrollment,
            device_id,
            ..
        } => {
            assert_eq!(outcome.status_code, 200);
            assert!(hub == "a.azure-devices.net" || hub == "b.azure-devices.net");
            let record = outcome.record.as_ref().expect("an assignment has a record");
            assert_eq!(record.status, RecordStatus::Assigned);
            assert!(record.registration_id.eq_ignore_ascii_case(reg));
            if let Some(prev) = &previous {
                // One record per registration ID: creation time kept, generation advanced.
                assert_eq!(
                    (record.created, record.generation),
                    (prev.created, prev.generation + 1)
                );
            }
            assert!(matches!(
                outcome.hub_changes.first(),
                Some(HubChange::Upsert { .. })
            ));
            let op = iot_dps_proto::RegistrationOperationStatus::from_slice(&json);
            assert!(op.is_ok(), "assigned response must parse: {op:?}");
            match (&record.credential, input.token.as_deref()) {
                (RecordCredential::SymmetricKey { slot }, Some(text)) => {
                    let token = iot_sas::SasToken::parse(text).expect("an accepted token parses");
                    assert!(token.key_name().is_none_or(|k| k == "registration"));
                    let sr = token.resource_raw();
                    let resource = [SCOPE, "registrations", reg];
                    assert!(
                        sas_reference::sr_covers(sr, &resource, true),
                        "accepted sr {sr:?} for {reg:?}"
                    );
                    let slot = usize::from(*slot == iot_sas::KeySlot::Secondary);
                    let key = match enrollment {
                        EnrollmentRef::Individual(id) => {
                            assert!(id.eq_ignore_ascii_case("dev-1"));
                            KEYS[slot].to_owned()
                        }
                        EnrollmentRef::Group(id) => {
                            assert_eq!(id, "g1");
                            assert_eq!(device_id, reg);
                            // The group key itself is never accepted: only the derived key.
                            let raw = KEYS[2..].iter();
                            assert!(
                                !raw.into_iter()
                                    .any(|k| sas_reference::signed_with(&token, k))
                            );
                            derived_key(KEYS[2 + slot], reg).expect("derived key")
                        }
                    };
                    assert!(
                        sas_reference::signed_with(&token, &key),
                        "MAC of another key"
                    );
                }
                (RecordCredential::X509 { .. }, None) => {
                    let leaf = input.chain.first().expect("an X.509 assignment has a leaf");
                    let info = iot_x509::CertificateInfo::parse(leaf.as_ref()).expect("leaf");
                    assert_eq!(info.common_names(), [reg.to_owned()]);
                    let EnrollmentRef::Group(group) = enrollment else {
                        panic!("no individual X.509 enrollment in the world")
                    };
                    let (_, _, _, accepted) = CA_GROUPS
                        .into_iter()
                        .find(|g| g.0 == group)
                        .expect("a world group");
                    assert!(
                        accepted,
                        "assigned through {group}, whose CA OpenSSL refuses"
                    );
                }
                (credential, token) => panic!("assigned by {credential:?} with token {token:?}"),
            }
        }
        RegistrationDecision::Disabled { .. } => panic!("no enrollment is disabled"),
        RegistrationDecision::Failed(failure) => {
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
