//! Replays every committed seed of the iot-sas fuzz targets through the same logic cargo-fuzz
//! runs (`fuzz/logic/*.rs`), so `cargo test` catches regressions on stable without libFuzzer.
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

/// The seeds are meaningful: the valid token seeds parse and the verify seeds named after a
/// §1.3 spelling verify (the replay alone would also pass on seeds that are all rejected).
#[test]
fn seeds_exercise_the_accepting_paths() {
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/");
    let read = |path: &str| std::fs::read(format!("{base}{path}")).unwrap();
    let text = String::from_utf8(read("sas_parse_token/hub_device_raw")).unwrap();
    assert!(iot_sas::SasToken::parse(&text).is_ok());
    let key = iot_sas::SharedAccessKey::from_base64("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=")
        .unwrap();
    let verifier = iot_sas::Verifier::new(key, None);
    for seed in [
        "hub_device_rfc3986",
        "hub_device_raw",
        "hub_device_lower_escapes",
        "dotnet_double",
        "plus_for_space",
        "dps_raw_node_sig_raw",
    ] {
        let data = read(&format!("sas_verify/{seed}"));
        let now = u64::from_be_bytes(data[..8].try_into().unwrap());
        let text = std::str::from_utf8(&data[8..]).unwrap();
        let (token, resource) = text.split_once('\n').unwrap();
        assert!(
            verifier.verify_str(token, Some(resource), now).is_ok(),
            "{seed}"
        );
    }
    let cs = String::from_utf8(read("sas_parse_connection_string/device_token")).unwrap();
    assert!(iot_sas::ConnectionString::parse(&cs).is_ok());
}
