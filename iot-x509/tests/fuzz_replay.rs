//! Replays every committed seed of iot-x509's fuzz targets (../fuzz/corpus/<target>/) through
//! the same logic the fuzzer runs (../fuzz/logic/<target>.rs), on stable Rust.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod x509_parse_pem {
    include!("../../fuzz/logic/x509_parse_pem.rs");
}
mod x509_parse_certificate {
    include!("../../fuzz/logic/x509_parse_certificate.rs");
}
mod x509_thumbprint_from_hex {
    include!("../../fuzz/logic/x509_thumbprint_from_hex.rs");
}
mod x509_verify_chain {
    include!("../../fuzz/logic/x509_verify_chain.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_x509_parse_pem() {
    replay("x509_parse_pem", x509_parse_pem::run);
}

#[test]
fn replay_x509_parse_certificate() {
    replay("x509_parse_certificate", x509_parse_certificate::run);
}

#[test]
fn replay_x509_thumbprint_from_hex() {
    replay("x509_thumbprint_from_hex", x509_thumbprint_from_hex::run);
}

#[test]
fn replay_x509_verify_chain() {
    replay("x509_verify_chain", x509_verify_chain::run);
}
