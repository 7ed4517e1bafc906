//! `iot serve` as a real child process: everything acknowledged survives `kill -9` and a
//! restart (PUBACKed telemetry, a DPS registration with its hub identity); SIGTERM stops it
//! with status 0; `iot serve export` round-trips through `--import`; `iot serve events`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "../../iot-server/tests/support/client.rs"]
mod support;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use iot_dps_proto::{MqttConnect, operation_status_topic, register_topic};
use iot_sas::{ResourceUri, SharedAccessKey};
use iot_server::mqtt::ConnectReturnCode;
use serde_json::Value;
use support::fixtures::{Pki, write_imports};
use support::{Client, HUB, SCOPE, key, now, temp_dir};

struct Served {
    child: Child,
    addr: SocketAddr,
    ca: String,
    first_line: Value,
}

fn serve(state: &Path, imports: &[std::path::PathBuf]) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iot"));
    cmd.args(["serve", "--state"]).arg(state);
    for import in imports {
        cmd.arg("--import").arg(import);
    }
    cmd.args(["--mqtt-port", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first_line: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let addr = first_line["mqtt"].as_str().unwrap().parse().unwrap();
    let ca = std::fs::read_to_string(first_line["caPath"].as_str().unwrap()).unwrap();
    Served {
        child,
        addr,
        ca,
        first_line,
    }
}

fn iot(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iot"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn hub_token(device: &str, key_b64: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    let resource = ResourceUri::Device {
        host: HUB,
        device_id: device,
    };
    iot_sas::sign(&key, &resource, now() + 3600, None).unwrap()
}

fn hub_user(device: &str) -> String {
    format!("{HUB}/{device}/?api-version=2021-04-12")
}

async fn register_sym_01(addr: SocketAddr, ca: &str) -> Value {
    let device_key = SharedAccessKey::from_base64(&key(10)).unwrap();
    let password = MqttConnect::new(SCOPE, "sym-01")
        .unwrap()
        .password(&device_key, now() + 3600)
        .unwrap();
    let mut c = Client::connect(addr, ca, None).await.unwrap();
    let user = format!("{SCOPE}/registrations/sym-01/api-version=2019-03-31");
    let ack = c.mqtt_connect("sym-01", &user, Some(&password)).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    c.subscribe("$dps/registrations/res/#").await;
    let (_, reply) = c
        .dps_request(
            &register_topic("1").unwrap(),
            br#"{"registrationId":"sym-01"}"#,
        )
        .await;
    let reply: Value = serde_json::from_str(&reply).unwrap();
    let operation = reply["operationId"].as_str().unwrap();
    let (_, reply) = c
        .dps_request(&operation_status_topic("2", operation).unwrap(), b" ")
        .await;
    serde_json::from_str(&reply).unwrap()
}

