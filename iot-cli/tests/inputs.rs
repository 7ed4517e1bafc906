//! Issue 14, "Inputs people give": secrets off the command line, `-` for stdin, readable times,
//! one clock flag, one way to name a certificate, short flags, byte-order marks, missing flags,
//! values that cannot work, warnings and strict hub files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use cli::{
    DEV1_TOKEN, DEV1_USER, HUB_NOW, Iot, KEY, RESOURCE, SE, SE_RFC3339, SERVICE_TOKEN, TOKEN,
    fixture, hub_json, iot, temp_dir,
};

const GROUP_KEY: &str =
    "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
const REG_ID: &str = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
const DERIVED: &str = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=";

fn hub_authorize(password_flag: &str) -> Vec<String> {
    [
        "hub",
        "authorize",
        "--hub",
        &hub_json(),
        "-T",
        "mqtt",
        "--client-id",
        "dev1",
        "-u",
        DEV1_USER,
        "--now",
        HUB_NOW,
        "-p",
        password_flag,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// Each secret flag, the command that takes it, and what a success prints.
#[test]
fn secrets_come_from_a_file_stdin_or_the_environment() {
    let dir = temp_dir("inputs_secrets");
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{text}\n")).unwrap();
        format!("@{}", path.display())
    };
    let se = SE.to_string();
    // (flag, env var, secret, args before the flag, expected stdout start)
    let cases: Vec<(&str, &str, &str, Vec<String>, &str)> = vec![
        (
            "--key",
            "IOT_KEY",
            KEY,
            ["sas", "sign", "-r", RESOURCE, "-e", &se]
                .map(String::from)
                .to_vec(),
            TOKEN,
        ),
        (
            "--token",
            "IOT_TOKEN",
            TOKEN,
            ["sas", "verify", "-k", KEY, "--now", "1578941000"]
                .map(String::from)
                .to_vec(),
            "accepted: primary key",
        ),
        (
            "--secondary-key",
            "IOT_SECONDARY_KEY",
            KEY,
            [
                "sas",
                "verify",
                "-t",
                TOKEN,
                "-k",
                "cGFzc3dvcmQ=",
                "--now",
                "1578941000",
            ]
            .map(String::from)
            .to_vec(),
            "accepted: secondary key",
        ),
        (
            "--group-key",
            "IOT_GROUP_KEY",
            GROUP_KEY,
            ["dps", "derive-key", "-r", REG_ID]
                .map(String::from)
                .to_vec(),
            DERIVED,
        ),
        (
            "--password",
            "IOT_PASSWORD",
            DEV1_TOKEN,
            hub_authorize("unused")[..hub_authorize("unused").len() - 2].to_vec(),
            "allowed: dev1",
        ),
        (
            "--token",
            "IOT_TOKEN",
            SERVICE_TOKEN,
            [
                "hub",
                "authorize-service",
                "--hub",
                &hub_json(),
                "-r",
                "ServiceConnect",
                "--now",
                HUB_NOW,
            ]
            .map(String::from)
            .to_vec(),
            "allowed: policy service",
        ),
    ];
    for (flag, env, secret, base, want) in cases {
        let at_file = file(&format!("{}.txt", env.to_lowercase()), secret);
        let args = |value: &str| {
            let mut a: Vec<String> = base.clone();
            a.extend([flag.to_owned(), value.to_owned()]);
            a
        };
        fn as_refs(a: &[String]) -> Vec<&str> {
            a.iter().map(String::as_str).collect()
        }
        let (file_args, stdin_args) = (args(&at_file), args("-"));
        let stdin_text = format!("{secret}\n");
        let forms = [
            ("@FILE", Iot::new(&as_refs(&file_args))),
            (
                "-",
                Iot::new(&as_refs(&stdin_args)).stdin(stdin_text.as_bytes()),
            ),
            ("env", Iot::new(&as_refs(&base)).env(env, secret)),
        ];
        for (form, run) in forms {
            let run = run.run();
            assert_eq!(run.code, 0, "{flag} {form}: {}", run.stderr);
            assert!(
                run.stdout.starts_with(want),
                "{flag} {form}: {}",
                run.stdout
            );
        }
    }
}

#[test]
fn only_one_input_reads_stdin() {
    let run = Iot::new(&["sas", "verify", "-t", "-", "-k", "-"])
        .stdin(b"x")
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--token and --key both read stdin"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dash_reads_any_file_from_stdin() {
    let pem = std::fs::read(fixture("device-ec.pem")).unwrap();
    let by_path = iot(&["x509", "thumbprint", &fixture("device-ec.pem")]);
    let by_stdin = Iot::new(&["x509", "thumbprint", "-"]).stdin(&pem).run();
    assert_eq!(by_stdin.code, 0, "{}", by_stdin.stderr);
    assert_eq!(by_stdin.stdout, by_path.stdout);
    let hub = std::fs::read(hub_json()).unwrap();
    let mut args = hub_authorize(DEV1_TOKEN);
    args[3] = "-".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = Iot::new(&args).stdin(&hub).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = Iot::new(&[
        "dps",
        "decode",
        "-t",
        "$dps/registrations/PUT/iotdps-register/?$rid=7",
        "--payload",
        "-",
    ])
    .stdin(br#"{"registrationId":"reg-1"}"#)
    .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("body.registrationId: reg-1"),
        "{}",
        run.stdout
    );
    // The certificate file flags of `x509 verify` and `verify-pop`: `-` reads the same bytes
    // the path names, so the verdict line is the same (and the verdict is the manifest's).
    let leaf = fixture("device-via-intermediate.pem");
    let (int, root) = (fixture("intermediate-ec.pem"), fixture("root-ec.pem"));
    let verify = |chain: &str, trust: &str, stdin: Option<&str>| {
        let args = [
            "x509",
            "verify",
            "-c",
            &leaf,
            "--chain",
            chain,
            "--trust",
            trust,
            "--now",
            "1780272000",
        ];
        let bytes = stdin.map(|file| std::fs::read(file).unwrap());
        let mut run = Iot::new(&args);
        if let Some(bytes) = &bytes {
            run = run.stdin(bytes);
        }
        run.run()
    };
    let by_path = verify(&int, &root, None);
    assert_eq!(by_path.code, 0, "{}", by_path.stderr);
    for (chain, trust, file) in [("-", root.as_str(), &int), (int.as_str(), "-", &root)] {
        let run = verify(chain, trust, Some(file));
        assert_eq!(
            run.code, 0,
            "--chain {chain} --trust {trust}: {}",
            run.stderr
        );
        assert_eq!(
            run.stdout, by_path.stdout,
            "--chain {chain} --trust {trust}"
        );
    }
    let pop = |ca: &str| {
        let args = [
            "x509",
            "verify-pop",
            "--ca",
            ca,
            "-c",
            &fixture("pop-right.pem"),
            "--code",
            "0A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5A6B7",
            "--now",
            "1780272000",
        ];
        Iot::new(&args).stdin(&std::fs::read(&root).unwrap()).run()
    };
    let (by_path, by_stdin) = (pop(&root), pop("-"));
    assert_eq!(by_path.code, 0, "{}", by_path.stderr);
    assert_eq!((by_stdin.code, &by_stdin.stdout), (0, &by_path.stdout));
}

#[test]
fn times_are_unix_seconds_or_rfc3339_and_durations_have_units() {
    let sign = |extra: &[&str]| {
        let mut args = vec!["sas", "sign", "-r", RESOURCE, "-k", KEY, "--json"];
        args.extend_from_slice(extra);
        let run = iot(&args);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.stderr);
        run.json()
    };
    let unix = sign(&["--expiry", &SE.to_string()]);
    assert_eq!(sign(&["--expiry", SE_RFC3339]), unix);
    assert_eq!(sign(&["--expiry", "2020-01-13T19:54:52+01:00"]), unix);
    assert_eq!(sign(&["--ttl", "692", "--now", "1578941000"]), unix);
    assert_eq!(
        sign(&["--ttl", "11m 32s", "--now", "2020-01-13T18:43:20Z"]),
        unix
    );
    assert_eq!(unix["expiry"], SE_RFC3339);
    assert_eq!(unix["expiryUnix"], SE);
    let dir = temp_dir("inputs_days");
    let made = iot(&[
        "x509",
        "new-ca",
        "-o",
        &dir.join("ca").display().to_string(),
        "--now",
        "2026-01-01T00:00:00Z",
        "--days",
        "12h",
        "--json",
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(made.json()["notAfter"], "2026-01-01T12:00:00Z");
    let bad = iot(&[
        "sas", "sign", "-r", RESOURCE, "-k", KEY, "--expiry", "tomorrow",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("RFC 3339"), "{}", bad.stderr);
}

#[test]
fn times_print_as_rfc3339_with_the_unix_value_beside() {
    let run = iot(&[
        "sas",
        "verify",
        "-t",
        TOKEN,
        "-k",
        KEY,
        "--now",
        "1578941000",
    ]);
    assert_eq!(
        run.stdout,
        format!("accepted: primary key, expires {SE_RFC3339} ({SE})\n")
    );
    let run = iot(&["sas", "inspect", "-t", TOKEN, "--now", "1578942000"]);
    assert!(
        run.stdout
            .contains(&format!("expiry:           {SE_RFC3339} ({SE}), expired")),
        "{}",
        run.stdout
    );
    let run = iot(&[
        "hub",
        "authorize",
        "--hub",
        &hub_json(),
        "-T",
        "https",
        "-d",
        "dev1",
        "-p",
        DEV1_TOKEN,
        "--now",
        "2026-07-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with(
            "denied: SAS token expired at 2026-06-01T01:00:00Z (1780275600) (now \
             2026-07-01T00:00:00Z (1782864000), skew 300 s)"
        ),
        "{}",
        run.stdout
    );
    let run = iot(&[
        "x509",
        "verify",
        "-c",
        &fixture("device-expired.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--now",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("now is 2026-01-01T00:00:00Z (1767225600)"),
        "{}",
        run.stdout
    );
}

#[test]
fn every_clock_flag_is_now_with_at_as_its_alias() {
    let dir = temp_dir("inputs_clock");
    let out = |n: &str| dir.join(n).display().to_string();
    let hub = hub_json();
    let cases: Vec<Vec<String>> = vec![
        vec!["sas", "sign", "-r", RESOURCE, "-k", KEY, "--ttl", "1h"],
        vec!["sas", "verify", "-t", TOKEN, "-k", KEY],
        vec!["sas", "inspect", "-t", TOKEN],
        vec![
            "x509",
            "verify",
            "-c",
            &fixture("device-ec.pem"),
            "--trust",
            &fixture("root-ec.pem"),
        ],
        vec![
            "hub",
            "authorize-service",
            "--hub",
            &hub,
            "-t",
            SERVICE_TOKEN,
            "-r",
            "ServiceConnect",
        ],
        vec![
            "hub",
            "authorize",
            "--hub",
            &hub,
            "-T",
            "https",
            "-d",
            "dev1",
            "-p",
            DEV1_TOKEN,
        ],
        vec![
            "x509",
            "verify-pop",
            "--ca",
            &fixture("root-ec.pem"),
            "-c",
            &fixture("pop-right.pem"),
            "--code",
            "0A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5A6B7",
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    for (i, base) in cases.into_iter().enumerate() {
        let mut outputs = Vec::new();
        for flag in ["--now", "--at"] {
            let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
            args.extend([flag, "1578941000"]);
            let run = iot(&args);
            assert_ne!(run.code, 2, "{args:?}: {}", run.stderr);
            outputs.push((run.code, run.stdout.lines().next().map(str::to_owned)));
        }
        assert_eq!(outputs[0], outputs[1], "case {i}: --now and --at agree");
    }
    // Every command that makes a certificate; the issuer is valid from 2026 on, its
    // certificates may start earlier (notBefore is what --now says).
    let (ca, ca_key) = made_ca(&dir);
    for cmd in [
        "new-ca",
        "new-device",
        "new-intermediate",
        "new-verification",
    ] {
        for flag in ["--now", "--at"] {
            let prefix = out(&format!("{cmd}{flag}"));
            let mut args = vec!["x509", cmd, "-o", &prefix, flag, "1578941000", "--json"];
            match cmd {
                "new-device" => args.extend(["-d", "dev1"]),
                "new-intermediate" => args.extend(["--ca", &ca, "--ca-key", &ca_key]),
                "new-verification" => {
                    args.extend(["--ca", &ca, "--ca-key", &ca_key, "--code", POP_CODE]);
                }
                _ => {}
            }
            let run = iot(&args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            assert_eq!(run.json()["notBeforeUnix"], 1_578_941_000, "{args:?}");
        }
    }
}

#[test]
fn a_certificate_file_is_named_the_same_way_everywhere() {
    let cert = fixture("device-ec.pem");
    let positional = iot(&["x509", "thumbprint", &cert]);
    for flag in ["--cert", "-c"] {
        let run = iot(&["x509", "thumbprint", flag, &cert]);
        assert_eq!(run.stdout, positional.stdout, "{flag}");
        let run = iot(&["x509", "inspect", flag, &cert, "--json"]);
        assert_eq!(run.code, 0, "{flag}: {}", run.stderr);
        let run = iot(&[
            "x509",
            "verify",
            flag,
            &cert,
            "--trust",
            &fixture("root-ec.pem"),
            "--now",
            "1767225600",
        ]);
        assert_eq!(run.code, 0, "{flag}: {}", run.stderr);
    }
    for flag in ["--cert", "-c", "--client-cert"] {
        let run = iot(&[
            "hub",
            "authorize",
            "--hub",
            &hub_json(),
            "-T",
            "https",
            "-d",
            "dev1",
            flag,
            &cert,
            "--now",
            HUB_NOW,
            "--json",
        ]);
        assert_ne!(run.code, 2, "{flag}: {}", run.stderr);
        assert!(run.json().get("accepted").is_some());
    }
    let both = iot(&["x509", "thumbprint", &cert, "--cert", &cert]);
    assert_eq!(both.code, 2, "one way at a time");
}

#[test]
fn common_flags_have_short_forms() {
    let long = iot(&[
        "sas",
        "sign",
        "--resource",
        RESOURCE,
        "--key",
        KEY,
        "--expiry",
        &SE.to_string(),
    ]);
    let short = iot(&[
        "sas",
        "sign",
        "-r",
        RESOURCE,
        "-k",
        KEY,
        "-e",
        &SE.to_string(),
    ]);
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert_eq!(short.stdout, long.stdout);
    let run = iot(&[
        "sas",
        "verify",
        "-t",
        TOKEN,
        "-k",
        KEY,
        "-r",
        RESOURCE,
        "--now",
        "1578941000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = iot(&["dps", "derive-key", "-g", GROUP_KEY, "-r", REG_ID]);
    assert_eq!(run.stdout.trim(), DERIVED);
}

#[test]
fn byte_order_marks_and_text_after_the_last_block_are_read_like_text_before_it() {
    let dir = temp_dir("inputs_bom");
    let pem = std::fs::read(fixture("device-ec.pem")).unwrap();
    let mut odd = b"\xEF\xBB\xBFsubject=CN = device-ec\n".to_vec();
    odd.extend_from_slice(&pem);
    odd.extend_from_slice(b"notes written after the block\n");
    let path = dir.join("odd.pem");
    std::fs::write(&path, &odd).unwrap();
    let want = iot(&["x509", "thumbprint", &fixture("device-ec.pem")]);
    let run = iot(&["x509", "thumbprint", &path.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, want.stdout);
    // A broken block after the last one is still an error.
    let mut broken = pem.clone();
    broken.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nMIIB\n");
    std::fs::write(&path, &broken).unwrap();
    assert_eq!(
        iot(&["x509", "thumbprint", &path.display().to_string()]).code,
        2
    );
    // JSON with a byte-order mark.
    let mut hub = b"\xEF\xBB\xBF".to_vec();
    hub.extend(std::fs::read(hub_json()).unwrap());
    let hub_path = dir.join("hub.json");
    std::fs::write(&hub_path, &hub).unwrap();
    let mut args = hub_authorize(DEV1_TOKEN);
    args[3] = hub_path.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = iot(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn missing_flags_are_usage_errors_that_name_every_one() {
    let hub = hub_json();
    let run = iot(&[
        "hub",
        "authorize",
        "--hub",
        &hub,
        "-T",
        "mqtt",
        "-p",
        DEV1_TOKEN,
        "--json",
    ]);
    assert_eq!(run.code, 2, "not a denial: {}", run.stdout);
    assert_eq!(run.json()["error"]["reason"], "missing_argument");
    assert!(
        run.stderr.contains("--client-id") && run.stderr.contains("--username"),
        "{}",
        run.stderr
    );
    let run = iot(&[
        "hub",
        "authorize",
        "--hub",
        &hub,
        "-T",
        "https",
        "-p",
        DEV1_TOKEN,
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--device-id"), "{}", run.stderr);
    let run = iot(&["sas", "sign", "--json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "missing_argument");
    for flag in ["--resource", "--key", "--expiry"] {
        assert!(run.stderr.contains(flag), "{flag}: {}", run.stderr);
    }
}

#[test]
fn values_that_cannot_work_are_refused_with_the_rule() {
    let dir = temp_dir("inputs_refused");
    let out = dir.join("o").display().to_string();
    let dir_text = dir.display().to_string();
    let (ca, ca_key) = (fixture("root-ec.pem"), fixture("device-ec.key.pem"));
    let (device, long_id) = (fixture("device-ec.pem"), "a".repeat(129));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["x509", "new-device", "-o", &out, "-d", ""], "empty"),
        (
            vec!["x509", "new-device", "-o", &out, "-d", "dev 1"],
            "device ID",
        ),
        (
            vec!["x509", "new-ca", "-o", &out, "--cn", ""],
            "--cn must not be empty",
        ),
        (
            vec!["x509", "new-ca", "-o", &out, "--days", "0"],
            "longer than zero",
        ),
        (vec!["x509", "new-ca", "-o", &dir_text], "is a directory"),
        (
            vec!["x509", "verify-pop", "--ca", &ca, "-c", &ca, "--code", ""],
            "--code must not be empty",
        ),
        (
            vec![
                "x509",
                "new-verification",
                "-o",
                &out,
                "--ca",
                &ca,
                "--ca-key",
                &ca_key,
                "--code",
                "",
            ],
            "--code must not be empty",
        ),
        (vec!["dps", "derive-key", "-g", KEY, "-r", ""], "empty"),
        (
            vec!["dps", "derive-key", "-g", KEY, "-r", "dev one"],
            "- . _ :",
        ),
        (
            vec!["dps", "derive-key", "-g", KEY, "-r", "dev."],
            "must end with",
        ),
        (vec!["dps", "derive-key", "-g", KEY, "-r", &long_id], "128"),
        (
            vec![
                "x509",
                "new-device",
                "-o",
                &out,
                "-d",
                "d",
                "--ca",
                &device,
                "--ca-key",
                &ca_key,
            ],
            "is not a CA certificate",
        ),
        (
            vec![
                "x509",
                "new-device",
                "-o",
                &out,
                "-d",
                "d",
                "--ca",
                &ca,
                "--ca-key",
                &ca_key,
            ],
            "is not the key of --ca",
        ),
    ];
    for (args, rule) in cases {
        let run = iot(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(rule), "{args:?}: {}", run.stderr);
    }
    assert!(!dir.join("o.key.pem").exists());
    // The registration-ID rule is DPS's: letters of either case, digits and - . _ :.
    let run = iot(&["dps", "derive-key", "-g", KEY, "-r", "Reg.ID_1:a-"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn sign_warns_about_an_expired_token_and_a_resource_encoded_twice() {
    let run = iot(&[
        "sas", "sign", "-r", RESOURCE, "-k", KEY, "-e", "100", "--now", "200",
    ]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .starts_with("warning: the token is already expired"),
        "{}",
        run.stderr
    );
    let run = iot(&[
        "sas",
        "sign",
        "-r",
        "myiothub.azure-devices.net%2Fdevices%2Fd",
        "-k",
        KEY,
        "-e",
        "300",
        "--now",
        "200",
    ]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("percent-encoded already"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("%252F"),
        "still signed as asked: {}",
        run.stdout
    );
    let run = iot(&[
        "sas", "sign", "-r", RESOURCE, "-k", KEY, "-e", "300", "--now", "200",
    ]);
    assert_eq!(run.stderr, "", "no warning for a good token");
}

fn write_hub(dir: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(hub_json()).unwrap()).unwrap();
    edit(&mut doc);
    let path = dir.join("hub.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn hub_files_name_the_wrong_field_and_refuse_unknown_settings() {
    let dir = temp_dir("inputs_hub");
    let run_with = |hub: &str| {
        iot(&[
            "hub",
            "authorize",
            "--hub",
            hub,
            "-T",
            "https",
            "-d",
            "dev1",
            "-p",
            DEV1_TOKEN,
            "--now",
            HUB_NOW,
        ])
    };
    let hub = write_hub(&dir, |d| {
        d["identities"][2]["authentication"]["type"] = "password".into()
    });
    let run = run_with(&hub);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "identities[2].authentication.type: unknown variant `password`, expected one of"
        ),
        "{}",
        run.stderr
    );
    let hub = write_hub(&dir, |d| {
        let map = d.as_object_mut().unwrap();
        let value = map.remove("x509CaOverWebSockets").unwrap();
        map.insert("x509CaOverWebsockets".into(), value);
    });
    let run = run_with(&hub);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "unknown setting `x509CaOverWebsockets` (did you mean `x509CaOverWebSockets`?)"
        ),
        "{}",
        run.stderr
    );
    // Azure's extra fields inside entries stay accepted.
    let hub = write_hub(&dir, |d| {
        d["identities"][0]["cloudToDeviceMessageCount"] = 3.into()
    });
    assert_eq!(run_with(&hub).code, 0);
}

#[test]
fn an_identity_list_from_az_is_accepted_as_identities() {
    let dir = temp_dir("inputs_az_list");
    let thumb = iot(&["x509", "thumbprint", &fixture("device-ec.pem")])
        .stdout
        .trim()
        .to_owned();
    // The twin shape `az iot hub device-identity list` prints.
    let hub = write_hub(&dir, |d| {
        d["identities"] = serde_json::json!([{
            "deviceId": "listed", "etag": "AAAAAAAAAAE=", "deviceEtag": "NjQ=", "status": "enabled",
            "authenticationType": "selfSigned", "connectionState": "Disconnected",
            "x509Thumbprint": { "primaryThumbprint": thumb, "secondaryThumbprint": null },
            "capabilities": { "iotEdge": false }, "version": 2, "cloudToDeviceMessageCount": 0
        }]);
    });
    let run = iot(&[
        "hub",
        "authorize",
        "--hub",
        &hub,
        "-T",
        "https",
        "-d",
        "listed",
        "-c",
        &fixture("device-ec.pem"),
        "--now",
        "1767225600",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("allowed: listed by primary thumbprint"),
        "{}",
        run.stdout
    );
}

#[test]
fn value_flags_and_file_flags_share_at_file_and_dash() {
    // `--key` takes a value and `--ca-key` a file, but `@FILE` and `-` mean the same for both.
    let dir = temp_dir("inputs_at_dash");
    let p = |n: &str| dir.join(n).display().to_string();
    let made = iot(&["x509", "new-ca", "-o", &p("root"), "--now", "1767225600"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let key_pem = std::fs::read(p("root.key.pem")).unwrap();
    let at = format!("@{}", p("root.key.pem"));
    for (name, ca_key, stdin) in [("at", at.as_str(), None), ("dash", "-", Some(&key_pem[..]))] {
        let prefix = p(name);
        let args = [
            "x509",
            "new-device",
            "-o",
            &prefix,
            "-d",
            "dev1",
            "--ca",
            &p("root.cert.pem"),
            "--ca-key",
            ca_key,
            "--now",
            "1767225600",
        ];
        let run = match stdin {
            Some(bytes) => Iot::new(&args).stdin(bytes).run(),
            None => iot(&args),
        };
        assert_eq!(run.code, 0, "--ca-key {ca_key}: {}", run.stderr);
        let verify = iot(&[
            "x509",
            "verify",
            "-c",
            &format!("{prefix}.cert.pem"),
            "--trust",
            &p("root.cert.pem"),
            "--now",
            "1767226000",
        ]);
        assert_eq!(verify.code, 0, "{name}: {}", verify.stdout);
    }
}

/// The proof-of-possession code of the `pop-right.pem` fixture.
const POP_CODE: &str = "0A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5A6B7";
/// `--now` of the certificates the CLI makes in these tests: 2026-01-01T00:00:00Z.
const MADE_AT: &str = "2026-01-01T00:00:00Z";
/// The `valid:` line of a certificate made at [`MADE_AT`] for the default 30 days.
const MADE_VALID: &str =
    "valid:       2026-01-01T00:00:00Z (1767225600) to 2026-01-31T00:00:00Z (1769817600)\n";

/// `iot x509 new-ca -o DIR/ca` at [`MADE_AT`]; returns the certificate and key paths.
fn made_ca(dir: &std::path::Path) -> (String, String) {
    let prefix = dir.join("ca").display().to_string();
    let run = iot(&["x509", "new-ca", "-o", &prefix, "--now", MADE_AT]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (format!("{prefix}.cert.pem"), format!("{prefix}.key.pem"))
}

/// The text of `x509 new-*` with what depends on the fresh key (the thumbprints) left out and
/// the output prefix written as `PREFIX`.
fn made_text(stdout: &str, prefix: &str) -> String {
    stdout
        .lines()
        .filter(|line| !line.starts_with("sha"))
        .map(|line| format!("{}\n", line.replace(prefix, "PREFIX")))
        .collect()
}

/// Issuer, subject and validity of the first certificate of a file, as `x509 inspect` shows.
fn issued(cert: &str) -> (String, String, u64, u64) {
    let run = iot(&["x509", "inspect", cert, "--json"]);
    assert_eq!(run.code, 0, "{cert}: {}", run.stderr);
    let v = &run.json()["certificates"][0];
    (
        v["issuerName"].as_str().unwrap().to_owned(),
        v["subjectName"].as_str().unwrap().to_owned(),
        v["notBeforeUnix"].as_u64().unwrap(),
        v["notAfterUnix"].as_u64().unwrap(),
    )
}

/// The subject of a certificate file.
fn subject(cert: &str) -> String {
    let run = iot(&["x509", "inspect", cert, "--json"]);
    assert_eq!(run.code, 0, "{cert}: {}", run.stderr);
    run.json()["certificates"][0]["subjectName"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every file flag not covered by `a_dash_reads_any_file_from_stdin`: the command once with
/// the path and once with `-` and the same bytes on stdin gives the same status and stdout.
#[test]
fn every_file_flag_reads_the_same_bytes_from_stdin_as_from_its_path() {
    let dir = temp_dir("inputs_dash_everywhere");
    let (device, root) = (fixture("device-ec.pem"), fixture("root-ec.pem"));
    let (device_rsa, root_rsa) = (fixture("device-rsa.pem"), fixture("root-rsa.pem"));
    let (pop, hub) = (fixture("pop-right.pem"), hub_json());
    // The device the example hub file registers under its CA.
    let hub_device = format!(
        "{}/../examples/certs/device-ec.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let user = "contoso.azure-devices.net/device-ec/?api-version=2021-04-12";
    // (arguments with "FILE" where the file goes, the file, status, stdout start)
    let cases: Vec<(Vec<&str>, &str, i32, &str)> = vec![
        (
            vec!["x509", "inspect", "FILE"],
            &device,
            0,
            "subject:            CN=device-ec\n",
        ),
        (
            vec!["x509", "inspect", "-c", "FILE"],
            &device,
            0,
            "subject:            CN=device-ec\n",
        ),
        (
            vec![
                "x509", "verify", "-c", "FILE", "--trust", &root, "--now", HUB_NOW,
            ],
            &device,
            0,
            "accepted: anchored by CA ",
        ),
        (
            vec![
                "x509",
                "verify",
                "-c",
                &device_rsa,
                "--trust",
                &root,
                "--unverified",
                "FILE",
                "--now",
                HUB_NOW,
            ],
            &root_rsa,
            1,
            "rejected: ",
        ),
        (
            vec![
                "x509",
                "verify-pop",
                "--ca",
                &root,
                "-c",
                "FILE",
                "--code",
                POP_CODE,
                "--now",
                HUB_NOW,
            ],
            &pop,
            0,
            "accepted: the verification certificate proves possession of the CA key",
        ),
        (
            vec![
                "hub",
                "authorize",
                "--hub",
                &hub,
                "-T",
                "mqtt",
                "--client-id",
                "device-ec",
                "-u",
                user,
                "--cert",
                "FILE",
                "--now",
                HUB_NOW,
            ],
            &hub_device,
            0,
            "allowed: device-ec by ",
        ),
    ];
    for (args, file, code, start) in &cases {
        fn with<'a>(args: &[&'a str], value: &'a str) -> Vec<&'a str> {
            args.iter()
                .map(|a| if *a == "FILE" { value } else { a })
                .collect()
        }
        let by_path = iot(&with(args, file));
        assert_eq!(by_path.code, *code, "{args:?}: {}", by_path.stderr);
        assert!(
            by_path.stdout.starts_with(start),
            "{args:?}: {}",
            by_path.stdout
        );
        let bytes = std::fs::read(file).unwrap();
        let by_stdin = Iot::new(&with(args, "-")).stdin(&bytes).run();
        assert_eq!(
            (by_stdin.code, &by_stdin.stdout, &by_stdin.stderr),
            (by_path.code, &by_path.stdout, &by_path.stderr),
            "{args:?} with - on stdin"
        );
    }
    // `--ca -` of the commands that issue: the same text (but the fresh key's thumbprints),
    // and a certificate with the same issuer, subject and validity.
    let (ca, ca_key) = made_ca(&dir);
    let ca_pem = std::fs::read(&ca).unwrap();
    let ca_subject = subject(&ca);
    for (cmd, extra) in [
        ("new-intermediate", vec![]),
        ("new-device", vec!["-d", "dev1"]),
        ("new-verification", vec!["--code", POP_CODE]),
    ] {
        let mut made = Vec::new();
        for (how, ca_arg) in [("path", ca.as_str()), ("stdin", "-")] {
            let prefix = dir.join(format!("{cmd}-{how}")).display().to_string();
            let mut args = vec![
                "x509", cmd, "-o", &prefix, "--ca", ca_arg, "--ca-key", &ca_key, "--now", MADE_AT,
            ];
            args.extend(&extra);
            let run = if ca_arg == "-" {
                Iot::new(&args).stdin(&ca_pem).run()
            } else {
                iot(&args)
            };
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            assert_eq!(
                made_text(&run.stdout, &prefix),
                format!(
                    "certificate: PREFIX.cert.pem\nprivate key: PREFIX.key.pem (owner-only)\n\
                     {MADE_VALID}"
                ),
                "{args:?}"
            );
            let cert = issued(&format!("{prefix}.cert.pem"));
            assert_eq!(cert.0, ca_subject, "{args:?}: issued by --ca");
            made.push((made_text(&run.stdout, &prefix), cert));
        }
        assert_eq!(made[0], made[1], "{cmd}: --ca FILE and --ca -");
    }
}

/// Only one input can come from stdin (the `input` module's rule): two file flags given `-`
/// are a usage error before anything is read, whatever stdin holds, and nothing is written.
#[test]
fn two_file_flags_reading_stdin_are_a_usage_error() {
    let dir = temp_dir("inputs_two_dashes");
    let out = dir.join("o").display().to_string();
    let (device, root, hub) = (fixture("device-ec.pem"), fixture("root-ec.pem"), hub_json());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["x509", "verify", "-c", "-", "--trust", "-"],
            "--cert and --trust both",
        ),
        (
            vec![
                "x509",
                "verify",
                "-c",
                &device,
                "--trust",
                "-",
                "--unverified",
                "-",
            ],
            "--trust and --unverified both",
        ),
        (
            vec![
                "x509", "verify", "-c", &device, "--trust", &root, "--chain", "-", "--chain", "@-",
            ],
            "--chain and --chain both",
        ),
        (
            vec![
                "x509",
                "verify-pop",
                "--ca",
                "-",
                "-c",
                "-",
                "--code",
                POP_CODE,
            ],
            "--ca and --cert both",
        ),
        (
            vec![
                "x509",
                "new-intermediate",
                "-o",
                &out,
                "--ca",
                "-",
                "--ca-key",
                "-",
            ],
            "--ca and --ca-key both",
        ),
        (
            vec![
                "x509",
                "new-device",
                "-o",
                &out,
                "-d",
                "dev1",
                "--ca",
                "-",
                "--ca-key",
                "-",
            ],
            "--ca and --ca-key both",
        ),
        (
            vec![
                "x509",
                "new-verification",
                "-o",
                &out,
                "--code",
                POP_CODE,
                "--ca",
                "-",
                "--ca-key",
                "-",
            ],
            "--ca and --ca-key both",
        ),
        (
            vec![
                "hub",
                "authorize",
                "--hub",
                "-",
                "-T",
                "https",
                "-d",
                "dev1",
                "--cert",
                "-",
            ],
            "--hub and --cert both",
        ),
        (
            vec![
                "hub",
                "authorize",
                "--hub",
                &hub,
                "-T",
                "https",
                "-d",
                "dev1",
                "-c",
                "-",
                "-p",
                "-",
            ],
            "--password and --cert both",
        ),
    ];
    let root_pem = std::fs::read(&root).unwrap();
    for (args, flags) in &cases {
        for stdin in [&root_pem[..], b""] {
            let run = Iot::new(args).stdin(stdin).run();
            assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
            assert_eq!(
                run.stderr,
                format!("error: {flags} read stdin (`-`); only one input can come from stdin\n"),
                "{args:?} with {} bytes on stdin",
                stdin.len()
            );
            let mut json_args = args.clone();
            json_args.push("--json");
            let run = Iot::new(&json_args).stdin(stdin).run();
            assert_eq!(run.code, 2, "{json_args:?}");
            assert_eq!(run.json()["error"]["reason"], "usage", "{json_args:?}");
        }
    }
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
}

/// The text forms not covered by `times_print_as_rfc3339_with_the_unix_value_beside`: the
/// validity of `x509 inspect` and `x509 new-*`, the accepted text of `x509 verify`, and the
/// allow text of `hub authorize` and `authorize-service`.
#[test]
fn x509_and_hub_texts_print_times_as_rfc3339_with_the_unix_value_beside() {
    // device-ec.pem: notBefore 2025-01-01T00:00:00Z, notAfter 2035-01-01T00:00:00Z.
    let run = iot(&["x509", "inspect", &fixture("device-ec.pem")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("not "))
        .collect();
    assert_eq!(
        lines,
        [
            "not before:         2025-01-01T00:00:00Z (1735689600)",
            "not after:          2035-01-01T00:00:00Z (2051222400)",
        ]
    );
    let run = iot(&[
        "x509",
        "verify",
        "-c",
        &fixture("device-ec.pem"),
        "--trust",
        &fixture("root-ec.pem"),
        "--now",
        HUB_NOW,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "accepted: anchored by CA `CN=iot-x509 test root EC, O=iot-x509 fixtures`, path of 2 \
         certificates, valid until 2035-01-01T00:00:00Z (2051222400)\n"
    );
    // x509 new-*: `valid: FROM to TO`, --days as a duration too.
    let dir = temp_dir("inputs_text_times");
    let (ca, ca_key) = made_ca(&dir);
    let prefix = |n: &str| dir.join(n).display().to_string();
    for (name, args) in [
        ("root", vec!["new-ca", "--days", "36h"]),
        (
            "int",
            vec![
                "new-intermediate",
                "--ca",
                &ca,
                "--ca-key",
                &ca_key,
                "--days",
                "36h",
            ],
        ),
        ("dev", vec!["new-device", "-d", "dev1", "--days", "36h"]),
        (
            "pop",
            vec![
                "new-verification",
                "--code",
                "c0de",
                "--ca",
                &ca,
                "--ca-key",
                &ca_key,
                "--days",
                "36h",
            ],
        ),
    ] {
        let p = prefix(name);
        let mut full = vec!["x509", args[0], "-o", &p];
        full.extend(&args[1..]);
        full.extend(["--now", "1767225600"]);
        let run = iot(&full);
        assert_eq!(run.code, 0, "{full:?}: {}", run.stderr);
        assert_eq!(
            made_text(&run.stdout, &p),
            "certificate: PREFIX.cert.pem\nprivate key: PREFIX.key.pem (owner-only)\n\
             valid:       2026-01-01T00:00:00Z (1767225600) to 2026-01-02T12:00:00Z \
             (1767355200)\n",
            "{full:?}"
        );
    }
    // hub authorize: the allow names the token's expiry (1780275600) in both forms.
    let args = hub_authorize(DEV1_TOKEN);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = iot(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "allowed: dev1 by primary device key; rights DeviceConnect; valid until \
         2026-06-01T01:00:00Z (1780275600) (the hub drops the connection then)\n"
    );
    let run = iot(&[
        "hub",
        "authorize-service",
        "--hub",
        &hub_json(),
        "-t",
        SERVICE_TOKEN,
        "-r",
        "ServiceConnect",
        "--now",
        HUB_NOW,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "allowed: policy service (primary key) holds ServiceConnect; required ServiceConnect; \
         valid until 2026-06-01T01:00:00Z (1780275600)\n"
    );
}

/// A PEM private key as editors and tools leave it (a byte-order mark, text before the block
/// and after it, CRLF line ends) is read like the clean key by every `--ca-key`.
#[test]
fn a_ca_key_with_a_bom_and_text_around_its_block_is_read_like_the_clean_key() {
    let dir = temp_dir("inputs_odd_ca_key");
    let (ca, ca_key) = made_ca(&dir);
    let ca_subject = subject(&ca);
    let clean = std::fs::read_to_string(&ca_key).unwrap();
    let odd_key = dir.join("odd.key.pem").display().to_string();
    std::fs::write(
        &odd_key,
        format!(
            "\u{feff}Private-Key: (256 bit)\r\nnotes before the block\r\n{}notes written \
             after it\r\n",
            clean.replace('\n', "\r\n")
        ),
    )
    .unwrap();
    for (cmd, extra) in [
        ("new-intermediate", vec![]),
        ("new-device", vec!["-d", "dev1"]),
        ("new-verification", vec!["--code", POP_CODE]),
    ] {
        let mut made = Vec::new();
        for (how, key) in [("clean", ca_key.as_str()), ("odd", odd_key.as_str())] {
            let prefix = dir.join(format!("{cmd}-{how}")).display().to_string();
            let mut args = vec![
                "x509", cmd, "-o", &prefix, "--ca", &ca, "--ca-key", key, "--now", MADE_AT,
            ];
            args.extend(&extra);
            let run = iot(&args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            let cert = issued(&format!("{prefix}.cert.pem"));
            assert_eq!(cert.0, ca_subject, "{args:?}: issued by --ca");
            made.push((made_text(&run.stdout, &prefix), cert));
        }
        assert_eq!(made[0], made[1], "{cmd}: clean and odd --ca-key");
        // The CLI refuses a --ca-key that is not the key of --ca, so the odd file was read as
        // the CA's key; the device and verification certificates it signed check out.
        let made_cert = dir
            .join(format!("{cmd}-odd.cert.pem"))
            .display()
            .to_string();
        let check = match cmd {
            "new-device" => vec!["x509", "verify", "-c", &made_cert, "--trust", &ca],
            "new-verification" => vec![
                "x509",
                "verify-pop",
                "--ca",
                &ca,
                "-c",
                &made_cert,
                "--code",
                POP_CODE,
            ],
            _ => continue,
        };
        let mut check = check;
        check.extend(["--now", "1767226000"]);
        let run = iot(&check);
        assert_eq!(run.code, 0, "{check:?}: {}", run.stdout);
        assert!(
            run.stdout.starts_with("accepted: "),
            "{check:?}: {}",
            run.stdout
        );
    }
}
