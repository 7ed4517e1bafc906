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

/// What each named `x509_verify_chain` seed must give in the fuzz world (the CAs of the logic
/// file: `root` verified, `intermediate` unverified, the constrained anchors verified), stated
/// from the fixtures' profiles in tests/data/generate.py: `Ok` or the `ChainError` code.
const CHAIN_EXPECTED: &[(&str, Result<(), &str>)] = &[
    ("ec-direct-from-root", Ok(())),
    ("via-intermediate", Ok(())),
    ("bmpstring-common-name", Ok(())),
    ("certgen-profile-eku", Ok(())),
    ("module-leaf", Ok(())),
    ("no-eku", Ok(())),
    ("two-common-names", Ok(())),
    ("expired-leaf", Err("expired")),
    ("expired-intermediate", Err("expired")),
    ("not-yet-valid-leaf", Err("not_yet_valid")),
    ("forged-issuer-name", Err("bad_signature")),
    ("issuer-not-ca", Err("issuer_not_ca")),
    ("server-auth-only-eku", Err("not_client_auth")),
    // The leaf's issuer is the registered, unverified intermediate.
    ("missing-intermediate", Err("ca_not_verified")),
    ("intermediate-as-anchor", Err("ca_not_verified")),
    // The intermediate is presented too, so a path to the verified root exists.
    ("intermediate-as-anchor-with-chain", Ok(())),
    ("self-signed-device", Err("unknown_issuer")),
    ("untrusted-root", Err("unknown_issuer")),
    ("rsa-leaf-foreign", Err("unknown_issuer")),
    ("two-roots-trusted", Err("unknown_issuer")),
    // Issue 12.3: the anchor's own constraints.
    ("anchor-pathlen-0-direct", Ok(())),
    ("anchor-eku-client-auth", Ok(())),
    ("anchor-pathlen-0-above-intermediate", Err("path_too_long")),
    (
        "intermediate-anchor-pathlen-0-above-intermediate",
        Err("path_too_long"),
    ),
    ("pathlen-0-intermediate-below-root", Err("path_too_long")),
    ("anchor-eku-server-auth-only", Err("not_client_auth")),
    ("anchor-key-usage-without-keycertsign", Err("ca_key_usage")),
    // Issue 15: its issuer is not a CA, offered as one and refused by `CaSet::add`.
    ("leaf-under-not-ca-anchor", Err("unknown_issuer")),
];

#[test]
fn chain_seeds_reach_their_stated_verdicts() {
    let seeds = corpus("x509_verify_chain");
    let mut failures = Vec::new();
    for (name, expected) in CHAIN_EXPECTED {
        let (_, data) = seeds
            .iter()
            .find(|(seed, _)| seed == name)
            .unwrap_or_else(|| panic!("seed {name} is missing"));
        let got = match x509_verify_chain::verify(data).expect("a leaf") {
            Ok(_) => Ok(()),
            Err(err) => Err(err.code()),
        };
        if got != *expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
