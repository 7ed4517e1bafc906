//! `iot serve` as a child process on ephemeral loopback ports, with a hub and a DPS instance,
//! for the tests of the commands that talk to it (`iot device ...`) or read its state
//! (`iot serve events`, `iot serve export`). Every wait is bounded.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const HUB: &str = "served-hub.azure-devices.net";
pub const SCOPE: &str = "0ne00SERVED";
/// A device with symmetric keys in the hub.
pub const DEVICE: &str = "dev-sas";
pub const DEVICE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// A key no identity has.
pub const WRONG_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
/// A device with a self-signed certificate (its files are written by [`Served::start`]).
pub const X509_DEVICE: &str = "dev-x509";
/// An individual symmetric-key enrollment.
pub const REGISTRATION: &str = "reg-sym";
pub const REGISTRATION_KEY: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
/// A symmetric-key enrollment group: any registration ID with the key derived from it.
pub const GROUP_KEY: &str = "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";

/// The binary under test (`IOT_TEST_BIN` runs another build).
pub fn bin() -> std::ffi::OsString {
    std::env::var_os("IOT_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_iot").into())
}

/// A running `iot serve` (`--json` unless started with [`Served::start_text`]).
pub struct Served {
    child: Child,
    pub dir: PathBuf,
    pub state: PathBuf,
    pub mqtt_port: u16,
    pub https_port: u16,
    /// The local CA devices trust (STATE/tls/ca.pem).
    pub ca: PathBuf,
    /// The `listening` line.
    pub summary: Value,
    /// The device certificate and key of [`X509_DEVICE`].
    pub x509_cert: PathBuf,
    pub x509_key: PathBuf,
    lines: Option<Receiver<String>>,
    stderr: Option<ChildStderr>,
}

/// Writes the hub file (with a fresh self-signed certificate for [`X509_DEVICE`]) and the DPS
/// file into `dir`; returns their paths.
pub fn write_imports(dir: &Path) -> (PathBuf, PathBuf) {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, X509_DEVICE);
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("x509.cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("x509.key.pem"), key.serialize_pem()).unwrap();
    let thumbprint: String = ring::digest::digest(&ring::digest::SHA256, cert.der())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let hub = json!({
        "hostName": HUB,
        "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": DEVICE_KEY,
            "secondaryKey": WRONG_KEY, "rights": "RegistryWrite, ServiceConnect"}],
        "identities": [
            {"deviceId": DEVICE, "authentication": {"type": "sas",
                "symmetricKey": {"primaryKey": DEVICE_KEY, "secondaryKey": DEVICE_KEY}}},
            {"deviceId": X509_DEVICE, "authentication": {"type": "selfSigned",
                "x509Thumbprint": {"primaryThumbprint": thumbprint}}}
        ]
    });
    let dps = json!({
        "idScope": SCOPE,
        "linkedHubs": [{"name": HUB}],
        "serviceHostName": "served-dps.azure-devices-provisioning.net",
        "authorizationPolicies": [],
        "enrollments": [{"registrationId": REGISTRATION,
            "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": REGISTRATION_KEY, "secondaryKey": REGISTRATION_KEY}}}],
        "enrollmentGroups": [{"enrollmentGroupId": "served-group",
            "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": GROUP_KEY, "secondaryKey": GROUP_KEY}}}]
    });
    let (hub_path, dps_path) = (dir.join("hub.json"), dir.join("dps.json"));
    std::fs::write(&hub_path, hub.to_string()).unwrap();
    std::fs::write(&dps_path, dps.to_string()).unwrap();
    (hub_path, dps_path)
}

/// A fresh directory under the target dir.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("served-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads the first line of `stdout` within 30 s (a server that never prints fails the test).
fn first_line(
    stdout: impl std::io::Read + Send + 'static,
) -> (String, BufReader<Box<dyn std::io::Read + Send>>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader: BufReader<Box<dyn std::io::Read + Send>> = BufReader::new(Box::new(stdout));
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("iot serve prints its summary line")
}

