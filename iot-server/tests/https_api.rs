//! The HTTPS listener over real TLS on an ephemeral port: the Registry Manager API, the DPS
//! service API, DPS device registration and hub telemetry over HTTPS, and MQTT over
//! WebSockets (DPS registration and telemetry; X.509 CA refused over WebSockets), each with
//! its refusals (401, 403, 404, 409, 412, 413, 400) and the reports (issue 10).
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

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use iot_sas::{ResourceUri, SharedAccessKey};
use iot_server::mqtt::{Connect, ConnectReturnCode, Packet, Publish, QoS, decode, encode};
use iot_server::store::{SqliteStore, Store as _, TelemetryFilter};
use iot_server::{Limits, RunningServer, ServerEvent};
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use support::fixtures::{Pki, dps_file, hub_file, start};
use support::{Client, DPS_HOST, HUB, SCOPE, client_config, key, now, temp_dir};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// One HTTP/1.1 exchange over TLS (`Connection: close`), optionally with a client
/// certificate.
struct Http {
    addr: SocketAddr,
    ca: String,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Http {
    async fn send(
        &self,
        identity: Option<(&str, &str)>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let config = client_config(&self.ca, identity);
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(body).await.unwrap();
        tls.flush().await.unwrap();
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut raw)).await;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    async fn hub(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let mut headers = vec![
            ("Host", HUB),
            ("Content-Type", "application/json; charset=utf-8"),
        ];
        if let Some(t) = token {
            headers.push(("Authorization", t));
        }
        headers.extend_from_slice(extra);
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(None, method, path, &headers, &body).await
    }

    async fn dps(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let mut headers = vec![
            ("Host", DPS_HOST),
            ("Content-Type", "application/json; charset=utf-8"),
        ];
        if let Some(t) = token {
            headers.push(("Authorization", t));
        }
        headers.extend_from_slice(extra);
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(None, method, path, &headers, &body).await
    }
}

fn policy_token(host: &str, key_b64: &str, name: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    iot_sas::sign(&key, &ResourceUri::Hub { host }, now() + 3600, Some(name)).unwrap()
}

fn device_token(device_id: &str, key_b64: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    let resource = ResourceUri::Device {
        host: HUB,
        device_id,
    };
    iot_sas::sign(&key, &resource, now() + 3600, None).unwrap()
}

fn registration_token(registration_id: &str, key_b64: &str) -> String {
    let key = SharedAccessKey::from_base64(key_b64).unwrap();
    let resource = ResourceUri::DpsRegistration {
        id_scope: SCOPE,
        registration_id,
    };
    iot_sas::sign(&key, &resource, now() + 3600, Some("registration")).unwrap()
}

