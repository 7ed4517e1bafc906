//! Issue 14, "Never a panic": closed pipes, full disks and out-of-range times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/served.rs"]
mod served;

use cli::{
    DEV1_TOKEN, DEV1_USER, HUB_NOW, Iot, KEY, RESOURCE, SE, TOKEN, closed_pipe, fixture, hub_json,
};

/// One command line per subcommand that prints, with the status its verdict has.
fn printing_commands() -> Vec<(Vec<String>, i32)> {
    let se = SE.to_string();
    let hub = hub_json();
    let (device, bundle, root) = (
        fixture("device-ec.pem"),
        fixture("device-via-intermediate.bundle.pem"),
        fixture("root-ec.pem"),
    );
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "sas",
                "sign",
                "--resource",
                RESOURCE,
                "--key",
                KEY,
                "--expiry",
                &se,
            ],
            0,
        ),
        (
            vec![
                "sas",
                "verify",
                "--token",
                TOKEN,
                "--key",
                KEY,
                "--now",
                "1578941000",
            ],
            0,
        ),
        (
            vec![
                "sas",
                "verify",
                "--token",
                TOKEN,
                "--key",
                "cGFzc3dvcmQ=",
                "--now",
                "0",
            ],
            1,
        ),
        (vec!["sas", "inspect", "--token", TOKEN], 0),
        (
            vec![
                "dps",
                "derive-key",
                "--group-key",
                KEY,
                "--registration-id",
                "reg-1",
            ],
            0,
        ),
        (
            vec![
                "dps",
                "decode",
                "--topic",
                "$dps/registrations/res/202/?$rid=1&retry-after=3",
            ],
            0,
        ),
        (vec!["x509", "thumbprint", &device], 0),
        (vec!["x509", "inspect", &bundle], 0),
        (
            vec![
                "x509",
                "verify",
                "--cert",
                &device,
                "--trust",
                &root,
                "--now",
                "1767225600",
            ],
            0,
        ),
        (
            vec![
                "hub",
                "authorize",
                "--hub",
                &hub,
                "--transport",
                "mqtt",
                "--client-id",
                "dev1",
                "--username",
                DEV1_USER,
                "--password",
                DEV1_TOKEN,
                "--now",
                HUB_NOW,
            ],
            0,
        ),
        (vec!["demo"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        (vec!["--help"], 0),
        (vec!["--version"], 0),
    ];
    cases
        .into_iter()
        .map(|(args, code)| (args.into_iter().map(str::to_owned).collect(), code))
        .collect()
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_verdicts_status() {
    for (args, want) in printing_commands() {
        for json in [false, true] {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            if json && !args.contains(&"--help") && !args.contains(&"--version") {
                args.push("--json");
            }
            let (code, stderr) = Iot::new(&args).run_with_stdout(closed_pipe());
            assert_eq!(code, want, "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_with_status_2() {
    for (args, _) in printing_commands() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = Iot::new(&args).run_with_stdout(full.into());
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: cannot write the output: "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn out_of_range_times_are_bad_usage_not_panics() {
    let dir = cli::temp_dir("never_panics_times");
    let out = dir.join("x").display().to_string();
    // `iot demo` has no --now since it runs over real sockets on the real clock:
    // `demo_has_no_clock_flag` below.
    let cases: [&[&str]; 4] = [
        &["x509", "new-ca", "--out", &out, "--days", "4000000"],
        &["x509", "new-ca", "--out", &out, "--now", "253402300700"],
        &[
            "sas",
            "sign",
            "--resource",
            RESOURCE,
            "--key",
            KEY,
            "--ttl",
            "30d",
            "--now",
            "253402300000",
        ],
        &[
            "sas",
            "verify",
            "--token",
            TOKEN,
            "--key",
            KEY,
            "--now",
            "99999999999999",
        ],
    ];
    for args in cases {
        let run = cli::iot(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("9999") || run.stderr.contains("range"),
            "{args:?}: the message names the limit: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{args:?}");
    }
    assert!(
        !dir.join("x.key.pem").exists(),
        "nothing written on refusal"
    );
}

/// The demo runs an in-process server and devices on the real clock, so it takes no time
/// flag: `--now` (any value, in range or not) is a usage error naming the flag, never a panic.
#[test]
fn demo_has_no_clock_flag() {
    for value in ["253402300800", "18446744073709551615"] {
        let run = cli::iot(&["demo", "--now", value]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("--now"), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

/// `iot device send` of one message to [`served::DEVICE`] with `key`.
fn send_with(served: &served::Served, key: &str) -> Vec<String> {
    let mut args = served.send_args();
    args.extend(["--symmetric-key", key].map(str::to_owned));
    args
}

/// A running server is not a command that prints and ends: when its reader goes away
/// (`iot serve | head -1`) it says so once on stderr and goes on serving devices.
#[test]
fn a_running_serve_keeps_serving_when_its_stdout_closes() {
    let mut served = served::Served::start_then_close_stdout("closed_stdout");
    for _ in 0..2 {
        // Each connection makes the server write lines into the closed pipe.
        let run = Iot::new(&served::strs(&send_with(&served, served::DEVICE_KEY))).run();
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    assert!(served.running());
    let warning = served.stderr_line();
    assert!(
        warning.starts_with("warning: stdout was closed; iot serve goes on serving"),
        "{warning}"
    );
    let (code, rest) = served.stop();
    assert_eq!(code, 0, "{rest}");
    assert!(!rest.contains("panicked"), "{rest}");
    assert!(
        !rest.contains("warning"),
        "the warning is given once: {rest}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_running_serve_keeps_serving_when_its_stdout_is_full() {
    let (mqtt, https) = served::free_ports();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut served = served::Served::start_unread("full_stdout", full.into(), mqtt, https);
    // The summary line is the first write that fails.
    let warning = served.stderr_line();
    assert!(
        warning.starts_with("warning: cannot write the output (")
            && warning.contains("iot serve goes on serving"),
        "{warning}"
    );
    let run = Iot::new(&served::strs(&send_with(&served, served::DEVICE_KEY))).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (code, rest) = served.stop();
    assert_eq!(code, 0, "{rest}");
    assert!(!rest.contains("panicked"), "{rest}");
}

/// `serve events`, `serve export` and the device commands, with the status each one's verdict
/// has.
fn served_commands(served: &served::Served) -> Vec<(Vec<String>, i32)> {
    let state = served.state.display().to_string();
    let mut provision = vec!["device".to_owned(), "provision".to_owned()];
    provision.extend(served.dps_args(served::REGISTRATION));
    provision.extend(["--symmetric-key", served::REGISTRATION_KEY].map(str::to_owned));
    let out = served.dir.join("export").display().to_string();
    vec![
        (
            ["serve", "events", "--state", &state]
                .map(str::to_owned)
                .to_vec(),
            0,
        ),
        (
            ["serve", "export", "--state", &state, "--out", &out]
                .map(str::to_owned)
                .to_vec(),
            0,
        ),
        (provision, 0),
        (send_with(served, served::DEVICE_KEY), 0),
        (send_with(served, served::WRONG_KEY), 1),
        (served.run_args(&served.dir.join("run.json")), 0),
    ]
}

#[test]
fn events_export_and_device_commands_end_quietly_on_a_closed_pipe() {
    let served = served::Served::start("closed_pipe_commands");
    // Something to print for `serve events`.
    let run = Iot::new(&served::strs(&send_with(&served, served::DEVICE_KEY))).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (args, want) in served_commands(&served) {
        for json in [false, true] {
            let mut args = served::strs(&args);
            if json {
                args.push("--json");
            }
            let (code, stderr) = Iot::new(&args).run_with_stdout(closed_pipe());
            assert_eq!(code, want, "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
            assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn events_export_and_device_commands_fail_with_status_2_on_a_full_disk() {
    let served = served::Served::start("full_disk_commands");
    let run = Iot::new(&served::strs(&send_with(&served, served::DEVICE_KEY))).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (args, _) in served_commands(&served) {
        for json in [false, true] {
            let mut args = served::strs(&args);
            if json {
                args.push("--json");
            }
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let (code, stderr) = Iot::new(&args).run_with_stdout(full.into());
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert!(
                stderr.contains("error: cannot write the output: "),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
}
