//! An in-process iot-server with one hub and one DPS instance (fresh keys and certificates),
//! options pointing iot-device at it, and a TCP proxy that can cut connections.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iot_device::{
    ClientConfig, Credential, Endpoint, HubOptions, ProvisioningOptions, ServerTrust, Transport,
};
use iot_sas::SharedAccessKey;
use iot_server::{RunningServer, Server, ServerConfig, ServerEvent};
use iot_x509::generate::{
    GeneratedCert, Validity, new_device_cert, new_root_ca, new_self_signed_device_cert,
};
use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};

pub const HUB: &str = "contoso-test.azure-devices.net";
pub const SCOPE: &str = "0ne00DEVICE";
pub const DPS_HOST: &str = "contoso-dps.azure-devices-provisioning.net";

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Base64 of 32 bytes derived from `seed` (test keys, not secrets).
pub fn key(seed: u8) -> String {
    let bytes: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(seed))
        .collect();
    SharedAccessKey::from_bytes(&bytes)
        .unwrap()
        .to_base64()
        .to_string()
}

pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "iot-device-test-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Pki {
    pub root: GeneratedCert,
    /// Hub identity `dev-self` (self-signed, thumbprint registered in the hub).
    pub hub_self_signed: GeneratedCert,
    /// DPS individual X.509 enrollment `x509-dev-1`.
    pub dps_x509: GeneratedCert,
    /// DPS X.509 CA group device `ca-dev-1`, signed by `root`.
    pub dps_ca_device: GeneratedCert,
}

impl Pki {
    pub fn new() -> Self {
        let validity = Validity::days(now() as i64 - 3600, 30);
        let root = new_root_ca("iot-device test root", validity).unwrap();
        Self {
            hub_self_signed: new_self_signed_device_cert("dev-self", validity).unwrap(),
            dps_x509: new_self_signed_device_cert("x509-dev-1", validity).unwrap(),
            dps_ca_device: new_device_cert("ca-dev-1", &root, validity).unwrap(),
            root,
        }
    }

    pub fn credential(&self, leaf: &GeneratedCert, with_root: bool) -> Credential {
        let mut chain = leaf.cert_pem.clone();
        if with_root {
            chain.push_str(&self.root.cert_pem);
        }
        Credential::x509_from_pem(chain.as_bytes(), leaf.key_pem.as_bytes()).unwrap()
    }
}