/// A server with the shared fixtures plus a read-only hub policy and a DPS reader policy.
async fn server(name: &str) -> (RunningServer, Http, Pki, std::path::PathBuf) {
    let dir = temp_dir(name);
    let pki = Pki::new();
    let mut hub = hub_file(&pki);
    hub["authorizationPolicies"]
        .as_array_mut()
        .unwrap()
        .push(json!({
        "keyName": "registryRead", "primaryKey": key(102), "secondaryKey": key(103),
        "rights": "RegistryRead"}));
    let mut dps = dps_file(&pki);
    dps["authorizationPolicies"]
        .as_array_mut()
        .unwrap()
        .push(json!({
        "keyName": "reader", "primaryKey": key(112), "secondaryKey": key(113),
        "rights": "EnrollmentRead"}));
    let imports = dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    std::fs::write(imports.join("hub.json"), hub.to_string()).unwrap();
    std::fs::write(imports.join("dps.json"), dps.to_string()).unwrap();
    let (server, ca) = start(
        &dir,
        vec![imports.join("hub.json"), imports.join("dps.json")],
        Limits::default(),
    )
    .await;
    let http = Http {
        addr: server.https_addr().unwrap(),
        ca,
    };
    (server, http, pki, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_manager_identities_with_etags_and_refusals() {
    let (server, http, _pki, _dir) = server("registry").await;
    let mut events = server.events();
    let owner = policy_token(HUB, &key(100), "iothubowner");
    let reader = policy_token(HUB, &key(102), "registryRead");
    let device = json!({"deviceId": "new-1", "status": "enabled",
        "authentication": {"type": "sas", "symmetricKey": {"primaryKey": key(50), "secondaryKey": key(51)}},
        "capabilities": {"iotEdge": false}});

    // Unauthenticated: 401 with nothing about policies; a read-only policy may not write: 403.
    let r = http
        .hub(
            "PUT",
            "/devices/new-1?api-version=2021-04-12",
            None,
            &[],
            &device,
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(!r.text().contains("policy"), "{}", r.text());
    let forged = policy_token(HUB, &key(7), "iothubowner");
    let r = http
        .hub("PUT", "/devices/new-1", Some(&forged), &[], &device)
        .await;
    assert_eq!(r.status, 401);
    let unknown = policy_token(HUB, &key(7), "nobody");
    let r = http
        .hub("GET", "/devices/dev-sas", Some(&unknown), &[], &Value::Null)
        .await;
    assert_eq!(r.status, 401);
    let r = http
        .hub("PUT", "/devices/new-1", Some(&reader), &[], &device)
        .await;
    assert_eq!(r.status, 403);

    // Create: 200 with the device back and its etag.
    let r = http
        .hub(
            "PUT",
            "/devices/new-1?api-version=2021-04-12",
            Some(&owner),
            &[],
            &device,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let created = r.json();
    assert_eq!(created["deviceId"], "new-1");
    assert_eq!(created["authentication"]["type"], "sas");
    assert_eq!(
        created["authentication"]["symmetricKey"]["primaryKey"],
        key(50)
    );
    assert_eq!(created["connectionState"], "Disconnected");
    let etag = created["etag"].as_str().unwrap().to_owned();
    assert_eq!(r.header("etag"), Some(format!("\"{etag}\"").as_str()));

    // Again without If-Match: 409. With a stale etag: 412. With "*": replaced.
    let r = http
        .hub("PUT", "/devices/new-1", Some(&owner), &[], &device)
        .await;
    assert_eq!(r.status, 409);
    let mut disabled = device.clone();
    disabled["status"] = json!("disabled");
    let r = http
        .hub(
            "PUT",
            "/devices/new-1",
            Some(&owner),
            &[("If-Match", "\"AAAAAAAAAAAA\"")],
            &disabled,
        )
        .await;
    assert_eq!(r.status, 412);
    let r = http
        .hub(
            "PUT",
            "/devices/new-1",
            Some(&owner),
            &[("If-Match", "\"*\"")],
            &disabled,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "disabled");
    assert_ne!(r.json()["etag"].as_str().unwrap(), etag);
    let r = http
        .hub("GET", "/devices/new-1", Some(&reader), &[], &Value::Null)
        .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("disabled"))
    );
    let current = r.json()["etag"].as_str().unwrap().to_owned();
    let r = http
        .hub(
            "PUT",
            "/devices/new-1",
            Some(&owner),
            &[("If-Match", &format!("\"{current}\""))],
            &device,
        )
        .await;
    assert_eq!(r.status, 200);

    // A sas device without keys gets fresh ones; a body naming another device is refused.
    let keyless = json!({"deviceId": "keyless", "authentication": {"type": "sas"}});
    let r = http
        .hub("PUT", "/devices/keyless", Some(&owner), &[], &keyless)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let fresh = r.json()["authentication"]["symmetricKey"]["primaryKey"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(SharedAccessKey::from_base64(&fresh).unwrap().len(), 32);
    let r = http
        .hub("PUT", "/devices/other", Some(&owner), &[], &device)
        .await;
    assert_eq!(r.status, 400);
    let r = http
        .hub(
            "PUT",
            "/devices/bad",
            Some(&owner),
            &[],
            &json!("not a device"),
        )
        .await;
    assert_eq!(r.status, 400);

    // Thumbprint and CA devices, and a module (its device must exist).
    let thumb = json!({"deviceId": "thumb-1", "status": "enabled", "authentication": {"type": "selfSigned",
        "x509Thumbprint": {"primaryThumbprint": "AB".repeat(20), "secondaryThumbprint": "CD".repeat(20)}}});
    let r = http
        .hub("PUT", "/devices/thumb-1", Some(&owner), &[], &thumb)
        .await;
    assert_eq!(
        (r.status, r.json()["authentication"]["type"].clone()),
        (200, json!("selfSigned"))
    );
    let ca = json!({"deviceId": "ca-1", "authentication": {"type": "certificateAuthority"}});
    let r = http
        .hub("PUT", "/devices/ca-1", Some(&owner), &[], &ca)
        .await;
    assert_eq!(r.status, 200);
    let module = json!({"moduleId": "m1", "managedBy": "", "deviceId": "new-1",
        "authentication": {"type": "sas", "symmetricKey": {"primaryKey": key(52), "secondaryKey": key(53)}}});
    let r = http
        .hub(
            "PUT",
            "/devices/new-1/modules/m1",
            Some(&owner),
            &[],
            &module,
        )
        .await;
    assert_eq!((r.status, r.json()["moduleId"].clone()), (200, json!("m1")));
    let mut orphan = module.clone();
    orphan["deviceId"] = json!("ghost");
    let r = http
        .hub(
            "PUT",
            "/devices/ghost/modules/m1",
            Some(&owner),
            &[],
            &orphan,
        )
        .await;
    assert_eq!(r.status, 404);

    // The created device connects over MQTT at once (the realm mirrors the commit).
    let mut mqtt = Client::connect(server.mqtt_addr(), &http.ca, None)
        .await
        .unwrap();
    let ack = mqtt
        .mqtt_connect(
            "new-1",
            &format!("{HUB}/new-1/?api-version=2021-04-12"),
            Some(&device_token("new-1", &key(50))),
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::Accepted);

    // Delete: stale etag 412, then 204, then 404 for the device and its module.
    let r = http
        .hub(
            "DELETE",
            "/devices/new-1",
            Some(&owner),
            &[("If-Match", "\"nope\"")],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 412);
    let r = http
        .hub(
            "DELETE",
            "/devices/new-1",
            Some(&owner),
            &[("If-Match", "\"*\"")],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = http
        .hub("GET", "/devices/new-1", Some(&owner), &[], &Value::Null)
        .await;
    assert_eq!(r.status, 404);
    let r = http
        .hub(
            "GET",
            "/devices/new-1/modules/m1",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = http
        .hub("DELETE", "/devices/new-1", Some(&owner), &[], &Value::Null)
        .await;
    assert_eq!(r.status, 404);
    let mut mqtt = Client::connect(server.mqtt_addr(), &http.ca, None)
        .await
        .unwrap();
    let ack = mqtt
        .mqtt_connect(
            "new-1",
            &format!("{HUB}/new-1/?api-version=2021-04-12"),
            Some(&device_token("new-1", &key(50))),
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::NotAuthorized);

    // Unknown routes and methods.
    let r = http
        .hub("GET", "/nothing/here", Some(&owner), &[], &Value::Null)
        .await;
    assert_eq!(r.status, 404);
    let r = http
        .hub("POST", "/devices/dev-sas", Some(&owner), &[], &Value::Null)
        .await;
    assert_eq!(r.status, 405);

    // Reports: never a key or a signature.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    let apis: Vec<&ServerEvent> = seen
        .iter()
        .filter(|e| matches!(e, ServerEvent::Api { .. }))
        .collect();
    assert!(apis.len() >= 20, "{}", apis.len());
    assert!(apis.iter().any(
        |e| matches!(e, ServerEvent::Api { status: 401, code, .. } if code == "bad_signature")
    ));
    let text = serde_json::to_string(&seen).unwrap();
    for secret in [key(50), key(100), fresh, owner.clone()] {
        assert!(!text.contains(&secret));
    }
    assert!(!text.contains("sig="));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dps_service_api_and_device_registration_over_https() {
    let (server, http, pki, _dir) = server("dps-https").await;
    let owner = policy_token(DPS_HOST, &key(110), "provisioningserviceowner");
    let reader = policy_token(DPS_HOST, &key(112), "reader");
    let enrollment = json!({"registrationId": "http-dev",
        "attestation": {"type": "symmetricKey", "symmetricKey": {"primaryKey": key(60), "secondaryKey": key(61)}},
        "allocationPolicy": "static", "iotHubs": [HUB],
        "reprovisionPolicy": {"updateHubAssignment": true, "migrateDeviceData": false}});

    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev?api-version=2021-10-01",
            None,
            &[],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errorCode"], 401_002);
    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev",
            Some(&reader),
            &[],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 403);
    let forged = policy_token(DPS_HOST, &key(9), "reader");
    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev",
            Some(&forged),
            &[],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 401);
    let hub_scoped = policy_token(HUB, &key(110), "provisioningserviceowner");
    let r = http
        .dps(
            "GET",
            "/enrollments/sym-01",
            Some(&hub_scoped),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 401);

    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev?api-version=2021-10-01",
            Some(&owner),
            &[],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.json()["etag"].as_str().unwrap().to_owned();
    let r = http
        .dps(
            "GET",
            "/enrollments/http-dev",
            Some(&reader),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!((r.status, r.json()["etag"].clone()), (200, json!(etag)));
    assert_eq!(r.json()["allocationPolicy"], "static");
    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev",
            Some(&owner),
            &[("If-Match", "stale")],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 412);
    let r = http
        .dps(
            "PUT",
            "/enrollments/http-dev",
            Some(&owner),
            &[("If-Match", &etag)],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = http
        .dps(
            "PUT",
            "/enrollments/other-id",
            Some(&owner),
            &[],
            &enrollment,
        )
        .await;
    assert_eq!(r.status, 400);
    // A certificate already in another enrollment: refused by the cross-enrollment rules.
    let dup = json!({"registrationId": "x509-dev-1-copy", "attestation": {"type": "x509",
        "x509": {"clientCertificates": {"primary": {"certificate": pki.dps_x509_device.cert_pem}}}}});
    let r = http
        .dps(
            "PUT",
            "/enrollments/x509-dev-1-copy",
            Some(&owner),
            &[],
            &dup,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = http
        .dps(
            "GET",
            "/enrollments/x509-dev-1",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(
        r.status, 200,
        "the failed trial left the existing enrollment in place"
    );

    // The device registers over HTTPS: 202 with an operation and Retry-After, then assigned.
    let token = registration_token("http-dev", &key(60));
    let register = |token: String| {
        let http = &http;
        async move {
            http.send(
                None,
                "PUT",
                &format!("/{SCOPE}/registrations/http-dev/register?api-version=2019-03-31"),
                &[
                    ("Host", "localhost"),
                    ("Authorization", &token),
                    ("Content-Type", "application/json"),
                ],
                br#"{"registrationId":"http-dev"}"#,
            )
            .await
        }
    };
    let bad = registration_token("http-dev", &key(62));
    let r = register(bad.clone()).await;
    assert_eq!(r.status, 401, "{}", r.text());
    let r = register(token.clone()).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["status"], "assigning");
    let op = r.json()["operationId"].as_str().unwrap().to_owned();
    let poll = http
        .send(
            None,
            "GET",
            &format!("/{SCOPE}/registrations/http-dev/operations/{op}?api-version=2019-03-31"),
            &[("Host", "localhost"), ("Authorization", &token)],
            b"{}",
        )
        .await;
    assert_eq!(poll.status, 200, "{}", poll.text());
    assert_eq!(poll.json()["status"], "assigned");
    assert_eq!(poll.json()["registrationState"]["assignedHub"], HUB);
    assert_eq!(poll.json()["registrationState"]["deviceId"], "http-dev");
    // Every poll is authenticated again, as DPS does: knowing the operation ID is not enough.
    let poll_with = |path_id: &'static str, authorization: Option<String>| {
        let (http, op) = (&http, op.clone());
        async move {
            let path = format!("/{SCOPE}/registrations/{path_id}/operations/{op}");
            let mut headers = vec![("Host", "localhost".to_owned())];
            headers.extend(authorization.map(|a| ("Authorization", a)));
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            http.send(None, "GET", &path, &headers, b"{}").await
        }
    };
    for (path_id, authorization, why) in [
        ("http-dev", None, "no credential"),
        ("http-dev", Some(bad.clone()), "a token under another key"),
        (
            "http-dev",
            Some(registration_token("someone-else", &key(60))),
            "another sr",
        ),
        ("someone-else", None, "another registration, no credential"),
        (
            "someone-else",
            Some(token.clone()),
            "another registration, http-dev's token",
        ),
    ] {
        let r = poll_with(path_id, authorization).await;
        assert_eq!(r.status, 401, "{why}: {}", r.text());
        assert_eq!(r.json()["errorCode"], 401_002, "{why}");
        assert!(
            !r.text().contains(HUB),
            "{why}: nothing about the registration"
        );
    }
    let r = poll_with("http-dev", Some(token.clone())).await;
    assert_eq!(
        r.json()["registrationState"]["assignedHub"],
        HUB,
        "the owner still reads it"
    );
    let wrong_scope = http
        .send(
            None,
            "PUT",
            "/0ne00NOPE00/registrations/http-dev/register",
            &[("Host", "localhost"), ("Authorization", &token)],
            b"{}",
        )
        .await;
    assert_eq!(wrong_scope.status, 401);

    // The hub identity exists before the device saw `assigned`: it connects and sends.
    let r = http
        .send(
            None,
            "POST",
            "/devices/http-dev/messages/events?api-version=2020-09-30",
            &[
                ("Host", HUB),
                ("Authorization", &device_token("http-dev", &key(60))),
                ("iothub-app-kind", "https"),
            ],
            b"{\"t\":1}",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());

    // An X.509 device registers with its client certificate and no Authorization header.
    let x509 = http
        .send(
            Some((&pki.dps_x509_device.cert_pem, &pki.dps_x509_device.key_pem)),
            "PUT",
            &format!("/{SCOPE}/registrations/x509-dev-1/register"),
            &[("Host", "localhost")],
            br#"{"registrationId":"x509-dev-1"}"#,
        )
        .await;
    assert_eq!(x509.status, 202, "{}", x509.text());

    // Registration state: read, delete (If-Match), gone.
    let r = http
        .dps(
            "GET",
            "/registrations/http-dev",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "assigned");
    assert_eq!(r.json()["substatus"], "initialAssignment");
    let r = http
        .dps(
            "GET",
            "/registrations/http-dev",
            Some(&reader),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 403, "reader lacks RegistrationStatusRead");
    let r = http
        .dps(
            "DELETE",
            "/registrations/http-dev",
            Some(&owner),
            &[("If-Match", "stale")],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 412);
    let r = http
        .dps(
            "DELETE",
            "/registrations/http-dev",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = http
        .dps(
            "GET",
            "/registrations/http-dev",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 404);

    // Groups, and deleting an enrollment.
    let group = json!({"enrollmentGroupId": "grp-2", "attestation": {"type": "symmetricKey",
        "symmetricKey": {"primaryKey": key(70), "secondaryKey": key(71)}}});
    let r = http
        .dps("PUT", "/enrollmentGroups/grp-2", Some(&owner), &[], &group)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = http
        .dps(
            "GET",
            "/enrollmentGroups/grp-2",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["enrollmentGroupId"].clone()),
        (200, json!("grp-2"))
    );
    let r = http
        .dps(
            "DELETE",
            "/enrollmentGroups/grp-2",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = http
        .dps(
            "DELETE",
            "/enrollments/http-dev",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = http
        .dps(
            "GET",
            "/enrollments/http-dev",
            Some(&owner),
            &[],
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 404);
    // Its device keeps its hub identity until the Registry Manager deletes it (§7.6).
    let r = http
        .send(
            None,
            "POST",
            "/devices/http-dev/messages/events",
            &[
                ("Host", HUB),
                ("Authorization", &device_token("http-dev", &key(60))),
            ],
            b"after",
        )
        .await;
    assert_eq!(r.status, 204);

    let state = server.summary().ca_path.clone().unwrap();
    server.shutdown().await;
    // Everything acknowledged is in the store.
    let mut store = SqliteStore::open(state.parent().unwrap().parent().unwrap()).unwrap();
    let snapshot = store.load().unwrap();
    assert!(
        snapshot
            .enrollments
            .iter()
            .all(|e| e.registration_id != "http-dev")
    );
    assert!(
        snapshot
            .records
            .iter()
            .any(|r| r.registration_id == "x509-dev-1")
    );
    assert!(
        snapshot
            .records
            .iter()
            .all(|r| r.registration_id != "http-dev")
    );
    let hub = snapshot
        .hubs
        .iter()
        .find(|(h, _)| h.host_name == HUB)
        .unwrap();
    assert!(hub.1.iter().any(|i| i.device_id == "http-dev"));
    let stored = store
        .telemetry(&TelemetryFilter {
            device_id: Some("http-dev".into()),
            ..TelemetryFilter::default()
        })
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].1.properties, "kind=https");
    assert_eq!(stored[1].1.body, b"after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_over_https_is_authorized_bounded_and_durable() {
    let (server, http, pki, _dir) = server("telemetry").await;
    let token = device_token("dev-sas", &key(1));
    let post =
        |identity: Option<(&'static str, &'static str)>, token: Option<String>, body: Vec<u8>| {
            let http = &http;
            async move {
                let mut headers = vec![
                    ("Host", HUB),
                    ("iothub-messageid", "m-1"),
                    ("Content-Type", "text/plain"),
                ];
                let t;
                if let Some(tok) = token {
                    t = tok;
                    headers.push(("Authorization", t.as_str()));
                }
                http.send(
                    identity,
                    "POST",
                    "/devices/dev-sas/messages/events",
                    &headers,
                    &body,
                )
                .await
            }
        };
    assert_eq!(post(None, None, b"x".to_vec()).await.status, 401);
    assert_eq!(
        post(None, Some(device_token("dev-sas", &key(9))), b"x".to_vec())
            .await
            .status,
        401
    );
    assert_eq!(
        post(None, Some(device_token("dev-off", &key(3))), b"x".to_vec())
            .await
            .status,
        401
    );
    assert_eq!(
        post(None, Some(token.clone()), b"hello".to_vec())
            .await
            .status,
        204
    );
    let big = vec![b'a'; iot_server::MAX_MESSAGE_SIZE + 1];
    assert_eq!(post(None, Some(token.clone()), big).await.status, 413);
    let exact = vec![b'b'; iot_server::MAX_MESSAGE_SIZE];
    assert_eq!(post(None, Some(token.clone()), exact).await.status, 204);
    // A self-signed device with its client certificate, no token.
    let cert: &'static str = Box::leak(pki.self_signed.cert_pem.clone().into_boxed_str());
    let key_pem: &'static str = Box::leak(pki.self_signed.key_pem.to_string().into_boxed_str());
    let r = http
        .send(
            Some((cert, key_pem)),
            "POST",
            "/devices/dev-self/messages/events",
            &[("Host", HUB)],
            b"from cert",
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // The token names dev-sas; the path names dev-self: refused.
    let r = http
        .send(
            None,
            "POST",
            "/devices/dev-self/messages/events",
            &[("Host", HUB), ("Authorization", &token)],
            b"x",
        )
        .await;
    assert_eq!(r.status, 401);
    // Host `localhost`: the hub is taken from the token's `sr`.
    let r = http
        .send(
            None,
            "POST",
            "/devices/dev-sas/messages/events",
            &[("Host", "localhost"), ("Authorization", &token)],
            b"via localhost",
        )
        .await;
    assert_eq!(r.status, 204);

    let state = server.summary().ca_path.clone().unwrap();
    server.shutdown().await;
    let mut store = SqliteStore::open(state.parent().unwrap().parent().unwrap()).unwrap();
    let all = store.telemetry(&TelemetryFilter::default()).unwrap();
    let bodies: Vec<(&str, usize)> = all
        .iter()
        .map(|(_, m)| (m.device_id.as_str(), m.body.len()))
        .collect();
    assert_eq!(
        bodies,
        vec![
            ("dev-sas", 5),
            ("dev-sas", iot_server::MAX_MESSAGE_SIZE),
            ("dev-self", 9),
            ("dev-sas", 13)
        ]
    );
    assert_eq!(all[0].1.properties, "$.mid=m-1&$.ct=text%2Fplain");
}

/// MQTT over a WebSocket over TLS, with the server's own codec.
struct WsMqtt {
    ws: tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>,
    buf: Vec<u8>,
}

impl WsMqtt {
    async fn open(
        addr: SocketAddr,
        ca: &str,
        identity: Option<(&str, &str)>,
        protocol: Option<&str>,
    ) -> Result<(Self, Option<String>), u16> {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(client_config(ca, identity))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let mut request = "wss://localhost/$iothub/websocket"
            .into_client_request()
            .unwrap();
        if let Some(p) = protocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
        }
        match tokio_tungstenite::client_async(request, tls).await {
            Ok((ws, response)) => {
                let echoed = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .map(|v| v.to_str().unwrap().to_owned());
                Ok((
                    Self {
                        ws,
                        buf: Vec::new(),
                    },
                    echoed,
                ))
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("{e}"),
        }
    }

    async fn send(&mut self, packet: &Packet) {
        let mut out = Vec::new();
        encode(packet, &mut out);
        // Split across two frames: the session must reassemble.
        let half = out.len() / 2;
        self.ws
            .send(Message::binary(out[..half].to_vec()))
            .await
            .unwrap();
        self.ws
            .send(Message::binary(out[half..].to_vec()))
            .await
            .unwrap();
    }

    async fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Ok(Some((packet, used))) = decode(&self.buf, 1 << 20) {
                self.buf.drain(..used);
                return Some(packet);
            }
            match tokio::time::timeout(Duration::from_secs(10), self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(data)))) => self.buf.extend_from_slice(&data),
                Ok(Some(Ok(_))) => {}
                _ => return None,
            }
        }
    }

    async fn connect(
        &mut self,
        client_id: &str,
        username: &str,
        password: Option<&str>,
    ) -> ConnectReturnCode {
        self.send(&Packet::Connect(Connect {
            protocol_level: 4,
            clean_session: false,
            keep_alive: 60,
            client_id: client_id.into(),
            will: None,
            username: Some(username.into()),
            password: password.map(|p| p.as_bytes().to_vec()),
        }))
        .await;
        match self.recv().await {
            Some(Packet::ConnAck(ack)) => ack.code,
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    async fn publish1(&mut self, id: u16, topic: &str, payload: &[u8]) -> Vec<Packet> {
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: topic.into(),
            packet_id: Some(id),
            payload: payload.to_vec(),
        }))
        .await;
        let mut seen = Vec::new();
        loop {
            match self.recv().await {
                Some(Packet::PubAck(got)) if got == id => return seen,
                Some(other) => seen.push(other),
                None => panic!("closed before PUBACK"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_over_websockets_registers_sends_and_refuses_x509_ca() {
    let (server, http, pki, _dir) = server("websocket").await;
    let addr = server.https_addr().unwrap();

    // Without the mqtt subprotocol: refused. With it: echoed.
    assert_eq!(
        WsMqtt::open(addr, &http.ca, None, None).await.err(),
        Some(400)
    );
    let (mut dps, echoed) = WsMqtt::open(addr, &http.ca, None, Some("mqtt"))
        .await
        .unwrap();
    assert_eq!(echoed.as_deref(), Some("mqtt"));

    // DPS over WebSockets: register sym-01, poll, assigned.
    let token = registration_token("sym-01", &key(10));
    let user = format!("{SCOPE}/registrations/sym-01/api-version=2019-03-31");
    assert_eq!(
        dps.connect("sym-01", &user, Some(&token)).await,
        ConnectReturnCode::Accepted
    );
    let seen = dps
        .publish1(
            1,
            "$dps/registrations/PUT/iotdps-register/?$rid=1",
            br#"{"registrationId":"sym-01"}"#,
        )
        .await;
    let reply = match seen.into_iter().next() {
        Some(Packet::Publish(p)) => p,
        _ => match dps.recv().await {
            Some(Packet::Publish(p)) => p,
            other => panic!("{other:?}"),
        },
    };
    assert!(
        reply
            .topic
            .starts_with("$dps/registrations/res/202/?$rid=1"),
        "{}",
        reply.topic
    );
    let body: Value = serde_json::from_slice(&reply.payload).unwrap();
    let op = body["operationId"].as_str().unwrap().to_owned();
    let topic =
        format!("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId={op}");
    let seen = dps.publish1(2, &topic, b"").await;
    let reply = match seen.into_iter().next() {
        Some(Packet::Publish(p)) => p,
        _ => match dps.recv().await {
            Some(Packet::Publish(p)) => p,
            other => panic!("{other:?}"),
        },
    };
    let body: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(body["status"], "assigned", "{body}");

    // The hub over WebSockets: connect as the assigned device and send QoS 1 telemetry.
    let (mut hub, _) = WsMqtt::open(addr, &http.ca, None, Some("mqtt"))
        .await
        .unwrap();
    let code = hub
        .connect(
            "sym-01",
            &format!("{HUB}/sym-01/?api-version=2021-04-12"),
            Some(&device_token("sym-01", &key(10))),
        )
        .await;
    assert_eq!(code, ConnectReturnCode::Accepted);
    hub.publish1(7, "devices/sym-01/messages/events/", b"over websockets")
        .await;

    // X.509 CA device: refused over WebSockets (x509CaOverWebSockets false), allowed over
    // MQTT/TLS with the same certificate.
    let chain = pki.chain(&pki.ca_device);
    let identity = Some((chain.as_str(), pki.ca_device.key_pem.as_str()));
    let (mut ca_ws, _) = WsMqtt::open(addr, &http.ca, identity, Some("mqtt"))
        .await
        .unwrap();
    let code = ca_ws
        .connect(
            "dev-ca",
            &format!("{HUB}/dev-ca/?api-version=2021-04-12"),
            None,
        )
        .await;
    assert_eq!(code, ConnectReturnCode::NotAuthorized);
    let mut ca_tls = Client::connect(server.mqtt_addr(), &http.ca, identity)
        .await
        .unwrap();
    let ack = ca_tls
        .mqtt_connect(
            "dev-ca",
            &format!("{HUB}/dev-ca/?api-version=2021-04-12"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(ack.code, ConnectReturnCode::Accepted);

    let mut events = server.events();
    drop(events.try_recv());
    let state = server.summary().ca_path.clone().unwrap();
    server.shutdown().await;
    let mut store = SqliteStore::open(state.parent().unwrap().parent().unwrap()).unwrap();
    let stored = store
        .telemetry(&TelemetryFilter {
            device_id: Some("sym-01".into()),
            ..TelemetryFilter::default()
        })
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.body, b"over websockets");
}
