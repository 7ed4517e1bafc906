//! The registration state machine against a fake DPS on a virtual clock (style anchors,
//! practice 13; quinn-proto `tests/util.rs` shape). Time jumps to the next deadline, so every
//! scenario runs in microseconds and always the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::VecDeque;
use std::time::Duration;

use iot_dps_proto::{
    ClientConfig, DeviceRegistrationResult, ErrorBody, Event, Failure, Handled, POLLING_LIMIT,
    POLLING_WINDOW, ProvisioningClient, RegistrationOperationStatus, RegistrationStatus, Request,
    RequestTopic, Response, Substatus, response_topic,
};

const OPERATION_ID: &str = "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d";
const HUB: &str = "contoso.azure-devices.net";
const DEVICE: &str = "my-device-id1";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// How the fake service answers one request.
#[derive(Debug, Clone)]
enum Reply {
    /// 202 `assigning` with this `retry-after`.
    Assigning(Option<u32>),
    /// 200 `assigned`.
    Assigned,
    /// 200 `disabled` with an empty operation ID (sdk-for-c parser test).
    Disabled,
    /// 200 `failed` with errorCode 400207 (sdk-for-c parser test).
    AllocationFailed,
    /// 401 with the sdk-for-c `401002` error body.
    Unauthorized,
    /// 429 with this `retry-after`.
    Throttled(Option<u32>),
    /// 503 with an empty body.
    ServerError,
    /// 200 with a body that is not JSON.
    Garbage,
    /// Lost: no answer at all.
    Drop,
    /// First a 200 `assigned` to a hub of the attacker's choice with a foreign `$rid`, then `inner`.
    ForeignFirst(Box<Self>),
    /// Answer `inner` only after this extra delay (a late answer).
    Late(Duration, Box<Self>),
}

/// A DPS double that speaks MQTT topics and JSON built with this crate's own builders.
struct FakeDps {
    script: VecDeque<Reply>,
    latency: Duration,
    /// When the fake got each request, and what it was.
    received: Vec<(Duration, Request)>,
    /// Messages on the way to the device: delivery time, topic, payload.
    outbox: Vec<(Duration, String, Vec<u8>)>,
}

impl FakeDps {
    fn new(script: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            script: script.into_iter().collect(),
            latency: Duration::from_millis(40),
            received: Vec::new(),
            outbox: Vec::new(),
        }
    }

    fn receive(&mut self, now: Duration, request: Request) {
        // The topic the device would publish must parse on the service side.
        let topic = request.mqtt_topic().unwrap();
        let parsed = RequestTopic::parse(&topic).unwrap();
        let rid = parsed.rid().to_string();
        match (&request, parsed) {
            (Request::Register { .. }, RequestTopic::Register { .. }) => {}
            (
                Request::PollStatus { operation_id, .. },
                RequestTopic::OperationStatus {
                    operation_id: o, ..
                },
            ) => {
                assert_eq!(operation_id, o);
            }
            other => panic!("request and topic disagree: {other:?}"),
        }
        self.received.push((now, request));
        let reply = self.script.pop_front().unwrap_or(Reply::Assigned);
        self.answer(now + self.latency, &rid, reply);
    }

    fn answer(&mut self, at: Duration, rid: &str, reply: Reply) {
        let op = |status, state| RegistrationOperationStatus {
            operation_id: OPERATION_ID.into(),
            status,
            registration_state: state,
        };
        let (status, retry_after, body): (u16, Option<u32>, Vec<u8>) = match reply {
            Reply::Assigning(retry) => {
                (202, retry, op(RegistrationStatus::Assigning, None).to_json().unwrap())
            }
            Reply::Assigned => {
                let state = DeviceRegistrationResult {
                    registration_id: Some("myRegistrationId".into()),
                    assigned_hub: Some(HUB.into()),
                    device_id: Some(DEVICE.into()),
                    status: Some(RegistrationStatus::Assigned),
                    substatus: Some(Substatus::InitialAssignment),
                    payload: Some(serde_json::json!({"hello": "world"})),
                    ..Default::default()
                };
                (200, None, op(RegistrationStatus::Assigned, Some(state)).to_json().unwrap())
            }
            Reply::Disabled => (
                200,
                None,
                br#"{"operationId":"","status":"disabled","registrationState":{"registrationId":"myRegistrationId","status":"disabled"}}"#.to_vec(),
            ),
            Reply::AllocationFailed => {
                let state = DeviceRegistrationResult {
                    status: Some(RegistrationStatus::Failed),
                    error_code: Some(400207),
                    error_message: Some("Custom allocation failed with status code: 400".into()),
                    ..Default::default()
                };
                (200, None, op(RegistrationStatus::Failed, Some(state)).to_json().unwrap())
            }
            Reply::Unauthorized => (
                401,
                None,
                br#"{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b","message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}"#.to_vec(),
            ),
            Reply::Throttled(retry) => (429, retry, br#"{"errorCode":429001}"#.to_vec()),
            Reply::ServerError => (503, None, Vec::new()),
            Reply::Garbage => (200, None, b"<html>".to_vec()),
            Reply::Drop => return,
            Reply::ForeignFirst(inner) => {
                let evil = op(
                    RegistrationStatus::Assigned,
                    Some(DeviceRegistrationResult {
                        assigned_hub: Some("evil.example".into()),
                        device_id: Some("x".into()),
                        ..Default::default()
                    }),
                );
                let topic = response_topic(200, "999999", None).unwrap();
                self.outbox.push((at, topic, evil.to_json().unwrap()));
                return self.answer(at, rid, *inner);
            }
            Reply::Late(extra, inner) => return self.answer(at + extra, rid, *inner),
        };
        self.outbox
            .push((at, response_topic(status, rid, retry_after).unwrap(), body));
    }

    fn next_delivery(&self) -> Option<Duration> {
        self.outbox.iter().map(|(t, _, _)| *t).min()
    }

    fn take_due(&mut self, now: Duration) -> Vec<(String, Vec<u8>)> {
        let (due, later): (Vec<_>, Vec<_>) = self.outbox.drain(..).partition(|(t, _, _)| *t <= now);
        self.outbox = later;
        let mut due = due;
        due.sort_by_key(|(t, _, _)| *t);
        due.into_iter()
            .map(|(_, topic, payload)| (topic, payload))
            .collect()
    }

    /// Send times, to check the polling limit over a whole run.
    fn send_times(&self) -> Vec<Duration> {
        self.received.iter().map(|(t, _)| *t).collect()
    }
}

