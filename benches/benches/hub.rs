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
use hmac::{Hmac, KeyInit, Mac};
use iot_hub_auth::{
    ConnectRequest, DeviceIdentity, HubSettings, InMemoryRegistry, MqttUserName, authorize,
};
use iot_sas::{ResourceUri, SasToken, SharedAccessKey};
use sha2::Sha256;

const HOST: &str = "myhub-prod-weu.azure-devices.net";
const IDENTITIES: usize = 1_000_000;
const EXPIRY: u64 = 1_767_225_600;

fn device_id(i: usize) -> String {
    format!("building-{:03}-floor-{:02}-sensor-{i:07}", i % 997, i % 13)
}

fn key_for(i: usize) -> SharedAccessKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
    bytes[8..].copy_from_slice(&[0x5a; 24]);
    SharedAccessKey::from_bytes(&bytes).unwrap()
}

fn hub_authorize(c: &mut Criterion) {
    let hub = HubSettings::new(HOST).unwrap();
    let mut registry = InMemoryRegistry::with_capacity(IDENTITIES);
    let secondary = key_for(usize::MAX).to_base64();
    for i in 0..IDENTITIES {
        let primary = key_for(i).to_base64();
        registry
            .upsert(DeviceIdentity::sas(&device_id(i), &primary, &secondary))
            .unwrap();
    }
    assert_eq!(registry.len(), IDENTITIES);

    let target = IDENTITIES / 2 + 4242;
    let device = device_id(target);
    let key = key_for(target);
    let token = iot_sas::sign(
        &key,
        &ResourceUri::Device {
            host: HOST,
            device_id: &device,
        },
        EXPIRY,
        None,
    )
    .unwrap();
    let username =
        format!("{HOST}/{device}/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.5.0");
    let now = EXPIRY - 600;
    let req = ConnectRequest::mqtt(&device, &username).with_password(&token);
    assert!(authorize(&hub, &registry, &req, now).is_allowed());

    let parsed = SasToken::parse(&token).unwrap();
    let (sr, se) = (
        parsed.resource_raw().to_owned(),
        parsed.expiry_raw().to_owned(),
    );
    let prekeyed = Hmac::<Sha256>::new_from_slice(key.secret_bytes()).unwrap();

    let mut group = c.benchmark_group("hub_authorize");
    group.bench_function("authorize_mqtt_sas_1m", |b| {
        b.iter(|| {
            let req = ConnectRequest::mqtt(black_box(&device), black_box(&username))
                .with_password(black_box(&token));
            authorize(&hub, &registry, &req, now).is_allowed()
        });
    });
    group.bench_function("bare_prekeyed_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = prekeyed.clone();
            mac.update(black_box(sr.as_bytes()));
            mac.update(b"\n");
            mac.update(black_box(se.as_bytes()));
            let out: [u8; 32] = mac.finalize().into_bytes().into();
            out
        });
    });
    // Context: iot-sas's own parse + verify of the same token (no registry, no claim).
    let verifier = iot_sas::Verifier::new(key.clone(), None);
    let plain = format!("{HOST}/devices/{device}");
    group.bench_function("iot_sas_verify_str", |b| {
        b.iter(|| {
            verifier
                .verify_str(black_box(&token), Some(black_box(&plain)), now)
                .is_ok()
        });
    });
    group.bench_function("parse_mqtt_username", |b| {
        b.iter(|| MqttUserName::parse_with_client_id(black_box(&username), black_box(&device)));
    });
    group.finish();
}

criterion_group!(benches, hub_authorize);
criterion_main!(benches);
