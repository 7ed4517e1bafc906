//! The broker bench's load generator: it admits and refuses what a real server admits and
//! refuses, its telemetry lands in iot-server's store, it stops by itself against a server
//! that never answers, and Mosquitto's configuration and password file are what the README
//! says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iot_benches::loadgen::fleet::{Fleet, HUB, TlsFiles, tls_files};
use iot_benches::loadgen::mosquitto::{Mosquitto, MosquittoError, config_text, locate};
use iot_benches::loadgen::{
    Bounds, LoadError, Target, TelemetryLoad, admissions, admit_once, client_tls, connect_all,
    telemetry,
};
use iot_server::store::{SqliteStore, Store as _, TelemetryFilter};
use iot_server::{Server, ServerConfig, TlsSource};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "iot-benches-loadgen-{name}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bounds() -> Bounds {
    Bounds {
        deadline: Duration::from_secs(60),
        io_timeout: Duration::from_secs(10),
    }
}

struct Setup {
    dir: PathBuf,
    fleet: Fleet,
    tls: TlsFiles,
    expiry: u64,
}

fn setup(name: &str, devices: usize) -> Setup {
    let dir = temp_dir(name);
    let expiry = now() + 3600;
    let fleet = Fleet::new(devices, expiry).unwrap();
    let tls = tls_files(&dir.join("tls")).unwrap();
    Setup {
        dir,
        fleet,
        tls,
        expiry,
    }
}

async fn start_server(s: &Setup) -> iot_server::RunningServer {
    let hub = s.dir.join("hub.json");
    std::fs::write(&hub, s.fleet.hub_file().to_string()).unwrap();
    let mut config = ServerConfig::new(s.dir.join("state")).on_ephemeral_ports();
    config.tls = TlsSource::Files {
        cert: s.tls.chain.clone(),
        key: s.tls.key.clone(),
    };
    config.imports = vec![hub];
    Server::start(config).await.unwrap()
}

