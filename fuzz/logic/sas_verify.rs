// Fuzz logic for `iot_sas::Verifier` and `iot_sas::sign_into` (shared by cargo-fuzz and
// iot-sas/tests/fuzz_replay.rs).
//
// Input: `now` (8 bytes, big endian) then UTF-8 text split at the first `\n` into a token and a
// plain resource. Invariants: never panics; an accepted token really has a matching MAC, is
// within `se + skew`, and covers the resource; the structured scope checks
// (`ResourceUri::is_named_by` / `is_covered_by`, with their SDK-spelling shortcut) answer
// exactly as the plain-text rules for the token's `sr`; a token we sign for ANY plain resource
// verifies against that resource (unless the resource has no non-empty segment).

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_sas::{Error, KeySlot, ResourceUri, SasToken, SharedAccessKey, Verifier};

    let Some((now, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let now = u64::from_be_bytes(*now);
    let Ok(text) = core::str::from_utf8(rest) else {
        return;
    };
    let (token_text, resource) = text.split_once('\n').unwrap_or((text, ""));
    let primary = SharedAccessKey::from_base64("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=")
        .expect("valid key");
    let secondary = SharedAccessKey::from_bytes(b"secondary").expect("valid key");
    let verifier = Verifier::new(primary.clone(), Some(secondary.clone())).with_skew(300);

    let requested = (!resource.is_empty()).then_some(resource);
    if let Ok(verified) = verifier.verify_str(token_text, requested, now) {
        let token = SasToken::parse(token_text).expect("verified tokens parse");
        let key = match verified.key {
            KeySlot::Primary => &primary,
            KeySlot::Secondary => &secondary,
        };
        assert_eq!(token.verify_signature(key), Ok(()));
        assert_eq!(verified.expiry, token.expiry());
        assert!(token.expiry().saturating_add(300) >= now);
        if let Some(resource) = requested {
            assert!(iot_sas::resource_covers(token.resource_raw(), resource));
        }
    }

    // Sign-then-verify round trip over an arbitrary resource.
    if resource.is_empty() {
        return;
    }
    let (host, device_id) = resource.split_once('/').unwrap_or((resource, "d"));
    let uri = ResourceUri::Device { host, device_id };
    let mut plain = String::new();
    uri.write_plain(&mut plain).expect("write to String");
    // Structured and plain-text scope rules agree, for a device and for a module resource.
    let module_uri = device_id
        .split_once('/')
        .map(|(device_id, module_id)| ResourceUri::Module {
            host,
            device_id,
            module_id,
        });
    if let Ok(token) = SasToken::parse(token_text) {
        let sr = token.resource_raw();
        for uri in core::iter::once(uri).chain(module_uri) {
            let mut plain = String::new();
            uri.write_plain(&mut plain).expect("write to String");
            assert_eq!(uri.is_named_by(sr), iot_sas::resource_matches(sr, &plain));
            assert_eq!(uri.is_covered_by(sr), iot_sas::resource_covers(sr, &plain));
        }
    }
    let mut buf = vec![0u8; iot_sas::max_token_len(&uri, Some("device"))];
    let signed = match iot_sas::sign_into(&secondary, &uri, now, Some("device"), &mut buf) {
        Ok(signed) => signed.to_owned(),
        Err(Error::TokenTooLong { .. }) => return,
        Err(err) => panic!("signing failed: {err:?}"),
    };
    let has_segment = plain.split('/').any(|s| !s.is_empty());
    match verifier.verify_str(&signed, Some(&plain), now) {
        Ok(verified) => assert_eq!(verified.key, KeySlot::Secondary),
        Err(Error::ResourceMismatch { .. }) if !has_segment => {}
        Err(err) => panic!("own token rejected: {err:?} for {plain:?}"),
    }
}
