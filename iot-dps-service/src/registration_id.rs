//! Registration ID and enrollment group ID rules (reference
//! ../shared/reference/azure-iot-protocol.md §4). IoT Hub device IDs (an enrollment's
//! `deviceId`) follow iot-hub-auth's rule, [`iot_hub_auth::validate_device_id`].

use crate::Error;

/// Longest registration ID / enrollment group ID (§4).
pub const MAX_REGISTRATION_ID_LEN: usize = 128;
/// Longest registration ID taken from an X.509 leaf CN (§4, §7.5: X.509 caps CN at 64).
pub const MAX_X509_REGISTRATION_ID_LEN: usize = 64;

/// Checks a DPS registration ID or enrollment group ID: 1..=128 characters, ASCII
/// alphanumerics plus `- . _ :`, last character alphanumeric or `-` (§4, DOC concepts-service).
///
/// # Errors
/// [`Error::InvalidId`] naming the broken rule.
pub fn validate_registration_id(id: &str) -> Result<(), Error> {
    let fail = |reason: &'static str| {
        Err(Error::InvalidId {
            kind: "registration",
            id: clip(id),
            reason,
        })
    };
    if id.is_empty() {
        return fail("empty");
    }
    if id.len() > MAX_REGISTRATION_ID_LEN {
        return fail("longer than 128 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
    {
        return fail("only ASCII letters, digits and - . _ : are allowed");
    }
    match id.bytes().last() {
        Some(b) if b.is_ascii_alphanumeric() || b == b'-' => Ok(()),
        _ => fail("must end with a letter, a digit or -"),
    }
}

/// Registration IDs are case-insensitive (§4): the key used for lookups.
pub(crate) fn fold(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// Keeps error messages bounded for hostile input.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(MAX_REGISTRATION_ID_LEN + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_ids_follow_the_docs() {
        for ok in [
            "a",
            "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
            "My.Device_1:x-",
            "0",
        ] {
            assert_eq!(validate_registration_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "ends-with-dot.", "ends_", "sp ace", "slash/x", "ümlaut"] {
            assert!(validate_registration_id(bad).is_err(), "{bad}");
        }
        assert!(validate_registration_id(&"a".repeat(128)).is_ok());
        assert!(validate_registration_id(&"a".repeat(129)).is_err());
    }
}
