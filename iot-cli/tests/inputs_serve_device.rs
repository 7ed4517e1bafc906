//! Issue 14, "Inputs people give", for `iot serve` and `iot device ...`: secrets from a value,
//! `@FILE`, `-` or the environment (a flag winning over the environment), `-` for every file,
//! missing flags named, and values that cannot work refused with the rule before a socket
//! opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/served.rs"]
mod served;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use cli::{Iot, iot, temp_dir};
use serde_json::Value;
use served::{
    DEVICE_KEY, GROUP_KEY, HUB, REGISTRATION, REGISTRATION_KEY, Served, WRONG_KEY, X509_DEVICE,
    strs,
};

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `device provision` of `registration` against `served`, with `extra` flags and `--json`.
fn provision(served: &Served, registration: &str, extra: &[&str]) -> Vec<String> {
    let mut args = owned(&["device", "provision", "--json"]);
    args.extend(served.dps_args(registration));
    args.extend(owned(extra));
    args
}

/// `device send` to the served device with `extra` flags and `--json`.
fn send(served: &Served, extra: &[&str]) -> Vec<String> {
    let mut args = served.send_args();
    args.push("--json".to_owned());
    args.extend(owned(extra));
    args
}

fn accepted(run: &cli::Run) -> bool {
    run.code == 0 && run.json()["accepted"] == true
}

#[test]
fn device_secrets_come_from_a_value_a_file_stdin_or_the_environment() {
    let served = Served::start("secrets");
    let dir = temp_dir("inputs_serve_device_secrets");
    let key_file = dir.join("device.key");
    std::fs::write(&key_file, format!("{DEVICE_KEY}\n")).unwrap();
    let group_file = dir.join("group.key");
    std::fs::write(&group_file, format!("\u{feff}{GROUP_KEY}\r\n")).unwrap();
    let at = |path: &std::path::Path| format!("@{}", path.display());

    // --symmetric-key: value, @FILE, -, IOT_SYMMETRIC_KEY.
    for (flag_value, stdin) in [
        (Some(DEVICE_KEY.to_owned()), None),
        (Some(at(&key_file)), None),
        (Some("-".to_owned()), Some(format!("{DEVICE_KEY}\n"))),
    ] {
        let mut args = send(&served, &[]);
        args.extend(["--symmetric-key".to_owned(), flag_value.clone().unwrap()]);
        let mut run = Iot::new(&strs(&args));
        if let Some(stdin) = &stdin {
            run = run.stdin(stdin.as_bytes());
        }
        let run = run.run();
        assert!(
            accepted(&run),
            "{flag_value:?}: {}{}",
            run.stdout,
            run.stderr
        );
    }
    let run = Iot::new(&strs(&send(&served, &[])))
        .env("IOT_SYMMETRIC_KEY", DEVICE_KEY)
        .run();
    assert!(
        accepted(&run),
        "IOT_SYMMETRIC_KEY: {}{}",
        run.stdout,
        run.stderr
    );
    let run = Iot::new(&strs(&provision(&served, REGISTRATION, &[])))
        .env("IOT_SYMMETRIC_KEY", REGISTRATION_KEY)
        .run();
    assert!(accepted(&run), "provision: {}{}", run.stdout, run.stderr);

    // --group-key: value, @FILE (byte-order mark and CRLF), -, IOT_GROUP_KEY.
    let cases: [(&[&str], Option<&str>, Option<&str>); 4] = [
        (&["--group-key", GROUP_KEY], None, None),
        (&["-g", &at(&group_file)], None, None),
        (&["--group-key", "-"], Some(GROUP_KEY), None),
        (&[], None, Some(GROUP_KEY)),
    ];
    for (i, (flags, stdin, env)) in cases.into_iter().enumerate() {
        let args = provision(&served, &format!("group-dev-{i}"), flags);
        let mut run = Iot::new(&strs(&args));
        if let Some(stdin) = stdin {
            run = run.stdin(stdin.as_bytes());
        }
        if let Some(env) = env {
            run = run.env("IOT_GROUP_KEY", env);
        }
        let run = run.run();
        assert!(accepted(&run), "{flags:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.json()["deviceId"], format!("group-dev-{i}"));
    }
    // The help names both variables.
    let help = iot(&["device", "provision", "--help"]).stdout;
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("[env: IOT_SYMMETRIC_KEY]") && help.contains("[env: IOT_GROUP_KEY]"),
        "{help}"
    );
}

