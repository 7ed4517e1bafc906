//! Regression tests for the hardening of issue 12 on the DPS side, named after the rule each
//! one pins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_dps_service::{
    Attestation, DpsCertificate, DpsInstance, DpsTransport, EnrollmentGroup, EnrollmentSettings,
    LinkedHub, ProvisioningService, RegisterStep, RegistrationDecision, RegistrationFailure,
    RegistrationRequest, X509Attestation, X509CaReferences,
};
use iot_x509::{CertificateDer, ChainError};

const SCOPE: &str = "0ne00002193";
/// The verification time of iot-x509's OpenSSL fixtures (2026-06-01).
const AT: u64 = 1_780_272_000;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn chain(names: &[&str]) -> Vec<CertificateDer<'static>> {
    names
        .iter()
        .flat_map(|n| iot_x509::parse_certificates(fixture(n).as_bytes()).unwrap())
        .collect()
}

/// A DPS instance whose verified CAs are the OpenSSL-made anchors with constraints, each with
/// an enrollment group that references it (`caReferences`).
fn service() -> ProvisioningService {
    let anchors = [
        "root-pathlen0.pem",
        "root-eku-server-auth.pem",
        "root-no-keycertsign.pem",
    ];
    let mut dps = DpsInstance::new(SCOPE);
    dps.linked_hubs = vec![LinkedHub::new("hub-a.azure-devices.net")];
    dps.certificates = anchors
        .iter()
        .map(|file| DpsCertificate {
            name: file.replace(".pem", ""),
            certificate: fixture(file),
            is_verified: true,
        })
        .collect();
    let groups = anchors.iter().map(|file| EnrollmentGroup {
        enrollment_group_id: format!("group-{}", file.replace(".pem", "")),
        attestation: Attestation::x509(X509Attestation {
            ca_references: Some(X509CaReferences {
                primary: Some(file.replace(".pem", "")),
                secondary: None,
            }),
            ..X509Attestation::default()
        }),
        settings: EnrollmentSettings::default(),
    });
    ProvisioningService::load(dps, [], groups).unwrap()
}

fn register(
    service: &ProvisioningService,
    registration_id: &str,
    files: &[&str],
) -> RegistrationDecision {
    let presented = chain(files);
    let mut req = RegistrationRequest::new(registration_id, AT);
    req.client_chain = &presented;
    req.transport = DpsTransport::Mqtt;
    match service.register(&req, None) {
        RegisterStep::Done(outcome) => outcome.decision,
        RegisterStep::NeedsCustomAllocation(_) => panic!("no custom allocation here"),
    }
}

fn chain_failure(decision: &RegistrationDecision) -> &ChainError {
    match decision {
        RegistrationDecision::Failed(RegistrationFailure::Chain(reason)) => reason,
        other => panic!("expected a chain failure, got {other}"),
    }
}

/// DPS X.509 attestation applies the anchor's pathLenConstraint, extended key usage and
/// keyUsage like `openssl verify -purpose sslclient` (the fixtures' recorded verdicts).
#[test]
fn registered_ca_constraints_apply_to_dps_attestation() {
    let service = service();
    // Control: the pathLen-0 root admits a device it signed directly.
    let ok = register(&service, "device-pl0", &["device-under-pathlen0-root.pem"]);
    assert!(matches!(ok, RegistrationDecision::Assigned { .. }), "{ok}");
    let refused = register(
        &service,
        "device-pl0-int",
        &[
            "device-via-pathlen0-root-intermediate.pem",
            "intermediate-under-pathlen0.pem",
        ],
    );
    assert_eq!(chain_failure(&refused), &ChainError::PathTooLong);
    let refused = register(
        &service,
        "device-srv-root",
        &["device-under-server-eku-root.pem"],
    );
    assert_eq!(chain_failure(&refused), &ChainError::NotClientAuth);
    let refused = register(
        &service,
        "device-nosign-root",
        &["device-under-no-keycertsign-root.pem"],
    );
    assert_eq!(chain_failure(&refused), &ChainError::CaKeyUsage);
}

// ------------------------------------------------ 7. Debug never prints a secret

