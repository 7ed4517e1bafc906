//! Registration decision rules, one test per rule (reference
//! ../shared/reference/azure-iot-protocol.md §3, §5.3, §5.4, §7.5, §7.6, §8.2, §8.3, §9).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use base64::Engine as _;
use iot_dps_service::{
    AllocationPolicy, AllocationResponse, Attestation, BadCertificate, CustomAllocationDefinition,
    CustomAllocationFailure, DeviceResponse, DpsCertificate, DpsInstance, DpsTransport,
    EnrollmentGroup, EnrollmentRef, EnrollmentSettings, Error, HubChange, HubLatency,
    IndividualEnrollment, LinkedHub, MalformedRequest, ProvisioningService, ProvisioningStatus,
    RecordCredential, RecordStatus, RecordSubstatus, RegisterStep, RegistrationDecision,
    RegistrationFailure, RegistrationOutcome, RegistrationRecord, RegistrationRequest,
    ReprovisionPolicy, RevocationAction, RevocationWarning, TwinChange, UnusableCertificate,
    X509Attestation, X509CaReferences, X509CertificateWithInfo, X509Certificates,
};
use iot_hub_auth::AuthenticationType;
use iot_sas::{ResourceUri, SharedAccessKey, derive_device_key, sign};
use iot_x509::CertificateDer;
use iot_x509::generate::{
    GeneratedCert, Validity, new_device_cert, new_intermediate_ca, new_root_ca,
    new_self_signed_device_cert,
};

const SCOPE: &str = "0ne00002193";
const A: &str = "hub-a.azure-devices.net";
const B: &str = "hub-b.azure-devices.net";
const NOW: u64 = 1_767_225_600;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn key_text(seed: u8) -> String {
    b64(&[seed; 32])
}

fn instance() -> DpsInstance {
    let mut dps = DpsInstance::new(SCOPE);
    dps.linked_hubs = vec![LinkedHub::new(A), LinkedHub::new(B)];
    dps
}

fn sym_individual(id: &str, seed: u8) -> IndividualEnrollment {
    IndividualEnrollment {
        registration_id: id.into(),
        device_id: None,
        attestation: Attestation::symmetric_key(&key_text(seed), &key_text(seed + 1)),
        settings: EnrollmentSettings::default(),
    }
}

fn sym_group(id: &str, seed: u8) -> EnrollmentGroup {
    EnrollmentGroup {
        enrollment_group_id: id.into(),
        attestation: Attestation::symmetric_key(&key_text(seed), &key_text(seed + 1)),
        settings: EnrollmentSettings::default(),
    }
}

fn token(key: &SharedAccessKey, scope: &str, reg: &str, expiry: u64, skn: Option<&str>) -> String {
    let resource = ResourceUri::DpsRegistration {
        id_scope: scope,
        registration_id: reg,
    };
    sign(key, &resource, expiry, skn).unwrap()
}

fn key(seed: u8) -> SharedAccessKey {
    SharedAccessKey::from_base64(&key_text(seed)).unwrap()
}

fn register_sas(
    service: &ProvisioningService,
    reg: &str,
    token: &str,
    previous: Option<&RegistrationRecord>,
) -> RegistrationOutcome {
    let mut req = RegistrationRequest::new(reg, NOW);
    req.sas_token = Some(token);
    req.operation_id = "op-1";
    match service.register(&req, previous) {
        RegisterStep::Done(outcome) => *outcome,
        RegisterStep::NeedsCustomAllocation(_) => panic!("unexpected custom allocation"),
    }
}

fn failure(outcome: &RegistrationOutcome) -> &RegistrationFailure {
    match &outcome.decision {
        RegistrationDecision::Failed(f) => f,
        other => panic!("expected a failure, got {other}"),
    }
}

fn assigned(outcome: &RegistrationOutcome) -> (&str, RecordSubstatus, &EnrollmentRef) {
    match &outcome.decision {
        RegistrationDecision::Assigned {
            hub,
            substatus,
            enrollment,
            ..
        } => (hub.as_str(), *substatus, enrollment),
        other => panic!("expected an assignment, got {other}"),
    }
}

// ---- symmetric keys (§3, §9 step 1) ----

#[test]
fn individual_key_is_accepted_with_primary_or_secondary() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    for (seed, slot) in [
        (1, iot_sas::KeySlot::Primary),
        (2, iot_sas::KeySlot::Secondary),
    ] {
        let t = token(&key(seed), SCOPE, "dev-1", NOW + 3600, Some("registration"));
        let out = register_sas(&service, "dev-1", &t, None);
        assert_eq!(assigned(&out).1, RecordSubstatus::InitialAssignment);
        let record = out.record.unwrap();
        assert_eq!(record.credential, RecordCredential::SymmetricKey { slot });
        assert_eq!(record.status, RecordStatus::Assigned);
        // The hub identity gets the enrollment's keys (§9 step 4).
        let HubChange::Upsert { identity, twin, .. } = &out.hub_changes[0] else {
            panic!()
        };
        let sym = identity.authentication.symmetric_key.as_ref().unwrap();
        assert_eq!(sym.primary_key, key_text(1));
        assert_eq!(sym.secondary_key, key_text(2));
        assert!(matches!(twin, TwinChange::Initial { .. }));
    }
}

