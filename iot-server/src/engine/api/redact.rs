//! What an API report must not carry: the caller's own SAS signature (DESIGN: never log a full
//! signature). A report echoes caller text (the Host, the resource, an ID from the body inside
//! the reason), and a caller can put its token anywhere in its request; the report builder has
//! the request's `Authorization`, so it removes each signature of it from every text field,
//! whichever field carried it.

use iot_sas::percent_decode;

/// What a removed signature becomes.
const REDACTED: &str = "<redacted>";

/// Each `sig` value of `authorization` (any case of `sig=`, up to the next `&`) that can be a
/// MAC, as sent and (when different and UTF-8) percent-decoded once. A SAS `sig` is the base64
/// of an HMAC-SHA256: 32 bytes, 44 characters ending in `=` after percent-decoding (reference
/// azure-iot-protocol.md §1.1; the iot-sas README, "Parsing rules"). Any other value can never
/// verify, so it is left alone (removing a short text everywhere would garble the report).
pub(super) fn signatures(authorization: Option<&str>) -> Vec<String> {
    let Some(text) = authorization else {
        return Vec::new();
    };
    // ASCII lowercasing keeps byte offsets, so the offsets found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for (at, key) in lower.match_indices("sig=") {
        let rest = text.get(at + key.len()..).unwrap_or_default();
        let raw = rest.split('&').next().unwrap_or_default();
        let decoded: Vec<u8> = percent_decode(raw).collect();
        if decoded.len() != 44 || decoded.last() != Some(&b'=') {
            continue;
        }
        match String::from_utf8(decoded) {
            Ok(decoded) if decoded != raw => found.push(decoded),
            _ => {}
        }
        found.push(raw.to_owned());
    }
    found
}

/// `text` without any of `secrets`. Each replacement makes the text shorter (a secret is at
/// least 44 bytes, [`REDACTED`] 10), so the loop that also catches an occurrence formed across
/// a replacement ends.
pub(super) fn scrub(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        while text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "XD1ExZjpYocMOKJ2apsugtL7PCNXKNKrm3RMsjvtgY8%3D";

    #[test]
    fn only_mac_shaped_signatures_are_secret() {
        let token = format!("SharedAccessSignature sr=x&sig={SIG}&se=1");
        let decoded = SIG.replace("%3D", "=");
        assert_eq!(signatures(Some(&token)), [decoded, SIG.to_owned()]);
        assert_eq!(signatures(Some(&format!("SIG={SIG}"))).len(), 2);
        assert!(signatures(Some("SharedAccessSignature sr=x&sig=short&se=1")).is_empty());
        assert!(signatures(Some(&format!("sig={SIG}x"))).is_empty());
        assert!(signatures(None).is_empty());
    }

    #[test]
    fn scrub_removes_every_occurrence_even_one_formed_by_a_replacement() {
        let secrets = signatures(Some(&format!("sig={SIG}")));
        let text = format!("id '{SIG}' and {}", SIG.replace("%3D", "="));
        assert_eq!(scrub(text, &secrets), "id '<redacted>' and <redacted>");
        let nested = format!("<redacted>{}", "A".repeat(33)) + "=";
        let secrets = vec![nested.clone()];
        let text = format!("<redacted>{}", nested.replacen("<redacted>", &nested, 1));
        assert!(!scrub(text, &secrets).contains(&nested));
    }
}
