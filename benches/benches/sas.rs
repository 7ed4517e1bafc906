//! iot-sas: each operation beside the raw primitive it is built on, in the same run.
//!
//! * `sas_verify`: `SasToken::parse` + `Verifier::verify` (with a resource check) of a hub device
//!   token, beside its raw side `raw_sig_decode_hmac_compare`: the work any verifier must do
//!   with the fields already split, percent-decoding and base64-decoding `sig`, the pre-keyed
//!   HMAC-SHA256 (cloned `hmac` state) of the string to sign, and comparing the two MACs. The
//!   bare HMAC alone (`bare_prekeyed_hmac_sha256`) stays as the reference of the goal:
//!   verify <= 1.5x the bare HMAC.
//! * `sas_sign`: `sign_into` (encode resource, HMAC, base64, percent-encode) beside the same bare
//!   HMAC.
//!   `iot_sas_mac_key_verify` is the MAC check alone (`MacKey::verify`, constant-time compare).
//! * `sas_derive`: `derive_device_key` (HMAC + pre-keying the derived key) and
//!   `derive_device_mac_key` (the same into a compact `MacKey`, no key-bytes buffer) beside a
//!   bare pre-keyed HMAC of the registration ID.
//!
//! # Store forwarding (what `sas_verify` and the hub benches showed)
//!
//! Three spots of the hot path are shaped by the x86-64 store buffer, not by any protocol
//! rule; each carries a one-line pointer here:
//!
//! * `iot_sas::SasToken::parse` decodes `sig` before it parses `se`: decoding ends in
//!   single-byte stores, and copying the token right after them (wide loads of fresh narrow
//!   stores) stalls store forwarding; parsing `se` in between gives the stores time to land.
//! * `iot_sas::Verifier::verify_str` and the hub's SAS path (`iot-hub-auth` `authorize.rs`)
//!   borrow the parsed token out of the `Result` (`match &SasToken::parse(..)`) instead of
//!   moving it out with `?`: the move copies the fresh token with wide loads over the
//!   parser's narrow stores, the same stall.
//!
//! Undo either and `sas_verify` (here) and `hub_interleaved`'s "step: SasToken::parse" and
//! full-decision rows grow by the stall.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use iot_sas::{
    MacKey, ResourceUri, SasToken, SharedAccessKey, Verifier, derive_device_key,
    derive_device_mac_key, sign_into,
};
use sha2::Sha256;

/// The string-to-sign of `../shared/reference/rust-ecosystem.md` §4 (86 bytes).
const HOST: &str = "myhub-prod-weu.azure-devices.net";
const DEVICE: &str = "building-7-floor-3-sensor-0042";
const EXPIRY: u64 = 1_767_225_600;
const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
const REGISTRATION_ID: &str = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";

fn key_bytes() -> [u8; 32] {
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    key.secret_bytes().try_into().unwrap()
}