impl Served {
    /// `iot serve --json` with both import files, on ephemeral ports.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    /// [`Self::start`] with more arguments.
    pub fn start_with(name: &str, extra: &[&str]) -> Self {
        let mut served = Self::spawn(name, extra, Stdio::piped());
        let stdout = served.child.stdout.take().unwrap();
        let (line, mut reader) = first_line(stdout);
        served.set_summary(&line);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(std::mem::take(&mut line)).is_err() {
                    break;
                }
            }
        });
        served.lines = Some(rx);
        served
    }

    /// Starts, reads the summary line, then closes the reading end of stdout (as
    /// `iot serve | head -1` does).
    pub fn start_then_close_stdout(name: &str) -> Self {
        let mut served = Self::spawn(name, &[], Stdio::piped());
        let stdout = served.child.stdout.take().unwrap();
        let (line, reader) = first_line(stdout);
        drop(reader);
        served.set_summary(&line);
        served
    }

    /// Starts with stdout on `target` (`/dev/full`) on the ports given; the summary is what
    /// the test knows already.
    pub fn start_unread(name: &str, target: Stdio, mqtt_port: u16, https_port: u16) -> Self {
        let ports = [
            "--mqtt-port",
            &mqtt_port.to_string(),
            "--https-port",
            &https_port.to_string(),
        ]
        .map(str::to_owned);
        let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
        let mut served = Self::spawn(name, &ports, target);
        served.mqtt_port = mqtt_port;
        served.https_port = https_port;
        served.ca = served.state.join("tls").join("ca.pem");
        served
    }

    /// `iot serve` without `--json` (the text a person reads), on ephemeral ports: the
    /// summary's lines up to `stop with Ctrl-C ...` are read (within 30 s) and returned; the
    /// lines after them are read with [`Self::wait_for_text`].
    pub fn start_text(name: &str) -> (Self, Vec<String>) {
        let mut served = Self::spawn_as(name, &[], Stdio::piped(), false);
        let stdout = served.child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(std::mem::take(&mut line)).is_err() {
                    break;
                }
            }
        });
        served.lines = Some(rx);
        let mut summary = Vec::new();
        while !summary
            .last()
            .is_some_and(|l: &String| l.starts_with("stop with Ctrl-C"))
        {
            summary.push(served.next_text_line(Duration::from_secs(30), &summary));
        }
        let after = |prefix: &str| -> String {
            summary
                .iter()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no {prefix:?} in {summary:#?}"))
                .to_owned()
        };
        served.mqtt_port = port_of(&after("iot serve: MQTT over TLS on "));
        served.https_port = port_of(&after("  HTTPS (MQTT over WebSockets, service APIs) on "));
        served.ca = PathBuf::from(after("  devices trust the local CA "));
        (served, summary)
    }

    /// The next stdout line (without its line end) within `wait`.
    fn next_text_line(&self, wait: Duration, seen: &[String]) -> String {
        let lines = self.lines.as_ref().expect("stdout is read");
        match lines.recv_timeout(wait) {
            Ok(line) => line.trim_end_matches('\n').to_owned(),
            Err(RecvTimeoutError::Timeout) => panic!("no line in {wait:?}: {seen:#?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("iot serve ended: {seen:#?}"),
        }
    }

    /// The next stdout line of a [`Self::start_text`] server that contains `needle`, within
    /// 20 s; every line seen on the way is appended to `seen`.
    pub fn wait_for_text(&self, needle: &str, seen: &mut Vec<String>) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_text_line(left, seen);
            seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn spawn(name: &str, extra: &[&str], stdout: Stdio) -> Self {
        Self::spawn_as(name, extra, stdout, true)
    }

    fn spawn_as(name: &str, extra: &[&str], stdout: Stdio, json: bool) -> Self {
        let dir = fresh_dir(name);
        let (hub, dps) = write_imports(&dir);
        let state = dir.join("state");
        let mut cmd = Command::new(bin());
        cmd.arg("serve");
        if json {
            cmd.arg("--json");
        }
        cmd.arg("--state").arg(&state);
        cmd.arg("--import").arg(&hub).arg("--import").arg(&dps);
        if !extra.contains(&"--mqtt-port") {
            cmd.args(["--mqtt-port", "0", "--https-port", "0"]);
        }
        cmd.args(extra)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take();
        Self {
            child,
            x509_cert: dir.join("x509.cert.pem"),
            x509_key: dir.join("x509.key.pem"),
            dir,
            state,
            mqtt_port: 0,
            https_port: 0,
            ca: PathBuf::new(),
            summary: Value::Null,
            lines: None,
            stderr,
        }
    }

    fn set_summary(&mut self, line: &str) {
        let summary: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: summary line {line:?}"));
        let port = |key: &str| -> u16 {
            port_of(
                summary[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{key}: {summary}")),
            )
        };
        self.mqtt_port = port("mqtt");
        self.https_port = port("https");
        self.ca = PathBuf::from(summary["caPath"].as_str().unwrap());
        self.summary = summary;
    }

    /// The next stdout line whose `event` is `kind`, within 20 s; every line seen on the way is
    /// appended to `seen`.
    pub fn wait_for(&self, kind: &str, seen: &mut Vec<Value>) -> Value {
        let lines = self.lines.as_ref().expect("stdout is read");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let value: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("{e}: line {line:?}"));
                    seen.push(value.clone());
                    if value["event"] == kind {
                        return value;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {kind} event in 20 s: {seen:#?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("iot serve ended: {seen:#?}"),
            }
        }
    }

    /// The first stderr line, within 20 s.
    pub fn stderr_line(&mut self) -> String {
        let stderr = self.stderr.take().expect("stderr not read yet");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stderr).read_line(&mut line);
            let _ = tx.send(line);
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("a line on stderr")
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM (the shell's built-in kill), then the exit status and the rest of stderr.
    pub fn stop(mut self) -> (i32, String) {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "iot serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut rest = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            let _ = stderr.read_to_string(&mut rest);
        }
        (code, rest)
    }

    /// Arguments that point a DPS command at this server: scope, endpoint, port, CA.
    pub fn dps_args(&self, registration_id: &str) -> Vec<String> {
        [
            "--id-scope",
            SCOPE,
            "--registration-id",
            registration_id,
            "--endpoint",
            "localhost",
            "--port",
            &self.mqtt_port.to_string(),
            "--ca",
            self.ca.to_str().unwrap(),
            "--timeout",
            "20",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// `device send` to [`DEVICE`] through this server, without a credential.
    pub fn send_args(&self) -> Vec<String> {
        [
            "device",
            "send",
            "--hub",
            HUB,
            "--device-id",
            DEVICE,
            "--gateway",
            "localhost",
            "--port",
            &self.mqtt_port.to_string(),
            "--ca",
            self.ca.to_str().unwrap(),
            "--message",
            "hello",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// `device run` of [`REGISTRATION`] with `--state` in `state_file`, `--count 1`.
    pub fn run_args(&self, state_file: &Path) -> Vec<String> {
        let mut args = vec!["device".to_owned(), "run".to_owned()];
        args.extend(self.dps_args(REGISTRATION));
        args.extend(
            [
                "--symmetric-key",
                REGISTRATION_KEY,
                "--state",
                state_file.to_str().unwrap(),
                "--gateway",
                "localhost",
                "--hub-port",
                &self.mqtt_port.to_string(),
                "--count",
                "1",
            ]
            .map(str::to_owned),
        );
        args
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The port of a listening address as `iot serve` prints it (`127.0.0.1:8883`, `[::1]:443`).
pub fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr:?}"))
}

/// Two ports that were free a moment ago (for a server whose stdout cannot be read).
pub fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// Strings for [`crate::cli::Iot::new`].
pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A plain HTTPS GET to this server (no Authorization header), trusting its CA; returns the
/// status line. The server answers and reports the call as an `api` event.
pub fn https_get(served: &Served, host: &str, path: &str) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    use std::io::Write as _;
    let ca = std::fs::read(&served.ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", served.https_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