fn target(s: &Setup, name: &str, addr: std::net::SocketAddr) -> Target {
    Target {
        name: name.into(),
        addr,
        tls: client_tls(&std::fs::read(&s.tls.ca).unwrap()).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iot_server_admits_refuses_and_stores_every_acknowledged_message() {
    let s = setup("iot", 8);
    let server = start_server(&s).await;
    let t = target(&s, "iot-server", server.mqtt_addr());

    // The right token is admitted, another device's key is refused with CONNACK 5.
    admit_once(&t, &s.fleet.devices[3], Duration::from_secs(10))
        .await
        .unwrap();
    let wrong = s.fleet.with_wrong_key(3, s.expiry).unwrap().unwrap();
    assert_eq!(wrong.client_id, s.fleet.devices[3].client_id);
    assert_ne!(wrong.password(), s.fleet.devices[3].password());
    match admit_once(&t, &wrong, Duration::from_secs(10)).await {
        Err(LoadError::Refused(5)) => {}
        other => panic!("expected CONNACK 5, got {other:?}"),
    }
    let run = admissions(&t, Arc::clone(&s.fleet.devices), 24, 4, bounds()).await;
    assert_eq!(
        (run.admitted, run.refused, run.failed),
        (24, 0, 0),
        "{run:?}"
    );
    assert!(run.is_clean() && run.per_second() > 0.0);

    // A fleet made of the wrong token only: every attempt is counted as refused.
    let refused = admissions(&t, vec![wrong].into(), 6, 3, bounds()).await;
    assert_eq!((refused.admitted, refused.refused), (0, 6), "{refused:?}");
    assert!(!refused.is_clean());

    let load = TelemetryLoad {
        per_device: 25,
        window: 4,
        payload: b"{\"temperature\":21.5}".to_vec().into(),
    };
    let devices = &s.fleet.devices[..3];
    let clients = connect_all(&t, devices, bounds()).await.unwrap();
    assert_eq!(clients.len(), 3);
    let run = telemetry(clients, &load, bounds()).await;
    assert_eq!(
        (run.devices, run.sent, run.acked, run.failed),
        (3, 75, 75, 0),
        "{run:?}"
    );
    assert!(run.is_clean(3, 25));
    server.shutdown().await;

    // Every acknowledged message is in the store, on its own device.
    let mut store = SqliteStore::open_existing(&s.dir.join("state")).unwrap();
    for device in devices {
        let stored = store
            .telemetry(&TelemetryFilter {
                hub: Some(HUB.into()),
                device_id: Some(device.client_id.clone()),
                ..TelemetryFilter::default()
            })
            .unwrap();
        assert_eq!(stored.len(), 25, "{}", device.client_id);
        assert!(
            stored
                .iter()
                .all(|(_, m)| m.body == b"{\"temperature\":21.5}")
        );
    }
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_stops_the_load_by_itself() {
    let s = setup("silent", 4);
    // Accepts TCP connections and never says anything.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let t = target(&s, "silent", addr);
    let tight = Bounds {
        deadline: Duration::from_millis(600),
        io_timeout: Duration::from_millis(200),
    };
    let start = Instant::now();
    let run = admissions(&t, Arc::clone(&s.fleet.devices), 1_000_000, 3, tight).await;
    let took = start.elapsed();
    assert_eq!(run.admitted, 0);
    assert!(run.failed >= 3, "{run:?}");
    assert!(run.timed_out, "the deadline, not the count, ended it");
    assert!(
        run.first_error.as_deref() == Some("no answer within the i/o timeout"),
        "{run:?}"
    );
    // Deadline + one last attempt's timeout, with a wide margin for a loaded machine.
    assert!(took < Duration::from_secs(5), "{took:?}");
    match connect_all(&t, &s.fleet.devices[..2], tight).await {
        Err(LoadError::Timeout) => {}
        other => panic!("expected a timeout, got {:?}", other.map(|c| c.len())),
    }
    hold.abort();
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn fleet_files_name_every_device_and_never_show_a_token() {
    let s = setup("fleet", 5);
    let hub = s.fleet.hub_file();
    assert_eq!(hub["hostName"], HUB);
    let identities = hub["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 5);
    assert_eq!(identities[2]["deviceId"], "bench-dev-00002");
    let text = s.fleet.password_lines();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    let device = &s.fleet.devices[2];
    assert_eq!(
        device.username,
        format!("{HUB}/bench-dev-00002/?api-version=2021-04-12")
    );
    assert_eq!(
        lines[2],
        format!("{}:{}", device.username, device.password())
    );
    assert!(device.password().starts_with(
        "SharedAccessSignature sr=bench-hub.azure-devices.net%2Fdevices%2Fbench-dev-00002&sig="
    ));
    // Mosquitto splits each line at ':'; neither field may hold one.
    assert!(lines.iter().all(|l| l.matches(':').count() == 1));
    let debug = format!("{device:?}");
    assert!(
        !debug.contains("sig=") && debug.contains("redacted"),
        "{debug}"
    );
    // Chain = leaf then CA; the key is PKCS #8.
    let chain = std::fs::read_to_string(&s.tls.chain).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(chain.ends_with(&std::fs::read_to_string(&s.tls.ca).unwrap()));
    assert!(
        std::fs::read_to_string(&s.tls.key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn mosquitto_config_requires_passwords_on_a_loopback_tls_listener() {
    let tls = TlsFiles {
        ca: "/x/ca.pem".into(),
        chain: "/x/chain.pem".into(),
        key: "/x/server.key".into(),
    };
    let text = config_text(40_123, std::path::Path::new("/x/passwords"), &tls);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    for wanted in [
        "allow_anonymous false",
        "password_file /x/passwords",
        "persistence false",
        "set_tcp_nodelay true",
        "listener 40123 127.0.0.1",
        "certfile /x/chain.pem",
        "keyfile /x/server.key",
    ] {
        assert!(lines.contains(&wanted), "{wanted} missing from\n{text}");
    }
    // The TLS files are listener settings: they come after the listener line.
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap();
    assert!(at("listener 40123 127.0.0.1") < at("certfile /x/chain.pem"));
}

/// With Mosquitto installed: it admits the device's token and refuses one signed with another
/// key, through the hashed password file. Without it: the error says what to install.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_checks_the_password_file_or_is_reported_missing() {
    if let Err(e) = locate() {
        assert!(matches!(e, MosquittoError::Missing(_)));
        assert!(e.to_string().contains("apt-get install mosquitto"), "{e}");
        return;
    }
    let s = setup("mosquitto", 4);
    std::fs::create_dir_all(s.dir.join("m")).unwrap();
    let broker = Mosquitto::start(&s.dir.join("m"), &s.fleet.password_lines(), &s.tls).unwrap();
    // The password file now holds PBKDF2-SHA512 hashes, not the tokens.
    let hashed = std::fs::read_to_string(s.dir.join("m/passwords")).unwrap();
    assert_eq!(hashed.lines().count(), 4);
    assert!(hashed.lines().all(|l| l.contains(":$7$101$")), "{hashed}");
    assert!(!hashed.contains("SharedAccessSignature"));
    let t = target(&s, "mosquitto", broker.addr);
    admit_once(&t, &s.fleet.devices[1], Duration::from_secs(10))
        .await
        .unwrap();
    let wrong = s.fleet.with_wrong_key(1, s.expiry).unwrap().unwrap();
    match admit_once(&t, &wrong, Duration::from_secs(10)).await {
        Err(LoadError::Refused(code)) => assert!(code == 4 || code == 5, "{code}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let clients = connect_all(&t, &s.fleet.devices[..2], bounds())
        .await
        .unwrap();
    let load = TelemetryLoad {
        per_device: 10,
        window: 3,
        payload: b"m".to_vec().into(),
    };
    let run = telemetry(clients, &load, bounds()).await;
    assert!(run.is_clean(2, 10), "{run:?}");
    drop(broker);
    let _ = std::fs::remove_dir_all(&s.dir);
}
