//! The anchoring CA's own validity period and CA rollover with constraints, on certificates made
//! for each case with rcgen (feature `generate`): an anchor whose dates, not the leaf's, decide;
//! and a renewed CA (same subject and key) whose own constraints refuse a path that its expired
//! predecessor's dates refuse too.
#![cfg(feature = "generate")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use iot_x509::generate::{Validity, new_device_cert, new_root_ca};
use iot_x509::{CaSet, CertificateDer, ChainError, RegisteredCa, verify_client_chain};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};

const T0: i64 = 1_767_225_600; // 2026-01-01
const DAY: i64 = 86_400;

fn verified(ders: &[(&str, &[u8])]) -> CaSet {
    let mut cas = CaSet::new();
    for (name, der) in ders {
        cas.add(RegisteredCa {
            name: (*name).into(),
            der: der.to_vec(),
            verified: true,
        })
        .unwrap();
    }
    cas
}

/// The anchor is valid from its `notBefore` to its `notAfter`, both inclusive (RFC 5280
/// §4.1.2.5), as OpenSSL and the hub check it; webpki does not check anchors' dates.
#[test]
fn anchor_validity_bounds_are_inclusive() {
    let t1 = T0 + 30 * DAY;
    let root = new_root_ca(
        "anchor-dates",
        Validity {
            not_before: T0,
            not_after: t1,
        },
    )
    .unwrap();
    let leaf = new_device_cert("dev", &root, Validity::days(T0 - 10 * DAY, 60)).unwrap();
    let cas = verified(&[("root", &root.der)]);
    let at = |now: i64| verify_client_chain(&cas, &leaf.der, &[], now.unsigned_abs());
    assert_eq!(
        at(T0 - 1),
        Err(ChainError::NotYetValid {
            not_before: T0,
            now: (T0 - 1).unsigned_abs()
        })
    );
    assert_eq!(at(T0).unwrap().not_before, T0);
    assert_eq!(at(t1).unwrap().not_after, t1);
    assert_eq!(
        at(t1 + 1),
        Err(ChainError::Expired {
            not_after: t1,
            now: (t1 + 1).unsigned_abs()
        })
    );
}

fn ca(name: &str, from: i64, days: i64, path_len: Option<u8>) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(from.unsigned_abs());
    params.not_after = epoch + Duration::from_secs((from + days * DAY).unsigned_abs());
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// The expired registration refuses the path by its dates, the renewed one (valid, same subject
/// and key) by its pathLenConstraint 0: the reason reported is the renewed one's, whichever was
/// registered first, because it is the one an operator can act on.
#[test]
fn rollover_reports_the_valid_registrations_reason() {
    let now = T0 + DAY;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let expired = ca("rollover", T0 - 400 * DAY, 100, None)
        .self_signed(&key)
        .unwrap();
    let renewed_params = ca("rollover", T0 - 10 * DAY, 300, Some(0));
    let renewed = renewed_params.self_signed(&key).unwrap();
    let root = Issuer::new(renewed_params, key);
    let inter_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let inter_params = ca("intermediate", T0 - 10 * DAY, 300, None);
    let inter = inter_params.signed_by(&inter_key, &root).unwrap();
    let inter_issuer = Issuer::new(inter_params, inter_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "dev");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    leaf_params.not_before = epoch + Duration::from_secs((T0 - DAY).unsigned_abs());
    leaf_params.not_after = epoch + Duration::from_secs((T0 + 100 * DAY).unsigned_abs());
    let leaf = leaf_params.signed_by(&leaf_key, &inter_issuer).unwrap();
    let chain = [CertificateDer::from(inter.der().to_vec())];
    for order in [
        [("expired", expired.der()), ("renewed", renewed.der())],
        [("renewed", renewed.der()), ("expired", expired.der())],
    ] {
        let cas = verified(&[(order[0].0, order[0].1), (order[1].0, order[1].1)]);
        assert_eq!(
            verify_client_chain(&cas, leaf.der(), &chain, now.unsigned_abs()),
            Err(ChainError::PathTooLong),
            "{:?}",
            [order[0].0, order[1].0]
        );
    }
    // Without the intermediate's constraint at stake (a leaf the renewed CA signs itself), the
    // renewed registration admits it.
    let direct = leaf_params.signed_by(&leaf_key, &root).unwrap();
    let cas = verified(&[("expired", expired.der()), ("renewed", renewed.der())]);
    let ok = verify_client_chain(&cas, direct.der(), &[], now.unsigned_abs()).unwrap();
    assert_eq!(ok.ca_name, "renewed");
}
