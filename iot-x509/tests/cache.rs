//! Verified-chain cache behaviour, on the OpenSSL-made fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use iot_x509::{CaSet, ChainCache, ChainError, RegisteredCa, parse_certificates};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openssl/");
const AT: u64 = 1_780_272_000; // 2026-06-01, the fixtures' verification time

fn der(file: &str) -> Vec<u8> {
    parse_certificates(&std::fs::read(format!("{DIR}{file}")).unwrap()).unwrap()[0].to_vec()
}

fn cas() -> CaSet {
    let mut cas = CaSet::new();
    cas.add(RegisteredCa {
        name: "root".into(),
        der: der("root-ec.pem"),
        verified: true,
    })
    .unwrap();
    cas
}

#[test]
fn repeat_is_a_hit() {
    let cas = cas();
    let mut cache = ChainCache::new(8);
    let leaf = der("device-via-intermediate.pem");
    let inter =
        parse_certificates(&std::fs::read(format!("{DIR}intermediate-ec.pem")).unwrap()).unwrap();
    let a = cache.get_or_verify(&cas, &leaf, &inter, AT).unwrap();
    let b = cache.get_or_verify(&cas, &leaf, &inter, AT + 1000).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(cache.len(), 1);
    // A different presentation (no intermediate) is a different key, and fails.
    assert_eq!(
        cache.get_or_verify(&cas, &leaf, &[], AT),
        Err(ChainError::UnknownIssuer)
    );
    assert_eq!(cache.len(), 1, "failures are not cached");
}

#[test]
fn ca_set_change_invalidates() {
    let mut cas = cas();
    let mut cache = ChainCache::default();
    let leaf = der("device-ec.pem");
    let a = cache.get_or_verify(&cas, &leaf, &[], AT).unwrap();
    cas.set_verified("root", false);
    assert_eq!(
        cache.get_or_verify(&cas, &leaf, &[], AT),
        Err(ChainError::CaNotVerified {
            ca_name: "root".into()
        })
    );
    assert!(cache.is_empty());
    cas.set_verified("root", true);
    let b = cache.get_or_verify(&cas, &leaf, &[], AT).unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    // Another set with identical content has another version: no cross-set hit.
    let other = self::cas();
    assert_ne!(other.version(), cas.version());
    let c = cache.get_or_verify(&other, &leaf, &[], AT).unwrap();
    assert!(!Arc::ptr_eq(&b, &c));
    assert!(cas.remove("root"));
    assert!(!cas.remove("root"));
    assert_eq!(
        cache.get_or_verify(&cas, &leaf, &[], AT),
        Err(ChainError::UnknownIssuer)
    );
}

#[test]
fn entry_expires_with_the_earliest_not_after() {
    let cas = cas();
    let mut cache = ChainCache::new(4);
    let leaf = der("device-ec.pem");
    let chain = cache.get_or_verify(&cas, &leaf, &[], AT).unwrap();
    assert_eq!(chain.not_after, 2_051_222_400); // leaf 2035-01-01 (root ends 2044)
    assert_eq!(chain.not_before, 1_735_689_600); // leaf 2025-01-01 (root starts 2024)
    let after = u64::try_from(chain.not_after).unwrap() + 1;
    assert_eq!(
        cache.get_or_verify(&cas, &leaf, &[], after),
        Err(ChainError::Expired {
            not_after: chain.not_after,
            now: after
        })
    );
    let before = u64::try_from(chain.not_before).unwrap() - 1;
    assert!(matches!(
        cache.get_or_verify(&cas, &leaf, &[], before),
        Err(ChainError::NotYetValid { .. })
    ));
}

#[test]
fn capacity_is_bounded() {
    let mut cas = cas();
    cas.add(RegisteredCa {
        name: "rsa".into(),
        der: der("root-rsa.pem"),
        verified: true,
    })
    .unwrap();
    let mut cache = ChainCache::new(2);
    for leaf in [
        "device-ec.pem",
        "device-rsa.pem",
        "device-no-eku.pem",
        "module.pem",
    ] {
        cache.get_or_verify(&cas, &der(leaf), &[], AT).unwrap();
        assert!(cache.len() <= 2);
    }
    assert_eq!(cache.len(), 2);
    cache.clear();
    assert!(cache.is_empty());
    assert_eq!(ChainCache::new(0).len(), 0);
}
