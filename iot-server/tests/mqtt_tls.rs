//! Devices over real TLS and MQTT against a started server: SAS and X.509 hub connects
//! (allowed and refused with CONNACK 5), durable telemetry, twins, DPS registration over MQTT
//! for each attestation, and the hub session that follows (issue 10).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "support/client.rs"]
mod support;

use iot_dps_proto::{MqttConnect, operation_status_topic, register_topic};
use iot_sas::{ResourceUri, SharedAccessKey, derive_device_key};
use iot_server::mqtt::ConnectReturnCode;
use iot_server::store::{SqliteStore, Store as _, TelemetryFilter};
use iot_server::{Limits, ServerEvent};
use serde_json::Value;
use support::fixtures::{Pki, start, write_imports};
use support::{Client, HUB, SCOPE, key, now, temp_dir};

fn hub_user(device: &str) -> String {
    format!("{HUB}/{device}/?api-version=2021-04-12")
}

fn hub_token(device: &str, key_b64: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    let resource = ResourceUri::Device {
        host: HUB,
        device_id: device,
    };
    iot_sas::sign(&key, &resource, now() + 3600, None).unwrap()
}

fn dps_user(registration_id: &str) -> String {
    format!("{SCOPE}/registrations/{registration_id}/api-version=2019-03-31")
}

fn dps_token(registration_id: &str, key: &SharedAccessKey) -> String {
    MqttConnect::new(SCOPE, registration_id)
        .unwrap()
        .password(key, now() + 3600)
        .unwrap()
}

/// Register, then poll until the final answer; returns the final JSON.
async fn register(client: &mut Client, registration_id: &str) -> Value {
    assert_eq!(client.subscribe("$dps/registrations/res/#").await, vec![1]);
    let body = format!("{{\"payload\": null, \"registrationId\": \"{registration_id}\"}}");
    let (topic, reply) = client
        .dps_request(&register_topic("r1").unwrap(), body.as_bytes())
        .await;
    assert!(
        topic.starts_with("$dps/registrations/res/202/?$rid=r1"),
        "{topic} {reply}"
    );
    assert!(topic.contains("retry-after=1"), "{topic}");
    let accepted: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(accepted["status"], "assigning");
    let operation = accepted["operationId"].as_str().unwrap().to_owned();
    let (topic, reply) = client
        .dps_request(&operation_status_topic("r2", &operation).unwrap(), b" ")
        .await;
    assert!(
        topic.starts_with("$dps/registrations/res/200/?$rid=r2"),
        "{topic}"
    );
    serde_json::from_str(&reply).unwrap()
}

#[tokio::test]
async fn sas_device_connects_and_its_telemetry_is_durable() {
    let dir = temp_dir("sas");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let mut events = server.events();
    let mut dev = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = dev
        .mqtt_connect(
            "dev-sas",
            &hub_user("dev-sas"),
            Some(&hub_token("dev-sas", &key(1))),
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::Accepted);
    for i in 0..3 {
        let seen = dev
            .publish1_acked(
                "devices/dev-sas/messages/events/%24.ct=application%2Fjson&n=1",
                format!("{{\"n\":{i}}}").as_bytes(),
            )
            .await;
        assert!(seen.is_empty());
    }
    // PUBACKed means committed: a separate connection to the database sees all three.
    let mut store = SqliteStore::open(&dir.join("state")).unwrap();
    let stored = store.telemetry(&TelemetryFilter::default()).unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[2].1.body, b"{\"n\":2}");
    assert_eq!(stored[0].1.device_id, "dev-sas");
    assert_eq!(stored[0].1.hub, HUB);
    assert_eq!(stored[0].1.properties, "%24.ct=application%2Fjson&n=1");
    let first = events.recv().await.unwrap();
    assert!(
        matches!(&first, ServerEvent::Connect { allowed: true, identity, .. } if identity == "dev-sas"),
        "{first:?}"
    );
    server.shutdown().await;
}

