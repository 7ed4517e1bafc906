//! Replays every committed seed corpus file of this crate's fuzz targets on stable Rust
//! (contracts.md fuzzing layout), so `cargo test` catches regressions without libFuzzer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod dps_parse_response_topic {
    include!("../../fuzz/logic/dps_parse_response_topic.rs");
}
mod dps_parse_operation_status {
    include!("../../fuzz/logic/dps_parse_operation_status.rs");
}
mod dps_client_handle_response {
    include!("../../fuzz/logic/dps_client_handle_response.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_dps_parse_response_topic() {
    replay("dps_parse_response_topic", dps_parse_response_topic::run);
}

#[test]
fn replay_dps_parse_operation_status() {
    replay(
        "dps_parse_operation_status",
        dps_parse_operation_status::run,
    );
}

#[test]
fn replay_dps_client_handle_response() {
    replay(
        "dps_client_handle_response",
        dps_client_handle_response::run,
    );
}
