//! Agreement with OpenSSL on fixtures made by `tests/data/generate.py` (Python `cryptography`
//! certificates; expected thumbprints and verdicts from the OpenSSL CLI, see manifest.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_x509::{
    CaSet, CertificateDer, CertificateInfo, ChainError, Error, RegisteredCa, Thumbprint,
    check_identity, parse_certificates, verify_client_chain, verify_proof_of_possession,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openssl/");

fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(format!("{DIR}manifest.json")).unwrap()).unwrap()
}

fn load(file: &str) -> Vec<CertificateDer<'static>> {
    parse_certificates(&std::fs::read(format!("{DIR}{file}")).unwrap())
        .unwrap_or_else(|err| panic!("{file}: {err}"))
}

fn one(file: &str) -> Vec<u8> {
    let certs = load(file);
    assert_eq!(certs.len(), 1, "{file}");
    certs[0].to_vec()
}

/// `SHA1 Fingerprint=AB:CD:...` as printed by `openssl x509 -fingerprint`.
fn openssl_fingerprint(line: &str) -> Thumbprint {
    let (_, hex) = line.split_once('=').unwrap();
    Thumbprint::from_hex(hex).unwrap()
}

#[test]
fn thumbprints_equal_openssl_fingerprints() {
    let manifest = manifest();
    let fingerprints = manifest["fingerprints"].as_object().unwrap();
    assert!(fingerprints.len() >= 20, "too few fixtures");
    for (file, expected) in fingerprints {
        let der = one(file);
        let sha1 = openssl_fingerprint(expected["sha1"].as_str().unwrap());
        let sha256 = openssl_fingerprint(expected["sha256"].as_str().unwrap());
        assert_eq!(Thumbprint::sha1_of(&der), sha1, "{file}");
        assert_eq!(Thumbprint::sha256_of(&der), sha256, "{file}");
        assert!(sha1.matches_der(&der) && sha256.matches_der(&der), "{file}");
        // Our display is OpenSSL's without colons.
        let colons = expected["sha256"]
            .as_str()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        assert_eq!(
            Thumbprint::sha256_of(&der).to_string(),
            colons.replace(':', ""),
            "{file}"
        );
    }
}

fn reason_name(result: &Result<iot_x509::VerifiedChain, ChainError>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(ChainError::Expired { .. }) => "Expired",
        Err(ChainError::NotYetValid { .. }) => "NotYetValid",
        Err(ChainError::UnknownIssuer) => "UnknownIssuer",
        Err(ChainError::CaNotVerified { .. }) => "CaNotVerified",
        Err(ChainError::NotClientAuth) => "NotClientAuth",
        Err(ChainError::IssuerNotCa) => "IssuerNotCa",
        Err(ChainError::LeafIsCa) => "LeafIsCa",
        Err(ChainError::BadSignature) => "BadSignature",
        Err(ChainError::PathTooLong) => "PathTooLong",
        Err(ChainError::UnsupportedAlgorithm) => "UnsupportedAlgorithm",
        Err(ChainError::NameConstraintViolation) => "NameConstraintViolation",
        Err(ChainError::Malformed(_)) => "Malformed",
        Err(ChainError::CaKeyUsage) => "CaKeyUsage",
        Err(_) => "other",
    }
}

fn ca_set(trust: &[Value], verified: bool) -> CaSet {
    let mut cas = CaSet::new();
    for file in trust {
        let file = file.as_str().unwrap();
        cas.add(RegisteredCa {
            name: file.into(),
            der: one(file),
            verified,
        })
        .unwrap();
    }
    cas
}

