//! The device registration state machine, sans I/O (reference §5.5; quinn-proto shape).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use core::time::Duration;

use crate::client_config::SendWindow;
use crate::{
    ClientConfig, Error, Event, Failure, Handled, RegistrationOperationStatus, RegistrationStatus,
    Request, Response, ResponseBody, Rid, topic,
};

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
