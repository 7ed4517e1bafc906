//! One MQTT 3.1.1 client connection as a sans-I/O state machine: bytes and a clock value in,
//! bytes and events out (the quinn-proto shape of `iot_dps_proto::ProvisioningClient`).
//!
//! Packets are encoded and decoded by rumqttc's MQTT 3.1.1 codec (`rumqttc::mqttbytes::v4`);
//! everything else (packet identifiers, acknowledgements, keep-alive) is here, so it is tested
//! without sockets. The tokio driver is `connection.rs`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Login, Packet, PubAck, Publish, Subscribe,
    SubscribeReasonCode,
};
use rumqttc::mqttbytes::{Error as CodecError, QoS};

use crate::{Error, InvalidInput, ProtocolError};

/// The CONNECT fields a session opens with.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ConnectFields {
    pub(crate) client_id: String,
    pub(crate) user_name: String,
    /// SAS token; `None` for X.509 (no password field at all, reference §5.1 and §6.1).
    pub(crate) password: Option<String>,
    pub(crate) keep_alive: Duration,
    pub(crate) clean_session: bool,
}

impl core::fmt::Debug for ConnectFields {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConnectFields")
            .field("client_id", &self.client_id)
            .field("user_name", &self.user_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("keep_alive", &self.keep_alive)
            .field("clean_session", &self.clean_session)
            .finish()
    }
}

/// What the session reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionEvent {
    /// CONNACK 0.
    Connected,
    /// A PUBLISH from the server (already acknowledged when QoS 1).
    Message { topic: String, payload: Bytes },
    /// The server acknowledged our QoS 1 publish with this packet identifier.
    PubAck(u16),
    /// The server answered our SUBSCRIBE; `granted` is false when any filter was refused.
    SubAck { pkid: u16, granted: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingConnAck,
    Connected,
    Closed,
}

/// The client side of one MQTT connection.
#[derive(Debug)]
pub(crate) struct Session {
    phase: Phase,
    keep_alive: Duration,
    max_packet: usize,
    next_pkid: u16,
    /// Packet identifiers of our QoS 1 publishes and subscribes waiting for their ack.
    awaiting_ack: Vec<u16>,
    last_sent: Duration,
    ping_sent_at: Option<Duration>,
    input: BytesMut,
    output: BytesMut,
    events: VecDeque<SessionEvent>,
}

impl Session {
    /// A session that has queued its CONNECT at `now`.
    pub(crate) fn new(
        connect: &ConnectFields,
        max_packet: usize,
        now: Duration,
    ) -> Result<Self, Error> {
        let keep_alive_secs = u16::try_from(connect.keep_alive.as_secs())
            .map_err(|_| InvalidInput::KeepAliveOverMqttMaximum)?;
        let mut packet = Connect::new(connect.client_id.clone());
        packet.keep_alive = keep_alive_secs;
        packet.clean_session = connect.clean_session;
        packet.login = Some(Login::new(
            connect.user_name.clone(),
            connect.password.clone().unwrap_or_default(),
        ));
        let mut session = Self {
            phase: Phase::AwaitingConnAck,
            keep_alive: Duration::from_secs(u64::from(keep_alive_secs)),
            max_packet,
            next_pkid: 1,
            awaiting_ack: Vec::new(),
            last_sent: now,
            ping_sent_at: None,
            input: BytesMut::new(),
            output: BytesMut::new(),
            events: VecDeque::new(),
        };
        session.write(&Packet::Connect(packet), now)?;
        Ok(session)
    }

    fn write(&mut self, packet: &Packet, now: Duration) -> Result<(), Error> {
        packet
            .write(&mut self.output, self.max_packet)
            .map_err(|e| match e {
                CodecError::OutgoingPacketTooLarge { pkt_size, max } => {
                    InvalidInput::PacketTooLarge {
                        size: pkt_size,
                        max,
                    }
                }
                other => InvalidInput::Encode(other),
            })?;
        self.last_sent = now;
        Ok(())
    }