#[test]
fn chain_verdicts_equal_openssl_verify() {
    let manifest = manifest();
    let at = manifest["at"].as_u64().unwrap();
    let cases = manifest["chains"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let cas = ca_set(case["trust"].as_array().unwrap(), true);
        let leaf = one(case["leaf"].as_str().unwrap());
        let chain: Vec<_> = case["chain"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| load(f.as_str().unwrap()))
            .collect();
        let result = verify_client_chain(&cas, &leaf, &chain, at);
        let openssl_ok = case["openssl_ok"].as_bool().unwrap();
        assert_eq!(
            result.is_ok(),
            openssl_ok,
            "{name}: ours {result:?}, openssl: {}",
            case["openssl_output"]
        );
        assert_eq!(
            reason_name(&result),
            case["expect"].as_str().unwrap(),
            "{name}: {result:?}"
        );
        if let Ok(chain) = &result {
            assert_eq!(chain.path[0].as_ref(), leaf.as_slice(), "{name}");
            // The anchor: the only registered CA, or the one stated for the cases with more.
            let trust = case["trust"].as_array().unwrap();
            let expected_ca = match (name, trust.as_slice()) {
                (_, [only]) => only.as_str().unwrap(),
                // The RSA leaf's issuer.
                ("two-roots-trusted", _) => "root-rsa.pem",
                // Same subject and key; only the renewed registration is valid at `at`.
                (
                    "ca-rollover-expired-registered-first" | "ca-rollover-renewed-registered-first",
                    _,
                ) => "rollover-root-renewed.pem",
                _ => panic!("{name}: state which of {trust:?} anchors the chain"),
            };
            assert_eq!(chain.ca_name, expected_ca, "{name}");
            let anchor = chain.path.last().unwrap();
            assert_eq!(
                cas.get(&chain.ca_name).unwrap().der,
                anchor.to_vec(),
                "{name}"
            );
            // The path's validity window is the intersection of its certificates'.
            for der in &chain.path {
                let info = CertificateInfo::parse(der).unwrap();
                assert!(info.not_after() >= chain.not_after, "{name}");
                assert!(info.not_before() <= chain.not_before, "{name}");
            }
        }
        if let Some(device_id) = case["device_id"].as_str() {
            let info = CertificateInfo::parse(&leaf).unwrap();
            check_identity(&info, device_id, None).unwrap();
        }
    }
}

#[test]
fn time_errors_carry_both_times() {
    let at = manifest()["at"].as_u64().unwrap();
    let cas = ca_set(&[Value::from("root-ec.pem")], true);
    let expired = one("device-expired.pem");
    let info = CertificateInfo::parse(&expired).unwrap();
    assert_eq!(
        verify_client_chain(&cas, &expired, &[], at),
        Err(ChainError::Expired {
            not_after: info.not_after(),
            now: at
        })
    );
    assert_eq!(info.not_after(), 1_609_459_200); // 2021-01-01T00:00:00Z, fixed by the generator
    let future = one("device-not-yet-valid.pem");
    assert_eq!(
        verify_client_chain(&cas, &future, &[], at),
        Err(ChainError::NotYetValid {
            not_before: 1_893_456_000,
            now: at
        }) // 2030-01-01
    );
    let via = one("device-via-expired-intermediate.pem");
    let inter = load("expired-intermediate.pem");
    assert_eq!(
        verify_client_chain(&cas, &via, &inter, at),
        Err(ChainError::Expired {
            not_after: 1_609_459_200,
            now: at
        })
    );
}

#[test]
fn unverified_ca_is_named() {
    let at = manifest()["at"].as_u64().unwrap();
    let mut cas = ca_set(&[Value::from("root-ec.pem")], false);
    let leaf = one("device-ec.pem");
    assert_eq!(
        verify_client_chain(&cas, &leaf, &[], at),
        Err(ChainError::CaNotVerified {
            ca_name: "root-ec.pem".into()
        })
    );
    // Via an intermediate that is registered but unverified, while its root is not registered.
    let mut only_int = ca_set(&[Value::from("intermediate-ec.pem")], false);
    let via = one("device-via-intermediate.pem");
    assert_eq!(
        verify_client_chain(&only_int, &via, &[], at),
        Err(ChainError::CaNotVerified {
            ca_name: "intermediate-ec.pem".into()
        })
    );
    assert!(only_int.set_verified("intermediate-ec.pem", true));
    assert_eq!(
        verify_client_chain(&only_int, &via, &[], at)
            .unwrap()
            .ca_name,
        "intermediate-ec.pem"
    );
    // Verifying the root makes the first one pass; a foreign chain stays unknown.
    let v = cas.version();
    assert!(cas.set_verified("root-ec.pem", true));
    assert_ne!(cas.version(), v);
    assert_eq!(
        verify_client_chain(&cas, &leaf, &[], at).unwrap().ca_name,
        "root-ec.pem"
    );
    let foreign = one("device-untrusted-root.pem");
    assert_eq!(
        verify_client_chain(&cas, &foreign, &[], at),
        Err(ChainError::UnknownIssuer)
    );
}

