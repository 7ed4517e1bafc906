//! The seed's test-to-production workflow over every crate of the workspace (reference
//! ../shared/reference/azure-iot-protocol.md §7.5, §7.6, §8.3, §8.4): individual symmetric
//! key, symmetric-key group, X.509 CA group, individual X.509, X.509 CA over WebSockets
//! refused, and a revoked enrollment whose device connects until the plan is applied.
//! `iot demo` runs the same `workflow::run_test_to_production`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_server::engine::workflow::{
    CA_DEVICE, ScenarioInputs, Story, X509_DEVICE, run_test_to_production,
};
use iot_x509::generate::{Validity, new_device_cert, new_root_ca, new_self_signed_device_cert};

const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn inputs() -> ScenarioInputs {
    let validity = Validity::days(NOW as i64 - 3600, 30);
    let root = new_root_ca("iot-auth demo root", validity).unwrap();
    let ca_device = new_device_cert(CA_DEVICE, &root, validity).unwrap();
    let x509_device = new_self_signed_device_cert(X509_DEVICE, validity).unwrap();
    let mut keys = [[0u8; 32]; 6];
    for (i, k) in keys.iter_mut().enumerate() {
        for (j, b) in k.iter_mut().enumerate() {
            *b = (i * 37 + j * 11 + 5) as u8;
        }
    }
    ScenarioInputs::with_material(NOW, keys, root.der, ca_device.der, x509_device.der)
}

fn story() -> Story {
    run_test_to_production(&inputs()).unwrap()
}

fn assert_scenario(story: &Story, name_part: &str, steps: usize) {
    let scenario = story
        .scenarios
        .iter()
        .find(|s| s.name.contains(name_part))
        .unwrap_or_else(|| panic!("no scenario {name_part}"));
    for step in &scenario.steps {
        assert!(
            step.ok,
            "{}: {}\n expected: {}\n actual:   {}\n notes: {:#?}",
            scenario.name, step.step, step.expected, step.actual, step.notes
        );
    }
    assert_eq!(scenario.steps.len(), steps, "{}", scenario.name);
    assert!(scenario.ok);
}

#[test]
fn individual_symmetric_key_moves_to_production() {
    assert_scenario(&story(), "individual enrollment, symmetric key", 6);
}

#[test]
fn symmetric_key_group_moves_to_production_with_derived_key() {
    assert_scenario(&story(), "enrollment group, symmetric key", 6);
}

#[test]
fn x509_ca_group_moves_to_production_as_self_signed_thumbprint() {
    let story = story();
    assert_scenario(&story, "enrollment group, X.509 CA", 6);
    let s = story
        .scenarios
        .iter()
        .find(|s| s.name.contains("X.509 CA ("))
        .unwrap();
    assert!(
        s.steps[0]
            .notes
            .iter()
            .any(|n| n.contains("type selfSigned")),
        "{:#?}",
        s.steps[0].notes
    );
}

#[test]
fn individual_x509_moves_to_production() {
    assert_scenario(&story(), "individual enrollment, X.509", 6);
}

#[test]
fn x509_ca_over_websockets_is_refused() {
    assert_scenario(&story(), "WebSockets", 1);
}

#[test]
fn revoked_enrollment_keeps_hub_access_until_the_plan_is_applied() {
    let story = story();
    assert_scenario(&story, "revoked enrollment", 6);
    let s = story
        .scenarios
        .iter()
        .find(|s| s.name.contains("revoked"))
        .unwrap();
    assert!(s.steps[3].actual.contains("allowed"), "{:?}", s.steps[3]);
    assert!(s.steps[5].actual.contains("refused"), "{:?}", s.steps[5]);
}

#[test]
fn the_story_is_all_green_and_serializes() {
    let story = story();
    assert!(story.ok);
    assert_eq!(story.scenarios.len(), 6);
    let json = serde_json::to_value(&story).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["scenarios"][0]["steps"][0]["ok"], true);
}
