//! One MQTT connection as a sans-I/O state machine (quinn-proto style): bytes and a clock value
//! in, packets to send and [`Event`]s out. It knows MQTT 3.1.1 (CONNECT first, keep-alive,
//! PINGREQ, one CONNECT only, size bounds) and nothing of hubs or DPS; the endpoint logic
//! answers the events with [`Connection::accept`], [`Connection::refuse`],
//! [`Connection::puback`], [`Connection::publish`] and friends.
//!
//! The transport is not its business: TLS streams and MQTT-over-WebSocket binary frames feed
//! the same [`Connection::handle_input`].
//!
//! Poll order after every input or timeout: [`Connection::poll_event`] until `None`, then
//! [`Connection::poll_transmit`], then [`Connection::poll_timeout`] for the next deadline.

use std::collections::VecDeque;
use std::time::Duration;

use crate::mqtt::{
    ConnAck, Connect, ConnectReturnCode, DecodeError, Packet, Publish, QoS, Subscribe, decode,
    encode,
};

/// What a connection reports to its endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The client's CONNECT: decide, then call [`Connection::accept`] or
    /// [`Connection::refuse`].
    Connect(Connect),
    /// A PUBLISH from the client (QoS 0 or 1); QoS 1 needs [`Connection::puback`].
    Publish(Publish),
    /// A SUBSCRIBE: answer with [`Connection::suback`].
    Subscribe(Subscribe),
    /// An UNSUBSCRIBE: answer with [`Connection::unsuback`].
    Unsubscribe {
        /// Packet identifier.
        packet_id: u16,
        /// The filters.
        filters: Vec<String>,
    },
}

