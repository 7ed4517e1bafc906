// Fuzz logic for `iot_x509::Thumbprint::from_hex` and its Display/serde forms.
// Shared by fuzz_targets/x509_thumbprint_from_hex.rs and iot-x509/tests/fuzz_replay.rs.

/// Parses arbitrary text as a thumbprint; a success must round-trip through its display form.
pub fn run(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(thumbprint) = iot_x509::Thumbprint::from_hex(text) else {
        return;
    };
    let shown = thumbprint.to_string();
    assert_eq!(shown.len(), thumbprint.algorithm().digest_len() * 2);
    assert!(
        shown
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    assert_eq!(
        iot_x509::Thumbprint::from_hex(&shown).expect("display parses"),
        thumbprint
    );
    assert_eq!(
        iot_x509::Thumbprint::from_hex(&shown.to_lowercase()).expect("lower case parses"),
        thumbprint
    );
    let json = serde_json::to_string(&thumbprint).expect("serializes");
    let back: iot_x509::Thumbprint = serde_json::from_str(&json).expect("round trips");
    assert_eq!(back, thumbprint);
    // The hex digits of the input, in order, are the display form (any case, separators gone).
    let digits: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    assert_eq!(digits.to_uppercase(), shown);
}
