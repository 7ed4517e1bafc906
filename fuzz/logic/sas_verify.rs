// Fuzz logic for `iot_sas::Verifier` and `iot_sas::sign_into` (shared by cargo-fuzz and
// iot-sas/tests/fuzz_replay.rs).
//
// Input: `now` (8 bytes, big endian) then UTF-8 text split at the first `\n` into a token and a
// plain resource. A token that starts with 0x01 is signed here (fuzz/sas_reference.rs
// `sign_mode`; key 0 = primary, 1 = secondary), so mutated `sr` spellings keep a valid MAC.
//
// Oracles: fuzz/sas_reference.rs (the reference rules, not iot-sas): `sr` decoded exactly once,
// compared by path segment; the MAC recomputed over the raw `sr` and `se`.
//
// Invariants: never panics; a token with a MAC under either key, not expired and covering the
// resource literally once decoded is accepted; an accepted token has a MAC under the key slot it reports, is
// within `se + skew`, and its once-decoded `sr` covers the requested resource; every
// structured scope check (`Scope::Names` / `Scope::Covers`, and the plain-text
// `Scope::NamesText` / `Scope::CoversText`) accepts at least what the once-decoded `sr` names
// literally and at most what the reference accepts; a token we sign for ANY plain resource
// verifies against that resource (unless the resource has no non-empty segment).

#[allow(dead_code)]
mod sas_reference {
    include!("../sas_reference.rs");
}

/// Base64 of the primary and secondary keys.
const KEYS: [&str; 2] = [
    "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=",
    // b"secondary"
    "c2Vjb25kYXJ5",
];

/// Checks one scope answer against the reference: at least the literal once-decoded match, at
/// most the reference's (csharp re-encoded IDs included).
fn check_scope(answer: bool, sr: &str, plain: &str, exact: bool, what: &str) {
    let segments: Vec<&str> = plain.split('/').collect();
    if sas_reference::sr_covers_literally(sr, &segments, exact) {
        assert!(answer, "{what} refused sr {sr:?} for {plain:?}");
    }
    if answer {
        assert!(
            sas_reference::sr_covers(sr, &segments, exact),
            "{what} accepted sr {sr:?} for {plain:?}"
        );
    }
}

/// The verifier of the target: the two keys, 300 s of skew.
pub fn verifier() -> iot_sas::Verifier {
    let primary = iot_sas::SharedAccessKey::from_base64(KEYS[0]).expect("valid key");
    let secondary = iot_sas::SharedAccessKey::from_base64(KEYS[1]).expect("valid key");
    iot_sas::Verifier::new(primary, Some(secondary)).with_skew(300)
}

/// Splits one input into `now`, the token text (after sign mode) and the plain resource.
pub fn parse(data: &[u8]) -> Option<(u64, std::borrow::Cow<'_, str>, &str)> {
    let (now, rest) = data.split_first_chunk::<8>()?;
    let text = core::str::from_utf8(rest).ok()?;
    let (token_text, resource) = text.split_once('\n').unwrap_or((text, ""));
    let token_text = match sas_reference::sign_mode(token_text, &KEYS) {
        Some(signed) => std::borrow::Cow::Owned(signed),
        None => std::borrow::Cow::Borrowed(token_text),
    };
    Some((u64::from_be_bytes(*now), token_text, resource))
}

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_sas::{Error, KeySlot, ResourceUri, SasToken, SharedAccessKey};

    let Some((now, token_text, resource)) = parse(data) else {
        return;
    };
    let token_text = token_text.as_ref();
    let secondary = SharedAccessKey::from_base64(KEYS[1]).expect("valid key");
    let verifier = verifier();

    let requested = (!resource.is_empty()).then_some(resource);
    let result = verifier.verify_str(token_text, requested, now);
    // Must admit: a MAC under either key, `se + skew` not past, and an `sr` that covers the
    // resource once decoded, literally.
    if let Ok(token) = SasToken::parse(token_text)
        && KEYS
            .iter()
            .any(|key| sas_reference::signed_with(&token, key))
        && token.expiry().saturating_add(300) >= now
        && requested.is_none_or(|resource| {
            let segments: Vec<&str> = resource.split('/').collect();
            sas_reference::sr_covers_literally(token.resource_raw(), &segments, false)
        })
    {
        assert!(result.is_ok(), "refused a valid token: {result:?}");
    }
    if let Ok(verified) = result {
        let token = SasToken::parse(token_text).expect("verified tokens parse");
        let key = match verified.key {
            KeySlot::Primary => KEYS[0],
            KeySlot::Secondary => KEYS[1],
        };
        assert!(
            sas_reference::signed_with(&token, key),
            "MAC of another key"
        );
        assert_eq!(verified.expiry, token.expiry());
        assert_eq!(token.expiry_raw().parse::<u64>().ok(), Some(token.expiry()));
        assert!(token.expiry().saturating_add(300) >= now);
        if let Some(resource) = requested {
            let segments: Vec<&str> = resource.split('/').collect();
            let sr = token.resource_raw();
            assert!(
                sas_reference::sr_covers(sr, &segments, false),
                "accepted sr {sr:?} for {resource:?}"
            );
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
    // Every scope check agrees with the reference, for a device and for a module resource.
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
            check_scope(iot_sas::Scope::Names(uri).admits(sr), sr, &plain, true, "Scope::Names");
            check_scope(iot_sas::Scope::Covers(uri).admits(sr), sr, &plain, false, "Scope::Covers");
            let matches = iot_sas::Scope::NamesText(&plain).admits(sr);
            check_scope(matches, sr, &plain, true, "Scope::NamesText");
            let covers = iot_sas::Scope::CoversText(&plain).admits(sr);
            check_scope(covers, sr, &plain, false, "Scope::CoversText");
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