/// Everything a run produced.
struct Run {
    event: Event,
    end: Duration,
    dps: FakeDps,
    handled: Vec<Handled>,
}

/// Drives client and fake service until the client reports its event, jumping the virtual
/// clock to the next instant either side asked for.
fn drive(mut client: ProvisioningClient, mut dps: FakeDps) -> Run {
    let mut now = Duration::ZERO;
    let mut handled = Vec::new();
    let first = client.start(now).expect("first request");
    dps.receive(now, first);
    for _ in 0..10_000 {
        while let Some(request) = client.poll_transmit(now) {
            dps.receive(now, request);
        }
        if let Some(event) = client.poll_event() {
            assert!(client.is_finished());
            assert_eq!(client.poll_event(), None, "exactly one event");
            assert_eq!(
                client.poll_timeout(),
                None,
                "finished clients want no timer"
            );
            assert_polling_limit(&dps.send_times());
            return Run {
                event,
                end: now,
                dps,
                handled,
            };
        }
        let next = [client.poll_timeout(), dps.next_delivery()]
            .into_iter()
            .flatten()
            .min();
        let next = next.expect("an active client always has a timer");
        assert!(next >= now, "time never goes backwards");
        now = next;
        for (topic, payload) in dps.take_due(now) {
            let response = Response::from_mqtt(&topic, &payload).unwrap();
            handled.push(client.handle_response(now, &response));
        }
        if client.poll_timeout().is_some_and(|t| t <= now) {
            client.handle_timeout(now);
        }
    }
    panic!("no outcome after 10000 steps (livelock)");
}

/// No window of `POLLING_WINDOW` holds more than `POLLING_LIMIT` requests.
fn assert_polling_limit(times: &[Duration]) {
    for pair in times.windows(POLLING_LIMIT + 1) {
        let span = pair[POLLING_LIMIT] - pair[0];
        assert!(
            span >= POLLING_WINDOW,
            "{} requests within {span:?}: {times:?}",
            POLLING_LIMIT + 1
        );
    }
}

fn client() -> ProvisioningClient {
    ProvisioningClient::new(ClientConfig::default())
}

fn kinds(dps: &FakeDps) -> Vec<&'static str> {
    dps.received
        .iter()
        .map(|(_, r)| match r {
            Request::Register { .. } => "register",
            Request::PollStatus { .. } => "poll",
        })
        .collect()
}