#[test]
fn a_credential_flag_wins_over_the_environment() {
    let served = Served::start("flag_wins");
    // A wrong key in the environment does not shadow the group key given as a flag ...
    let run = Iot::new(&strs(&provision(
        &served,
        "group-dev-9",
        &["--group-key", GROUP_KEY],
    )))
    .env("IOT_SYMMETRIC_KEY", WRONG_KEY)
    .run();
    assert!(accepted(&run), "{}{}", run.stdout, run.stderr);
    // ... nor the certificate given as a flag ...
    let cert = served.x509_cert.display().to_string();
    let key = served.x509_key.display().to_string();
    let mut args = send(&served, &["--cert", &cert, "--key", &key]);
    let at = args.iter().position(|a| a == served::DEVICE).unwrap();
    args[at] = X509_DEVICE.to_owned();
    let run = Iot::new(&strs(&args))
        .env("IOT_SYMMETRIC_KEY", WRONG_KEY)
        .run();
    assert!(accepted(&run), "{}{}", run.stdout, run.stderr);
    // ... nor the same flag's own value.
    let run = Iot::new(&strs(&send(&served, &["--symmetric-key", DEVICE_KEY])))
        .env("IOT_SYMMETRIC_KEY", WRONG_KEY)
        .run();
    assert!(accepted(&run), "{}{}", run.stdout, run.stderr);
    // Two credentials as flags, or two in the environment: refused, named.
    let run = iot(&strs(&provision(
        &served,
        REGISTRATION,
        &[
            "--symmetric-key",
            REGISTRATION_KEY,
            "--group-key",
            GROUP_KEY,
        ],
    )));
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "argument_conflict");
    assert!(
        run.stderr.contains("--symmetric-key, --group-key"),
        "{}",
        run.stderr
    );
    let run = Iot::new(&strs(&provision(&served, REGISTRATION, &[])))
        .env("IOT_SYMMETRIC_KEY", REGISTRATION_KEY)
        .env("IOT_GROUP_KEY", GROUP_KEY)
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("IOT_SYMMETRIC_KEY and IOT_GROUP_KEY are both set"),
        "{}",
        run.stderr
    );
}

