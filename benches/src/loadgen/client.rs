//! One MQTT 3.1.1 client connection over TLS, every wait bounded by a timeout.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use iot_server::mqtt::{Connect, Packet, Publish, QoS, decode, encode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{Device, LoadError, Target, TelemetryLoad};

/// Largest packet the client accepts from a server (CONNACK, PUBACK, SUBACK are tiny).
const MAX_INBOUND: usize = 64 * 1024;

/// The TLS client configuration of the load generator: rustls with the ring provider, TLS 1.3
/// and 1.2, the server certificate verified against `ca_pem` (the name `localhost`), no client
/// certificate, and no session resumption (every connection is a full handshake, as for a
/// fleet of devices each connecting once).
///
/// # Errors
/// [`LoadError::Io`] when `ca_pem` holds no usable certificate.
pub fn client_tls(ca_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, LoadError> {
    let bad = |what: String| LoadError::Io(std::io::Error::other(what));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| bad(format!("CA PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("no CA certificate".into()));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// An MQTT connection over TLS.
#[derive(Debug)]
pub struct MqttClient {
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
    out: Vec<u8>,
    io_timeout: Duration,
}

async fn bounded<T>(
    io_timeout: Duration,
    step: impl Future<Output = std::io::Result<T>>,
) -> Result<T, LoadError> {
    match tokio::time::timeout(io_timeout, step).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(LoadError::Timeout),
    }
}

impl MqttClient {
    /// TCP connect and TLS handshake with `target` as `localhost`.
    ///
    /// # Errors
    /// [`LoadError::Io`], [`LoadError::Timeout`].
    pub async fn connect(target: &Target, io_timeout: Duration) -> Result<Self, LoadError> {
        let tcp = bounded(io_timeout, TcpStream::connect(target.addr)).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost")
            .map_err(|e| LoadError::Io(std::io::Error::other(e)))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&target.tls));
        let stream = bounded(io_timeout, connector.connect(name, tcp)).await?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
            out: Vec::with_capacity(4096),
            io_timeout,
        })
    }

    /// The negotiated TLS version, cipher suite and key exchange, e.g.
    /// `TLSv1_3 TLS13_AES_256_GCM_SHA384 X25519`.
    pub fn tls_parameters(&self) -> String {
        let connection = self.stream.get_ref().1;
        format!(
            "{:?} {:?} {:?}",
            connection
                .protocol_version()
                .unwrap_or(rustls::ProtocolVersion::Unknown(0)),
            connection
                .negotiated_cipher_suite()
                .map(|s| s.suite())
                .unwrap_or(rustls::CipherSuite::Unknown(0)),
            connection
                .negotiated_key_exchange_group()
                .map(|g| g.name())
                .unwrap_or(rustls::NamedGroup::Unknown(0)),
        )
    }

    async fn flush_out(&mut self) -> Result<(), LoadError> {
        let out = std::mem::take(&mut self.out);
        let written = bounded(self.io_timeout, async {
            self.stream.write_all(&out).await?;
            self.stream.flush().await
        })
        .await;
        self.out = out;
        self.out.clear();
        written
    }

    /// The next packet from the server.
    ///
    /// # Errors
    /// [`LoadError::Closed`], [`LoadError::Timeout`], [`LoadError::Decode`].
    pub async fn recv(&mut self) -> Result<Packet, LoadError> {
        loop {
            if let Some((packet, used)) = decode(&self.buf, MAX_INBOUND)? {
                self.buf.drain(..used);
                return Ok(packet);
            }
            let mut chunk = [0u8; 4096];
            let n = bounded(self.io_timeout, self.stream.read(&mut chunk)).await?;
            let Some(read) = chunk.get(..n).filter(|r| !r.is_empty()) else {
                return Err(LoadError::Closed);
            };
            self.buf.extend_from_slice(read);
        }
    }

    /// CONNECT as `device` (MQTT 3.1.1, clean session, keep-alive 60 s) and wait for
    /// CONNACK 0.
    ///
    /// # Errors
    /// [`LoadError::Refused`] for a non-zero CONNACK, or what [`Self::recv`] returns.
    pub async fn mqtt_connect(&mut self, device: &Device) -> Result<(), LoadError> {
        encode(
            &Packet::Connect(Connect {
                protocol_level: 4,
                clean_session: true,
                keep_alive: 60,
                client_id: device.client_id.clone(),
                will: None,
                username: Some(device.username.clone()),
                password: Some(device.password().as_bytes().to_vec()),
            }),
            &mut self.out,
        );
        self.flush_out().await?;
        match self.recv().await? {
            Packet::ConnAck(ack) if ack.code.code() == 0 => Ok(()),
            Packet::ConnAck(ack) => Err(LoadError::Refused(ack.code.code())),
            other => Err(LoadError::Unexpected(other.name())),
        }
    }

    /// Sends `load.per_device` QoS 1 PUBLISHes on `topic`, at most `load.window` awaiting
    /// PUBACK, until all are acknowledged or `deadline` passes. Returns (sent, acknowledged,
    /// whether all were acknowledged).
    ///
    /// # Errors
    /// What [`Self::recv`] returns, [`LoadError::StrayPubAck`], [`LoadError::Unexpected`].
    pub async fn publish_all(
        &mut self,
        topic: &str,
        load: &TelemetryLoad,
        deadline: tokio::time::Instant,
    ) -> Result<(u64, u64, bool), LoadError> {
        let total = u64::from(load.per_device);
        let window = usize::from(load.window.max(1));
        let (mut sent, mut acked) = (0u64, 0u64);
        let mut in_flight: VecDeque<u16> = VecDeque::with_capacity(window);
        let mut next_id: u16 = 1;
        // One encoded PUBLISH; each message copies it and writes its packet identifier, which
        // sits just before the payload (§3.3.2.2).
        let mut template = Vec::new();
        encode(
            &Packet::Publish(Publish {
                dup: false,
                qos: QoS::AtLeastOnce,
                retain: false,
                topic: topic.to_owned(),
                packet_id: Some(1),
                payload: load.payload.to_vec(),
            }),
            &mut template,
        );
        let id_at = template.len().saturating_sub(load.payload.len() + 2);
        while acked < total {
            if tokio::time::Instant::now() >= deadline {
                return Ok((sent, acked, false));
            }
            while in_flight.len() < window && sent < total {
                let start = self.out.len();
                self.out.extend_from_slice(&template);
                if let Some(slot) = self.out.get_mut(start + id_at..start + id_at + 2) {
                    slot.copy_from_slice(&next_id.to_be_bytes());
                }
                in_flight.push_back(next_id);
                next_id = next_id.checked_add(1).unwrap_or(1);
                sent += 1;
            }
            if !self.out.is_empty() {
                self.flush_out().await?;
            }
            match self.recv().await? {
                Packet::PubAck(id) => {
                    // Both servers acknowledge in order (MQTT 3.1.1 §4.6); accept any in-flight
                    // identifier all the same.
                    let Some(at) = in_flight.iter().position(|&f| f == id) else {
                        return Err(LoadError::StrayPubAck(id));
                    };
                    in_flight.remove(at);
                    acked += 1;
                }
                Packet::PingResp => {}
                other => return Err(LoadError::Unexpected(other.name())),
            }
        }
        Ok((sent, acked, true))
    }

    /// DISCONNECT, then TLS close_notify and TCP FIN; errors are ignored (the load is over).
    pub async fn disconnect(mut self) {
        encode(&Packet::Disconnect, &mut self.out);
        let _ = self.flush_out().await;
        let _ = tokio::time::timeout(self.io_timeout, self.stream.shutdown()).await;
    }
}
