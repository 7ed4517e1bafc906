//! The device registration state machine, sans I/O (reference §5.5; quinn-proto shape).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use core::fmt;
use core::time::Duration;

use serde_json::Value;

use crate::retry::SendWindow;
use crate::text::{decoded_eq, write_into};
use crate::{
    ClientConfig, DeviceRegistrationResult, Error, ErrorBody, RegistrationOperationStatus,
    RegistrationStatus, Response, ResponseBody, Substatus, topic,
};

/// A request ID chosen by the client: a counter, written in decimal as MQTT `$rid`
/// (csharp and iot-sdk-c also use integers; sdk-for-c always `1`, reference §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rid(pub u32);

impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Rid {
    /// True when a received `$rid` (raw, possibly percent-encoded) names this request.
    pub fn matches(&self, raw: &str) -> bool {
        let mut buf = [0u8; 10];
        write_into(&mut buf, format_args!("{}", self.0))
            .is_ok_and(|ours| decoded_eq(raw, ours, false))
    }
}

/// A request the caller must send now, transport-agnostic.
///
/// Over MQTT publish it (QoS 1) to [`mqtt_topic`](Self::mqtt_topic) with the register body
/// ([`DeviceRegistration::to_json`](crate::DeviceRegistration::to_json)) for `Register` and an
/// empty payload for `PollStatus`. Over HTTPS map it with
/// [`HttpsEndpoint::request`](crate::HttpsEndpoint::request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Register (MQTT `iotdps-register`, HTTPS `PUT .../register`).
    Register {
        /// The request ID.
        rid: Rid,
    },
    /// Ask for the operation's status (MQTT `iotdps-get-operationstatus`, HTTPS `GET .../operations/{id}`).
    PollStatus {
        /// The request ID.
        rid: Rid,
        /// The operation ID from the last `assigning` answer.
        operation_id: String,
    },
}

impl Request {
    /// The request ID.
    pub fn rid(&self) -> Rid {
        match self {
            Self::Register { rid } | Self::PollStatus { rid, .. } => *rid,
        }
    }

    /// Writes the MQTT publish topic into `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (untouched buffer), or an operation ID that cannot go into a
    /// topic ([`Error::InvalidIdentifier`]).
    pub fn write_mqtt_topic<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut rid = [0u8; 10];
        match self {
            Self::Register { rid: r } => {
                topic::write_register_topic(write_into(&mut rid, format_args!("{r}"))?, out)
            }
            Self::PollStatus {
                rid: r,
                operation_id,
            } => topic::write_operation_status_topic(
                write_into(&mut rid, format_args!("{r}"))?,
                operation_id,
                out,
            ),
        }
    }

    /// The MQTT publish topic.
    ///
    /// # Errors
    /// An operation ID that cannot go into a topic ([`Error::InvalidIdentifier`]).
    pub fn mqtt_topic(&self) -> Result<String, Error> {
        match self {
            Self::Register { rid } => topic::register_topic(&alloc::format!("{rid}")),
            Self::PollStatus { rid, operation_id } => {
                topic::operation_status_topic(&alloc::format!("{rid}"), operation_id)
            }
        }
    }
}

/// Why a registration failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The service answered with a non-retriable status (1xx, 3xx, or 4xx other than 429):
    /// its error body, if it sent one (reference §5.5; python and node fail on 300..=428).
    Service(Option<ErrorBody>),
    /// The operation ended with status `failed`; `errorCode`/`errorMessage` are in the
    /// registration state (e.g. `400207` custom allocation failed).
    Registration(Box<DeviceRegistrationResult>),
    /// The operation ended with a status this crate does not know.
    UnexpectedStatus(RegistrationStatus),
    /// A 2xx answer whose body is not a valid operation status, or an `assigned` answer
    /// without `assignedHub`/`deviceId` (sdk-for-c treats that as a parse error).
    Malformed(Error),
    /// [`ClientConfig::deadline`] passed before a final answer.
    DeadlineExceeded,
}

impl Failure {
    /// The service's 6-digit extended error code, if any.
    pub fn error_code(&self) -> Option<u32> {
        match self {
            Self::Service(Some(body)) => body.error_code,
            Self::Registration(state) => state.error_code,
            _ => None,
        }
    }
}

