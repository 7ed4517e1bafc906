//! `iot x509 ...` end to end, on the OpenSSL-made fixtures of iot-x509.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

const AT: &str = "1780272000"; // 2026-06-01, the fixtures' verification time

fn fixture(name: &str) -> String {
    format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn iot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iot"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iot-cli-x509-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `UnknownIssuer` -> `unknown_issuer`: the manifest's expected verdicts as the CLI's codes.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Exit 2 and stderr naming each of `names` (a file, or a flag so a renamed flag fails).
fn usage_error(out: &Output, names: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for name in names {
        assert!(err.contains(name), "stderr does not name {name:?}: {err}");
    }
}

fn manifest() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture("manifest.json")).unwrap()).unwrap()
}

#[test]
fn thumbprint_equals_openssl_without_colons() {
    let manifest = manifest();
    let expected = &manifest["fingerprints"]["device-ec.pem"];
    for (flag, key) in [(None, "sha1"), (Some("--sha256"), "sha256")] {
        let mut args = vec!["x509", "thumbprint"];
        let file = fixture("device-ec.pem");
        args.push(&file);
        args.extend(flag);
        let out = iot(&args);
        assert_eq!(out.status.code(), Some(0));
        let openssl = expected[key]
            .as_str()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .replace(':', "");
        assert_eq!(stdout(&out).trim(), openssl);
    }
    // DER input gives the same thumbprint.
    let der = iot(&["x509", "thumbprint", &fixture("device-ec.der")]);
    let pem = iot(&["x509", "thumbprint", &fixture("device-ec.pem")]);
    assert_eq!(stdout(&der), stdout(&pem));
}

#[test]
fn thumbprint_of_a_key_is_bad_input() {
    let out = iot(&["x509", "thumbprint", &fixture("device-ec.key.pem")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("private key"));
    let out = iot(&["x509", "thumbprint", "/nonexistent/cert.pem"]);
    usage_error(&out, &["/nonexistent/cert.pem", "No such file"]);
}

#[test]
fn verify_exit_codes_follow_openssl_verdicts() {
    for case in manifest()["chains"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let leaf = fixture(case["leaf"].as_str().unwrap());
        let mut args: Vec<String> = ["x509", "verify", "--cert", &leaf, "--at", AT, "--json"]
            .iter()
            .map(ToString::to_string)
            .collect();
        for t in case["trust"].as_array().unwrap() {
            args.extend(["--trust".into(), fixture(t.as_str().unwrap())]);
        }
        for c in case["chain"].as_array().unwrap() {
            args.extend(["--chain".into(), fixture(c.as_str().unwrap())]);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_iot"))
            .args(&args)
            .output()
            .unwrap();
        let want = if case["openssl_ok"].as_bool().unwrap() {
            0
        } else {
            1
        };
        assert_eq!(out.status.code(), Some(want), "{name}: {}", stdout(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json["accepted"], want == 0, "{name}");
        // The reason is the one the manifest states for the case.
        let expect = case["expect"].as_str().unwrap();
        if expect == "Ok" {
            assert_eq!(json.get("reason"), None, "{name}");
        } else {
            assert_eq!(json["reason"], snake(expect), "{name}: {json}");
        }
    }
}

#[test]
fn verify_reports_reasons() {
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-server-auth-only.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--at",
        AT,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("rejected: "), "{}", stdout(&out));
    assert!(stdout(&out).contains("client authentication"));
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-server-auth-only.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--at",
        AT,
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["reason"], "not_client_auth");
    // A bundle as --cert: leaf then its intermediate.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-via-intermediate.bundle.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--at",
        AT,
        "--device-id",
        "device-via-int",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Wrong device ID.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-ec.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--at",
        AT,
        "--device-id",
        "someone-else",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["reason"], "identity_mismatch");
    // Module identity.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("module.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--at",
        AT,
        "--device-id",
        "device-1",
        "--module-id",
        "module-a",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // Unverified CA is named.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-ec.pem"),
        "--trust",
        &fixture("root-rsa.pem"),
        "--unverified",
        &fixture("root-ec.pem"),
        "--at",
        AT,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["reason"], "ca_not_verified");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("iot-x509 test root EC")
    );
    // Bad input: a CSR as trust, a missing file.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &fixture("device-ec.pem"),
        "--trust",
        &fixture("device-ec.csr.pem"),
    ]);
    usage_error(&out, &["device-ec.csr.pem", "certificate signing request"]);
    let out = iot(&["x509", "verify", "--cert", &fixture("device-ec.pem")]);
    usage_error(&out, &["--trust"]);
}

