//! `iot sas sign|verify|inspect` and `iot dps derive-key`, run as a user would run them.
//! Vectors: reference §1.8 (key V1, se 1578941692) and §3 (docs derived-key example).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;

const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
const OTHER_KEY: &str = "cGFzc3dvcmQ=";
const RESOURCE: &str = "myiothub.azure-devices.net/devices/my_device";
const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
const SE: &str = "1578941692";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn iot(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_iot"))
        .args(args)
        .output()
        .expect("run iot");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {:?}", run.stdout))
}

#[test]
fn sign_prints_only_the_reference_token() {
    let run = iot(&[
        "sas",
        "sign",
        "--resource",
        RESOURCE,
        "--key",
        KEY,
        "--expiry",
        SE,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{TOKEN}\n"));
}

#[test]
fn sign_dps_with_policy_and_ttl() {
    let run = iot(&[
        "sas",
        "sign",
        "--resource",
        "0neFEEDC0DE/registrations/myRegistrationId",
        "--key",
        KEY,
        "--ttl",
        "692",
        "--now",
        "1578941000",
        "--policy",
        "registration",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(v["expiryUnix"], 1_578_941_692);
    // reference §1.8: DPS, upper escapes (python) row.
    assert_eq!(
        v["token"],
        "SharedAccessSignature sr=0neFEEDC0DE%2Fregistrations%2FmyRegistrationId&sig=%2Ft1VzEUrQ62f%2BJ%2B7chJSaFx3rh6pGwFWik1rI4kqc7E%3D&se=1578941692&skn=registration"
    );
}

/// Exit 2, nothing on stdout, no key echoed, and stderr naming each of `names` (the flag, so
/// a renamed flag fails the test).
fn usage_error(args: &[&str], names: &[&str]) {
    let run = iot(args);
    assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
    assert!(run.stdout.is_empty(), "{args:?}");
    assert!(!run.stderr.contains(KEY), "key printed");
    for name in names {
        assert!(
            run.stderr.contains(name),
            "{args:?}: no {name:?} in {}",
            run.stderr
        );
    }
}

#[test]
fn sign_bad_usage_exits_2() {
    let sign = ["sas", "sign", "--resource", RESOURCE, "--key", KEY];
    let with =
        |extra: &[&'static str]| -> Vec<&str> { sign.iter().chain(extra).copied().collect() };
    let bad_key = [
        "sas",
        "sign",
        "--resource",
        RESOURCE,
        "--key",
        "not base64!",
        "--expiry",
        SE,
    ];
    usage_error(&bad_key, &["--key", "base64"]);
    usage_error(&with(&[]), &["--expiry"]);
    usage_error(
        &with(&["--expiry", "1", "--ttl", "2"]),
        &["--expiry", "--ttl"],
    );
    usage_error(&with(&["--expiry", "-5"]), &["-5"]);
    let empty = [
        "sas",
        "sign",
        "--resource",
        "",
        "--key",
        KEY,
        "--expiry",
        SE,
    ];
    usage_error(&empty, &["--resource"]);
    usage_error(&with(&["--expiry", SE, "--policy", "a&b"]), &["--policy"]);
}

#[test]
fn verify_accepts_with_primary_and_secondary() {
    let run = iot(&[
        "sas",
        "verify",
        "--token",
        TOKEN,
        "--key",
        KEY,
        "--resource",
        RESOURCE,
        "--now",
        "1578941000",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "accepted: primary key, expires 2020-01-13T18:54:52Z (1578941692)\n"
    );
    let run = iot(&[
        "sas",
        "verify",
        "--token",
        TOKEN,
        "--key",
        OTHER_KEY,
        "--secondary-key",
        KEY,
        "--now",
        "1578941000",
        "--json",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(
        json(&run),
        serde_json::json!({
            "accepted": true,
            "key": "secondary",
            "expiry": "2020-01-13T18:54:52Z",
            "expiryUnix": 1_578_941_692
        })
    );
}

#[test]
fn verify_rejections_exit_1_with_reason() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--key", OTHER_KEY, "--now", "1578941000"],
            "signature_mismatch",
        ),
        (&["--key", KEY, "--now", "1578942000"], "expired"),
        (
            &[
                "--key",
                KEY,
                "--now",
                "1578941000",
                "--resource",
                "myiothub.azure-devices.net/devices/my_device10",
            ],
            "resource_mismatch",
        ),
        (
            &["--key", KEY, "--now", "1578941993", "--skew", "300"],
            "expired",
        ),
        (
            &[
                "--key",
                OTHER_KEY,
                "--secondary-key",
                OTHER_KEY,
                "--now",
                "0",
            ],
            "signature_mismatch",
        ),
    ];
    for (extra, code) in cases {
        let mut args = vec!["sas", "verify", "--token", TOKEN, "--json"];
        args.extend_from_slice(extra);
        let run = iot(&args);
        assert_eq!(run.code, 1, "{args:?}");
        let v = json(&run);
        assert_eq!(v["accepted"], false);
        assert_eq!(v["reason"], code, "{v}");
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    // Within the default 300 s skew: accepted.
    let run = iot(&[
        "sas",
        "verify",
        "--token",
        TOKEN,
        "--key",
        KEY,
        "--now",
        "1578941992",
    ]);
    assert_eq!(run.code, 0);
    // Plain text reason.
    let run = iot(&[
        "sas", "verify", "--token", TOKEN, "--key", OTHER_KEY, "--now", "0",
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (1, "rejected: signature mismatch\n")
    );
}

#[test]
fn verify_malformed_token_is_a_rejection() {
    let bad = TOKEN.replace("&se=", "&se=0");
    let run = iot(&["sas", "verify", "--token", &bad, "--key", KEY]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("rejected: malformed token: "),
        "{}",
        run.stdout
    );
    let run = iot(&[
        "sas", "verify", "--token", "nonsense", "--key", KEY, "--json",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(json(&run)["reason"], "missing_prefix");
}

#[test]
fn verify_bad_key_is_bad_usage() {
    let run = iot(&["sas", "verify", "--token", TOKEN, "--key", "-_-_"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    let run = iot(&[
        "sas",
        "verify",
        "--token",
        TOKEN,
        "--key",
        KEY,
        "--secondary-key",
        "abc",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--secondary-key"), "{}", run.stderr);
    usage_error(&["sas", "verify", "--key", KEY], &["--token"]);
}

#[test]
fn inspect_truncates_the_signature() {
    let run = iot(&["sas", "inspect", "--token", TOKEN, "--now", "1578941000"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("signature:        dIMMdD...\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("resource decoded: myiothub.azure-devices.net/devices/my_device\n")
    );
    assert!(
        !run.stdout.contains("dIMMdDDBGFR8"),
        "full signature printed"
    );
    let run = iot(&[
        "sas",
        "inspect",
        "--token",
        &format!("{TOKEN}&skn=device"),
        "--now",
        "1578942000",
        "--json",
    ]);
    assert_eq!(run.code, 0);
    let v = json(&run);
    assert_eq!(v["signature"], "dIMMdD...");
    assert_eq!(v["expired"], true);
    assert_eq!(v["keyName"], "device");
    assert_eq!(v["expiryUnix"], 1_578_941_692);
}

#[test]
fn inspect_malformed_exits_1() {
    let run = iot(&[
        "sas",
        "inspect",
        "--token",
        "SharedAccessSignature sr=a&SR=b&sig=c&se=1",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("malformed token: unknown field"),
        "{}",
        run.stdout
    );
    let run = iot(&["sas", "inspect", "--token", "x", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(json(&run)["accepted"], false);
}

#[test]
fn dps_derive_key_prints_only_the_key() {
    let group =
        "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
    let run = iot(&[
        "dps",
        "derive-key",
        "--group-key",
        group,
        "--registration-id",
        "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=\n");
    let run = iot(&[
        "dps",
        "derive-key",
        "--group-key",
        group,
        "--registration-id",
        "r",
        "--json",
    ]);
    assert_eq!(run.code, 0);
    // base64(HMAC-SHA256(base64decode(group), b"r")) with Python's stdlib hmac (§3).
    assert_eq!(
        json(&run),
        serde_json::json!({
            "key": "zxKyT4FSaPOVCMI1PoGYjMy/EaxFZB7l9+ihaCM7rY4=",
            "registrationId": "r"
        })
    );
}

#[test]
fn dps_derive_key_bad_usage_exits_2() {
    let derive = ["dps", "derive-key", "--group-key"];
    let args =
        |rest: &[&'static str]| -> Vec<&str> { derive.iter().chain(rest).copied().collect() };
    usage_error(&args(&["key", "--registration-id", "r"]), &["--group-key"]);
    usage_error(
        &args(&[KEY, "--registration-id", ""]),
        &["--registration-id"],
    );
    usage_error(&args(&[KEY]), &["--registration-id"]);
}

#[test]
fn help_exits_0() {
    let run = iot(&["sas", "verify", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("malformed token"), "{}", run.stdout);
}