/// What the registration came to; see [`ProvisioningClient::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The device is assigned: connect to `assigned_hub` as `device_id` (reference §5.5 step 4).
    Assigned {
        /// Host name of the IoT hub.
        assigned_hub: String,
        /// Device ID in that hub.
        device_id: String,
        /// Why this hub, if the service said.
        substatus: Option<Substatus>,
        /// Custom allocation payload returned by the service.
        payload: Option<Value>,
        /// The whole registration state (etag, x509 details, issued certificates, ...).
        registration_state: Box<DeviceRegistrationResult>,
    },
    /// The enrollment or registration is disabled (reference §5.4).
    Disabled,
    /// The registration failed.
    Failed {
        /// The status code of the answer that ended it; `None` for a deadline.
        status: Option<u16>,
        /// Why.
        error: Failure,
    },
}

/// What [`ProvisioningClient::handle_response`] did with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Handled {
    /// It answered the request in flight and moved the state machine.
    Accepted,
    /// Its `$rid` names another request (an older, abandoned one, or another client's): ignored.
    ForeignRid,
    /// No request is in flight (not started, finished, or already answered): ignored.
    NotExpected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Register,
    Poll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Active,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    kind: Kind,
    rid: Rid,
    sent_at: Duration,
}

/// The DPS device registration flow as a deterministic state machine: no clock, no timers, no
/// I/O, no randomness (reference §5.5; style anchors, practices 1-2).
///
/// Time is a [`Duration`] since any origin the caller picks (a monotonic clock); it must never
/// go backwards. Inputs are `handle_*`, outputs `poll_*`:
///
/// 1. [`start(now)`](Self::start) returns the first [`Request`] (register); send it.
/// 2. Whenever a response arrives, call [`handle_response(now, &response)`](Self::handle_response).
/// 3. After every `start`/`handle_*` call, drain the outputs in this order:
///    [`poll_transmit(now)`](Self::poll_transmit) until `None` (send each request),
///    [`poll_event()`](Self::poll_event) until `None` (an [`Event`] ends the flow), then
///    [`poll_timeout()`](Self::poll_timeout): sleep until that instant unless a response arrives
///    first.
/// 4. When the instant is reached call [`handle_timeout(now)`](Self::handle_timeout) and go to 3.
///
/// The rules it applies (reference §5.5), with [`ClientConfig`] holding the numbers and their
/// sources: `assigning` answers are polled again after the clamped `retry-after` or the default
/// interval; 429 and 5xx resend the same request after exponential back-off (429 honours
/// `retry-after`); other 4xx/3xx fail with the service's error; answers whose `$rid` names
/// another request are ignored; a request unanswered for `response_timeout` is sent again; the
/// whole flow fails after `deadline`; and no more than [`POLLING_LIMIT`](crate::POLLING_LIMIT)
/// requests go out in any [`POLLING_WINDOW`](crate::POLLING_WINDOW) (sliding window over the
/// send times), whatever the service says.
#[derive(Debug, Clone)]
pub struct ProvisioningClient {
    config: ClientConfig,
    phase: Phase,
    next_rid: u32,
    operation_id: Option<String>,
    /// The next request to send and the earliest time to send it.
    scheduled: Option<(Kind, Duration)>,
    in_flight: Option<InFlight>,
    deadline_at: Duration,
    window: SendWindow,
    failures_in_a_row: u32,
    jitter: Duration,
    events: VecDeque<Event>,
    requests_sent: u32,
}

