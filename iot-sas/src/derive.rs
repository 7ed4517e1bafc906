//! Group-enrollment derived device keys (reference §3).

use core::convert::Infallible;

use zeroize::Zeroize as _;

use crate::{MacKey, SharedAccessKey, Signature, Signer};

/// The device key DPS expects from a device of a symmetric-key enrollment group:
/// `HMAC-SHA256(key = group key bytes, data = registration ID bytes)` (reference §3).
///
/// The registration ID is used exactly as given: no case folding, no encoding, no trailing
/// newline (pitfall §11.6). The group's primary or secondary key may be used, as a
/// [`SharedAccessKey`] or a [`MacKey`]. The result is itself a 32-byte [`SharedAccessKey`]:
/// sign the DPS token with it directly, and after assignment the device's IoT Hub tokens too.
/// Its base64 text ([`SharedAccessKey::encode_base64`]) is what SDK samples print. To only
/// verify with the derived key, [`derive_device_mac_key`] skips the key-bytes buffer.
pub fn derive_device_key<K>(group_key: &K, registration_id: &str) -> SharedAccessKey
where
    K: Signer<Error = Infallible> + ?Sized,
{
    let mut derived = derive(group_key, registration_id);
    let key = SharedAccessKey::from_mac_output(&derived.0);
    derived.0.zeroize();
    key
}

/// The same derived device key as [`derive_device_key`] (reference §3), pre-keyed as a compact
/// [`MacKey`] for verification (the DPS registration hot path): no 512-byte key buffer, and
/// the 32 intermediate key bytes are wiped.
pub fn derive_device_mac_key(group_key: &MacKey, registration_id: &str) -> MacKey {
    let mut derived = derive(group_key, registration_id);
    let key = MacKey::prekeyed(&derived.0);
    derived.0.zeroize();
    key
}

fn derive<K: Signer<Error = Infallible> + ?Sized>(
    group_key: &K,
    registration_id: &str,
) -> Signature {
    match group_key.sign(&[registration_id.as_bytes()]) {
        Ok(signature) => signature,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(group: &str, id: &str) -> std::string::String {
        let group = SharedAccessKey::from_base64(group).unwrap();
        std::string::String::from(
            derive_device_key(&group, id)
                .encode_base64(&mut [0; 44])
                .unwrap(),
        )
    }

    #[test]
    fn docs_vector_how_to_legacy_device_symm_key() {
        assert_eq!(
            derived(
                "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
                "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
            ),
            "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="
        );
    }

    #[test]
    fn az_cli_tpm_endorsement_key_vector_longer_than_a_block() {
        // Azure/azure-iot-cli-extension azext_iot/tests/dps/__init__.py, 316-byte key (§3).
        let group = "AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEAibym9HQP9vxCGF5dVc1QQsAGe021aUGJzNol1/gycBx3jFsTpwmWbISRwnFvflWd0w2Mc44FAAZNaJOAAxwZvG8GvyLlHh6fGKdh+mSBL4iLH2bZ4Ry22cB3CJVjXmdGoz9Y/j3/NwLndBxQC+baNvzvyVQZ4/A2YL7vzIIj2ik4y+ve9ir7U0GbNdnxskqK1KFIITVVtkTIYyyFTIR0BySjPrRIDj7r7Mh5uF9HBppGKQCBoVSVV8dI91lNazmSdpGWyqCkO7iM4VvUMv2HT/ym53aYlUrau+Qq87Tu+uQipWYgRdF11KDfcpMHqqzBQQ1NpOJVhrsTrhyJzO7KNw==";
        assert_eq!(SharedAccessKey::from_base64(group).unwrap().len(), 316);
        assert_eq!(
            derived(group, "myarbitrarydeviceId"),
            "cT/EXZvsplPEpT//p98Pc6sKh8mY3kYgSxavHwMkl7w="
        );
    }

    #[test]
    fn mac_key_derivation_gives_the_same_key() {
        let group = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
        let id = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
        let shared = SharedAccessKey::from_base64(group).unwrap();
        let mac = MacKey::from_base64(group).unwrap();
        let expected = derive_device_key(&shared, id);
        assert_eq!(derive_device_key(&mac, id), expected);
        let msg: [&[u8]; 3] = [b"sr", b"\n", b"1"];
        assert_eq!(
            derive_device_mac_key(&mac, id).sign(&msg),
            expected.mac_key().sign(&msg)
        );
        assert_ne!(
            derive_device_mac_key(&mac, "other").sign(&msg),
            expected.mac_key().sign(&msg)
        );
    }

    #[test]
    fn registration_id_is_not_case_folded() {
        let group = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
        assert_ne!(
            derived(group, "SN-007-888-ABC-MAC-A1-B2-C3-D4-E5-F6"),
            "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="
        );
    }
}
