//! The certificates both x509 benches measure: iot-x509's OpenSSL-made fixtures, the three
//! client chains with their registered CA and trust anchor, and the bare rustls-webpki call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use iot_x509::{CaSet, CertificateDer, RegisteredCa};
use rustls_pki_types::{TrustAnchor, UnixTime};

/// The fixtures' verification time, 2026-06-01.
pub const AT: u64 = 1_780_272_000;

/// The first certificate of `iot-x509/tests/data/openssl/{name}` (read at run time).
pub fn fixture(name: &str) -> CertificateDer<'static> {
    let path = format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let pem = std::fs::read(&path).expect("iot-x509's fixture certificates");
    iot_x509::parse_certificates(&pem).unwrap().remove(0)
}

/// One client chain: our CA set and webpki's anchor for the same root.
pub struct ChainCase {
    /// Name for the report, e.g. `p256 root-int-leaf (2 sig)`.
    pub name: &'static str,
    /// The same as an identifier, e.g. `p256_root_int_leaf_2sig` (criterion group names).
    pub id: &'static str,
    /// The root registered as a verified CA.
    pub cas: CaSet,
    /// The same root as a rustls-webpki trust anchor.
    pub anchors: Vec<TrustAnchor<'static>>,
    /// Leaf certificate.
    pub leaf: CertificateDer<'static>,
    /// Intermediates, leaf side first.
    pub intermediates: Vec<CertificateDer<'static>>,
}

impl ChainCase {
    /// The leaf and intermediates as one byte string (what a verified-chain cache hashes).
    pub fn chain_bytes(&self) -> Vec<u8> {
        let mut bytes = self.leaf.to_vec();
        self.intermediates
            .iter()
            .for_each(|i| bytes.extend_from_slice(i));
        bytes
    }
}

/// P-256 root -> leaf, P-256 root -> intermediate -> leaf, RSA-2048 root -> leaf; each checked
/// to verify both ways before it is measured.
pub fn chain_cases() -> Vec<ChainCase> {
    [
        (
            "p256 root-leaf (1 sig)",
            "p256_root_leaf_1sig",
            "root-ec.pem",
            "device-ec.pem",
            None,
        ),
        (
            "p256 root-int-leaf (2 sig)",
            "p256_root_int_leaf_2sig",
            "root-ec.pem",
            "device-via-intermediate.pem",
            Some("intermediate-ec.pem"),
        ),
        (
            "rsa2048 root-leaf (1 sig)",
            "rsa2048_root_leaf_1sig",
            "root-rsa.pem",
            "device-rsa.pem",
            None,
        ),
    ]
    .into_iter()
    .map(|(name, id, root, leaf, intermediate)| {
        let root = fixture(root);
        let mut cas = CaSet::new();
        cas.add(RegisteredCa {
            name: "root".into(),
            der: root.to_vec(),
            verified: true,
        })
        .unwrap();
        let case = ChainCase {
            name,
            id,
            cas,
            anchors: vec![webpki::anchor_from_trusted_cert(&root).unwrap().to_owned()],
            leaf: fixture(leaf),
            intermediates: intermediate.map(fixture).into_iter().collect(),
        };
        assert!(bare_webpki(&case.anchors, &case.leaf, &case.intermediates));
        assert!(
            iot_x509::verify_client_chain(&case.cas, &case.leaf, &case.intermediates, AT).is_ok()
        );
        case
    })
    .collect()
}

/// rustls-webpki's own client-certificate check of the same chain at [`AT`].
pub fn bare_webpki(
    anchors: &[TrustAnchor<'_>],
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