#[test]
fn verify_pop_follows_openssl() {
    for pop in manifest()["pop"].as_array().unwrap() {
        let out = iot(&[
            "x509",
            "verify-pop",
            "--ca",
            &fixture(pop["ca"].as_str().unwrap()),
            "--cert",
            &fixture(pop["cert"].as_str().unwrap()),
            "--code",
            pop["code"].as_str().unwrap(),
            "--at",
            AT,
            "--json",
        ]);
        let want = if pop["openssl_ok"].as_bool().unwrap() {
            0
        } else {
            1
        };
        assert_eq!(out.status.code(), Some(want), "{}", stdout(&out));
        // The reason the manifest states: PopBadSignature (OpenSSL: the signature does not
        // verify with the CA's key) or PopCodeMismatch (OpenSSL: the subject is not CN=code).
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        match pop["expect"].as_str().unwrap() {
            "Ok" => assert_eq!(
                json,
                serde_json::json!({"accepted": true, "code": pop["code"].as_str().unwrap()})
            ),
            "PopBadSignature" => assert_eq!(json["reason"], "pop_bad_signature", "{json}"),
            "PopCodeMismatch" => {
                assert_eq!(json["reason"], "pop_code_mismatch", "{json}");
                let cn = pop["openssl_subject"].as_str().unwrap();
                let cn = cn.strip_prefix("subject=CN=").unwrap();
                assert!(json["message"].as_str().unwrap().contains(cn), "{json}");
            }
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn test_pki_round_trip() {
    let dir = temp_dir("pki");
    let p = |name: &str| dir.join(name).display().to_string();
    let now = "1767225600";
    let ok = |args: &[&str]| {
        let out = iot(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(&[
        "x509",
        "new-ca",
        "--out",
        &p("root"),
        "--cn",
        "cli-root",
        "--now",
        now,
        "--days",
        "365",
    ]);
    ok(&[
        "x509",
        "new-intermediate",
        "--out",
        &p("int"),
        "--ca",
        &p("root.cert.pem"),
        "--ca-key",
        &p("root.key.pem"),
        "--now",
        now,
    ]);
    let out = ok(&[
        "x509",
        "new-device",
        "--out",
        &p("dev"),
        "--device-id",
        "dev-42",
        "--ca",
        &p("int.cert.pem"),
        "--ca-key",
        &p("int.key.pem"),
        "--now",
        now,
        "--json",
    ]);
    let made: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let thumb = iot(&["x509", "thumbprint", &p("dev.cert.pem"), "--sha256"]);
    assert_eq!(
        stdout(&thumb).trim(),
        made["sha256Thumbprint"].as_str().unwrap()
    );
    ok(&[
        "x509",
        "verify",
        "--cert",
        &p("dev.cert.pem"),
        "--chain",
        &p("int.cert.pem"),
        "--trust",
        &p("root.cert.pem"),
        "--at",
        "1767300000",
        "--device-id",
        "dev-42",
    ]);
    // 30 days by default: expired after that.
    let out = iot(&[
        "x509",
        "verify",
        "--cert",
        &p("dev.cert.pem"),
        "--chain",
        &p("int.cert.pem"),
        "--trust",
        &p("root.cert.pem"),
        "--at",
        "1775000000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    ok(&[
        "x509",
        "new-verification",
        "--out",
        &p("verif"),
        "--code",
        "ABC123",
        "--ca",
        &p("root.cert.pem"),
        "--ca-key",
        &p("root.key.pem"),
        "--now",
        now,
    ]);
    ok(&[
        "x509",
        "verify-pop",
        "--ca",
        &p("root.cert.pem"),
        "--cert",
        &p("verif.cert.pem"),
        "--code",
        "ABC123",
        "--at",
        "1767300000",
    ]);
    let out = iot(&[
        "x509",
        "verify-pop",
        "--ca",
        &p("int.cert.pem"),
        "--cert",
        &p("verif.cert.pem"),
        "--code",
        "ABC123",
        "--at",
        "1767300000",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // Issued by the root, so not by the intermediate.
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["reason"], "pop_issuer_mismatch", "{json}");
    // Self-signed device without --ca.
    ok(&[
        "x509",
        "new-device",
        "--out",
        &p("selfie"),
        "--device-id",
        "selfie",
        "--now",
        now,
    ]);
    let out = iot(&["x509", "inspect", &p("selfie.cert.pem"), "--json"]);
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["certificates"][0]["subjectName"], "CN=selfie");
    assert_eq!(info["certificates"][0]["issuerName"], "CN=selfie");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p("dev.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "private key must not be group/world readable"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
