// Fuzz logic for `iot_x509::CertificateInfo::parse` and the DPS certificate-info shape.
// Shared by fuzz_targets/x509_parse_certificate.rs and iot-x509/tests/fuzz_replay.rs.

/// Parses arbitrary bytes as one DER certificate; checks the view's invariants.
pub fn run(data: &[u8]) {
    let Ok(info) = iot_x509::CertificateInfo::parse(data) else {
        return;
    };
    assert_eq!(info.common_name().is_some(), info.common_names().len() == 1);
    assert!((1..=3).contains(&info.version()));
    let dps = info.to_x509_certificate_info(data);
    assert!(dps.sha1_thumbprint.matches_der(data));
    assert!(dps.sha256_thumbprint.matches_der(data));
    assert_eq!(dps.subject_name, info.subject());
    let json = serde_json::to_string(&dps).expect("serializes");
    let back: iot_x509::X509CertificateInfo = serde_json::from_str(&json).expect("round trips");
    assert_eq!(back, dps);
    let now = u64::try_from(info.not_before().max(0)).unwrap_or(0);
    let _ = info.is_valid_at(now);
    let _ = iot_x509::check_identity(&info, "device", None);
    let _ = iot_x509::check_identity(&info, "device", Some("module"));
}
