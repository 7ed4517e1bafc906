//! `iot demo`: the DPS test-to-production workflow over real TLS sockets on 127.0.0.1. An
//! in-process `iot-server` (ephemeral ports, temporary state directory) plays DPS and two
//! hubs; the devices are `iot-device` clients over MQTT/TLS (and MQTT over WebSockets); the
//! operator's steps go through the server's Registry Manager and DPS service APIs over HTTPS.
//! This module draws the randomness, writes the server's import files and prints the story.

mod operator;
mod scenarios;
mod steps;

use std::collections::HashMap;
use std::path::PathBuf;

use iot_device::{Credential, Endpoint, ServerTrust, Transport};
use iot_sas::SharedAccessKey;
use iot_server::engine::workflow::Story;
use iot_server::engine::workflow::{
    CA_DEVICE, GROUP_DEVICE, REVOKED_DEVICE, SYMMETRIC_DEVICE, X509_DEVICE,
};
use iot_server::{RunningServer, Server, ServerConfig};
use iot_x509::generate::{
    GeneratedCert, Validity, new_device_cert, new_root_ca, new_self_signed_device_cert,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use rustls::pki_types::CertificateDer;
use serde_json::json;

use crate::{Exit, Failure, Out, Outcome};

use operator::Operator;
use scenarios::DemoDevice;

/// Arguments of `iot demo` (none besides the global `--json`: the server decides on the real
/// clock, so the demo has no `--now`).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

const ID_SCOPE: &str = "0ne00DEMO01";
const TEST_HUB: &str = "contoso-test.azure-devices.net";
const PRODUCTION_HUB: &str = "contoso-prod.azure-devices.net";
const DPS_SERVICE_HOST: &str = "contoso-dps.azure-devices-provisioning.net";

/// The running server and what devices and the operator need to reach it.
pub(crate) struct Setup {
    server: RunningServer,
    state_dir: PathBuf,
    trust: ServerTrust,
    operator: Operator,
    id_scope: String,
    test_hub: String,
    production_hub: String,
}

impl Setup {
    fn endpoint(&self, transport: Transport) -> Endpoint {
        let port = match transport {
            Transport::WebSockets => self.server.https_addr().map_or(0, |a| a.port()),
            _ => self.server.mqtt_addr().port(),
        };
        Endpoint::new("127.0.0.1")
            .with_port(port)
            .with_transport(transport)
            .with_trust(self.trust.clone())
    }
}

/// Fresh material for one run: keys from the OS generator, a test PKI from iot-x509.
struct Material {
    keys: Vec<String>,
    root: GeneratedCert,
    ca_device: GeneratedCert,
    x509_device: GeneratedCert,
}

fn material(now: u64) -> Result<Material, String> {
    let rng = SystemRandom::new();
    let mut keys = Vec::new();
    for _ in 0..10 {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes)
            .map_err(|_| "the OS random generator failed".to_owned())?;
        let key = SharedAccessKey::from_bytes(&bytes).map_err(|e| e.to_string())?;
        keys.push(key.to_base64().to_string());
    }
    let start = i64::try_from(now).map_err(|_| "time out of range".to_owned())? - 3600;
    let validity = Validity::days(start, 30);
    let root = new_root_ca("iot-auth demo root CA", validity).map_err(|e| e.to_string())?;
    Ok(Material {
        ca_device: new_device_cert(CA_DEVICE, &root, validity).map_err(|e| e.to_string())?,
        x509_device: new_self_signed_device_cert(X509_DEVICE, validity)
            .map_err(|e| e.to_string())?,
        root,
        keys,
    })
}

