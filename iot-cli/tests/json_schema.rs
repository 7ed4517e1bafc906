//! Issue 14, "One JSON convention": every command's `--json` output (successes, rejections
//! and errors) is checked against iot-cli/schema/iot-output.schema.json with the `jsonschema`
//! crate, an independent JSON Schema (2020-12) validator. The schema's objects are closed
//! (`additionalProperties: false`), so an undocumented key fails here too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/served.rs"]
mod served;

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

/// Checks `value` against `$defs/{def}`.
fn assert_valid(def: &str, value: &Value) {
    let errors: Vec<String> = validator(def)
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "$defs/{def}: {errors:#?}\n{value:#}");
}

/// Runs `args` with `--json`, expects `want_code` and one JSON object per line, each valid
/// against `$defs/{def}`; returns them.
fn check_lines(def: &str, args: &[&str], want_code: i32) -> Vec<Value> {
    let mut args = args.to_vec();
    args.push("--json");
    let run = iot(&args);
    assert_eq!(
        run.code, want_code,
        "{args:?}: {}{}",
        run.stdout, run.stderr
    );
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "{args:?}: no output");
    for line in &lines {
        assert_valid(def, line);
    }
    lines
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

#[test]
fn serve_and_device_outputs_follow_the_schema() {
    use served::{
        DEVICE_KEY, GROUP_KEY, HUB, REGISTRATION, REGISTRATION_KEY, Served, WRONG_KEY, strs,
    };
    let served = Served::start("json_schema");
    assert_valid("serveListening", &served.summary);
    assert_eq!(served.summary["hubs"][0]["hostName"], HUB);

    // device provision: assigned (individual and group), refused, bad usage.
    let provision = |registration: &str, credential: &[&str]| {
        let mut args = vec!["device".to_owned(), "provision".to_owned()];
        args.extend(served.dps_args(registration));
        args.extend(credential.iter().map(|s| (*s).to_owned()));
        args
    };
    let v = check(
        "deviceProvision",
        &strs(&provision(
            REGISTRATION,
            &["--symmetric-key", REGISTRATION_KEY],
        )),
        0,
    );
    assert_eq!(v["accepted"], true);
    assert_eq!(v["assignedHub"], HUB);
    check(
        "deviceProvision",
        &strs(&provision("group-dev-1", &["--group-key", GROUP_KEY])),
        0,
    );
    let v = check(
        "deviceProvision",
        &strs(&provision("nobody", &["--symmetric-key", WRONG_KEY])),
        1,
    );
    assert_eq!(v["reason"], "registration_failed");
    check(
        "deviceProvision",
        &strs(&provision("Not An ID", &["--symmetric-key", WRONG_KEY])),
        2,
    );

    // device send: acknowledged, refused, bad usage.
    let send = |key: &str, extra: &[&str]| {
        let mut args = served.send_args();
        args.extend(["--symmetric-key", key].map(str::to_owned));
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let v = check("deviceSend", &strs(&send(DEVICE_KEY, &["--count", "2"])), 0);
    assert_eq!(v["acknowledged"], 2);
    let v = check("deviceSend", &strs(&send(WRONG_KEY, &[])), 1);
    assert_eq!(
        (v["reason"].as_str(), v["refused"].as_bool()),
        (Some("refused"), Some(true))
    );
    check("deviceSend", &strs(&send(DEVICE_KEY, &["--count", "0"])), 2);

    // device run: every step line, then the cached path, then a run that fails.
    let state = served.dir.join("run-state.json");
    let lines = check_lines("deviceRunLine", &strs(&served.run_args(&state)), 0);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    for kind in ["dps", "assigned", "connecting", "connected", "sent"] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    let lines = check_lines("deviceRunLine", &strs(&served.run_args(&state)), 0);
    assert_eq!(lines[0]["event"], "cached");
    let mut failing = served.run_args(&served.dir.join("run-failing.json"));
    let key_at = failing.iter().position(|a| a == REGISTRATION_KEY).unwrap();
    failing[key_at] = WRONG_KEY.to_owned();
    let lines = check_lines("deviceRunLine", &strs(&failing), 1);
    let last = lines.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["accepted"].as_bool()),
        (Some("failed"), Some(false))
    );

    // An HTTPS call without a token: refused, reported as an api event.
    let status = served::https_get(&served, HUB, "/devices/dev-sas?api-version=2021-04-12");
    assert!(status.contains(" 401 "), "{status}");

    // Every line the server printed meanwhile is a documented event.
    let mut seen = Vec::new();
    let api = served.wait_for("api", &mut seen);
    assert_eq!(
        (api["status"].as_u64(), api["accepted"].as_bool()),
        (Some(401), Some(false))
    );
    for line in &seen {
        assert_valid("serveEvent", line);
    }
    let kinds: Vec<(&str, bool)> = seen
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap(),
                l["accepted"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    for kind in [
        ("connect", true),
        ("connect", false),
        ("registration", true),
        ("registration", false),
        ("telemetry", true),
        ("disconnect", true),
    ] {
        assert!(kinds.contains(&kind), "{kind:?}: {kinds:?}");
    }
    let state_dir = served.state.display().to_string();
    let (code, _) = served.stop();
    assert_eq!(code, 0);

    // serve events and serve export over the state the server left.
    let lines = check_lines(
        "serveEventsLine",
        &["serve", "events", "--state", &state_dir],
        0,
    );
    assert_eq!(lines.len(), 4, "2 by send, 1 by each run: {lines:#?}");
    let out = temp_dir("json_schema_export")
        .join("export")
        .display()
        .to_string();
    let v = check(
        "serveExport",
        &["serve", "export", "--state", &state_dir, "--out", &out],
        0,
    );
    assert_eq!(v["files"].as_array().map(Vec::len), Some(2));
    check(
        "serveExport",
        &["serve", "export", "--state", &out, "--out", &out],
        2,
    );
    check("serveEventsLine", &["serve", "events", "--state", &out], 2);
    check("serveListening", &["serve"], 2);
}

