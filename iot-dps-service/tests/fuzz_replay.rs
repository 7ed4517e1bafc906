//! Replays every committed seed corpus file of this crate's fuzz target on stable Rust
//! (contracts.md fuzzing layout), so `cargo test` catches regressions without libFuzzer.
//! Seeds and the fuzz PKI: `tests/data/make_fuzz_seeds.py`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod dps_service_register {
    include!("../../fuzz/logic/dps_service_register.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_dps_service_register() {
    replay("dps_service_register", dps_service_register::run);
}

/// What each named seed must decide, stated from the rules (the generator,
/// tests/data/make_fuzz_seeds.py, says why): the enrollment that assigns it, or the failure
/// (its `RegistrationFailure` variant). The seeds run through the logic's own input parser.
const EXPECTED: &[(&str, Result<&str, &str>)] = &[
    ("individual_primary", Ok("individual enrollment 'dev-1'")),
    ("individual_secondary", Ok("individual enrollment 'dev-1'")),
    (
        "individual_no_skn_https",
        Ok("individual enrollment 'dev-1'"),
    ),
    (
        "individual_reprovision",
        Ok("individual enrollment 'dev-1'"),
    ),
    (
        "individual_case_folded_sr",
        Ok("individual enrollment 'dev-1'"),
    ),
    ("sign_mode_individual", Ok("individual enrollment 'dev-1'")),
    ("group_derived", Ok("enrollment group 'g1'")),
    ("group_derived_secondary", Ok("enrollment group 'g1'")),
    ("sign_mode_derived", Ok("enrollment group 'g1'")),
    ("x509_ca_mqtt", Ok("enrollment group 'cas'")),
    ("x509_ca_https", Ok("enrollment group 'cas'")),
    ("x509_ca_reprovision", Ok("enrollment group 'cas'")),
    ("empty", Err("BadRequest")),
    ("bad_registration_id", Err("BadRequest")),
    ("body_garbage", Err("BadRequest")),
    ("body_mismatch", Err("BadRequest")),
    ("user_name_mismatch", Err("BadRequest")),
    ("tpm_body", Err("TpmNotSupported")),
    ("both_credentials", Err("AmbiguousCredential")),
    ("group_key_itself", Err("NoEnrollment")),
    ("individual_expired", Err("Token")),
    ("wrong_scope", Err("ResourceMismatch")),
    ("wrong_skn", Err("KeyName")),
    ("other_enrollment_key", Err("KeyMismatch")),
    ("x509_ca_websockets", Err("X509CaOverWebSockets")),
    ("x509_cn_mismatch", Err("RegistrationIdNotCommonName")),
    ("x509_garbage_cert", Err("Certificate")),
    // Issue 12.2: `sr` is decoded once.
    ("double_decoded_sr", Err("ResourceMismatch")),
    // Issue 12.3: the anchor's own EKU and keyUsage (OpenSSL refuses both, fuzz-pki/verdicts.json).
    ("x509_server_eku_root", Err("Chain")),
    ("x509_no_keycertsign_root", Err("Chain")),
];

#[test]
fn seeds_reach_their_stated_decisions() {
    use iot_dps_service::RegistrationDecision;
    let seeds = corpus("dps_service_register");
    let mut failures = Vec::new();
    for (name, expected) in EXPECTED {
        let (_, data) = seeds
            .iter()
            .find(|(seed, _)| seed == name)
            .unwrap_or_else(|| panic!("seed {name} is missing"));
        let input = dps_service_register::Input::parse(data).expect("seed parses");
        let decision = input.register().decision;
        let got = match &decision {
            RegistrationDecision::Assigned { enrollment, .. } => Ok(enrollment.to_string()),
            RegistrationDecision::Failed(failure) => {
                let debug = format!("{failure:?}");
                let variant = debug.split([' ', '(', '{']).next().unwrap_or_default();
                Err(variant.to_owned())
            }
            other => panic!("{name}: {other:?}"),
        };
        let want = expected.map(str::to_owned).map_err(str::to_owned);
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {decision:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The flags layout gives every transport and the previous-record bit independently (the
/// old layout read the transport from bits 3..=7, so bit 6 also changed the transport).
#[test]
fn flags_select_transport_and_previous_record_independently() {
    use iot_dps_service::DpsTransport;
    let transports = [
        DpsTransport::Mqtt,
        DpsTransport::MqttWebSockets,
        DpsTransport::Amqp,
        DpsTransport::AmqpWebSockets,
        DpsTransport::Https,
    ];
    for (t, transport) in transports.into_iter().enumerate() {
        for previous in [false, true] {
            let flags = (t as u8) << 3 | if previous { 64 } else { 0 };
            let data = [flags, b'x'];
            let input = dps_service_register::Input::parse(&data).unwrap();
            assert_eq!(input.transport, transport, "flags {flags:#04x}");
            assert_eq!(input.previous().is_some(), previous, "flags {flags:#04x}");
        }
    }
}
