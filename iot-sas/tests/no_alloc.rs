//! Proves that parse + verify performs zero heap allocations (DESIGN.md principle 5): a
//! counting global allocator (`stats_alloc`, so no `unsafe` here) wraps the system allocator
//! and the hot path runs between two readings of its counters. Signing into a caller buffer,
//! key derivation, resource matching and connection-string parsing are checked too.
//!
//! The counters are process-wide, so everything runs in ONE test function: no other test
//! thread of this binary can allocate meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::alloc::System;

use iot_sas::{
    ConnectionString, KeySlot, MacKey, ResourceUri, SasToken, Scope, SharedAccessKey, Verifier,
    derive_device_key, derive_device_mac_key, sign_into,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

/// The plain-text scope rules under their former names, through the one entry point.
fn resource_matches(sr: &str, plain: &str) -> bool {
    Scope::NamesText(plain).admits(sr)
}

/// See `resource_matches`.
fn resource_covers(sr: &str, plain: &str) -> bool {
    Scope::CoversText(plain).admits(sr)
}

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap allocations (including reallocations) made while `f` runs: the fewest of three runs.
/// The counters are process-wide, and the test harness's own thread can allocate at any
/// moment (seen under heavy machine load); an allocation on the measured path is
/// deterministic and shows in every run, so the minimum still catches it.
fn allocations_during<T>(mut f: impl FnMut() -> T) -> (usize, T) {
    let mut fewest = usize::MAX;
    let mut result = None;
    for _ in 0..3 {
        let region = Region::new(GLOBAL);
        let value = std::hint::black_box(f());
        let stats = region.change();
        fewest = fewest.min(stats.allocations + stats.reallocations);
        result = Some(value);
    }
    (fewest, result.expect("three runs"))
}

/// reference §1.8, complete vector row 1.
const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";

#[test]
fn hot_paths_allocate_nothing() {
    // The counter works: a Vec allocates.
    let (count, v) = allocations_during(|| vec![1u8; 16]);
    assert!(
        count >= 1,
        "the counting allocator must observe a Vec allocation"
    );
    drop(v);

    // parse + verify, with the match on the secondary key (both MACs computed).
    let primary = SharedAccessKey::from_bytes(b"not the key").unwrap();
    let secondary = SharedAccessKey::from_base64(KEY).unwrap();
    let verifier = Verifier::new(primary, Some(secondary));
    let (count, result) = allocations_during(|| {
        let token = SasToken::parse(TOKEN)?;
        verifier.verify(
            &token,
            Some("myiothub.azure-devices.net/devices/my_device"),
            1_578_941_000,
        )
    });
    assert_eq!(result.unwrap().key, KeySlot::Secondary);
    assert_eq!(count, 0, "parse + verify allocated");

    // Every kind of rejection.
    let verifier = Verifier::new(SharedAccessKey::from_base64(KEY).unwrap(), None);
    let (count, all_rejected) = allocations_during(|| {
        let results = [
            verifier.verify_str(TOKEN, Some("myiothub.azure-devices.net/devices/other"), 0),
            verifier.verify_str(TOKEN, None, u64::MAX),
            verifier.verify_str(&TOKEN[..60], None, 0),
            verifier.verify_str("SharedAccessSignature sr=a&sig=b&se=01", None, 0),
            Verifier::new(SharedAccessKey::from_bytes(b"x").unwrap(), None)
                .verify_str(TOKEN, None, 0),
        ];
        results.iter().all(Result::is_err)
    });
    assert!(all_rejected);
    assert_eq!(count, 0, "rejections allocated");

    // Signing into a caller buffer, derivation, resource matching, connection strings.
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    let mut buf = [0u8; 256];
    let (count, ok) = allocations_during(|| {
        let r = ResourceUri::Device {
            host: "myiothub.azure-devices.net",
            device_id: "my_device",
        };
        let signed = sign_into(&key, &r, 1_578_941_692, None, &mut buf).map(|t| t == TOKEN);
        let derived = derive_device_key(&key, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6");
        let covers = resource_covers("hub%2Fdevices%2Fdev%2523x", "hub/devices/dev#x");
        let cs = ConnectionString::parse("HostName=h;DeviceId=d;x509=true").is_ok();
        signed == Ok(true) && derived.len() == 32 && covers && cs
    });
    assert!(ok);
    assert_eq!(
        count, 0,
        "signing, derivation, resource matching or connection strings allocated"
    );

    // The compact MacKey paths: construction, verification, Verifier from MacKeys, derivation.
    let (count, ok) = allocations_during(|| {
        let mac = MacKey::from_base64(KEY).unwrap();
        let token = SasToken::parse(TOKEN).unwrap();
        let direct = mac.verify(&token).is_ok();
        let verifier = Verifier::from_mac_keys(MacKey::from_bytes(b"x").unwrap(), Some(mac));
        let slot = verifier.verify(
            &token,
            Some("myiothub.azure-devices.net/devices/my_device"),
            1_578_941_000,
        );
        let from_shared = SharedAccessKey::from_base64(KEY).unwrap().mac_key();
        let group = MacKey::from_bytes(&[7; 64]).unwrap();
        let derived = derive_device_mac_key(&group, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6");
        let refused = derived.verify(&token).is_err();
        let exact = resource_matches(
            "MyIotHub.azure-devices.net%2fdevices%2Fmy_device",
            "myiothub.azure-devices.net/devices/my_device",
        );
        direct
            && slot.map(|v| v.key) == Ok(KeySlot::Secondary)
            && from_shared.verify(&token).is_ok()
            && refused
            && exact
    });
    assert!(ok);
    assert_eq!(count, 0, "MacKey paths allocated");
}
