//! Token verification: the one order of checks ([`check_token`]) and a [`Verifier`] with
//! pre-keyed primary and secondary keys (reference §1.4).

use crate::resource::first_difference;
use crate::{Error, KeySlot, MacKey, SasToken, Scope, SharedAccessKey};

/// Default clock skew in seconds, the one default of every token check in the workspace (hub
/// settings, DPS, the CLI): 5 minutes, csharp `SharedAccessSignatureConstants.MaxClockSkew` as
/// used by EdgeHub (reference §1.4.4). The services' own tolerance is not published (§10.1).
pub const DEFAULT_SKEW_SECS: u64 = 300;

/// The check of [`check_token`] that refused a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRefused<E> {
    /// Step 1: no key signed the token; the caller's own answer (which keys were tried).
    Signature(E),
    /// Step 2: `se` is past, even with the skew ([`Error::Expired`]).
    Expired(Error),
    /// Step 3: the decoded `sr` does not admit the resource.
    OutOfScope,
}

/// Checks a parsed token in the one order every token check of the workspace uses (the hub's
/// device, module and service tokens, DPS registrations and [`Verifier`]):
///
/// 1. **MAC** (reference §1.4 rules 1-3): `signed_by` finds the key that signed the token
///    (primary before secondary, [`KeySlot::that_signed`]) or says why none did;
/// 2. **expiry** (§1.4.4): refused when `se + skew_secs < now`;
/// 3. **scope** (§1.4.5, §1.4.6): when given, `scope` must [admit](Scope::admits) the
///    token's raw `sr`.
///
/// Why this order: the MAC comes first so that a token nobody signed learns nothing from the
/// other checks, not whether it would have been in time nor which resource was expected; it is
/// also §1.4's order. Expiry before scope: it is a compare of two integers, while the scope
/// decodes `sr`. Every step runs for a token that is accepted, so the order costs nothing on
/// the accepting path. Checks that are not about the token (identity status, policy rights,
/// the `disable*SAS` switches, DPS's `skn`) are the caller's, before this.
///
/// ```
/// use iot_sas::{KeySlot, ResourceUri, SasToken, Scope, SharedAccessKey, TokenRefused};
///
/// let key = SharedAccessKey::from_bytes(b"0123456789abcdef").unwrap();
/// let dev1 = ResourceUri::Device { host: "hub.net", device_id: "dev1" };
/// let text = iot_sas::sign(&key, &dev1, 1_000, None).unwrap();
/// let token = SasToken::parse(&text).unwrap();
/// let mac = key.mac_key();
/// let signed_by = |t: &SasToken<'_>| mac.verify(t).map(|()| KeySlot::Primary);
/// assert_eq!(
///     iot_sas::check_token(&token, signed_by, 900, 0, Some(Scope::Names(dev1))),
///     Ok(KeySlot::Primary)
/// );
/// assert!(matches!(
///     iot_sas::check_token(&token, signed_by, 1_001, 0, Some(Scope::Names(dev1))),
///     Err(TokenRefused::Expired(_))
/// ));
/// let other = ResourceUri::Device { host: "hub.net", device_id: "dev2" };
/// assert_eq!(
///     iot_sas::check_token(&token, signed_by, 900, 0, Some(Scope::Names(other))),
///     Err(TokenRefused::OutOfScope)
/// );
/// ```
///
/// # Errors
///
/// The first check that refuses, as a [`TokenRefused`].
#[inline]
pub fn check_token<K, E>(
    token: &SasToken<'_>,
    signed_by: impl FnOnce(&SasToken<'_>) -> Result<K, E>,
    now: u64,
    skew_secs: u64,
    scope: Option<Scope<'_>>,
) -> Result<K, TokenRefused<E>> {
    let key = signed_by(token).map_err(TokenRefused::Signature)?;
    token
        .check_expiry(now, skew_secs)
        .map_err(TokenRefused::Expired)?;
    if scope.is_some_and(|scope| !scope.admits(token.resource_raw())) {
        return Err(TokenRefused::OutOfScope);
    }
    Ok(key)
}

/// A successful verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verified {
    /// The key that matched.
    pub key: KeySlot,
    /// The token's expiry in Unix seconds (for scheduling disconnects or renewals).
    pub expiry: u64,
}

