//! The input of a connect decision: the transport and the fields it carries
//! (azure-iot-protocol.md §6).

use iot_x509::CertificateDer;

/// How the device reached the hub (azure-iot-protocol.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// MQTT over TLS, port 8883.
    Mqtt,
    /// MQTT over WebSocket, port 443 (`/$iothub/websocket`).
    MqttWs,
    /// AMQP over TLS, port 5671.
    Amqp,
    /// AMQP over WebSocket, port 443.
    AmqpWs,
    /// HTTPS, port 443.
    Https,
}

impl Transport {
    /// Every transport.
    pub const ALL: [Self; 5] = [
        Self::Mqtt,
        Self::MqttWs,
        Self::Amqp,
        Self::AmqpWs,
        Self::Https,
    ];

    /// The name used on the command line: `mqtt`, `mqtt-ws`, `amqp`, `amqp-ws`, `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mqtt => "mqtt",
            Self::MqttWs => "mqtt-ws",
            Self::Amqp => "amqp",
            Self::AmqpWs => "amqp-ws",
            Self::Https => "https",
        }
    }

    /// Whether the transport runs over WebSockets.
    pub fn is_websocket(self) -> bool {
        matches!(self, Self::MqttWs | Self::AmqpWs)
    }

    /// Whether the transport is MQTT (plain or WebSocket).
    pub fn is_mqtt(self) -> bool {
        matches!(self, Self::Mqtt | Self::MqttWs)
    }

    /// Whether the transport is AMQP (plain or WebSocket).
    pub fn is_amqp(self) -> bool {
        matches!(self, Self::Amqp | Self::AmqpWs)
    }
}

impl core::fmt::Display for Transport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown transport {s:?} (expected mqtt, mqtt-ws, amqp, amqp-ws or https)")
            })
    }
}

/// One connection attempt, as the hub sees it. Fields a transport does not have stay `None`.
///
/// * MQTT: `client_id` and `username` from CONNECT; `password` = SAS token, or absent for X.509.
/// * AMQP: `username` = SASL PLAIN user name (`{deviceId}@sas.{hub}`,
///   `{deviceId}/modules/{moduleId}@sas.{hub}` or `{policy}@sas.root.{hub}`, see
///   [`crate::SaslUserName`]) and `password` = token; with CBS or X.509 (no
///   SASL PLAIN) set `device_id` / `module_id` to the identity the link names. With a policy
///   user name (`{policy}@sas.root.{hub}`), `device_id` names the device being connected.
/// * HTTPS: `device_id` (and `module_id`) from the request path, URL-decoded;
///   `password` = the `Authorization` header.
/// * X.509 on any transport: `client_chain` = the TLS client chain, leaf first.
///
/// `Debug` prints the SAS token without its signature ([`iot_sas::RedactedToken`]): a token is
/// a replayable credential until it expires.
#[derive(Clone, Copy)]
pub struct ConnectRequest<'a> {
    /// The transport.
    pub transport: Transport,
    /// MQTT client ID.
    pub client_id: Option<&'a str>,
    /// MQTT user name or AMQP SASL PLAIN user name.
    pub username: Option<&'a str>,
    /// SAS token text.
    pub password: Option<&'a str>,
    /// TLS client certificate chain (DER), leaf first; empty when none was presented.
    pub client_chain: &'a [CertificateDer<'a>],
    /// Device ID named by the HTTPS path or the AMQP link.
    pub device_id: Option<&'a str>,
    /// Module ID named by the HTTPS path or the AMQP link.
    pub module_id: Option<&'a str>,
}

impl core::fmt::Debug for ConnectRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("transport", &self.transport)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.map(iot_sas::RedactedToken::new))
            .field("client_chain_len", &self.client_chain.len())
            .field("device_id", &self.device_id)
            .field("module_id", &self.module_id)
            .finish()
    }
}

impl<'a> ConnectRequest<'a> {
    /// A request with only the transport set.
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            client_id: None,
            username: None,
            password: None,
            client_chain: &[],
            device_id: None,
            module_id: None,
        }
    }

    /// An MQTT (TLS) CONNECT with client ID and user name.
    pub fn mqtt(client_id: &'a str, username: &'a str) -> Self {
        Self {
            client_id: Some(client_id),
            username: Some(username),
            ..Self::new(Transport::Mqtt)
        }
    }

    /// An AMQP SASL PLAIN connection.
    pub fn amqp_sasl(username: &'a str, token: &'a str) -> Self {
        Self {
            username: Some(username),
            password: Some(token),
            ..Self::new(Transport::Amqp)
        }
    }

    /// An HTTPS request for `device_id` (URL-decoded from the path).
    pub fn https(device_id: &'a str) -> Self {
        Self {
            device_id: Some(device_id),
            ..Self::new(Transport::Https)
        }
    }

    /// The same request over another transport.
    #[must_use]
    pub fn over(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The same request with a SAS token.
    #[must_use]
    pub fn with_password(mut self, token: &'a str) -> Self {
        self.password = Some(token);
        self
    }

    /// The same request with a TLS client chain (leaf first).
    #[must_use]
    pub fn with_client_chain(mut self, chain: &'a [CertificateDer<'a>]) -> Self {
        self.client_chain = chain;
        self
    }

    /// The same request naming a device (and module) explicitly.
    #[must_use]
    pub fn with_identity(mut self, device_id: &'a str, module_id: Option<&'a str>) -> Self {
        self.device_id = Some(device_id);
        self.module_id = module_id;
        self
    }
}
