//! Replays the DPS MQTT traffic recorded from Microsoft's own device SDKs (python
//! `azure-iot-device` and node `azure-iot-provisioning-device[-mqtt]`) through our parsers and
//! builders, and verifies every SAS password with `iot-sas`.
//!
//! Data and generator: `tests/data/capture/` (`capture.py`, README.md names the SDK versions
//! and the re-record command). The recordings carry their own keys, IDs, `$rid`s, expiries and
//! dates; nothing here is hard-coded except the scenario names and the SDK-specific facts the
//! capture showed (api-version, `skn`, `sr` encoding), which are asserted so that a re-record
//! with a changed SDK is noticed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use iot_dps_proto::{
    ApiVersion, ClientConfig, DeviceRegistration, Event, Failure, Handled, MqttConnect,
    ProvisioningClient, RegistrationStatus, Request, RequestTopic, Response, ResponseBody,
    ResponseTopic, Substatus, UserNameParts, check_poll_payload, operation_status_topic,
    register_topic, response_topic,
};
use iot_sas::{SasToken, SharedAccessKey, Verifier};
use serde_json::Value;

const PYTHON: &str = include_str!("data/capture/python-sdk.json");
const NODE: &str = include_str!("data/capture/node-sdk.json");

const SCENARIOS: [&str; 8] = [
    "symkey_individual",
    "symkey_custom_payload",
    "symkey_group_derived",
    "x509_client_certificate",
    "disabled",
    "failed_status",
    "error_401002",
    "throttled_then_assigned",
];

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("recording is JSON")
}

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// Minimal percent-decoding for the test's own expectations (independent of the crate).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What one replay checked, for the summary assertions.
#[derive(Default, Debug)]
struct Tally {
    requests: usize,
    responses: usize,
    passwords_verified: usize,
    assigned: usize,
}

