//! iot-x509 beside the raw primitives, on the OpenSSL-made fixtures of iot-x509:
//! thumbprint vs bare sha1/sha256 of the same DER, chain verification vs bare rustls-webpki
//! `verify_for_usage` on the same chain and anchors, and a cached repeat.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use iot_x509::{CaSet, CertificateDer, ChainCache, RegisteredCa, Thumbprint, verify_client_chain};
use rustls_pki_types::UnixTime;
use sha2::Digest as _;

const AT: u64 = 1_780_272_000; // 2026-06-01, the fixtures' verification time

macro_rules! fixture {
    ($name:literal) => {
        iot_x509::parse_certificates(include_bytes!(concat!(
            "../../iot-x509/tests/data/openssl/",
            $name
        )))
        .unwrap()
        .remove(0)
    };
}

fn thumbprints(c: &mut Criterion) {
    let der = fixture!("device-rsa.pem");
    let mut group = c.benchmark_group(format!("x509_thumbprint_rsa_leaf_{}B", der.len()));
    group.bench_function("ours_sha1", |b| {
        b.iter(|| Thumbprint::sha1_of(black_box(&der)))
    });
    group.bench_function("bare_sha1", |b| {
        b.iter(|| sha1::Sha1::digest(black_box(&der)))
    });
    group.bench_function("ours_sha256", |b| {
        b.iter(|| Thumbprint::sha256_of(black_box(&der)))
    });
    group.bench_function("bare_sha256", |b| {
        b.iter(|| sha2::Sha256::digest(black_box(&der)))
    });
    let registered = Thumbprint::sha256_of(&der);
    group.bench_function("ours_matches_der_sha256", |b| {
        b.iter(|| registered.matches_der(black_box(&der)))
    });
    group.finish();
}

fn bare_webpki(
    anchors: &[rustls_pki_types::TrustAnchor<'_>],
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> bool {
    let ee = webpki::EndEntityCert::try_from(leaf).unwrap();
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        anchors,
        intermediates,
        UnixTime::since_unix_epoch(Duration::from_secs(AT)),
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .is_ok()
}

fn chains(c: &mut Criterion) {
    let cases = [
        (
            "p256_root_leaf_1sig",
            fixture!("root-ec.pem"),
            fixture!("device-ec.pem"),
            vec![],
        ),
        (
            "p256_root_int_leaf_2sig",
            fixture!("root-ec.pem"),
            fixture!("device-via-intermediate.pem"),
            vec![fixture!("intermediate-ec.pem")],
        ),
        (
            "rsa2048_root_leaf_1sig",
            fixture!("root-rsa.pem"),
            fixture!("device-rsa.pem"),
            vec![],
        ),
    ];
    for (name, root, leaf, intermediates) in cases {
        let mut cas = CaSet::new();
        cas.add(RegisteredCa {
            name: "root".into(),
            der: root.to_vec(),
            verified: true,
        })
        .unwrap();
        let anchors = vec![webpki::anchor_from_trusted_cert(&root).unwrap().to_owned()];
        assert!(bare_webpki(&anchors, &leaf, &intermediates));
        assert!(verify_client_chain(&cas, &leaf, &intermediates, AT).is_ok());
        let mut group = c.benchmark_group(format!("x509_chain_{name}"));
        group.bench_function("ours_verify_client_chain", |b| {
            b.iter(|| verify_client_chain(&cas, black_box(&leaf), &intermediates, AT).is_ok())
        });
        group.bench_function("bare_webpki_verify_for_usage", |b| {
            b.iter(|| bare_webpki(&anchors, black_box(&leaf), &intermediates))
        });
        let mut cache = ChainCache::new(1024);
        group.bench_function("ours_cached_repeat", |b| {
            b.iter(|| {
                cache
                    .get_or_verify(&cas, black_box(&leaf), &intermediates, AT)
                    .is_ok()
            })
        });
        let mut chain_bytes = leaf.to_vec();
        intermediates
            .iter()
            .for_each(|i| chain_bytes.extend_from_slice(i));
        group.bench_function("bare_sha256_of_chain", |b| {
            b.iter(|| sha2::Sha256::digest(black_box(&chain_bytes)))
        });
        group.finish();
    }
}

criterion_group!(benches, thumbprints, chains);
criterion_main!(benches);
