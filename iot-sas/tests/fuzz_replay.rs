//! Replays every committed seed of the iot-sas fuzz targets through the same logic cargo-fuzz
//! runs (`fuzz/logic/*.rs`), so `cargo test` catches regressions on stable without libFuzzer.
//! Seeds: `tests/data/make_fuzz_seeds.py`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod sas_parse_token {
    include!("../../fuzz/logic/sas_parse_token.rs");
}
mod sas_verify {
    include!("../../fuzz/logic/sas_verify.rs");
}
mod sas_parse_connection_string {
    include!("../../fuzz/logic/sas_parse_connection_string.rs");
}

include!("../../fuzz/replay.rs");

use iot_sas::KeySlot;

#[test]
fn replay_sas_parse_token() {
    replay("sas_parse_token", sas_parse_token::run);
}

#[test]
fn replay_sas_verify() {
    replay("sas_verify", sas_verify::run);
}

#[test]
fn replay_sas_parse_connection_string() {
    replay(
        "sas_parse_connection_string",
        sas_parse_connection_string::run,
    );
}

/// What each named `sas_verify` seed must give, stated from the rules (the generator,
/// tests/data/make_fuzz_seeds.py, says why): the key slot that verifies, or the error.
const VERIFY_EXPECTED: &[(&str, Result<KeySlot, &str>)] = &[
    ("hub_device_rfc3986", Ok(KeySlot::Primary)),
    ("hub_device_raw", Ok(KeySlot::Primary)),
    ("hub_device_lower_escapes", Ok(KeySlot::Primary)),
    ("hub_module", Ok(KeySlot::Primary)),
    ("hub_service_skn", Ok(KeySlot::Primary)),
    ("dps_python", Ok(KeySlot::Primary)),
    ("dps_raw_node_sig_raw", Ok(KeySlot::Primary)),
    ("dotnet_double", Ok(KeySlot::Primary)),
    ("dotnet_special_id", Ok(KeySlot::Primary)),
    ("plus_for_space", Ok(KeySlot::Primary)),
    ("percent_id_itself", Ok(KeySlot::Primary)),
    ("sign_mode_primary", Ok(KeySlot::Primary)),
    ("sign_mode_secondary_ok", Ok(KeySlot::Secondary)),
    ("expired", Err("expired")),
    ("within_skew", Ok(KeySlot::Primary)),
    ("past_skew", Err("expired")),
    ("prefix_not_segment", Err("resource")),
    ("sdk_spelling_module_resource", Err("resource")),
    ("sdk_spelling_longer_id", Err("resource")),
    // Issue 12.2: `sr` is decoded once.
    ("double_decoded_percent_id", Err("resource")),
    ("double_decoded_letter", Err("resource")),
    ("sign_mode_secondary", Err("resource")),
];

/// The seeds reach the outcomes they are named after (a replay alone would also pass if every
/// seed were refused early), through the logic's own input parser and verifier.
#[test]
fn verify_seeds_reach_their_stated_outcomes() {
    let seeds = corpus("sas_verify");
    let verifier = sas_verify::verifier();
    let mut failures = Vec::new();
    for (name, expected) in VERIFY_EXPECTED {
        let (_, data) = seeds
            .iter()
            .find(|(seed, _)| seed == name)
            .unwrap_or_else(|| panic!("seed {name} is missing"));
        let (now, token, resource) = sas_verify::parse(data).expect("seed parses");
        let got = match verifier.verify_str(&token, Some(resource), now) {
            Ok(verified) => Ok(verified.key),
            Err(iot_sas::Error::Expired { .. }) => Err("expired"),
            Err(iot_sas::Error::ResourceMismatch { .. }) => Err("resource"),
            Err(other) => panic!("{name}: {other:?}"),
        };
        if got != *expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The token and connection-string seeds named after a shipping spelling parse.
#[test]
fn parse_seeds_accept_the_sdk_spellings() {
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/");
    let read = |path: &str| String::from_utf8(std::fs::read(format!("{base}{path}")).unwrap());
    for seed in [
        "hub_device_rfc3986",
        "hub_device_raw",
        "hub_device_lower_escapes",
        "hub_module",
        "hub_service_skn",
        "dps_python",
        "dps_raw_node_sig_raw",
        "dotnet_double",
        "plus_for_space",
        "docs_order",
    ] {
        let text = read(&format!("sas_parse_token/{seed}")).unwrap();
        assert!(iot_sas::SasToken::parse(&text).is_ok(), "{seed}");
    }
    for seed in ["bad_case", "bad_duplicate", "bad_leading_zero"] {
        let text = read(&format!("sas_parse_token/{seed}")).unwrap();
        assert!(iot_sas::SasToken::parse(&text).is_err(), "{seed}");
    }
    for (seed, ok) in [
        ("device_key", true),
        ("device_policy", true),
        ("module_key", true),
        ("device_token", true),
        ("device_x509_gateway", true),
        ("hub_service", true),
        ("dps_service", true),
        ("bad_duplicate", false),
        ("bad_trailing_semicolon", false),
        ("bad_x509_value", false),
    ] {
        let text = read(&format!("sas_parse_connection_string/{seed}")).unwrap();
        assert_eq!(
            iot_sas::ConnectionString::parse(&text).is_ok(),
            ok,
            "{seed}"
        );
    }
}