/// The server's import files: two hubs with an owner policy, and a DPS instance whose
/// enrollments all start on the Test hub (static allocation, reset-on-reprovision).
fn import_files(dir: &std::path::Path, m: &Material) -> Result<Vec<PathBuf>, String> {
    let settings = json!({
        "allocationPolicy": "static",
        "iotHubs": [TEST_HUB],
        "reprovisionPolicy": {"updateHubAssignment": true, "migrateDeviceData": false},
    });
    let with = |mut v: serde_json::Value| {
        if let (Some(o), Some(s)) = (v.as_object_mut(), settings.as_object()) {
            o.extend(s.clone());
        }
        v
    };
    let sym = |p: usize| json!({"type": "symmetricKey", "symmetricKey": {"primaryKey": m.keys[p], "secondaryKey": m.keys[p + 1]}});
    let dps = json!({
        "idScope": ID_SCOPE,
        "linkedHubs": [{"name": TEST_HUB}, {"name": PRODUCTION_HUB}],
        "certificates": [{"name": "demo-root", "certificate": m.root.cert_pem, "isVerified": true}],
        "serviceHostName": DPS_SERVICE_HOST,
        "authorizationPolicies": [{"keyName": "provisioningserviceowner", "primaryKey": m.keys[8], "secondaryKey": m.keys[9],
            "rights": "ServiceConfig, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, RegistrationStatusWrite"}],
        "enrollments": [
            with(json!({"registrationId": SYMMETRIC_DEVICE, "attestation": sym(0)})),
            with(json!({"registrationId": REVOKED_DEVICE, "attestation": sym(4)})),
            with(json!({"registrationId": X509_DEVICE, "attestation": {"type": "x509",
                "x509": {"clientCertificates": {"primary": {"certificate": m.x509_device.cert_pem}}}}})),
        ],
        "enrollmentGroups": [
            with(json!({"enrollmentGroupId": "sym-group", "attestation": sym(2)})),
            with(json!({"enrollmentGroupId": "ca-group", "attestation": {"type": "x509",
                "x509": {"caReferences": {"primary": "demo-root"}}}})),
        ],
    });
    let mut paths = Vec::new();
    for (name, value) in [
        (
            "test-hub.json",
            json!({"hostName": TEST_HUB, "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": m.keys[6], "secondaryKey": m.keys[9], "rights": "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect"}]}),
        ),
        (
            "prod-hub.json",
            json!({"hostName": PRODUCTION_HUB, "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": m.keys[7], "secondaryKey": m.keys[9], "rights": "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect"}]}),
        ),
        ("dps.json", dps),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, value.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

async fn start(m: &Material) -> Result<Setup, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let state_dir = std::env::temp_dir().join(format!("iot-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&state_dir).map_err(|e| format!("{}: {e}", state_dir.display()))?;
    let mut config = ServerConfig::new(state_dir.join("state")).on_ephemeral_ports();
    config.imports = import_files(&state_dir, m)?;
    let server = Server::start(config).await.map_err(|e| e.to_string())?;
    let ca_path = server
        .summary()
        .ca_path
        .clone()
        .ok_or("the server made no CA")?;
    let ca_pem = std::fs::read(&ca_path).map_err(|e| format!("{}: {e}", ca_path.display()))?;
    let trust = ServerTrust::from_pem(&ca_pem).map_err(|e| e.to_string())?;
    let ServerTrust::Certificates(certs) = &trust else {
        return Err("no CA certificate".into());
    };
    let ca: CertificateDer<'static> = certs.first().cloned().ok_or("no CA certificate")?;
    let https = server
        .https_addr()
        .ok_or("the server has no HTTPS listener")?;
    let key = |i: usize| SharedAccessKey::from_base64(&m.keys[i]).map_err(|e| e.to_string());
    let owners = HashMap::from([
        (TEST_HUB.to_owned(), key(6)?),
        (PRODUCTION_HUB.to_owned(), key(7)?),
    ]);
    let operator = Operator::new(https, ca, owners, DPS_SERVICE_HOST.to_owned(), key(8)?)?;
    Ok(Setup {
        server,
        state_dir,
        trust,
        operator,
        id_scope: ID_SCOPE.to_owned(),
        test_hub: TEST_HUB.to_owned(),
        production_hub: PRODUCTION_HUB.to_owned(),
    })
}

fn devices(m: &Material) -> Result<[DemoDevice; 5], String> {
    let e = |e: iot_device::Error| e.to_string();
    let x509 = |leaf: &GeneratedCert, chain: &str| {
        Credential::x509_from_pem(
            format!("{}{chain}", leaf.cert_pem).as_bytes(),
            leaf.key_pem.as_bytes(),
        )
        .map_err(e)
    };
    Ok([
        DemoDevice {
            id: SYMMETRIC_DEVICE.into(),
            credential: Credential::symmetric_key(&m.keys[0]).map_err(e)?,
            enrollment: ("enrollments", SYMMETRIC_DEVICE.into()),
            leaf: None,
        },
        DemoDevice {
            id: GROUP_DEVICE.into(),
            credential: Credential::derived_from_group_key(&m.keys[2], GROUP_DEVICE).map_err(e)?,
            enrollment: ("enrollmentGroups", "sym-group".into()),
            leaf: None,
        },
        DemoDevice {
            id: CA_DEVICE.into(),
            credential: x509(&m.ca_device, &m.root.cert_pem)?,
            enrollment: ("enrollmentGroups", "ca-group".into()),
            leaf: Some(m.ca_device.der.clone()),
        },
        DemoDevice {
            id: X509_DEVICE.into(),
            credential: x509(&m.x509_device, "")?,
            enrollment: ("enrollments", X509_DEVICE.into()),
            leaf: Some(m.x509_device.der.clone()),
        },
        DemoDevice {
            id: REVOKED_DEVICE.into(),
            credential: Credential::symmetric_key(&m.keys[4]).map_err(e)?,
            enrollment: ("enrollments", REVOKED_DEVICE.into()),
            leaf: None,
        },
    ])
}

async fn run_story(now: u64) -> Result<Story, String> {
    let m = material(now)?;
    let setup = start(&m).await?;
    let [sym, group, ca, x509, revoked] = devices(&m)?;
    // Independent scenarios run side by side (each registration waits DPS's 1 s retry-after).
    let (a, b, (c, ws), d, rev) = tokio::join!(
        setup.move_to_production("individual enrollment, symmetric key", &sym),
        setup.move_to_production(
            "enrollment group, symmetric key (device key derived from the group key)",
            &group
        ),
        async {
            // The same CA device, then over WebSockets: the refusal is about the transport.
            let c = setup
                .move_to_production(
                    "enrollment group, X.509 CA (the hub gets a selfSigned SHA-256 thumbprint)",
                    &ca,
                )
                .await;
            (c, setup.websocket_refused(&ca).await)
        },
        setup.move_to_production("individual enrollment, X.509 device certificate", &x509),
        setup.revocation(&revoked),
    );
    let scenarios = vec![a, b, c, d, ws, rev];
    let state_dir = setup.state_dir.clone();
    setup.server.shutdown().await;
    let _ = std::fs::remove_dir_all(state_dir);
    Ok(Story {
        ok: scenarios.iter().all(|s| s.ok),
        scenarios,
    })
}

/// Runs `iot demo`: exit 0 when every expected decision happened, 1 when one did not, 2 when
/// the demo could not run (or its output could not be written).
pub(crate) fn run(_args: &Args, out: Out) -> Outcome {
    let now = crate::when::now_or(None);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::bad("runtime", format_args!("cannot start the runtime: {e}")))?;
    let story = runtime.block_on(run_story(now)).map_err(|message| {
        Failure::bad(
            "demo_setup",
            format_args!("the demo could not start: {message}"),
        )
    })?;
    let status = if story.ok { Exit::Ok } else { Exit::Rejected };
    let printed = out.print(
        || story_text(&story),
        || {
            let mut value = json!({
                "ok": story.ok,
                "idScope": ID_SCOPE,
                "testHub": TEST_HUB,
                "productionHub": PRODUCTION_HUB,
                "scenarios": story.scenarios,
            });
            crate::when::put_time(&mut value, "now", now);
            value
        },
    );
    match printed {
        Ok(()) => Ok(status),
        Err(Failure::BrokenPipe { .. }) => Err(Failure::BrokenPipe { status }),
        Err(other) => Err(other),
    }
}

