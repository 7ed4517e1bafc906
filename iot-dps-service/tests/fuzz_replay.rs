//! Replays every committed seed corpus file of this crate's fuzz target on stable Rust
//! (contracts.md fuzzing layout), so `cargo test` catches regressions without libFuzzer.
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

/// The seeds reach the decisions they are named after (so the corpus exercises the
/// accepting paths, not only refusals).
#[test]
fn seeds_reach_their_decisions() {
    use iot_dps_service::{Decision, RegisterStep, RegistrationRequest};
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/dps_service_register/"
    );
    for (seed, assigned) in [
        ("individual_primary", true),
        ("group_derived", true),
        ("x509_ca_mqtt", true),
        ("group_key_itself", false),
        ("x509_ca_websockets", false),
    ] {
        let data = std::fs::read(format!("{dir}{seed}")).unwrap();
        // Re-run the logic's parsing to find the decision: the logic itself only asserts.
        let outcome = decide(&data);
        assert_eq!(
            matches!(outcome, Some(Decision::Assigned { .. })),
            assigned,
            "{seed}: {outcome:?}"
        );
    }
    fn decide(data: &[u8]) -> Option<Decision> {
        let (&flags, rest) = data.split_first()?;
        let mut fields = rest.splitn(5, |b| *b == 0);
        let mut next = || fields.next().unwrap_or_default();
        let (reg, token, body, user, cert) = (next(), next(), next(), next(), next());
        let reg = std::str::from_utf8(reg).ok()?;
        let token = std::str::from_utf8(token).ok().filter(|_| flags & 1 != 0);
        let user = std::str::from_utf8(user).ok().filter(|_| flags & 4 != 0);
        let chain: Vec<iot_x509::CertificateDer<'static>> = if flags & 2 != 0 && !cert.is_empty() {
            vec![cert.to_vec().into()]
        } else {
            Vec::new()
        };
        let mut req = RegistrationRequest::new(reg, 1_700_000_000);
        req.sas_token = token;
        req.mqtt_user_name = user;
        req.body = body;
        req.client_chain = &chain;
        if (flags >> 3) % 5 == 1 {
            req.transport = iot_dps_service::DpsTransport::MqttWebSockets;
        }
        match dps_service_register::service().register(&req, None) {
            RegisterStep::Done(o) => Some(o.decision),
            RegisterStep::NeedsCustomAllocation(_) => None,
        }
    }
}
