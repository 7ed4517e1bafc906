//! The workflow's credential and input types (moved here from iot-dps-service with the
//! workflow) never print a key in `Debug` (issue 12 item 7; the other crates' types are checked
//! by iot-dps-service/tests/hardening.rs).

use base64::Engine as _;
use iot_sas::SharedAccessKey;
use iot_server::engine::workflow::{DeviceCredential, ScenarioInputs};

#[test]
fn workflow_debug_output_carries_no_key() {
    let key_b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let key = SharedAccessKey::from_base64(&key_b64).unwrap();
    let inputs = ScenarioInputs::with_material(1_578_941_000, [[7; 32]; 6], vec![], vec![], vec![]);
    // The inputs really hold that key, so a leak would show it.
    assert_eq!(inputs.individual_keys.0, key_b64);
    let credential = DeviceCredential::SymmetricKey(Box::new(key));
    let outputs = [
        format!("{credential:?}"),
        format!("{credential:#?}"),
        format!("{inputs:?}"),
        format!("{inputs:#?}"),
    ];
    for text in &outputs {
        for window in key_b64.as_bytes().windows(10) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(
                !text.contains(window),
                "prints part of a key ({window}): {text}"
            );
        }
    }
}