/// Many QoS 1 messages in flight at once (as the broker bench sends them): every one is
/// acknowledged once, in the order sent, after its commit, and reported once, even when one
/// group commit answers several of them together.
#[tokio::test]
async fn pipelined_publishes_are_acknowledged_in_order_after_their_commit() {
    let dir = temp_dir("pipelined");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let mut events = server.events();
    let mut dev = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = dev
        .mqtt_connect(
            "dev-sas",
            &hub_user("dev-sas"),
            Some(&hub_token("dev-sas", &key(1))),
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::Accepted);
    let mut sent = Vec::new();
    for i in 0..48 {
        sent.push(
            dev.publish1(
                "devices/dev-sas/messages/events/",
                format!("m{i}").as_bytes(),
            )
            .await,
        );
    }
    let mut acked = Vec::new();
    while acked.len() < sent.len() {
        match dev.recv().await {
            Some(iot_server::mqtt::Packet::PubAck(id)) => acked.push(id),
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }
    assert_eq!(acked, sent);
    let mut store = SqliteStore::open(&dir.join("state")).unwrap();
    let stored = store.telemetry(&TelemetryFilter::default()).unwrap();
    let bodies: Vec<Vec<u8>> = stored.into_iter().map(|(_, m)| m.body).collect();
    let expected: Vec<Vec<u8>> = (0..48).map(|i| format!("m{i}").into_bytes()).collect();
    assert_eq!(bodies, expected);
    let mut reported = 0;
    while let Ok(event) = events.try_recv() {
        reported += usize::from(matches!(event, ServerEvent::Telemetry { .. }));
    }
    assert_eq!(reported, 48);
    server.shutdown().await;
}

#[tokio::test]
async fn refused_connects_get_connack_5_with_the_reason_in_the_log() {
    let dir = temp_dir("refused");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let mut events = server.events();
    let cases = [
        ("dev-sas", hub_token("dev-sas", &key(9)), "bad_signature"),
        ("dev-off", hub_token("dev-off", &key(3)), "disabled"),
        ("nobody", hub_token("nobody", &key(1)), "unknown_identity"),
        ("dev-sas", hub_token("dev-other", &key(1)), "token_scope"),
    ];
    for (device, token, code) in &cases {
        let mut c = Client::connect(server.mqtt_addr(), &ca, None)
            .await
            .unwrap();
        let ack = c
            .mqtt_connect(device, &hub_user(device), Some(token))
            .await
            .unwrap();
        assert_eq!(ack.code, ConnectReturnCode::NotAuthorized, "{device}");
        assert!(c.closed().await);
        loop {
            match events.recv().await.unwrap() {
                ServerEvent::Connect {
                    allowed, code: got, ..
                } => {
                    assert!(!allowed);
                    assert_eq!(got, *code, "{device}");
                    break;
                }
                _ => continue,
            }
        }
    }
    // A user name that names no hub and no DPS scope.
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = c
        .mqtt_connect("x", "other-hub.example/x/?api-version=1", None)
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::NotAuthorized);
    // A client ID that disagrees with the user name is a malformed claim: the client-safe
    // view (iot_hub_auth::ClientView::BadRequest) answers CONNACK 4, decided before any
    // lookup, so it tells nothing about the registry; the log keeps the reason.
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let token = hub_token("dev-sas", &key(1));
    let ack = c
        .mqtt_connect("dev-other", &hub_user("dev-sas"), Some(&token))
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::BadUserNameOrPassword);
    server.shutdown().await;
}

