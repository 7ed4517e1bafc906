//! `iot hub authorize` against examples/hub.json: exit 0 allowed, 1 denied with the reason,
//! 2 bad input. Tokens were signed with Python's stdlib hmac (see examples/README.md); the
//! certificates are in examples/certs (made by iot-x509's fixture script at an earlier run,
//! so they differ from today's iot-x509/tests/data/openssl; see examples/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::{Command, Output};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const NOW: &str = "1780272000";
const DEV1_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices%2Fdev1&sig=Pj0K9FOIjtVAH5YGnrSmnhCSJIuKlLkI38i3M5X2L6Y%3D&se=1780275600";
const POLICY_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices&sig=FUZolhb8Y8HZNVjWPxesIAUMZA5eHanVTQpz8ewX7OU%3D&se=1780275600&skn=device";
/// Hub-scoped back-end tokens of the `service` (ServiceConnect) and `iothubowner` policies, also
/// signed with Python's stdlib hmac (examples/README.md).
const SERVICE_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net&sig=%2B4gsl4kcc1nmJ2aqipHr6etDRCoaFmxLFw5RIddUH1Y%3D&se=1780275600&skn=service";
const OWNER_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net&sig=raoY1jcg4gdaOvQpE1LD74yAhrtTTG9P3g%2BebRV7PxE%3D&se=1780275600&skn=iothubowner";
const MOD1_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod1&sig=zP1ilUhmm6YSB34fccMNkai8ztGnUTH80ZRiFG8irkg%3D&se=1780275600";

fn iot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iot"))
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap()
}

