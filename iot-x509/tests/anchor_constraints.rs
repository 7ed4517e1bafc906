//! A registered CA's own constraints apply when it is the trust anchor (issue 12, item 3):
//! `pathLenConstraint`, `extendedKeyUsage` and `keyUsage` of the anchor certificate, as
//! `openssl verify -purpose sslclient` applies them. Fixtures and OpenSSL's verdicts come from
//! `tests/data/generate.py` (manifest.json); each test checks the recorded verdict too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_x509::{
    CaSet, CertificateDer, ChainError, RegisteredCa, parse_certificates, verify_client_chain,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openssl/");

fn load(file: &str) -> Vec<CertificateDer<'static>> {
    parse_certificates(&std::fs::read(format!("{DIR}{file}")).unwrap()).unwrap()
}

fn der(file: &str) -> Vec<u8> {
    load(file).remove(0).to_vec()
}

/// The manifest's case `name`: OpenSSL's verdict, its output, and the inputs.
fn case(name: &str) -> Value {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(format!("{DIR}manifest.json")).unwrap()).unwrap();
    manifest["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name} in manifest.json"))
        .clone()
}

fn verified(files: &[&str]) -> CaSet {
    let mut cas = CaSet::new();
    for file in files {
        cas.add(RegisteredCa {
            name: (*file).into(),
            der: der(file),
            verified: true,
        })
        .unwrap();
    }
    cas
}

/// Runs the manifest case and checks OpenSSL refused (or accepted) it as recorded.
fn run(name: &str) -> Result<iot_x509::VerifiedChain, ChainError> {
    let c = case(name);
    let trust: Vec<&str> = c["trust"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let chain: Vec<_> = c["chain"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| load(f.as_str().unwrap()))
        .collect();
    let at = 1_780_272_000; // manifest "at": 2026-06-01
    let result = verify_client_chain(
        &verified(&trust),
        &der(c["leaf"].as_str().unwrap()),
        &chain,
        at,
    );
    assert_eq!(
        result.is_ok(),
        c["openssl_ok"].as_bool().unwrap(),
        "{name}: ours {result:?}, openssl {}",
        c["openssl_output"]
    );
    result
}

#[test]
fn anchor_path_len_constraint_is_enforced() {
    // OpenSSL: "error 25 at 2 depth lookup: path length constraint exceeded".
    assert!(
        case("anchor-pathlen-0-above-intermediate")["openssl_output"]
            .as_str()
            .unwrap()
            .contains("path length constraint exceeded")
    );
    assert_eq!(
        run("anchor-pathlen-0-above-intermediate"),
        Err(ChainError::PathTooLong)
    );
    // The same anchor admits a leaf it signed itself (no intermediate below it).
    let direct = run("anchor-pathlen-0-direct").unwrap();
    assert_eq!(direct.ca_name, "root-pathlen0.pem");
    // A registered intermediate with pathLenConstraint 0, anchoring a path with another
    // intermediate below it; and the same intermediate inside a path to the root.
    assert_eq!(
        run("intermediate-anchor-pathlen-0-above-intermediate"),
        Err(ChainError::PathTooLong)
    );
    assert_eq!(
        run("pathlen-0-intermediate-below-root"),
        Err(ChainError::PathTooLong)
    );
}

#[test]
fn anchor_eku_must_allow_client_auth() {
    assert!(
        case("anchor-eku-server-auth-only")["openssl_output"]
            .as_str()
            .unwrap()
            .contains("unsuitable certificate purpose")
    );
    assert_eq!(
        run("anchor-eku-server-auth-only"),
        Err(ChainError::NotClientAuth)
    );
    // An anchor whose EKU lists clientAuth is fine.
    assert_eq!(
        run("anchor-eku-client-auth").unwrap().ca_name,
        "root-eku-client-auth.pem"
    );
}

#[test]
fn anchor_key_usage_must_allow_cert_sign() {
    assert!(
        case("anchor-key-usage-without-keycertsign")["openssl_output"]
            .as_str()
            .unwrap()
            .contains("key usage does not include certificate signing")
    );
    let refused = run("anchor-key-usage-without-keycertsign");
    assert_eq!(refused, Err(ChainError::CaKeyUsage));
    assert_eq!(refused.unwrap_err().code(), "ca_key_usage");
}

/// A path the anchor refuses does not stop another path the CAs admit: with the intermediate
/// under the pathLen-0 root registered too, the device's chain is anchored there.
#[test]
fn anchor_constraints_only_refuse_the_paths_they_constrain() {
    let cas = verified(&["root-pathlen0.pem", "intermediate-under-pathlen0.pem"]);
    let leaf = der("device-via-pathlen0-root-intermediate.pem");
    let chain = load("intermediate-under-pathlen0.pem");
    let ok = verify_client_chain(&cas, &leaf, &chain, 1_780_272_000).unwrap();
    assert_eq!(ok.ca_name, "intermediate-under-pathlen0.pem");
    assert_eq!(ok.path.len(), 2, "leaf and the registered intermediate");
}