/// Verifies tokens against a primary and an optional secondary key, allocation-free.
///
/// Both keys are kept as compact pre-keyed HMAC-SHA256 states ([`MacKey`], no key bytes),
/// cloned per token, so a verifier per identity stays small even for a million identities.
/// The checks run in the order of [`check_token`]: MAC with the primary, then the secondary
/// key ([`Error::SignatureMismatch`]), expiry ([`Error::Expired`]), and, if a resource is
/// given, [`Scope::CoversText`] ([`Error::ResourceMismatch`]).
#[derive(Clone, Debug)]
pub struct Verifier {
    primary: MacKey,
    secondary: Option<MacKey>,
    skew_secs: u64,
}

impl Verifier {
    /// A verifier with the default skew ([`DEFAULT_SKEW_SECS`]). Only the keys' pre-keyed
    /// states are kept ([`SharedAccessKey::mac_key`]); the key bytes are wiped with `primary`
    /// and `secondary`.
    pub fn new(primary: SharedAccessKey, secondary: Option<SharedAccessKey>) -> Self {
        Self::from_mac_keys(primary.mac_key(), secondary.map(MacKey::from))
    }

    /// A verifier from already pre-keyed keys, with the default skew ([`DEFAULT_SKEW_SECS`]).
    pub fn from_mac_keys(primary: MacKey, secondary: Option<MacKey>) -> Self {
        Self {
            primary,
            secondary,
            skew_secs: DEFAULT_SKEW_SECS,
        }
    }

    /// Sets the tolerated clock skew in seconds (0 = refuse as soon as `now > se`).
    #[must_use]
    pub fn with_skew(mut self, skew_secs: u64) -> Self {
        self.skew_secs = skew_secs;
        self
    }

    /// The tolerated clock skew in seconds.
    pub fn skew_secs(&self) -> u64 {
        self.skew_secs
    }

    /// Verifies an already parsed token at time `now` (Unix seconds) and, when `resource` is
    /// given, checks that the token covers that plain resource (e.g.
    /// `myhub.azure-devices.net/devices/dev1`).
    ///
    /// # Errors
    ///
    /// [`Error::SignatureMismatch`], [`Error::Expired`] or [`Error::ResourceMismatch`].
    pub fn verify(
        &self,
        token: &SasToken<'_>,
        resource: Option<&str>,
        now: u64,
    ) -> Result<Verified, Error> {
        let key = check_token(
            token,
            |token| self.verify_signature(token),
            now,
            self.skew_secs,
            resource.map(Scope::CoversText),
        )
        .map_err(|refused| match refused {
            TokenRefused::Signature(error) | TokenRefused::Expired(error) => error,
            TokenRefused::OutOfScope => Error::ResourceMismatch {
                // `CoversText` refused, so the segment rule finds a difference.
                segment: resource
                    .and_then(|plain| first_difference(token.resource_raw(), plain))
                    .unwrap_or_default(),
            },
        })?;
        Ok(Verified {
            key,
            expiry: token.expiry(),
        })
    }

    /// Only step 1: which key produced the token's MAC, primary first, then secondary
    /// (reference §1.4.1-3). For callers that order the other checks themselves.
    ///
    /// # Errors
    ///
    /// [`Error::SignatureMismatch`].
    pub fn verify_signature(&self, token: &SasToken<'_>) -> Result<KeySlot, Error> {
        KeySlot::that_signed(token, &self.primary, self.secondary.as_ref())
            .ok_or(Error::SignatureMismatch)
    }