#[test]
fn intermediate_anchor_preferred_path_names_the_ca() {
    let at = manifest()["at"].as_u64().unwrap();
    let cas = ca_set(&[Value::from("intermediate-ec.pem")], true);
    let via = one("device-via-intermediate.pem");
    let chain = verify_client_chain(&cas, &via, &[], at).unwrap();
    assert_eq!(chain.ca_name, "intermediate-ec.pem");
    assert_eq!(chain.path.len(), 2);
    // With root registered too, and the intermediate presented, a path exists either way.
    let both = ca_set(
        &[
            Value::from("root-ec.pem"),
            Value::from("intermediate-ec.pem"),
        ],
        true,
    );
    // rustls-webpki looks for the leaf's issuer among the trust anchors before the presented
    // intermediates, so the registered intermediate anchors the shorter path.
    let chain = verify_client_chain(&both, &via, &load("intermediate-ec.pem"), at).unwrap();
    assert_eq!(chain.ca_name, "intermediate-ec.pem");
    assert_eq!(chain.path.len(), 2);
    // Root only: the path is leaf, intermediate, root, in that order.
    let root_only = ca_set(&[Value::from("root-ec.pem")], true);
    let chain = verify_client_chain(&root_only, &via, &load("intermediate-ec.pem"), at).unwrap();
    let expected = [via.clone(), one("intermediate-ec.pem"), one("root-ec.pem")];
    assert_eq!(
        chain.path.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn identity_binding_rules() {
    let two = CertificateInfo::parse(&one("device-two-cns.pem")).unwrap();
    assert_eq!(two.common_names(), ["device-a", "device-b"]);
    assert_eq!(two.common_name(), None);
    assert_eq!(
        check_identity(&two, "device-a", None),
        Err(Error::AmbiguousCommonName { count: 2 })
    );
    let module = CertificateInfo::parse(&one("module.pem")).unwrap();
    check_identity(&module, "device-1", Some("module-a")).unwrap();
    assert!(check_identity(&module, "device-1", None).is_err());
    assert!(check_identity(&module, "device-1", Some("module-b")).is_err());
    let ec = CertificateInfo::parse(&one("device-ec.pem")).unwrap();
    assert_eq!(
        check_identity(&ec, "Device-EC", None),
        Err(Error::IdentityMismatch {
            common_name: "device-ec".into(),
            expected: "Device-EC".into()
        })
    );
}

#[test]
fn pop_verdicts_equal_openssl() {
    let manifest = manifest();
    let at = manifest["at"].as_u64().unwrap();
    let pops = manifest["pop"].as_array().unwrap();
    assert_eq!(pops.len(), 3);
    for pop in pops {
        let ca = one(pop["ca"].as_str().unwrap());
        let cert_file = pop["cert"].as_str().unwrap();
        let cert = one(cert_file);
        let code = pop["code"].as_str().unwrap();
        let result = verify_proof_of_possession(&ca, &cert, code, at);
        assert_eq!(
            result.is_ok(),
            pop["openssl_ok"].as_bool().unwrap(),
            "{cert_file}: {result:?}"
        );
        let name = match &result {
            Ok(()) => "Ok",
            Err(Error::PopBadSignature) => "PopBadSignature",
            Err(Error::PopCodeMismatch { .. }) => "PopCodeMismatch",
            Err(_) => "other",
        };
        assert_eq!(
            name,
            pop["expect"].as_str().unwrap(),
            "{cert_file}: {result:?}"
        );
    }
    // Validity: the fixtures' verification certificates end 2026-07-01.
    let ca = one("root-ec.pem");
    let right = one("pop-right.pem");
    let code = pops[0]["code"].as_str().unwrap();
    assert!(matches!(
        verify_proof_of_possession(&ca, &right, code, 1_800_000_000),
        Err(Error::PopExpired {
            not_after: 1_782_864_000,
            ..
        })
    ));
    // Against a different CA the issuer does not match.
    assert!(matches!(
        verify_proof_of_possession(&one("root-rsa.pem"), &right, code, at),
        Err(Error::PopIssuerMismatch { .. })
    ));
    // The code is compared exactly (case matters).
    assert!(matches!(
        verify_proof_of_possession(&ca, &right, &code.to_lowercase(), at),
        Err(Error::PopCodeMismatch { .. })
    ));
}

#[test]
fn inputs_name_what_they_are() {
    let read = |f: &str| std::fs::read(format!("{DIR}{f}")).unwrap();
    let pem = parse_certificates(&read("device-ec.pem")).unwrap();
    let der = parse_certificates(&read("device-ec.der")).unwrap();
    assert_eq!(pem, der);
    let bundle = parse_certificates(&read("device-via-intermediate.bundle.pem")).unwrap();
    assert_eq!(bundle.len(), 2);
    assert_eq!(bundle[0].to_vec(), one("device-via-intermediate.pem"));
    assert_eq!(bundle[1].to_vec(), one("intermediate-ec.pem"));
    assert_eq!(
        parse_certificates(&read("device-ec.key.pem")),
        Err(Error::NotACertificate {
            found: "a private key",
            label: "PRIVATE KEY".into()
        })
    );
    assert_eq!(
        parse_certificates(&read("device-ec.csr.pem")),
        Err(Error::NotACertificate {
            found: "a certificate signing request",
            label: "CERTIFICATE REQUEST".into()
        })
    );
    assert!(matches!(
        parse_certificates(&read("device-ec.key.der")),
        Err(Error::NotACertificate {
            found: "a private key",
            ..
        })
    ));
    // cert + key in one file: refused, naming the key.
    let mut combined = read("device-ec.pem");
    combined.extend(read("device-ec.key.pem"));
    assert!(matches!(
        parse_certificates(&combined),
        Err(Error::NotACertificate { .. })
    ));
    // Trailing bytes after DER and text after the last PEM block.
    let mut der_plus = read("device-ec.der");
    let len = der_plus.len();
    der_plus.extend_from_slice(b"\x00\x01");
    assert_eq!(
        parse_certificates(&der_plus),
        Err(Error::TrailingData { offset: len })
    );
    let mut pem_plus = read("device-ec.pem");
    let offset = pem_plus.len();
    pem_plus.extend_from_slice(b"garbage\n");
    assert_eq!(
        parse_certificates(&pem_plus),
        Err(Error::TrailingData { offset })
    );
    // Explanatory text before a block is fine (RFC 7468 section 2).
    let mut text = b"subject=CN = device-ec\n".to_vec();
    text.extend(read("device-ec.pem"));
    assert_eq!(parse_certificates(&text).unwrap(), pem);
    // CRLF line endings.
    let crlf = String::from_utf8(read("device-ec.pem"))
        .unwrap()
        .replace('\n', "\r\n");
    assert_eq!(parse_certificates(crlf.as_bytes()).unwrap(), pem);
}

#[test]
fn certificate_view_and_dps_shape() {
    let der = one("device-client-and-email-eku.pem");
    let info = CertificateInfo::parse(&der).unwrap();
    assert_eq!(info.common_name(), Some("device-certgen"));
    assert_eq!(info.subject(), "CN=device-certgen");
    assert_eq!(
        info.issuer(),
        "CN=iot-x509 test root EC, O=iot-x509 fixtures"
    );
    assert!(!info.is_ca());
    assert_eq!(info.version(), 3);
    assert_eq!(info.not_before(), 1_735_689_600); // 2025-01-01
    assert_eq!(
        info.key_usage().unwrap(),
        ["digitalSignature", "nonRepudiation", "keyEncipherment"]
    );
    assert_eq!(
        info.extended_key_usage().unwrap(),
        [iot_x509::OID_CLIENT_AUTH, "1.3.6.1.5.5.7.3.4"]
    );
    assert!(info.allows_client_auth());
    let server = CertificateInfo::parse(&one("device-server-auth-only.pem")).unwrap();
    assert!(!server.allows_client_auth());
    let root = CertificateInfo::parse(&one("root-ec.pem")).unwrap();
    assert!(root.is_ca() && root.is_self_issued() && root.path_len().is_none());
    let dps = info.to_x509_certificate_info(&der);
    let json = serde_json::to_value(&dps).unwrap();
    assert_eq!(json["subjectName"], "CN=device-certgen");
    assert_eq!(json["notBeforeUtc"], "2025-01-01T00:00:00Z");
    assert_eq!(json["notAfterUtc"], "2035-01-01T00:00:00Z");
    assert_eq!(json["version"], 3);
    // Thumbprint and serial as the OpenSSL CLI printed them (manifest.json).
    let openssl = &manifest()["fingerprints"]["device-client-and-email-eku.pem"];
    let (_, sha1) = openssl["sha1"].as_str().unwrap().split_once('=').unwrap();
    assert_eq!(json["sha1Thumbprint"], sha1.replace(':', ""));
    let (_, serial) = openssl["serial"].as_str().unwrap().split_once('=').unwrap();
    assert_eq!(json["serialNumber"], serial);
    let back: iot_x509::X509CertificateInfo = serde_json::from_value(json).unwrap();
    assert_eq!(back, dps);
}

/// A certificate is a SEQUENCE, encoded constructed (tag byte 0x30, X.690 §8.9.1): the same
/// bytes with the primitive tag 0x10 are refused as DER, inside PEM and by
/// `CertificateInfo::parse` alike (found by fuzzing x509_parse_pem: PEM took them, DER
/// input did not; OpenSSL refuses them too). Seed fuzz/corpus/x509_parse_pem/
/// regression_primitive_certificate_sequence.
#[test]
fn a_certificate_is_a_constructed_sequence() {
    use base64::Engine as _;
    let mut der = one("device-ec.pem");
    assert!(CertificateInfo::parse(&der).is_ok());
    der[0] = 0x10;
    assert!(matches!(
        CertificateInfo::parse(&der),
        Err(Error::MalformedCertificate(_))
    ));
    assert!(matches!(
        parse_certificates(&der),
        Err(Error::MalformedCertificate(_))
    ));
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    assert!(matches!(
        parse_certificates(pem.as_bytes()),
        Err(Error::MalformedCertificate(_))
    ));
}