fn replay(text: &str, sdk: &str) -> Tally {
    let doc = load(text);
    assert_eq!(doc["sdk"], sdk);
    let scenarios = doc["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios.iter().map(|sc| s(sc, "name")).collect();
    assert_eq!(names, SCENARIOS, "{sdk}: scenario list");
    let mut tally = Tally::default();
    for sc in scenarios {
        replay_scenario(sdk, sc, &mut tally);
    }
    tally
}

fn replay_scenario(sdk: &str, sc: &Value, tally: &mut Tally) {
    let name = s(sc, "name");
    let ctx = format!("{sdk}/{name}");
    let id_scope = s(sc, "id_scope");
    let registration_id = s(sc, "registration_id");
    assert_eq!(
        sc["unexpected"],
        Value::Array(vec![]),
        "{ctx}: harness saw unscripted requests"
    );
    assert_eq!(
        sc["unused_steps"],
        Value::Array(vec![]),
        "{ctx}: scripted answers never asked for"
    );

    // ---- CONNECT: client id, user name (§5.1)
    let connect = &sc["connect"];
    assert_eq!(
        s(connect, "client_id"),
        registration_id,
        "{ctx}: client id = registration id"
    );
    let user_name = s(connect, "username");
    let parts = UserNameParts::parse(user_name).unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
    assert_eq!(parts.id_scope, id_scope, "{ctx}");
    assert_eq!(parts.registration_id, registration_id, "{ctx}");
    // Both SDKs still send 2019-03-31 (our default is 2021-06-01, so it must be selected).
    assert_eq!(parts.api_version, "2019-03-31", "{ctx}");
    assert_eq!(
        ApiVersion::from_known(parts.api_version),
        Some(ApiVersion::V2019_03_31),
        "{ctx}"
    );
    let ours = MqttConnect::new(id_scope, registration_id)
        .unwrap()
        .with_api_version(ApiVersion::V2019_03_31);
    assert_eq!(ours.client_id(), s(connect, "client_id"), "{ctx}");
    // The part before `&ClientVersion=` is byte-identical ...
    let (before_agent, agent_raw) = user_name
        .split_once("&ClientVersion=")
        .expect("agent present");
    assert_eq!(
        ours.user_name(),
        before_agent,
        "{ctx}: user name without the agent"
    );
    assert_eq!(parts.client_version, Some(agent_raw), "{ctx}");
    // ... and with the SDK's own agent string, our encoder reproduces the whole user name
    // (python `urllib.parse.quote(safe='')` and node `encodeURIComponent` agree with the RFC 3986
    // unreserved set on these agent strings).
    let agent = percent_decode(agent_raw);
    let expected_agent_prefix = match sdk {
        "python" => "azure-iot-device-provisioning-py/",
        _ => "azure-iot-provisioning-device/",
    };
    assert!(
        agent.starts_with(expected_agent_prefix),
        "{ctx}: agent {agent}"
    );
    assert_eq!(
        ours.with_client_version(&agent).user_name(),
        user_name,
        "{ctx}: full user name"
    );

    // ---- password: SAS token over `{idScope}/registrations/{registrationId}` (§1, §5.1)
    let captured_at = sc["captured_at"].as_u64().unwrap();
    let resource = format!("{id_scope}/registrations/{registration_id}");
    if s(sc, "auth") == "x509" {
        assert!(
            connect["password"].is_null(),
            "{ctx}: X.509 devices send no password"
        );
        let cert = &sc["tls"]["client_certificate"];
        assert_eq!(
            s(cert, "subject_cn"),
            registration_id,
            "{ctx}: leaf CN = registration id"
        );
    } else {
        assert!(
            sc["tls"]["client_certificate"].is_null(),
            "{ctx}: SAS device sent a certificate"
        );
        let password = s(connect, "password");
        let device_key_b64 = s(sc, "device_key");
        if s(sc, "auth") == "group" {
            // reference §3: the device key is HMAC(group key, registration id)
            let group = SharedAccessKey::from_base64(s(sc, "group_key")).unwrap();
            let derived = iot_sas::derive_device_key(&group, registration_id);
            assert_eq!(
                derived.to_base64().as_str(),
                device_key_b64,
                "{ctx}: derived key"
            );
        }
        let key = SharedAccessKey::from_base64(device_key_b64).unwrap();
        let token = SasToken::parse(password).unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        token
            .verify_signature(&key)
            .unwrap_or_else(|e| panic!("{ctx}: MAC: {e:?}"));
        let verified = Verifier::new(key.clone(), None)
            .verify(&token, Some(&resource), captured_at)
            .unwrap_or_else(|e| panic!("{ctx}: verifier: {e:?}"));
        assert_eq!(verified.expiry, token.expiry(), "{ctx}");
        // both SDKs: one hour from the call (python sastoken_ttl=3600, node anHourFromNow)
        let ttl = token.expiry().saturating_sub(captured_at);
        assert!((3595..=3605).contains(&ttl), "{ctx}: ttl {ttl}");
        assert!(
            iot_sas::Scope::NamesText(&resource).admits(token.resource_raw()),
            "{ctx}: sr"
        );
        // A wrong key must fail: the check above can fail.
        let wrong = SharedAccessKey::from_bytes(&[0x5a; 32]).unwrap();
        assert!(
            token.verify_signature(&wrong).is_err(),
            "{ctx}: wrong key accepted"
        );
        assert!(
            Verifier::new(wrong, None)
                .verify(&token, Some(&resource), captured_at)
                .is_err(),
            "{ctx}: verifier accepted a wrong key"
        );
        // Another device's resource is not covered.
        let other = format!("{id_scope}/registrations/{registration_id}x");
        assert!(
            Verifier::new(key.clone(), None)
                .verify(&token, Some(&other), captured_at)
                .is_err(),
            "{ctx}: token accepted for another registration"
        );

        // Our own password for the same key and expiry.
        let ours_password = ours.password(&key, token.expiry()).unwrap();
        let ours_token = SasToken::parse(&ours_password).unwrap();
        ours_token.verify_signature(&key).unwrap();
        assert_eq!(ours_token.key_name(), Some("registration"), "{ctx}");
        match sdk {
            // python: `sr` percent-encoded (quote, safe='') and no `skn`; the MAC covers the
            // encoded `sr`, which is exactly our canonical `sr`, so the signatures are equal.
            "python" => {
                assert_eq!(token.key_name(), None, "{ctx}: python sends no skn");
                assert_eq!(token.resource_raw(), ours_token.resource_raw(), "{ctx}: sr");
                assert_eq!(
                    token.signature_raw(),
                    ours_token.signature_raw(),
                    "{ctx}: same MAC"
                );
                let expected = format!(
                    "SharedAccessSignature sr={}&sig={}&se={}",
                    ours_token.resource_raw(),
                    ours_token.signature_raw(),
                    ours_token.expiry_raw()
                );
                assert_eq!(password, expected, "{ctx}: python token text");
            }
            // node 1.9.1: `sr` NOT percent-encoded (`SharedAccessSignature.create` keeps the
            // resource as given) and `skn=registration` before `se`; the MAC covers the raw
            // `sr`, so it differs from ours, yet both verify against the same resource.
            _ => {
                assert_eq!(token.key_name(), Some("registration"), "{ctx}");
                assert_eq!(token.resource_raw(), resource, "{ctx}: node sr is raw");
                assert_ne!(token.signature_raw(), ours_token.signature_raw(), "{ctx}");
                assert!(
                    password.contains("&skn=registration&se="),
                    "{ctx}: node field order"
                );
            }
        }
        tally.passwords_verified += 1;
    }

    // ---- messages (§5.2-5.4)
    let device_payload = &sc["device_payload"];
    let mut last_request: Option<(String, &'static str)> = None; // (rid, kind)
    let mut operation_id: Option<String> = None;
    let mut final_status: Option<(u16, Option<RegistrationStatus>)> = None;
    let messages = sc["messages"].as_array().unwrap();
    assert!(messages.len() >= 2, "{ctx}: too few messages");
    for (i, m) in messages.iter().enumerate() {
        let mctx = format!("{ctx} message {i}");
        let topic = s(m, "topic");
        let payload = s(m, "payload").as_bytes();
        let qos = m["qos"].as_u64().unwrap();
        match s(m, "dir") {
            "device->dps" => {
                assert_eq!(qos, 1, "{mctx}: SDK publishes at QoS 1");
                assert!(
                    last_request.is_none(),
                    "{mctx}: two requests without an answer"
                );
                let request =
                    RequestTopic::parse(topic).unwrap_or_else(|e| panic!("{mctx}: {e:?}"));
                let rid = request.rid();
                assert!(!rid.is_empty(), "{mctx}");
                match request {
                    RequestTopic::Register { rid } => {
                        assert_eq!(
                            register_topic(rid).unwrap(),
                            topic,
                            "{mctx}: our register topic"
                        );
                        let body = DeviceRegistration::from_slice(payload)
                            .unwrap_or_else(|e| panic!("{mctx}: {e:?}"));
                        assert_eq!(
                            body.registration_id.as_deref(),
                            Some(registration_id),
                            "{mctx}"
                        );
                        let expected = if device_payload.is_null() {
                            None
                        } else {
                            Some(device_payload)
                        };
                        assert_eq!(body.payload.as_ref(), expected, "{mctx}: payload");
                        assert!(body.tpm.is_none(), "{mctx}");
                        // SDK-specific body spelling (reference §5.3)
                        let text = std::str::from_utf8(payload).unwrap();
                        if sdk == "python" {
                            assert!(
                                text.starts_with("{\"payload\": "),
                                "{mctx}: python body {text}"
                            );
                        } else {
                            assert!(
                                text.starts_with("{\"registrationId\":"),
                                "{mctx}: node body {text}"
                            );
                        }
                        last_request = Some((rid.to_owned(), "register"));
                    }
                    RequestTopic::OperationStatus {
                        rid,
                        operation_id: op,
                    } => {
                        let expected_op = operation_id
                            .as_deref()
                            .expect("poll before any operationId");
                        assert_eq!(op, expected_op, "{mctx}: polls the operation from the 202");
                        assert_eq!(
                            operation_status_topic(rid, op).unwrap(),
                            topic,
                            "{mctx}: our poll topic"
                        );
                        assert_eq!(payload, b" ", "{mctx}: python and node poll with one space");
                        check_poll_payload(payload).unwrap_or_else(|e| panic!("{mctx}: {e:?}"));
                        last_request = Some((rid.to_owned(), "poll"));
                    }
                }
                tally.requests += 1;
            }
            "dps->device" => {
                assert_eq!(qos, sc["response_qos"].as_u64().unwrap(), "{mctx}");
                let (rid, _kind) = last_request.take().expect("answer without a request");
                let parsed =
                    ResponseTopic::parse(topic).unwrap_or_else(|e| panic!("{mctx}: {e:?}"));
                assert_eq!(parsed.rid, Some(rid.as_str()), "{mctx}: $rid echoed");
                assert!(parsed.rid_matches(&rid), "{mctx}");
                let expected_retry = topic.contains("retry-after=1").then_some(1);
                assert_eq!(parsed.retry_after, expected_retry, "{mctx}");
                if topic.contains("?$rid=") {
                    let built = response_topic(parsed.status, &rid, parsed.retry_after).unwrap();
                    assert_eq!(built, topic, "{mctx}: our response topic");
                } else {
                    // the harness reversed the query on purpose: `?retry-after=1&$rid=...`
                    assert_eq!(name, "symkey_custom_payload", "{mctx}");
                }
                let response = Response::from_mqtt(topic, payload).unwrap();
                assert_eq!(response.status, parsed.status, "{mctx}");
                let json: Value = serde_json::from_slice(payload).unwrap();
                match response
                    .decode()
                    .unwrap_or_else(|e| panic!("{mctx}: {e:?}"))
                {
                    ResponseBody::Operation(op) => {
                        assert!(response.is_success(), "{mctx}");
                        assert_eq!(op.operation_id, s(&json, "operationId"), "{mctx}");
                        assert_eq!(op.status.as_str(), s(&json, "status"), "{mctx}");
                        operation_id = Some(op.operation_id.clone());
                        check_registration_state(&mctx, sc, &json, &op);
                        final_status = Some((parsed.status, Some(op.status.clone())));
                    }
                    ResponseBody::Error(err) => {
                        assert!(!response.is_success(), "{mctx}");
                        let err = err.unwrap_or_else(|| panic!("{mctx}: error body not parsed"));
                        let code = json["errorCode"].as_u64().unwrap();
                        assert_eq!(err.error_code.map(u64::from), Some(code), "{mctx}");
                        assert_eq!(
                            err.http_status(),
                            Some(parsed.status),
                            "{mctx}: code / 1000"
                        );
                        assert_eq!(err.message.as_deref(), json["message"].as_str(), "{mctx}");
                        assert_eq!(
                            err.tracking_id.as_deref(),
                            json["trackingId"].as_str(),
                            "{mctx}"
                        );
                        assert!(err.timestamp_utc.is_some(), "{mctx}");
                        final_status = Some((parsed.status, None));
                    }
                }
                tally.responses += 1;
            }
            other => panic!("{mctx}: direction {other}"),
        }
    }
    assert!(last_request.is_none(), "{ctx}: last request unanswered");

    // ---- what the SDK made of it
    let outcome = &sc["outcome"];
    let accepted = outcome["accepted"].as_bool().unwrap();
    let (status, op_status) = final_status.unwrap();
    match name {
        "disabled" => {
            assert_eq!(op_status, Some(RegistrationStatus::Disabled), "{ctx}");
            assert!(op_status.unwrap().is_complete(), "{ctx}");
            assert!(!accepted, "{ctx}: neither SDK treats disabled as success");
        }
        "failed_status" => {
            assert_eq!(op_status, Some(RegistrationStatus::Failed), "{ctx}");
            assert!(!accepted, "{ctx}");
        }
        "error_401002" => {
            assert_eq!((status, op_status), (401, None), "{ctx}");
            assert!(!accepted, "{ctx}");
        }
        _ => {
            assert_eq!(
                (status, op_status),
                (200, Some(RegistrationStatus::Assigned)),
                "{ctx}"
            );
            assert!(accepted, "{ctx}: SDK refused an assignment: {outcome}");
            // What the SDK reported is what we parsed from the last answer.
            let reported = &outcome["result"];
            let (hub, device) = if sdk == "python" {
                let st = &reported["registration_state"];
                (s(st, "assigned_hub"), s(st, "device_id"))
            } else {
                (s(reported, "assignedHub"), s(reported, "deviceId"))
            };
            assert_eq!(device, registration_id, "{ctx}");
            assert!(hub.ends_with(".azure-devices.net"), "{ctx}");
            tally.assigned += 1;
        }
    }
}

fn check_registration_state(
    mctx: &str,
    sc: &Value,
    json: &Value,
    op: &iot_dps_proto::RegistrationOperationStatus,
) {
    let registration_id = s(sc, "registration_id");
    let Some(state_json) = json.get("registrationState") else {
        assert!(op.registration_state.is_none(), "{mctx}");
        assert_eq!(
            op.status,
            RegistrationStatus::Assigning,
            "{mctx}: first 202 has no state"
        );
        return;
    };
    let state = op
        .registration_state
        .as_ref()
        .expect("registrationState parsed");
    assert_eq!(
        state.registration_id.as_deref(),
        Some(registration_id),
        "{mctx}"
    );
    assert_eq!(state.status.as_ref(), Some(&op.status), "{mctx}");
    assert_eq!(state.etag.as_deref(), state_json["etag"].as_str(), "{mctx}");
    assert_eq!(
        state.created_date_time_utc.as_deref(),
        state_json["createdDateTimeUtc"].as_str(),
        "{mctx}"
    );
    assert_eq!(
        state.last_updated_date_time_utc.as_deref(),
        state_json["lastUpdatedDateTimeUtc"].as_str(),
        "{mctx}"
    );
    match op.status {
        RegistrationStatus::Assigned => {
            assert_eq!(state.device_id.as_deref(), Some(registration_id), "{mctx}");
            assert_eq!(
                state.assigned_hub.as_deref(),
                state_json["assignedHub"].as_str(),
                "{mctx}"
            );
            assert_eq!(
                state.substatus,
                Some(Substatus::InitialAssignment),
                "{mctx}"
            );
            assert!(
                state.etag.is_some()
                    && state.created_date_time_utc.is_some()
                    && state.assigned_hub.is_some(),
                "{mctx}"
            );
            assert_eq!(
                state.payload.as_ref(),
                state_json.get("payload"),
                "{mctx}: webhook payload"
            );
            match s(sc, "name") {
                "symkey_custom_payload" => assert!(state.payload.is_some(), "{mctx}"),
                "symkey_group_derived" => {
                    let group = state.symmetric_key.as_ref().expect("symmetricKey");
                    assert_eq!(
                        group.enrollment_group_id.as_deref(),
                        state_json["symmetricKey"]["enrollmentGroupId"].as_str(),
                        "{mctx}"
                    );
                }
                "x509_client_certificate" => {
                    let x509 = state.x509.as_ref().expect("x509");
                    let info = x509.certificate_info.as_ref().expect("certificateInfo");
                    // the thumbprint DPS reports is the certificate the SDK presented in TLS
                    assert_eq!(
                        info.sha256_thumbprint.as_deref(),
                        sc["tls"]["client_certificate"]["sha256_thumbprint"].as_str(),
                        "{mctx}"
                    );
                    assert_eq!(
                        info.subject_name.as_deref(),
                        Some(format!("CN={registration_id}").as_str()),
                        "{mctx}"
                    );
                    assert!(x509.signing_certificate_info.is_some(), "{mctx}");
                    assert!(x509.enrollment_group_id.is_some(), "{mctx}");
                }
                _ => {}
            }
        }
        RegistrationStatus::Failed => {
            assert_eq!(
                state.error_code,
                state_json["errorCode"].as_u64().map(|c| c as u32),
                "{mctx}"
            );
            assert_eq!(
                state.error_message.as_deref(),
                state_json["errorMessage"].as_str(),
                "{mctx}"
            );
            assert!(state.assigned_hub.is_none(), "{mctx}");
        }
        RegistrationStatus::Assigning | RegistrationStatus::Disabled => {
            assert!(
                state.assigned_hub.is_none() && state.device_id.is_none(),
                "{mctx}"
            );
        }
        ref other => panic!("{mctx}: unexpected status {other:?}"),
    }
}

#[test]
fn python_sdk_traffic_parses_and_matches_our_builders() {
    let t = replay(PYTHON, "python");
    // 8 scenarios: 5 assigned (one of them after two 429s), 3 refused
    assert_eq!(t.assigned, 5, "{t:?}");
    assert_eq!(t.passwords_verified, 7, "{t:?}");
    assert_eq!(t.requests, t.responses, "{t:?}");
    assert!(t.requests >= 17, "{t:?}");
}

#[test]
fn node_sdk_traffic_parses_and_matches_our_builders() {
    let t = replay(NODE, "node");
    assert_eq!(t.assigned, 5, "{t:?}");
    assert_eq!(t.passwords_verified, 7, "{t:?}");
    assert_eq!(t.requests, t.responses, "{t:?}");
    assert!(t.requests >= 17, "{t:?}");
}

/// Drives our own state machine with the answers DPS gave the SDK, request by request: our
/// client must ask for the same things in the same order (register, poll the same operationId,
/// re-register after a 429 on register, re-poll after a 429 on poll) and reach the same
/// verdict. Our `$rid` is a counter, so each answer's topic is re-addressed to our `$rid`; the
/// answer with the SDK's UUID `$rid` must be ignored as foreign first.
fn drive_our_client(text: &str, sdk: &str) -> usize {
    let doc = load(text);
    let mut finished = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let ctx = format!("{sdk}/{} (our client)", s(sc, "name"));
        let mut client = ProvisioningClient::new(ClientConfig::default());
        let mut now = Duration::from_secs(1_000);
        let mut ours: Option<Request> = client.start(now);
        for (i, m) in sc["messages"].as_array().unwrap().iter().enumerate() {
            let mctx = format!("{ctx} message {i}");
            let topic = s(m, "topic");
            if s(m, "dir") == "device->dps" {
                // advance our clock to whenever our client wants to send next
                let mut guard = 0;
                while ours.is_none() {
                    let at = client
                        .poll_timeout()
                        .unwrap_or_else(|| panic!("{mctx}: client idle"));
                    now = now.max(at);
                    client.handle_timeout(now);
                    ours = client.poll_transmit(now);
                    guard += 1;
                    assert!(guard < 100, "{mctx}: our client never sends");
                }
                let request = ours.as_ref().unwrap();
                match (RequestTopic::parse(topic).unwrap(), request) {
                    (RequestTopic::Register { .. }, Request::Register { .. }) => {}
                    (
                        RequestTopic::OperationStatus { operation_id, .. },
                        Request::PollStatus {
                            operation_id: o, ..
                        },
                    ) => {
                        assert_eq!(operation_id, o, "{mctx}: same operationId");
                    }
                    (sdk_req, our_req) => {
                        panic!("{mctx}: SDK sent {sdk_req:?}, we would send {our_req:?}")
                    }
                }
            } else {
                let request = ours
                    .take()
                    .unwrap_or_else(|| panic!("{mctx}: answer without our request"));
                let payload = s(m, "payload").as_bytes();
                let foreign = Response::from_mqtt(topic, payload).unwrap();
                assert_eq!(
                    client.handle_response(now, &foreign),
                    Handled::ForeignRid,
                    "{mctx}"
                );
                let sdk_rid = ResponseTopic::parse(topic).unwrap().rid.unwrap();
                let readdressed = topic.replacen(
                    &format!("$rid={sdk_rid}"),
                    &format!("$rid={}", request.rid()),
                    1,
                );
                let response = Response::from_mqtt(&readdressed, payload).unwrap();
                assert_eq!(
                    client.handle_response(now, &response),
                    Handled::Accepted,
                    "{mctx}"
                );
            }
        }
        let event = client
            .poll_event()
            .unwrap_or_else(|| panic!("{ctx}: no outcome"));
        assert!(client.is_finished(), "{ctx}");
        match (s(sc, "name"), event) {
            ("disabled", Event::Disabled) => {}
            (
                "failed_status",
                Event::Failed {
                    status: Some(200),
                    error: Failure::Registration(state),
                },
            ) => {
                assert_eq!(state.error_code, Some(400207), "{ctx}");
            }
            (
                "error_401002",
                Event::Failed {
                    status: Some(401),
                    error,
                },
            ) => {
                assert_eq!(error.error_code(), Some(401002), "{ctx}");
            }
            (
                _,
                Event::Assigned {
                    assigned_hub,
                    device_id,
                    substatus,
                    payload,
                    ..
                },
            ) => {
                assert!(
                    sc["outcome"]["accepted"].as_bool().unwrap(),
                    "{ctx}: SDK refused what we accept"
                );
                assert_eq!(device_id, s(sc, "registration_id"), "{ctx}");
                assert!(assigned_hub.ends_with(".azure-devices.net"), "{ctx}");
                assert_eq!(substatus, Some(Substatus::InitialAssignment), "{ctx}");
                assert_eq!(
                    payload.is_some(),
                    s(sc, "name") == "symkey_custom_payload",
                    "{ctx}"
                );
            }
            (name, other) => panic!("{ctx}: {name} ended as {other:?}"),
        }
        finished += 1;
    }
    finished
}

#[test]
fn our_client_follows_the_recorded_python_exchanges() {
    assert_eq!(drive_our_client(PYTHON, "python"), SCENARIOS.len());
}

#[test]
fn our_client_follows_the_recorded_node_exchanges() {
    assert_eq!(drive_our_client(NODE, "node"), SCENARIOS.len());
}

#[test]
fn recordings_name_their_sdk_versions() {
    let py = load(PYTHON);
    assert_eq!(py["versions"]["package"], "azure-iot-device");
    assert!(py["versions"]["version"].is_string());
    let node = load(NODE);
    assert!(node["versions"]["azure-iot-provisioning-device"].is_string());
    assert!(node["versions"]["azure-iot-provisioning-device-mqtt"].is_string());
}
