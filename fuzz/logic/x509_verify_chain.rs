// Fuzz logic for `iot_x509::verify_client_chain` and `ChainCache`.
// Shared by fuzz_targets/x509_verify_chain.rs and iot-x509/tests/fuzz_replay.rs.
//
// Input: a sequence of [u16 big-endian length][DER] records: the leaf, then the presented
// intermediates. The registered CAs (`CAS`) are fixed, iot-x509's OpenSSL fixtures
// (tests/data/generate.py): the EC root (verified), the EC intermediate (unverified), and
// anchors with their own constraints, all verified: a root with pathLenConstraint 0, an
// intermediate with pathLenConstraint 0, a root whose EKU is serverAuth only, a root whose EKU
// is clientAuth, a root whose keyUsage lacks keyCertSign. A certificate that is not a CA is also
// offered as a verified CA (`NOT_A_CA`), which `CaSet::add` must refuse. Mutated real chains
// reach deep code.
//
// Invariants (the path checked with x509-parser here, not with iot-x509's own view): never
// panics; an accepted path starts with the leaf and ends with a registered, verified CA; each
// certificate is issued by the next one (issuer = subject); every issuer, the anchor included,
// has CA=true, a keyUsage with keyCertSign (or none), an EKU allowing clientAuth (or none) and
// a pathLenConstraint that the intermediates below it respect (RFC 5280 §4.2.1.9, as `openssl
// verify -purpose sslclient` applies them); the leaf's EKU allows clientAuth (or is absent);
// `now` is inside the path's validity; the cache gives the same verdict on a miss and a repeat.

const AT: u64 = 1_780_272_000; // the fixtures' verification time (2026-06-01)

/// The registered CAs: (name, PEM, verified).
const CAS: [(&str, &[u8], bool); 7] = [
    (
        "root",
        include_bytes!("../../iot-x509/tests/data/openssl/root-ec.pem"),
        true,
    ),
    (
        "intermediate",
        include_bytes!("../../iot-x509/tests/data/openssl/intermediate-ec.pem"),
        false,
    ),
    (
        "root-pathlen0",
        include_bytes!("../../iot-x509/tests/data/openssl/root-pathlen0.pem"),
        true,
    ),
    (
        "intermediate-pathlen0",
        include_bytes!("../../iot-x509/tests/data/openssl/intermediate-pathlen0.pem"),
        true,
    ),
    (
        "root-eku-server-auth",
        include_bytes!("../../iot-x509/tests/data/openssl/root-eku-server-auth.pem"),
        true,
    ),
    (
        "root-eku-client-auth",
        include_bytes!("../../iot-x509/tests/data/openssl/root-eku-client-auth.pem"),
        true,
    ),
    (
        "root-no-keycertsign",
        include_bytes!("../../iot-x509/tests/data/openssl/root-no-keycertsign.pem"),
        true,
    ),
];

/// A certificate that is not a CA (CA:FALSE, no keyUsage), offered to `CaSet::add` as a
/// verified CA, which must refuse it; seed `leaf-under-not-ca-anchor` is a leaf signed by its
/// key (iot-x509/tests/data/generate.py `write_non_ca_anchor`, issue 15).
const NOT_A_CA: &[u8] = include_bytes!("../../iot-x509/tests/data/openssl/not-ca-anchor.pem");

/// The registered CA set (built once).
pub fn cas() -> &'static iot_x509::CaSet {
    static CAS_SET: std::sync::OnceLock<iot_x509::CaSet> = std::sync::OnceLock::new();
    CAS_SET.get_or_init(|| {
        let mut cas = iot_x509::CaSet::new();
        for (name, pem, verified) in CAS {
            let der = iot_x509::parse_certificates(pem)
                .expect("fixture parses")
                .remove(0)
                .to_vec();
            cas.add(iot_x509::RegisteredCa {
                name: name.into(),
                der,
                verified,
            })
            .expect("fixture is a CA");
        }
        // Refused today; were it taken, the path check below (every issuer has CA=true)
        // catches the leaf that chains to it, not this line.
        let der = iot_x509::parse_certificates(NOT_A_CA)
            .expect("fixture parses")
            .remove(0)
            .to_vec();
        let _refused = cas.add(iot_x509::RegisteredCa {
            name: "not-a-ca".into(),
            der,
            verified: true,
        });
        cas
    })
}

