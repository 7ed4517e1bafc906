//! A bounded MQTT 3.1.1 load generator over TLS, loopback only, for the `broker` bench: the same
//! client bytes against iot-server and against Mosquitto.
//!
//! Two loads (issue 10, "Benchmark"):
//! * [`admissions`]: TCP connect + TLS handshake + CONNECT with a device's SAS token + CONNACK,
//!   then DISCONNECT; `concurrency` workers share one count of attempts.
//! * [`telemetry`]: devices connected first ([`connect_all`], not timed) each send their QoS 1
//!   PUBLISHes with up to `window` awaiting their PUBACK; the rate counts PUBACKs.
//!
//! Every loop is bounded twice: by a count (attempts, messages) and by time ([`Bounds`]: one
//! deadline for the whole load, one timeout for each network wait), so a load always stops by
//! itself, even against a server that stops answering. The MQTT packets come from iot-server's
//! own codec ([`iot_server::mqtt`]), used here as a client; TLS is rustls with the ring
//! provider, verifying the server certificate against the bench's local CA, with session
//! resumption off so every connection is a full handshake (a fleet of distinct devices).

mod client;
pub mod cpu;
pub mod fleet;
pub mod mosquitto;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

pub use client::{MqttClient, client_tls};
pub use fleet::Device;

/// What can go wrong in one connection of the load generator.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// TCP or TLS failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A network wait exceeded [`Bounds::io_timeout`].
    #[error("no answer within the i/o timeout")]
    Timeout,
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server sent bytes the MQTT decoder refused.
    #[error("undecodable packet: {0}")]
    Decode(#[from] iot_server::mqtt::DecodeError),
    /// The server sent a packet that does not belong here.
    #[error("unexpected packet: {0}")]
    Unexpected(&'static str),
    /// CONNACK with a non-zero return code.
    #[error("connection refused with CONNACK code {0}")]
    Refused(u8),
    /// A PUBACK for a packet identifier that was not in flight.
    #[error("PUBACK {0} for no message in flight")]
    StrayPubAck(u16),
}

/// A server to load: its MQTT/TLS address and the TLS client configuration that trusts it.
#[derive(Clone, Debug)]
pub struct Target {
    /// Name in reports (`iot-server`, `mosquitto`).
    pub name: String,
    /// Loopback address of the MQTT/TLS listener.
    pub addr: SocketAddr,
    /// TLS client configuration (see [`client_tls`]).
    pub tls: Arc<rustls::ClientConfig>,
}

/// The two bounds of every load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The whole load stops starting new work after this long.
    pub deadline: Duration,
    /// Longest wait for one network step (connect, handshake, one packet).
    pub io_timeout: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            io_timeout: Duration::from_secs(10),
        }
    }
}

/// The outcome of [`admissions`].
#[derive(Clone, Debug, Default)]
pub struct AdmissionRun {
    /// Connections that got CONNACK 0.
    pub admitted: u64,
    /// Connections answered with a non-zero CONNACK.
    pub refused: u64,
    /// Connections that failed otherwise (I/O, timeout, protocol); the first error is kept.
    pub failed: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Whether the deadline stopped the load before the count was reached.
    pub timed_out: bool,
    /// From the first connect to the last worker's end.
    pub elapsed: Duration,
}

impl AdmissionRun {
    /// Admissions per second.
    pub fn per_second(&self) -> f64 {
        rate(self.admitted, self.elapsed)
    }

    /// Whether every attempt was admitted and the count was reached.
    pub fn is_clean(&self) -> bool {
        self.refused == 0 && self.failed == 0 && !self.timed_out && self.admitted > 0
    }
}

/// The outcome of [`telemetry`].
#[derive(Clone, Debug, Default)]
pub struct TelemetryRun {
    /// Devices that sent their messages without an error.
    pub devices: usize,
    /// PUBLISHes sent in the timed part.
    pub sent: u64,
    /// PUBACKs received in the timed part.
    pub acked: u64,
    /// Devices whose connection failed; the first error is kept.
    pub failed: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Whether the deadline stopped a device before its count.
    pub timed_out: bool,
    /// From the start to the last device's last PUBACK.
    pub elapsed: Duration,
}

impl TelemetryRun {
    /// Acknowledged messages per second.
    pub fn per_second(&self) -> f64 {
        rate(self.acked, self.elapsed)
    }