#[test]
fn assigning_then_retry_after_then_assigned() {
    let run = drive(
        client(),
        FakeDps::new([
            Reply::Assigning(Some(3)),
            Reply::Assigning(Some(3)),
            Reply::Assigned,
        ]),
    );
    let Event::Assigned {
        assigned_hub,
        device_id,
        substatus,
        payload,
        registration_state,
    } = run.event
    else {
        panic!("{:?}", run.event)
    };
    assert_eq!((assigned_hub.as_str(), device_id.as_str()), (HUB, DEVICE));
    assert_eq!(substatus, Some(Substatus::InitialAssignment));
    assert_eq!(payload, Some(serde_json::json!({"hello": "world"})));
    assert_eq!(
        registration_state.registration_id.as_deref(),
        Some("myRegistrationId")
    );
    assert_eq!(kinds(&run.dps), ["register", "poll", "poll"]);
    // Each poll goes out exactly retry-after (3 s) after the answer arrived (40 ms latency).
    let t = run.dps.send_times();
    assert_eq!(
        t,
        [
            secs(0),
            Duration::from_millis(3040),
            Duration::from_millis(6080)
        ]
    );
    assert_eq!(run.end, Duration::from_millis(6120));
    assert!(run.handled.iter().all(|h| *h == Handled::Accepted));
}

#[test]
fn missing_retry_after_uses_default_interval_plus_jitter() {
    let mut c = client();
    c.set_jitter(Duration::from_millis(700));
    let run = drive(c, FakeDps::new([Reply::Assigning(None), Reply::Assigned]));
    assert!(matches!(run.event, Event::Assigned { .. }));
    assert_eq!(
        run.dps.send_times()[1],
        Duration::from_millis(40 + 2000 + 700)
    );
}

#[test]
fn retry_after_is_clamped_to_300_seconds() {
    let run = drive(
        client(),
        FakeDps::new([Reply::Assigning(Some(100_000)), Reply::Assigned]),
    );
    assert!(matches!(run.event, Event::Assigned { .. }));
    assert_eq!(
        run.dps.send_times()[1],
        Duration::from_millis(40) + secs(300)
    );
}

#[test]
fn throttled_429_honours_retry_after_then_backs_off() {
    let run = drive(
        client(),
        FakeDps::new([
            Reply::Throttled(Some(7)),
            Reply::Throttled(None),
            Reply::Assigning(Some(2)),
            Reply::Throttled(None),
            Reply::Assigned,
        ]),
    );
    assert!(
        matches!(run.event, Event::Assigned { .. }),
        "{:?}",
        run.event
    );
    // Throttled requests are sent again as they were: register twice more, then polls.
    assert_eq!(
        kinds(&run.dps),
        ["register", "register", "register", "poll", "poll"]
    );
    let t = run.dps.send_times();
    let ms = Duration::from_millis;
    assert_eq!(t[1], ms(40) + secs(7)); // retry-after 7
    assert_eq!(t[2], t[1] + ms(40) + secs(10)); // second failure in a row: 5 s * 2
    assert_eq!(t[3], t[2] + ms(40) + secs(2)); // assigning, retry-after 2
    assert_eq!(t[4], t[3] + ms(40) + secs(5)); // success reset the back-off: 5 s again
}

#[test]
fn server_errors_back_off_exponentially_from_five_seconds_with_jitter() {
    let mut c = client();
    c.set_jitter(Duration::from_millis(250));
    let run = drive(
        c,
        FakeDps::new([
            Reply::ServerError,
            Reply::ServerError,
            Reply::ServerError,
            Reply::Assigned,
        ]),
    );
    assert!(matches!(run.event, Event::Assigned { .. }));
    let t = run.dps.send_times();
    let gaps: Vec<_> = t
        .windows(2)
        .map(|w| w[1] - w[0] - Duration::from_millis(40))
        .collect();
    assert_eq!(
        gaps,
        [
            Duration::from_millis(5250),
            Duration::from_millis(10250),
            Duration::from_millis(20250)
        ]
    );
}

#[test]
fn disabled_ends_with_disabled() {
    let run = drive(
        client(),
        FakeDps::new([Reply::Assigning(Some(1)), Reply::Disabled]),
    );
    assert_eq!(run.event, Event::Disabled);
}