/// Every property name the schema allows, at any depth, with the path where it is declared.
/// `body` and `propertyMap` carry data the device sent (Azure's or the device's own keys), so
/// their contents are not ours to name.
fn property_names(schema: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "properties" {
                    for (name, sub) in value.as_object().into_iter().flatten() {
                        out.push((name.clone(), path.to_owned()));
                        property_names(sub, &format!("{path}/{name}"), out);
                    }
                } else {
                    property_names(value, &format!("{path}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                property_names(item, path, out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schemas_keys_are_camel_case() {
    let mut names = Vec::new();
    property_names(&schema_doc(), "", &mut names);
    assert!(names.len() > 100, "walked the schema: {} keys", names.len());
    let camel = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars().all(|c| c.is_ascii_alphanumeric())
    };
    let bad: Vec<_> = names.iter().filter(|(n, _)| !camel(n)).collect();
    assert!(bad.is_empty(), "not camelCase: {bad:?}");
    assert!(!camel("resource_decoded") && !camel("KeyName") && camel("expiryUnix"));
}

#[test]
fn the_readme_documents_every_command_schema() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## JSON output")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a JSON output section");
    assert!(section.contains("schema/iot-output.schema.json"));
    // The `$defs` column of the README's table: `| command | `def` | keys |`.
    let mut documented: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| command") && !l.starts_with("| ---"))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_owned))
        .collect();
    documented.sort();
    // Shared pieces of the schema, referenced by the command entries, not commands.
    let shared = [
        "time",
        "unix",
        "reason",
        "message",
        "rejection",
        "hubRejection",
        "certificate",
    ];
    let mut commands: Vec<String> = schema_doc()["$defs"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !shared.contains(&k.as_str()))
        .cloned()
        .collect();
    commands.sort();
    assert_eq!(documented, commands, "README table vs schema $defs");
}
