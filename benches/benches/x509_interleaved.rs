//! Load-robust ratios for iot-x509: each round times `K` calls of our function, then `K` calls
//! of the raw primitive on the same input, alternating, and reports the median and minimum
//! per-call time of each side. On a shared, busy machine criterion's sequential groups drift
//! with the load; alternating rounds see the same load. Run:
//! `cargo bench -p iot-benches --bench x509_interleaved`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use iot_benches::pair;
use iot_benches::x509::{AT, bare_webpki, chain_cases, fixture};
use iot_x509::{ChainCache, Thumbprint, verify_client_chain};
use sha2::Digest as _;

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` compatibility
    }
    let rsa = fixture("device-rsa.pem");
    pair(
        "thumbprint sha1, rsa leaf",
        400,
        2000,
        || {
            black_box(Thumbprint::sha1_of(black_box(&rsa)));
        },
        || {
            black_box(sha1::Sha1::digest(black_box(&rsa)));
        },
    );
    pair(
        "thumbprint sha256, rsa leaf",
        400,
        2000,
        || {
            black_box(Thumbprint::sha256_of(black_box(&rsa)));
        },
        || {
            black_box(sha2::Sha256::digest(black_box(&rsa)));
        },
    );
    for case in chain_cases() {
        let (name, cas, leaf, intermediates) =
            (case.name, &case.cas, &case.leaf, &case.intermediates[..]);
        let anchors = &case.anchors;
        pair(
            &format!("chain {name}"),
            300,
            20,
            || {
                drop(black_box(verify_client_chain(
                    cas,
                    black_box(leaf),
                    intermediates,
                    AT,
                )))
            },
            || {
                black_box(bare_webpki(anchors, black_box(leaf), intermediates));
            },
        );
        let mut cache = ChainCache::new(1024);
        let bytes = case.chain_bytes();
        pair(
            &format!("cached {name}, {} B", bytes.len()),
            400,
            2000,
            || {
                drop(black_box(cache.get_or_verify(
                    cas,
                    black_box(leaf),
                    intermediates,
                    AT,
                )))
            },
            || {
                black_box(sha2::Sha256::digest(black_box(&bytes)));
            },
        );
    }
}