    /// Parses `text` and verifies it: [`SasToken::parse`] then [`verify`](Self::verify).
    ///
    /// # Errors
    ///
    /// Any parse error, then as [`verify`](Self::verify).
    pub fn verify_str(
        &self,
        text: &str,
        resource: Option<&str>,
        now: u64,
    ) -> Result<Verified, Error> {
        // Borrowed, not moved out with `?`: see "Store forwarding" in benches/benches/sas.rs.
        match &SasToken::parse(text) {
            Ok(token) => self.verify(token, resource, now),
            Err(error) => Err(error.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const SE: u64 = 1_578_941_692;
    const DEVICE: &str = "myiothub.azure-devices.net/devices/my_device";

    fn v1() -> SharedAccessKey {
        SharedAccessKey::from_base64(V1_KEY).unwrap()
    }

    fn other() -> SharedAccessKey {
        SharedAccessKey::from_bytes(b"some other key").unwrap()
    }

    /// A token from the complete vectors of reference §1.8 (key V1, `se` 1578941692): the `sr`
    /// spelling and the base64 `sig` are copied from the table.
    fn vector(sr: &str, sig_base64: &str) -> std::string::String {
        let sig = sig_base64
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        std::format!("SharedAccessSignature sr={sr}&sig={sig}&se={SE}")
    }

    fn verify(text: &str, resource: &str) -> Result<Verified, Error> {
        Verifier::new(v1(), None).verify_str(text, Some(resource), SE)
    }

    const OK: Result<Verified, Error> = Ok(Verified {
        key: KeySlot::Primary,
        expiry: SE,
    });

    #[test]
    fn spelling_rfc3986_upper_case() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        assert_eq!(verify(&t, DEVICE), OK);
    }

    #[test]
    fn spelling_module() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device%2Fmodules%2Fmy_module",
            "iAQRxkGTvQpFKsLRYZsj0xf8UcgKBbNZhWDb5pCSK9o=",
        );
        assert_eq!(
            verify(
                &t,
                "myiothub.azure-devices.net/devices/my_device/modules/my_module"
            ),
            OK
        );
        assert_eq!(
            verify(&t, DEVICE),
            Err(Error::ResourceMismatch { segment: 3 })
        );
    }

    #[test]
    fn spelling_raw_slashes_iot_sdk_c() {
        let t = vector(
            "myiothub.azure-devices.net/devices/my_device",
            "B7zGUtyWMtt6IhHOU+a6GCOSMwkpkTgAXFFGABDd88M=",
        );
        assert_eq!(verify(&t, DEVICE), OK);
    }

    #[test]
    fn spelling_lower_case_escapes() {
        let t = vector(
            "myiothub.azure-devices.net%2fdevices%2fmy_device",
            "WO/69FPFL8u2esaf7RepSUhwEuBwuYgVlqGlOzRLmS0=",
        );
        assert_eq!(verify(&t, DEVICE), OK);
    }

    #[test]
    fn spelling_lower_cased_audience_identity_service() {
        // The §1.8 vector's sr is already all lower case; it must also open a mixed-case
        // request (identity-service lower-cases the audience, §1.3).
        let t = vector(
            "myiothub.azure-devices.net%2fdevices%2fmy_device",
            "WO/69FPFL8u2esaf7RepSUhwEuBwuYgVlqGlOzRLmS0=",
        );
        assert_eq!(
            verify(&t, "MyIotHub.Azure-Devices.net/devices/My_Device"),
            OK
        );
    }

    #[test]
    fn spelling_hub_service_policy() {
        let t = std::format!(
            "{}&skn=iothubowner",
            vector(
                "myiothub.azure-devices.net",
                "jNLd5fT1OOOh8Q3GOXfi+CbnqvMsE7+lpEsBASuS/KI="
            )
        );
        assert_eq!(verify(&t, DEVICE), OK);
        assert_eq!(verify(&t, "myiothub.azure-devices.net"), OK);
    }

    #[test]
    fn spelling_dps_upper_python() {
        let t = vector(
            "0neFEEDC0DE%2Fregistrations%2FmyRegistrationId",
            "/t1VzEUrQ62f+J+7chJSaFx3rh6pGwFWik1rI4kqc7E=",
        );
        assert_eq!(verify(&t, "0neFEEDC0DE/registrations/myRegistrationId"), OK);
    }