    fn allocate_pkid(&mut self) -> u16 {
        // Identifiers 1..=65535, skipping ones still waiting for an ack (MQTT 3.1.1 §2.3.1).
        loop {
            let pkid = self.next_pkid;
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            if !self.awaiting_ack.contains(&pkid) {
                return pkid;
            }
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        match self.phase {
            Phase::Connected => Ok(()),
            Phase::AwaitingConnAck => Err(ProtocolError::NotConnected.into()),
            Phase::Closed => Err(Error::Closed),
        }
    }

    /// Queues a PUBLISH; returns its packet identifier for QoS 1 (wait for
    /// [`SessionEvent::PubAck`]), `None` for QoS 0.
    pub(crate) fn publish(
        &mut self,
        now: Duration,
        topic: &str,
        payload: Bytes,
        qos1: bool,
    ) -> Result<Option<u16>, Error> {
        self.check_open()?;
        if self.awaiting_ack.len() >= usize::from(u16::MAX) - 1 {
            return Err(InvalidInput::TooManyUnacknowledged.into());
        }
        let qos = if qos1 {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        let mut packet = Publish::from_bytes(topic, qos, payload);
        let pkid = qos1.then(|| self.allocate_pkid());
        packet.pkid = pkid.unwrap_or(0);
        self.write(&Packet::Publish(packet), now)?;
        if let Some(pkid) = pkid {
            self.awaiting_ack.push(pkid);
        }
        Ok(pkid)
    }

    /// Queues a SUBSCRIBE at QoS 1 for `filters`; returns its packet identifier.
    pub(crate) fn subscribe(&mut self, now: Duration, filters: &[&str]) -> Result<u16, Error> {
        self.check_open()?;
        if filters.is_empty() {
            return Err(InvalidInput::NoSubscribeFilter.into());
        }
        let mut packet = Subscribe::new_many(
            filters
                .iter()
                .map(|f| rumqttc::SubscribeFilter::new((*f).to_owned(), QoS::AtLeastOnce)),
        );
        let pkid = self.allocate_pkid();
        packet.pkid = pkid;
        self.write(&Packet::Subscribe(packet), now)?;
        self.awaiting_ack.push(pkid);
        Ok(pkid)
    }

    /// Queues a DISCONNECT; the session is closed afterwards.
    pub(crate) fn disconnect(&mut self, now: Duration) {
        if self.phase == Phase::Connected {
            let _ = self.write(&Packet::Disconnect, now);
        }
        self.phase = Phase::Closed;
    }

    /// Takes bytes received from the server. Complete packets become events; a partial
    /// packet waits for more bytes.
    ///
    /// # Errors
    /// [`Error::Refused`] for a non-zero CONNACK, [`Error::Protocol`] for a malformed or
    /// unexpected packet. The session is closed after any error.
    pub(crate) fn handle_input(&mut self, now: Duration, bytes: &[u8]) -> Result<(), Error> {
        self.input.extend_from_slice(bytes);
        let result = self.decode_all(now);
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn decode_all(&mut self, now: Duration) -> Result<(), Error> {
        loop {
            if self.input.is_empty() {
                return Ok(());
            }
            let packet = match Packet::read(&mut self.input, self.max_packet) {
                Ok(packet) => packet,
                Err(CodecError::InsufficientBytes(_)) => return Ok(()),
                Err(err) => return Err(ProtocolError::Undecodable(err).into()),
            };
            self.handle_packet(now, packet)?;
        }
    }

    fn handle_packet(&mut self, now: Duration, packet: Packet) -> Result<(), Error> {
        match (self.phase, packet) {
            (Phase::AwaitingConnAck, Packet::ConnAck(ConnAck { code, .. })) => {
                if code != ConnectReturnCode::Success {
                    return Err(Error::Refused { code: code as u8 });
                }
                self.phase = Phase::Connected;
                self.events.push_back(SessionEvent::Connected);
                Ok(())
            }
            (Phase::Connected, Packet::Publish(publish)) => {
                match publish.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        self.write(&Packet::PubAck(PubAck::new(publish.pkid)), now)?
                    }
                    QoS::ExactlyOnce => {
                        return Err(ProtocolError::QoS2Publish.into());
                    }
                }
                self.events.push_back(SessionEvent::Message {
                    topic: publish.topic,
                    payload: publish.payload,
                });
                Ok(())
            }
            (Phase::Connected, Packet::PubAck(ack)) => {
                self.take_ack(ack.pkid, "PUBACK")?;
                self.events.push_back(SessionEvent::PubAck(ack.pkid));
                Ok(())
            }
            (Phase::Connected, Packet::SubAck(ack)) => {
                self.take_ack(ack.pkid, "SUBACK")?;
                let granted = ack
                    .return_codes
                    .iter()
                    .all(|c| matches!(c, SubscribeReasonCode::Success(_)));
                self.events.push_back(SessionEvent::SubAck {
                    pkid: ack.pkid,
                    granted,
                });
                Ok(())
            }
            (Phase::Connected, Packet::PingResp) => {
                self.ping_sent_at = None;
                Ok(())
            }
            (Phase::Connected, Packet::UnsubAck(_)) => Ok(()),
            (_, other) => Err(ProtocolError::Unexpected {
                packet: packet_name(&other),
            }
            .into()),
        }
    }

    fn take_ack(&mut self, pkid: u16, packet: &'static str) -> Result<(), Error> {
        let Some(index) = self.awaiting_ack.iter().position(|&p| p == pkid) else {
            return Err(ProtocolError::UnknownAck { packet, pkid }.into());
        };
        self.awaiting_ack.swap_remove(index);
        Ok(())
    }

    /// The next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Bytes to send now, if any.
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.output.is_empty()).then(|| self.output.split().freeze())
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called: the keep-alive
    /// ping, or the deadline of an unanswered ping. `None` when keep-alive is off.
    pub(crate) fn poll_timeout(&self) -> Option<Duration> {
        if self.keep_alive.is_zero() || self.phase != Phase::Connected {
            return None;
        }
        Some(match self.ping_sent_at {
            Some(sent) => sent.saturating_add(self.keep_alive),
            None => self.last_sent.saturating_add(self.keep_alive),
        })
    }

