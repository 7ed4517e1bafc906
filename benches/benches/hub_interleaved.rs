//! Load-robust ratio for iot-hub-auth's connect decision, and where its time goes.
//!
//! Each line alternates rounds of one of our steps with rounds of the bare pre-keyed
//! HMAC-SHA256 of the same string to sign (see `iot_benches::pair`), so both see the same load
//! on a shared machine. The first line is the number: a full MQTT SAS connect decision
//! against 1,000,000 identities vs the bare HMAC (goal <= 2x); the second is the same decision
//! over HTTPS (the device ID comes from the path, so there is no user name to check); the
//! others split it into the token parse, the registry lookup, the MAC check and the resource
//! check. Run:
//! `cargo bench -p iot-benches --bench hub_interleaved`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;

use iot_benches::hub::{BareHmac, HubFixture};
use iot_benches::pair;
use iot_hub_auth::{ConnectRequest, Registry, authorize};
use iot_sas::SasToken;

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` compatibility
    }
    let f = HubFixture::new();
    let resource = HubFixture::resource_of(&f.device);
    let parsed = SasToken::parse(&f.token).unwrap();
    let bare = f.bare_hmac();
    let bare = || {
        black_box(bare.run());
    };
    let (rounds, k) = (300, 2000);
    pair(
        "authorize_mqtt_sas_1m",
        rounds,
        k,
        || {
            black_box(f.authorize_mqtt());
        },
        bare,
    );
    let https = ConnectRequest::https(&f.device).with_password(&f.token);
    pair(
        "authorize_https_sas_1m",
        rounds,
        k,
        || {
            black_box(authorize(&f.hub, &f.registry, black_box(&https), f.now).is_allowed());
        },
        bare,
    );
    // A different device each call, 65,536 of them spread over the registry: registry reads
    // miss the caches as they do on a real hub. The raw side does the same lookup: the device
    // ID hashed (foldhash, the registry's default hasher) into a plain map of the 65,536
    // pre-keyed HMAC states, then the bare HMAC with the key it found.
    let connects = f.spread_connects(65_536);
    let raw_registry: HashMap<&str, &BareHmac, foldhash::fast::FixedState> = connects
        .iter()
        .map(|c| (c.device.as_str(), &c.bare))
        .collect();
    let (mut ours_at, mut bare_at) = (0, 0);
    pair(
        "authorize_mqtt_sas_1m, 64k devices",
        rounds,
        k,
        || {
            ours_at = (ours_at + 1) % connects.len();
            black_box(f.authorize_connect(&connects[ours_at]));
        },
        || {
            bare_at = (bare_at + 1) % connects.len();
            let device = black_box(connects[bare_at].device.as_str());
            black_box(raw_registry.get(device).map(|bare| bare.run()));
        },
    );
    pair(
        "  step: SasToken::parse",
        rounds,
        k,
        || drop(black_box(SasToken::parse(black_box(&f.token)))),
        bare,
    );
    pair(
        "  step: registry lookup (1M)",
        rounds,
        k,
        || {
            black_box(f.registry.lookup(black_box(&f.device), None).is_some());
        },
        bare,
    );
    let keys = f.registry.lookup(&f.device, None).unwrap().keys.unwrap();
    pair(
        "  step: MAC check (primary key)",
        rounds,
        k,
        || {
            black_box(keys.verify(black_box(&parsed)));
        },
        bare,
    );
    pair(
        "  step: resource check",
        rounds,
        k,
        || {
            black_box(iot_sas::Scope::Names(resource).admits(black_box(parsed.resource_raw())));
        },
        bare,
    );
}
