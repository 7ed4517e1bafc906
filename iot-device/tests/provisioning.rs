//! iot-device against an in-process iot-server over real TLS: every credential type over MQTT
//! and over WebSockets provisions and then sends telemetry to the assigned hub; refusals are
//! typed; `retry-after` is honoured; a connection dropped mid-registration is survived.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use iot_device::{
    Credential, Error, HubClient, Message, ProvisioningStep, Transport, provision, provision_with,
};
use iot_server::ServerEvent;
use support::{CutProxy, Fixture, HUB, key, wait_for};
use tokio::time::Instant;

/// Provisions, connects to the assigned hub with the same credential and transport, sends
/// one message and checks the server stored it.
async fn provision_and_send(
    fx: &Fixture,
    registration_id: &str,
    credential: Credential,
    transport: Transport,
) {
    let mut events = fx.server.events();
    let assignment = provision(&fx.dps(registration_id, credential.clone(), transport))
        .await
        .unwrap_or_else(|e| panic!("{registration_id} over {transport:?}: {e}"));
    assert_eq!(assignment.assigned_hub, HUB);
    assert_eq!(assignment.device_id, registration_id);
    assert_eq!(assignment.registration_id, registration_id);
    assert_eq!(assignment.substatus.as_deref(), Some("initialAssignment"));
    let mut hub = HubClient::connect(fx.hub(HUB, &assignment.device_id, credential, transport))
        .await
        .unwrap_or_else(|e| panic!("hub connect of {registration_id} over {transport:?}: {e}"));
    let body = format!("{{\"from\":\"{registration_id}\"}}");
    hub.send(&Message::new(body.clone()).with_property("transport", format!("{transport:?}")))
        .await
        .unwrap();
    let stored = wait_for(
        &mut events,
        |e| matches!(e, ServerEvent::Telemetry { device_id, .. } if device_id == registration_id),
    )
    .await;
    let ServerEvent::Telemetry { hub: h, size, .. } = stored else {
        unreachable!()
    };
    assert_eq!(h, HUB);
    assert_eq!(size, body.len());
    hub.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_credential_over_mqtt_provisions_and_sends() {
    let fx = Fixture::start("creds-mqtt").await;
    let t = Transport::Mqtt;
    provision_and_send(
        &fx,
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        t,
    )
    .await;
    let group = Credential::derived_from_group_key(&key(20), "grp-dev-7").unwrap();
    provision_and_send(&fx, "grp-dev-7", group, t).await;
    let x509 = fx.pki.credential(&fx.pki.dps_x509, false);
    provision_and_send(&fx, "x509-dev-1", x509, t).await;
    let ca = fx.pki.credential(&fx.pki.dps_ca_device, true);
    provision_and_send(&fx, "ca-dev-1", ca, t).await;
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_credential_over_websockets_provisions_and_sends_except_x509_ca() {
    let fx = Fixture::start("creds-ws").await;
    let t = Transport::WebSockets;
    provision_and_send(
        &fx,
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        t,
    )
    .await;
    let group = Credential::derived_from_group_key(&key(20), "grp-dev-8").unwrap();
    provision_and_send(&fx, "grp-dev-8", group, t).await;
    let x509 = fx.pki.credential(&fx.pki.dps_x509, false);
    provision_and_send(&fx, "x509-dev-1", x509, t).await;
    // X.509 CA over WebSockets keeps the historical restriction by default (reference §6.4).
    let ca = fx.pki.credential(&fx.pki.dps_ca_device, true);
    let err = provision(&fx.dps("ca-dev-1", ca, t)).await.unwrap_err();
    assert!(
        matches!(err, Error::Refused { .. } | Error::Registration { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "{err:?}");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_keys_and_unknown_devices_are_refused_not_retried() {
    let fx = Fixture::start("refused").await;
    let mut events = fx.server.events();
    let started = Instant::now();
    let wrong = Credential::symmetric_key(&key(99)).unwrap();
    let err = provision(&fx.dps("sym-01", wrong.clone(), Transport::Mqtt))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused { code: 5 }
                | Error::Registration {
                    status: Some(401),
                    ..
                }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refusal must not be retried"
    );
    // The hub refuses a device it does not know with CONNACK 5, as a typed refusal.
    let err = HubClient::connect(fx.hub(HUB, "nobody", wrong, Transport::Mqtt))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { code: 5 }), "{err:?}");
    let denied = wait_for(&mut events, |e| {
        matches!(e, ServerEvent::Connect { identity, allowed: false, .. } if identity == "nobody")
    })
    .await;
    assert!(matches!(denied, ServerEvent::Connect { endpoint, .. } if endpoint == "hub"));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_between_register_and_poll() {
    let fx = Fixture::start("retry-after").await;
    let mut steps: Vec<(Instant, ProvisioningStep)> = Vec::new();
    let mut options = fx.dps(
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        Transport::Mqtt,
    );
    // Without retry-after the client would wait 3 s; the server says 1 s.
    options.timing.default_interval = Duration::from_secs(3);
    provision_with(&options, |s| steps.push((Instant::now(), s.clone())))
        .await
        .unwrap();
    let answered_202 = steps
        .iter()
        .find(|(_, s)| matches!(s, ProvisioningStep::Answered { status: 202, .. }))
        .unwrap();
    assert!(matches!(
        answered_202.1,
        ProvisioningStep::Answered {
            retry_after: Some(1),
            ..
        }
    ));
    let poll = steps
        .iter()
        .find(|(_, s)| matches!(s, ProvisioningStep::Sent { topic } if topic.contains("iotdps-get-operationstatus")))
        .unwrap();
    let waited = poll.0 - answered_202.0;
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_millis(2500),
        "waited {waited:?}"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_registration_reconnects_and_registers() {
    let fx = Fixture::start("dropped").await;
    // The first connection is cut 700 ms in: after the register's 202, before the poll
    // (retry-after 1 s).
    let proxy = CutProxy::start(fx.server.mqtt_addr(), 0, Duration::from_millis(700)).await;
    let mut options = fx.dps(
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        Transport::Mqtt,
    );
    options.endpoint = options.endpoint.with_port(proxy.addr.port());
    let mut steps = Vec::new();
    let assignment = provision_with(&options, |s| steps.push(s.clone()))
        .await
        .unwrap();
    assert_eq!(assignment.device_id, "sym-01");
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 2, "{steps:#?}");
    let retry = steps
        .iter()
        .position(|s| matches!(s, ProvisioningStep::Retrying { .. }))
        .expect("the cut is reported");
    let first_answer = steps
        .iter()
        .position(|s| matches!(s, ProvisioningStep::Answered { status: 202, .. }))
        .unwrap();
    assert!(first_answer < retry, "cut after the 202: {steps:#?}");
    assert!(steps[retry..].contains(&ProvisioningStep::Connecting { attempt: 2 }));
    let registers = steps
        .iter()
        .filter(
            |s| matches!(s, ProvisioningStep::Sent { topic } if topic.contains("iotdps-register")),
        )
        .count();
    assert_eq!(
        registers, 2,
        "registered again on the new connection: {steps:#?}"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_is_a_retryable_failure_until_the_deadline() {
    // A port nothing listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let fx = Fixture::start("absent").await;
    let mut options = fx.dps(
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        Transport::Mqtt,
    );
    options.endpoint = options.endpoint.with_port(port);
    options.timing = options.timing.with_deadline(Duration::from_secs(3));
    options.timing.backoff_initial = Duration::from_millis(200);
    let started = Instant::now();
    let mut attempts = 0;
    let err = provision_with(&options, |s| {
        if matches!(s, ProvisioningStep::Connecting { .. }) {
            attempts += 1;
        }
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Deadline { .. }), "{err:?}");
    assert!(attempts >= 2, "retried with back-off: {attempts}");
    assert!(started.elapsed() < Duration::from_secs(4));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_future_cancels_the_registration() {
    let fx = Fixture::start("cancel").await;
    // A proxy that never cuts, to watch the connection end.
    let proxy = CutProxy::start(fx.server.mqtt_addr(), usize::MAX, Duration::ZERO).await;
    let mut options = fx.dps(
        "sym-01",
        Credential::symmetric_key(&key(10)).unwrap(),
        Transport::Mqtt,
    );
    options.endpoint = options.endpoint.with_port(proxy.addr.port());
    // Cancelled after 400 ms: after CONNECT and register, before the 1 s poll.
    let outcome = tokio::time::timeout(Duration::from_millis(400), provision(&options)).await;
    assert!(outcome.is_err(), "cancelled, not finished");
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        proxy.closed.load(Ordering::SeqCst),
        1,
        "the connection closes with the cancelled future"
    );
    fx.shutdown().await;
}
