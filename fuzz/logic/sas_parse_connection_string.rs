// Fuzz logic for `iot_sas::ConnectionString::parse` (shared by cargo-fuzz and
// iot-sas/tests/fuzz_replay.rs).
//
// Invariants: never panics; an accepted string formats back (canonical key order) to a text that
// parses to an equal value and formats identically; `Debug` redacts the key.

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = iot_sas::ConnectionString::parse(text) else {
        return;
    };
    let formatted = parsed.to_string();
    assert_eq!(formatted.len(), text.len(), "formatting changed the length");
    let again = iot_sas::ConnectionString::parse(&formatted).expect("formatted string must parse");
    assert_eq!(again, parsed);
    assert_eq!(again.to_string(), formatted);
    let _ = parsed.resource().to_string();
    if let Some((key, _)) = parsed.key() {
        assert!(iot_sas::SharedAccessKey::from_base64(key).is_ok());
        assert!(
            format!("{parsed:?}").contains("<redacted>"),
            "Debug must redact the key"
        );
    }
}