#[test]
fn skn_may_be_absent_but_not_another_name() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    assert!(matches!(
        register_sas(&service, "dev-1", &t, None).decision,
        RegistrationDecision::Assigned { .. }
    ));
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, Some("iothubowner"));
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(failure(&out), RegistrationFailure::KeyName { .. }));
    assert_eq!((out.status_code, out.record.is_none()), (401, true));
}

#[test]
fn resource_must_be_scope_registrations_id_case_insensitively() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let t = token(
        &key(1),
        "0NE00002193",
        "DEV-1",
        NOW + 3600,
        Some("registration"),
    );
    assert!(matches!(
        register_sas(&service, "dev-1", &t, None).decision,
        RegistrationDecision::Assigned { .. }
    ));
    for (scope, reg) in [("0ne00000000", "dev-1"), (SCOPE, "dev-2")] {
        let t = token(&key(1), scope, reg, NOW + 3600, Some("registration"));
        let out = register_sas(&service, "dev-1", &t, None);
        assert!(
            matches!(failure(&out), RegistrationFailure::ResourceMismatch { .. }),
            "{scope}/{reg}"
        );
    }
    // A hub-style resource is not a DPS resource.
    let hub = ResourceUri::Device {
        host: A,
        device_id: "dev-1",
    };
    let t = sign(&key(1), &hub, NOW + 3600, None).unwrap();
    assert!(matches!(
        failure(&register_sas(&service, "dev-1", &t, None)),
        RegistrationFailure::ResourceMismatch { .. }
    ));
}

/// The token's own checks run in `iot_sas::check_token`'s order (MAC, expiry, scope): a token
/// that fails several reports the first.
#[test]
fn token_checks_run_mac_then_expiry_then_scope() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let late = NOW - 3600;
    // Another enrollment's key, expired, for another registration: the MAC speaks first.
    let t = token(&key(9), SCOPE, "dev-2", late, None);
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(
        failure(&out),
        RegistrationFailure::KeyMismatch { .. }
    ));
    // The enrollment's key, expired, for another registration: then the expiry.
    let t = token(&key(1), SCOPE, "dev-2", late, None);
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(failure(&out), RegistrationFailure::Token(_)));
    // The enrollment's key, in time, for another registration: last the scope.
    let t = token(&key(1), SCOPE, "dev-2", NOW + 3600, None);
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(
        failure(&out),
        RegistrationFailure::ResourceMismatch { .. }
    ));
}

#[test]
fn expired_and_forged_tokens_fail_with_401002() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW - 301, Some("registration"));
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(
        matches!(
            failure(&out),
            RegistrationFailure::Token(iot_sas::Error::Expired { .. })
        ),
        "{:?}",
        out.decision
    );
    let t = token(&key(9), SCOPE, "dev-1", NOW + 60, Some("registration"));
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(
        failure(&out),
        RegistrationFailure::KeyMismatch { .. }
    ));
    assert_eq!(failure(&out).error_code(), 401_002);
    let DeviceResponse::Error(body) = &out.response else {
        panic!()
    };
    assert_eq!(body.error_code, Some(401_002));
    assert_eq!(body.http_status(), Some(401));
    let out = register_sas(&service, "dev-1", "SharedAccessSignature garbage", None);
    assert!(matches!(failure(&out), RegistrationFailure::Token(_)));
}

#[test]
fn registration_id_lookup_is_case_insensitive_and_device_id_comes_from_the_enrollment() {
    let mut e = sym_individual("Sensor-01", 1);
    e.device_id = Some("sensor-device".into());
    let service = ProvisioningService::load(instance(), [e], []).unwrap();
    let t = token(
        &key(1),
        SCOPE,
        "sensor-01",
        NOW + 3600,
        Some("registration"),
    );
    let out = register_sas(&service, "sensor-01", &t, None);
    let RegistrationDecision::Assigned {
        device_id,
        enrollment,
        ..
    } = &out.decision
    else {
        panic!("{}", out.decision)
    };
    assert_eq!(device_id, "sensor-device");
    assert_eq!(enrollment, &EnrollmentRef::Individual("Sensor-01".into()));
}

#[test]
fn group_accepts_the_derived_key_from_either_group_key() {
    let groups = [sym_group("g1", 10), sym_group("g2", 20)];
    let service = ProvisioningService::load(instance(), [], groups).unwrap();
    for (seed, slot) in [
        (20, iot_sas::KeySlot::Primary),
        (21, iot_sas::KeySlot::Secondary),
    ] {
        let device_key = derive_device_key(&key(seed), "member-7");
        let t = token(
            &device_key,
            SCOPE,
            "member-7",
            NOW + 3600,
            Some("registration"),
        );
        let out = register_sas(&service, "member-7", &t, None);
        assert_eq!(assigned(&out).2, &EnrollmentRef::Group("g2".into()));
        assert_eq!(
            out.record.as_ref().unwrap().credential,
            RecordCredential::SymmetricKey { slot }
        );
        // The hub identity gets the derived keys (§3: the same key signs the hub token).
        let HubChange::Upsert { identity, .. } = &out.hub_changes[0] else {
            panic!()
        };
        let sym = identity.authentication.symmetric_key.as_ref().unwrap();
        assert_eq!(
            sym.primary_key,
            *derive_device_key(&key(20), "member-7").to_base64()
        );
        assert_eq!(
            sym.secondary_key,
            *derive_device_key(&key(21), "member-7").to_base64()
        );
        let op = out.response.operation().unwrap();
        let state = op.registration_state.as_ref().unwrap();
        assert_eq!(
            state
                .symmetric_key
                .as_ref()
                .unwrap()
                .enrollment_group_id
                .as_deref(),
            Some("g2")
        );
    }
}