    #[test]
    fn spelling_dps_sdk_for_c_lower_separators() {
        let t = vector(
            "0neFEEDC0DE%2fregistrations%2fmyRegistrationId",
            "9ElmiQtRHaJo7RnzVGdIHFyBOY3rYMUQXVSzqaJhJ4s=",
        );
        assert_eq!(verify(&t, "0neFEEDC0DE/registrations/myRegistrationId"), OK);
    }

    #[test]
    fn spelling_dps_raw_node() {
        let t = vector(
            "0neFEEDC0DE/registrations/myRegistrationId",
            "ad+y+8CaG7/Llhlx9g+tidAW4jsUwb6AluSr0p0mxfk=",
        );
        assert_eq!(verify(&t, "0neFEEDC0DE/registrations/myRegistrationId"), OK);
        // registration IDs are case-insensitive in DPS (§4), and the audience compare is too
        assert_eq!(verify(&t, "0nefeedc0de/registrations/myregistrationid"), OK);
    }

    #[test]
    fn spelling_docs_v5_mixed_case_hub_token() {
        // reference §1.8 V5 (docs iot-dps-https-sym-key-support), an independent known answer.
        let key = SharedAccessKey::from_base64("18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==").unwrap();
        let t = "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026";
        assert_eq!(
            Verifier::new(key, None).verify_str(
                t,
                Some("myexamplehub.azure-devices.net/devices/my-symkey-device"),
                1_663_119_026
            ),
            Ok(Verified {
                key: KeySlot::Primary,
                expiry: 1_663_119_026
            })
        );
    }

    #[test]
    fn spelling_node_v2_and_v4_known_answers() {
        // reference §1.8 V2: key "password", message `uri\n12345`.
        let key = SharedAccessKey::from_base64("cGFzc3dvcmQ=").unwrap();
        let t = "SharedAccessSignature sr=uri&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&se=12345";
        assert_eq!(
            Verifier::new(key, None)
                .verify_str(t, Some("uri"), 12_345)
                .map(|v| v.key),
            Ok(KeySlot::Primary)
        );
        // V4: node decodes the text `key` leniently to bytes 91 EC; we take the bytes directly.
        let key = SharedAccessKey::from_bytes(&[0x91, 0xec]).unwrap();
        let t = "SharedAccessSignature sr=host%2Fdevices%2Fdevice&sig=wM3XiP6gD960IxP7J5WHqnxQHEcWC6YaQCtoMT%2BkKHc%3D&se=12345";
        assert_eq!(
            Verifier::new(key, None)
                .verify_str(t, Some("host/devices/device"), 12_345)
                .map(|v| v.key),
            Ok(KeySlot::Primary)
        );
    }

