//! `iot device provision | send | run` against an in-process iot-server on ephemeral ports
//! (exit 0 / 1 / 2, text and JSON).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use iot_sas::SharedAccessKey;
use iot_server::{RunningServer, Server, ServerConfig};
use serde_json::{Value, json};

const HUB: &str = "cli-hub.azure-devices.net";
const SCOPE: &str = "0ne00CLI001";

fn key(seed: u8) -> String {
    let bytes: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(13).wrapping_add(seed))
        .collect();
    SharedAccessKey::from_bytes(&bytes)
        .unwrap()
        .to_base64()
        .to_string()
}

struct Fx {
    dir: PathBuf,
    server: RunningServer,
    ca: PathBuf,
}

async fn start(name: &str) -> Fx {
    let dir = std::env::temp_dir().join(format!("iot-cli-device-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hub = json!({
        "hostName": HUB,
        "identities": [{"deviceId": "cli-dev", "authentication": {"type": "sas",
            "symmetricKey": {"primaryKey": key(1), "secondaryKey": key(2)}}}]
    });
    let dps = json!({
        "idScope": SCOPE,
        "linkedHubs": [{"name": HUB}],
        "serviceHostName": "cli-dps.azure-devices-provisioning.net",
        "authorizationPolicies": [],
        "enrollments": [{"registrationId": "cli-sym",
            "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(10), "secondaryKey": key(11)}}}],
        "enrollmentGroups": [{"enrollmentGroupId": "cli-grp",
            "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(20), "secondaryKey": key(21)}}}]
    });
    std::fs::write(dir.join("hub.json"), hub.to_string()).unwrap();
    std::fs::write(dir.join("dps.json"), dps.to_string()).unwrap();
    let mut config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
    config.imports = vec![dir.join("hub.json"), dir.join("dps.json")];
    let server = Server::start(config).await.unwrap();
    let ca = server.summary().ca_path.clone().unwrap();
    Fx { dir, server, ca }
}

async fn iot(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_iot"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn dps_args(fx: &Fx, registration_id: &str, credential: &[&str], websockets: bool) -> Vec<String> {
    let port = if websockets {
        fx.server.https_addr().unwrap().port()
    } else {
        fx.server.mqtt_addr().port()
    };
    let mut a = args(&["--id-scope", SCOPE, "--registration-id", registration_id]);
    a.extend(args(credential));
    a.extend(args(&[
        "--endpoint",
        "localhost",
        "--port",
        &port.to_string(),
    ]));
    a.extend(args(&["--ca", fx.ca.to_str().unwrap()]));
    if websockets {
        a.push("--websockets".to_owned());
    }
    a
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_prints_the_assignment_and_refusals_exit_1() {
    let fx = start("provision").await;
    let mut a = args(&["device", "provision"]);
    a.extend(dps_args(
        &fx,
        "cli-sym",
        &["--symmetric-key", &key(10)],
        false,
    ));
    a.push("--json".to_owned());
    let (code, out, err) = iot(a).await;
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["assignedHub"], HUB);
    assert_eq!(v["deviceId"], "cli-sym");
    assert_eq!(v["substatus"], "initialAssignment");

    // A group device over WebSockets, in text.
    let mut a = args(&["device", "provision"]);
    a.extend(dps_args(&fx, "cli-grp-1", &["--group-key", &key(20)], true));
    let (code, out, err) = iot(a).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("assigned hub: {HUB}")), "{out}");
    assert!(out.contains("device id:    cli-grp-1"), "{out}");
    assert!(err.contains("dps: answer 202, retry-after 1 s"), "{err}");

    // The wrong key: refused, exit 1, with the reason.
    let mut a = args(&["device", "provision"]);
    a.extend(dps_args(
        &fx,
        "cli-sym",
        &["--symmetric-key", &key(99)],
        false,
    ));
    let (code, out, err) = iot(a).await;
    assert_eq!(code, 1, "{out}{err}");
    // The verdict is on stdout, in the CLI's `word: message` form.
    assert!(
        out.contains("failed: registration failed (status 401)"),
        "{out}{err}"
    );

    // Unreadable certificate: bad input, exit 2.
    let mut a = args(&["device", "provision"]);
    a.extend(dps_args(
        &fx,
        "cli-x",
        &["--cert", "/nonexistent.pem", "--key", "/nonexistent.key"],
        false,
    ));
    let (code, _, err) = iot(a).await;
    assert_eq!(code, 2, "{err}");
    fx.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&fx.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_exits_0_only_when_every_message_is_acknowledged() {
    let fx = start("send").await;
    let port = fx.server.mqtt_addr().port().to_string();
    let base = |k: &str| {
        args(&[
            "device",
            "send",
            "--hub",
            HUB,
            "--device-id",
            "cli-dev",
            "--symmetric-key",
            k,
            "--gateway",
            "127.0.0.1",
            "--port",
            &port,
            "--ca",
            &path(&fx.ca),
            "--message",
            "{\"t\":1}",
            "--property",
            "kind=test",
        ])
    };
    let mut a = base(&key(1));
    a.extend(args(&["--count", "3", "--json"]));
    let (code, out, err) = iot(a).await;
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["acknowledged"], 3);

    let mut a = base(&key(7));
    a.push("--json".to_owned());
    let (code, out, _) = iot(a).await;
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["refused"], true);
    assert_eq!(v["retryable"], false);

    let mut a = base(&key(1));
    a.extend(args(&["--property", "no-equals-sign"]));
    let (code, _, err) = iot(a).await;
    assert_eq!(code, 2, "{err}");
    fx.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&fx.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_provisions_once_then_uses_the_cached_assignment() {
    let fx = start("run").await;
    let state = fx.dir.join("assignment.json");
    let run = |extra: &[&str]| {
        let mut a = args(&["device", "run"]);
        a.extend(dps_args(
            &fx,
            "cli-sym",
            &["--symmetric-key", &key(10)],
            false,
        ));
        a.extend(args(&[
            "--state",
            &path(&state),
            "--gateway",
            "127.0.0.1",
            "--hub-port",
            &fx.server.mqtt_addr().port().to_string(),
            "--interval",
            "1",
            "--count",
            "2",
        ]));
        a.extend(args(extra));
        a
    };
    let (code, out, err) = iot(run(&[])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("assigned: cli-sym on {HUB}")),
        "{out}"
    );
    assert!(out.contains("hub: message 2 acknowledged"), "{out}");
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["assignedHub"], HUB);

    let (code, out, err) = iot(run(&["--json"])).await;
    assert_eq!(code, 0, "{out}{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["cached", "connecting", "connected", "sent", "sent"],
        "{out}"
    );
    fx.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&fx.dir);
}