#[tokio::test]
async fn everything_acknowledged_survives_kill_9() {
    let dir = temp_dir("kill9");
    let pki = Pki::new();
    let state = dir.join("state");
    let mut served = serve(&state, &write_imports(&dir, &pki));
    let summary = &served.first_line;
    assert_eq!(summary["event"], "listening");
    assert_eq!(summary["hubs"][0]["hostName"], HUB);
    assert!(
        summary["hubs"][0]["ownerConnectionString"]
            .as_str()
            .unwrap()
            .starts_with(&format!("HostName={HUB};SharedAccessKeyName=iothubowner;"))
    );
    assert_eq!(summary["dps"]["idScope"], SCOPE);

    let result = register_sym_01(served.addr, &served.ca).await;
    assert_eq!(result["status"], "assigned", "{result}");
    let mut dev = Client::connect(served.addr, &served.ca, None)
        .await
        .unwrap();
    let ack = dev
        .mqtt_connect(
            "dev-sas",
            &hub_user("dev-sas"),
            Some(&hub_token("dev-sas", &key(1))),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    for i in 0..20 {
        dev.publish1_acked(
            "devices/dev-sas/messages/events/k=v",
            format!("m{i}").as_bytes(),
        )
        .await;
    }
    // SIGKILL: no chance to flush anything that was not already durable.
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    let mut served = serve(&state, &[]);
    let mut dev = Client::connect(served.addr, &served.ca, None)
        .await
        .unwrap();
    let ack = dev
        .mqtt_connect(
            "sym-01",
            &hub_user("sym-01"),
            Some(&hub_token("sym-01", &key(10))),
        )
        .await;
    assert_eq!(
        ack.unwrap().code,
        ConnectReturnCode::Accepted,
        "identity from DPS kept"
    );
    let again = register_sym_01(served.addr, &served.ca).await;
    assert_eq!(
        again["registrationState"]["substatus"], "reprovisionedToInitialAssignment",
        "record kept: {again}"
    );
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    let state_arg = state.to_str().unwrap();
    let (code, out) = iot(&[
        "serve", "events", "--state", state_arg, "--device", "dev-sas", "--json",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[19]["body"], "m19");
    assert_eq!(lines[0]["propertyMap"]["k"], "v");
    assert_eq!(lines[0]["hub"], HUB);
    let (code, out) = iot(&[
        "serve", "events", "--state", state_arg, "--device", "nobody",
    ]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[tokio::test]
async fn sigterm_stops_cleanly() {
    let dir = temp_dir("sigterm");
    let pki = Pki::new();
    let mut served = serve(&dir.join("state"), &write_imports(&dir, &pki));
    let mut dev = Client::connect(served.addr, &served.ca, None)
        .await
        .unwrap();
    let ack = dev
        .mqtt_connect(
            "dev-sas",
            &hub_user("dev-sas"),
            Some(&hub_token("dev-sas", &key(1))),
        )
        .await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dev.closed().await, "the server closes open connections");
    let exit = served.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn export_round_trips_through_import() {
    let dir = temp_dir("export");
    let pki = Pki::new();
    let imports = write_imports(&dir, &pki);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = |state: std::path::PathBuf, imports: Vec<std::path::PathBuf>| {
        rt.block_on(async {
            let mut config = iot_server::ServerConfig::new(state).on_ephemeral_ports();
            config.imports = imports;
            iot_server::Server::start(config)
                .await
                .unwrap()
                .shutdown()
                .await;
        });
    };
    started(dir.join("a"), imports);
    let a = dir.join("a").to_str().unwrap().to_owned();
    let out1 = dir.join("out1").to_str().unwrap().to_owned();
    let (code, listed) = iot(&["serve", "export", "--state", &a, "--out", &out1]);
    assert_eq!(code, 0);
    let files: Vec<std::path::PathBuf> = listed.lines().map(Into::into).collect();
    assert_eq!(files.len(), 2, "{listed}");
    started(dir.join("b"), files);
    let b = dir.join("b").to_str().unwrap().to_owned();
    let out2 = dir.join("out2").to_str().unwrap().to_owned();
    assert_eq!(
        iot(&["serve", "export", "--state", &b, "--out", &out2]).0,
        0
    );
    for name in [format!("{HUB}.hub.json"), "dps.json".to_owned()] {
        let first = std::fs::read_to_string(Path::new(&out1).join(&name)).unwrap();
        let second = std::fs::read_to_string(Path::new(&out2).join(&name)).unwrap();
        assert_eq!(first, second, "{name}");
        let value: Value = serde_json::from_str(&first).unwrap();
        assert!(value.is_object());
    }
    let hub: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&out1).join(format!("{HUB}.hub.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(hub["identities"].as_array().unwrap().len(), 4);
    let dps: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(&out1).join("dps.json")).unwrap())
            .unwrap();
    assert_eq!(dps["enrollments"].as_array().unwrap().len(), 2);
    assert_eq!(dps["enrollmentGroups"].as_array().unwrap().len(), 2);
    assert_eq!(
        dps["authorizationPolicies"][0]["keyName"],
        "provisioningserviceowner"
    );
    // A state directory that does not exist is bad input, not an empty export.
    let missing = dir.join("missing").to_str().unwrap().to_owned();
    assert_eq!(
        iot(&["serve", "export", "--state", &missing, "--out", &out1]).0,
        2
    );
}