#[tokio::test]
async fn x509_self_signed_and_ca_devices() {
    let dir = temp_dir("x509");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let addr = server.mqtt_addr();
    let self_signed = (
        pki.self_signed.cert_pem.as_str(),
        pki.self_signed.key_pem.as_str(),
    );
    let mut c = Client::connect(addr, &ca, Some(self_signed)).await.unwrap();
    let ack = c
        .mqtt_connect("dev-self", &hub_user("dev-self"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);

    let chain = pki.chain(&pki.ca_device);
    let mut c = Client::connect(addr, &ca, Some((&chain, &pki.ca_device.key_pem)))
        .await
        .unwrap();
    let ack = c.mqtt_connect("dev-ca", &hub_user("dev-ca"), None).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    c.publish1_acked("devices/dev-ca/messages/events/", b"hello")
        .await;

    // The CA-issued certificate is not the self-signed device's thumbprint.
    let mut c = Client::connect(addr, &ca, Some((&chain, &pki.ca_device.key_pem)))
        .await
        .unwrap();
    let ack = c
        .mqtt_connect("dev-self", &hub_user("dev-self"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::NotAuthorized);

    // No certificate at all for an X.509 device.
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    let ack = c.mqtt_connect("dev-ca", &hub_user("dev-ca"), None).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::NotAuthorized);
    server.shutdown().await;
}

#[tokio::test]
async fn dps_symmetric_key_registration_then_hub_session_with_twin() {
    let dir = temp_dir("dps-sym");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let addr = server.mqtt_addr();
    let device_key = SharedAccessKey::from_base64(&key(10)).unwrap();
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    let ack = c
        .mqtt_connect(
            "sym-01",
            &dps_user("sym-01"),
            Some(&dps_token("sym-01", &device_key)),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let result = register(&mut c, "sym-01").await;
    assert_eq!(result["status"], "assigned", "{result}");
    assert_eq!(result["registrationState"]["assignedHub"], HUB);
    assert_eq!(result["registrationState"]["deviceId"], "sym-01");
    assert_eq!(
        result["registrationState"]["substatus"],
        "initialAssignment"
    );

    // The hub now knows the device, with the enrollment's key and initial twin.
    let mut d = Client::connect(addr, &ca, None).await.unwrap();
    let ack = d
        .mqtt_connect(
            "sym-01",
            &hub_user("sym-01"),
            Some(&hub_token("sym-01", &key(10))),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    assert_eq!(d.subscribe("$iothub/twin/res/#").await, vec![1]);
    let (topic, twin) = d.dps_request("$iothub/twin/GET/?$rid=1", b"").await;
    assert_eq!(topic, "$iothub/twin/res/200/?$rid=1");
    let twin: Value = serde_json::from_str(&twin).unwrap();
    assert_eq!(twin["desired"]["interval"], 30);
    assert_eq!(twin["reported"]["$version"], 1);
    let (topic, _) = d
        .dps_request(
            "$iothub/twin/PATCH/properties/reported/?$rid=2",
            br#"{"firmware": "1.0.1"}"#,
        )
        .await;
    assert_eq!(topic, "$iothub/twin/res/204/?$rid=2&$version=2");
    let (_, twin) = d.dps_request("$iothub/twin/GET/?$rid=3", b"").await;
    let twin: Value = serde_json::from_str(&twin).unwrap();
    assert_eq!(twin["reported"]["firmware"], "1.0.1");
    assert_eq!(twin["reported"]["$version"], 2);
    server.shutdown().await;

    // Everything acknowledged survives a restart: record, identity, twin.
    let (server, ca) = start(&dir, Vec::new(), Limits::default()).await;
    let mut d = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = d
        .mqtt_connect(
            "sym-01",
            &hub_user("sym-01"),
            Some(&hub_token("sym-01", &key(10))),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let (_, twin) = d.dps_request("$iothub/twin/GET/?$rid=4", b"").await;
    let twin: Value = serde_json::from_str(&twin).unwrap();
    assert_eq!(twin["reported"]["firmware"], "1.0.1");
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = c
        .mqtt_connect(
            "sym-01",
            &dps_user("sym-01"),
            Some(&dps_token("sym-01", &device_key)),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let again = register(&mut c, "sym-01").await;
    assert_eq!(
        again["registrationState"]["substatus"],
        "reprovisionedToInitialAssignment"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn dps_group_ca_and_individual_x509_registrations() {
    let dir = temp_dir("dps-x509");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let addr = server.mqtt_addr();

    // Symmetric-key group: the device signs with the key derived from the group key.
    let group_key = SharedAccessKey::from_base64(&key(20)).unwrap();
    let derived = derive_device_key(&group_key, "grp-dev-1");
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    let ack = c
        .mqtt_connect(
            "grp-dev-1",
            &dps_user("grp-dev-1"),
            Some(&dps_token("grp-dev-1", &derived)),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let result = register(&mut c, "grp-dev-1").await;
    assert_eq!(result["status"], "assigned", "{result}");
    assert_eq!(
        result["registrationState"]["symmetricKey"]["enrollmentGroupId"],
        "grp"
    );

    // X.509 CA group: the hub gets a selfSigned identity with the leaf's SHA-256 thumbprint,
    // so the same certificate then connects to the hub.
    let chain = pki.chain(&pki.dps_ca_device);
    let identity = Some((chain.as_str(), pki.dps_ca_device.key_pem.as_str()));
    let mut c = Client::connect(addr, &ca, identity).await.unwrap();
    let ack = c
        .mqtt_connect("ca-dev-1", &dps_user("ca-dev-1"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let result = register(&mut c, "ca-dev-1").await;
    assert_eq!(result["status"], "assigned", "{result}");
    assert_eq!(
        result["registrationState"]["x509"]["enrollmentGroupId"],
        "cag"
    );
    let mut d = Client::connect(addr, &ca, identity).await.unwrap();
    let ack = d
        .mqtt_connect("ca-dev-1", &hub_user("ca-dev-1"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);

    // Individual X.509 enrollment holding the self-signed device certificate.
    let own = (
        pki.dps_x509_device.cert_pem.as_str(),
        pki.dps_x509_device.key_pem.as_str(),
    );
    let mut c = Client::connect(addr, &ca, Some(own)).await.unwrap();
    let ack = c
        .mqtt_connect("x509-dev-1", &dps_user("x509-dev-1"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let result = register(&mut c, "x509-dev-1").await;
    assert_eq!(result["status"], "assigned", "{result}");
    server.shutdown().await;
}

#[tokio::test]
async fn dps_wrong_key_is_answered_401() {
    let dir = temp_dir("dps-401");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let wrong = SharedAccessKey::from_base64(&key(99)).unwrap();
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = c
        .mqtt_connect(
            "sym-01",
            &dps_user("sym-01"),
            Some(&dps_token("sym-01", &wrong)),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    c.subscribe("$dps/registrations/res/#").await;
    let (topic, body) = c
        .dps_request(
            &register_topic("x").unwrap(),
            br#"{"registrationId":"sym-01"}"#,
        )
        .await;
    assert!(
        topic.starts_with("$dps/registrations/res/401/?$rid=x"),
        "{topic}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errorCode"], 401_002);
    // Another registration's operation is not found.
    let mut d = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let right = SharedAccessKey::from_base64(&key(10)).unwrap();
    let ack = d
        .mqtt_connect(
            "sym-01",
            &dps_user("sym-01"),
            Some(&dps_token("sym-01", &right)),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    d.subscribe("$dps/registrations/res/#").await;
    let (_, accepted) = d
        .dps_request(
            &register_topic("y").unwrap(),
            br#"{"registrationId":"sym-01"}"#,
        )
        .await;
    let accepted: Value = serde_json::from_str(&accepted).unwrap();
    let operation = accepted["operationId"].as_str().unwrap();
    // The owner's own session reads its operation (before another session for sym-01 takes
    // the client ID over, MQTT 3.1.1 §3.1.4-2).
    let (topic, body) = d
        .dps_request(&operation_status_topic("v", operation).unwrap(), b" ")
        .await;
    assert!(topic.starts_with("$dps/registrations/res/200/"), "{topic}");
    assert!(body.contains("assignedHub"), "{body}");
    let mut e = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = e
        .mqtt_connect("grp-dev-9", &dps_user("grp-dev-9"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    e.subscribe("$dps/registrations/res/#").await;
    let (topic, body) = e
        .dps_request(&operation_status_topic("z", operation).unwrap(), b" ")
        .await;
    assert!(topic.starts_with("$dps/registrations/res/401/"), "{topic}");
    assert!(!body.contains("assignedHub"), "{body}");
    // Every poll is authenticated again (the session's credential attests the registration,
    // as for a register): a session for sym-01 without its key, or with another key, reads
    // nothing of sym-01's operation; sym-01's own session does, and so does a session signed
    // with sym-01's secondary key (key 11).
    for password in [None, Some(dps_token("sym-01", &wrong))] {
        let mut f = Client::connect(server.mqtt_addr(), &ca, None)
            .await
            .unwrap();
        let ack = f
            .mqtt_connect("sym-01", &dps_user("sym-01"), password.as_deref())
            .await;
        assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
        f.subscribe("$dps/registrations/res/#").await;
        let (topic, body) = f
            .dps_request(&operation_status_topic("w", operation).unwrap(), b" ")
            .await;
        assert!(topic.starts_with("$dps/registrations/res/401/"), "{topic}");
        assert!(!body.contains("assignedHub"), "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errorCode"], 401_002);
    }
    let secondary = SharedAccessKey::from_base64(&key(11)).unwrap();
    let mut g = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let token = dps_token("sym-01", &secondary);
    let ack = g
        .mqtt_connect("sym-01", &dps_user("sym-01"), Some(&token))
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    g.subscribe("$dps/registrations/res/#").await;
    let (topic, body) = g
        .dps_request(&operation_status_topic("u", operation).unwrap(), b" ")
        .await;
    assert!(topic.starts_with("$dps/registrations/res/200/"), "{topic}");
    assert!(body.contains("assignedHub"), "{body}");
    // A DPS user name whose registration ID is not the client ID is refused at CONNECT.
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = c.mqtt_connect("sym-01", &dps_user("sym-02"), None).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::NotAuthorized);
    server.shutdown().await;
}

#[tokio::test]
async fn another_devices_topic_or_an_oversized_message_closes_the_connection() {
    let dir = temp_dir("policy");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let connect = || async {
        let mut c = Client::connect(server.mqtt_addr(), &ca, None)
            .await
            .unwrap();
        let ack = c
            .mqtt_connect(
                "dev-sas",
                &hub_user("dev-sas"),
                Some(&hub_token("dev-sas", &key(1))),
            )
            .await;
        assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
        c
    };
    let mut c = connect().await;
    c.publish1("devices/dev-other/messages/events/", b"x").await;
    assert!(c.closed().await);
    let mut c = connect().await;
    c.publish1(
        "devices/dev-sas/messages/events/",
        &vec![b'a'; 256 * 1024 + 1],
    )
    .await;
    assert!(c.closed().await);
    // Exactly 256 KB is accepted.
    let mut c = connect().await;
    c.publish1_acked("devices/dev-sas/messages/events/", &vec![b'a'; 256 * 1024])
        .await;
    let mut store = SqliteStore::open(&dir.join("state")).unwrap();
    assert_eq!(
        store.telemetry(&TelemetryFilter::default()).unwrap().len(),
        1
    );
    server.shutdown().await;
}

/// A client configuration limited to one TLS version.
fn only(
    version: &'static rustls::SupportedProtocolVersion,
    ca: &str,
    identity: Option<(&str, &str)>,
) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots);
    std::sync::Arc::new(match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    })
}

#[tokio::test]
async fn tls_1_2_and_1_3_with_and_without_client_certificates() {
    let dir = temp_dir("tls-versions");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let cert = Some((
        pki.self_signed.cert_pem.as_str(),
        pki.self_signed.key_pem.as_str(),
    ));
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let (mut c, got) = Client::connect_with(server.mqtt_addr(), only(version, &ca, cert))
            .await
            .unwrap();
        assert_eq!(got, version.version);
        let ack = c
            .mqtt_connect("dev-self", &hub_user("dev-self"), None)
            .await;
        assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted, "{got:?}");
        let (mut c, _) = Client::connect_with(server.mqtt_addr(), only(version, &ca, None))
            .await
            .unwrap();
        let ack = c
            .mqtt_connect(
                "dev-sas",
                &hub_user("dev-sas"),
                Some(&hub_token("dev-sas", &key(1))),
            )
            .await;
        assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted, "{got:?}");
    }
    // The generated server certificate names localhost, 127.0.0.1, ::1, the hub, the DPS
    // service host and the global DPS endpoint.
    let names = std::fs::read_to_string(dir.join("state/tls/server.names")).unwrap();
    for name in [
        "localhost",
        "127.0.0.1",
        "::1",
        HUB,
        support::DPS_HOST,
        "global.azure-devices-provisioning.net",
    ] {
        assert!(names.lines().any(|l| l == name), "{name} in {names}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_server_certificate_is_remade_when_a_host_is_added() {
    let dir = temp_dir("tls-remake");
    let pki = Pki::new();
    let imports = write_imports(&dir, &pki);
    let (server, ca) = start(&dir, vec![imports[0].clone()], Limits::default()).await;
    assert!(server.summary().warnings.is_empty());
    server.shutdown().await;
    let tls = dir.join("state/tls");
    let first = std::fs::read_to_string(tls.join("server.pem")).unwrap();
    assert!(
        !std::fs::read_to_string(tls.join("server.names"))
            .unwrap()
            .contains(support::DPS_HOST)
    );
    // Same names: the certificate is reused.
    let (server, _) = start(&dir, Vec::new(), Limits::default()).await;
    server.shutdown().await;
    assert_eq!(
        std::fs::read_to_string(tls.join("server.pem")).unwrap(),
        first
    );
    // A DPS file adds its service host: a new certificate from the same CA.
    let (server, ca_again) = start(&dir, vec![imports[1].clone()], Limits::default()).await;
    assert_eq!(ca_again, ca);
    assert!(
        server.summary().warnings.is_empty(),
        "the linked hub is served"
    );
    assert_ne!(
        std::fs::read_to_string(tls.join("server.pem")).unwrap(),
        first
    );
    assert!(
        std::fs::read_to_string(tls.join("server.names"))
            .unwrap()
            .contains(support::DPS_HOST)
    );
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = c
        .mqtt_connect(
            "dev-sas",
            &hub_user("dev-sas"),
            Some(&hub_token("dev-sas", &key(1))),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    server.shutdown().await;
}

#[tokio::test]
async fn a_hub_session_ends_when_its_token_expires() {
    let dir = temp_dir("expiry");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let key = SharedAccessKey::from_base64(&key(1)).unwrap();
    let resource = ResourceUri::Device {
        host: HUB,
        device_id: "dev-sas",
    };
    let token = iot_sas::sign(&key, &resource, now() + 2, None).unwrap();
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let ack = c
        .mqtt_connect("dev-sas", &hub_user("dev-sas"), Some(&token))
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    assert!(c.closed().await);
    let lived = started.elapsed();
    assert!(lived < std::time::Duration::from_secs(4), "{lived:?}");
    assert!(lived >= std::time::Duration::from_millis(900), "{lived:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_second_connection_of_the_same_device_ends_the_first() {
    let dir = temp_dir("takeover");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let addr = server.mqtt_addr();
    let token = hub_token("dev-sas", &key(1));
    let mut first = Client::connect(addr, &ca, None).await.unwrap();
    let ack = first
        .mqtt_connect("dev-sas", &hub_user("dev-sas"), Some(&token))
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    // Another device, and a DPS session with the same client ID as a later hub device, stay.
    let mut other = Client::connect(addr, &ca, None).await.unwrap();
    let ack = other
        .mqtt_connect("sym-01", &dps_user("sym-01"), None)
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let mut second = Client::connect(addr, &ca, None).await.unwrap();
    let ack = second
        .mqtt_connect("dev-sas", &hub_user("dev-sas"), Some(&token))
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    assert!(first.closed().await, "MQTT 3.1.1 §3.1.4-2");
    second
        .publish1_acked("devices/dev-sas/messages/events/", b"still here")
        .await;
    assert_eq!(other.subscribe("$dps/registrations/res/#").await, vec![1]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_linked_hub_without_a_hub_file_is_reported() {
    let dir = temp_dir("warnings");
    let pki = Pki::new();
    let imports = write_imports(&dir, &pki);
    let (server, _) = start(&dir, vec![imports[1].clone()], Limits::default()).await;
    let warnings = &server.summary().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(HUB), "{warnings:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_module_connects_and_sends_on_its_own_topic() {
    let dir = temp_dir("module");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), Limits::default()).await;
    let key = SharedAccessKey::from_base64(&key(5)).unwrap();
    let resource = ResourceUri::Module {
        host: HUB,
        device_id: "dev-sas",
        module_id: "mod-1",
    };
    let token = iot_sas::sign(&key, &resource, now() + 3600, None).unwrap();
    let mut m = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = m
        .mqtt_connect(
            "dev-sas/mod-1",
            &format!("{HUB}/dev-sas/mod-1/?api-version=2021-04-12"),
            Some(&token),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    assert_eq!(
        m.subscribe("devices/dev-sas/modules/mod-1/messages/devicebound/#")
            .await,
        vec![1]
    );
    m.publish1_acked(
        "devices/dev-sas/modules/mod-1/messages/events/a=b",
        b"from a module",
    )
    .await;
    let mut store = SqliteStore::open(&dir.join("state")).unwrap();
    let stored = store.telemetry(&TelemetryFilter::default()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.module_id.as_deref(), Some("mod-1"));
    // The module may not publish as its device.
    m.publish1("devices/dev-sas/messages/events/", b"x").await;
    assert!(m.closed().await);
    server.shutdown().await;
}
