//! Not part of the stable interface: hooks for the fuzz targets (`fuzz/logic/device_*.rs`),
//! in the style of rustls' `internal` module. They expose the sans-I/O MQTT session so the
//! bytes a server sends can be fuzzed without sockets.

use std::time::Duration;

use bytes::Bytes;

use crate::session::{ConnectFields, Session, SessionEvent};

/// What [`FuzzSession::poll_event`] reports, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FuzzEvent {
    /// CONNACK 0.
    Connected,
    /// A PUBLISH from the server.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload length.
        len: usize,
    },
    /// PUBACK for this packet identifier.
    PubAck(u16),
    /// SUBACK for this packet identifier.
    SubAck(u16, bool),
}

/// The crate's MQTT client session behind a small, stable-enough surface for fuzzing.
#[derive(Debug)]
pub struct FuzzSession(Session);

impl FuzzSession {
    /// A session with an SAS-style password and a 60 s keep-alive, its CONNECT queued.
    ///
    /// # Errors
    /// A description of the error (never for these fixed fields).
    pub fn new(max_packet: usize) -> Result<Self, String> {
        let fields = ConnectFields {
            client_id: "fuzz-device".to_owned(),
            user_name: "hub.example/fuzz-device/?api-version=2021-04-12".to_owned(),
            password: Some("SharedAccessSignature sr=x&sig=y&se=1".to_owned()),
            keep_alive: Duration::from_secs(60),
            clean_session: false,
        };
        Session::new(&fields, max_packet, Duration::ZERO)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// Feeds bytes from the server at `now`.
    ///
    /// # Errors
    /// The session's error as text (and whether it was a CONNACK refusal).
    pub fn handle_input(&mut self, now: Duration, bytes: &[u8]) -> Result<(), (String, bool)> {
        self.0
            .handle_input(now, bytes)
            .map_err(|e| (e.to_string(), e.is_refused()))
    }

    /// Queues a publish; the packet identifier for QoS 1.
    ///
    /// # Errors
    /// The session's error as text.
    pub fn publish(
        &mut self,
        now: Duration,
        topic: &str,
        qos1: bool,
    ) -> Result<Option<u16>, String> {
        self.0
            .publish(now, topic, Bytes::from_static(b"{}"), qos1)
            .map_err(|e| e.to_string())
    }

    /// Queues a subscribe; its packet identifier.
    ///
    /// # Errors
    /// The session's error as text.
    pub fn subscribe(&mut self, now: Duration, filter: &str) -> Result<u16, String> {
        self.0.subscribe(now, &[filter]).map_err(|e| e.to_string())
    }

    /// Advances time (keep-alive).
    ///
    /// # Errors
    /// The session's error as text.
    pub fn handle_timeout(&mut self, now: Duration) -> Result<(), String> {
        self.0.handle_timeout(now).map_err(|e| e.to_string())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<FuzzEvent> {
        self.0.poll_event().map(|e| match e {
            SessionEvent::Connected => FuzzEvent::Connected,
            SessionEvent::Message { topic, payload } => FuzzEvent::Message {
                topic,
                len: payload.len(),
            },
            SessionEvent::PubAck(p) => FuzzEvent::PubAck(p),
            SessionEvent::SubAck { pkid, granted } => FuzzEvent::SubAck(pkid, granted),
        })
    }

    /// Bytes the session wants to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.0.poll_transmit().map(|b| b.to_vec())
    }
}