fn bare_hmac(prekeyed: &Hmac<Sha256>, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = prekeyed.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn verify(c: &mut Criterion) {
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    let resource = ResourceUri::Device {
        host: HOST,
        device_id: DEVICE,
    };
    let token = iot_sas::sign(&key, &resource, EXPIRY, None).unwrap();
    let plain = format!("{HOST}/devices/{DEVICE}");
    let mac_key = key.mac_key();
    let verifier = Verifier::new(key, None);
    let parsed = SasToken::parse(&token).unwrap();
    let (sr, se) = (
        parsed.resource_raw().to_owned(),
        parsed.expiry_raw().to_owned(),
    );
    assert_eq!(sr.len() + 1 + se.len(), 86);
    let prekeyed = Hmac::<Sha256>::new_from_slice(&key_bytes()).unwrap();
    let now = EXPIRY - 600;
    let sig = parsed.signature_raw().to_owned();
    // The raw side: decode `sig` (percent, then base64), MAC the string to sign, compare.
    let raw = |sig: &str, sr: &str, se: &str| -> bool {
        let mut b64 = [0u8; 64];
        let mut len = 0;
        for chunk in percent_encoding::percent_decode_str(sig) {
            let Some(slot) = b64.get_mut(len) else {
                return false;
            };
            *slot = chunk;
            len += 1;
        }
        let mut claimed = [0u8; 33];
        let decoded =
            base64::engine::general_purpose::STANDARD.decode_slice(&b64[..len], &mut claimed);
        let mac = bare_hmac(&prekeyed, &[sr.as_bytes(), b"\n", se.as_bytes()]);
        decoded == Ok(32) && claimed[..32] == mac
    };
    assert!(raw(&sig, &sr, &se), "the raw side verifies the token");

    let mut group = c.benchmark_group("sas_verify");
    group.bench_function("iot_sas_parse_and_verify", |b| {
        b.iter(|| {
            let token = SasToken::parse(black_box(&token)).unwrap();
            verifier
                .verify(&token, Some(black_box(&plain)), now)
                .unwrap()
        });
    });
    group.bench_function("iot_sas_parse_and_verify_without_resource", |b| {
        b.iter(|| {
            let token = SasToken::parse(black_box(&token)).unwrap();
            verifier.verify(&token, None, now).unwrap()
        });
    });
    group.bench_function("iot_sas_verify_parsed", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&parsed), Some(black_box(&plain)), now)
                .unwrap()
        });
    });
    group.bench_function("iot_sas_mac_key_verify", |b| {
        b.iter(|| mac_key.verify(black_box(&parsed)).unwrap());
    });
    group.bench_function("bare_prekeyed_hmac_sha256", |b| {
        b.iter(|| {
            bare_hmac(
                &prekeyed,
                &[black_box(sr.as_bytes()), b"\n", black_box(se.as_bytes())],
            )
        });
    });
    group.bench_function("raw_sig_decode_hmac_compare", |b| {
        b.iter(|| raw(black_box(&sig), black_box(&sr), black_box(&se)));
    });
    // The parts, for locating the cost.
    group.bench_function("part_parse_only", |b| {
        b.iter(|| SasToken::parse(black_box(&token)).unwrap().expiry());
    });
    group.bench_function("part_resource_covers", |b| {
        b.iter(|| iot_sas::Scope::CoversText(black_box(&plain)).admits(black_box(&sr)));
    });
    group.bench_function("part_resource_uri_is_named_by", |b| {
        b.iter(|| iot_sas::Scope::Names(*black_box(&resource)).admits(black_box(&sr)));
    });
    group.finish();
}

fn sign(c: &mut Criterion) {
    let key = SharedAccessKey::from_base64(KEY).unwrap();
    let resource = ResourceUri::Device {
        host: HOST,
        device_id: DEVICE,
    };
    let sr = format!("{resource}");
    let se = EXPIRY.to_string();
    let prekeyed = Hmac::<Sha256>::new_from_slice(&key_bytes()).unwrap();
    let mut buf = [0u8; 512];

    let mut group = c.benchmark_group("sas_sign");
    group.bench_function("iot_sas_sign_into", |b| {
        b.iter(|| {
            sign_into(
                &key,
                black_box(&resource),
                black_box(EXPIRY),
                None,
                &mut buf,
            )
            .map(str::len)
            .unwrap()
        });
    });
    group.bench_function("bare_prekeyed_hmac_sha256", |b| {
        b.iter(|| {
            bare_hmac(
                &prekeyed,
                &[black_box(sr.as_bytes()), b"\n", black_box(se.as_bytes())],
            )
        });
    });
    group.finish();
}

fn derive(c: &mut Criterion) {
    let group_key = SharedAccessKey::from_base64(KEY).unwrap();
    let group_mac_key = MacKey::from_base64(KEY).unwrap();
    let prekeyed = Hmac::<Sha256>::new_from_slice(&key_bytes()).unwrap();

    let mut group = c.benchmark_group("sas_derive");
    group.bench_function("iot_sas_derive_device_key", |b| {
        b.iter(|| derive_device_key(&group_key, black_box(REGISTRATION_ID)));
    });
    group.bench_function("iot_sas_derive_device_mac_key", |b| {
        b.iter(|| derive_device_mac_key(&group_mac_key, black_box(REGISTRATION_ID)));
    });
    group.bench_function("bare_prekeyed_hmac_sha256", |b| {
        b.iter(|| bare_hmac(&prekeyed, &[black_box(REGISTRATION_ID.as_bytes())]));
    });
    group.finish();
}

criterion_group!(benches, verify, sign, derive);
criterion_main!(benches);
