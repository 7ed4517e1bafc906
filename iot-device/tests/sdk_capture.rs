//! Interop with Microsoft's device SDKs: every scenario recorded in
//! `iot-dps-proto/tests/data/capture/` (Python azure-iot-device 2.14.0 and Node
//! azure-iot-provisioning-device 1.9.1) is replayed to iot-device by a scripted DPS over TLS
//! that answers exactly what the recording's DPS answered. What iot-device sends must match
//! what both SDKs sent: client ID, user name (up to the `ClientVersion` agent), a password that
//! verifies with the scenario's device key (none for X.509, which presents a client
//! certificate instead), the sequence of register and poll topics with the same operation IDs,
//! the register body's JSON, the poll body, QoS 1; and it must reach the same verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use iot_device::{
    Credential, Endpoint, Error, Failure, ProvisioningOptions, ServerTrust, provision,
};
use iot_sas::{SasToken, SharedAccessKey};
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, Publish, SubAck, SubscribeReasonCode,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../iot-dps-proto/tests/data/capture"
);

fn recording(sdk: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CAPTURE}/{sdk}-sdk.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What the device put on the wire.
#[derive(Debug, Default)]
struct Seen {
    client_id: String,
    user_name: String,
    password: Option<String>,
    clean_session: bool,
    client_cert_cn: Option<String>,
    /// (topic, payload, qos) of every PUBLISH from the device.
    publishes: Vec<(String, String, u8)>,
}

/// A one-connection DPS that answers each device PUBLISH with the next recorded answer,
/// its `$rid` replaced by the device's.
async fn scripted_dps(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    answers: Vec<(String, String, u8)>,
) -> Seen {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut stream = tokio_rustls::TlsAcceptor::from(tls)
        .accept(tcp)
        .await
        .unwrap();
    let mut seen = Seen {
        client_cert_cn: stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|leaf| {
                iot_x509::CertificateInfo::parse(leaf.as_ref())
                    .unwrap()
                    .common_name()
                    .unwrap()
                    .to_owned()
            }),
        ..Seen::default()
    };
    let mut answers = answers.into_iter();
    let mut input = BytesMut::new();
    let max = 1 << 20;
    loop {
        let packet = loop {
            match Packet::read(&mut input, max) {
                Ok(p) => break Some(p),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {
                    if stream.read_buf(&mut input).await.unwrap_or(0) == 0 {
                        break None;
                    }
                }
                Err(e) => panic!("undecodable packet from iot-device: {e}"),
            }
        };
        let Some(packet) = packet else { return seen };
        let mut out = BytesMut::new();
        match packet {
            Packet::Connect(c) => {
                seen.client_id = c.client_id;
                seen.clean_session = c.clean_session;
                let login = c.login.unwrap();
                seen.user_name = login.username;
                seen.password = (!login.password.is_empty()).then_some(login.password);
                Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false))
                    .write(&mut out, max)
                    .unwrap();
            }
            Packet::Subscribe(s) => {
                assert_eq!(s.filters.len(), 1);
                assert_eq!(s.filters[0].path, "$dps/registrations/res/#");
                Packet::SubAck(SubAck::new(
                    s.pkid,
                    vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)],
                ))
                .write(&mut out, max)
                .unwrap();
            }
            Packet::Publish(p) => {
                let payload = String::from_utf8(p.payload.to_vec()).unwrap();
                seen.publishes.push((p.topic.clone(), payload, p.qos as u8));
                if p.qos == QoS::AtLeastOnce {
                    Packet::PubAck(PubAck::new(p.pkid))
                        .write(&mut out, max)
                        .unwrap();
                }
                let rid = query(&p.topic, "$rid").unwrap().to_owned();
                if let Some((topic, body, qos)) = answers.next() {
                    let recorded_rid = query(&topic, "$rid").unwrap();
                    let topic =
                        topic.replace(&format!("$rid={recorded_rid}"), &format!("$rid={rid}"));
                    let mut answer = Publish::new(
                        topic,
                        if qos == 1 {
                            QoS::AtLeastOnce
                        } else {
                            QoS::AtMostOnce
                        },
                        body,
                    );
                    answer.pkid = if qos == 1 { 1000 } else { 0 };
                    Packet::Publish(answer).write(&mut out, max).unwrap();
                }
            }
            Packet::PubAck(_) | Packet::PingReq | Packet::Unsubscribe(_) => {}
            Packet::Disconnect => return seen,
            other => panic!("unexpected packet from iot-device: {other:?}"),
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return seen;
        }
    }
}