#[test]
fn group_key_itself_is_never_accepted() {
    let service = ProvisioningService::load(instance(), [], [sym_group("g1", 10)]).unwrap();
    for seed in [10, 11] {
        let t = token(
            &key(seed),
            SCOPE,
            "member-1",
            NOW + 3600,
            Some("registration"),
        );
        let out = register_sas(&service, "member-1", &t, None);
        assert!(
            matches!(failure(&out), RegistrationFailure::NoEnrollment { .. }),
            "{}",
            out.decision
        );
        assert!(out.hub_changes.is_empty() && out.record.is_none());
    }
}

#[test]
fn derivation_uses_the_registration_id_bytes_as_presented() {
    let service = ProvisioningService::load(instance(), [], [sym_group("g1", 10)]).unwrap();
    // Key derived for the lower-case ID, device presents the upper-case ID: no match (§11.6).
    let device_key = derive_device_key(&key(10), "member-1");
    let t = token(
        &device_key,
        SCOPE,
        "MEMBER-1",
        NOW + 3600,
        Some("registration"),
    );
    let out = register_sas(&service, "MEMBER-1", &t, None);
    assert!(matches!(
        failure(&out),
        RegistrationFailure::NoEnrollment { .. }
    ));
}

#[test]
fn individual_enrollment_takes_precedence_over_groups() {
    let service = ProvisioningService::load(
        instance(),
        [sym_individual("member-1", 1)],
        [sym_group("g1", 10)],
    )
    .unwrap();
    let device_key = derive_device_key(&key(10), "member-1");
    let t = token(
        &device_key,
        SCOPE,
        "member-1",
        NOW + 3600,
        Some("registration"),
    );
    let out = register_sas(&service, "member-1", &t, None);
    assert_eq!(
        failure(&out),
        &RegistrationFailure::KeyMismatch {
            enrollment: EnrollmentRef::Individual("member-1".into())
        }
    );
}

#[test]
fn disabled_enrollment_answers_disabled_without_hub_changes() {
    let mut e = sym_individual("dev-1", 1);
    e.settings.provisioning_status = ProvisioningStatus::Disabled;
    let service = ProvisioningService::load(instance(), [e], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, Some("registration"));
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(
        out.decision,
        RegistrationDecision::Disabled { .. }
    ));
    assert_eq!(out.status_code, 200);
    assert!(out.hub_changes.is_empty());
    assert_eq!(out.record.unwrap().status, RecordStatus::Disabled);
    let json: serde_json::Value = serde_json::from_slice(&out.response.to_json()).unwrap();
    assert_eq!(json["status"], "disabled");
}

// ---- request checks (§5.1, §5.3) ----

#[test]
fn user_name_and_body_must_agree_with_the_client_id() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, Some("registration"));
    let run = |user: Option<&str>, body: &[u8]| {
        let mut req = RegistrationRequest::new("dev-1", NOW);
        req.sas_token = Some(&t);
        req.mqtt_user_name = user;
        req.body = body;
        match service.register(&req, None) {
            RegisterStep::Done(o) => o.decision,
            RegisterStep::NeedsCustomAllocation(_) => panic!(),
        }
    };
    let good_user = format!("{SCOPE}/registrations/dev-1/api-version=2019-03-31");
    for body in [
        &b""[..],
        b"{}",
        br#"{"registrationId":"dev-1","payload":null}"#,
    ] {
        assert!(
            matches!(
                run(Some(&good_user), body),
                RegistrationDecision::Assigned { .. }
            ),
            "{body:?}"
        );
    }
    // Each malformed request keeps its cause, typed (MalformedRequest), as its source.
    let bad = [
        (
            Some(format!(
                "{SCOPE}/registrations/dev-2/api-version=2019-03-31"
            )),
            &b""[..],
            "UserNameRegistrationId",
        ),
        (
            Some("0neFFFFFFFF/registrations/dev-1/api-version=2019-03-31".to_owned()),
            b"",
            "UserNameIdScope",
        ),
        (
            Some(format!(
                "{SCOPE}/registrations/dev-1/?api-version=2019-03-31"
            )),
            b"",
            "UserName",
        ),
        (None, br#"{"registrationId":"dev-2"}"#, "BodyRegistrationId"),
        (None, b"{not json", "Body"),
    ];
    for (user, body, cause) in bad {
        let d = run(user.as_deref(), body);
        let RegistrationDecision::Failed(failure @ RegistrationFailure::BadRequest(malformed)) = &d
        else {
            panic!("{user:?} {body:?}: {d}");
        };
        let debug = format!("{malformed:?}");
        assert_eq!(debug.split([' ', '(', '{']).next(), Some(cause), "{debug}");
        let source = std::error::Error::source(failure).map(ToString::to_string);
        assert_eq!(source, Some(malformed.to_string()));
        assert_eq!(failure.to_string(), format!("bad request: {malformed}"));
    }
}

