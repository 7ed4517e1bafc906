//! A register request as the service front end received it (reference
//! ../shared/reference/azure-iot-protocol.md §5.1, §5.3, §5.6, §5.7).

use core::fmt;

use iot_x509::CertificateDer;

use crate::HubLatency;

/// How the device reached DPS (§5.1, §5.6, §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DpsTransport {
    /// MQTT over TLS (8883).
    Mqtt,
    /// MQTT over WebSockets (443).
    MqttWebSockets,
    /// AMQP over TLS (5671).
    Amqp,
    /// AMQP over WebSockets (443).
    AmqpWebSockets,
    /// HTTPS.
    Https,
}

impl DpsTransport {
    /// Whether the transport runs inside a WebSocket.
    pub fn is_websocket(self) -> bool {
        matches!(self, Self::MqttWebSockets | Self::AmqpWebSockets)
    }
}

/// One register request as the service front end received it.
#[derive(Clone, Copy)]
pub struct RegistrationRequest<'a> {
    /// The registration ID: MQTT client ID, AMQP/HTTPS path segment (§5.1, §5.6).
    pub registration_id: &'a str,
    /// The transport.
    pub transport: DpsTransport,
    /// The MQTT user name, checked against the ID scope and registration ID when present.
    pub mqtt_user_name: Option<&'a str>,
    /// The SAS token (MQTT password, HTTPS `Authorization`), for symmetric keys.
    pub sas_token: Option<&'a str>,
    /// The TLS client chain, leaf first, for X.509.
    pub client_chain: &'a [CertificateDer<'a>],
    /// The register body (DeviceRegistration JSON; may be empty, §5.3).
    pub body: &'a [u8],
    /// The operation ID the front end assigned (caller randomness).
    pub operation_id: &'a str,
    /// Latencies to the hubs for `geoLatency` (caller measurements).
    pub latencies: &'a [HubLatency],
    /// Current time, Unix seconds.
    pub now: u64,
}

impl<'a> RegistrationRequest<'a> {
    /// A request over MQTT with no credential, empty body and operation ID `""`.
    pub fn new(registration_id: &'a str, now: u64) -> Self {
        Self {
            registration_id,
            transport: DpsTransport::Mqtt,
            mqtt_user_name: None,
            sas_token: None,
            client_chain: &[],
            body: &[],
            operation_id: "",
            latencies: &[],
            now,
        }
    }
}

impl fmt::Debug for RegistrationRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationRequest")
            .field("registration_id", &self.registration_id)
            .field("transport", &self.transport)
            .field("mqtt_user_name", &self.mqtt_user_name)
            .field("sas_token", &self.sas_token.map(|_| "<redacted>"))
            .field("client_chain_len", &self.client_chain.len())
            .field("body_len", &self.body.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}