impl ProvisioningClient {
    /// A client with the given timing settings; nothing happens until [`start`](Self::start).
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            phase: Phase::Idle,
            next_rid: 1,
            operation_id: None,
            scheduled: None,
            in_flight: None,
            deadline_at: Duration::ZERO,
            window: SendWindow::default(),
            failures_in_a_row: 0,
            jitter: Duration::ZERO,
            events: VecDeque::new(),
            requests_sent: 0,
        }
    }

    /// The timing settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Starts (or restarts) a registration at `now` and returns the register request to send.
    ///
    /// Returns `None` only on a restart that the polling limit holds back; then
    /// [`poll_transmit`](Self::poll_transmit) yields the request once allowed. The send
    /// history is kept across restarts so the limit holds for the device as a whole.
    pub fn start(&mut self, now: Duration) -> Option<Request> {
        self.phase = Phase::Active;
        self.operation_id = None;
        self.in_flight = None;
        self.events.clear();
        self.failures_in_a_row = 0;
        self.deadline_at = now.saturating_add(self.config.deadline);
        self.scheduled = Some((Kind::Register, now));
        self.poll_transmit(now)
    }

    /// Sets the random jitter the caller drew; it is added to every wait the client chooses
    /// itself (default interval, back-off) until replaced. Draw a fresh value before each
    /// `handle_*` call for best spreading (e.g. uniform 0..=5 s, like csharp).
    pub fn set_jitter(&mut self, jitter: Duration) {
        self.jitter = jitter;
    }

    /// Takes a response (MQTT or HTTPS, see [`Response`]).
    ///
    /// Over MQTT a response whose `$rid` is not the one of the request in flight is ignored
    /// ([`Handled::ForeignRid`]); a response without `$rid` (HTTPS) answers the request in
    /// flight.
    pub fn handle_response(&mut self, now: Duration, response: &Response<'_>) -> Handled {
        let Some(in_flight) = self.in_flight.filter(|_| self.phase == Phase::Active) else {
            return Handled::NotExpected;
        };
        if let Some(raw) = response.rid
            && !in_flight.rid.matches(raw)
        {
            return Handled::ForeignRid;
        }
        self.in_flight = None;
        let status = response.status;
        match status {
            200..=299 => self.handle_success(now, response),
            429 => {
                self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
                let wait = self.config.throttled_wait(
                    response.retry_after,
                    self.failures_in_a_row,
                    self.jitter,
                );
                self.scheduled = Some((in_flight.kind, now.saturating_add(wait)));
            }
            500..=599 => {
                self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
                let wait = self.config.server_error_wait(
                    response.retry_after,
                    self.failures_in_a_row,
                    self.jitter,
                );
                self.scheduled = Some((in_flight.kind, now.saturating_add(wait)));
            }
            _ => {
                let error = match response.decode() {
                    Ok(ResponseBody::Error(body)) => body,
                    _ => None,
                };
                self.finish(Event::Failed {
                    status: Some(status),
                    error: Failure::Service(error),
                });
            }
        }
        Handled::Accepted
    }

    fn handle_success(&mut self, now: Duration, response: &Response<'_>) {
        let status = Some(response.status);
        let op = match RegistrationOperationStatus::from_slice(response.body) {
            Ok(op) => op,
            Err(err) => {
                return self.finish(Event::Failed {
                    status,
                    error: Failure::Malformed(err),
                });
            }
        };
        self.failures_in_a_row = 0;
        match op.status {
            RegistrationStatus::Assigning | RegistrationStatus::Unassigned => {
                if !op.operation_id.is_empty() {
                    // It goes raw into the MQTT poll topic (§5.2): refuse one that would break it.
                    if let Err(err) = topic::check_query_value(&op.operation_id, "operationId") {
                        return self.finish(Event::Failed {
                            status,
                            error: Failure::Malformed(err),
                        });
                    }
                    self.operation_id = Some(op.operation_id);
                }
                if self.operation_id.is_none() {
                    let error = Failure::Malformed(Error::Missing {
                        field: "operationId",
                    });
                    return self.finish(Event::Failed { status, error });
                }
                let wait = self.config.poll_interval(response.retry_after, self.jitter);
                self.scheduled = Some((Kind::Poll, now.saturating_add(wait)));
            }
            RegistrationStatus::Assigned => {
                let state = op.registration_state.unwrap_or_default();
                let (Some(assigned_hub), Some(device_id)) =
                    (state.assigned_hub.clone(), state.device_id.clone())
                else {
                    let field = if state.assigned_hub.is_none() {
                        "assignedHub"
                    } else {
                        "deviceId"
                    };
                    let error = Failure::Malformed(Error::Missing { field });
                    return self.finish(Event::Failed { status, error });
                };
                self.finish(Event::Assigned {
                    assigned_hub,
                    device_id,
                    substatus: state.substatus.clone(),
                    payload: state.payload.clone(),
                    registration_state: Box::new(state),
                });
            }
            RegistrationStatus::Disabled => self.finish(Event::Disabled),
            RegistrationStatus::Failed => {
                let state = Box::new(op.registration_state.unwrap_or_default());
                self.finish(Event::Failed {
                    status,
                    error: Failure::Registration(state),
                });
            }
            other @ RegistrationStatus::Unknown(_) => {
                self.finish(Event::Failed {
                    status,
                    error: Failure::UnexpectedStatus(other),
                });
            }
        }
    }

    fn finish(&mut self, event: Event) {
        self.phase = Phase::Done;
        self.scheduled = None;
        self.in_flight = None;
        self.events.push_back(event);
    }

    /// Advances time: fails the flow past the deadline, and treats a request unanswered for
    /// [`ClientConfig::response_timeout`] as lost (it is sent again, subject to the polling limit).
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.phase != Phase::Active {
            return;
        }
        if now >= self.deadline_at {
            return self.finish(Event::Failed {
                status: None,
                error: Failure::DeadlineExceeded,
            });
        }
        if let Some(in_flight) = self.in_flight
            && now
                >= in_flight
                    .sent_at
                    .saturating_add(self.config.response_timeout)
        {
            self.in_flight = None;
            self.scheduled = Some((in_flight.kind, now));
        }
    }

    /// The next request to send at `now`, if one is due and allowed by the polling limit.
    /// At most one request is in flight at a time.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Request> {
        if self.phase != Phase::Active || self.in_flight.is_some() || now >= self.deadline_at {
            return None;
        }
        let (kind, at) = self.scheduled?;
        if now < at.max(self.window.gate()) {
            return None;
        }
        let rid = Rid(self.next_rid);
        let request = match kind {
            Kind::Register => Request::Register { rid },
            Kind::Poll => Request::PollStatus {
                rid,
                operation_id: self.operation_id.clone()?,
            },
        };
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        self.scheduled = None;
        self.in_flight = Some(InFlight {
            kind,
            rid,
            sent_at: now,
        });
        self.window.record(now);
        self.requests_sent = self.requests_sent.saturating_add(1);
        Some(request)
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called; `None` when the flow
    /// is idle or finished.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.phase != Phase::Active {
            return None;
        }
        let next = match (self.in_flight, self.scheduled) {
            (Some(f), _) => Some(f.sent_at.saturating_add(self.config.response_timeout)),
            (None, Some((_, at))) => Some(at.max(self.window.gate())),
            (None, None) => None,
        };
        Some(next.map_or(self.deadline_at, |n| n.min(self.deadline_at)))
    }

    /// The outcome, once: `Assigned`, `Disabled` or `Failed` (then the flow is finished).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The operation ID of the registration in progress, once the service gave one.
    pub fn operation_id(&self) -> Option<&str> {
        self.operation_id.as_deref()
    }

    /// The request ID in flight, if any.
    pub fn in_flight(&self) -> Option<Rid> {
        self.in_flight.map(|f| f.rid)
    }

    /// True once an [`Event`] ended the flow.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Requests handed out so far (including resends).
    pub fn requests_sent(&self) -> u32 {
        self.requests_sent
    }
}