#[test]
fn missing_ambiguous_and_tpm_credentials_are_refused() {
    let service = ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
    let decide = |req: &RegistrationRequest<'_>| match service.register(req, None) {
        RegisterStep::Done(o) => o.decision,
        RegisterStep::NeedsCustomAllocation(_) => panic!(),
    };
    let req = RegistrationRequest::new("dev-1", NOW);
    assert_eq!(
        decide(&req),
        RegistrationDecision::Failed(RegistrationFailure::MissingCredential)
    );
    let mut tpm = req;
    tpm.body = br#"{"registrationId":"dev-1","tpm":{"endorsementKey":"AA=="}}"#;
    assert_eq!(
        decide(&tpm),
        RegistrationDecision::Failed(RegistrationFailure::TpmNotSupported)
    );
    let root = new_root_ca("root", Validity::days(NOW as i64 - 60, 10)).unwrap();
    let chain = [CertificateDer::from(root.der.clone())];
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    let mut both = req;
    both.sas_token = Some(&t);
    both.client_chain = &chain;
    assert_eq!(
        decide(&both),
        RegistrationDecision::Failed(RegistrationFailure::AmbiguousCredential)
    );
    let mut bad_id = RegistrationRequest::new("bad id!", NOW);
    bad_id.sas_token = Some(&t);
    assert!(matches!(
        decide(&bad_id),
        RegistrationDecision::Failed(RegistrationFailure::BadRequest(
            MalformedRequest::RegistrationId(Error::InvalidId { .. })
        ))
    ));
}

// ---- allocation (§8.2) ----