    /// Sends PINGREQ after `keep_alive` without sending anything (MQTT 3.1.1 §3.1.2.10);
    /// fails when a PINGREQ stayed unanswered for another `keep_alive`.
    ///
    /// # Errors
    /// [`Error::Timeout`] for a lost PINGRESP.
    pub(crate) fn handle_timeout(&mut self, now: Duration) -> Result<(), Error> {
        let Some(due) = self.poll_timeout() else {
            return Ok(());
        };
        if now < due {
            return Ok(());
        }
        if self.ping_sent_at.is_some() {
            self.phase = Phase::Closed;
            return Err(Error::Timeout("PINGRESP"));
        }
        self.write(&Packet::PingReq, now)?;
        self.ping_sent_at = Some(now);
        Ok(())
    }

    /// True once CONNACK 0 arrived and nothing closed the session.
    #[cfg(test)]
    pub(crate) fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }
}

fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::Subscribe(_) => "SUBSCRIBE",
        Packet::SubAck(_) => "SUBACK",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingReq => "PINGREQ",
        Packet::PingResp => "PINGRESP",
        Packet::Disconnect => "DISCONNECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 300 * 1024;

    fn fields(password: Option<&str>) -> ConnectFields {
        ConnectFields {
            client_id: "dev1".to_owned(),
            user_name: "hub.example/dev1/?api-version=2021-04-12".to_owned(),
            password: password.map(str::to_owned),
            keep_alive: Duration::from_secs(60),
            clean_session: false,
        }
    }

    fn server_bytes(packet: &Packet) -> Vec<u8> {
        let mut out = BytesMut::new();
        packet.write(&mut out, MAX).unwrap();
        out.to_vec()
    }

    fn decode_sent(session: &mut Session) -> Vec<Packet> {
        let mut bytes = BytesMut::from(&session.poll_transmit().unwrap()[..]);
        let mut packets = Vec::new();
        while !bytes.is_empty() {
            packets.push(Packet::read(&mut bytes, MAX).unwrap());
        }
        packets
    }

    fn connected(now: Duration) -> Session {
        let mut s = Session::new(&fields(Some("SharedAccessSignature sr=x")), MAX, now).unwrap();
        let _ = s.poll_transmit();
        let ack = server_bytes(&Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::Success,
            false,
        )));
        s.handle_input(now, &ack).unwrap();
        assert_eq!(s.poll_event(), Some(SessionEvent::Connected));
        s
    }

    #[test]
    fn connect_packet_carries_the_fields_and_no_password_for_x509() {
        let mut s = Session::new(&fields(Some("tok")), MAX, Duration::ZERO).unwrap();
        let [Packet::Connect(c)] = &decode_sent(&mut s)[..] else {
            panic!("expected one CONNECT")
        };
        assert_eq!(c.client_id, "dev1");
        assert_eq!(c.keep_alive, 60);
        assert!(!c.clean_session);
        let login = c.login.as_ref().unwrap();
        assert_eq!(login.username, "hub.example/dev1/?api-version=2021-04-12");
        assert_eq!(login.password, "tok");

        let mut s = Session::new(&fields(None), MAX, Duration::ZERO).unwrap();
        let raw = s.poll_transmit().unwrap();
        // Connect flags byte: user name (0x80) set, password (0x40) clear.
        let flags = raw[9];
        assert_eq!(flags & 0xC0, 0x80, "flags {flags:#04x}");
    }

    #[test]
    fn refused_connack_is_a_typed_refusal() {
        let mut s = Session::new(&fields(Some("t")), MAX, Duration::ZERO).unwrap();
        let refused = server_bytes(&Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::NotAuthorized,
            false,
        )));
        let err = s.handle_input(Duration::ZERO, &refused).unwrap_err();
        assert!(matches!(err, Error::Refused { code: 5 }), "{err:?}");
        assert!(!s.is_connected());
        assert!(matches!(
            s.publish(Duration::ZERO, "t", Bytes::new(), true),
            Err(Error::Closed)
        ));
    }

    #[test]
    fn qos1_publish_resolves_on_its_puback_only() {
        let mut s = connected(Duration::ZERO);
        let a = s
            .publish(
                Duration::ZERO,
                "devices/dev1/messages/events/",
                Bytes::from_static(b"a"),
                true,
            )
            .unwrap()
            .unwrap();
        let b = s
            .publish(
                Duration::ZERO,
                "devices/dev1/messages/events/",
                Bytes::from_static(b"b"),
                true,
            )
            .unwrap()
            .unwrap();
        assert_ne!(a, b);
        let sent = decode_sent(&mut s);
        assert_eq!(sent.len(), 2);
        s.handle_input(
            Duration::ZERO,
            &server_bytes(&Packet::PubAck(PubAck::new(b))),
        )
        .unwrap();
        assert_eq!(s.poll_event(), Some(SessionEvent::PubAck(b)));
        assert_eq!(s.poll_event(), None);
        // A PUBACK for an identifier nothing waits for is a protocol error.
        let err = s
            .handle_input(
                Duration::ZERO,
                &server_bytes(&Packet::PubAck(PubAck::new(b))),
            )
            .unwrap_err();
        let Error::Protocol(ProtocolError::UnknownAck { packet, pkid }) = &err else {
            panic!("{err:?}");
        };
        assert_eq!((*packet, *pkid), ("PUBACK", b));
        assert_eq!(
            err.to_string(),
            format!("mqtt protocol: PUBACK for packet identifier {b}, which nothing waits for")
        );
        assert!(err.is_retryable());
    }

    #[test]
    fn incoming_qos1_publish_is_acknowledged_and_split_packets_reassemble() {
        let mut s = connected(Duration::ZERO);
        let mut publish = Publish::new("$iothub/twin/res/200/?$rid=1", QoS::AtLeastOnce, "{}");
        publish.pkid = 7;
        let bytes = server_bytes(&Packet::Publish(publish));
        let (head, tail) = bytes.split_at(3);
        s.handle_input(Duration::ZERO, head).unwrap();
        assert_eq!(s.poll_event(), None);
        s.handle_input(Duration::ZERO, tail).unwrap();
        assert_eq!(
            s.poll_event(),
            Some(SessionEvent::Message {
                topic: "$iothub/twin/res/200/?$rid=1".to_owned(),
                payload: Bytes::from_static(b"{}")
            })
        );
        assert_eq!(decode_sent(&mut s), vec![Packet::PubAck(PubAck::new(7))]);
    }

    #[test]
    fn keep_alive_pings_and_fails_without_pingresp() {
        let s0 = Duration::ZERO;
        let mut s = connected(s0);
        assert_eq!(s.poll_timeout(), Some(Duration::from_secs(60)));
        s.handle_timeout(Duration::from_secs(59)).unwrap();
        assert!(s.poll_transmit().is_none());
        s.handle_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(decode_sent(&mut s), vec![Packet::PingReq]);
        assert_eq!(s.poll_timeout(), Some(Duration::from_secs(120)));
        s.handle_input(Duration::from_secs(61), &server_bytes(&Packet::PingResp))
            .unwrap();
        assert_eq!(s.poll_timeout(), Some(Duration::from_secs(120)));
        s.handle_timeout(Duration::from_secs(120)).unwrap();
        assert_eq!(decode_sent(&mut s), vec![Packet::PingReq]);
        let err = s.handle_timeout(Duration::from_secs(180)).unwrap_err();
        assert!(matches!(err, Error::Timeout("PINGRESP")));
        assert!(!s.is_connected());
    }

    #[test]
    fn garbage_and_unexpected_packets_are_errors_not_panics() {
        let mut s = Session::new(&fields(None), MAX, Duration::ZERO).unwrap();
        // A PUBLISH before CONNACK.
        let publish = server_bytes(&Packet::Publish(Publish::new("t", QoS::AtMostOnce, "x")));
        assert!(matches!(
            s.handle_input(Duration::ZERO, &publish),
            Err(Error::Protocol(_))
        ));
        let mut s = connected(Duration::ZERO);
        assert!(matches!(
            s.handle_input(Duration::ZERO, &[0xF0, 0x00]),
            Err(Error::Protocol(_))
        ));
        let mut s = connected(Duration::ZERO);
        // Remaining length beyond the limit.
        assert!(
            s.handle_input(Duration::ZERO, &[0x30, 0xFF, 0xFF, 0xFF, 0x7F])
                .is_err()
        );
    }

    #[test]
    fn subscribe_acks_report_refusals() {
        let mut s = connected(Duration::ZERO);
        let pkid = s
            .subscribe(Duration::ZERO, &["$dps/registrations/res/#"])
            .unwrap();
        let [Packet::Subscribe(sub)] = &decode_sent(&mut s)[..] else {
            panic!()
        };
        assert_eq!(sub.filters[0].path, "$dps/registrations/res/#");
        assert_eq!(sub.filters[0].qos, QoS::AtLeastOnce);
        let ack = rumqttc::mqttbytes::v4::SubAck::new(pkid, vec![SubscribeReasonCode::Failure]);
        s.handle_input(Duration::ZERO, &server_bytes(&Packet::SubAck(ack)))
            .unwrap();
        assert_eq!(
            s.poll_event(),
            Some(SessionEvent::SubAck {
                pkid,
                granted: false
            })
        );
    }
}
