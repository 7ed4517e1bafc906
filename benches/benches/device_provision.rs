//! DPS provisioning round trips against a local iot-server over loopback TLS: iot-device
//! beside Microsoft's Python `ProvisioningDeviceClient` (azure-iot-device 2.14.0), in the same
//! run against the same server, interleaved round by round.
//!
//! A bounded load generator (`harness = false`), not criterion: each round registers COUNT
//! devices one after another with each client (the round trip: TCP + TLS + CONNECT/CONNACK +
//! SUBSCRIBE + register + the service's `retry-after` wait + poll + assigned), then
//! CONCURRENCY devices at once with each. Every device is new (a group enrollment, key derived
//! per registration ID), so every registration creates a hub identity.
//!
//! ```sh
//! cargo bench -p iot-benches --bench device_provision            # 3 rounds, 5 + 20 devices
//! PYTHON=/path/to/venv/bin/python ROUNDS=3 COUNT=5 CONCURRENCY=20 cargo bench ...
//! ```
//! The Python SDK's MQTT port is fixed at 8883, so the server binds 127.0.0.1:8883 (free it
//! first); without a Python venv with azure-iot-device the Python half is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use iot_device::{Credential, Endpoint, ProvisioningOptions, ServerTrust, provision};
use iot_sas::SharedAccessKey;
use iot_server::{Server, ServerConfig};
use serde_json::{Value, json};

const SCOPE: &str = "0ne00BENCH1";
const HUB: &str = "bench-hub.azure-devices.net";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn options(trust: &ServerTrust, group_key: &str, registration_id: &str) -> ProvisioningOptions {
    let credential = Credential::derived_from_group_key(group_key, registration_id).unwrap();
    let mut o = ProvisioningOptions::new(SCOPE, registration_id, credential);
    o.endpoint = Endpoint::new("localhost")
        .with_port(8883)
        .with_trust(trust.clone());
    o.max_jitter = Duration::ZERO;
    o.timing = o.timing.with_deadline(Duration::from_secs(60));
    o
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = env("ROUNDS", 3);
    let count = env("COUNT", 5);
    let concurrency = env("CONCURRENCY", 20);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "/work/venv-sdk/bin/python".into());
    let have_python = Command::new(&python)
        .args(["-c", "import azure.iot.device"])
        .output()
        .is_ok_and(|o| o.status.success());

    let dir = std::env::temp_dir().join(format!("iot-bench-provision-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let group_key = SharedAccessKey::from_bytes(&[7u8; 32])
        .unwrap()
        .to_base64()
        .to_string();
    let owner = SharedAccessKey::from_bytes(&[9u8; 32])
        .unwrap()
        .to_base64()
        .to_string();
    let hub = json!({"hostName": HUB, "authorizationPolicies": [{"keyName": "iothubowner",
        "primaryKey": owner, "secondaryKey": owner, "rights": "RegistryWrite, ServiceConnect, DeviceConnect"}]});
    let dps = json!({"idScope": SCOPE, "linkedHubs": [{"name": HUB}],
        "serviceHostName": "bench-dps.azure-devices-provisioning.net", "authorizationPolicies": [],
        "enrollmentGroups": [{"enrollmentGroupId": "bench", "attestation": {"type": "symmetricKey",
            "symmetricKey": {"primaryKey": group_key, "secondaryKey": group_key}}}]});
    let imports: Vec<PathBuf> = vec![dir.join("hub.json"), dir.join("dps.json")];
    std::fs::write(&imports[0], hub.to_string()).unwrap();
    std::fs::write(&imports[1], dps.to_string()).unwrap();
    let mut config = ServerConfig::new(dir.join("state"));
    config.mqtt_port = 8883;
    config.https_port = 0;
    config.imports = imports;
    let server = Server::start(config)
        .await
        .expect("iot-server could not start on 127.0.0.1:8883 (is the port taken?)");
    let ca_path = server.summary().ca_path.clone().unwrap();
    let trust = ServerTrust::from_pem(&std::fs::read(&ca_path).unwrap()).unwrap();

    println!(
        "device_provision: {rounds} rounds x ({count} sequential + {concurrency} concurrent) registrations per client; server retry-after 1 s"
    );
    if !have_python {
        println!("  ({python} has no azure-iot-device: the Python half is skipped)");
    }
    let (mut ours_seq, mut py_seq) = (Vec::new(), Vec::new());
    let (mut ours_conc, mut py_conc) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for i in 0..count {
            let id = format!("rs-{round}-s-{i}");
            let start = Instant::now();
            provision(&options(&trust, &group_key, &id)).await.unwrap();
            ours_seq.push(start.elapsed().as_secs_f64());
        }
        let start = Instant::now();
        let handles: Vec<_> = (0..concurrency)
            .map(|i| {
                let o = options(&trust, &group_key, &format!("rs-{round}-c-{i}"));
                tokio::spawn(async move { provision(&o).await.is_ok() })
            })
            .collect();
        let mut assigned = 0;
        for h in handles {
            assigned += usize::from(h.await.unwrap());
        }
        assert_eq!(
            assigned, concurrency,
            "every concurrent registration assigned"
        );
        ours_conc.push(concurrency as f64 / start.elapsed().as_secs_f64());

        if have_python {
            let (python, ca_path, group_key) = (python.clone(), ca_path.clone(), group_key.clone());
            let (count_arg, concurrency_arg) = (count.to_string(), concurrency.to_string());
            let out = tokio::task::spawn_blocking(move || {
                Command::new(python)
                    .arg(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/benches/python/provision_rtt.py"
                    ))
                    .args([
                        ca_path.to_str().unwrap(),
                        SCOPE,
                        &group_key,
                        &format!("py-{round}"),
                        &count_arg,
                        &concurrency_arg,
                    ])
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            py_seq.extend(
                v["sequential"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap()),
            );
            let c = &v["concurrent"];
            assert_eq!(c["assigned"].as_u64(), Some(concurrency as u64));
            py_conc.push(c["devices"].as_f64().unwrap() / c["seconds"].as_f64().unwrap());
        }
        println!("  round {} done", round + 1);
    }
    let ours_rtt = median(ours_seq);
    let ours_rate = median(ours_conc);
    println!(
        "iot-device          sequential: median {ours_rtt:.3} s per registration ({:.2} round trips/s); concurrent x{concurrency}: median {ours_rate:.1} registrations/s",
        1.0 / ours_rtt
    );
    if have_python {
        let py_rtt = median(py_seq);
        let py_rate = median(py_conc);
        println!(
            "python SDK 2.14.0   sequential: median {py_rtt:.3} s per registration ({:.2} round trips/s); concurrent x{concurrency}: median {py_rate:.1} registrations/s",
            1.0 / py_rtt
        );
        println!(
            "ratio iot-device / python: sequential {:.2}x, concurrent {:.2}x",
            py_rtt / ours_rtt,
            ours_rate / py_rate
        );
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
