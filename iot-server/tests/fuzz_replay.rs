//! Replays every committed seed corpus file of this crate's fuzz target on stable Rust
//! (fuzz/README.md layout), so `cargo test` catches regressions without libFuzzer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod server_mqtt_decode {
    include!("../../fuzz/logic/server_mqtt_decode.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_server_mqtt_decode() {
    replay("server_mqtt_decode", server_mqtt_decode::run);
}

/// The SDK-session seeds decode to the packets they are named after.
#[test]
fn session_seeds_decode_completely() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/server_mqtt_decode/"
    );
    for (seed, count) in [("python_dps_session", 6), ("x509_hub_session", 4)] {
        let data = std::fs::read(format!("{dir}{seed}")).unwrap();
        let mut rest = data.as_slice();
        let mut n = 0;
        while let Some((_, used)) = iot_server::mqtt::decode(rest, 1 << 16).unwrap() {
            rest = &rest[used..];
            n += 1;
        }
        assert!(rest.is_empty(), "{seed}");
        assert_eq!(n, count, "{seed}");
    }
}