#[test]
fn unauthorized_fails_with_the_service_error_body() {
    let run = drive(client(), FakeDps::new([Reply::Unauthorized]));
    let Event::Failed { status, error } = run.event else {
        panic!("{:?}", run.event)
    };
    assert_eq!(status, Some(401));
    assert_eq!(error.error_code(), Some(401002));
    let Failure::Service(Some(ErrorBody {
        message,
        tracking_id,
        ..
    })) = error
    else {
        panic!()
    };
    assert_eq!(message.as_deref(), Some("Invalid certificate."));
    assert_eq!(
        tracking_id.as_deref(),
        Some("8ad0463c-6427-4479-9dfa-3e8bb7003e9b")
    );
    assert_eq!(run.dps.received.len(), 1, "4xx is not retried");
}

#[test]
fn failed_registration_reports_the_allocation_error() {
    let run = drive(
        client(),
        FakeDps::new([Reply::Assigning(Some(1)), Reply::AllocationFailed]),
    );
    let Event::Failed {
        status: Some(200),
        error: Failure::Registration(state),
    } = run.event
    else {
        panic!("{:?}", run.event)
    };
    assert_eq!(state.error_code, Some(400207));
}

#[test]
fn malformed_success_body_fails() {
    let run = drive(client(), FakeDps::new([Reply::Garbage]));
    assert!(matches!(
        run.event,
        Event::Failed {
            status: Some(200),
            error: Failure::Malformed(_)
        }
    ));
}

#[test]
fn lost_response_is_sent_again_after_the_response_timeout() {
    let run = drive(
        client(),
        FakeDps::new([
            Reply::Drop,
            Reply::Assigning(Some(1)),
            Reply::Drop,
            Reply::Assigned,
        ]),
    );
    assert!(matches!(run.event, Event::Assigned { .. }));
    assert_eq!(kinds(&run.dps), ["register", "register", "poll", "poll"]);
    let t = run.dps.send_times();
    assert_eq!(t[1], secs(30));
    assert_eq!(t[3], t[2] + secs(30));
    // Each resend carries a fresh $rid.
    let rids: Vec<_> = run.dps.received.iter().map(|(_, r)| r.rid()).collect();
    assert!(rids.windows(2).all(|w| w[0] != w[1]));
}

#[test]
fn late_answer_to_an_abandoned_request_is_ignored() {
    // The first answer arrives after the client gave up on it and resent.
    let run = drive(
        client(),
        // Sent at 0 s, answered at 30.03 s: after the resend at 30 s, before its answer.
        FakeDps::new([
            Reply::Late(Duration::from_millis(29_990), Box::new(Reply::Unauthorized)),
            Reply::Assigned,
        ]),
    );
    assert!(
        matches!(run.event, Event::Assigned { .. }),
        "{:?}",
        run.event
    );
    assert_eq!(run.handled, [Handled::ForeignRid, Handled::Accepted]);
}

#[test]
fn overall_deadline_fails_the_registration() {
    let config = ClientConfig::default().with_deadline(secs(60));
    let script = std::iter::repeat_n(Reply::Assigning(Some(20)), 100);
    let run = drive(ProvisioningClient::new(config), FakeDps::new(script));
    assert_eq!(
        run.event,
        Event::Failed {
            status: None,
            error: Failure::DeadlineExceeded
        }
    );
    assert_eq!(run.end, secs(60));
    assert!(run.dps.send_times().iter().all(|t| *t < secs(60)));
}

#[test]
fn foreign_rid_is_ignored() {
    let run = drive(
        client(),
        FakeDps::new([
            Reply::ForeignFirst(Box::new(Reply::Assigning(Some(1)))),
            Reply::Assigned,
        ]),
    );
    let Event::Assigned { assigned_hub, .. } = &run.event else {
        panic!("{:?}", run.event)
    };
    assert_eq!(
        assigned_hub, HUB,
        "the foreign answer must not assign the device"
    );
    assert_eq!(
        run.handled
            .iter()
            .filter(|h| **h == Handled::ForeignRid)
            .count(),
        1
    );
}

#[test]
fn polling_limit_holds_when_the_service_asks_for_zero_delay() {
    // retry-after 0 (clamped to 1 s) would poll every second; the window allows 5 per 10 s.
    let mut script: Vec<Reply> = std::iter::repeat_n(Reply::Assigning(Some(0)), 30).collect();
    script.push(Reply::Assigned);
    let run = drive(client(), FakeDps::new(script));
    assert!(matches!(run.event, Event::Assigned { .. }));
    let t = run.dps.send_times();
    assert_eq!(t.len(), 31);
    assert_polling_limit(&t);
    // It is held back by the window, not by a coarser rule: the 6th send is at exactly 10 s.
    assert_eq!(t[5], secs(10));
}

