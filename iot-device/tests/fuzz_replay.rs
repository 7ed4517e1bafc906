//! Replays every committed seed corpus file of this crate's fuzz target on stable Rust
//! (fuzz/README.md layout), so `cargo test` catches regressions without libFuzzer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod device_session_input {
    include!("../../fuzz/logic/device_session_input.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_device_session_input() {
    replay("device_session_input", device_session_input::run);
}