    /// Spellings without a published vector: the sig was computed independently with Python's
    /// standard library (key V1, se 1578941692):
    ///
    /// ```text
    /// python3 -c 'import hmac,hashlib,base64,sys; k=base64.b64decode("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=");
    ///   print(base64.b64encode(hmac.new(k,(sys.argv[1]+"\n1578941692").encode(),hashlib.sha256).digest()).decode())' SR
    /// ```
    #[test]
    fn spelling_dotnet_double_encoded_id() {
        // WebUtility.UrlEncode("myiothub.azure-devices.net/devices/" + UrlEncode("dev#1")), §1.3.
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fdev%25231",
            "vSpK3bRX5+7gVvRb9t3Rh/TmorksAIdeeNMX+ym98Cc=",
        );
        assert_eq!(verify(&t, "myiothub.azure-devices.net/devices/dev#1"), OK);
        assert_eq!(verify(&t, "myiothub.azure-devices.net/devices/dev%231"), OK);
        assert_eq!(
            verify(&t, "myiothub.azure-devices.net/devices/dev#2"),
            Err(Error::ResourceMismatch { segment: 2 })
        );
    }

    #[test]
    fn spelling_plus_for_space_quote_plus() {
        // python-service `quote_plus("myiothub.azure-devices.net/devices/a b")`, §1.3.
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fa+b",
            "yd+he08vNJ7Jgi89KiUisDyDyqrzT2jxVsbykJTqSf8=",
        );
        assert_eq!(verify(&t, "myiothub.azure-devices.net/devices/a b"), OK);
        assert_eq!(verify(&t, "myiothub.azure-devices.net/devices/a+b"), OK);
    }

    #[test]
    fn every_spelling_has_a_different_mac() {
        // reference §1.4.1: re-encoding sr before the MAC would break all but one spelling.
        let t = vector(
            "myiothub.azure-devices.net/devices/my_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        assert_eq!(verify(&t, DEVICE), Err(Error::SignatureMismatch));
    }

    #[test]
    fn verifier_is_compact_and_mac_keys_work_too() {
        let size = size_of::<Verifier>();
        assert!(size <= 2 * size_of::<MacKey>() + 16, "{size}");
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        let v = Verifier::from_mac_keys(other().mac_key(), Some(v1().mac_key()));
        assert_eq!(
            v.verify_str(&t, Some(DEVICE), SE),
            Ok(Verified {
                key: KeySlot::Secondary,
                expiry: SE
            })
        );
        let token = SasToken::parse(&t).unwrap();
        assert_eq!(v.verify_signature(&token), Ok(KeySlot::Secondary));
        let v = Verifier::from_mac_keys(other().mac_key(), None);
        assert_eq!(v.verify_signature(&token), Err(Error::SignatureMismatch));
        assert_eq!(
            std::format!("{v:?}"),
            "Verifier { primary: MacKey(<redacted>), secondary: None, skew_secs: 300 }"
        );
    }

    #[test]
    fn secondary_key_is_tried_after_primary() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        let v = Verifier::new(other(), Some(v1()));
        assert_eq!(
            v.verify_str(&t, None, SE),
            Ok(Verified {
                key: KeySlot::Secondary,
                expiry: SE
            })
        );
        let v = Verifier::new(v1(), Some(other()));
        assert_eq!(
            v.verify_str(&t, None, SE).map(|v| v.key),
            Ok(KeySlot::Primary)
        );
        let v = Verifier::new(other(), Some(other()));
        assert_eq!(v.verify_str(&t, None, SE), Err(Error::SignatureMismatch));
        let v = Verifier::new(other(), None);
        assert_eq!(v.verify_str(&t, None, SE), Err(Error::SignatureMismatch));
    }

    #[test]
    fn expiry_uses_configurable_skew() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        let v = Verifier::new(v1(), None);
        assert_eq!(v.skew_secs(), 300);
        assert!(v.verify_str(&t, None, SE + 300).is_ok());
        assert_eq!(
            v.verify_str(&t, None, SE + 301),
            Err(Error::Expired {
                expiry: SE,
                now: SE + 301
            })
        );
        let strict = Verifier::new(v1(), None).with_skew(0);
        assert!(strict.verify_str(&t, None, SE).is_ok());
        assert_eq!(
            strict.verify_str(&t, None, SE + 1),
            Err(Error::Expired {
                expiry: SE,
                now: SE + 1
            })
        );
    }

    #[test]
    fn signature_is_checked_before_expiry_and_resource() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        let v = Verifier::new(other(), None);
        assert_eq!(
            v.verify_str(&t, Some("elsewhere"), u64::MAX),
            Err(Error::SignatureMismatch)
        );
        let v = Verifier::new(v1(), None);
        assert!(matches!(
            v.verify_str(&t, Some("elsewhere"), u64::MAX),
            Err(Error::Expired { .. })
        ));
    }

    #[test]
    fn resource_prefix_by_segment() {
        let t = vector(
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device",
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU=",
        );
        assert_eq!(
            verify(
                &t,
                "myiothub.azure-devices.net/devices/my_device/modules/m1"
            ),
            OK
        );
        assert_eq!(
            verify(&t, "myiothub.azure-devices.net/devices/my_device10"),
            Err(Error::ResourceMismatch { segment: 2 })
        );
        assert_eq!(
            verify(&t, "otherhub.azure-devices.net/devices/my_device"),
            Err(Error::ResourceMismatch { segment: 0 })
        );
        assert_eq!(
            verify(&t, "myiothub.azure-devices.net/devices"),
            Err(Error::ResourceMismatch { segment: 2 })
        );
    }
}
