//! A small MQTT 3.1.1 client over TLS for the integration tests (it uses iot-server's own
//! codec, whose encoder is checked against the SDK's bytes in the unit tests), and fixtures:
//! state directories, hub and DPS files with fresh keys and certificates.

#[path = "fixtures.rs"]
pub mod fixtures;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use iot_server::mqtt::{ConnAck, Connect, Packet, Publish, QoS, Subscribe, decode, encode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub const HUB: &str = "contoso-test.azure-devices.net";
pub const SCOPE: &str = "0ne00TEST01";
pub const DPS_HOST: &str = "contoso-dps.azure-devices-provisioning.net";

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!(
        "iot-server-test-{name}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Base64 of 32 bytes derived from `seed` (test keys, not secrets).
pub fn key(seed: u8) -> String {
    let bytes: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(31).wrapping_add(seed))
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub struct Client {
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
    next_id: u16,
}

pub fn client_config(ca_pem: &str, identity: Option<(&str, &str)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match identity {
        Some((cert_pem, key_pem)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                    .map(Result::unwrap)
                    .collect();
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

impl Client {
    /// TLS to `addr` as `localhost`, trusting `ca_pem`, optionally with a client certificate
    /// chain (PEM, leaf first) and key.
    pub async fn connect(
        addr: SocketAddr,
        ca_pem: &str,
        identity: Option<(&str, &str)>,
    ) -> std::io::Result<Self> {
        let config = client_config(ca_pem, identity);
        let tcp = TcpStream::connect(addr).await?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        Ok(Self {
            stream,
            buf: Vec::new(),
            next_id: 1,
        })
    }

    pub async fn send(&mut self, packet: &Packet) -> std::io::Result<()> {
        let mut out = Vec::new();
        encode(packet, &mut out);
        self.send_raw(&out).await
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// The next packet, or `None` when the server closed the connection (or 10 s passed).
    pub async fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Ok(Some((packet, used))) = decode(&self.buf, 1 << 20) {
                self.buf.drain(..used);
                return Some(packet);
            }
            let mut chunk = [0u8; 8192];
            let read =
                tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk)).await;
            match read {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }

    /// Whether the server closed the connection (reads until EOF, at most 10 s).
    pub async fn closed(&mut self) -> bool {
        loop {
            match self.recv().await {
                None => return true,
                Some(_) => continue,
            }
        }
    }

    pub async fn mqtt_connect(
        &mut self,
        client_id: &str,
        username: &str,
        password: Option<&str>,
    ) -> Option<ConnAck> {
        self.send(&Packet::Connect(Connect {
            protocol_level: 4,
            clean_session: false,
            keep_alive: 60,
            client_id: client_id.into(),
            will: None,
            username: Some(username.into()),
            password: password.map(|p| p.as_bytes().to_vec()),
        }))
        .await
        .ok()?;
        match self.recv().await? {
            Packet::ConnAck(ack) => Some(ack),
            _ => None,
        }
    }

    pub async fn subscribe(&mut self, filter: &str) -> Vec<u8> {
        let packet_id = self.id();
        self.send(&Packet::Subscribe(Subscribe {
            packet_id,
            filters: vec![(filter.into(), QoS::AtLeastOnce)],
        }))
        .await
        .unwrap();
        match self.recv().await {
            Some(Packet::SubAck { codes, .. }) => codes,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    fn id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Publishes at QoS 1 and returns the packet identifier.
    pub async fn publish1(&mut self, topic: &str, payload: &[u8]) -> u16 {
        let packet_id = self.id();
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: topic.into(),
            packet_id: Some(packet_id),
            payload: payload.to_vec(),
        }))
        .await
        .unwrap();
        packet_id
    }

    /// Publishes at QoS 1 and waits for its PUBACK; returns every PUBLISH received meanwhile.
    pub async fn publish1_acked(&mut self, topic: &str, payload: &[u8]) -> Vec<Publish> {
        let id = self.publish1(topic, payload).await;
        let mut seen = Vec::new();
        loop {
            match self.recv().await {
                Some(Packet::PubAck(got)) if got == id => return seen,
                Some(Packet::Publish(p)) => seen.push(p),
                Some(other) => panic!("unexpected {other:?}"),
                None => panic!("connection closed before PUBACK {id}"),
            }
        }
    }

    /// A DPS request: publish at QoS 1, return the response PUBLISH (topic, payload).
    pub async fn dps_request(&mut self, topic: &str, payload: &[u8]) -> (String, String) {
        let mut seen = self.publish1_acked(topic, payload).await;
        let reply = if seen.is_empty() {
            match self.recv().await {
                Some(Packet::Publish(p)) => p,
                other => panic!("expected the DPS answer, got {other:?}"),
            }
        } else {
            seen.remove(0)
        };
        (reply.topic, String::from_utf8(reply.payload).unwrap())
    }
}
