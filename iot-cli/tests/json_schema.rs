//! Issue 14, "One JSON convention": every command's `--json` output (successes, rejections
//! and errors) is checked against iot-cli/schema/iot-output.schema.json with the `jsonschema`
//! crate, an independent JSON Schema (2020-12) validator. The schema's objects are closed
//! (`additionalProperties: false`), so an undocumented key fails here too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use cli::{
    DEV1_TOKEN, DEV1_USER, HUB_NOW, Iot, KEY, RESOURCE, SE, SERVICE_TOKEN, TOKEN, fixture,
    hub_json, iot, temp_dir,
};
use serde_json::Value;

fn schema_doc() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/iot-output.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A validator for `$defs/{name}`.
fn validator(name: &str) -> jsonschema::Validator {
    let mut doc = schema_doc();
    assert!(
        doc["$defs"].get(name).is_some(),
        "no $defs/{name} in the schema"
    );
    doc["$ref"] = Value::String(format!("#/$defs/{name}"));
    jsonschema::validator_for(&doc).unwrap()
}

/// Runs `args` with `--json` and checks its output against `$defs/{def}`; returns it.
fn check(def: &str, args: &[&str], want_code: i32) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let run = iot(&args);
    assert_eq!(run.code, want_code, "{args:?}: {}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "one line: {}", run.stdout);
    let value = run.json();
    let schema = if want_code == 2 { "error" } else { def };
    let errors: Vec<String> = validator(schema)
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{args:?} vs $defs/{schema}: {errors:#?}\n{value:#}"
    );
    value
}

#[test]
fn the_schema_refuses_what_it_should() {
    // The checker itself can fail: wrong types, unknown keys and bad codes are caught.
    let v = validator("sasSign");
    assert!(v.is_valid(&serde_json::json!({"token": "SharedAccessSignature sr=a", "expiry": "2020-01-13T18:54:52Z", "expiryUnix": 1})));
    assert!(!v.is_valid(
        &serde_json::json!({"token": "SharedAccessSignature sr=a", "expiry": 1, "expiryUnix": 1})
    ));
    assert!(!v.is_valid(&serde_json::json!({"token": "SharedAccessSignature sr=a", "expiry": null, "expiryUnix": 1, "extra": 1})));
    let e = validator("error");
    assert!(!e.is_valid(&serde_json::json!({"error": {"reason": "Not Snake", "message": "m"}})));
    assert!(!e.is_valid(&serde_json::json!({"reason": "x", "message": "m"})));
}

#[test]
fn sas_outputs_follow_the_schema() {
    let se = SE.to_string();
    check(
        "sasSign",
        &["sas", "sign", "-r", RESOURCE, "-k", KEY, "-e", &se],
        0,
    );
    let v = check(
        "sasVerify",
        &[
            "sas",
            "verify",
            "-t",
            TOKEN,
            "-k",
            KEY,
            "--now",
            "1578941000",
        ],
        0,
    );
    assert_eq!(v["accepted"], true);
    let v = check(
        "sasVerify",
        &[
            "sas",
            "verify",
            "-t",
            TOKEN,
            "-k",
            KEY,
            "--now",
            "1578949999",
        ],
        1,
    );
    assert_eq!(v["reason"], "expired");
    let v = check("sasVerify", &["sas", "verify", "-t", "junk", "-k", KEY], 1);
    assert_eq!(v["reason"], "missing_prefix");
    check(
        "sasInspect",
        &["sas", "inspect", "-t", TOKEN, "--now", "0"],
        0,
    );
    check("sasInspect", &["sas", "inspect", "-t", "junk"], 1);
    check(
        "sasSign",
        &[
            "sas",
            "sign",
            "-r",
            RESOURCE,
            "-k",
            "not base64!",
            "-e",
            &se,
        ],
        2,
    );
}

#[test]
fn dps_outputs_follow_the_schema() {
    check(
        "dpsDeriveKey",
        &["dps", "derive-key", "-g", KEY, "-r", "reg-1"],
        0,
    );
    check(
        "dpsDeriveKey",
        &["dps", "derive-key", "-g", KEY, "-r", "bad id"],
        2,
    );
    check(
        "dpsDecode",
        &[
            "dps",
            "decode",
            "-t",
            "$dps/registrations/res/202/?$rid=1&retry-after=3",
        ],
        0,
    );
    let run = Iot::new(&["dps", "decode", "-t", "$dps/registrations/res/200/?$rid=1", "-p", "-", "--json"])
        .stdin(br#"{"operationId":"4.abc","status":"assigned","registrationState":{"registrationId":"r","assignedHub":"h.azure-devices.net","deviceId":"r","status":"assigned"}}"#)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        validator("dpsDecode").is_valid(&run.json()),
        "{}",
        run.stdout
    );
    check("dpsDecode", &["dps", "decode", "-t", "nonsense"], 2);
}

