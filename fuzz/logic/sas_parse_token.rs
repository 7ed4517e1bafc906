// Fuzz logic for `iot_sas::SasToken::parse` (shared by cargo-fuzz and iot-sas/tests/fuzz_replay.rs).
//
// Invariants: never panics; an accepted token formats back (canonical field order) to a text of
// the same length that parses to an equal token; the raw `se` is the canonical decimal of the
// expiry; the decoded signature round-trips through base64; resource matching never panics.

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(token) = iot_sas::SasToken::parse(text) else {
        return;
    };
    assert!(text.len() <= iot_sas::MAX_TOKEN_LEN);
    let formatted = token.to_string();
    assert_eq!(formatted.len(), text.len(), "formatting changed the length");
    let again = iot_sas::SasToken::parse(&formatted).expect("formatted token must parse");
    assert_eq!(again, token);
    assert_eq!(again.to_string(), formatted);
    assert_eq!(token.expiry().to_string(), token.expiry_raw());
    let signature = token
        .signature()
        .expect("a parsed token has a valid signature");
    let mut b64 = [0u8; 44];
    let b64 = signature.encode_base64(&mut b64);
    assert_eq!(b64.len(), 44);
    let sr = token.resource_raw();
    let _ = iot_sas::Scope::CoversText(sr).admits(sr);
    let _ = iot_sas::Scope::NamesText("hub/devices/dev").admits(sr);
    if token.check_expiry(token.expiry(), 0).is_err() {
        panic!("a token is valid at its own expiry");
    }
}
