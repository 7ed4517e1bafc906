//! iot-hub-auth: a full SAS connect decision against a registry of 1,000,000 identities, beside
//! a bare pre-keyed HMAC-SHA256 of the same string to sign, in the same run.
//!
//! * `hub_authorize/authorize_mqtt_sas_1m`: `authorize` for an MQTT CONNECT (client ID + user
//!   name with query parameters + device-key SAS token): user-name parse, registry lookup among
//!   1,000,000 `sas` devices, token parse, expiry, pre-keyed MAC, resource check.
//! * `hub_authorize/bare_prekeyed_hmac_sha256`: cloned pre-keyed `Hmac<Sha256>` over the same
//!   `sr` + LF + `se`. Goal: authorize <= 2x the bare HMAC.
//! * `hub_authorize/iot_sas_verify_str`: context, iot-sas's parse + verify of the same token
//!   (what the decision costs beyond the SAS crate is the difference).
//! * `hub_authorize/parse_mqtt_username`: the full user-name parser alone (query included;
//!   `authorize` only checks the path).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iot_benches::hub::{HOST, HubFixture};
use iot_hub_auth::MqttUserName;

fn hub_authorize(c: &mut Criterion) {
    let f = HubFixture::new();
    let bare = f.bare_hmac();

    let mut group = c.benchmark_group("hub_authorize");
    group.bench_function("authorize_mqtt_sas_1m", |b| b.iter(|| f.authorize_mqtt()));
    group.bench_function("bare_prekeyed_hmac_sha256", |b| b.iter(|| bare.run()));
    // Context: iot-sas's own parse + verify of the same token (no registry, no claim).
    let verifier = iot_sas::Verifier::new(f.key.clone(), None);
    let plain = format!("{HOST}/devices/{}", f.device);
    group.bench_function("iot_sas_verify_str", |b| {
        b.iter(|| {
            verifier
                .verify_str(black_box(&f.token), Some(black_box(&plain)), f.now)
                .is_ok()
        });
    });
    group.bench_function("parse_mqtt_username", |b| {
        b.iter(|| MqttUserName::parse_with_client_id(black_box(&f.username), black_box(&f.device)));
    });
    group.finish();
}

criterion_group!(benches, hub_authorize);
criterion_main!(benches);
