//! Regression tests for the hardening of issue 12, named after the rule each one pins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_sas::{Error, ResourceUri, Scope, SharedAccessKey, Verifier};

/// The plain-text scope rules under their former names, through the one entry point.
fn resource_matches(sr: &str, plain: &str) -> bool {
    Scope::NamesText(plain).admits(sr)
}

/// See `resource_matches`.
fn resource_covers(sr: &str, plain: &str) -> bool {
    Scope::CoversText(plain).admits(sr)
}

const HOST: &str = "myiothub.azure-devices.net";
const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";

/// `sr` is percent-decoded once. A token for the device `%64ev1` (a legal ID: `%` is a device-ID
/// character, reference §4) has the `sr` segment `%2564ev1`; decoded once that is `%64ev1`, which
/// is not `dev1`. Decoding a second time would turn it into `dev1` and let a policy token for
/// one device cover another.
#[test]
fn sr_is_decoded_exactly_once() {
    for (token_for, other) in [("%64ev1", "dev1"), ("x%41", "xA"), ("a%2Fb", "a/b")] {
        let sr = ResourceUri::Device {
            host: HOST,
            device_id: token_for,
        }
        .to_string();
        let own = format!("{HOST}/devices/{token_for}");
        let foreign = format!("{HOST}/devices/{other}");
        assert!(resource_matches(&sr, &own), "{sr} names {own}");
        assert!(resource_covers(&sr, &own), "{sr} covers {own}");
        assert!(
            !resource_matches(&sr, &foreign),
            "{sr} must not name {foreign}"
        );
        assert!(
            !resource_covers(&sr, &foreign),
            "{sr} must not cover {foreign}"
        );
        // A devices-scoped resource below the foreign device (policy tokens cover by prefix).
        let below = format!("{foreign}/modules/m1");
        assert!(!resource_covers(&sr, &below), "{sr} must not cover {below}");

        // The structured checks give the same answers (including their fast tiers).
        let foreign_uri = ResourceUri::Device {
            host: HOST,
            device_id: other,
        };
        assert!(!Scope::Names(foreign_uri).admits(&sr), "{sr}");
        assert!(!Scope::Covers(foreign_uri).admits(&sr), "{sr}");
        let own_uri = ResourceUri::Device {
            host: HOST,
            device_id: token_for,
        };
        assert!(
            Scope::Names(own_uri).admits(&sr) && Scope::Covers(own_uri).admits(&sr),
            "{sr}"
        );
    }
}

/// The same rule through the verifier (`iot sas verify --resource` runs exactly this): a valid
/// MAC does not make the token's scope cover another device.
#[test]
fn verifier_scope_is_decoded_exactly_once() {
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    let resource = ResourceUri::Device {
        host: HOST,
        device_id: "%64ev1",
    };
    let token = iot_sas::sign(&key, &resource, 1_578_941_692, Some("device")).unwrap();
    assert!(token.contains("sr=myiothub.azure-devices.net%2Fdevices%2F%2564ev1&"));
    let verifier = Verifier::new(key, None);
    let now = 1_578_941_000;
    assert!(
        verifier
            .verify_str(
                &token,
                Some("myiothub.azure-devices.net/devices/%64ev1"),
                now
            )
            .is_ok()
    );
    assert_eq!(
        verifier
            .verify_str(&token, Some("myiothub.azure-devices.net/devices/dev1"), now)
            .map(|v| v.key),
        Err(Error::ResourceMismatch { segment: 2 })
    );
}

/// The .NET spelling of IDs with reserved characters keeps working: csharp encodes the ID, then
/// the whole resource (reference §1.3), so `n@m.et#st` arrives as `n%2540m.et%2523st`. Decoded
/// once that is `n%40m.et%23st`: the ID percent-encoded, which is compared as such.
#[test]
fn dotnet_double_encoded_id_names_its_identity() {
    let sr = "myiothub.azure-devices.net%2Fdevices%2Fn%2540m.et%2523st";
    let plain = "myiothub.azure-devices.net/devices/n@m.et#st";
    assert!(resource_matches(sr, plain));
    assert!(resource_covers(sr, plain));
    let uri = ResourceUri::Device {
        host: HOST,
        device_id: "n@m.et#st",
    };
    assert!(Scope::Names(uri).admits(sr) && Scope::Covers(uri).admits(sr));
    // Lower-case hex at either level, and a module ID spelled the same way.
    assert!(resource_matches(
        "myiothub.azure-devices.net%2fdevices%2fn%2540m.et%2523st%2Fmodules%2Fm%2524",
        "myiothub.azure-devices.net/devices/n@m.et#st/modules/m$"
    ));
    assert!(resource_matches(
        "myiothub.azure-devices.net%2Fdevices%2Fn%2540m.et%2523st",
        "MYIOTHUB.azure-devices.net/devices/N@M.ET#ST"
    ));
    // .NET leaves `! * ( )` unescaped; other encoders escape them: both are encodings.
    assert!(resource_matches(
        "h%2Fdevices%2Fa(1)%2521",
        "h/devices/a(1)!"
    ));
    // Other IDs are not named by it.
    for other in ["n@m.et#s", "n@m.et#stx", "n%40m.et#st2", "nAm.et#st"] {
        let plain = format!("myiothub.azure-devices.net/devices/{other}");
        assert!(!resource_matches(sr, &plain), "{other}");
    }
}

/// The encoded comparison never treats an unreserved character, or a bare `%`, as encoded.
#[test]
fn only_reserved_characters_count_as_encoded() {
    // `%41` is `A` (unreserved): no encoder writes it, so `x%2541` does not name `xA`.
    assert!(!resource_matches("h/devices/x%2541", "h/devices/xA"));
    assert!(resource_matches("h/devices/x%2541", "h/devices/x%41"));
    // `%7E` is `~` (unreserved): only the literal counts at the second level.
    assert!(!resource_matches("h/devices/a%257E", "h/devices/a~"));
    assert!(resource_matches("h/devices/a%7E", "h/devices/a~"));
    // `%` of the ID is always `%25` in an encoded ID.
    assert!(resource_matches("h/devices/a%252541", "h/devices/a%41"));
    assert!(!resource_matches("h/devices/a%2540%zz", "h/devices/a@%zz"));
    assert!(resource_matches(
        "h/devices/a%2540%2525zz",
        "h/devices/a@%zz"
    ));
    // Truncated or malformed escapes at the second level name nothing but themselves.
    assert!(!resource_matches("h/devices/a%254", "h/devices/a@"));
    assert!(resource_matches("h/devices/a%254", "h/devices/a%4"));
}