impl Default for ProvisioningClient {
    fn default() -> Self {
        Self::new(ClientConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_matches_decimal_text_encoded_or_not() {
        assert!(Rid(1).matches("1"));
        assert!(Rid(12).matches("%31%32"));
        assert!(Rid(u32::MAX).matches("4294967295"));
        assert!(!Rid(1).matches("01"));
        assert!(!Rid(1).matches("347d594a-5550-4018-8207-73a9baed6a64"));
        assert!(!Rid(1).matches(""));
    }

    #[test]
    fn request_topics_into_buffers() {
        let register = Request::Register { rid: Rid(1) };
        let mut buf = [0u8; 64];
        assert_eq!(
            register.write_mqtt_topic(&mut buf),
            Ok("$dps/registrations/PUT/iotdps-register/?$rid=1")
        );
        let poll = Request::PollStatus {
            rid: Rid(2),
            operation_id: "op".into(),
        };
        let expected = "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=op";
        assert_eq!(poll.mqtt_topic().unwrap(), expected);
        let mut small = [0xCCu8; 20];
        assert_eq!(
            poll.write_mqtt_topic(&mut small),
            Err(Error::BufferTooSmall {
                required: expected.len()
            })
        );
        assert!(small.iter().all(|&b| b == 0xCC));
        let bad = Request::PollStatus {
            rid: Rid(3),
            operation_id: "a&b".into(),
        };
        assert!(matches!(
            bad.mqtt_topic(),
            Err(Error::InvalidIdentifier { .. })
        ));
    }
}