/// Why a connection ended. After any of these, send what [`Connection::poll_transmit`] still
/// holds (a CONNACK with a refusal, for instance) and close the transport.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Close {
    /// The client sent DISCONNECT.
    #[error("client disconnected")]
    ClientDisconnected,
    /// The bytes are not MQTT 3.1.1.
    #[error("protocol error: {0}")]
    Protocol(#[from] DecodeError),
    /// The first packet was not CONNECT (§3.1.0-1).
    #[error("first packet was {0}, not CONNECT")]
    ConnectExpected(&'static str),
    /// A second CONNECT (§3.1.0-2).
    #[error("second CONNECT")]
    DuplicateConnect,
    /// A packet only a server sends.
    #[error("client sent {0}")]
    UnexpectedPacket(&'static str),
    /// No CONNECT before the deadline.
    #[error("no CONNECT within {0:?}")]
    ConnectTimeout(Duration),
    /// Nothing received for one and a half keep-alive periods (§3.1.2.10).
    #[error("keep-alive of {0} s expired")]
    KeepAlive(u16),
    /// The CONNECT was refused (CONNACK with a non-zero code is queued).
    #[error("connect refused with code {0}")]
    Refused(u8),
    /// The endpoint closed it (a topic naming another device, an oversized message, ...).
    #[error("{0}")]
    Policy(String),
    /// The server is stopping.
    #[error("server shutting down")]
    Shutdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for CONNECT until the deadline.
    AwaitingConnect { deadline: Duration },
    /// CONNECT reported, waiting for the endpoint's decision.
    Deciding,
    /// CONNACK 0 sent.
    Open,
    /// Ended.
    Closed,
}

/// One MQTT connection's protocol state.
#[derive(Debug)]
pub struct Connection {
    phase: Phase,
    max_packet_size: usize,
    connect_timeout: Duration,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    events: VecDeque<Event>,
    keep_alive: u16,
    last_input: Duration,
}

impl Connection {
    /// A new connection accepted at `now` (any monotonic clock origin).
    pub fn new(max_packet_size: usize, connect_timeout: Duration, now: Duration) -> Self {
        Self {
            phase: Phase::AwaitingConnect {
                deadline: now.saturating_add(connect_timeout),
            },
            max_packet_size,
            connect_timeout,
            inbuf: Vec::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            keep_alive: 0,
            last_input: now,
        }
    }

    /// Whether CONNACK 0 was sent and the connection is not closed.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Feeds bytes received from the transport. Packets that follow a CONNECT wait, undecoded,
    /// until the CONNECT is decided: the first packet a server sends must be the CONNACK
    /// (§3.2.0-1), so nothing after the CONNECT may be answered before it.
    ///
    /// # Errors
    /// [`Close`] when the connection must end; queued output should still be sent.
    pub fn handle_input(&mut self, data: &[u8], now: Duration) -> Result<(), Close> {
        if self.phase == Phase::Closed {
            return Err(Close::Policy("input after close".into()));
        }
        self.last_input = now;
        if self.phase == Phase::Deciding && self.inbuf.len() + data.len() > self.max_packet_size {
            self.phase = Phase::Closed;
            return Err(Close::Policy(
                "too much input before the CONNECT was answered".into(),
            ));
        }
        self.inbuf.extend_from_slice(data);
        self.process()
    }

    /// Decodes the buffered input until it runs out or a CONNECT awaits its decision.
    fn process(&mut self) -> Result<(), Close> {
        let mut used_total = 0;
        let result = loop {
            if matches!(self.phase, Phase::Deciding | Phase::Closed) {
                break Ok(());
            }
            match decode(&self.inbuf[used_total..], self.max_packet_size) {
                Ok(None) => break Ok(()),
                Ok(Some((packet, used))) => {
                    used_total += used;
                    if let Err(close) = self.handle_packet(packet) {
                        break Err(close);
                    }
                }
                Err(e) => break Err(Close::Protocol(e)),
            }
        };
        self.inbuf.drain(..used_total);
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn handle_packet(&mut self, packet: Packet) -> Result<(), Close> {
        match (self.phase, packet) {
            (Phase::AwaitingConnect { .. }, Packet::Connect(connect)) => {
                if connect.protocol_level != 4 {
                    self.send(&Packet::ConnAck(ConnAck {
                        session_present: false,
                        code: ConnectReturnCode::UnacceptableProtocolVersion,
                    }));
                    return Err(Close::Refused(1));
                }
                self.keep_alive = connect.keep_alive;
                self.phase = Phase::Deciding;
                self.events.push_back(Event::Connect(connect));
                Ok(())
            }
            (Phase::AwaitingConnect { .. }, other) => Err(Close::ConnectExpected(other.name())),
            (_, Packet::Connect(_)) => Err(Close::DuplicateConnect),
            (_, Packet::Disconnect) => Err(Close::ClientDisconnected),
            (_, Packet::PingReq) => {
                self.send(&Packet::PingResp);
                Ok(())
            }
            (_, Packet::Publish(publish)) => {
                if publish.qos == QoS::ExactlyOnce {
                    // IoT Hub does not support QoS 2 and closes the connection (Microsoft
                    // Learn "Communicate with an IoT hub using the MQTT protocol").
                    return Err(Close::Policy("QoS 2 is not supported".into()));
                }
                self.events.push_back(Event::Publish(publish));
                Ok(())
            }
            (_, Packet::Subscribe(subscribe)) => {
                self.events.push_back(Event::Subscribe(subscribe));
                Ok(())
            }
            (_, Packet::Unsubscribe { packet_id, filters }) => {
                self.events
                    .push_back(Event::Unsubscribe { packet_id, filters });
                Ok(())
            }
            // Acknowledgements of our QoS 1 publishes: replies are sent at QoS 0, so a
            // PUBACK from the client is tolerated and ignored.
            (_, Packet::PubAck(_)) => Ok(()),
            (_, other) => Err(Close::UnexpectedPacket(other.name())),
        }
    }

    /// The next event, in arrival order.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the transport (empty when none).
    pub fn poll_transmit(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// When [`Self::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.phase {
            Phase::AwaitingConnect { deadline } => Some(deadline),
            Phase::Open if self.keep_alive > 0 => {
                // §3.1.2.10: one and a half keep-alive periods.
                let grace = Duration::from_millis(u64::from(self.keep_alive) * 1500);
                Some(self.last_input.saturating_add(grace))
            }
            _ => None,
        }
    }

    /// Checks the deadlines at `now`.
    ///
    /// # Errors
    /// [`Close::ConnectTimeout`] or [`Close::KeepAlive`].
    pub fn handle_timeout(&mut self, now: Duration) -> Result<(), Close> {
        let expired = self.poll_timeout().is_some_and(|t| now >= t);
        if !expired {
            return Ok(());
        }
        let close = match self.phase {
            Phase::AwaitingConnect { .. } => Close::ConnectTimeout(self.connect_timeout),
            _ => Close::KeepAlive(self.keep_alive),
        };
        self.phase = Phase::Closed;
        Err(close)
    }

    /// Accepts the CONNECT: CONNACK 0 (sessions are not kept, so `session present` is 0),
    /// then decodes whatever the client sent after its CONNECT.
    ///
    /// # Errors
    /// [`Close`] when those packets end the connection.
    pub fn accept(&mut self) -> Result<(), Close> {
        if self.phase == Phase::Deciding {
            self.phase = Phase::Open;
            self.send(&Packet::ConnAck(ConnAck {
                session_present: false,
                code: ConnectReturnCode::Accepted,
            }));
            return self.process();
        }
        Ok(())
    }

    /// Refuses the CONNECT with `code` (IoT Hub and DPS: 5, not authorized) and closes.
    pub fn refuse(&mut self, code: ConnectReturnCode) -> Close {
        if self.phase == Phase::Deciding {
            self.send(&Packet::ConnAck(ConnAck {
                session_present: false,
                code,
            }));
        }
        self.phase = Phase::Closed;
        Close::Refused(code.code())
    }

    /// Acknowledges a QoS 1 PUBLISH.
    pub fn puback(&mut self, packet_id: u16) {
        self.send(&Packet::PubAck(packet_id));
    }

    /// Answers a SUBSCRIBE with one return code per filter (0, 1 or 0x80).
    pub fn suback(&mut self, packet_id: u16, codes: Vec<u8>) {
        self.send(&Packet::SubAck { packet_id, codes });
    }

    /// Answers an UNSUBSCRIBE.
    pub fn unsuback(&mut self, packet_id: u16) {
        self.send(&Packet::UnsubAck(packet_id));
    }

    /// Sends a QoS 0 PUBLISH to the client.
    pub fn publish(&mut self, topic: String, payload: Vec<u8>) {
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic,
            packet_id: None,
            payload,
        }));
    }

    /// Ends the connection from the server side.
    pub fn close(&mut self, reason: Close) -> Close {
        self.phase = Phase::Closed;
        reason
    }

    fn send(&mut self, packet: &Packet) {
        if self.phase != Phase::Closed {
            encode(packet, &mut self.out);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn bytes(packet: &Packet) -> Vec<u8> {
        let mut out = Vec::new();
        encode(packet, &mut out);
        out
    }

    fn connect(keep_alive: u16) -> Packet {
        Packet::Connect(Connect {
            protocol_level: 4,
            clean_session: true,
            keep_alive,
            client_id: "dev1".into(),
            will: None,
            username: Some("hub/dev1/?api-version=2021-04-12".into()),
            password: None,
        })
    }

    #[test]
    fn connect_then_accept_then_ping() {
        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        assert_eq!(c.poll_timeout(), Some(10 * S));
        // The CONNECT arrives in two pieces.
        let data = bytes(&connect(60));
        c.handle_input(&data[..5], S).unwrap();
        assert_eq!(c.poll_event(), None);
        c.handle_input(&data[5..], S).unwrap();
        assert!(matches!(c.poll_event(), Some(Event::Connect(_))));
        c.accept().unwrap();
        assert_eq!(c.poll_transmit(), vec![0x20, 2, 0, 0]);
        assert_eq!(c.poll_timeout(), Some(S + 90 * S));
        c.handle_input(&bytes(&Packet::PingReq), 2 * S).unwrap();
        assert_eq!(c.poll_transmit(), vec![0xd0, 0]);
        assert_eq!(c.handle_timeout(91 * S), Ok(()));
        assert_eq!(c.handle_timeout(92 * S), Err(Close::KeepAlive(60)));
    }

    #[test]
    fn nothing_is_answered_before_the_connack() {
        // Found by the server_mqtt_decode fuzz target: a client that pipelines PINGREQ after
        // its CONNECT got PINGRESP before CONNACK.
        let mut data = bytes(&connect(0));
        data.extend(bytes(&Packet::PingReq));
        data.extend(bytes(&Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![("$iothub/twin/res/#".into(), QoS::AtLeastOnce)],
        })));
        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        c.handle_input(&data, S).unwrap();
        assert!(matches!(c.poll_event(), Some(Event::Connect(_))));
        assert_eq!(c.poll_event(), None, "the SUBSCRIBE waits for the decision");
        assert!(c.poll_transmit().is_empty());
        c.accept().unwrap();
        assert_eq!(c.poll_transmit(), vec![0x20, 2, 0, 0, 0xd0, 0]);
        assert!(matches!(c.poll_event(), Some(Event::Subscribe(_))));

        // Refused: only the CONNACK goes out.
        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        c.handle_input(&data, S).unwrap();
        c.poll_event();
        c.refuse(ConnectReturnCode::NotAuthorized);
        assert_eq!(c.poll_transmit(), vec![0x20, 2, 0, 5]);

        // Pipelining is bounded while the decision is pending.
        let mut c = Connection::new(64, 10 * S, Duration::ZERO);
        c.handle_input(&bytes(&connect(0)), S).unwrap();
        assert!(c.handle_input(&[0xc0, 0].repeat(40), S).is_err());
    }

    #[test]
    fn refusal_sends_connack_5() {
        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        c.handle_input(&bytes(&connect(0)), S).unwrap();
        assert!(matches!(c.poll_event(), Some(Event::Connect(_))));
        assert_eq!(
            c.refuse(ConnectReturnCode::NotAuthorized),
            Close::Refused(5)
        );
        assert_eq!(c.poll_transmit(), vec![0x20, 2, 0, 5]);
    }

    #[test]
    fn connect_deadline_and_ordering_rules() {
        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        assert_eq!(c.handle_timeout(9 * S), Ok(()));
        assert_eq!(c.handle_timeout(10 * S), Err(Close::ConnectTimeout(10 * S)));

        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        assert_eq!(
            c.handle_input(&bytes(&Packet::PingReq), S),
            Err(Close::ConnectExpected("PINGREQ"))
        );

        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        let mut two = bytes(&connect(0));
        two.extend(bytes(&connect(0)));
        // The second CONNECT is read once the first is decided.
        assert_eq!(c.handle_input(&two, S), Ok(()));
        assert!(matches!(c.poll_event(), Some(Event::Connect(_))));
        assert_eq!(c.accept(), Err(Close::DuplicateConnect));

        let mut c = Connection::new(1024, 10 * S, Duration::ZERO);
        let mut v3 = bytes(&connect(0));
        v3[8] = 3;
        assert_eq!(c.handle_input(&v3, S), Err(Close::Refused(1)));
        assert_eq!(c.poll_transmit(), vec![0x20, 2, 0, 1]);
    }

    #[test]
    fn oversized_and_garbage_input_close() {
        let mut c = Connection::new(64, 10 * S, Duration::ZERO);
        c.handle_input(&bytes(&connect(0)), S).unwrap();
        c.poll_event();
        c.accept().unwrap();
        let big = Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: "t".into(),
            packet_id: None,
            payload: vec![0; 100],
        });
        assert!(matches!(
            c.handle_input(&bytes(&big)[..3], S),
            Err(Close::Protocol(DecodeError::TooLarge { .. }))
        ));
        let mut c = Connection::new(64, 10 * S, Duration::ZERO);
        assert!(matches!(
            c.handle_input(b"GET / HTTP/1.1\r\n", S),
            Err(Close::Protocol(_))
        ));
    }
}
