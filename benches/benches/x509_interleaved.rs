//! Load-robust ratios for iot-x509: each round times `K` calls of our function, then `K` calls
//! of the raw primitive on the same input, alternating, and reports the median and minimum
//! per-call time of each side. On a shared, busy machine criterion's sequential groups drift
//! with the load; alternating rounds see the same load. Run:
//! `cargo bench -p iot-benches --bench x509_interleaved`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use iot_benches::pair;

use iot_x509::{CaSet, CertificateDer, ChainCache, RegisteredCa, Thumbprint, verify_client_chain};
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
        rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(AT)),
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .is_ok()
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` compatibility
    }
    let rsa = fixture!("device-rsa.pem");
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
    let cases: [(
        &str,
        CertificateDer<'static>,
        CertificateDer<'static>,
        Vec<_>,
    ); 3] = [
        (
            "p256 root-leaf (1 sig)",
            fixture!("root-ec.pem"),
            fixture!("device-ec.pem"),
            vec![],
        ),
        (
            "p256 root-int-leaf (2 sig)",
            fixture!("root-ec.pem"),
            fixture!("device-via-intermediate.pem"),
            vec![fixture!("intermediate-ec.pem")],
        ),
        (
            "rsa2048 root-leaf (1 sig)",
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
        pair(
            &format!("chain {name}"),
            300,
            20,
            || {
                drop(black_box(verify_client_chain(
                    &cas,
                    black_box(&leaf),
                    &intermediates,
                    AT,
                )))
            },
            || {
                black_box(bare_webpki(&anchors, black_box(&leaf), &intermediates));
            },
        );
        let mut cache = ChainCache::new(1024);
        let mut bytes = leaf.to_vec();
        intermediates
            .iter()
            .for_each(|i| bytes.extend_from_slice(i));
        pair(
            &format!("cached {name}, {} B", bytes.len()),
            400,
            2000,
            || {
                drop(black_box(cache.get_or_verify(
                    &cas,
                    black_box(&leaf),
                    &intermediates,
                    AT,
                )))
            },
            || {
                black_box(sha2::Sha256::digest(black_box(&bytes)));
            },
        );
    }
}
