//! Benchmarks for the iot-auth crates live in `benches/`; this library is empty on purpose.
//!
//! Run them with `cargo bench -p iot-benches`. Every group measures one of our functions beside
//! the raw primitive it is built on (for example SAS verification beside a bare pre-keyed
//! HMAC-SHA256 of the same string to sign), in the same run, so the ratio is meaningful.