fn story_text(story: &Story) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "iot demo: the DPS test-to-production workflow over real TLS sockets on 127.0.0.1"
    );
    let _ = writeln!(
        out,
        "DPS id scope {ID_SCOPE}; linked hubs: Test = {TEST_HUB}, Production = {PRODUCTION_HUB}"
    );
    let _ = writeln!(
        out,
        "An in-process iot-server (ephemeral ports, temporary state) plays DPS and both hubs;"
    );
    let _ = writeln!(
        out,
        "devices are iot-device clients over MQTT/TLS; the operator uses the Registry Manager and"
    );
    let _ = writeln!(
        out,
        "DPS service APIs over HTTPS. Fresh keys and certificates for this run."
    );
    let mut passed = 0usize;
    let mut total = 0usize;
    for scenario in &story.scenarios {
        let _ = writeln!(out);
        let _ = writeln!(out, "== {} ==", scenario.name);
        for step in &scenario.steps {
            total += 1;
            passed += usize::from(step.ok);
            let _ = writeln!(
                out,
                "  [{}] {}",
                if step.ok { "ok" } else { "UNEXPECTED" },
                step.step
            );
            let _ = writeln!(out, "       expected: {}", step.expected);
            let _ = writeln!(out, "       actual:   {}", step.actual);
            for note in &step.notes {
                let _ = writeln!(out, "       - {note}");
            }
        }
    }
    let _ = writeln!(out);
    if story.ok {
        let _ = writeln!(
            out,
            "RESULT: every expected decision happened ({passed}/{total} steps, {} scenarios)",
            story.scenarios.len()
        );
    } else {
        let _ = writeln!(
            out,
            "RESULT: {} of {total} steps did not go as expected",
            total - passed
        );
    }
    out
}
