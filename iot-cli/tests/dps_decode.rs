//! `iot dps decode` end to end, on the topics and payloads of azure-sdk-for-c's provisioning
//! parser tests (sdk/tests/iot/provisioning/test_az_iot_provisioning_client_parser.c) and the
//! bodies the python SDK sends (reference §5.2-5.4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

const OPERATION_ID: &str = "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d";

fn iot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iot"))
        .args(args)
        .output()
        .unwrap()
}

fn payload_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iot-cli-dps-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn decode_json(topic: &str, payload: Option<(&str, &str)>) -> serde_json::Value {
    let file = payload.map(|(name, content)| payload_file(name, content));
    let mut args = vec!["dps", "decode", "--topic", topic, "--json"];
    if let Some(f) = &file {
        args.extend(["--payload", f.to_str().unwrap()]);
    }
    let out = iot(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn response_topic_alone_in_either_query_order() {
    let v = decode_json("$dps/registrations/res/202/?$rid=1&retry-after=3", None);
    assert_eq!(v["kind"], "response");
    assert_eq!(v["status"], 202);
    assert_eq!(v["rid"], "1");
    assert_eq!(v["retryAfter"], 3);
    let v = decode_json("$dps/registrations/res/202/?retry-after=120&$rid=1", None);
    assert_eq!(v["retryAfter"], 120);
}

#[test]
fn assigned_response_text_and_json() {
    let body = format!(
        "{{\"operationId\":\"{OPERATION_ID}\",\"status\":\"assigned\",\"registrationState\":{{\
         \"x509\":{{}},\"registrationId\":\"myRegistrationId\",\
         \"createdDateTimeUtc\":\"2020-04-10T03:11:13.0276997Z\",\
         \"assignedHub\":\"contoso.azure-devices.net\",\"deviceId\":\"my-device-id1\",\
         \"status\":\"assigned\",\"substatus\":\"initialAssignment\",\
         \"lastUpdatedDateTimeUtc\":\"2020-04-10T03:11:13.2096201Z\",\
         \"etag\":\"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI=\"}}}}"
    );
    let v = decode_json(
        "$dps/registrations/res/200/?$rid=1",
        Some(("assigned.json", &body)),
    );
    assert_eq!(v["body"]["operationId"], OPERATION_ID);
    assert_eq!(
        v["body"]["registrationState"]["assignedHub"],
        "contoso.azure-devices.net"
    );
    assert_eq!(v["body"]["registrationState"]["deviceId"], "my-device-id1");
    assert_eq!(
        v["body"]["registrationState"]["substatus"],
        "initialAssignment"
    );

    let file = payload_file("assigned-text.json", &body);
    let out = iot(&[
        "dps",
        "decode",
        "--topic",
        "$dps/registrations/res/200/?$rid=1",
        "--payload",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("kind: response\nstatus: 200\nrid: 1\n"),
        "{text}"
    );
    assert!(
        text.contains("body.registrationState.assignedHub: contoso.azure-devices.net\n"),
        "{text}"
    );
}

#[test]
fn error_and_disabled_responses() {
    let v = decode_json(
        "$dps/registrations/res/401/?$rid=1",
        Some((
            "error.json",
            r#"{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b","message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}"#,
        )),
    );
    assert_eq!(v["status"], 401);
    assert_eq!(v["body"]["errorCode"], 401002);
    assert_eq!(v["body"]["message"], "Invalid certificate.");
    let v = decode_json(
        "$dps/registrations/res/200/?$rid=1",
        Some((
            "disabled.json",
            r#"{"operationId":"","status":"disabled","registrationState":{"registrationId":"myRegistrationId","status":"disabled"}}"#,
        )),
    );
    assert_eq!(v["body"]["status"], "disabled");
    assert_eq!(v["body"]["operationId"], "");
}

#[test]
fn device_requests_of_every_sdk_shape() {
    // python: payload null, UUID rid; csharp: empty body; node/python: single-space poll payload.
    let v = decode_json(
        "$dps/registrations/PUT/iotdps-register/?$rid=347d594a-5550-4018-8207-73a9baed6a64",
        Some((
            "python.json",
            r#"{"payload": null, "registrationId": "capture-device-sym"}"#,
        )),
    );
    assert_eq!(v["kind"], "register");
    assert_eq!(v["rid"], "347d594a-5550-4018-8207-73a9baed6a64");
    assert_eq!(v["body"]["registrationId"], "capture-device-sym");
    let v = decode_json(
        "$dps/registrations/PUT/iotdps-register/?$rid=1",
        Some(("empty.json", "")),
    );
    assert_eq!(v["body"], serde_json::json!({}));
    let topic = format!(
        "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId={OPERATION_ID}"
    );
    let v = decode_json(&topic, Some(("space.json", " ")));
    assert_eq!(v["kind"], "operationStatus");
    assert_eq!(v["operationId"], OPERATION_ID);
}

#[test]
fn unparsable_input_exits_2() {
    let garbage = payload_file("garbage.json", "<html>");
    let deep = payload_file("deep.json", &("[".repeat(40) + &"]".repeat(40)));
    let topic = |t: &'static str| vec!["dps", "decode", "--topic", t];
    let with_payload = |t: &'static str, file: &'static str| {
        vec!["dps", "decode", "--topic", t, "--payload", file]
    };
    let garbage = garbage.to_str().unwrap().to_owned().leak();
    let deep = deep.to_str().unwrap().to_owned().leak();
    // Each bad input with what stderr must name: the part that is wrong and why.
    let cases: [(Vec<&str>, &[&str]); 7] = [
        (
            topic("$dps/registrations/unknown"),
            &[
                "topic",
                "does not match a DPS register or operation-status topic",
            ],
        ),
        (
            topic("$dps/registrations/res/2x2/?$rid=1"),
            &["topic", "invalid status code"],
        ),
        (
            topic("$dps/registrations/res/202/?$rid=1&retry-after=soon"),
            &["topic", "invalid retry-after"],
        ),
        (
            with_payload("$dps/registrations/res/200/?$rid=1", garbage),
            &["payload", "invalid json"],
        ),
        (
            with_payload("$dps/registrations/PUT/iotdps-register/?$rid=1", deep),
            &["payload", "nesting deeper than 32"],
        ),
        (
            with_payload(
                "$dps/registrations/res/200/?$rid=1",
                "/nonexistent/payload.json",
            ),
            &["/nonexistent/payload.json", "No such file"],
        ),
        (vec!["dps", "decode"], &["--topic"]),
    ];
    for (args, names) in cases {
        let out = iot(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        for name in names {
            assert!(err.contains(name), "{args:?}: no {name:?} in {err}");
        }
    }
}
