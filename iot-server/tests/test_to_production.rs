//! The seed's test-to-production workflow over every crate of the workspace (reference
//! ../shared/reference/azure-iot-protocol.md §7.5, §7.6, §8.3, §8.4): individual symmetric
//! key, symmetric-key group, X.509 CA group, individual X.509, X.509 CA over WebSockets
//! refused, and a revoked enrollment whose device connects until the plan is applied.
//! `iot demo` runs the same `workflow::run_test_to_production`. The expected outcome of every
//! step is stated here from the rules, not read from the scenarios' own expectations.
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

const TEST: &str = "contoso-test.azure-devices.net";
const PROD: &str = "contoso-prod.azure-devices.net";

/// One step as this test expects it: its `actual` text starts with `actual`, and its notes
/// hold each of `notes` (as a substring).
struct Expect {
    actual: String,
    notes: Vec<String>,
}

fn expect(actual: impl Into<String>, notes: &[String]) -> Expect {
    Expect {
        actual: actual.into(),
        notes: notes.to_vec(),
    }
}

/// Upper-case hex SHA-256 of a certificate, computed here with the `sha2` crate.
fn sha256_hex(der: &[u8]) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// The test-to-production steps (§8.4) stated from the rules, not read from the scenarios:
/// DPS assigns the Test hub (initialAssignment), the hub admits the device; the operator
/// retargets the enrollment to Production and deletes the device from Test; Test then refuses
/// it as unknown; re-registration moves it with the enrollment's reprovision policy
/// (updateHubAssignment without migrateDeviceData: deviceDataReset, §8.3), removes it from
/// Test, and Production admits it. X.509 devices land as selfSigned with the leaf's SHA-256
/// (§7.5).
fn moved_to_production(id: &str, enrollment: &str, leaf: Option<&[u8]>) -> Vec<Expect> {
    let kind = if leaf.is_some() { "selfSigned" } else { "sas" };
    let thumbprint = leaf
        .map(|der| format!("type selfSigned, primary thumbprint {}", sha256_hex(der)))
        .into_iter();
    let mut first = vec![
        format!("through {enrollment}"),
        format!("create/update '{id}' in {TEST} as {kind}"),
    ];
    first.extend(thumbprint.clone());
    let mut again = vec![
        format!("through {enrollment}, substatus deviceDataReset"),
        format!("create/update '{id}' in {PROD} as {kind}"),
        format!("delete '{id}' from {TEST}"),
    ];
    again.extend(thumbprint);
    vec![
        expect(
            format!("assigned to {TEST} as '{id}', substatus initialAssignment"),
            &first,
        ),
        expect(format!("{TEST} allowed the connection"), &[]),
        expect(
            "enrollment updated, device deleted from Test",
            &[format!(
                "{enrollment}: static allocation now names only {PROD}"
            )],
        ),
        expect(
            format!("{TEST} refused: identity {id} is not registered in the hub"),
            &[],
        ),
        expect(
            format!("assigned to {PROD} as '{id}', substatus deviceDataReset"),
            &again,
        ),
        expect(format!("{PROD} allowed the connection"), &[]),
    ]
}

fn assert_scenario(story: &Story, name_part: &str, expected: &[Expect]) {
    let scenario = story
        .scenarios
        .iter()
        .find(|s| s.name.contains(name_part))
        .unwrap_or_else(|| panic!("no scenario {name_part}"));
    assert_eq!(scenario.steps.len(), expected.len(), "{}", scenario.name);
    for (step, want) in scenario.steps.iter().zip(expected) {
        assert!(
            step.actual.starts_with(&want.actual),
            "{}: {}\n expected: {}\n actual:   {}\n notes: {:#?}",
            scenario.name,
            step.step,
            want.actual,
            step.actual,
            step.notes
        );
        for note in &want.notes {
            assert!(
                step.notes.iter().any(|n| n.contains(note.as_str())),
                "{}: {}: no note {note:?} in {:#?}",
                scenario.name,
                step.step,
                step.notes
            );
        }
        // The report's own verdict agrees with ours.
        assert!(step.ok, "{}: {} reported not ok", scenario.name, step.step);
    }
    assert!(scenario.ok);
}

#[test]
fn individual_symmetric_key_moves_to_production() {
    let expected = moved_to_production(
        "sym-device-01",
        "individual enrollment 'sym-device-01'",
        None,
    );
    assert_scenario(&story(), "individual enrollment, symmetric key", &expected);
}

#[test]
fn symmetric_key_group_moves_to_production_with_derived_key() {
    let expected = moved_to_production("group-device-01", "enrollment group 'sym-group'", None);
    assert_scenario(&story(), "enrollment group, symmetric key", &expected);
}

#[test]
fn x509_ca_group_moves_to_production_as_self_signed_thumbprint() {
    let inputs = inputs();
    let story = run_test_to_production(&inputs).unwrap();
    let expected = moved_to_production(
        CA_DEVICE,
        "enrollment group 'ca-group'",
        Some(&inputs.ca_device_der),
    );
    assert_scenario(&story, "enrollment group, X.509 CA", &expected);
}

#[test]
fn individual_x509_moves_to_production() {
    let inputs = inputs();
    let story = run_test_to_production(&inputs).unwrap();
    let expected = moved_to_production(
        X509_DEVICE,
        &format!("individual enrollment '{X509_DEVICE}'"),
        Some(&inputs.x509_device_der),
    );
    assert_scenario(&story, "individual enrollment, X.509", &expected);
}

#[test]
fn x509_ca_over_websockets_is_refused() {
    // x509CaOverWebSockets is false by default (§6.4): 401 with DPS error 401002.
    assert_scenario(
        &story(),
        "WebSockets",
        &[expect("status 401: failed with 401002", &[])],
    );
}

#[test]
fn revoked_enrollment_keeps_hub_access_until_the_plan_is_applied() {
    // §7.6: disabling an enrollment in DPS does not touch the hub; the revocation plan
    // disables the device there, and only then is it refused.
    let id = "revoked-device-01";
    let expected = [
        expect(
            format!("assigned to {TEST} as '{id}', substatus initialAssignment"),
            &[],
        ),
        expect(format!("{TEST} allowed the connection"), &[]),
        expect(
            format!("individual enrollment '{id}' disabled; the plan lists 1 hub change(s)"),
            &[
                format!("plan: hub change: disable '{id}' in {TEST}"),
                "do not revoke hub access".to_owned(),
            ],
        ),
        expect(format!("{TEST} allowed the connection"), &[]),
        expect(
            "device state machine: registration disabled",
            &[format!("individual enrollment '{id}' is disabled")],
        ),
        expect(format!("{TEST} refused: identity {id} is disabled"), &[]),
    ];
    assert_scenario(&story(), "revoked enrollment", &expected);
}

#[test]
fn the_story_is_all_green_and_serializes() {
    let story = story();
    assert!(story.ok);
    assert_eq!(story.scenarios.len(), 6);
    let json = serde_json::to_value(&story).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(
        json["scenarios"][0]["steps"][0]["actual"],
        format!("assigned to {TEST} as 'sym-device-01', substatus initialAssignment")
    );
}
