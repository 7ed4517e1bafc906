// Fuzz logic for `iot_hub_auth::MqttUserName`, `MqttClientId` and `SaslUserName` (shared by
// cargo-fuzz and iot-hub-auth/tests/fuzz_replay.rs).
//
// Input: UTF-8 text; if it holds a `\n`, the part before is the MQTT client ID and the rest
// the user name, else the whole text is the user name.
//
// Invariants: never panics; each part comes from its own place in the text, not from a match
// anywhere in it: the user name is exactly `{host}/{deviceId}` then `[/{moduleId}]` then
// nothing, `/` or `/?{query}` (reference §6.1), rebuilt here from the parsed parts, with no
// `/` in host, device or module ID; the client ID is `{deviceId}[/{moduleId}]`; the
// client-ID-guided parse agrees with the client ID; a SASL user name is
// `{deviceId}@sas.{hub}`, `{deviceId}/modules/{moduleId}@sas.{hub}` (EdgeHub's module form) or
// `{policy}@sas.root.{hub}` (§6.2); parsing is deterministic.

/// Whether `text` is exactly `host/device[/module]` followed by nothing, `/` or `/?{query}`.
fn user_name_is(text: &str, u: &iot_hub_auth::MqttUserName<'_>) -> bool {
    let mut identity = format!("{}/{}", u.host, u.device_id);
    if let Some(module) = u.module_id {
        identity.push('/');
        identity.push_str(module);
    }
    let Some(tail) = text.strip_prefix(identity.as_str()) else {
        return false;
    };
    match tail.strip_prefix("/?") {
        Some(query) => query == u.query,
        None => (tail.is_empty() || tail == "/") && u.query.is_empty(),
    }
}

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
        // An empty module ID (`{host}/{device}//?{query}`) parses; the registry never holds one.
        assert!(u.module_id.is_none_or(|m| !m.contains('/')));
        assert!(
            user_name_is(username, &u),
            "parts not in their places: {u:?}"
        );
        let _ = (u.device_client_type(), u.model_id());
        assert_eq!(MqttUserName::parse(username), Ok(u));
    }
    if let Some(client_id) = client_id {
        let parsed_id = MqttClientId::parse(client_id);
        if let Ok(id) = parsed_id {
            assert!(!id.device_id.is_empty() && !id.device_id.contains('/'));
            let rebuilt = match id.module_id {
                Some(module) => format!("{}/{module}", id.device_id),
                None => id.device_id.to_owned(),
            };
            assert_eq!(rebuilt, client_id);
        }
        if let Some(Ok(u)) = MqttUserName::parse_with_client_id(username, client_id) {
            assert_eq!(
                Ok(u.client_id()),
                parsed_id,
                "guided parse must agree with the client ID"
            );
            assert!(
                user_name_is(username, &u),
                "parts not in their places: {u:?}"
            );
        }
    }
    if let Ok(s) = SaslUserName::parse(username) {
        let hub = s.hub();
        assert!(!hub.is_empty() && username.ends_with(hub));
        if let SaslUserName::Device {
            device_id,
            module_id,
            ..
        } = s
        {
            assert!(!device_id.is_empty() && !device_id.contains('/'));
            let who = match module_id {
                Some(module) => format!("{device_id}/modules/{module}"),
                None => device_id.to_owned(),
            };
            assert_eq!(format!("{who}@sas.{hub}"), username);
        }
        if let SaslUserName::Policy { policy, .. } = s {
            assert!(!policy.is_empty());
            assert_eq!(format!("{policy}@sas.root.{hub}"), username);
        }
    }
}
