//! iot-dps-service: the symmetric-key registration decision with 1,000,000 individual
//! enrollments and 100 symmetric-key groups, worst case (the device belongs to the LAST group
//! and signs with the key derived from its SECONDARY key, so every other candidate key is
//! tried first), beside the bare HMACs that decision cannot avoid, in the same run:
//! 200 derivations (one pre-keyed HMAC-SHA256 of the registration ID per group key) and 200
//! token MACs (HMAC-SHA256 keyed with each derived key over `sr` + `\n` + `se`).
//!
//! Group `dps_register_worst_case`: `register` = `ProvisioningService::register`, the full
//! decision (parse, lookup in 1,000,000 individuals, 100 groups, allocation, record, response,
//! hub identity); `floor_hmacs` = the raw side, only the 400 HMAC-SHA256 computations it must
//! do and nothing else: 200 x (derivation from a pre-keyed group state, pre-keying the derived
//! key, token MAC), 7 SHA-256 block compressions each, written against `compress256` directly
//! (`iot_benches::floor`), so no implementation of the same decision can be faster;
//! `hmac_crate_hmacs` = the same 400 HMACs through the `hmac` crate's API (a reference: its
//! buffering and finalization cost more than the floor).
//!
//! Run: `cargo bench -p iot-benches --bench dps_service -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit as _, Mac as _};
use iot_benches::floor::FloorHmac;
use iot_dps_service::{
    Attestation, DpsInstance, EnrollmentGroup, EnrollmentSettings, IndividualEnrollment, LinkedHub,
    ProvisioningService, RegisterStep, RegistrationDecision, RegistrationRequest,
};
use iot_sas::{ResourceUri, SasToken, SharedAccessKey, derive_device_key, sign};
use sha2::Sha256;

const SCOPE: &str = "0ne00002193";
const NOW: u64 = 1_767_225_600;
const INDIVIDUALS: usize = 1_000_000;
const GROUPS: usize = 100;
const DEVICE: &str = "late-member-0001";

fn key_bytes(i: usize, slot: u8) -> [u8; 32] {
    let mut k = [0u8; 32];
    for (j, b) in k.iter_mut().enumerate() {
        *b = (i as u8)
            .wrapping_mul(31)
            .wrapping_add(j as u8)
            .wrapping_add(slot.wrapping_mul(101));
    }
    k
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn service() -> ProvisioningService {
    let mut dps = DpsInstance::new(SCOPE);
    dps.linked_hubs = vec![
        LinkedHub::new("a.azure-devices.net"),
        LinkedHub::new("b.azure-devices.net"),
    ];
    let primary = b64(&[7u8; 32]);
    let secondary = b64(&[8u8; 32]);
    let individuals = (0..INDIVIDUALS).map(|i| IndividualEnrollment {
        registration_id: format!("device-{i:07}"),
        device_id: None,
        attestation: Attestation::symmetric_key(&primary, &secondary),
        settings: EnrollmentSettings::default(),
    });
    let groups = (0..GROUPS).map(|i| EnrollmentGroup {
        enrollment_group_id: format!("group-{i:03}"),
        attestation: Attestation::symmetric_key(&b64(&key_bytes(i, 0)), &b64(&key_bytes(i, 1))),
        settings: EnrollmentSettings::default(),
    });
    ProvisioningService::load(dps, individuals, groups).unwrap()
}

fn bench(c: &mut Criterion) {
    let service = service();
    assert_eq!(service.individual_count(), INDIVIDUALS);
    // The device's key: derived from the last group's secondary key.
    let last_secondary = SharedAccessKey::from_bytes(&key_bytes(GROUPS - 1, 1)).unwrap();
    let device_key = derive_device_key(&last_secondary, DEVICE);
    let resource = ResourceUri::DpsRegistration {
        id_scope: SCOPE,
        registration_id: DEVICE,
    };
    let token = sign(&device_key, &resource, NOW + 3600, Some("registration")).unwrap();
    let mut req = RegistrationRequest::new(DEVICE, NOW);
    req.sas_token = Some(&token);
    req.operation_id = "bench";
    match service.register(&req, None) {
        RegisterStep::Done(o) => assert!(
            matches!(o.decision, RegistrationDecision::Assigned { .. }),
            "{}",
            o.decision
        ),
        RegisterStep::NeedsCustomAllocation(_) => panic!(),
    }

    // The bare work: pre-keyed group HMAC states, as the service keeps them.
    let group_macs: Vec<Hmac<Sha256>> = (0..GROUPS)
        .flat_map(|i| [key_bytes(i, 0), key_bytes(i, 1)])
        .map(|k| Hmac::<Sha256>::new_from_slice(&k).unwrap())
        .collect();
    let parsed = SasToken::parse(&token).unwrap();
    let [sr, newline, se] = parsed.signed_parts();
    let expected = parsed.signature().unwrap().0;

    let mut group = c.benchmark_group("dps_register_worst_case");
    group.bench_function("register", |b| {
        b.iter(|| match service.register(black_box(&req), None) {
            RegisterStep::Done(o) => black_box(o),
            RegisterStep::NeedsCustomAllocation(_) => panic!(),
        });
    });
    let floor_groups: Vec<FloorHmac> = (0..GROUPS)
        .flat_map(|i| [key_bytes(i, 0), key_bytes(i, 1)])
        .map(|k| FloorHmac::new(&k))
        .collect();
    let floor = || {
        let mut hit = None;
        for (n, group_key) in floor_groups.iter().enumerate() {
            let derived = group_key.mac(&[black_box(DEVICE.as_bytes())]);
            let mac = FloorHmac::new(&derived).mac(&[sr, newline, se]);
            if mac == expected {
                hit = Some(n);
            }
        }
        hit
    };
    assert_eq!(
        floor(),
        Some(2 * GROUPS - 1),
        "the floor finds the last secondary key"
    );
    group.bench_function("floor_hmacs", |b| b.iter(|| black_box(floor())));
    group.bench_function("hmac_crate_hmacs", |b| {
        b.iter(|| {
            let mut hit = None;
            for (n, group_mac) in group_macs.iter().enumerate() {
                let derived = group_mac
                    .clone()
                    .chain_update(black_box(DEVICE.as_bytes()))
                    .finalize()
                    .into_bytes();
                let mac = Hmac::<Sha256>::new_from_slice(&derived)
                    .unwrap()
                    .chain_update(sr)
                    .chain_update(newline)
                    .chain_update(se);
                if mac.finalize().into_bytes().as_slice() == expected.as_slice() {
                    hit = Some(n);
                }
            }
            black_box(hit)
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