fn query<'a>(topic: &'a str, key: &str) -> Option<&'a str> {
    topic
        .split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// A request topic as (kind, operation ID), `$rid` left out: the rid is opaque (§5.2).
fn request_shape(topic: &str) -> (String, Option<String>) {
    let kind = topic.split('?').next().unwrap().to_owned();
    (kind, query(topic, "operationId").map(str::to_owned))
}

fn without_agent(user_name: &str) -> &str {
    user_name.split("&ClientVersion=").next().unwrap()
}

/// The register body as JSON, with Python's `"payload": null` dropped (same meaning, §5.3).
fn register_json(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).unwrap();
    if v["payload"].is_null() {
        v.as_object_mut().unwrap().remove("payload");
    }
    v
}

struct Outcome {
    seen: Seen,
    result: Result<iot_device::Assignment, Error>,
}

async fn replay(scenario: Value, tls: Arc<rustls::ServerConfig>, trust: ServerTrust) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answers: Vec<(String, String, u8)> = scenario["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["dir"] == "dps->device")
        .map(|m| {
            (
                m["topic"].as_str().unwrap().to_owned(),
                m["payload"].as_str().unwrap().to_owned(),
                m["qos"].as_u64().unwrap() as u8,
            )
        })
        .collect();
    let server = tokio::spawn(scripted_dps(listener, tls, answers));
    let registration_id = scenario["registration_id"].as_str().unwrap();
    let credential = match scenario["auth"].as_str().unwrap() {
        "symkey" => Credential::symmetric_key(scenario["device_key"].as_str().unwrap()).unwrap(),
        "group" => Credential::derived_from_group_key(
            scenario["group_key"].as_str().unwrap(),
            registration_id,
        )
        .unwrap(),
        "x509" => {
            let validity = iot_x509::generate::Validity::days(1_700_000_000, 3650);
            let cert =
                iot_x509::generate::new_self_signed_device_cert(registration_id, validity).unwrap();
            Credential::x509_from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap()
        }
        other => panic!("unknown auth {other}"),
    };
    let mut options = ProvisioningOptions::new(
        scenario["id_scope"].as_str().unwrap(),
        registration_id,
        credential,
    );
    options.endpoint = Endpoint::new("localhost").with_port(port).with_trust(trust);
    options.max_jitter = Duration::ZERO;
    if !scenario["device_payload"].is_null() {
        options.payload = Some(scenario["device_payload"].clone());
    }
    options.timing = options.timing.with_deadline(Duration::from_secs(20));
    let result = provision(&options).await;
    let seen = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    Outcome { seen, result }
}

