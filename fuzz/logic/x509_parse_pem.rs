// Fuzz logic for `iot_x509::parse_certificates` (PEM one/bundle or DER certificate input).
// Shared by fuzz_targets/x509_parse_pem.rs and iot-x509/tests/fuzz_replay.rs.

/// Parses arbitrary bytes as certificate input; checks the invariants of a success.
pub fn run(data: &[u8]) {
    let Ok(certs) = iot_x509::parse_certificates(data) else {
        return;
    };
    assert!(
        !certs.is_empty(),
        "a success returns at least one certificate"
    );
    assert!(certs.len() <= iot_x509::MAX_CERTIFICATES);
    for der in &certs {
        // Every returned certificate is exactly one well-formed certificate...
        let info = iot_x509::CertificateInfo::parse(der).expect("returned DER parses");
        let _ = info.common_name();
        // ...and is itself valid DER input.
        let again = iot_x509::parse_certificates(der).expect("returned DER is valid input");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].as_ref(), der.as_ref());
    }
}