#[test]
fn x509_outputs_follow_the_schema() {
    let dir = temp_dir("json_schema_x509");
    let p = |n: &str| dir.join(n).display().to_string();
    let (device, root) = (fixture("device-ec.pem"), fixture("root-ec.pem"));
    check("x509Thumbprint", &["x509", "thumbprint", &device], 0);
    check(
        "x509Inspect",
        &[
            "x509",
            "inspect",
            &fixture("device-via-intermediate.bundle.pem"),
        ],
        0,
    );
    check(
        "x509Inspect",
        &["x509", "inspect", &fixture("root-rsa.pem")],
        0,
    );
    check(
        "x509Inspect",
        &["x509", "inspect", &fixture("device-ec.key.pem")],
        2,
    );
    check(
        "x509Verify",
        &[
            "x509",
            "verify",
            "-c",
            &device,
            "--trust",
            &root,
            "--now",
            "1767225600",
        ],
        0,
    );
    let v = check(
        "x509Verify",
        &[
            "x509",
            "verify",
            "-c",
            &device,
            "--trust",
            &fixture("untrusted-root.pem"),
            "--now",
            "1767225600",
        ],
        1,
    );
    assert_eq!(v["reason"], "unknown_issuer");
    check(
        "x509New",
        &["x509", "new-ca", "-o", &p("root"), "--now", "1767225600"],
        0,
    );
    check(
        "x509New",
        &[
            "x509",
            "new-intermediate",
            "-o",
            &p("int"),
            "--ca",
            &p("root.cert.pem"),
            "--ca-key",
            &p("root.key.pem"),
            "--now",
            "1767225600",
        ],
        0,
    );
    check(
        "x509New",
        &[
            "x509",
            "new-device",
            "-o",
            &p("dev"),
            "-d",
            "dev-1",
            "--ca",
            &p("int.cert.pem"),
            "--ca-key",
            &p("int.key.pem"),
            "--now",
            "1767225600",
        ],
        0,
    );
    check(
        "x509New",
        &[
            "x509",
            "new-verification",
            "-o",
            &p("pop"),
            "--code",
            "ABC",
            "--ca",
            &p("root.cert.pem"),
            "--ca-key",
            &p("root.key.pem"),
            "--now",
            "1767225600",
        ],
        0,
    );
    check(
        "x509VerifyPop",
        &[
            "x509",
            "verify-pop",
            "--ca",
            &p("root.cert.pem"),
            "-c",
            &p("pop.cert.pem"),
            "--code",
            "ABC",
            "--now",
            "1767226000",
        ],
        0,
    );
    let v = check(
        "x509VerifyPop",
        &[
            "x509",
            "verify-pop",
            "--ca",
            &p("root.cert.pem"),
            "-c",
            &p("pop.cert.pem"),
            "--code",
            "XYZ",
            "--now",
            "1767226000",
        ],
        1,
    );
    assert_eq!(v["reason"], "pop_code_mismatch");
    check("x509New", &["x509", "new-ca", "-o", &p("root")], 2);
}

#[test]
fn hub_outputs_follow_the_schema() {
    let hub = hub_json();
    let v = check(
        "hubAuthorize",
        &[
            "hub",
            "authorize",
            "--hub",
            &hub,
            "-T",
            "mqtt",
            "--client-id",
            "dev1",
            "-u",
            DEV1_USER,
            "-p",
            DEV1_TOKEN,
            "--now",
            HUB_NOW,
        ],
        0,
    );
    assert_eq!(v["method"]["type"], "deviceKey");
    let v = check(
        "hubAuthorize",
        &[
            "hub",
            "authorize",
            "--hub",
            &hub,
            "-T",
            "mqtt",
            "--client-id",
            "dev1",
            "-u",
            DEV1_USER,
            "-p",
            DEV1_TOKEN,
            "--now",
            "1790000000",
        ],
        1,
    );
    assert_eq!(v["reason"], "token_expired");
    check(
        "hubAuthorize",
        &["hub", "authorize", "--hub", &hub, "-T", "mqtt"],
        2,
    );
    check(
        "hubAuthorizeService",
        &[
            "hub",
            "authorize-service",
            "--hub",
            &hub,
            "-t",
            SERVICE_TOKEN,
            "-r",
            "ServiceConnect",
            "--now",
            HUB_NOW,
        ],
        0,
    );
    let v = check(
        "hubAuthorizeService",
        &[
            "hub",
            "authorize-service",
            "--hub",
            &hub,
            "-t",
            SERVICE_TOKEN,
            "-r",
            "RegistryWrite",
            "--now",
            HUB_NOW,
        ],
        1,
    );
    assert_eq!(v["reason"], "policy_lacks_rights");
}

#[test]
fn demo_and_meta_outputs_follow_the_schema() {
    check("demo", &["demo"], 0);
    check("completions", &["completions", "zsh"], 0);
    check("man", &["man"], 0);
    let dir = temp_dir("json_schema_man");
    check("man", &["man", "-o", &dir.display().to_string()], 0);
    check("demo", &["demo", "--bogus"], 2);
    check("demo", &["nonsense"], 2);
}