#[test]
fn no_candidate_hub_fails_with_400208_after_attestation() {
    let mut dps = instance();
    for hub in &mut dps.linked_hubs {
        hub.apply_allocation_policy = false;
    }
    let service = ProvisioningService::load(dps, [sym_individual("dev-1", 1)], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    let out = register_sas(&service, "dev-1", &t, None);
    assert!(matches!(failure(&out), RegistrationFailure::NoHub { .. }));
    assert_eq!(out.record.as_ref().unwrap().error_code, Some(400_208));
    let state = out
        .response
        .operation()
        .unwrap()
        .registration_state
        .clone()
        .unwrap();
    assert_eq!(state.error_code, Some(400_208));
}

#[test]
fn geo_latency_uses_caller_latencies() {
    let mut e = sym_individual("dev-1", 1);
    e.settings.allocation_policy = Some(AllocationPolicy::GeoLatency);
    let service = ProvisioningService::load(instance(), [e], []).unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    for (a, b, want) in [(10, 90, A), (90, 10, B)] {
        let latencies = [
            HubLatency {
                host: A.into(),
                millis: a,
            },
            HubLatency {
                host: B.into(),
                millis: b,
            },
        ];
        let mut req = RegistrationRequest::new("dev-1", NOW);
        req.sas_token = Some(&t);
        req.latencies = &latencies;
        let RegisterStep::Done(out) = service.register(&req, None) else {
            panic!()
        };
        assert_eq!(assigned(&out).0, want);
    }
}

fn custom_service() -> ProvisioningService {
    let mut e = sym_individual("dev-1", 1);
    e.settings.allocation_policy = Some(AllocationPolicy::Custom);
    e.settings.custom_allocation_definition = Some(CustomAllocationDefinition {
        webhook_url: "https://contoso.example/api/allocate".into(),
        api_version: "2019-03-31".into(),
    });
    ProvisioningService::load(instance(), [e], []).unwrap()
}

#[test]
fn custom_allocation_is_a_two_step_call() {
    let service = custom_service();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    let mut req = RegistrationRequest::new("dev-1", NOW);
    req.sas_token = Some(&t);
    req.body = br#"{"registrationId":"dev-1","payload":{"model":"x1"}}"#;
    let RegisterStep::NeedsCustomAllocation(pending) = service.register(&req, None) else {
        panic!()
    };
    assert_eq!(pending.webhook_url, "https://contoso.example/api/allocate");
    let json = serde_json::to_value(&pending.request).unwrap();
    assert_eq!(json["deviceRuntimeContext"]["registrationId"], "dev-1");
    assert_eq!(json["deviceRuntimeContext"]["payload"]["model"], "x1");
    assert_eq!(json["linkedHubs"], serde_json::json!([A, B]));
    assert_eq!(json["individualEnrollment"]["registrationId"], "dev-1");
    assert!(
        !json.to_string().contains(&key_text(1)),
        "keys must not reach the webhook"
    );
    let answer = AllocationResponse {
        iot_hub_host_name: B.into(),
        initial_twin: None,
        payload: Some(serde_json::json!({"ok": 1})),
    };
    let out = service.complete_custom_allocation((*pending).clone(), Ok(answer));
    assert_eq!(assigned(&out).0, B);
    let state = out
        .response
        .operation()
        .unwrap()
        .registration_state
        .clone()
        .unwrap();
    assert_eq!(state.payload, Some(serde_json::json!({"ok": 1})));
    let wrong = AllocationResponse {
        iot_hub_host_name: "evil.azure-devices.net".into(),
        ..AllocationResponse::default()
    };
    let out = service.complete_custom_allocation((*pending).clone(), Ok(wrong));
    assert_eq!(failure(&out).error_code(), 400_207);
    assert_eq!(
        failure(&out),
        &RegistrationFailure::CustomAllocation {
            reason: CustomAllocationFailure::HubNotLinked {
                hub: "evil.azure-devices.net".into()
            }
        }
    );
    assert_eq!(
        failure(&out).to_string(),
        "custom allocation failed: hub 'evil.azure-devices.net' is not one of the linked hubs"
    );
    assert_eq!(out.record.unwrap().status, RecordStatus::Failed);
    let out = service.complete_custom_allocation(*pending, Err(500));
    assert_eq!(
        failure(&out).to_string(),
        "custom allocation failed: status code: 500"
    );
    assert_eq!(failure(&out).error_code(), 400_207);
    // The typed cause is the failure's source.
    let cause = std::error::Error::source(failure(&out)).expect("a custom allocation cause");
    assert_eq!(
        cause.downcast_ref::<CustomAllocationFailure>(),
        Some(&CustomAllocationFailure::Status(500))
    );
}

// ---- reprovisioning (§8.3) ----

fn retarget(service: &mut ProvisioningService, hub: &str, policy: ReprovisionPolicy) {
    let mut e = service.individual("dev-1").unwrap().clone();
    e.settings.iot_hubs = vec![hub.into()];
    e.settings.allocation_policy = Some(AllocationPolicy::Static);
    e.settings.reprovision_policy = policy;
    service.upsert_individual(e).unwrap();
}

#[test]
fn reprovisioning_reports_each_substatus() {
    let cases = [
        (
            ReprovisionPolicy {
                update_hub_assignment: true,
                migrate_device_data: true,
            },
            B,
            RecordSubstatus::DeviceDataMigrated,
        ),
        (
            ReprovisionPolicy {
                update_hub_assignment: true,
                migrate_device_data: false,
            },
            B,
            RecordSubstatus::DeviceDataReset,
        ),
        (
            ReprovisionPolicy {
                update_hub_assignment: false,
                migrate_device_data: false,
            },
            A,
            RecordSubstatus::InitialAssignment,
        ),
        (
            ReprovisionPolicy::default(),
            A,
            RecordSubstatus::ReprovisionedToInitialAssignment,
        ),
    ];
    for (policy, expect_hub, substatus) in cases {
        let mut service =
            ProvisioningService::load(instance(), [sym_individual("dev-1", 1)], []).unwrap();
        retarget(&mut service, A, ReprovisionPolicy::default());
        let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
        let first = register_sas(&service, "dev-1", &t, None);
        assert_eq!(assigned(&first).1, RecordSubstatus::InitialAssignment);
        let record = first.record.unwrap();
        let target = if substatus == RecordSubstatus::ReprovisionedToInitialAssignment {
            A
        } else {
            B
        };
        retarget(&mut service, target, policy);
        let again = register_sas(&service, "dev-1", &t, Some(&record));
        assert_eq!(assigned(&again).0, expect_hub, "{policy:?}");
        assert_eq!(assigned(&again).1, substatus, "{policy:?}");
        let moved = expect_hub != A;
        let removes = again
            .hub_changes
            .iter()
            .any(|c| matches!(c, HubChange::Remove { hub, .. } if hub == A));
        assert_eq!(removes, moved, "{policy:?}");
        let new = again.record.unwrap();
        assert_eq!(
            (new.created, new.generation),
            (record.created, record.generation + 1)
        );
        if substatus == RecordSubstatus::DeviceDataMigrated {
            assert!(
                matches!(&again.hub_changes[0], HubChange::Upsert { twin: TwinChange::MigrateFrom { hub, .. }, .. } if hub == A)
            );
        }
    }
}

// ---- X.509 (§7.5) ----

struct Pki {
    root: GeneratedCert,
    inter: GeneratedCert,
}

fn validity() -> Validity {
    Validity::days(NOW as i64 - 3600, 30)
}

fn pki() -> Pki {
    let root = new_root_ca("root", validity()).unwrap();
    let inter = new_intermediate_ca("intermediate", &root, validity()).unwrap();
    Pki { root, inter }
}

fn x509_instance(p: &Pki, verified: bool) -> DpsInstance {
    let mut dps = instance();
    dps.certificates = vec![DpsCertificate {
        name: "root".into(),
        certificate: p.root.cert_pem.clone(),
        is_verified: verified,
    }];
    dps
}

fn ca_group(id: &str, ca: &str) -> EnrollmentGroup {
    let x509 = X509Attestation {
        ca_references: Some(X509CaReferences {
            primary: Some(ca.into()),
            secondary: None,
        }),
        ..X509Attestation::default()
    };
    EnrollmentGroup {
        enrollment_group_id: id.into(),
        attestation: Attestation::x509(x509),
        settings: EnrollmentSettings::default(),
    }
}

fn signing_group(id: &str, cert: &GeneratedCert) -> EnrollmentGroup {
    let certs = X509Certificates {
        primary: Some(X509CertificateWithInfo::new(&cert.cert_pem)),
        secondary: None,
    };
    let x509 = X509Attestation {
        signing_certificates: Some(certs),
        ..X509Attestation::default()
    };
    EnrollmentGroup {
        enrollment_group_id: id.into(),
        attestation: Attestation::x509(x509),
        settings: EnrollmentSettings::default(),
    }
}

fn x509_individual(id: &str, cert: &GeneratedCert) -> IndividualEnrollment {
    let certs = X509Certificates {
        primary: Some(X509CertificateWithInfo::new(&b64(&cert.der))),
        secondary: None,
    };
    let x509 = X509Attestation {
        client_certificates: Some(certs),
        ..X509Attestation::default()
    };
    IndividualEnrollment {
        registration_id: id.into(),
        device_id: None,
        attestation: Attestation::x509(x509),
        settings: EnrollmentSettings::default(),
    }
}

fn register_x509(
    service: &ProvisioningService,
    reg: &str,
    chain: &[&GeneratedCert],
    transport: DpsTransport,
) -> RegistrationOutcome {
    let chain: Vec<CertificateDer<'static>> = chain
        .iter()
        .map(|c| CertificateDer::from(c.der.clone()))
        .collect();
    let mut req = RegistrationRequest::new(reg, NOW);
    req.client_chain = &chain;
    req.transport = transport;
    match service.register(&req, None) {
        RegisterStep::Done(o) => *o,
        RegisterStep::NeedsCustomAllocation(_) => panic!(),
    }
}

#[test]
fn ca_group_device_lands_in_the_hub_as_self_signed_sha256() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.inter, validity()).unwrap();
    let service =
        ProvisioningService::load(x509_instance(&p, true), [], [ca_group("by-root", "root")])
            .unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert_eq!(assigned(&out).2, &EnrollmentRef::Group("by-root".into()));
    let HubChange::Upsert { identity, .. } = &out.hub_changes[0] else {
        panic!()
    };
    assert_eq!(
        identity.authentication.r#type,
        AuthenticationType::SelfSigned
    );
    let tp = identity.authentication.x509_thumbprint.as_ref().unwrap();
    let want = iot_x509::Thumbprint::sha256_of(&leaf.der).to_string();
    assert_eq!(tp.primary_thumbprint.as_ref().unwrap().to_string(), want);
    assert_eq!(
        tp.secondary_thumbprint.as_ref().unwrap().to_string(),
        want,
        "primary copied to secondary (§7.1)"
    );
    let state = out
        .response
        .operation()
        .unwrap()
        .registration_state
        .clone()
        .unwrap();
    let x509 = state.x509.unwrap();
    assert_eq!(x509.enrollment_group_id.as_deref(), Some("by-root"));
    assert_eq!(
        x509.certificate_info.unwrap().sha256_thumbprint.as_deref(),
        Some(want.as_str())
    );
}

