//! One connection's task: TLS stream in and out, the engine's [`Connection`] in the middle,
//! the endpoint logic (hub or DPS) answering its events. QoS 1 telemetry is acknowledged only
//! once the store committed it; acknowledgements leave in the order the publishes came
//! (MQTT 3.1.1 §4.6), with up to `max_inflight` of them waiting for the store.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iot_hub_auth::Transport;
use iot_x509::CertificateDer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio_rustls::server::TlsStream;

use crate::ServerEvent;
use crate::engine::connection::{Close, Connection, Event};
use crate::engine::dps::DpsPeer;
use crate::engine::hub_topics::grant;
use crate::engine::route::Endpoint;
use crate::mqtt::{ConnectReturnCode, Publish, Subscribe};
use crate::server::Shared;

mod dps;
mod hub;
use crate::store::StoreError;

/// An acknowledgement waiting for its turn.
struct Pending {
    packet_id: Option<u16>,
    wait: Option<oneshot::Receiver<Result<(), StoreError>>>,
    event: Option<ServerEvent>,
}

struct Session {
    shared: Arc<Shared>,
    conn: Connection,
    peer: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    transport: Transport,
    endpoint: Option<Endpoint>,
    pending: VecDeque<Pending>,
    identity: String,
    /// When the credential of a hub session expires.
    expires: Option<Instant>,
    /// This session's place in the one-session-per-client table.
    registration: Option<crate::net::clients::Registration>,
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A TLS connection's session: the peer chain is read from the handshake.
pub(crate) async fn run(
    tls: TlsStream<TcpStream>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let chain: Vec<CertificateDer<'static>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    run_stream(tls, peer, chain, Transport::Mqtt, shared, stop).await;
}

/// An MQTT session over any byte stream whose TLS `chain` and `transport` the caller knows:
/// the MQTT/TLS listener, and MQTT over WebSockets (binary frames adapted to a byte stream,
/// `Transport::MqttWs`) feed the same engine.
pub(crate) async fn run_stream<S>(
    stream: S,
    peer: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    transport: Transport,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let limits = shared.config.limits;
    let session = Session {
        conn: Connection::new(
            limits.max_packet_size,
            limits.connect_timeout,
            Duration::ZERO,
        ),
        shared,
        peer,
        chain,
        transport,
        endpoint: None,
        pending: VecDeque::new(),
        identity: String::new(),
        expires: None,
        registration: None,
    };
    drive(session, stream, stop).await;
}

/// The read / decide / write loop over any byte stream.
async fn drive<S>(mut s: Session, stream: S, mut stop: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let start = Instant::now();
    let max_inflight = s.shared.config.limits.max_inflight;
    let mut buf = vec![0u8; 16 * 1024];
    let reason: Close = 'session: loop {
        while let Some(event) = s.conn.poll_event() {
            if let Err(close) = s.handle(event).await {
                break 'session close;
            }
        }
        if let Err(e) = s.release_ready() {
            break s.conn.close(Close::Policy(format!("store: {e}")));
        }
        let out = s.conn.poll_transmit();
        if !out.is_empty() {
            let write_timeout = s.shared.config.limits.write_timeout;
            match tokio::time::timeout(write_timeout, wr.write_all(&out)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break Close::Policy("write failed".into()),
                Err(_) => break Close::Policy("client stopped reading".into()),
            }
        }
        let deadline = s.conn.poll_timeout().map(|d| start + d);
        let can_read = s.pending.len() < max_inflight;
        tokio::select! {
            read = rd.read(&mut buf), if can_read => match read {
                Ok(0) | Err(_) => break Close::Policy("connection closed by peer".into()),
                Ok(n) => if let Err(close) = s.conn.handle_input(&buf[..n], start.elapsed()) {
                    break close;
                },
            },
            done = front_done(&mut s.pending) => {
                if let Err(e) = done {
                    break s.conn.close(Close::Policy(format!("store: {e}")));
                }
                if let Some(p) = s.pending.front_mut() {
                    p.wait = None;
                }
            },
            () = sleep_until(deadline) => if let Err(close) = s.conn.handle_timeout(start.elapsed()) {
                break close;
            },
            () = sleep_until(s.expires) => {
                break s.conn.close(Close::Policy("the credential expired".into()));
            },
            _ = stop.changed() => break s.conn.close(Close::Shutdown),
            () = replaced(&mut s.registration) => {
                break s.conn.close(Close::Policy(
                    "a newer connection with the same client ID took over".into(),
                ));
            },
        }
    };
    let out = s.conn.poll_transmit();
    let linger = Duration::from_secs(1);
    if !out.is_empty() {
        let _ = tokio::time::timeout(linger, wr.write_all(&out)).await;
    }
    let _ = tokio::time::timeout(linger, wr.shutdown()).await;
    if let Some(registration) = &s.registration {
        s.shared.clients.unregister(registration);
    }
    s.shared.emit(ServerEvent::Disconnect {
        identity: s.identity,
        reason: reason.to_string(),
        peer: s.peer.to_string(),
    });
}

