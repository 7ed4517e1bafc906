//! Replays every committed seed of the iot-hub-auth fuzz targets through the same logic
//! cargo-fuzz runs (`fuzz/logic/hub_*.rs`), so `cargo test` catches regressions on stable.
//! Seeds and the fuzz PKI: `tests/data/make_fuzz_seeds.py`.
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

/// An allow (identity, `AuthMethod` text) or a deny code.
type Expected = Result<(&'static str, &'static str), &'static str>;

/// What each named seed must decide, stated from the protocol rules (the generator,
/// tests/data/make_fuzz_seeds.py, says why for each): the identity and how it authenticated
/// (`AuthMethod`'s text), or the deny code. The seeds run against the fuzz logic's own world
/// and input parser, so the replay and the fuzzer see the same requests.
const EXPECTED: &[(&str, Expected)] = &[
    ("mqtt_device_key", Ok(("dev1", "primary device key"))),
    (
        "mqtt_ws_secondary_key",
        Ok(("dev1", "secondary device key")),
    ),
    ("mqtt_module_key", Ok(("dev1/mod1", "secondary device key"))),
    ("amqp_sasl_device", Ok(("dev1", "primary device key"))),
    (
        "amqp_sasl_link_names_another_device",
        Err("client_id_mismatch"),
    ),
    (
        "amqp_sasl_policy",
        Ok(("dev1", "primary key of policy device")),
    ),
    ("https_device", Ok(("dev1", "primary device key"))),
    ("https_module", Ok(("dev1/mod1", "primary device key"))),
    (
        "mqtt_policy_token",
        Ok(("dev1", "secondary key of policy device")),
    ),
    ("self_signed_cert", Ok(("self1", "primary thumbprint"))),
    ("ca_cert", Ok(("ca1", "certificate chain to CA hubroot"))),
    (
        "dotnet_special_id_device_key",
        Ok(("n@m.et#st", "primary device key")),
    ),
    (
        "dotnet_special_id_policy",
        Ok(("n@m.et#st", "primary key of policy device")),
    ),
    ("sign_mode_device_key", Ok(("dev1", "primary device key"))),
    (
        "sign_mode_policy",
        Ok(("dev1", "primary key of policy device")),
    ),
    // Issue 12.5: EdgeHub's SASL module form `{deviceId}/modules/{moduleId}@sas.{hub}`.
    ("amqp_sasl_module", Ok(("dev1/mod1", "primary device key"))),
    (
        "amqp_ws_sasl_module",
        Ok(("dev1/mod1", "secondary device key")),
    ),
    ("amqp_sasl_module_wrong_key", Err("bad_signature")),
    ("service_token", Err("policy_lacks_rights")),
    ("service_token_other_hub", Err("policy_lacks_rights")),
    ("amqp_wrong_hub", Err("host_name_mismatch")),
    ("self_signed_wrong_cert", Err("thumbprint_mismatch")),
    ("ca_cert_wrong_cn", Err("cn_mismatch")),
    ("device_key_devices_wide", Err("token_scope")),
    ("policy_lacks_device_connect", Err("policy_lacks_rights")),
    // Issue 15: the SASL user name's policy and the token's `skn` must agree; an MQTT user
    // name naming a module of the client ID's device is another identity.
    (
        "amqp_sasl_policy_other_than_skn",
        Err("policy_name_mismatch"),
    ),
    (
        "mqtt_user_name_names_a_module_of_the_client",
        Err("client_id_mismatch"),
    ),
    ("expired", Err("token_expired")),
    ("wrong_host", Err("host_name_mismatch")),
    ("client_id_mismatch", Err("client_id_mismatch")),
    ("disabled", Err("disabled")),
    ("ca_cert_unverified", Err("ca_not_verified")),
    ("ca_cert_unknown_issuer", Err("chain_rejected")),
    ("ca_over_websockets", Err("x509_ca_over_websockets")),
    ("no_credential", Err("credential_mismatch")),
    ("device_key_of_other_identity", Err("bad_signature")),
    // Issue 12.1: disabling a device refuses its modules, whatever their credential.
    ("disabled_parent_module_key", Err("device_disabled")),
    ("disabled_parent_policy", Err("device_disabled")),
    ("disabled_parent_self_signed", Err("device_disabled")),
    ("disabled_parent_ca", Err("device_disabled")),
    // Issue 12.2: `sr` is decoded once, so `%2564ev1` is device `%64ev1`, `dev%2531` is `dev%31`.
    ("policy_scope_double_decoded", Err("token_scope")),
    ("policy_scope_escaped_letter", Err("token_scope")),
];

#[test]
fn seeds_reach_their_stated_decisions() {
    let seeds = corpus("hub_authorize");
    let mut failures = Vec::new();
    for (name, expected) in EXPECTED {
        let (_, data) = seeds
            .iter()
            .find(|(seed, _)| seed == name)
            .unwrap_or_else(|| panic!("seed {name} is missing"));
        let input = hub_authorize::Input::parse(data).expect("seed parses");
        let decision = input.decide();
        let got = match &decision {
            iot_hub_auth::Decision::Allow(allow) => {
                Ok((allow.identity.display_id(), allow.method.to_string()))
            }
            iot_hub_auth::Decision::Deny(reason) => Err(reason.code()),
        };
        let want = expected.map(|(id, method)| (id.to_owned(), method.to_owned()));
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {decision:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