    /// Whether every device had every message acknowledged.
    pub fn is_clean(&self, devices: usize, per_device: u32) -> bool {
        self.devices == devices
            && self.failed == 0
            && !self.timed_out
            && self.acked == devices as u64 * u64::from(per_device)
    }
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// One admission: connect, handshake, CONNECT, CONNACK 0, DISCONNECT.
///
/// # Errors
/// [`LoadError`]; [`LoadError::Refused`] for a non-zero CONNACK.
pub async fn admit_once(
    target: &Target,
    device: &Device,
    io_timeout: Duration,
) -> Result<(), LoadError> {
    let mut client = MqttClient::connect(target, io_timeout).await?;
    client.mqtt_connect(device).await?;
    client.disconnect().await;
    Ok(())
}

/// Runs `total` admissions over `devices` (round robin) with `concurrency` connections at a
/// time, stopping early at `bounds.deadline`.
pub async fn admissions(
    target: &Target,
    devices: Arc<[Device]>,
    total: u64,
    concurrency: usize,
    bounds: Bounds,
) -> AdmissionRun {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (target, devices, next) = (target.clone(), Arc::clone(&devices), Arc::clone(&next));
        workers.spawn(async move {
            let mut run = AdmissionRun::default();
            loop {
                if start.elapsed() >= bounds.deadline {
                    run.timed_out = next.load(Ordering::Relaxed) < total;
                    break;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let index = usize::try_from(n).unwrap_or(0) % devices.len().max(1);
                let Some(device) = devices.get(index) else {
                    break;
                };
                let attempt = tokio::time::timeout(
                    bounds.io_timeout * 3,
                    admit_once(&target, device, bounds.io_timeout),
                )
                .await
                .unwrap_or(Err(LoadError::Timeout));
                match attempt {
                    Ok(()) => run.admitted += 1,
                    Err(LoadError::Refused(_)) => run.refused += 1,
                    Err(e) => {
                        run.failed += 1;
                        run.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            run
        });
    }
    let mut total_run = AdmissionRun::default();
    while let Some(done) = workers.join_next().await {
        let Ok(run) = done else {
            total_run.failed += 1;
            continue;
        };
        total_run.admitted += run.admitted;
        total_run.refused += run.refused;
        total_run.failed += run.failed;
        total_run.timed_out |= run.timed_out;
        if total_run.first_error.is_none() {
            total_run.first_error = run.first_error;
        }
    }
    total_run.elapsed = start.elapsed();
    total_run
}

/// What one telemetry device sends.
#[derive(Clone, Debug)]
pub struct TelemetryLoad {
    /// QoS 1 messages per device.
    pub per_device: u32,
    /// Most PUBLISHes of one device awaiting their PUBACK.
    pub window: u16,
    /// The message body.
    pub payload: Arc<[u8]>,
}

/// Connects every device of `devices` at once (TCP, TLS, CONNECT, CONNACK 0), the set-up of
/// [`telemetry`], kept apart so a caller can read CPU time between the two.
///
/// # Errors
/// The first device's [`LoadError`] (the others' connections are closed).
pub async fn connect_all(
    target: &Target,
    devices: &[Device],
    bounds: Bounds,
) -> Result<Vec<(Device, MqttClient)>, LoadError> {
    let mut tasks = JoinSet::new();
    for device in devices {
        let (target, device) = (target.clone(), device.clone());
        tasks.spawn(async move {
            let mut client = MqttClient::connect(&target, bounds.io_timeout).await?;
            client.mqtt_connect(&device).await?;
            Ok::<_, LoadError>((device, client))
        });
    }
    let mut clients = Vec::with_capacity(devices.len());
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(connected)) => clients.push(connected),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(LoadError::Io(std::io::Error::other(e)));
            }
        }
    }
    match first_error {
        None => Ok(clients),
        Some(e) => {
            for (_, client) in clients {
                client.disconnect().await;
            }
            Err(e)
        }
    }
}

/// Every connected device (from [`connect_all`]) sends, all starting together,
/// `load.per_device` QoS 1 messages on its own telemetry topic
/// (`devices/{id}/messages/events/`), at most `load.window` unacknowledged, then disconnects.
/// Stops early at `bounds.deadline`.
pub async fn telemetry(
    clients: Vec<(Device, MqttClient)>,
    load: &TelemetryLoad,
    bounds: Bounds,
) -> TelemetryRun {
    let start = Instant::now();
    let deadline = start + bounds.deadline;
    let mut tasks = JoinSet::new();
    for (device, mut client) in clients {
        let load = load.clone();
        tasks.spawn(async move {
            let topic = format!("devices/{}/messages/events/", device.client_id);
            let outcome = client
                .publish_all(&topic, &load, deadline.into())
                .await
                .map(|counts| (counts, Instant::now()));
            client.disconnect().await;
            outcome
        });
    }
    let mut run = TelemetryRun::default();
    let mut last = start;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(((sent, acked, complete), end))) => {
                run.devices += 1;
                run.sent += sent;
                run.acked += acked;
                run.timed_out |= !complete;
                last = last.max(end);
            }
            Ok(Err(e)) => {
                run.failed += 1;
                run.first_error.get_or_insert_with(|| e.to_string());
            }
            Err(e) => {
                run.failed += 1;
                run.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    run.elapsed = last.duration_since(start);
    run
}