#[test]
fn polling_limit_holds_through_throttling_and_lost_answers() {
    let mut config = ClientConfig::default();
    config.backoff_initial = Duration::from_millis(100);
    config.response_timeout = secs(1);
    let mut script = Vec::new();
    for _ in 0..10 {
        script.extend([
            Reply::Throttled(Some(0)),
            Reply::Drop,
            Reply::ServerError,
            Reply::Assigning(Some(0)),
        ]);
    }
    let run = drive(ProvisioningClient::new(config), FakeDps::new(script));
    assert!(
        matches!(run.event, Event::Assigned { .. }),
        "{:?}",
        run.event
    );
    assert_polling_limit(&run.dps.send_times());
}

#[test]
fn https_responses_drive_the_same_machine() {
    let mut c = client();
    let mut now = Duration::ZERO;
    assert!(matches!(c.start(now), Some(Request::Register { .. })));
    let body = br#"{"operationId":"op1","status":"assigning"}"#;
    assert_eq!(
        c.handle_response(now, &Response::from_http(202, Some("3"), body)),
        Handled::Accepted
    );
    now = c.poll_timeout().unwrap();
    assert_eq!(now, secs(3));
    c.handle_timeout(now);
    let Some(Request::PollStatus { operation_id, .. }) = c.poll_transmit(now) else {
        panic!()
    };
    assert_eq!(operation_id, "op1");
    assert_eq!(c.operation_id(), Some("op1"));
    let body = br#"{"operationId":"op1","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}"#;
    let _ = c.handle_response(now, &Response::from_http(200, None, body));
    assert!(matches!(c.poll_event(), Some(Event::Assigned { .. })));
    assert_eq!(
        c.handle_response(now, &Response::from_http(200, None, body)),
        Handled::NotExpected
    );
}

#[test]
fn assigned_without_hub_is_malformed() {
    let mut c = client();
    let _ = c.start(Duration::ZERO).unwrap();
    let body = br#"{"operationId":"op","status":"assigned","registrationState":{"deviceId":"d"}}"#;
    let _ = c.handle_response(
        Duration::ZERO,
        &Response::from_mqtt("$dps/registrations/res/200/?$rid=1", body).unwrap(),
    );
    assert!(matches!(
        c.poll_event(),
        Some(Event::Failed {
            error: Failure::Malformed(iot_dps_proto::Error::Missing {
                field: "assignedHub"
            }),
            ..
        })
    ));
}

#[test]
fn assigning_without_operation_id_is_malformed() {
    let mut c = client();
    let _ = c.start(Duration::ZERO).unwrap();
    let r = Response::from_mqtt(
        "$dps/registrations/res/202/?$rid=1",
        br#"{"status":"assigning"}"#,
    )
    .unwrap();
    let _ = c.handle_response(Duration::ZERO, &r);
    assert!(matches!(
        c.poll_event(),
        Some(Event::Failed {
            error: Failure::Malformed(_),
            ..
        })
    ));
}

#[test]
fn operation_id_that_cannot_go_into_a_topic_is_malformed() {
    let mut c = client();
    let _ = c.start(Duration::ZERO).unwrap();
    let r = Response::from_mqtt(
        "$dps/registrations/res/202/?$rid=1",
        br#"{"operationId":"op&$rid=9","status":"assigning"}"#,
    )
    .unwrap();
    let _ = c.handle_response(Duration::ZERO, &r);
    assert!(matches!(
        c.poll_event(),
        Some(Event::Failed {
            error: Failure::Malformed(iot_dps_proto::Error::InvalidIdentifier {
                field: "operationId"
            }),
            ..
        })
    ));
}

#[test]
fn responses_before_start_are_not_expected() {
    let mut c = client();
    let r = Response::from_mqtt("$dps/registrations/res/200/?$rid=1", b"{}").unwrap();
    assert_eq!(c.handle_response(Duration::ZERO, &r), Handled::NotExpected);
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.poll_transmit(Duration::ZERO), None);
}

#[test]
fn restart_keeps_the_polling_window() {
    let mut c = client();
    let mut sends = Vec::new();
    for i in 0..7u64 {
        let now = Duration::from_millis(i * 100);
        if let Some(r) = c.start(now) {
            sends.push((now, r));
        }
    }
    assert_eq!(sends.len(), POLLING_LIMIT);
    // The held-back register goes out once the window allows it.
    let due = c.poll_timeout().unwrap();
    assert_eq!(due, secs(10));
    c.handle_timeout(due);
    assert!(matches!(
        c.poll_transmit(due),
        Some(Request::Register { .. })
    ));
}