/// Every public request and credential type of the workspace's crates, formatted with `Debug`
/// (and `{:#?}`): no output holds the token's signature (base64 or percent-encoded, any window
/// of 10 characters of it), the signature's hex, a key's base64 or hex, or the whole token.
#[test]
fn debug_output_carries_no_signature_token_or_key() {
    use iot_dps_service::{IndividualEnrollment, KeyText, ProvisioningService};
    use iot_hub_auth::{
        AccessRights, ConnectRequest, DeviceIdentity, HubDocument, HubSettings, InMemoryRegistry,
        PreKeyedKeys, SharedAccessPolicy, Transport, authorize,
    };
    use iot_sas::{
        ConnectionString, MacKey, RedactedToken, ResourceUri, SasToken, SharedAccessKey, Verifier,
    };

    // Reference §1.8, key V1, hub device row.
    const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const SIG: &str = "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=";
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
    const HOST: &str = "myiothub.azure-devices.net";
    let hex = |b64: &str| -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let secrets = [
        SIG.to_owned(),
        SIG.replace('/', "%2F").replace('=', "%3D"),
        hex(SIG),
        KEY.to_owned(),
        hex(KEY),
    ];
    let mut outputs: Vec<(&str, String)> = Vec::new();
    let mut add = |what: &'static str, value: &dyn std::fmt::Debug| {
        outputs.push((what, format!("{value:?}")));
        outputs.push((what, format!("{value:#?}")));
    };

    // iot-sas
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    let token = SasToken::parse(TOKEN).unwrap();
    add("SasToken", &token);
    add("Signature", &token.signature().unwrap());
    add("RedactedToken", &RedactedToken::new(TOKEN));
    add("SharedAccessKey", &key);
    add("MacKey", &MacKey::from_base64(KEY).unwrap());
    let verifier = Verifier::new(key.clone(), None);
    add("Verifier", &verifier);
    add("Verified", &verifier.verify_str(TOKEN, None, 1_578_941_000));
    let cs_key = format!("HostName={HOST};DeviceId=my_device;SharedAccessKey={KEY}");
    add(
        "ConnectionString(key)",
        &ConnectionString::parse(&cs_key).unwrap(),
    );
    let cs_sas = format!("HostName={HOST};DeviceId=my_device;SharedAccessSignature={TOKEN}");
    add(
        "ConnectionString(sas)",
        &ConnectionString::parse(&cs_sas).unwrap(),
    );
    add(
        "iot_sas::Error",
        &SasToken::parse(&TOKEN.replace("se=", "xx=")),
    );

    // iot-hub-auth
    let mqtt_user = format!("{HOST}/my_device/?api-version=2021-04-12");
    let requests = [
        ConnectRequest::mqtt("my_device", &mqtt_user).with_password(TOKEN),
        ConnectRequest::amqp_sasl("my_device@sas.myiothub", TOKEN).over(Transport::AmqpWs),
        ConnectRequest::https("my_device").with_password(TOKEN),
        ConnectRequest::https("my_device").with_password("SharedAccessSignature sig=junk"),
    ];
    for req in &requests {
        add("ConnectRequest", req);
    }
    let identity = DeviceIdentity::sas("my_device", KEY, KEY);
    add("DeviceIdentity", &identity);
    add("SymmetricKey", &identity.authentication.symmetric_key);
    let policy = SharedAccessPolicy {
        key_name: "device".into(),
        primary_key: KEY.into(),
        secondary_key: KEY.into(),
        rights: AccessRights::DEVICE_CONNECT,
    };
    add("SharedAccessPolicy", &policy);
    let mut hub = HubSettings::new(HOST).unwrap();
    hub.add_policy(&policy).unwrap();
    add("HubSettings", &hub);
    add("HubPolicy", &hub.policy("device"));
    add(
        "PreKeyedKeys",
        &PreKeyedKeys::from_base64("d", KEY, KEY).unwrap(),
    );
    let mut registry = InMemoryRegistry::new();
    registry.upsert(identity.clone()).unwrap();
    add("InMemoryRegistry", &registry);
    add(
        "RegistryEntry",
        &iot_hub_auth::Registry::lookup(&registry, "my_device", None),
    );
    let document = HubDocument {
        host_name: HOST.into(),
        authorization_policies: vec![policy.clone()],
        certificates: vec![],
        disable_device_sas: false,
        disable_module_sas: false,
        disable_local_auth: false,
        allowed_clock_skew_seconds: 300,
        x509_ca_over_websockets: false,
        self_signed_requires_cn: false,
        identities: vec![identity.clone()],
    };
    add("HubDocument", &document);
    for req in &requests {
        add("Decision", &authorize(&hub, &registry, req, 1_578_941_000));
    }

    // iot-dps-proto
    let endpoint = iot_dps_proto::HttpsEndpoint::new("0ne00000001", "my_device").unwrap();
    let mut client = iot_dps_proto::ProvisioningClient::default();
    let request = client.start(core::time::Duration::ZERO).unwrap();
    let body = iot_dps_proto::DeviceRegistration::new("my_device");
    let http = endpoint.request(&request, &body, Some(TOKEN)).unwrap();
    assert_eq!(
        http.header("Authorization"),
        Some(TOKEN),
        "the request itself keeps it"
    );
    add("HttpRequest", &http);
    add("ProvisioningClient", &client);
    add(
        "MqttConnect",
        &iot_dps_proto::MqttConnect::new("0ne00000001", "my_device").unwrap(),
    );

    // iot-dps-service
    let mut register = RegistrationRequest::new("my_device", 1_578_941_000);
    register.sas_token = Some(TOKEN);
    add("RegistrationRequest", &register);
    add("KeyText", &KeyText::new(KEY));
    let attestation = Attestation::symmetric_key(KEY, KEY);
    add("Attestation", &attestation);
    let enrollment = IndividualEnrollment {
        registration_id: "my_device".into(),
        device_id: None,
        attestation,
        settings: EnrollmentSettings::default(),
    };
    add("IndividualEnrollment", &enrollment);
    let mut dps = DpsInstance::new("0ne00000001");
    dps.linked_hubs = vec![LinkedHub::new(HOST)];
    let service = ProvisioningService::load(dps, [enrollment], []).unwrap();
    add("ProvisioningService", &service);
    let symmetric = ResourceUri::DpsRegistration {
        id_scope: "0ne00000001",
        registration_id: "my_device",
    };
    let dps_token = iot_sas::sign(&key, &symmetric, 1_578_941_692, Some("registration")).unwrap();
    register.sas_token = Some(&dps_token);
    match service.register(&register, None) {
        RegisterStep::Done(outcome) => add("RegistrationOutcome", &outcome),
        RegisterStep::NeedsCustomAllocation(call) => add("custom allocation", &call),
    }
    // The workflow's own types (DeviceCredential, ScenarioInputs) moved to iot-server with
    // the workflow; iot-server/tests/debug_redaction.rs checks them.

    // iot-x509: a generated certificate's private key.
    let validity = iot_x509::generate::Validity::days(1_767_225_600, 30);
    let root = iot_x509::generate::new_root_ca("redaction-test", validity).unwrap();
    let key_body: String = root
        .key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert!(key_body.len() > 40);
    let public_pem: String = root.cert_pem.lines().collect();
    add("GeneratedCert", &root);

    let dps_sig = SasToken::parse(&dps_token)
        .unwrap()
        .signature_raw()
        .to_owned();
    let mut checked = 0;
    for (what, text) in &outputs {
        for secret in secrets.iter().chain([&dps_sig, &key_body]) {
            for window in secret.as_bytes().windows(10) {
                let window = std::str::from_utf8(window).unwrap();
                // The PKCS#8 key embeds the public key, which the certificate rightly shows:
                // a window of it may match the printed certificate by chance.
                assert!(
                    !text.contains(window) || public_pem.contains(window),
                    "{what} prints part of a secret ({window}): {text}"
                );
            }
        }
        assert!(!text.contains(TOKEN), "{what}: {text}");
        checked += 1;
    }
    assert!(checked >= 66, "{checked}");
}

