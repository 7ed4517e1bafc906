//! Running `iot` as a person or a script would: arguments, stdin, environment, stdout targets.
#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as the one JSON object of `--json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: stdout {:?} stderr {:?}", self.stdout, self.stderr))
    }
}

/// A run with every option: stdin text and extra environment variables.
pub struct Iot<'a> {
    args: Vec<String>,
    stdin: Option<&'a [u8]>,
    env: Vec<(&'a str, String)>,
    dir: Option<&'a Path>,
}

/// `iot ARGS...`.
pub fn iot(args: &[&str]) -> Run {
    Iot::new(args).run()
}

impl<'a> Iot<'a> {
    pub fn new(args: &[&str]) -> Self {
        Self {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdin: None,
            env: Vec::new(),
            dir: None,
        }
    }

    pub fn stdin(mut self, bytes: &'a [u8]) -> Self {
        self.stdin = Some(bytes);
        self
    }

    pub fn env(mut self, key: &'a str, value: &str) -> Self {
        self.env.push((key, value.to_owned()));
        self
    }

    pub fn dir(mut self, dir: &'a Path) -> Self {
        self.dir = Some(dir);
        self
    }

    fn command(&self) -> Command {
        // IOT_TEST_BIN runs the same tests against another build (the before/after table).
        let bin =
            std::env::var_os("IOT_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_iot").into());
        let mut cmd = Command::new(bin);
        cmd.args(&self.args);
        for var in [
            "IOT_KEY",
            "IOT_SECONDARY_KEY",
            "IOT_TOKEN",
            "IOT_GROUP_KEY",
            "IOT_SYMMETRIC_KEY",
            "IOT_PASSWORD",
            "RUST_BACKTRACE",
        ] {
            cmd.env_remove(var);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        if let Some(dir) = self.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    pub fn run(self) -> Run {
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn iot");
        if let (Some(bytes), Some(mut input)) = (self.stdin, child.stdin.take()) {
            // A command that refuses its arguments before reading stdin exits first; the
            // write then meets a closed pipe, which is not the test's business.
            if let Err(err) = input.write_all(bytes) {
                assert_eq!(
                    err.kind(),
                    std::io::ErrorKind::BrokenPipe,
                    "write stdin: {err}"
                );
            }
        }
        let out = child.wait_with_output().expect("run iot");
        Run {
            code: out.status.code().expect("exit code (no signal)"),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Runs with stdout connected to `target` (a closed pipe, `/dev/full`); returns
    /// (status, stderr).
    pub fn run_with_stdout(self, target: Stdio) -> (i32, String) {
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(target)
            .stderr(Stdio::piped());
        let out = cmd.output().expect("run iot");
        (
            out.status.code().expect("exit code (no signal)"),
            String::from_utf8(out.stderr).expect("utf-8 stderr"),
        )
    }
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
pub fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

/// A fresh directory under the target dir, removed first if it exists.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// An OpenSSL-made fixture of iot-x509 (see iot-x509/tests/data/generate.py).
pub fn fixture(name: &str) -> String {
    format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The example hub file.
pub fn hub_json() -> String {
    format!("{}/../examples/hub.json", env!("CARGO_MANIFEST_DIR"))
}

/// Reference §1.8 key V1 and its token for `myiothub.azure-devices.net/devices/my_device`,
/// se 1578941692.
pub const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
pub const RESOURCE: &str = "myiothub.azure-devices.net/devices/my_device";
pub const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
pub const SE: u64 = 1_578_941_692;
/// 2020-01-13T18:54:52Z, the same instant as `SE`.
pub const SE_RFC3339: &str = "2020-01-13T18:54:52Z";

/// examples/hub.json tokens, signed with Python's stdlib (see tests/hub.rs), valid until
/// 1780275600; `HUB_NOW` is an hour before.
pub const HUB_NOW: &str = "1780272000";
pub const DEV1_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net%2Fdevices%2Fdev1&sig=Pj0K9FOIjtVAH5YGnrSmnhCSJIuKlLkI38i3M5X2L6Y%3D&se=1780275600";
pub const SERVICE_TOKEN: &str = "SharedAccessSignature sr=contoso.azure-devices.net&sig=%2B4gsl4kcc1nmJ2aqipHr6etDRCoaFmxLFw5RIddUH1Y%3D&se=1780275600&skn=service";
pub const DEV1_USER: &str = "contoso.azure-devices.net/dev1/?api-version=2021-04-12";
