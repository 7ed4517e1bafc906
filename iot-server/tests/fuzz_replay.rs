//! Replays every committed seed corpus file of this crate's fuzz target on stable Rust
//! (fuzz/README.md layout), so `cargo test` catches regressions without libFuzzer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod server_mqtt_decode {
    include!("../../fuzz/logic/server_mqtt_decode.rs");
}

mod server_api_route {
    include!("../../fuzz/logic/server_api_route.rs");
}

mod server_api_decide {
    include!("../../fuzz/logic/server_api_decide.rs");
}

include!("../../fuzz/replay.rs");

#[test]
fn replay_server_api_route() {
    replay("server_api_route", server_api_route::run);
}

#[test]
fn replay_server_api_decide() {
    replay("server_api_decide", server_api_decide::run);
}

/// The recorded SDK requests are authorized by the fuzz realm (so the seeds reach the
/// handlers, not only the refusals): each is answered as the SDK expects.
#[test]
fn recorded_requests_reach_the_handlers() {
    use iot_server::engine::api::{self, ApiRequest, Method};
    let capture: serde_json::Value =
        serde_json::from_str(include_str!("data/capture/service-and-device-https.json")).unwrap();
    let realm = server_api_decide::realm();
    let mut statuses = Vec::new();
    for family in ["registry_manager", "dps_service", "dps_device_https"] {
        for r in capture[family].as_array().unwrap() {
            let header = |name: &str| r["headers"][name].as_str();
            let body = match &r["body"] {
                serde_json::Value::Null => Vec::new(),
                other => other.to_string().into_bytes(),
            };
            let request = ApiRequest {
                method: Method::parse(r["method"].as_str().unwrap()),
                path: r["path"].as_str().unwrap(),
                host: header("Host"),
                authorization: header("Authorization"),
                if_match: header("If-Match"),
                headers: &[],
                body: &body,
                client_chain: &[],
                peer: "127.0.0.1:1",
                now_ms: 1_796_177_000_000,
                entropy: &[1; 64],
                operation_id: "4.0000000000000001.00000000-0000-0000-0000-000000000001",
            };
            let outcome = api::decide(&realm, &request);
            statuses.push((
                r["method"].as_str().unwrap().to_owned(),
                outcome.response.status,
            ));
        }
    }
    // Each request is decided against the initial realm (nothing is committed here), which
    // already holds `dev-sas`: creating it again is 409, its get, update (If-Match "*"),
    // delete and module create succeed, the other two creates succeed; the enrollment and
    // group writes succeed, the enrollment the recording created is not there to get or
    // delete, the registration state is unknown; the device's register is 202 and its poll
    // of an operation never started here is 404.
    let got: Vec<u16> = statuses.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        got,
        vec![
            409, 200, 200, 200, 200, 204, 200, 200, 404, 404, 200, 404, 404, 202, 404
        ],
        "{statuses:?}"
    );
}

#[test]
fn replay_server_mqtt_decode() {
    replay("server_mqtt_decode", server_mqtt_decode::run);
}

/// The SDK-session seeds decode to the packets they are named after.
#[test]
fn session_seeds_decode_completely() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/server_mqtt_decode/"
    );
    for (seed, count) in [("python_dps_session", 6), ("x509_hub_session", 4)] {
        let data = std::fs::read(format!("{dir}{seed}")).unwrap();
        let mut rest = data.as_slice();
        let mut n = 0;
        while let Some((_, used)) = iot_server::mqtt::decode(rest, 1 << 16).unwrap() {
            rest = &rest[used..];
            n += 1;
        }
        assert!(rest.is_empty(), "{seed}");
        assert_eq!(n, count, "{seed}");
    }
}

/// An API report never carries the caller's signature, whichever request field the caller put
/// it in (found by fuzzing server_api_decide: the recorded node SDK register request with its
/// own token as the body's `registrationId` was refused 400 with a reason naming that ID, so
/// the server log held a replayable token). The input is the committed seed
/// corpus/server_api_decide/regression_signature_in_body.
#[test]
fn api_report_never_carries_the_callers_signature() {
    use iot_server::engine::api::{self, ApiRequest, Method};
    let capture: serde_json::Value =
        serde_json::from_str(include_str!("data/capture/service-and-device-https.json")).unwrap();
    let register = &capture["dps_device_https"][0];
    let token = register["headers"]["Authorization"].as_str().unwrap();
    let sig = token
        .split("sig=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(sig.len(), 46, "the SDK's signature, percent-encoded: {sig}");
    let decoded = sig.replace("%3D", "=");
    let realm = server_api_decide::realm();
    let bodies = [
        serde_json::json!({ "registrationId": token }).to_string(),
        serde_json::json!({ "registrationId": decoded }).to_string(),
        serde_json::json!({ "registrationId": format!("{sig}-dev") }).to_string(),
    ];
    for (n, body) in bodies.iter().enumerate() {
        for (host, path) in [
            ("localhost", register["path"].as_str().unwrap().to_owned()),
            // The Host and the path can carry it as well.
            (sig, format!("/0ne00AB12CD/registrations/{sig}/register")),
        ] {
            let request = ApiRequest {
                method: Method::Put,
                path: &path,
                host: Some(host),
                authorization: Some(token),
                if_match: None,
                headers: &[],
                body: body.as_bytes(),
                client_chain: &[],
                peer: "127.0.0.1:1",
                now_ms: 1_796_177_000_000,
                entropy: &[1; 64],
                operation_id: "4.0000000000000001.00000000-0000-0000-0000-000000000001",
            };
            let outcome = api::decide(&realm, &request);
            assert_ne!(
                outcome.response.status, 202,
                "body {n}: not the request's ID"
            );
            let report = serde_json::to_string(&api::report(&request, &outcome)).unwrap();
            assert!(
                !report.contains(sig) && !report.contains(&decoded),
                "body {n}: {report}"
            );
            // The refusal itself still reaches the log.
            assert!(report.contains("<redacted>"), "body {n}: {report}");
        }
    }
}
