//! The typed causes behind [`Error`](crate::Error)'s TLS, WebSocket, protocol, input and store
//! variants. Each keeps the underlying library's error (rustls, tungstenite, rumqttc,
//! serde_json, I/O) as its `source()` where there is one; the rest are conditions this crate
//! detects itself. `Display` gives the text the parent variant appends.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_tungstenite::tungstenite;

/// Why TLS could not be set up or the handshake failed ([`Error::Tls`](crate::Error::Tls)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The handshake failed: a bad server certificate, an unsupported key, an alert.
    #[error("{0}")]
    Handshake(#[source] rustls::Error),
    /// [`ServerTrust::System`](crate::ServerTrust::System) found no usable CA in the system
    /// store.
    #[error("no trusted CA in the system store; pass the server's CA")]
    NoSystemRoots,
    /// A CA given as the server's trust anchor was refused.
    #[error("unusable CA certificate: {0}")]
    UnusableCa(#[source] rustls::Error),
    /// The crypto provider refused the protocol versions (TLS 1.3 and 1.2).
    #[error("{0}")]
    Versions(#[source] rustls::Error),
    /// The client certificate chain or its private key was refused.
    #[error("client certificate or key: {0}")]
    ClientIdentity(#[source] rustls::Error),
}

/// Why the WebSocket upgrade or a WebSocket frame failed
/// ([`Error::WebSocket`](crate::Error::WebSocket)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebSocketError {
    /// tungstenite refused the upgrade request, the server's answer, or a later frame.
    /// (I/O errors and a closed connection are [`Error::Network`](crate::Error::Network) and
    /// [`Error::Closed`](crate::Error::Closed) instead.)
    #[error("{0}")]
    Tungstenite(#[source] tungstenite::Error),
    /// The server did not echo subprotocol `mqtt` (reference §5.1, §6.1).
    #[error("the server did not select subprotocol mqtt (got {echoed:?})")]
    NoMqttSubprotocol {
        /// The `Sec-WebSocket-Protocol` the server answered, if any.
        echoed: Option<String>,
    },
}

/// How the peer broke MQTT 3.1.1, or why the connection ended
/// ([`Error::Protocol`](crate::Error::Protocol)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The connection task stopped with this error; it is shared because every later call on
    /// the connection reports it.
    #[error("the connection ended: {0}")]
    Ended(#[source] Arc<crate::Error>),
    /// The connection task panicked or was cancelled.
    #[error("the connection ended: {0}")]
    TaskFailed(#[source] Arc<tokio::task::JoinError>),
    /// The caller left more received messages unread than the connection buffers.
    #[error("more than {max} received messages were left unread")]
    Unread {
        /// The number of messages buffered.
        max: usize,
    },
    /// A request before the server's CONNACK.
    #[error("not connected yet")]
    NotConnected,
    /// Bytes that do not decode as an MQTT 3.1.1 packet.
    #[error("undecodable packet: {0}")]
    Undecodable(#[source] rumqttc::mqttbytes::Error),
    /// A QoS 2 PUBLISH, which no subscription of this client asks for.
    #[error("a QoS 2 PUBLISH although every subscription asked for QoS 1")]
    QoS2Publish,
    /// A packet the server may not send in the session's state.
    #[error("unexpected {packet} from the server")]
    Unexpected {
        /// The packet type (`CONNACK`, `PUBLISH`, ...).
        packet: &'static str,
    },
    /// An acknowledgement for a packet identifier nothing waits for.
    #[error("{packet} for packet identifier {pkid}, which nothing waits for")]
    UnknownAck {
        /// `PUBACK` or `SUBACK`.
        packet: &'static str,
        /// The packet identifier.
        pkid: u16,
    },
    /// A text WebSocket frame: MQTT over WebSockets uses binary frames.
    #[error("a text WebSocket frame; MQTT needs binary frames")]
    TextFrame,
    /// The twin the hub answered is not JSON.
    #[error("the twin is not JSON: {0}")]
    TwinNotJson(#[source] serde_json::Error),
}

/// What is wrong with the configuration or input ([`Error::Invalid`](crate::Error::Invalid)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A device-to-cloud message body over [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE).
    #[error("a message body of {size} bytes exceeds IoT Hub's {max}-byte limit")]
    MessageTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A host name, device ID or module ID that is empty or holds `/ ? # + &`, whitespace or
    /// a control character.
    #[error("{what} {value:?} cannot go into an MQTT user name or topic")]
    NotTopicSafe {
        /// `hub host name`, `device ID` or `module ID`.
        what: &'static str,
        /// The value (identifiers are not secret).
        value: String,
    },
    /// A keep-alive above IoT Hub's client maximum of 1177 seconds.
    #[error("keep-alive over 1177 s (IoT Hub's client maximum)")]
    KeepAliveOverHubMaximum,
    /// A keep-alive that does not fit MQTT's 16-bit field.
    #[error("keep-alive must be at most 65535 seconds")]
    KeepAliveOverMqttMaximum,
    /// An outgoing MQTT packet larger than the connection's limit.
    #[error("an MQTT packet of {size} bytes exceeds the {max}-byte limit")]
    PacketTooLarge {
        /// The packet's size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// rumqttc could not encode an outgoing packet.
    #[error("{0}")]
    Encode(#[source] rumqttc::mqttbytes::Error),
    /// Every packet identifier is waiting for an acknowledgement.
    #[error("too many messages waiting for an acknowledgement")]
    TooManyUnacknowledged,
    /// A SUBSCRIBE without topic filters.
    #[error("SUBSCRIBE needs at least one filter")]
    NoSubscribeFilter,
    /// The endpoint's host is not a DNS name or IP address TLS can check.
    #[error("host name {host:?}: {source}")]
    HostName {
        /// The host as configured.
        host: String,
        /// Why rustls refused it.
        #[source]
        source: rustls_pki_types::InvalidDnsNameError,
    },
    /// A reported-properties patch that does not serialize to JSON.
    #[error("{0}")]
    ReportedNotJson(#[source] serde_json::Error),
    /// An X.509 identity without certificates.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// The client certificate chain's PEM does not read.
    #[error("certificate PEM: {0}")]
    CertificatePem(#[source] rustls_pki_types::pem::Error),
    /// The client private key's PEM does not read (or holds no key).
    #[error("private key PEM: {0}")]
    KeyPem(#[source] rustls_pki_types::pem::Error),
    /// The server CA file's PEM does not read.
    #[error("CA PEM: {0}")]
    CaPem(#[source] rustls_pki_types::pem::Error),
    /// The server CA file holds no certificate.
    #[error("the CA file holds no certificate")]
    NoCaCertificate,
}

/// Why the assignment store failed ([`Error::Store`](crate::Error::Store)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading, writing or removing the store's file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The store's file does not hold an assignment.
    #[error("{}: not an assignment: {source}", path.display())]
    NotAnAssignment {
        /// The file.
        path: PathBuf,
        /// serde_json's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The assignment did not serialize.
    #[error("{0}")]
    Encode(#[source] serde_json::Error),
    /// A caller-owned [`AssignmentStore`](crate::AssignmentStore)'s own error.
    #[error("{0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<InvalidInput> for crate::Error {
    fn from(cause: InvalidInput) -> Self {
        Self::Invalid(cause)
    }
}

impl From<ProtocolError> for crate::Error {
    fn from(cause: ProtocolError) -> Self {
        Self::Protocol(cause)
    }
}

impl From<TlsError> for crate::Error {
    fn from(cause: TlsError) -> Self {
        Self::Tls(cause)
    }
}

impl From<WebSocketError> for crate::Error {
    fn from(cause: WebSocketError) -> Self {
        Self::WebSocket(cause)
    }
}

impl From<StoreError> for crate::Error {
    fn from(cause: StoreError) -> Self {
        Self::Store(cause)
    }
}