/// Splits the input into the leaf and the presented intermediates.
pub fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut records = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && records.len() < 12 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let take = len.min(body.len());
        records.push(&body[..take]);
        rest = &body[take..];
    }
    records
}

/// Verifies the input's chain against [`cas`] at the fixtures' time.
pub fn verify(data: &[u8]) -> Option<Result<iot_x509::VerifiedChain, iot_x509::ChainError>> {
    let records = records(data);
    let (leaf, intermediates) = records.split_first()?;
    let intermediates: Vec<iot_x509::CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| iot_x509::CertificateDer::from(*der))
        .collect();
    Some(iot_x509::verify_client_chain(
        cas(),
        leaf,
        &intermediates,
        AT,
    ))
}

/// RFC 5280 / `-purpose sslclient` checks of an accepted path (leaf first, anchor last), read
/// with x509-parser.
fn check_path(path: &[&[u8]]) {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let certs: Vec<X509Certificate<'_>> = path
        .iter()
        .map(|der| {
            X509Certificate::from_der(der)
                .expect("an accepted path parses")
                .1
        })
        .collect();
    let eku_allows_client =
        |cert: &X509Certificate<'_>| match cert.extended_key_usage().expect("one EKU extension") {
            None => true,
            Some(eku) => eku.value.client_auth || eku.value.any,
        };
    assert!(eku_allows_client(&certs[0]), "leaf EKU refuses clientAuth");
    for (index, issuer) in certs.iter().enumerate().skip(1) {
        let child = &certs[index - 1];
        assert_eq!(
            child.issuer().as_raw(),
            issuer.subject().as_raw(),
            "certificate {} is not issued by the next one",
            index - 1
        );
        let constraints = issuer.basic_constraints().expect("one basicConstraints");
        let constraints = constraints.expect("an issuer has basicConstraints").value;
        assert!(constraints.ca, "issuer {index} is not a CA");
        if let Some(ku) = issuer.key_usage().expect("one keyUsage") {
            assert!(ku.value.key_cert_sign(), "issuer {index} lacks keyCertSign");
        }
        assert!(
            eku_allows_client(issuer),
            "issuer {index} EKU refuses clientAuth"
        );
        if let Some(max) = constraints.path_len_constraint {
            // Intermediates between the leaf and this issuer, self-issued ones not counted.
            let below = certs[1..index]
                .iter()
                .filter(|c| c.subject().as_raw() != c.issuer().as_raw())
                .count();
            let max = usize::try_from(max).unwrap_or(usize::MAX);
            assert!(
                below <= max,
                "issuer {index} allows {max} intermediates, has {below}"
            );
        }
    }
}

/// Verifies an arbitrary presented chain; checks the invariants of the verdict.
pub fn run(data: &[u8]) {
    let records = records(data);
    let Some((leaf, intermediates)) = records.split_first() else {
        return;
    };
    let intermediates: Vec<iot_x509::CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| iot_x509::CertificateDer::from(*der))
        .collect();
    let cas = cas();
    let result = iot_x509::verify_client_chain(cas, leaf, &intermediates, AT);
    match &result {
        Ok(chain) => {
            assert_eq!(chain.path[0].as_ref(), *leaf);
            let ca = cas.get(&chain.ca_name).expect("anchor is registered");
            assert!(ca.verified, "only verified CAs anchor");
            assert_eq!(
                chain.path.last().map(|c| c.as_ref()),
                Some(ca.der.as_slice())
            );
            let path: Vec<&[u8]> = chain.path.iter().map(|c| c.as_ref()).collect();
            check_path(&path);
            let now = i64::try_from(AT).unwrap_or(i64::MAX);
            assert!(chain.not_before <= now && now <= chain.not_after);
        }
        Err(iot_x509::ChainError::CaNotVerified { ca_name }) => {
            assert_eq!(ca_name, "intermediate");
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            assert!(!err.code().is_empty());
        }
    }
    // The cache gives the same verdict, on a miss and on a repeat.
    let mut cache = iot_x509::ChainCache::new(4);
    for _ in 0..2 {
        let cached = cache.get_or_verify(cas, leaf, &intermediates, AT);
        assert_eq!(
            cached.as_deref().map_err(Clone::clone),
            result.as_ref().map_err(Clone::clone)
        );
    }
}
