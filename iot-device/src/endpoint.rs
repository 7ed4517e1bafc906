//! Where a connection goes: host, port, MQTT over TLS or over WebSockets, and which server
//! certificates to trust.

use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::credential::X509Identity;
use crate::{Error, InvalidInput, TlsError};

/// MQTT over TLS port of IoT Hub and DPS (reference §5.1, §6.1).
pub const MQTT_TLS_PORT: u16 = 8883;
/// MQTT over WebSockets port (reference §5.1, §6.1).
pub const WEBSOCKET_PORT: u16 = 443;
/// The WebSocket path Node and Python use for DPS and IoT Hub (reference §5.1, §6.1).
pub const WEBSOCKET_PATH: &str = "/$iothub/websocket";

/// How MQTT is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// MQTT 3.1.1 over TLS, port 8883.
    #[default]
    Mqtt,
    /// MQTT 3.1.1 over a WebSocket (`wss://{host}:443/$iothub/websocket`, subprotocol `mqtt`).
    WebSockets,
}

impl Transport {
    /// The port Azure uses for it.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Mqtt => MQTT_TLS_PORT,
            Self::WebSockets => WEBSOCKET_PORT,
        }
    }
}

/// Which server certificates to trust.
#[derive(Clone, Debug, Default)]
pub enum ServerTrust {
    /// The operating system's trust store (rustls-native-certs): what Azure's public endpoints
    /// need.
    #[default]
    System,
    /// Only these CA certificates (`--ca FILE`; a local `iot serve` CA, a private gateway).
    Certificates(Arc<Vec<CertificateDer<'static>>>),
}

impl ServerTrust {
    /// Every certificate in PEM text.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the text holds no certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(InvalidInput::CaPem)?;
        if certs.is_empty() {
            return Err(InvalidInput::NoCaCertificate.into());
        }
        Ok(Self::Certificates(Arc::new(certs)))
    }
}

/// The socket target of a connection and how to secure it.
///
/// `host` is where the socket goes and the name the server certificate must carry. For a
/// hub it is the gateway host name when one is set, else the hub name; the hub name in the
/// SAS token and the user name is separate (reference §6.1: "When `GatewayHostName` is set
/// the socket goes to the gateway but the user name still names the hub").
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Host name or IP address to dial and to check in the server certificate.
    pub host: String,
    /// Port; `None` means the transport's Azure default.
    pub port: Option<u16>,
    /// MQTT over TLS or over WebSockets.
    pub transport: Transport,
    /// Server certificates to trust.
    pub trust: ServerTrust,
}

impl Endpoint {
    /// `host` over MQTT/TLS on the default port, trusting the system store.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: None,
            transport: Transport::Mqtt,
            trust: ServerTrust::System,
        }
    }

    /// Sets the port.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the transport.
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Sets the trusted CAs.
    #[must_use]
    pub fn with_trust(mut self, trust: ServerTrust) -> Self {
        self.trust = trust;
        self
    }

    /// The port to dial.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.transport.default_port())
    }

    /// The rustls client configuration: ring provider, TLS 1.3 and 1.2 (IoT Hub and DPS
    /// require at least 1.2, reference §5.1), the trusted CAs, and the client certificate.
    pub(crate) fn tls_config(
        &self,
        identity: Option<&X509Identity>,
    ) -> Result<Arc<rustls::ClientConfig>, Error> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.trust {
            ServerTrust::System => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(TlsError::NoSystemRoots.into());
                }
            }
            ServerTrust::Certificates(certs) => {
                for cert in certs.iter() {
                    roots.add(cert.clone()).map_err(TlsError::UnusableCa)?;
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TlsError::Versions)?
            .with_root_certificates(roots);
        let config = match identity {
            Some(id) => builder
                .with_client_auth_cert(id.chain().to_vec(), id.key())
                .map_err(TlsError::ClientIdentity)?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_default_ports() {
        let e = Endpoint::new("global.azure-devices-provisioning.net");
        assert_eq!(e.port(), 8883);
        let e = e.with_transport(Transport::WebSockets);
        assert_eq!(e.port(), 443);
        assert_eq!(e.with_port(9443).port(), 9443);
    }

    #[test]
    fn trust_from_pem_needs_a_certificate() {
        assert!(matches!(
            ServerTrust::from_pem(b"nothing here"),
            Err(Error::Invalid(InvalidInput::NoCaCertificate))
        ));
    }

    #[test]
    fn an_unusable_ca_keeps_the_rustls_error() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let endpoint = Endpoint::new("localhost")
            .with_trust(ServerTrust::Certificates(Arc::new(vec![garbage])));
        let err = endpoint.tls_config(None).unwrap_err();
        assert!(
            matches!(err, Error::Tls(TlsError::UnusableCa(_))),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("tls: unusable CA certificate: "),
            "{err}"
        );
        let cause = std::error::Error::source(&err).expect("Tls has a source");
        let rustls = cause.source().expect("UnusableCa keeps rustls's error");
        assert!(
            rustls.downcast_ref::<rustls::Error>().is_some(),
            "{rustls:?}"
        );
        assert!(err.is_retryable());
        assert_eq!(err.code(), "tls");
    }
}
