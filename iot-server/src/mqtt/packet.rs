//! The packet types (MQTT 3.1.1 §3).

use core::fmt;

/// Quality of service (§4.3). IoT Hub and DPS support 0 and 1 only; 2 is decoded so it can be
/// refused by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// At most once.
    AtMostOnce,
    /// At least once (PUBACK).
    AtLeastOnce,
    /// Exactly once: not supported by IoT Hub; a device that uses it is disconnected.
    ExactlyOnce,
}

impl QoS {
    /// From the two wire bits; 3 is malformed.
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }

    /// The two wire bits.
    pub fn bits(self) -> u8 {
        match self {
            Self::AtMostOnce => 0,
            Self::AtLeastOnce => 1,
            Self::ExactlyOnce => 2,
        }
    }
}

/// CONNACK return codes (§3.2.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    /// 0: accepted.
    Accepted,
    /// 1: unacceptable protocol version.
    UnacceptableProtocolVersion,
    /// 2: identifier rejected.
    IdentifierRejected,
    /// 3: server unavailable.
    ServerUnavailable,
    /// 4: bad user name or password.
    BadUserNameOrPassword,
    /// 5: not authorized. IoT Hub and DPS answer every refused credential with it; the SDKs
    /// report it as an authentication error (embedding.md §1).
    NotAuthorized,
}

impl ConnectReturnCode {
    /// The wire byte.
    pub fn code(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::UnacceptableProtocolVersion => 1,
            Self::IdentifierRejected => 2,
            Self::ServerUnavailable => 3,
            Self::BadUserNameOrPassword => 4,
            Self::NotAuthorized => 5,
        }
    }

    /// From the wire byte.
    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::Accepted,
            Self::UnacceptableProtocolVersion,
            Self::IdentifierRejected,
            Self::ServerUnavailable,
            Self::BadUserNameOrPassword,
            Self::NotAuthorized,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

/// The last will of a CONNECT (§3.1.2.5); accepted and ignored, as IoT Hub does.
#[derive(Clone, PartialEq, Eq)]
pub struct Will {
    /// Will topic.
    pub topic: String,
    /// Will message.
    pub payload: Vec<u8>,
    /// Will QoS.
    pub qos: QoS,
    /// Will retain flag.
    pub retain: bool,
}

impl fmt::Debug for Will {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Will")
            .field("topic", &self.topic)
            .field("payload_len", &self.payload.len())
            .field("qos", &self.qos)
            .finish_non_exhaustive()
    }
}

/// CONNECT (§3.1).
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    /// Protocol level: 4 for 3.1.1. Other levels decode so the server can answer CONNACK 1.
    pub protocol_level: u8,
    /// Clean session flag.
    pub clean_session: bool,
    /// Keep alive, seconds (0 = none).
    pub keep_alive: u16,
    /// Client identifier: the device ID (hub) or registration ID (DPS).
    pub client_id: String,
    /// Last will.
    pub will: Option<Will>,
    /// User name.
    pub username: Option<String>,
    /// Password: the SAS token, absent for X.509.
    pub password: Option<Vec<u8>>,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("protocol_level", &self.protocol_level)
            .field("clean_session", &self.clean_session)
            .field("keep_alive", &self.keep_alive)
            .field("client_id", &self.client_id)
            .field("will", &self.will)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// CONNACK (§3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnAck {
    /// Session present flag.
    pub session_present: bool,
    /// Return code.
    pub code: ConnectReturnCode,
}

/// PUBLISH (§3.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP flag.
    pub dup: bool,
    /// QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic name (no wildcards).
    pub topic: String,
    /// Packet identifier, present exactly when QoS > 0.
    pub packet_id: Option<u16>,
    /// Application message.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("qos", &self.qos)
            .field("topic", &self.topic)
            .field("packet_id", &self.packet_id)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

/// SUBSCRIBE (§3.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier.
    pub packet_id: u16,
    /// Topic filters with their requested QoS (at least one).
    pub filters: Vec<(String, QoS)>,
}

/// One MQTT 3.1.1 control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK with its packet identifier.
    PubAck(u16),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK: packet identifier and one return code per filter (0, 1, 2 or 0x80).
    SubAck {
        /// Packet identifier.
        packet_id: u16,
        /// Return codes.
        codes: Vec<u8>,
    },
    /// UNSUBSCRIBE: packet identifier and filters.
    Unsubscribe {
        /// Packet identifier.
        packet_id: u16,
        /// Topic filters (at least one).
        filters: Vec<String>,
    },
    /// UNSUBACK with its packet identifier.
    UnsubAck(u16),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect,
}

impl Packet {
    /// The packet type's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Connect(_) => "CONNECT",
            Self::ConnAck(_) => "CONNACK",
            Self::Publish(_) => "PUBLISH",
            Self::PubAck(_) => "PUBACK",
            Self::Subscribe(_) => "SUBSCRIBE",
            Self::SubAck { .. } => "SUBACK",
            Self::Unsubscribe { .. } => "UNSUBSCRIBE",
            Self::UnsubAck(_) => "UNSUBACK",
            Self::PingReq => "PINGREQ",
            Self::PingResp => "PINGRESP",
            Self::Disconnect => "DISCONNECT",
        }
    }
}
