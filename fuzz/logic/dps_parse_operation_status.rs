// Fuzz logic for the DPS JSON bodies: `RegistrationOperationStatus::from_slice` (device side),
// `ErrorBody::from_slice`, `DeviceRegistration::from_slice` (service side), shared by the
// cargo-fuzz target and iot-dps-proto/tests/fuzz_replay.rs.
//
// Invariants: never panics; the depth pre-scan agrees with a byte-at-a-time reference;
// anything accepted respects the size/depth bounds; accepted
// values serialize and parse back to the same value (payloads compared only for presence,
// since float text may change).

/// Byte-at-a-time reference for the depth pre-scan (brackets outside strings, escapes honoured).
fn reference_depth(data: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in data {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

pub fn run(data: &[u8]) {
    let bounded = iot_dps_proto::check_json_bounds(data).is_ok();
    assert_eq!(
        bounded,
        data.len() <= iot_dps_proto::MAX_PAYLOAD_LEN
            && reference_depth(data) <= iot_dps_proto::MAX_JSON_DEPTH,
        "depth pre-scan disagrees with the reference"
    );
    if let Ok(status) = iot_dps_proto::RegistrationOperationStatus::from_slice(data) {
        assert!(bounded);
        if let Ok(json) = status.to_json() {
            let again = iot_dps_proto::RegistrationOperationStatus::from_slice(&json)
                .expect("our own JSON parses");
            assert_eq!(again.operation_id, status.operation_id);
            assert_eq!(again.status, status.status);
            let strip = |s: &iot_dps_proto::RegistrationOperationStatus| {
                s.registration_state.clone().map(|mut r| {
                    let had_payload = r.payload.take().is_some();
                    (r, had_payload)
                })
            };
            assert_eq!(strip(&again), strip(&status));
        }
    }
    if let Ok(error) = iot_dps_proto::ErrorBody::from_slice(data) {
        assert!(bounded);
        let _ = error.http_status();
        if let Ok(json) = error.to_json() {
            let again = iot_dps_proto::ErrorBody::from_slice(&json).expect("our own JSON parses");
            assert_eq!(again.error_code, error.error_code);
            assert_eq!(again.message, error.message);
        }
    }
    if let Ok(registration) = iot_dps_proto::DeviceRegistration::from_slice(data)
        && let Ok(json) = registration.to_json()
    {
        let again =
            iot_dps_proto::DeviceRegistration::from_slice(&json).expect("our own JSON parses");
        assert_eq!(again.registration_id, registration.registration_id);
        assert_eq!(again.tpm, registration.tpm);
    }
    let _ = iot_dps_proto::check_poll_payload(data);
}