async fn front_done(pending: &mut VecDeque<Pending>) -> Result<(), StoreError> {
    match pending.front_mut().and_then(|p| p.wait.as_mut()) {
        Some(wait) => wait.await.unwrap_or(Err(StoreError::Closed)),
        None => std::future::pending().await,
    }
}

/// Resolves when a newer session registered the same client key.
async fn replaced(registration: &mut Option<crate::net::clients::Registration>) {
    match registration {
        Some(r) => {
            if r.replaced.wait_for(|taken| *taken).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Session {
    /// Sends the acknowledgements whose commits are done, in order: the front one once its
    /// commit answered, and every one after it whose commit already answered too, so a group
    /// commit's acknowledgements leave in one write (one TLS record, one system call) rather
    /// than one write each.
    fn release_ready(&mut self) -> Result<(), StoreError> {
        while let Some(front) = self.pending.front_mut() {
            if let Some(wait) = front.wait.as_mut() {
                match wait.try_recv() {
                    Ok(Ok(())) => front.wait = None,
                    Ok(Err(e)) => return Err(e),
                    Err(oneshot::error::TryRecvError::Empty) => break,
                    Err(oneshot::error::TryRecvError::Closed) => return Err(StoreError::Closed),
                }
            }
            if let Some(p) = self.pending.pop_front() {
                if let Some(id) = p.packet_id {
                    self.conn.puback(id);
                }
                if let Some(event) = p.event {
                    self.shared.emit(event);
                }
            }
        }
        Ok(())
    }

    fn ack_now(&mut self, publish: &Publish) {
        self.pending.push_back(Pending {
            packet_id: publish.packet_id,
            wait: None,
            event: None,
        });
    }

    async fn handle(&mut self, event: Event) -> Result<(), Close> {
        match event {
            Event::Connect(connect) => {
                self.identity = connect.client_id.clone();
                let now = unix_now().as_secs();
                let peer = self.peer.to_string();
                let decision = match self.shared.realm.read() {
                    Ok(realm) => {
                        realm.decide_connect(&connect, &self.chain, self.transport, &peer, now)
                    }
                    Err(_) => return Err(self.conn.refuse(ConnectReturnCode::ServerUnavailable)),
                };
                self.shared.emit(decision.event);
                match decision.endpoint {
                    Some(endpoint) => {
                        if let Endpoint::Hub { valid_until, .. } = &endpoint {
                            // IoT Hub ends a connection when its token or certificate expires
                            // (reference §1.7); the SDKs reconnect with a fresh token.
                            let left = Duration::from_secs(valid_until.saturating_sub(now));
                            self.expires = Instant::now().checked_add(left);
                        }
                        let key = match &endpoint {
                            Endpoint::Hub {
                                host,
                                device_id,
                                module_id,
                                ..
                            } => format!(
                                "hub/{}/{device_id}/{}",
                                host.to_ascii_lowercase(),
                                module_id.as_deref().unwrap_or_default()
                            ),
                            Endpoint::Dps {
                                registration_id, ..
                            } => format!("dps/{}", registration_id.to_ascii_lowercase()),
                        };
                        self.registration = self.shared.clients.register(key);
                        self.endpoint = Some(endpoint);
                        self.conn.accept()
                    }
                    None => Err(self.conn.refuse(decision.refusal)),
                }
            }
            Event::Subscribe(subscribe) => {
                self.subscribe(&subscribe);
                Ok(())
            }
            Event::Unsubscribe { packet_id, .. } => {
                self.conn.unsuback(packet_id);
                Ok(())
            }
            Event::Publish(publish) => match self.endpoint.clone() {
                Some(Endpoint::Hub {
                    host,
                    device_id,
                    module_id,
                    ..
                }) => {
                    self.hub_publish(&host, &device_id, module_id.as_deref(), publish)
                        .await
                }
                Some(Endpoint::Dps {
                    registration_id,
                    user_name,
                    password,
                    transport,
                }) => {
                    let peer = DpsPeer {
                        client_id: &registration_id,
                        user_name: Some(&user_name),
                        password: password.as_deref(),
                        chain: &[],
                        transport,
                    };
                    self.dps_publish(peer, publish).await
                }
                None => Err(self
                    .conn
                    .close(Close::Policy("publish before connect".into()))),
            },
        }
    }

    fn subscribe(&mut self, subscribe: &Subscribe) {
        let max = self.shared.config.limits.max_subscriptions;
        let codes = subscribe
            .filters
            .iter()
            .enumerate()
            .map(|(i, (filter, qos))| {
                if i >= max {
                    return 0x80;
                }
                match &self.endpoint {
                    Some(Endpoint::Hub {
                        device_id,
                        module_id,
                        ..
                    }) => grant(filter, device_id, module_id.as_deref(), qos.bits()),
                    Some(Endpoint::Dps { .. })
                        if filter == iot_dps_proto::SUBSCRIBE_TOPIC_FILTER =>
                    {
                        qos.bits().min(1)
                    }
                    _ => 0x80,
                }
            })
            .collect();
        self.conn.suback(subscribe.packet_id, codes);
    }
}
