//! The test PKI (feature `generate`): profiles of certGen.sh (reference §7.4) and that the
//! certificates it makes pass our own checks. A plain `cargo test -p iot-x509` runs these: the
//! crate is its own dev-dependency with `generate` on (Cargo.toml).
#![cfg(feature = "generate")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_x509::generate::{
    GeneratedCert, Validity, new_device_cert, new_intermediate_ca, new_root_ca,
    new_self_signed_device_cert, new_verification_cert,
};
use iot_x509::{
    CaSet, CertificateInfo, ChainError, OID_CLIENT_AUTH, RegisteredCa, Thumbprint, ThumbprintMatch,
    check_identity, match_thumbprints, parse_certificates, verify_client_chain,
    verify_proof_of_possession,
};

const START: i64 = 1_767_225_600; // 2026-01-01
const NOW: u64 = 1_767_225_600 + 86_400;

#[test]
fn certgen_profiles() {
    let validity = Validity::days(START, 30);
    assert_eq!(validity.not_after, START + 30 * 86_400);
    let root = new_root_ca("test-root", validity).unwrap();
    let inter = new_intermediate_ca("test-intermediate", &root, validity).unwrap();
    let device = new_device_cert("device-0001", &inter, validity).unwrap();

    let r = CertificateInfo::parse(&root.der).unwrap();
    assert!(r.is_ca() && r.is_self_issued());
    assert_eq!(
        r.key_usage().unwrap(),
        ["digitalSignature", "keyCertSign", "cRLSign"]
    );
    assert_eq!(r.not_before(), START);
    assert_eq!(r.not_after(), validity.not_after);
    let i = CertificateInfo::parse(&inter.der).unwrap();
    assert!(i.is_ca() && !i.is_self_issued());
    assert_eq!(i.issuer(), "CN=test-root");
    let d = CertificateInfo::parse(&device.der).unwrap();
    assert!(!d.is_ca());
    assert_eq!(d.common_name(), Some("device-0001"));
    assert_eq!(
        d.key_usage().unwrap(),
        ["digitalSignature", "nonRepudiation", "keyEncipherment"]
    );
    assert_eq!(
        d.extended_key_usage().unwrap(),
        [OID_CLIENT_AUTH, "1.3.6.1.5.5.7.3.4"]
    );
    assert_eq!(d.serial().len(), 16);
    assert!(d.serial()[0] < 0x80);

    // PEM out parses back to the same DER; the key is PKCS #8.
    assert_eq!(
        parse_certificates(device.cert_pem.as_bytes()).unwrap()[0].to_vec(),
        device.der
    );
    assert!(device.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let debug = format!("{device:?}");
    assert!(debug.contains("<redacted>") && !debug.contains("PRIVATE KEY"));

    let mut cas = CaSet::new();
    cas.add(RegisteredCa {
        name: "root".into(),
        der: root.der.clone(),
        verified: true,
    })
    .unwrap();
    let chain = verify_client_chain(&cas, &device.der, &[inter.der.clone().into()], NOW).unwrap();
    assert_eq!(chain.ca_name, "root");
    assert_eq!(chain.path.len(), 3);
    check_identity(&d, "device-0001", None).unwrap();
    assert_eq!(
        verify_client_chain(&cas, &device.der, &[], NOW),
        Err(ChainError::UnknownIssuer)
    );
}

#[test]
fn verification_certificate_proves_possession() {
    let validity = Validity::days(START, 30);
    let ca = new_root_ca("ca-to-verify", validity).unwrap();
    let other = new_root_ca("ca-to-verify", validity).unwrap(); // same name, other key
    let code = "5B3E19A2C0FF";
    let good = new_verification_cert(code, &ca, validity).unwrap();
    verify_proof_of_possession(&ca.der, &good.der, code, NOW).unwrap();
    let forged = new_verification_cert(code, &other, validity).unwrap();
    assert_eq!(
        verify_proof_of_possession(&ca.der, &forged.der, code, NOW),
        Err(iot_x509::Error::PopBadSignature)
    );
    assert_eq!(
        verify_proof_of_possession(&ca.der, &good.der, "5B3E19A2C0FE", NOW),
        Err(iot_x509::Error::PopCodeMismatch {
            common_name: Some(code.into()),
            code: "5B3E19A2C0FE".into()
        })
    );
}

#[test]
fn issuer_round_trips_through_pem_files() {
    let validity = Validity::days(START, 30);
    let root = new_root_ca("file-root", validity).unwrap();
    let root_pem = root.cert_pem.clone();
    let loaded = GeneratedCert::from_pem(&root.cert_pem, &root.key_pem).unwrap();
    assert_eq!(loaded.der, root.der);
    let device = new_device_cert("dev", &loaded, validity).unwrap();
    let mut cas = CaSet::new();
    cas.add(RegisteredCa {
        name: "r".into(),
        der: root.der,
        verified: true,
    })
    .unwrap();
    verify_client_chain(&cas, &device.der, &[], NOW).unwrap();
    let err = GeneratedCert::from_pem(&device.cert_pem, "not a key").unwrap_err();
    assert!(matches!(err, iot_x509::Error::Generate(_)), "{err:?}");
    let cause = std::error::Error::source(&err).expect("rcgen's error is kept as the source");
    assert!(err.to_string().ends_with(&cause.to_string()), "{err}");
    // A key that is not the certificate's own is refused when it signs, not silently used.
    let other = new_root_ca("file-root", validity).unwrap();
    let mismatched = GeneratedCert::from_pem(&root_pem, &other.key_pem).unwrap();
    let forged = new_device_cert("dev", &mismatched, validity).unwrap();
    assert_eq!(
        verify_client_chain(&cas, &forged.der, &[], NOW),
        Err(ChainError::BadSignature)
    );
}

#[test]
fn self_signed_device_is_thumbprint_only() {
    let validity = Validity::days(START, 30);
    let device = new_self_signed_device_cert("selfie", validity).unwrap();
    // It is not a CA, so it cannot be registered as one...
    let mut cas = CaSet::new();
    assert_eq!(
        cas.add(RegisteredCa {
            name: "x".into(),
            der: device.der.clone(),
            verified: true
        }),
        Err(iot_x509::Error::NotACa { name: "x".into() })
    );
    // ...and chain verification does not accept it even with a verified root registered (it
    // is its own issuer); the thumbprint path does (reference §7.2).
    let root = new_root_ca("test-root", validity).unwrap();
    cas.add(RegisteredCa {
        name: "root".into(),
        der: root.der.clone(),
        verified: true,
    })
    .unwrap();
    let signed_by_root = new_device_cert("selfie", &root, validity).unwrap();
    assert_eq!(
        verify_client_chain(&cas, &signed_by_root.der, &[], NOW)
            .unwrap()
            .ca_name,
        "root"
    );
    assert_eq!(
        verify_client_chain(&cas, &device.der, &[], NOW),
        Err(ChainError::UnknownIssuer)
    );
    // The registered thumbprint is the SHA-256 of the DER, computed here with the `sha2` crate
    // (not with `Thumbprint::sha256_of`).
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&device.der);
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    let registered = Thumbprint::from_hex(&hex).unwrap();
    assert_eq!(
        match_thumbprints(&device.der, None, Some(&registered)),
        Some(ThumbprintMatch::Secondary)
    );
    assert_eq!(
        match_thumbprints(&signed_by_root.der, Some(&registered), Some(&registered)),
        None
    );
    assert!(
        CertificateInfo::parse(&device.der)
            .unwrap()
            .is_valid_at(NOW)
    );
}
