//! Replays every committed seed of the iot-hub-auth fuzz targets through the same logic
//! cargo-fuzz runs (`fuzz/logic/hub_*.rs`), so `cargo test` catches regressions on stable.
//! Seeds: `tests/data/make_fuzz_seeds.py`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod hub_parse_mqtt_username {
    include!("../../fuzz/logic/hub_parse_mqtt_username.rs");
}
mod hub_authorize {
    include!("../../fuzz/logic/hub_authorize.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_hub_parse_mqtt_username() {
    replay("hub_parse_mqtt_username", hub_parse_mqtt_username::run);
}

#[test]
fn replay_hub_authorize() {
    replay("hub_authorize", hub_authorize::run);
}

/// The seeds reach the accepting paths (a replay alone would also pass if every seed were
/// refused early): the seeds named for an allowed connection are allowed.
#[test]
fn authorize_seeds_exercise_allow_paths() {
    use iot_hub_auth::{CertificateDer, ConnectRequest, Transport, authorize};
    let (hub, registry) = {
        // Same world as the fuzz logic, rebuilt through the public API.
        let json = r#"{
          "hostName": "contoso.azure-devices.net",
          "authorizationPolicies": [
            {"keyName": "device", "rights": "DeviceConnect",
             "primaryKey": "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=",
             "secondaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="}],
          "identities": [
            {"deviceId": "dev1", "authentication": {"type": "sas", "symmetricKey": {
              "primaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
              "secondaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="}}},
            {"deviceId": "dev1", "moduleId": "mod1", "authentication": {"type": "sas", "symmetricKey": {
              "primaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
              "secondaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}},
            {"deviceId": "self1", "authentication": {"type": "selfSigned", "x509Thumbprint": {
              "primaryThumbprint": "9026AACE3D14805FB8C825AA6ABEBBE307F93AB75AFFDB12A1A4088DA64DC7A7"}}}
          ]
        }"#;
        iot_hub_auth::HubDocument::from_json(json)
            .unwrap()
            .build()
            .unwrap()
    };
    let mut allowed = 0;
    for (name, data) in corpus("hub_authorize") {
        let parts: Vec<&[u8]> = data.splitn(8, |&b| b == 0).collect();
        let field = |i: usize| std::str::from_utf8(parts[i]).ok().filter(|s| !s.is_empty());
        let chain: Vec<CertificateDer<'_>> = parts
            .get(7)
            .filter(|c| !c.is_empty())
            .map(|c| CertificateDer::from(*c))
            .into_iter()
            .collect();
        let req = ConnectRequest {
            transport: field(0).unwrap().parse::<Transport>().unwrap(),
            client_id: field(1),
            username: field(2),
            password: field(3),
            client_chain: &chain,
            device_id: field(4),
            module_id: field(5),
        };
        let now = field(6).unwrap().parse().unwrap();
        let should_allow = [
            "mqtt_device_key",
            "mqtt_ws_secondary_key",
            "mqtt_module_key",
            "amqp_sasl_device",
            "amqp_sasl_policy",
            "https_device",
            "mqtt_policy_token",
            "self_signed_cert",
        ]
        .contains(&name.as_str());
        let d = authorize(&hub, &registry, &req, now);
        assert_eq!(d.is_allowed(), should_allow, "{name}: {d:?}");
        allowed += usize::from(should_allow);
    }
    assert_eq!(allowed, 8);
}