#[test]
fn first_certificate_up_the_chain_with_an_enrollment_wins() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.inter, validity()).unwrap();
    let groups = [
        ca_group("by-root", "root"),
        signing_group("by-intermediate", &p.inter),
    ];
    let service = ProvisioningService::load(x509_instance(&p, true), [], groups).unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert_eq!(
        assigned(&out).2,
        &EnrollmentRef::Group("by-intermediate".into())
    );
    // An individual enrollment holding the leaf beats both groups.
    let mut service = service;
    service
        .upsert_individual(x509_individual("cam-1", &leaf))
        .unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert_eq!(assigned(&out).2, &EnrollmentRef::Individual("cam-1".into()));
}

#[test]
fn chain_must_reach_a_verified_ca() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.inter, validity()).unwrap();
    let service =
        ProvisioningService::load(x509_instance(&p, false), [], [ca_group("by-root", "root")])
            .unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert!(
        matches!(
            failure(&out),
            RegistrationFailure::Chain(iot_x509::ChainError::CaNotVerified { .. })
        ),
        "{}",
        out.decision
    );
    // Missing intermediate: the chain does not reach the root.
    let service =
        ProvisioningService::load(x509_instance(&p, true), [], [ca_group("by-root", "root")])
            .unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf], DpsTransport::Mqtt);
    assert_eq!(
        failure(&out),
        &RegistrationFailure::Chain(iot_x509::ChainError::UnknownIssuer)
    );
    assert_eq!(out.status_code, 401);
}

/// An unusable leaf keeps its cause, typed: bytes that are no certificate carry iot-x509's
/// parse error as the source.
#[test]
fn unusable_leaf_keeps_its_cause() {
    let p = pki();
    let service =
        ProvisioningService::load(x509_instance(&p, true), [], [ca_group("by-root", "root")])
            .unwrap();
    let garbage = [CertificateDer::from(b"not a certificate".to_vec())];
    let mut req = RegistrationRequest::new("cam-1", NOW);
    req.client_chain = &garbage;
    let RegisterStep::Done(out) = service.register(&req, None) else {
        panic!("unexpected custom allocation");
    };
    let failure = failure(&out);
    let RegistrationFailure::Certificate(UnusableCertificate::Unparsable(cause)) = failure else {
        panic!("{failure:?}");
    };
    let source = std::error::Error::source(failure).map(ToString::to_string);
    assert_eq!(source, Some(cause.to_string()));
    assert_eq!(out.status_code, 401);
}

