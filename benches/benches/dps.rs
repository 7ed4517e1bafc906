//! iot-dps-proto: each operation beside the raw work it is built on, in the same run.
//!
//! * `dps_response_topic`: `ResponseTopic::parse` (order-free query, percent-decoding,
//!   duplicate checks) beside a naive fixed-position split of the same sdk-for-c topic.
//! * `dps_operation_status`: `RegistrationOperationStatus::from_slice` (size cap + depth
//!   pre-scan + serde) beside bare `serde_json::from_slice` into the same type, on the
//!   sdk-for-c `assigned` body: the price of the bounds (also measured alone).
//! * `dps_client_flow`: a whole register -> assigning -> poll -> assigned run through
//!   `ProvisioningClient` (topics, rid checks, timers) beside parsing the two bodies alone.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use iot_dps_proto::{
    ClientConfig, Event, ProvisioningClient, RegistrationOperationStatus, Response, ResponseTopic,
};

const TOPIC: &str = "$dps/registrations/res/202/?$rid=1&retry-after=3";
const ASSIGNING: &str = r#"{"operationId":"4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d","status":"assigning"}"#;
const ASSIGNED: &str = concat!(
    r#"{"operationId":"4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d","status":"assigned","registrationState":{"#,
    r#""x509":{},"registrationId":"myRegistrationId","createdDateTimeUtc":"2020-04-10T03:11:13.0276997Z","#,
    r#""assignedHub":"contoso.azure-devices.net","deviceId":"my-device-id1","status":"assigned","#,
    r#""substatus":"initialAssignment","lastUpdatedDateTimeUtc":"2020-04-10T03:11:13.2096201Z","#,
    r#""etag":"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI="}}"#
);

/// The least a parser must do: fixed positions, `$rid` first, no decoding, no checks.
fn naive_split(topic: &str) -> (u16, &str, Option<u32>) {
    let rest = topic.strip_prefix("$dps/registrations/res/").unwrap();
    let (status, query) = rest.split_once("/?").unwrap();
    let mut pairs = query.split('&');
    let rid = pairs.next().unwrap().strip_prefix("$rid=").unwrap();
    let retry = pairs
        .next()
        .and_then(|p| p.strip_prefix("retry-after="))
        .map(|v| v.parse().unwrap());
    (status.parse().unwrap(), rid, retry)
}

fn response_topic(c: &mut Criterion) {
    let parsed = ResponseTopic::parse(TOPIC).unwrap();
    assert_eq!(
        (parsed.status, parsed.rid, parsed.retry_after),
        (202, Some("1"), Some(3))
    );
    assert_eq!(naive_split(TOPIC), (202, "1", Some(3)));
    let mut group = c.benchmark_group("dps_response_topic");
    group.bench_function("iot_dps_proto_parse", |b| {
        b.iter(|| ResponseTopic::parse(black_box(TOPIC)).unwrap())
    });
    group.bench_function("naive_fixed_split", |b| {
        b.iter(|| naive_split(black_box(TOPIC)))
    });
    group.finish();
}

fn operation_status(c: &mut Criterion) {
    let ours = RegistrationOperationStatus::from_slice(ASSIGNED.as_bytes()).unwrap();
    let bare: RegistrationOperationStatus = serde_json::from_slice(ASSIGNED.as_bytes()).unwrap();
    assert_eq!(ours, bare);
    let mut group = c.benchmark_group("dps_operation_status");
    group.bench_function("iot_dps_proto_from_slice", |b| {
        b.iter(|| RegistrationOperationStatus::from_slice(black_box(ASSIGNED.as_bytes())).unwrap())
    });
    group.bench_function("iot_dps_proto_bounds_check_only", |b| {
        b.iter(|| iot_dps_proto::check_json_bounds(black_box(ASSIGNED.as_bytes())).unwrap())
    });
    group.bench_function("bare_serde_json", |b| {
        b.iter(|| {
            serde_json::from_slice::<RegistrationOperationStatus>(black_box(ASSIGNED.as_bytes()))
                .unwrap()
        })
    });
    group.finish();
}

fn flow() -> Event {
    let mut client = ProvisioningClient::new(ClientConfig::default());
    let mut now = Duration::ZERO;
    let register = client.start(now).unwrap();
    let mut topic = [0u8; 128];
    black_box(register.write_mqtt_topic(&mut topic).unwrap());
    let answer = Response::from_mqtt(TOPIC, ASSIGNING.as_bytes()).unwrap();
    let _ = client.handle_response(now, &answer);
    now = client.poll_timeout().unwrap();
    client.handle_timeout(now);
    let poll = client.poll_transmit(now).unwrap();
    black_box(poll.write_mqtt_topic(&mut topic).unwrap());
    let answer =
        Response::from_mqtt("$dps/registrations/res/200/?$rid=2", ASSIGNED.as_bytes()).unwrap();
    let _ = client.handle_response(now, &answer);
    client.poll_event().unwrap()
}

fn client_flow(c: &mut Criterion) {
    assert!(matches!(flow(), Event::Assigned { .. }));
    let mut group = c.benchmark_group("dps_client_flow");
    group.bench_function("iot_dps_proto_client", |b| b.iter(flow));
    group.bench_function("bare_serde_json_two_bodies", |b| {
        b.iter(|| {
            let a: RegistrationOperationStatus =
                serde_json::from_slice(black_box(ASSIGNING.as_bytes())).unwrap();
            let b: RegistrationOperationStatus =
                serde_json::from_slice(black_box(ASSIGNED.as_bytes())).unwrap();
            (a, b)
        })
    });
    group.finish();
}

criterion_group!(benches, response_topic, operation_status, client_flow);
criterion_main!(benches);