// ------------------------------------------------ 9. what a refusal may tell the device

/// Refusals before attestation look the same on the wire whatever the reason: no enrollment,
/// an enrollment whose key did not sign, an enrollment of another attestation type, a chain
/// to an unverified CA, an expired token. The operator's decision keeps the reason.
#[test]
fn dps_refusals_do_not_disclose_enrollments_or_reasons() {
    use iot_dps_service::{DeviceResponse, IndividualEnrollment};
    use iot_sas::{ResourceUri, SharedAccessKey};
    let key = |seed: u8| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([seed; 32])
    };
    let mut dps = DpsInstance::new(SCOPE);
    dps.linked_hubs = vec![LinkedHub::new("hub-a.azure-devices.net")];
    dps.certificates = vec![DpsCertificate {
        name: "secret-ca-name".into(),
        certificate: fixture("root-ec.pem"),
        is_verified: false,
    }];
    let individual = |id: &str, attestation| IndividualEnrollment {
        registration_id: id.into(),
        device_id: None,
        attestation,
        settings: EnrollmentSettings::default(),
    };
    let x509_enrollment = Attestation::x509(X509Attestation {
        ca_references: Some(X509CaReferences {
            primary: Some("secret-ca-name".into()),
            secondary: None,
        }),
        ..X509Attestation::default()
    });
    let service = ProvisioningService::load(
        dps,
        [
            individual("known-device", Attestation::symmetric_key(&key(1), &key(2))),
            individual("x509-device", x509_enrollment),
        ],
        [],
    )
    .unwrap();
    let token = |reg: &str, seed: u8, expiry: u64| {
        let resource = ResourceUri::DpsRegistration {
            id_scope: SCOPE,
            registration_id: reg,
        };
        let key = SharedAccessKey::from_base64(&key(seed)).unwrap();
        iot_sas::sign(&key, &resource, expiry, Some("registration")).unwrap()
    };
    let sas = |reg: &str, token: String| {
        let mut req = RegistrationRequest::new(reg, AT);
        req.sas_token = Some(&token);
        req.operation_id = "op-1";
        match service.register(&req, None) {
            RegisterStep::Done(outcome) => *outcome,
            RegisterStep::NeedsCustomAllocation(_) => panic!("no custom allocation here"),
        }
    };
    let x509_chain = chain(&["device-ec.pem"]);
    let x509 = {
        let mut req = RegistrationRequest::new("device-ec", AT);
        req.client_chain = &x509_chain;
        req.operation_id = "op-1";
        match service.register(&req, None) {
            RegisterStep::Done(outcome) => *outcome,
            RegisterStep::NeedsCustomAllocation(_) => panic!("no custom allocation here"),
        }
    };
    let outcomes = [
        ("no enrollment", sas("ghost", token("ghost", 1, AT + 60))),
        (
            "wrong key",
            sas("known-device", token("known-device", 9, AT + 60)),
        ),
        (
            "expired",
            sas("known-device", token("known-device", 1, AT - 3600)),
        ),
        (
            "wrong attestation",
            sas("x509-device", token("x509-device", 1, AT + 60)),
        ),
        ("unverified ca", x509),
    ];
    let mut reasons = std::collections::BTreeSet::new();
    let mut bodies = std::collections::BTreeSet::new();
    for (what, outcome) in &outcomes {
        let RegistrationDecision::Failed(failure) = &outcome.decision else {
            panic!("{what}: {}", outcome.decision);
        };
        reasons.insert(failure.to_string());
        let wire = outcome.wire();
        assert_eq!(wire.status_code, 401, "{what}");
        let DeviceResponse::Error(body) = wire.body else {
            panic!("{what}: {:?}", wire.body);
        };
        assert_eq!(body.error_code, Some(401_002), "{what}");
        assert_eq!(body.message.as_deref(), Some("unauthorized"), "{what}");
        let json = String::from_utf8(wire.to_json()).unwrap();
        for secret in [
            "known-device",
            "x509-device",
            "secret-ca-name",
            "symmetricKey",
            "x509",
        ] {
            assert!(!json.contains(secret), "{what}: {json}");
        }
        // Same body apart from the request's own tracking ID and time.
        bodies.insert((body.error_code, body.message.clone()));
    }
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        reasons.len(),
        outcomes.len(),
        "operators still see each reason"
    );
    assert!(reasons.iter().any(|r| r.contains("secret-ca-name")));

    // A malformed request only restates the request: its detail stays.
    let mut bad = RegistrationRequest::new("bad id!", AT);
    let unused = token("x", 1, AT);
    bad.sas_token = Some(&unused);
    let RegisterStep::Done(outcome) = service.register(&bad, None) else {
        panic!("custom allocation");
    };
    assert_eq!(outcome.wire().status_code, 400);
    let DeviceResponse::Error(body) = outcome.wire().body else {
        panic!("expected an error body");
    };
    assert_ne!(body.message.as_deref(), Some("unauthorized"));
}