fn check(name: &str, ours: &Outcome, sdk: &Value, sdk_name: &str) {
    let seen = &ours.seen;
    let registration_id = sdk["registration_id"].as_str().unwrap();
    {
        let ctx = format!("{name} vs {sdk_name}");
        assert_eq!(
            seen.client_id,
            sdk["connect"]["client_id"].as_str().unwrap(),
            "{ctx}: client id"
        );
        assert_eq!(
            without_agent(&seen.user_name),
            without_agent(sdk["connect"]["username"].as_str().unwrap()),
            "{ctx}: user name"
        );
        assert_eq!(
            seen.password.is_some(),
            !sdk["connect"]["password"].is_null(),
            "{ctx}: password presence"
        );
        let sdk_cn = sdk["tls"]["client_certificate"]["subject_cn"].as_str();
        assert_eq!(
            seen.client_cert_cn.as_deref(),
            sdk_cn,
            "{ctx}: client certificate CN"
        );
        // Requests: same kinds, same operation IDs, same order; bodies and QoS as the SDK's.
        let sdk_sent: Vec<&Value> = sdk["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["dir"] == "device->dps")
            .collect();
        let ours_shapes: Vec<_> = seen
            .publishes
            .iter()
            .map(|(t, _, _)| request_shape(t))
            .collect();
        let sdk_shapes: Vec<_> = sdk_sent
            .iter()
            .map(|m| request_shape(m["topic"].as_str().unwrap()))
            .collect();
        assert_eq!(ours_shapes, sdk_shapes, "{ctx}: request topics");
        for ((topic, body, qos), m) in seen.publishes.iter().zip(&sdk_sent) {
            assert_eq!(
                u64::from(*qos),
                m["qos"].as_u64().unwrap(),
                "{ctx}: QoS of {topic}"
            );
            let sdk_body = m["payload"].as_str().unwrap();
            if topic.contains("iotdps-register") {
                assert_eq!(
                    register_json(body),
                    register_json(sdk_body),
                    "{ctx}: register body"
                );
            } else {
                assert_eq!(body, sdk_body, "{ctx}: poll body");
            }
        }
        // Same verdict, same assignment.
        let accepted = sdk["outcome"]["accepted"].as_bool().unwrap();
        assert_eq!(
            ours.result.is_ok(),
            accepted,
            "{ctx}: verdict {:?}",
            ours.result
        );
        if let Ok(a) = &ours.result {
            // Node reports the registration state itself, Python a RegistrationResult around it.
            let result = &sdk["outcome"]["result"];
            let state = result.get("registration_state").unwrap_or(result);
            let hub = state
                .get("assignedHub")
                .or_else(|| state.get("assigned_hub"))
                .unwrap();
            assert_eq!(a.assigned_hub, hub.as_str().unwrap(), "{ctx}");
            let device = state
                .get("deviceId")
                .or_else(|| state.get("device_id"))
                .unwrap();
            assert_eq!(a.device_id, device.as_str().unwrap(), "{ctx}");
        }
    }
    // The SAS password verifies with the key the SDK signed with (the derived key for the
    // group scenario) and names the registration (reference §5.1).
    if let Some(password) = &seen.password {
        let token = SasToken::parse(password).unwrap();
        let key = SharedAccessKey::from_base64(sdk["device_key"].as_str().unwrap()).unwrap();
        token.verify_signature(&key).unwrap();
        let resource = format!(
            "{}/registrations/{registration_id}",
            sdk["id_scope"].as_str().unwrap()
        );
        assert!(
            iot_sas::Scope::NamesText(&resource).admits(token.resource_raw()),
            "{name}: sr"
        );
        assert_eq!(token.key_name(), Some("registration"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iot_device_sends_what_the_sdks_send_and_reaches_their_verdicts() {
    let python = recording("python");
    let node = recording("node");
    let dir = std::env::temp_dir().join(format!("iot-device-capture-{}", std::process::id()));
    let ca = iot_server::tls::LocalCa::open_or_create(&dir).unwrap();
    let (chain, key) = ca.server_certificate(&["localhost".to_owned()]).unwrap();
    let tls = iot_server::tls::server_config(chain, key).unwrap();
    let trust = ServerTrust::from_pem(ca.ca_pem().as_bytes()).unwrap();
    for (sdk_name, sdk) in [("python", &python), ("node", &node)] {
        let scenarios = sdk["scenarios"].as_array().unwrap();
        assert_eq!(scenarios.len(), 8);
        // Each scenario against its own scripted DPS answering what this recording's DPS answered.
        let runs = scenarios
            .iter()
            .map(|s| replay(s.clone(), Arc::clone(&tls), trust.clone()));
        let outcomes = futures_join_all(runs).await;
        for (outcome, scenario) in outcomes.iter().zip(scenarios) {
            let name = scenario["name"].as_str().unwrap();
            check(name, outcome, scenario, sdk_name);
            // The failures are typed as the service meant them.
            match name {
                "disabled" => assert!(
                    matches!(outcome.result, Err(Error::Disabled)),
                    "{:?}",
                    outcome.result
                ),
                "failed_status" => assert!(
                    matches!(&outcome.result, Err(Error::Registration { error: f @ Failure::Registration(_), .. }) if f.error_code() == Some(400_207)),
                    "{:?}",
                    outcome.result
                ),
                "error_401002" => assert!(
                    matches!(&outcome.result, Err(Error::Registration { status: Some(401), error }) if error.error_code() == Some(401_002)),
                    "{:?}",
                    outcome.result
                ),
                _ => assert!(outcome.result.is_ok(), "{name}: {:?}", outcome.result),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the futures concurrently on the runtime (each scenario has its own scripted DPS).
async fn futures_join_all<F: Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
