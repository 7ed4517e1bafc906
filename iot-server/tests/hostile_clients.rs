//! Hostile and broken clients are dropped without hurting a good device (issue 10 "Bounded
//! and fair"): raw garbage, a TLS session that sends garbage, a CONNECT that never finishes, a
//! TCP connection that never starts TLS, an oversized packet, 1,000 failed CONNECTs, and the
//! connection limit; meanwhile a good device's every QoS 1 message is acknowledged and stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "support/client.rs"]
mod support;

use std::time::{Duration, Instant};

use iot_sas::{ResourceUri, SharedAccessKey};
use iot_server::Limits;
use iot_server::mqtt::ConnectReturnCode;
use iot_server::store::{SqliteStore, Store as _, TelemetryFilter};
use support::fixtures::{Pki, start, write_imports};
use support::{Client, HUB, key, now, temp_dir};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn token(device: &str, key_b64: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    let resource = ResourceUri::Device {
        host: HUB,
        device_id: device,
    };
    iot_sas::sign(&key, &resource, now() + 3600, None).unwrap()
}

fn user(device: &str) -> String {
    format!("{HUB}/{device}/?api-version=2021-04-12")
}

/// Reads from a raw TCP socket until the server closes it; returns how long that took.
async fn closed_within(mut tcp: TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, tcp.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the server kept the connection open for {limit:?}"),
        }
    }
}

fn limits() -> Limits {
    Limits {
        connect_timeout: Duration::from_secs(1),
        max_packet_size: 300 * 1024,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_do_not_hurt_a_good_device() {
    let dir = temp_dir("hostile");
    let pki = Pki::new();
    let (server, ca) = start(&dir, write_imports(&dir, &pki), limits()).await;
    let addr = server.mqtt_addr();

    let mut good = Client::connect(addr, &ca, None).await.unwrap();
    let ack = good
        .mqtt_connect(
            "dev-sas",
            &user("dev-sas"),
            Some(&token("dev-sas", &key(1))),
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::Accepted);
    let sender = tokio::spawn(async move {
        let mut sent = 0u32;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) || sent < 50 {
            good.publish1_acked(
                "devices/dev-sas/messages/events/",
                format!("{{\"n\":{sent}}}").as_bytes(),
            )
            .await;
            sent += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sent
    });

    // Garbage instead of a TLS ClientHello.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    closed_within(tcp, Duration::from_secs(5)).await;

    // TCP only, never a handshake: dropped at the connect deadline.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let waited = closed_within(tcp, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(900), "{waited:?}");

    // TLS, then garbage bytes.
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    c.send_raw(&[0xff; 64]).await.unwrap();
    assert!(c.closed().await);

    // TLS, then a CONNECT that never finishes.
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    let started = Instant::now();
    c.send_raw(&[0x10, 0x40, 0x00, 0x04, b'M']).await.unwrap();
    assert!(c.closed().await);
    assert!(started.elapsed() >= Duration::from_millis(900));

    // An oversized packet: refused from its fixed header.
    let mut c = Client::connect(addr, &ca, None).await.unwrap();
    c.send_raw(&[0x10, 0xff, 0xff, 0xff, 0x7f]).await.unwrap();
    assert!(c.closed().await);

    // 1,000 failed CONNECTs, ten at a time.
    let failures = (0..10).map(|_| {
        let ca = ca.clone();
        tokio::spawn(async move {
            let mut refused = 0;
            for _ in 0..100 {
                let mut c = Client::connect(addr, &ca, None).await.unwrap();
                let ack = c
                    .mqtt_connect(
                        "dev-sas",
                        &user("dev-sas"),
                        Some(&token("dev-sas", &key(7))),
                    )
                    .await
                    .unwrap();
                refused += usize::from(ack.code == ConnectReturnCode::NotAuthorized);
            }
            refused
        })
    });
    let mut refused = 0;
    for task in failures.collect::<Vec<_>>() {
        refused += task.await.unwrap();
    }
    assert_eq!(refused, 1000);

    let sent = sender.await.unwrap();
    let mut store = SqliteStore::open(&dir.join("state")).unwrap();
    let stored = store.telemetry(&TelemetryFilter::default()).unwrap();
    assert_eq!(stored.len(), usize::try_from(sent).unwrap());
    server.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_closed() {
    let dir = temp_dir("limit");
    let pki = Pki::new();
    let limits = Limits {
        max_connections: 2,
        ..limits()
    };
    let (server, ca) = start(&dir, write_imports(&dir, &pki), limits).await;
    let addr = server.mqtt_addr();
    let _a = Client::connect(addr, &ca, None).await.unwrap();
    let _b = Client::connect(addr, &ca, None).await.unwrap();
    // The third is closed before TLS completes.
    assert!(Client::connect(addr, &ca, None).await.is_err());
    drop(_a);
    // A slot frees once the first connection ends (its CONNECT deadline is 1 s away at most).
    let mut ok = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(mut c) = Client::connect(addr, &ca, None).await {
            let ack = c
                .mqtt_connect(
                    "dev-sas",
                    &user("dev-sas"),
                    Some(&token("dev-sas", &key(1))),
                )
                .await;
            ok = ack.is_some_and(|a| a.code == ConnectReturnCode::Accepted);
            if ok {
                break;
            }
        }
    }
    assert!(ok);
    server.shutdown().await;
}
