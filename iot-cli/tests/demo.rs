//! `iot demo`: the test-to-production workflow runs green, in text and JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;

fn iot(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iot"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn demo_tells_the_story_and_exits_0() {
    let (code, text) = iot(&["demo"]);
    assert_eq!(code, 0, "{text}");
    for needle in [
        "individual enrollment, symmetric key",
        "enrollment group, symmetric key",
        "enrollment group, X.509 CA",
        "individual enrollment, X.509",
        "MQTT-over-WebSockets",
        "revoked enrollment",
        "substatus deviceDataReset",
        "is not registered in the hub",
        "type selfSigned",
        "do not revoke hub access",
        "over real TLS sockets on 127.0.0.1",
        "MQTT messages over TLS through the iot-dps-proto state machine",
        "registry manager DELETE contoso-test.azure-devices.net/devices/sym-device-01: status 204",
        "DPS service API PUT enrollmentGroups/sym-group",
        "telemetry acknowledged (PUBACK) and found in the server's store",
        "CONNACK 5 (unknown_identity",
        "CONNACK 5 (disabled",
        "service error 401002",
        "RESULT: every expected decision happened (31/31 steps, 6 scenarios)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("UNEXPECTED"), "{text}");
}

#[test]
fn demo_json_is_one_object_with_every_step_ok() {
    let (code, text) = iot(&["demo", "--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["nowUnix"].as_u64().unwrap() > 1_700_000_000);
    assert!(v["now"].as_str().unwrap().ends_with('Z'), "{v}");
    assert_eq!(v["testHub"], "contoso-test.azure-devices.net");
    let scenarios = v["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 6);
    for s in scenarios {
        for step in s["steps"].as_array().unwrap() {
            assert_eq!(step["ok"], true, "{step}");
        }
    }
}

#[test]
fn demo_rejects_unknown_flags_with_status_2() {
    let (code, _) = iot(&["demo", "--bogus"]);
    assert_eq!(code, 2);
}
