//! iot-x509 beside the raw primitives, on the OpenSSL-made fixtures of iot-x509:
//! thumbprint vs bare sha1/sha256 of the same DER, chain verification vs bare rustls-webpki
//! `verify_for_usage` on the same chain and anchors, and a cached repeat.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iot_benches::x509::{AT, bare_webpki, chain_cases, fixture};
use iot_x509::{ChainCache, Thumbprint, verify_client_chain};
use sha2::Digest as _;

fn thumbprints(c: &mut Criterion) {
    let der = fixture("device-rsa.pem");
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

fn chains(c: &mut Criterion) {
    for case in chain_cases() {
        let (cas, leaf, intermediates) = (&case.cas, &case.leaf, &case.intermediates[..]);
        let mut group = c.benchmark_group(format!("x509_chain_{}", case.id));
        group.bench_function("ours_verify_client_chain", |b| {
            b.iter(|| verify_client_chain(cas, black_box(leaf), intermediates, AT).is_ok())
        });
        group.bench_function("bare_webpki_verify_for_usage", |b| {
            b.iter(|| bare_webpki(&case.anchors, black_box(leaf), intermediates))
        });
        let mut cache = ChainCache::new(1024);
        group.bench_function("ours_cached_repeat", |b| {
            b.iter(|| {
                cache
                    .get_or_verify(cas, black_box(leaf), intermediates, AT)
                    .is_ok()
            })
        });
        let chain_bytes = case.chain_bytes();
        group.bench_function("bare_sha256_of_chain", |b| {
            b.iter(|| sha2::Sha256::digest(black_box(&chain_bytes)))
        });
        group.finish();
    }
}

criterion_group!(benches, thumbprints, chains);
criterion_main!(benches);
