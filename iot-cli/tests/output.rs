//! Issue 14, "Output people read": `x509 inspect` in full, readable errors for the files that
//! are not certificates, `sas verify`'s resource mismatch, `authorize-service`'s missing rights,
//! and messages that name no private document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/served.rs"]
mod served;

use cli::{DEV1_TOKEN, HUB_NOW, KEY, SERVICE_TOKEN, TOKEN, fixture, hub_json, iot, temp_dir};

/// A CA with pathLenConstraint 2 and a leaf with DNS, IP and e-mail subject alternative names,
/// made with rcgen (a second, independent certificate writer) for the inspect test.
fn sans_and_path_len(dir: &std::path::Path) -> (String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(2));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut leaf = CertificateParams::new(vec!["dev1.example.com".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    leaf.subject_alt_names
        .push(SanType::IpAddress("::1".parse().unwrap()));
    leaf.subject_alt_names
        .push(SanType::Rfc822Name("ops@example.com".try_into().unwrap()));
    let leaf_cert = leaf.self_signed(&KeyPair::generate().unwrap()).unwrap();
    let (ca_path, leaf_path) = (dir.join("ca.pem"), dir.join("leaf.pem"));
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    std::fs::write(&leaf_path, leaf_cert.pem()).unwrap();
    (
        ca_path.display().to_string(),
        leaf_path.display().to_string(),
    )
}

#[test]
fn inspect_shows_ekus_by_name_sans_key_type_path_length_and_every_certificate() {
    let dir = temp_dir("output_inspect");
    let (ca, leaf) = sans_and_path_len(&dir);
    let text = iot(&["x509", "inspect", &leaf]).stdout;
    assert!(
        text.contains(
            "subject alt names:  DNS:dev1.example.com, IP:127.0.0.1, IP:::1, email:ops@example.com"
        ),
        "{text}"
    );
    let text = iot(&["x509", "inspect", &ca]).stdout;
    assert!(
        text.contains("CA:                 yes, pathLenConstraint 2\n"),
        "{text}"
    );
    assert!(!text.contains("Some("), "no Rust debug text: {text}");
    let v = iot(&["x509", "inspect", &ca, "--json"]).json();
    assert_eq!(v["certificates"][0]["pathLenConstraint"], 2);
    let text = iot(&[
        "x509",
        "inspect",
        &fixture("device-client-and-email-eku.pem"),
    ])
    .stdout;
    assert!(
        text.contains("extended key usage: clientAuth, emailProtection\n"),
        "{text}"
    );
    let text = iot(&["x509", "inspect", &fixture("device-server-auth-only.pem")]).stdout;
    assert!(text.contains("extended key usage: serverAuth\n"), "{text}");
    let text = iot(&["x509", "inspect", &fixture("root-rsa.pem")]).stdout;
    assert!(
        text.contains("public key:         RSA 2048 bits\n"),
        "{text}"
    );
    let text = iot(&["x509", "inspect", &fixture("device-ec.pem")]).stdout;
    assert!(
        text.contains("public key:         EC 256 bits (P-256)\n"),
        "{text}"
    );
    assert!(
        !text.contains("certificate 1 of"),
        "a single certificate is not numbered"
    );
    let run = iot(&[
        "x509",
        "inspect",
        &fixture("device-via-intermediate.bundle.pem"),
    ]);
    assert!(
        run.stdout
            .starts_with("certificate 1 of 2:\nsubject:            CN=device-via-int\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "certificate 2 of 2:\nsubject:            CN=iot-x509 test intermediate EC\n"
        ),
        "{}",
        run.stdout
    );
    let v = iot(&[
        "x509",
        "inspect",
        &fixture("device-via-intermediate.bundle.pem"),
        "--json",
    ])
    .json();
    assert_eq!(v["certificates"][1]["index"], 2);
}

#[test]
fn pkcs12_and_truncated_der_get_readable_errors() {
    let p12 = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/device-ec.p12");
    let run = iot(&["x509", "inspect", p12, "--json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["reason"], "pkcs12");
    assert!(
        run.stderr.contains("PKCS#12 archive") && run.stderr.contains("openssl pkcs12"),
        "{}",
        run.stderr
    );
    let dir = temp_dir("output_truncated");
    let der = std::fs::read(fixture("device-ec.der")).unwrap();
    let cut = dir.join("cut.der");
    std::fs::write(&cut, &der[..200]).unwrap();
    let run = iot(&["x509", "thumbprint", &cut.display().to_string()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "truncated DER: the certificate says {} bytes, the file has 200",
            der.len()
        )),
        "{}",
        run.stderr
    );
    for internals in ["Parsing Error", "Der(", "nom", "Incomplete"] {
        assert!(
            !run.stderr.contains(internals),
            "{internals}: {}",
            run.stderr
        );
    }
}

/// `x509 inspect` (the command issue 14 names) on a DER file cut short: status 2 (bad input)
/// and a sentence with both lengths, by path and on stdin, in text and in JSON.
#[test]
fn inspect_words_a_truncated_der_file_for_a_person() {
    let dir = temp_dir("output_inspect_truncated");
    let der = std::fs::read(fixture("device-ec.der")).unwrap();
    let cut = dir.join("cut.der");
    std::fs::write(&cut, &der[..200]).unwrap();
    let cut = cut.display().to_string();
    let problem = format!(
        "truncated DER: the certificate says {} bytes, the file has 200",
        der.len()
    );
    for (file, stdin) in [(cut.as_str(), None), ("-", Some(&der[..200]))] {
        for args in [
            vec!["x509", "inspect", file],
            vec!["x509", "inspect", "-c", file],
        ] {
            let mut run = cli::Iot::new(&args);
            if let Some(bytes) = stdin {
                run = run.stdin(bytes);
            }
            let run = run.run();
            assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
            assert_eq!(run.stdout, "", "{args:?}");
            assert_eq!(
                run.stderr,
                format!("error: --cert {file}: {problem}\n"),
                "{args:?}"
            );
            let mut json_args = args.clone();
            json_args.push("--json");
            let mut run = cli::Iot::new(&json_args);
            if let Some(bytes) = stdin {
                run = run.stdin(bytes);
            }
            let run = run.run();
            assert_eq!(run.code, 2, "{json_args:?}");
            assert_eq!(
                run.json(),
                serde_json::json!({"error": {
                    "reason": "truncated_der",
                    "message": format!("--cert {file}: {problem}"),
                }}),
                "{json_args:?}"
            );
        }
    }
}

#[test]
fn a_resource_mismatch_names_the_differing_segment_as_a_person_counts() {
    let run = iot(&[
        "sas",
        "verify",
        "-t",
        TOKEN,
        "-k",
        KEY,
        "--now",
        "1578941000",
        "-r",
        "myiothub.azure-devices.net/devices/my_device10",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "rejected: the token's resource `myiothub.azure-devices.net/devices/my_device` does not \
         cover the requested `myiothub.azure-devices.net/devices/my_device10`: path segment 3 \
         differs (token `my_device`, requested `my_device10`)\n"
    );
}

#[test]
fn authorize_service_lists_only_the_rights_the_policy_lacks() {
    let run = iot(&[
        "hub",
        "authorize-service",
        "--hub",
        &hub_json(),
        "-t",
        SERVICE_TOKEN,
        "-r",
        "ServiceConnect, RegistryRead, DeviceConnect",
        "--now",
        HUB_NOW,
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "denied: policy service lacks RegistryRead, DeviceConnect (it has ServiceConnect); grant \
         it or use another policy\n"
    );
}

#[test]
fn messages_name_no_private_document() {
    let hub = hub_json();
    let runs = [
        // The claim check (its library text used to cite the reference).
        iot(&[
            "hub",
            "authorize",
            "--hub",
            &hub,
            "-T",
            "amqp",
            "-u",
            "garbage",
            "-p",
            DEV1_TOKEN,
            "--now",
            HUB_NOW,
        ]),
        iot(&[
            "x509",
            "verify",
            "-c",
            &fixture("device-self-signed.pem"),
            "--trust",
            &fixture("root-ec.pem"),
            "--now",
            "1767225600",
        ]),
        iot(&[
            "hub",
            "authorize",
            "--hub",
            "/nonexistent.json",
            "-T",
            "https",
            "-d",
            "d",
        ]),
    ];
    assert!(
        runs[0]
            .stdout
            .starts_with("denied: identity claim rejected"),
        "{}",
        runs[0].stdout
    );
    for run in runs {
        for text in [&run.stdout, &run.stderr] {
            for private in ["§", "reference", "examples/", "DESIGN", "shared/"] {
                assert!(!text.contains(private), "{private}: {text}");
            }
        }
    }
}

/// `2026-01-01T00:00:00Z (1767225600)` at the start of `line`: both forms, and they agree.
fn leading_time(line: &str) -> (String, u64) {
    let mut words = line.split(' ');
    let rfc3339 = words.next().unwrap().to_owned();
    let unix = words.next().unwrap();
    let unix: u64 = unix
        .strip_prefix('(')
        .and_then(|u| u.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no (unix) beside the time: {line}"))
        .parse()
        .unwrap();
    let parsed =
        time::OffsetDateTime::parse(&rfc3339, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{e}: not RFC 3339: {line}"));
    assert!(rfc3339.ends_with('Z'), "UTC: {line}");
    assert_eq!(
        parsed.unix_timestamp(),
        i64::try_from(unix).unwrap(),
        "{line}"
    );
    (rfc3339, unix)
}

#[test]
fn serve_events_and_device_run_print_times_as_rfc3339_with_unix_beside() {
    let served = served::Served::start("output_times");
    let mut send = served.send_args();
    send.extend(["--symmetric-key", served::DEVICE_KEY, "--property", "k=v"].map(str::to_owned));
    let run = iot(&served::strs(&send));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = served.state.display().to_string();
    let text = iot(&["serve", "events", "--state", &state]).stdout;
    let json = iot(&["serve", "events", "--state", &state, "--json"]).json();
    let line = text.lines().next().unwrap();
    let (rfc3339, unix) = leading_time(line);
    assert_eq!(json["received"], rfc3339.as_str());
    assert_eq!(json["receivedUnix"], unix);
    assert!(
        line.ends_with(&format!(" {} {} [k=v] hello", served::HUB, served::DEVICE)),
        "{line}"
    );

    // Every line of `device run` starts with the time, in both forms.
    let run = iot(&served::strs(
        &served.run_args(&served.dir.join("run.json")),
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("hub: message 1 acknowledged"),
        "{}",
        run.stdout
    );
    for line in run.stdout.lines() {
        leading_time(line);
    }
}

/// The live lines of `iot serve` without `--json`: each event line starts with the time as
/// RFC 3339 with the Unix value beside it, the clock's time while the test ran.
#[test]
fn serve_text_lines_print_times_as_rfc3339_with_unix_beside() {
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let before = unix_now();
    let (served, summary) = served::Served::start_text("output_serve_text");
    assert!(
        summary[0].starts_with("iot serve: MQTT over TLS on 127.0.0.1:"),
        "{summary:#?}"
    );
    let mut send = served.send_args();
    send.extend(["--symmetric-key", served::DEVICE_KEY].map(str::to_owned));
    let run = iot(&served::strs(&send));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut seen = Vec::new();
    let telemetry = served.wait_for_text(" telemetry ", &mut seen);
    let after = unix_now();
    let connect = seen
        .iter()
        .find(|l| l.contains(" connect ALLOWED "))
        .unwrap_or_else(|| panic!("no connect line before the telemetry: {seen:#?}"));
    assert!(
        telemetry.ends_with(&format!(
            " telemetry {} {}: 5 bytes stored",
            served::HUB,
            served::DEVICE
        )),
        "{telemetry}"
    );
    for line in [connect, &telemetry] {
        let (rfc3339, unix) = leading_time(line);
        assert!(
            (before..=after).contains(&unix),
            "{line}: {before}..={after}"
        );
        assert!(
            line.starts_with(&format!("{rfc3339} ({unix}) ")),
            "the time, then the event: {line}"
        );
    }
    for line in &seen {
        leading_time(line);
    }
}
