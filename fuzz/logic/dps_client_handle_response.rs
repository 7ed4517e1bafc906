// Fuzz logic for `iot_dps_proto::ProvisioningClient`: a random sequence of responses and
// timer expiries, shared by the cargo-fuzz target and iot-dps-proto/tests/fuzz_replay.rs.
//
// Input: records of [action, status, retry, len, body...]:
//   action % 4: 0 answer the request in flight, 1 answer with a foreign $rid,
//               2 answer without $rid (HTTPS), 3 let time pass to the next timeout;
//   status: one of the statuses DPS uses, or any other 1xx..5xx;
//   retry: 0 = no retry-after, 255 = u32::MAX, else retry - 1 seconds (also the jitter in ms);
//   len: body length (truncated to what is left).
//
// Invariants: never panics; time given is monotonic and the machine's next timeout never lies
// in the past; at most one event, nothing sent after it; at most one request in flight, and
// every request has a valid MQTT topic; never
// more than POLLING_LIMIT requests in any POLLING_WINDOW; a foreign $rid is never accepted.

pub fn run(data: &[u8]) {
    use core::time::Duration;
    use iot_dps_proto::{
        ClientConfig, Handled, POLLING_LIMIT, POLLING_WINDOW, ProvisioningClient, Response,
    };

    const STATUSES: [u16; 12] = [200, 202, 202, 429, 500, 503, 400, 401, 404, 412, 302, 100];
    let mut client = ProvisioningClient::new(ClientConfig::default());
    let mut now = Duration::ZERO;
    let mut sent: Vec<Duration> = Vec::new();
    let mut in_flight: Option<String> = None;
    let mut events = 0usize;

    if let Some(request) = client.start(now) {
        in_flight = Some(request.rid().to_string());
        sent.push(now);
    }
    let mut rest = data;
    while let [action, status, retry, len, tail @ ..] = rest {
        let body_len = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(body_len);
        rest = next;
        let status = match STATUSES.get(usize::from(*status)) {
            Some(s) => *s,
            None => 100 + u16::from(*status) * 2,
        };
        let retry_after = match *retry {
            0 => None,
            255 => Some(u32::MAX),
            r => Some(u32::from(r) - 1),
        };
        client.set_jitter(Duration::from_millis(u64::from(*retry)));
        match action % 4 {
            3 => {
                if let Some(t) = client.poll_timeout() {
                    assert!(t >= now, "timeout in the past");
                    now = t;
                    client.handle_timeout(now);
                    if client.in_flight().is_none() {
                        in_flight = None;
                    }
                }
            }
            a => {
                let rid = match a {
                    0 => in_flight.clone(),
                    1 => Some(String::from("foreign-rid")),
                    _ => None,
                };
                let response = Response {
                    status,
                    rid: rid.as_deref(),
                    retry_after,
                    body,
                };
                let handled = client.handle_response(now, &response);
                if a == 1 {
                    assert_ne!(handled, Handled::Accepted, "foreign rid accepted");
                }
                if handled == Handled::Accepted {
                    in_flight = None;
                }
            }
        }
        while let Some(request) = client.poll_transmit(now) {
            assert!(in_flight.is_none(), "two requests in flight");
            assert_eq!(events, 0, "request after the final event");
            assert!(
                request.mqtt_topic().is_ok(),
                "request without a valid topic"
            );
            in_flight = Some(request.rid().to_string());
            sent.push(now);
        }
        while client.poll_event().is_some() {
            events += 1;
            assert!(client.is_finished());
        }
        assert!(events <= 1, "more than one event");
    }
    assert_eq!(sent.len(), client.requests_sent() as usize);
    for pair in sent.windows(POLLING_LIMIT + 1) {
        assert!(
            pair[POLLING_LIMIT] - pair[0] >= POLLING_WINDOW,
            "polling limit exceeded"
        );
    }
}