#[test]
fn registration_id_must_be_the_leaf_cn() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.root, validity()).unwrap();
    let service =
        ProvisioningService::load(x509_instance(&p, true), [], [ca_group("by-root", "root")])
            .unwrap();
    let out = register_x509(&service, "cam-2", &[&leaf], DpsTransport::Mqtt);
    assert!(matches!(
        failure(&out),
        RegistrationFailure::RegistrationIdNotCommonName { .. }
    ));
}

#[test]
fn self_signed_leaf_works_only_through_its_individual_enrollment() {
    let p = pki();
    let leaf = new_self_signed_device_cert("solo-1", validity()).unwrap();
    let service = ProvisioningService::load(x509_instance(&p, true), [], []).unwrap();
    let out = register_x509(&service, "solo-1", &[&leaf], DpsTransport::MqttWebSockets);
    // Its issuer is itself, which no registered CA is.
    assert_eq!(
        failure(&out),
        &RegistrationFailure::Chain(iot_x509::ChainError::UnknownIssuer)
    );
    let service = ProvisioningService::load(
        x509_instance(&p, true),
        [x509_individual("solo-1", &leaf)],
        [],
    )
    .unwrap();
    // Not CA attestation: allowed over WebSockets even with the restriction on.
    let out = register_x509(&service, "solo-1", &[&leaf], DpsTransport::MqttWebSockets);
    assert_eq!(
        assigned(&out).2,
        &EnrollmentRef::Individual("solo-1".into())
    );
}

#[test]
fn ca_attestation_over_websockets_follows_the_instance_setting() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.root, validity()).unwrap();
    let mut dps = x509_instance(&p, true);
    let service =
        ProvisioningService::load(dps.clone(), [], [ca_group("by-root", "root")]).unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf], DpsTransport::AmqpWebSockets);
    assert_eq!(failure(&out), &RegistrationFailure::X509CaOverWebSockets);
    dps.x509_ca_over_websockets = true;
    let service = ProvisioningService::load(dps, [], [ca_group("by-root", "root")]).unwrap();
    assert!(matches!(
        register_x509(&service, "cam-1", &[&leaf], DpsTransport::AmqpWebSockets).decision,
        RegistrationDecision::Assigned { .. }
    ));
}

#[test]
fn disabled_individual_blocks_one_device_of_a_group() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.root, validity()).unwrap();
    let mut blocker = sym_individual("cam-1", 1);
    blocker.settings.provisioning_status = ProvisioningStatus::Disabled;
    let service = ProvisioningService::load(
        x509_instance(&p, true),
        [blocker],
        [ca_group("by-root", "root")],
    )
    .unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf], DpsTransport::Mqtt);
    assert_eq!(
        out.decision,
        RegistrationDecision::Disabled {
            enrollment: EnrollmentRef::Individual("cam-1".into())
        }
    );
    let other = new_device_cert("cam-2", &p.root, validity()).unwrap();
    assert!(matches!(
        register_x509(&service, "cam-2", &[&other], DpsTransport::Mqtt).decision,
        RegistrationDecision::Assigned { .. }
    ));
}

// ---- validation on load (§4, §7.5, §8.1, §5.5) ----

#[test]
fn a_certificate_may_be_in_only_one_enrollment() {
    let p = pki();
    let groups = [signing_group("g1", &p.inter), signing_group("g2", &p.inter)];
    let err = ProvisioningService::load(x509_instance(&p, true), [], groups).unwrap_err();
    assert!(matches!(err, Error::DuplicateCertificate { .. }), "{err}");
    let groups = [ca_group("g1", "root"), signing_group("g2", &p.root)];
    assert!(matches!(
        ProvisioningService::load(x509_instance(&p, true), [], groups),
        Err(Error::DuplicateCertificate { .. })
    ));
    let leaf = new_self_signed_device_cert("dev-9", validity()).unwrap();
    let err = ProvisioningService::load(
        x509_instance(&p, true),
        [x509_individual("dev-8", &leaf)],
        [],
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Certificate {
                source: BadCertificate::CommonName { common_name },
                ..
            } if common_name == "dev-9"
        ),
        "CN must be the registration id: {err}"
    );
    // Text that is neither PEM nor base64 keeps the base64 error as its cause.
    let mut garbage = x509_individual("dev-8", &leaf);
    if let Some(certs) = garbage
        .attestation
        .x509
        .as_mut()
        .and_then(|x509| x509.client_certificates.as_mut())
        && let Some(primary) = certs.primary.as_mut()
    {
        primary.certificate = Some("not base64!".to_owned());
    }
    let err = ProvisioningService::load(x509_instance(&p, true), [garbage], []).unwrap_err();
    let Error::Certificate {
        source: BadCertificate::NotBase64(cause),
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(source, Some(format!("not PEM or base64 DER: {cause}")));
}

