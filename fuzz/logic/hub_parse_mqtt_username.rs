// Fuzz logic for `iot_hub_auth::MqttUserName`, `MqttClientId` and `SaslUserName` (shared by
// cargo-fuzz and iot-hub-auth/tests/fuzz_replay.rs).
//
// Input: UTF-8 text; if it holds a `\n`, the part before is the MQTT client ID and the rest
// the user name, else the whole text is the user name. Invariants: never panics; parsed parts
// are slices of the input with no `/` in host, device or module ID; the client-ID-guided parse
// agrees with the client ID; parsing is deterministic.

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_hub_auth::{MqttClientId, MqttUserName, SaslUserName};

    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let (client_id, username) = match text.split_once('\n') {
        Some((c, u)) => (Some(c), u),
        None => (None, text),
    };
    if let Ok(u) = MqttUserName::parse(username) {
        assert!(!u.host.is_empty() && !u.device_id.is_empty());
        assert!(!u.host.contains('/') && !u.device_id.contains('/'));
        assert!(u.module_id.is_none_or(|m| !m.contains('/')));
        assert!(username.starts_with(u.host));
        assert!(username.contains(u.device_id));
        assert!(username.ends_with(u.query));
        let _ = (u.device_client_type(), u.model_id());
        assert_eq!(MqttUserName::parse(username), Ok(u));
    }
    if let Some(client_id) = client_id {
        let parsed_id = MqttClientId::parse(client_id);
        if let Ok(id) = parsed_id {
            assert!(!id.device_id.is_empty() && !id.device_id.contains('/'));
        }
        if let Some(Ok(u)) = MqttUserName::parse_with_client_id(username, client_id) {
            assert_eq!(
                Ok(u.client_id()),
                parsed_id,
                "guided parse must agree with the client ID"
            );
        }
    }
    if let Ok(s) = SaslUserName::parse(username) {
        assert!(!s.hub().is_empty());
        match s {
            SaslUserName::Device { device_id, .. } => assert!(!device_id.is_empty()),
            SaslUserName::Policy { policy, .. } => assert!(!policy.is_empty()),
        }
    }
}
