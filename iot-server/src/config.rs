//! Server configuration: where the state lives, what to listen on, TLS material and limits
//! (issue 10 "Endpoints" and "Bounded and fair").

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// IoT Hub's largest device-to-cloud message: 256 KB (Microsoft Learn "IoT Hub quotas and
/// throttling"). A bigger telemetry PUBLISH closes the connection.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// Where the TLS server certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSource {
    /// A local root CA in `STATE/tls/ca.pem` (made on first start) and a server certificate
    /// signed by it whose SANs cover `localhost`, `127.0.0.1`, `::1`, every hub host, the DPS
    /// service host and `global.azure-devices-provisioning.net` (re-made when that list
    /// changes).
    Generated,
    /// A certificate chain and private key in PEM files.
    Files {
        /// Certificate chain, leaf first, PEM.
        cert: PathBuf,
        /// Private key (PKCS #8, PKCS #1 or SEC1), PEM.
        key: PathBuf,
    },
}

/// Bounds that keep one client from hurting the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection must finish TLS and send CONNECT within this time.
    pub connect_timeout: Duration,
    /// Largest MQTT packet accepted (fixed header included); bigger closes the connection.
    pub max_packet_size: usize,
    /// Largest telemetry message body; bigger closes the connection (IoT Hub: 256 KB).
    pub max_message_size: usize,
    /// Most simultaneous connections; the next one is closed right after `accept`.
    pub max_connections: usize,
    /// Most QoS 1 publishes of one connection waiting for the store before the connection
    /// stops reading.
    pub max_inflight: usize,
    /// Most subscriptions (topic filters) one connection may hold.
    pub max_subscriptions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            max_packet_size: MAX_MESSAGE_SIZE + 64 * 1024,
            max_message_size: MAX_MESSAGE_SIZE,
            max_connections: 10_000,
            max_inflight: 64,
            max_subscriptions: 32,
        }
    }
}

/// Everything [`crate::Server::start`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The state directory: `iot-server.sqlite3` and `tls/`.
    pub state_dir: PathBuf,
    /// Hub and DPS files upserted into the store at start (see [`crate::engine::import::ImportFile`]).
    pub imports: Vec<PathBuf>,
    /// Address to bind; default 127.0.0.1.
    pub bind: IpAddr,
    /// MQTT over TLS port; default 8883, 0 picks a free port.
    pub mqtt_port: u16,
    /// HTTPS port (MQTT over WebSockets on `/$iothub/websocket`, the Registry Manager and DPS
    /// service APIs, DPS device registration and hub telemetry over HTTPS); default 443, 0
    /// picks a free port.
    pub https_port: u16,
    /// TLS material.
    pub tls: TlsSource,
    /// Limits.
    pub limits: Limits,
}

impl ServerConfig {
    /// Defaults for a state directory: 127.0.0.1, ports 8883 and 443, generated TLS.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: state_dir.into(),
            imports: Vec::new(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            mqtt_port: 8883,
            https_port: 443,
            tls: TlsSource::Generated,
            limits: Limits::default(),
        }
    }

    /// The same configuration on ephemeral ports (tests).
    #[must_use]
    pub fn on_ephemeral_ports(mut self) -> Self {
        self.mqtt_port = 0;
        self.https_port = 0;
        self
    }
}