fn authorize(extra: &[&str]) -> Output {
    let mut args = vec![
        "hub",
        "authorize",
        "--hub",
        "examples/hub.json",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    iot(&args)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn user(client: &str) -> String {
    format!("contoso.azure-devices.net/{client}/?api-version=2021-04-12")
}

#[test]
fn mqtt_device_key_is_allowed_until_the_token_expires() {
    let u = user("dev1");
    let out = authorize(&[
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        &u,
        "--password",
        DEV1_TOKEN,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("allowed: dev1 by primary device key"),
        "{text}"
    );
    let out = authorize(&[
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        &u,
        "--password",
        DEV1_TOKEN,
        "--json",
    ]);
    let v = json(&out);
    assert_eq!(v["accepted"], true);
    assert_eq!(v["method"]["type"], "deviceKey");
    assert_eq!(v["validUntilUnix"], 1_780_275_600u64);
    assert_eq!(v["validUntil"], "2026-06-01T01:00:00Z");
    // An hour and a bit later the same token is refused.
    let out = iot(&[
        "hub",
        "authorize",
        "--hub",
        "examples/hub.json",
        "--now",
        "1780276000",
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        &u,
        "--password",
        DEV1_TOKEN,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["reason"], "token_expired");
}

/// The allow's identity and method as `--json` prints them.
fn allowed_as(out: &Output) -> (String, serde_json::Value, serde_json::Value) {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(out);
    assert_eq!(v["accepted"], true);
    (
        v["deviceId"].as_str().unwrap().to_owned(),
        v["moduleId"].clone(),
        v["method"].clone(),
    )
}

#[test]
fn amqp_https_policy_and_module_paths() {
    let device_key = serde_json::json!({"type": "deviceKey", "key": "primary"});
    let out = authorize(&[
        "--transport",
        "amqp",
        "--username",
        "dev1@sas.contoso",
        "--password",
        DEV1_TOKEN,
        "--json",
    ]);
    assert_eq!(
        allowed_as(&out),
        ("dev1".into(), serde_json::Value::Null, device_key.clone())
    );
    let out = authorize(&[
        "--transport",
        "https",
        "--device-id",
        "dev1",
        "--password",
        DEV1_TOKEN,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("allowed: dev1 by primary device key; rights DeviceConnect"),
        "{text}"
    );
    let out = authorize(&[
        "--transport",
        "https",
        "--device-id",
        "dev1",
        "--password",
        DEV1_TOKEN,
        "--json",
    ]);
    assert_eq!(
        allowed_as(&out),
        ("dev1".into(), serde_json::Value::Null, device_key)
    );
    let out = authorize(&[
        "--transport",
        "amqp-ws",
        "--username",
        "device@sas.root.contoso",
        "--device-id",
        "dev1",
        "--password",
        POLICY_TOKEN,
        "--json",
    ]);
    let (device, module, method) = allowed_as(&out);
    assert_eq!((device.as_str(), module), ("dev1", serde_json::Value::Null));
    assert_eq!(method["policy"], "device");
    assert_eq!(method["key"], "primary");
    let u = user("dev1/mod1");
    let out = authorize(&[
        "--transport",
        "mqtt-ws",
        "--client-id",
        "dev1/mod1",
        "--username",
        &u,
        "--password",
        MOD1_TOKEN,
        "--json",
    ]);
    let (device, module, method) = allowed_as(&out);
    assert_eq!((device.as_str(), module.as_str()), ("dev1", Some("mod1")));
    assert_eq!(method["type"], "deviceKey");
}

#[test]
fn x509_paths_and_the_websocket_default() {
    let u = user("device-ec");
    let cert = "examples/certs/device-ec.pem";
    let out = authorize(&[
        "--transport",
        "mqtt",
        "--client-id",
        "device-ec",
        "--username",
        &u,
        "--client-cert",
        cert,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out)["method"]["ca"], "root-ec");
    let out = authorize(&[
        "--transport",
        "mqtt-ws",
        "--client-id",
        "device-ec",
        "--username",
        &u,
        "--client-cert",
        cert,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("denied:") && text.contains("x509CaOverWebSockets"),
        "{text}"
    );
    let u = user("device-self-signed");
    let out = authorize(&[
        "--transport",
        "mqtt-ws",
        "--client-id",
        "device-self-signed",
        "--username",
        &u,
        "--client-cert",
        "examples/certs/device-self-signed.pem",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out)["method"]["thumbprint"], "primary");
    let u = user("device-rsa");
    let out = authorize(&[
        "--transport",
        "mqtt",
        "--client-id",
        "device-rsa",
        "--username",
        &u,
        "--client-cert",
        "examples/certs/device-rsa.pem",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["reason"], "ca_not_verified");
}

#[test]
fn denials_name_the_rule() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--transport",
                "https",
                "--device-id",
                "retired-1",
                "--password",
                DEV1_TOKEN,
            ],
            "disabled",
        ),
        (
            &[
                "--transport",
                "https",
                "--device-id",
                "ghost",
                "--password",
                DEV1_TOKEN,
            ],
            "unknown_identity",
        ),
        (
            &["--transport", "https", "--device-id", "dev1"],
            "credential_mismatch",
        ),
        (
            &[
                "--transport",
                "amqp",
                "--username",
                "dev1@sas.fabrikam",
                "--password",
                DEV1_TOKEN,
            ],
            "host_name_mismatch",
        ),
    ];
    for (args, reason) in cases {
        let mut args = args.to_vec();
        args.push("--json");
        let out = authorize(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(json(&out)["reason"], reason, "{args:?}");
    }
}

/// Exit 2, and stderr names what is wrong: the file, or the flag (so a renamed flag fails).
fn usage_error(out: &Output, names: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for name in names {
        assert!(err.contains(name), "stderr does not name {name:?}: {err}");
    }
}

#[test]
fn bad_input_exits_2() {
    let out = iot(&[
        "hub",
        "authorize",
        "--hub",
        "does-not-exist.json",
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        "contoso.azure-devices.net/dev1/?api-version=2021-04-12",
    ]);
    usage_error(&out, &["does-not-exist.json", "No such file"]);
    let out = iot(&[
        "hub",
        "authorize",
        "--hub",
        "examples/hub.json",
        "--transport",
        "pigeon",
    ]);
    usage_error(&out, &["--transport", "pigeon"]);
    let out = iot(&[
        "hub",
        "authorize",
        "--hub",
        "Cargo.toml",
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        "contoso.azure-devices.net/dev1/?api-version=2021-04-12",
    ]);
    usage_error(&out, &["Cargo.toml", "not valid JSON"]);
    let out = authorize(&[
        "--transport",
        "mqtt",
        "--client-id",
        "dev1",
        "--username",
        "contoso.azure-devices.net/dev1/?api-version=2021-04-12",
        "--cert",
        "Cargo.toml",
    ]);
    usage_error(&out, &["Cargo.toml", "certificate"]);
    let out = iot(&["hub", "authorize", "--hub", "examples/hub.json"]);
    usage_error(&out, &["--transport"]);
}

fn authorize_service(token: &str, rights: &str, now: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "hub",
        "authorize-service",
        "--hub",
        "examples/hub.json",
        "--now",
        now,
        "--token",
        token,
        "--rights",
        rights,
    ];
    args.extend_from_slice(extra);
    iot(&args)
}

#[test]
fn service_tokens_are_allowed_for_the_rights_their_policy_holds() {
    let out = authorize_service(SERVICE_TOKEN, "ServiceConnect", NOW, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("allowed: policy service (primary key) holds ServiceConnect"),
        "{text}"
    );
    // RegistryWrite implies RegistryRead (Azure's rights model).
    let out = authorize_service(
        OWNER_TOKEN,
        "RegistryRead, ServiceConnect",
        NOW,
        &["--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    assert_eq!(v["policy"], "iothubowner");
    assert_eq!(v["key"], "primary");
    assert_eq!(v["validUntilUnix"], 1_780_275_600);
}

#[test]
fn service_token_denials_name_the_rule() {
    // Expiry 1780275600 plus the hub's 300 s of skew, then one second.
    let expired = "1780275901";
    for (token, rights, now, reason) in [
        (SERVICE_TOKEN, "RegistryWrite", NOW, "policy_lacks_rights"),
        (DEV1_TOKEN, "ServiceConnect", NOW, "not_a_policy_token"),
        // A `devices`-scoped policy token is not a hub-scoped back-end token.
        (POLICY_TOKEN, "DeviceConnect", NOW, "token_scope"),
        (SERVICE_TOKEN, "ServiceConnect", expired, "token_expired"),
    ] {
        let out = authorize_service(token, rights, now, &["--json"]);
        assert_eq!(out.status.code(), Some(1), "{rights} at {now}: {out:?}");
        assert_eq!(json(&out)["reason"], reason, "{rights} at {now}");
    }
    // One second earlier the same token is still inside the skew.
    let out = authorize_service(SERVICE_TOKEN, "ServiceConnect", "1780275900", &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn service_bad_input_exits_2() {
    for rights in ["Admin", "", " , "] {
        let out = authorize_service(SERVICE_TOKEN, rights, NOW, &[]);
        usage_error(&out, &["--rights"]);
    }
    let out = authorize_service(SERVICE_TOKEN, "Admin", NOW, &[]);
    usage_error(&out, &["Admin"]);
}
