//! CA rollover (issue 12, item 6): the renewed CA certificate (same subject and key) is
//! registered beside the expired one. Any valid, verified registration of the anchor admits
//! the device, whatever the registration order. Fixtures and OpenSSL's verdicts come from
//! `tests/data/generate.py` (manifest.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_x509::{
    CaSet, CertificateInfo, ChainCache, ChainError, RegisteredCa, parse_certificates,
    verify_client_chain,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openssl/");
const AT: u64 = 1_780_272_000; // manifest "at": 2026-06-01
const EXPIRED: &str = "rollover-root-expired.pem";
const RENEWED: &str = "rollover-root-renewed.pem";
const LEAF: &str = "device-under-rollover-root.pem";

fn der(file: &str) -> Vec<u8> {
    parse_certificates(&std::fs::read(format!("{DIR}{file}")).unwrap())
        .unwrap()
        .remove(0)
        .to_vec()
}

fn openssl_ok(name: &str) -> bool {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(format!("{DIR}manifest.json")).unwrap()).unwrap();
    let case = manifest["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .clone();
    case["openssl_ok"].as_bool().unwrap()
}

fn cas(registrations: &[(&str, bool)]) -> CaSet {
    let mut cas = CaSet::new();
    for (file, verified) in registrations {
        cas.add(RegisteredCa {
            name: (*file).into(),
            der: der(file),
            verified: *verified,
        })
        .unwrap();
    }
    cas
}

#[test]
fn ca_rollover_admits_whatever_the_registration_order() {
    // The two certificates really are one CA renewed: same subject and key, different dates.
    let (old, new) = (
        CertificateInfo::parse(&der(EXPIRED)).unwrap(),
        CertificateInfo::parse(&der(RENEWED)).unwrap(),
    );
    assert_eq!(old.subject(), new.subject());
    assert!(!old.is_valid_at(AT) && new.is_valid_at(AT));
    let leaf = der(LEAF);
    for (case, order) in [
        ("ca-rollover-expired-registered-first", [EXPIRED, RENEWED]),
        ("ca-rollover-renewed-registered-first", [RENEWED, EXPIRED]),
    ] {
        assert!(openssl_ok(case), "{case}: OpenSSL admits it");
        let set = cas(&[(order[0], true), (order[1], true)]);
        let chain =
            verify_client_chain(&set, &leaf, &[], AT).unwrap_or_else(|e| panic!("{case}: {e:?}"));
        // Named after, and bounded by, the registration that admitted it.
        assert_eq!(chain.ca_name, RENEWED, "{case}");
        assert_eq!(chain.path.last().unwrap().as_ref(), der(RENEWED).as_slice());
        assert!(chain.not_after <= new.not_after() && chain.not_after > old.not_after());
        // The cache agrees, on a miss and on a hit.
        let mut cache = ChainCache::new(4);
        for _ in 0..2 {
            assert_eq!(
                cache.get_or_verify(&set, &leaf, &[], AT).unwrap().ca_name,
                RENEWED
            );
        }
    }
}

#[test]
fn ca_rollover_needs_a_valid_verified_registration() {
    let leaf = der(LEAF);
    assert!(!openssl_ok("ca-rollover-only-expired-registered"));
    let only_expired = cas(&[(EXPIRED, true)]);
    assert!(matches!(
        verify_client_chain(&only_expired, &leaf, &[], AT),
        Err(ChainError::Expired { .. })
    ));
    // The renewed certificate does not count until it is verified.
    let unverified_renewal = cas(&[(EXPIRED, true), (RENEWED, false)]);
    assert!(matches!(
        verify_client_chain(&unverified_renewal, &leaf, &[], AT),
        Err(ChainError::Expired { .. })
    ));
    let mut set = unverified_renewal;
    assert!(set.set_verified(RENEWED, true));
    assert_eq!(
        verify_client_chain(&set, &leaf, &[], AT).unwrap().ca_name,
        RENEWED
    );
    // Removing the expired registration changes nothing for the device.
    assert!(set.remove(EXPIRED));
    assert_eq!(
        verify_client_chain(&set, &leaf, &[], AT).unwrap().ca_name,
        RENEWED
    );
}
