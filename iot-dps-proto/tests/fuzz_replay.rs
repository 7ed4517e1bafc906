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

fn replay(name: &str, run: fn(&[u8])) {
    let dir =
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/")).join(name);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            run(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "empty corpus {}", dir.display());
}

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
