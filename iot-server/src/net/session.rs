//! One connection's task: TLS stream in and out, the engine's [`Connection`] in the middle,
//! the endpoint logic (hub or DPS) answering its events. QoS 1 telemetry is acknowledged only
//! once the store committed it; acknowledgements leave in the order the publishes came
//! (MQTT 3.1.1 §4.6), with up to `max_inflight` of them waiting for the store.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iot_dps_proto::{RequestTopic, response_topic};
use iot_hub_auth::Transport;
use iot_x509::CertificateDer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio_rustls::server::TlsStream;

use crate::ServerEvent;
use crate::engine::connection::{Close, Connection, Event};
use crate::engine::dps::DpsPeer;
use crate::engine::hub_topics::{HubRequest, classify, grant};
use crate::engine::hubs::twin_key;
use crate::engine::route::Endpoint;
use crate::mqtt::{ConnectReturnCode, Publish, Subscribe};
use crate::server::Shared;
use crate::store::{StoreError, TelemetryMessage, Write};

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
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

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
        transport: Transport::Mqtt,
        endpoint: None,
        pending: VecDeque::new(),
        identity: String::new(),
    };
    drive(session, tls, stop).await;
}

/// An MQTT session over an already established byte stream: MQTT over WebSockets from the
/// HTTPS listener, with the TLS peer chain of the connection underneath and its transport.
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
        s.release_ready();
        let out = s.conn.poll_transmit();
        if !out.is_empty() && wr.write_all(&out).await.is_err() {
            break Close::Policy("write failed".into());
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
            _ = stop.changed() => break s.conn.close(Close::Shutdown),
        }
    };
    let out = s.conn.poll_transmit();
    if !out.is_empty() {
        let _ = wr.write_all(&out).await;
    }
    let _ = wr.shutdown().await;
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

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Session {
    /// Sends the acknowledgements whose commits are done, in order.
    fn release_ready(&mut self) {
        while self.pending.front().is_some_and(|p| p.wait.is_none()) {
            if let Some(p) = self.pending.pop_front() {
                if let Some(id) = p.packet_id {
                    self.conn.puback(id);
                }
                if let Some(event) = p.event {
                    self.shared.emit(event);
                }
            }
        }
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
                        self.endpoint = Some(endpoint);
                        self.conn.accept();
                        Ok(())
                    }
                    None => Err(self.conn.refuse(ConnectReturnCode::NotAuthorized)),
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

    async fn hub_publish(
        &mut self,
        host: &str,
        device_id: &str,
        module_id: Option<&str>,
        publish: Publish,
    ) -> Result<(), Close> {
        let request = match classify(&publish.topic, device_id, module_id) {
            Ok(request) => request,
            Err(reason) => return Err(self.conn.close(Close::Policy(reason))),
        };
        match request {
            HubRequest::Telemetry { properties } => {
                let max = self.shared.config.limits.max_message_size;
                if publish.payload.len() > max {
                    return Err(self.conn.close(Close::Policy(format!(
                        "message of {} bytes exceeds IoT Hub's {max}",
                        publish.payload.len()
                    ))));
                }
                let size = publish.payload.len();
                let message = TelemetryMessage {
                    hub: host.to_ascii_lowercase(),
                    device_id: device_id.to_owned(),
                    module_id: module_id.map(str::to_owned),
                    properties: properties.to_owned(),
                    body: publish.payload,
                    received_ms: u64::try_from(unix_now().as_millis()).unwrap_or(u64::MAX),
                };
                let wait = self.shared.store.submit(vec![Write::Telemetry(message)]);
                self.pending.push_back(Pending {
                    packet_id: publish.packet_id,
                    wait: Some(wait),
                    event: Some(ServerEvent::Telemetry {
                        hub: host.to_owned(),
                        device_id: device_id.to_owned(),
                        module_id: module_id.map(str::to_owned),
                        size,
                    }),
                });
                Ok(())
            }
            HubRequest::TwinGet { rid } => {
                let key = twin_key(host, device_id, module_id);
                let body = self.shared.realm.read().ok().map(|realm| {
                    let twin = realm
                        .hubs
                        .twin(&key)
                        .cloned()
                        .unwrap_or_else(|| crate::engine::hubs::empty_twin(key.clone()));
                    serde_json::json!({"desired": twin.desired, "reported": twin.reported})
                });
                let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
                self.conn
                    .publish(format!("$iothub/twin/res/200/?$rid={rid}"), body);
                self.ack_now(&publish);
                Ok(())
            }
            HubRequest::TwinPatchReported { rid } => {
                let rid = rid.to_owned();
                let patch: Option<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_slice(&publish.payload).ok();
                let Some(patch) = patch else {
                    self.conn
                        .publish(format!("$iothub/twin/res/400/?$rid={rid}"), Vec::new());
                    self.ack_now(&publish);
                    return Ok(());
                };
                let key = twin_key(host, device_id, module_id);
                let planned = self
                    .shared
                    .realm
                    .read()
                    .ok()
                    .map(|realm| realm.hubs.patched_reported(&key, &patch));
                let Some((twin, version)) = planned else {
                    return Err(self.conn.close(Close::Policy("state unavailable".into())));
                };
                if let Err(e) = self
                    .shared
                    .store
                    .commit(vec![Write::Twin(twin.clone())])
                    .await
                {
                    return Err(self.conn.close(Close::Policy(format!("store: {e}"))));
                }
                if let Ok(mut realm) = self.shared.realm.write() {
                    realm.hubs.set_twin(twin);
                }
                self.conn.publish(
                    format!("$iothub/twin/res/204/?$rid={rid}&$version={version}"),
                    Vec::new(),
                );
                self.ack_now(&publish);
                Ok(())
            }
            HubRequest::MethodResponse => {
                self.ack_now(&publish);
                Ok(())
            }
        }
    }

    async fn dps_publish(&mut self, peer: DpsPeer<'_>, publish: Publish) -> Result<(), Close> {
        let chain = self.chain.clone();
        let peer = DpsPeer {
            chain: &chain,
            ..peer
        };
        let topic = publish.topic.clone();
        let (reply_topic, body) = match RequestTopic::parse(&topic) {
            Ok(RequestTopic::Register { rid }) => {
                if publish.payload.len() > iot_dps_proto::MAX_PAYLOAD_LEN {
                    return Err(self
                        .conn
                        .close(Close::Policy("register body too large".into())));
                }
                match self.register(&peer, rid, &publish.payload).await {
                    Ok(reply) => reply,
                    Err(e) => return Err(self.conn.close(Close::Policy(e))),
                }
            }
            Ok(RequestTopic::OperationStatus { rid, operation_id }) => {
                let answer =
                    self.shared.realm.read().ok().and_then(|realm| {
                        realm.dps.as_ref().map(|dps| dps.front.poll(operation_id))
                    });
                let (status, body) = answer.unwrap_or((404, Vec::new()));
                (response_topic(status, rid, None).unwrap_or_default(), body)
            }
            _ => {
                return Err(self
                    .conn
                    .close(Close::Policy("unsupported DPS topic".into())));
            }
        };
        self.conn.publish(reply_topic, body);
        self.ack_now(&publish);
        Ok(())
    }

    /// Decide, commit (record, hub changes, operation in one transaction), apply, answer.
    async fn register(
        &mut self,
        peer: &DpsPeer<'_>,
        rid: &str,
        payload: &[u8],
    ) -> Result<(String, Vec<u8>), String> {
        let shared = Arc::clone(&self.shared);
        let _one_at_a_time = shared.registrations.lock().await;
        let now = unix_now().as_secs();
        let operation_id = operation_id(now);
        let planned = shared.realm.read().ok().and_then(|realm| {
            let dps = realm.dps.as_ref()?;
            let plan = dps
                .front
                .decide_register(&dps.service, peer, payload, now, &operation_id);
            let writes = dps.front.writes_for(&plan, &realm.hubs);
            Some((plan, writes))
        });
        let Some((plan, writes)) = planned else {
            return Err("no DPS instance".into());
        };
        shared
            .store
            .commit(writes)
            .await
            .map_err(|e| format!("store: {e}"))?;
        if let Ok(mut realm) = shared.realm.write() {
            let realm = &mut *realm;
            if let Some(dps) = realm.dps.as_mut() {
                dps.front.commit(&plan, &mut realm.hubs);
            }
        }
        shared.emit(registration_event(peer.client_id, &plan.outcome));
        Ok((plan.topic(rid), plan.body))
    }
}

fn registration_event(
    registration_id: &str,
    outcome: &iot_dps_service::RegistrationOutcome,
) -> ServerEvent {
    use iot_dps_service::Decision;
    let (status, hub, device) = match &outcome.decision {
        Decision::Assigned { hub, device_id, .. } => {
            ("assigned", Some(hub.clone()), Some(device_id.clone()))
        }
        Decision::Disabled { .. } => ("disabled", None, None),
        Decision::Failed(_) => ("failed", None, None),
    };
    ServerEvent::Registration {
        registration_id: registration_id.to_owned(),
        status: status.into(),
        assigned_hub: hub,
        device_id: device,
        reason: outcome.decision.to_string(),
    }
}

/// An operation ID in the service's shape (`4.{16 hex}.{uuid}`, reference §5.4) from the OS
/// random generator.
fn operation_id(now: u64) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "4.{now:016x}.{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