fn write_imports(dir: &Path, pki: &Pki) -> Vec<PathBuf> {
    let thumbprint = iot_x509::Thumbprint::sha256_of(&pki.hub_self_signed.der).to_string();
    let hub = json!({
        "hostName": HUB,
        "authorizationPolicies": [{
            "keyName": "iothubowner", "primaryKey": key(100), "secondaryKey": key(101),
            "rights": "RegistryWrite, ServiceConnect, DeviceConnect"
        }],
        "identities": [
            {"deviceId": "dev-sas", "authentication": {"type": "sas",
                "symmetricKey": {"primaryKey": key(1), "secondaryKey": key(2)}}},
            {"deviceId": "dev-self", "authentication": {"type": "selfSigned",
                "x509Thumbprint": {"primaryThumbprint": thumbprint}}}
        ]
    });
    let dps = json!({
        "idScope": SCOPE,
        "linkedHubs": [{"name": HUB}],
        "certificates": [{"name": "root", "certificate": pki.root.cert_pem, "isVerified": true}],
        "serviceHostName": DPS_HOST,
        "authorizationPolicies": [{
            "keyName": "provisioningserviceowner", "primaryKey": key(110), "secondaryKey": key(111),
            "rights": "ServiceConfig, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, RegistrationStatusWrite"
        }],
        "enrollments": [
            {"registrationId": "sym-01",
             "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(10), "secondaryKey": key(11)}},
             "initialTwin": {"tags": {"env": "test"}, "properties": {"desired": {"interval": 30}}}},
            {"registrationId": "x509-dev-1",
             "attestation": {"type": "x509", "x509": {"clientCertificates": {
                "primary": {"certificate": pki.dps_x509.cert_pem}}}}}
        ],
        "enrollmentGroups": [
            {"enrollmentGroupId": "grp",
             "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(20), "secondaryKey": key(21)}}},
            {"enrollmentGroupId": "cag",
             "attestation": {"type": "x509", "x509": {"caReferences": {"primary": "root"}}}}
        ]
    });
    let imports = dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    let hub_path = imports.join("hub.json");
    let dps_path = imports.join("dps.json");
    std::fs::write(&hub_path, hub.to_string()).unwrap();
    std::fs::write(&dps_path, dps.to_string()).unwrap();
    vec![hub_path, dps_path]
}

pub struct Fixture {
    pub dir: PathBuf,
    pub server: RunningServer,
    pub pki: Pki,
    pub trust: ServerTrust,
}

impl Fixture {
    pub async fn start(name: &str) -> Self {
        let dir = temp_dir(name);
        let pki = Pki::new();
        let mut config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
        config.imports = write_imports(&dir, &pki);
        let server = Server::start(config).await.unwrap();
        let ca_pem = std::fs::read(server.summary().ca_path.clone().unwrap()).unwrap();
        let trust = ServerTrust::from_pem(&ca_pem).unwrap();
        Self {
            dir,
            server,
            pki,
            trust,
        }
    }

    pub fn port(&self, transport: Transport) -> u16 {
        match transport {
            Transport::Mqtt => self.server.mqtt_addr().port(),
            Transport::WebSockets => self.server.https_addr().unwrap().port(),
        }
    }

    /// The server at 127.0.0.1 (a SAN of its certificate) on the transport's port.
    pub fn endpoint(&self, transport: Transport) -> Endpoint {
        Endpoint::new("127.0.0.1")
            .with_port(self.port(transport))
            .with_transport(transport)
            .with_trust(self.trust.clone())
    }

    pub fn dps(
        &self,
        registration_id: &str,
        credential: Credential,
        transport: Transport,
    ) -> ProvisioningOptions {
        let mut o = ProvisioningOptions::new(SCOPE, registration_id, credential);
        o.endpoint = self.endpoint(transport);
        o.max_jitter = Duration::ZERO;
        o.timing = ClientConfig::default().with_deadline(Duration::from_secs(30));
        o.connect_timeout = Duration::from_secs(5);
        o
    }

    pub fn hub(
        &self,
        hub: &str,
        device_id: &str,
        credential: Credential,
        transport: Transport,
    ) -> HubOptions {
        let mut o = HubOptions::new(hub, device_id, credential);
        o.endpoint = self.endpoint(transport);
        o.connect_timeout = Duration::from_secs(5);
        o.operation_timeout = Duration::from_secs(5);
        o
    }

    /// Stops the server and returns the state directory, kept for inspection.
    pub async fn stop_keeping_state(self) -> PathBuf {
        self.server.shutdown().await;
        self.dir.join("state")
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Drains the events seen so far.
pub fn drain(rx: &mut tokio::sync::broadcast::Receiver<ServerEvent>) -> Vec<ServerEvent> {
    let mut out = Vec::new();
    while let Ok(event) = rx.try_recv() {
        out.push(event);
    }
    out
}

/// Waits (at most 5 s) until an event matching `pred` arrives.
pub async fn wait_for(
    rx: &mut tokio::sync::broadcast::Receiver<ServerEvent>,
    pred: impl Fn(&ServerEvent) -> bool,
) -> ServerEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = rx.recv().await.unwrap();
            if pred(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the expected server event did not come")
}

/// A loopback TCP proxy to `target`. Connection number `cut_index` (0-based) is closed
/// `cut_after` after it opened; others pass untouched. Counts connections.
pub struct CutProxy {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    /// Connections that ended (either side closed).
    pub closed: Arc<AtomicUsize>,
}

impl CutProxy {
    pub async fn start(target: SocketAddr, cut_index: usize, cut_after: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let closed = Arc::new(AtomicUsize::new(0));
        let ended = Arc::clone(&closed);
        tokio::spawn(async move {
            // Bounded: a test opens a handful of connections.
            for _ in 0..32 {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let index = counter.fetch_add(1, Ordering::SeqCst);
                let ended = Arc::clone(&ended);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let pump = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    if index == cut_index {
                        let _ = tokio::time::timeout(cut_after, pump).await;
                        let _ = inbound.shutdown().await;
                    } else {
                        let _ = pump.await;
                    }
                    ended.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            connections,
            closed,
        }
    }
}