#[test]
fn ids_are_unique_and_group_counts_are_limited() {
    let err = ProvisioningService::load(
        instance(),
        [sym_individual("a", 1), sym_individual("A", 3)],
        [],
    )
    .unwrap_err();
    assert!(matches!(err, Error::Duplicate { .. }), "{err}");
    let err = ProvisioningService::load(instance(), [], [sym_group("g", 1), sym_group("G", 3)])
        .unwrap_err();
    assert!(matches!(err, Error::Duplicate { .. }), "{err}");
    let groups: Vec<EnrollmentGroup> = (0..101).map(|i| sym_group(&format!("g{i}"), 1)).collect();
    let err = ProvisioningService::load(instance(), [], groups).unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            what: "symmetric-key groups",
            count: 101,
            max: 100
        }
    );
    let err = ProvisioningService::load(instance(), [], [ca_group("g", "nope")]).unwrap_err();
    assert!(matches!(err, Error::UnknownCaReference { .. }), "{err}");
}

// ---- revocation (§7.6) ----

#[test]
fn revocation_plans_list_hub_identities_and_re_enrolment_risks() {
    let mut service = ProvisioningService::load(
        instance(),
        [sym_individual("dev-1", 1)],
        [sym_group("g1", 10)],
    )
    .unwrap();
    let t = token(&key(1), SCOPE, "dev-1", NOW + 3600, None);
    let record = register_sas(&service, "dev-1", &t, None).record.unwrap();
    let target = EnrollmentRef::Individual("dev-1".into());
    let plan = service
        .plan_revocation(
            &target,
            RevocationAction::Disable,
            std::slice::from_ref(&record),
        )
        .unwrap();
    assert_eq!(
        plan.hub_changes,
        vec![HubChange::Disable {
            hub: record.assigned_hub.clone(),
            device_id: "dev-1".into()
        }]
    );
    assert!(matches!(
        plan.warnings[0],
        RevocationWarning::HubAccessRemainsUntilApplied { devices: 1 }
    ));
    assert!(
        !plan
            .warnings
            .iter()
            .any(|w| matches!(w, RevocationWarning::MayReEnrolThroughGroup { .. })),
        "disabling blocks regardless"
    );
    let plan = service
        .delete_enrollment(&target, std::slice::from_ref(&record))
        .unwrap();
    assert!(matches!(plan.hub_changes[0], HubChange::Remove { .. }));
    assert!(plan.warnings.iter().any(|w| matches!(w, RevocationWarning::MayReEnrolThroughGroup { group_id, .. } if group_id == "g1")));
    assert!(
        plan.warnings
            .iter()
            .any(|w| matches!(w, RevocationWarning::RecordsRemain { count: 1 }))
    );
    assert!(service.individual("dev-1").is_none());
    assert!(matches!(
        service.plan_revocation(&target, RevocationAction::Delete, &[]),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn deleting_an_x509_individual_flags_the_group_above_it() {
    let p = pki();
    let leaf = new_device_cert("cam-1", &p.inter, validity()).unwrap();
    let groups = [signing_group("by-intermediate", &p.inter)];
    let mut service = ProvisioningService::load(
        x509_instance(&p, true),
        [x509_individual("cam-1", &leaf)],
        groups,
    )
    .unwrap();
    let target = EnrollmentRef::Individual("cam-1".into());
    let plan = service.delete_enrollment(&target, &[]).unwrap();
    assert!(plan.warnings.iter().any(|w| matches!(w, RevocationWarning::MayReEnrolThroughGroup { group_id, .. } if group_id == "by-intermediate")), "{:?}", plan.warnings);
    // ...and indeed the device now re-enrols through the group.
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert_eq!(
        assigned(&out).2,
        &EnrollmentRef::Group("by-intermediate".into())
    );
    // Deleting the intermediate group flags the root group above it.
    service.upsert_group(ca_group("by-root", "root")).unwrap();
    let plan = service
        .delete_enrollment(&EnrollmentRef::Group("by-intermediate".into()), &[])
        .unwrap();
    assert!(plan.warnings.iter().any(|w| matches!(w, RevocationWarning::MayReEnrolThroughGroup { group_id, .. } if group_id == "by-root")), "{:?}", plan.warnings);
}

#[test]
fn certificate_index_follows_updates_and_removals() {
    let p = pki();
    let mut service =
        ProvisioningService::load(x509_instance(&p, true), [], [signing_group("g1", &p.inter)])
            .unwrap();
    // Updating the same group with the same certificate is not a duplicate.
    let mut g1 = service.group("g1").unwrap().clone();
    g1.settings.iot_hubs = vec![B.into()];
    service.upsert_group(g1).unwrap();
    assert!(matches!(
        service.upsert_group(signing_group("g2", &p.inter)),
        Err(Error::DuplicateCertificate { .. })
    ));
    // Once g1 is gone its certificate is free, and devices no longer attest through it.
    service.remove_group("g1").unwrap();
    let leaf = new_device_cert("cam-1", &p.inter, validity()).unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert!(
        matches!(failure(&out), RegistrationFailure::NoEnrollment { .. }),
        "{}",
        out.decision
    );
    service.upsert_group(signing_group("g2", &p.inter)).unwrap();
    let out = register_x509(&service, "cam-1", &[&leaf, &p.inter], DpsTransport::Mqtt);
    assert_eq!(assigned(&out).2, &EnrollmentRef::Group("g2".into()));
}