#[test]
fn device_files_and_the_payload_read_stdin_with_a_dash() {
    let served = Served::start("device_stdin");
    let ca = std::fs::read(&served.ca).unwrap();
    // --ca -
    let mut args = send(&served, &["--symmetric-key", DEVICE_KEY]);
    let at = args.iter().position(|a| a == "--ca").unwrap();
    args[at + 1] = "-".to_owned();
    let run = Iot::new(&strs(&args)).stdin(&ca).run();
    assert!(accepted(&run), "--ca -: {}{}", run.stdout, run.stderr);
    // --cert - and --key -, one at a time (only one input can come from stdin).
    let cert_pem = std::fs::read(&served.x509_cert).unwrap();
    let key_pem = std::fs::read(&served.x509_key).unwrap();
    let (cert, key) = (
        served.x509_cert.display().to_string(),
        served.x509_key.display().to_string(),
    );
    for (flags, stdin) in [
        (["--cert", "-", "--key", &key], &cert_pem),
        (["--cert", &cert, "--key", "-"], &key_pem),
    ] {
        let mut args = send(&served, &flags);
        let at = args.iter().position(|a| a == served::DEVICE).unwrap();
        args[at] = X509_DEVICE.to_owned();
        let run = Iot::new(&strs(&args)).stdin(stdin).run();
        assert!(accepted(&run), "{flags:?}: {}{}", run.stdout, run.stderr);
    }
    // --payload: JSON text, @FILE, -; text that is not JSON is refused before connecting.
    let payload_file = temp_dir("inputs_payload").join("payload.json");
    std::fs::write(&payload_file, br#"{"model":"file"}"#).unwrap();
    let at_file = format!("@{}", payload_file.display());
    for (value, stdin) in [
        (r#"{"model":"text"}"#, None),
        (at_file.as_str(), None),
        ("-", Some(&br#"{"model":"stdin"}"#[..])),
    ] {
        let args = provision(
            &served,
            REGISTRATION,
            &["--symmetric-key", REGISTRATION_KEY, "--payload", value],
        );
        let mut run = Iot::new(&strs(&args));
        if let Some(stdin) = stdin {
            run = run.stdin(stdin);
        }
        let run = run.run();
        assert!(
            accepted(&run),
            "--payload {value}: {}{}",
            run.stdout,
            run.stderr
        );
    }
    let run = iot(&strs(&provision(
        &served,
        REGISTRATION,
        &["--symmetric-key", REGISTRATION_KEY, "-p", "{not json"],
    )));
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "invalid_payload");
    // Two flags reading stdin: refused before anything is read.
    let mut args = send(&served, &["--symmetric-key", "-"]);
    let at = args.iter().position(|a| a == "--ca").unwrap();
    args[at + 1] = "-".to_owned();
    let run = Iot::new(&strs(&args)).stdin(b"x").run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("only one input can come from stdin"),
        "{}",
        run.stderr
    );
}

/// Starts `iot serve` with `args` and `stdin`; returns its summary line, stops it.
fn serve_once(args: &[&str], stdin: &[u8]) -> (Value, std::process::Child) {
    let mut child = Command::new(served::bin())
        .args(["serve", "--json", "--mqtt-port", "0", "--https-port", "0"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let summary = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (summary, child)
}

#[test]
fn serve_reads_imports_and_tls_material_from_stdin() {
    let dir = served::fresh_dir("serve_stdin");
    let (hub, dps) = served::write_imports(&dir);
    let hub_text = std::fs::read(&hub).unwrap();
    // --import - (with a byte-order mark, as some editors write it).
    let state = dir.join("state").display().to_string();
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&hub_text);
    let (summary, mut child) = serve_once(
        &[
            "--state",
            &state,
            "--import",
            "-",
            "--import",
            dps.to_str().unwrap(),
        ],
        &with_bom,
    );
    assert_eq!(summary["hubs"][0]["hostName"], HUB, "{summary}");
    assert_eq!(summary["dps"]["idScope"], served::SCOPE, "{summary}");
    child.kill().unwrap();
    child.wait().unwrap();

    // --tls-cert - (then --tls-key -) with the other from a file: the server presents that
    // certificate.
    use rcgen::{CertificateParams, KeyPair};
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let state = dir.join("state-tls").display().to_string();
    let (cert_arg, key_arg) = (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    for (tls_cert, tls_key, stdin) in [
        ("-", key_arg.as_str(), cert.pem()),
        (cert_arg.as_str(), "-", key.serialize_pem()),
    ] {
        let (summary, mut child) = serve_once(
            &[
                "--state",
                &state,
                "--import",
                hub.to_str().unwrap(),
                "--tls-cert",
                tls_cert,
                "--tls-key",
                tls_key,
            ],
            stdin.as_bytes(),
        );
        assert!(summary.get("caPath").is_none(), "no local CA: {summary}");
        let port = served::port_of(summary["mqtt"].as_str().unwrap()).to_string();
        let run = iot(&[
            "device",
            "send",
            "--hub",
            HUB,
            "-d",
            served::DEVICE,
            "--symmetric-key",
            DEVICE_KEY,
            "--gateway",
            "localhost",
            "--port",
            &port,
            "--ca",
            &cert_arg,
            "--message",
            "m",
            "--json",
        ]);
        assert!(
            accepted(&run),
            "{tls_cert} {tls_key}: {}{}",
            run.stdout,
            run.stderr
        );
        // The private copy of the material read is gone once the server has it.
        let leftovers: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tls-input"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    // Two flags reading stdin, and an import that is not a hub or DPS file.
    let run = Iot::new(&[
        "serve",
        "--state",
        &state,
        "--import",
        "-",
        "--tls-cert",
        "-",
        "--tls-key",
        key_path.to_str().unwrap(),
    ])
    .stdin(b"{}")
    .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--import and --tls-cert both read stdin"),
        "{}",
        run.stderr
    );
    let run = Iot::new(&["serve", "--state", &state, "--import", "-", "--json"])
        .stdin(b"{\"neither\":1}")
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "invalid_import");
    assert!(
        run.stderr.contains("--import stdin: neither a hub file"),
        "{}",
        run.stderr
    );
    // TLS material that is not PEM is named by its flag and its file, before anything starts.
    let truncated = cert.pem().lines().take(3).collect::<Vec<_>>().join("\n");
    let run = Iot::new(&[
        "serve",
        "--state",
        &state,
        "--tls-cert",
        "-",
        "--tls-key",
        &key_arg,
        "--json",
    ])
    .stdin(truncated.as_bytes())
    .run();
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "invalid_tls");
    assert!(
        run.stderr
            .contains("--tls-cert stdin: a PEM block has no -----END line"),
        "{}",
        run.stderr
    );
    let run = iot(&[
        "serve",
        "--state",
        &state,
        "--tls-cert",
        &cert_arg,
        "--tls-key",
        &cert_arg,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("--tls-key {cert_arg}: no PEM private key")),
        "{}",
        run.stderr
    );
}

#[test]
fn serve_and_device_missing_flags_are_usage_errors_that_name_every_one() {
    let cases: [(&[&str], &[&str]); 7] = [
        (&["serve"], &["--state <DIR>"]),
        (&["serve", "events"], &["--state <DIR>"]),
        (&["serve", "export"], &["--state <DIR>", "--out <DIR>"]),
        (
            &["device", "provision"],
            &[
                "--id-scope",
                "--registration-id",
                "--symmetric-key <KEY>|--group-key <KEY>|--cert",
            ],
        ),
        (
            &["device", "send"],
            &[
                "--hub",
                "--device-id",
                "--message",
                "--symmetric-key <KEY>|--cert <FILE>",
            ],
        ),
        (
            &["device", "run"],
            &["--id-scope", "--registration-id", "--state", "--group-key"],
        ),
        (
            &[
                "device",
                "send",
                "--hub",
                HUB,
                "-d",
                "d",
                "--message",
                "m",
                "-c",
                "c.pem",
            ],
            &["--key <FILE>"],
        ),
    ];
    for (args, flags) in cases {
        let mut args = args.to_vec();
        args.push("--json");
        let run = iot(&args);
        assert_eq!(run.code, 2, "{args:?}");
        let error = &run.json()["error"];
        assert_eq!(error["reason"], "missing_argument", "{args:?}");
        for flag in flags {
            assert!(run.stderr.contains(flag), "{args:?} {flag}: {}", run.stderr);
            assert!(
                error["message"].as_str().unwrap().contains(flag),
                "{args:?} {flag}: the JSON message names it too: {error}"
            );
        }
    }
}

#[test]
fn serve_and_device_values_that_cannot_work_are_refused_with_the_rule() {
    let dir = temp_dir("inputs_serve_device_refused");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (file, dir_text) = (file.display().to_string(), dir.display().to_string());
    let long_id = "a".repeat(129);
    // Port 9 (discard) on loopback: nothing listens, and nothing must be dialled anyway.
    let send = |extra: &[&str]| {
        let mut args = owned(&[
            "device",
            "send",
            "--hub",
            HUB,
            "-d",
            "dev",
            "--symmetric-key",
            DEVICE_KEY,
            "--message",
            "m",
            "--gateway",
            "127.0.0.1",
            "--port",
            "9",
        ]);
        for pair in extra.chunks(2) {
            match args.iter().position(|a| a == pair[0]) {
                Some(at) => args[at + 1] = pair[1].to_owned(),
                None => args.extend(owned(pair)),
            }
        }
        args
    };
    let dps = |extra: &[&str]| {
        let mut args = owned(&[
            "device",
            "run",
            "--id-scope",
            "0ne00000A0A",
            "-r",
            "reg",
            "--symmetric-key",
            DEVICE_KEY,
            "--endpoint",
            "127.0.0.1",
            "--port",
            "9",
            "--state",
        ]);
        args.push(dir.join("state.json").display().to_string());
        for pair in extra.chunks(2) {
            match args.iter().position(|a| a == pair[0]) {
                Some(at) => args[at + 1] = pair[1].to_owned(),
                None => args.extend(owned(pair)),
            }
        }
        args
    };
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (send(&["-d", ""]), "invalid_device_id", "empty"),
        (
            send(&["-d", "a/b"]),
            "invalid_device_id",
            "'/' is not allowed",
        ),
        (
            send(&["-d", &long_id]),
            "invalid_device_id",
            "longer than 128",
        ),
        (send(&["-m", ""]), "invalid_module_id", "empty"),
        (send(&["--hub", "myhub"]), "invalid_host_name", "two labels"),
        (
            send(&["--gateway", ""]),
            "usage",
            "--gateway must not be empty",
        ),
        (send(&["--count", "0"]), "invalid_value", "--count"),
        (send(&["--port", "0"]), "invalid_value", "--port"),
        (send(&["--port", "70000"]), "invalid_value", "--port"),
        (dps(&["-r", ""]), "invalid_registration_id", "empty"),
        (
            dps(&["-r", "reg one"]),
            "invalid_registration_id",
            "- . _ :",
        ),
        (
            dps(&["-r", "reg."]),
            "invalid_registration_id",
            "must end with",
        ),
        (dps(&["-r", &long_id]), "invalid_registration_id", "128"),
        (
            dps(&["--id-scope", ""]),
            "invalid_id_scope",
            "letters and digits",
        ),
        (
            dps(&["--id-scope", "0ne/x"]),
            "invalid_id_scope",
            "letters and digits",
        ),
        (
            dps(&["--endpoint", ""]),
            "usage",
            "--endpoint must not be empty",
        ),
        (dps(&["--count", "0"]), "invalid_value", "--count"),
        (
            dps(&["--interval", "0"]),
            "invalid_value",
            "longer than zero",
        ),
        (
            dps(&["--interval", "0s"]),
            "invalid_value",
            "longer than zero",
        ),
        (
            dps(&["--timeout", "0"]),
            "invalid_value",
            "longer than zero",
        ),
        (dps(&["--hub-port", "0"]), "invalid_value", "--hub-port"),
        (dps(&["--state", &dir_text]), "usage", "is a directory"),
        (
            owned(&["serve", "--state", &file]),
            "usage",
            "is a file; give a directory",
        ),
        (
            owned(&[
                "serve",
                "--state",
                &dir_text,
                "--mqtt-port",
                "8883",
                "--https-port",
                "8883",
            ]),
            "usage",
            "both 8883",
        ),
        (
            owned(&["serve", "--state", &dir_text, "--max-connections", "0"]),
            "invalid_value",
            "--max-connections",
        ),
        (
            owned(&["serve", "export", "--state", &dir_text, "--out", &file]),
            "usage",
            "is a file; give a directory",
        ),
        (
            owned(&["serve", "events", "--state", &dir_text, "--device", ""]),
            "invalid_device_id",
            "empty",
        ),
        (
            owned(&["serve", "events", "--state", &dir_text, "--hub", "x y"]),
            "invalid_host_name",
            "not allowed",
        ),
    ];
    for (mut args, reason, rule) in cases {
        args.push("--json".to_owned());
        let run = iot(&strs(&args));
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.json()["error"]["reason"],
            reason,
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(rule), "{args:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains("network"),
            "{args:?}: nothing dialled: {}",
            run.stderr
        );
    }
    // Durations with units are fine: the run gets as far as dialling port 9, where nothing
    // answers until the one-second deadline (a failure, status 1).
    let run = iot(&strs(&dps(&[
        "--interval",
        "1m",
        "--timeout",
        "1s",
        "--count",
        "1",
    ])));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

/// A PEM private key with a byte-order mark, text before its block and after it, and CRLF
/// line ends (as editors and `openssl pkey -text` leave it).
fn odd_key(clean: &str) -> String {
    format!(
        "\u{feff}Private-Key: (256 bit)\r\nnotes before the block\r\n{}notes written after \
         it\r\n",
        clean.replace('\n', "\r\n")
    )
}

/// The device's `--key` and the server's `--tls-key` read such a key like the clean one.
#[test]
fn a_private_key_with_a_bom_and_text_around_its_block_is_read_like_the_clean_key() {
    let served = Served::start("odd_keys");
    let clean = std::fs::read_to_string(&served.x509_key).unwrap();
    let odd_path = served.dir.join("odd.key.pem");
    std::fs::write(&odd_path, odd_key(&clean)).unwrap();
    let cert = served.x509_cert.display().to_string();
    let mut outcomes = Vec::new();
    for key in [served.x509_key.clone(), odd_path.clone()] {
        let key = key.display().to_string();
        let mut args = send(&served, &["--cert", &cert, "--key", &key]);
        let at = args.iter().position(|a| a == served::DEVICE).unwrap();
        args[at] = X509_DEVICE.to_owned();
        let run = iot(&strs(&args));
        assert!(accepted(&run), "--key {key}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr, "", "--key {key}");
        let v = run.json();
        outcomes.push((v["accepted"].clone(), v["deviceId"].clone()));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0].1, X509_DEVICE);

    // --tls-key: the server presents the certificate, so a device trusting it is served.
    use rcgen::{CertificateParams, KeyPair};
    let dir = served::fresh_dir("odd_tls_key");
    let (hub, _) = served::write_imports(&dir);
    let key = KeyPair::generate().unwrap();
    let tls = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, tls.pem()).unwrap();
    std::fs::write(&key_path, odd_key(&key.serialize_pem())).unwrap();
    let state = dir.join("state").display().to_string();
    let (summary, mut child) = serve_once(
        &[
            "--state",
            &state,
            "--import",
            hub.to_str().unwrap(),
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(summary["event"], "listening", "{summary}");
    let port = served::port_of(summary["mqtt"].as_str().unwrap()).to_string();
    let run = iot(&[
        "device",
        "send",
        "--hub",
        HUB,
        "-d",
        served::DEVICE,
        "--symmetric-key",
        DEVICE_KEY,
        "--gateway",
        "localhost",
        "--port",
        &port,
        "--ca",
        cert_path.to_str().unwrap(),
        "--message",
        "m",
        "--json",
    ]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(accepted(&run), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["deviceId"], served::DEVICE);
}
