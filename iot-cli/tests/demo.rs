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
        "RESULT: every expected decision happened",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("UNEXPECTED"), "{text}");
}

#[test]
fn demo_json_is_one_object_with_every_step_ok() {
    let (code, text) = iot(&["demo", "--json", "--now", "1767225600"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["nowUnix"], 1_767_225_600u64);
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
