//! iot-server beside Mosquitto, same load generator, same run (issue 10, "Benchmark"):
//! TLS connect admissions per second and QoS 1 telemetry messages per second.
//!
//! A bounded load generator (`iot_benches::loadgen`), not criterion: criterion times one
//! closure on one thread many times and fits a slope, while this measures a server's
//! throughput under many concurrent connections; what matters here is the same client load
//! alternating between two servers round by round, counted in completed operations.
//!
//! ```sh
//! cargo bench -p iot-benches --bench broker
//! ROUNDS=7 ADMISSIONS=2000 CONCURRENCY=100 FLEET=1000 DEVICES=100 MESSAGES=500 WINDOW=16 \
//!   PAYLOAD=128 DEADLINE=60 PHASES=admissions,telemetry cargo bench -p iot-benches --bench broker
//! ```
//! (the defaults; `BENCH_DIR` puts the state elsewhere than the temp dir, `MOSQUITTO` names the
//! broker binary).
//!
//! * iot-server runs in this process on its own tokio runtime (2 workers, as `iot serve`),
//!   state in a temporary directory on disk: every QoS 1 message is committed to its SQLite
//!   store (WAL, `synchronous=FULL`) before its PUBACK.
//! * Mosquitto (`/usr/sbin/mosquitto`, or `MOSQUITTO`) runs as a child process with a
//!   generated configuration: TLS listener on a free loopback port with the same certificate
//!   chain and key, `allow_anonymous false`, a password file holding each device's SAS token
//!   hashed by `mosquitto_passwd -U`, default persistence (none before PUBACK).
//! * Without Mosquitto the bench says so and exits with status 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iot_benches::loadgen::fleet::{Fleet, tls_files};
use iot_benches::loadgen::mosquitto::{Mosquitto, locate};
use iot_benches::loadgen::{
    AdmissionRun, Bounds, LoadError, MqttClient, Target, TelemetryLoad, TelemetryRun, admissions,
    admit_once, client_tls, connect_all, cpu, telemetry,
};
use iot_server::{Server, ServerConfig, TlsSource};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// One server under test and how to read its CPU time.
struct Side {
    target: Target,
    cpu: Box<dyn Fn() -> Option<Duration>>,
    admissions: Vec<f64>,
    admission_cpu: Vec<f64>,
    messages: Vec<f64>,
    message_cpu: Vec<f64>,
}

fn micros_per(cpu: Option<Duration>, count: u64) -> f64 {
    cpu.map_or(f64::NAN, |d| d.as_secs_f64() * 1e6 / count.max(1) as f64)
}

fn show_cpu(us: f64) -> String {
    if us.is_nan() {
        "n/a".into()
    } else {
        format!("{us:.1} µs")
    }
}

fn loadgen_cpu() -> Option<Duration> {
    cpu::own_threads(&["loadgen"])
}

fn main() -> ExitCode {
    let rounds = env("ROUNDS", 7).max(1);
    let total = env("ADMISSIONS", 2000);
    let concurrency = usize::try_from(env("CONCURRENCY", 100)).unwrap();
    let fleet_size = usize::try_from(env("FLEET", 1000)).unwrap().max(2);
    let devices = usize::try_from(env("DEVICES", 100))
        .unwrap()
        .min(fleet_size);
    let per_device = u32::try_from(env("MESSAGES", 500)).unwrap();
    let window = u16::try_from(env("WINDOW", 16)).unwrap();
    let payload_len = usize::try_from(env("PAYLOAD", 128)).unwrap();
    // PHASES=admissions or PHASES=telemetry runs one load only (both by default).
    let phases = std::env::var("PHASES").unwrap_or_default();
    let run_admissions = phases.is_empty() || phases.contains("admissions");
    let run_telemetry = phases.is_empty() || phases.contains("telemetry");
    let bounds = Bounds {
        deadline: Duration::from_secs(env("DEADLINE", 60)),
        io_timeout: Duration::from_secs(10),
    };

    if let Err(e) = locate() {
        eprintln!("broker bench: {e}");
        eprintln!(
            "  The bench compares iot-server with Mosquitto in the same run and cannot run without it."
        );
        return ExitCode::from(2);
    }

    let dir = std::env::var_os("BENCH_DIR").map_or_else(
        || std::env::temp_dir().join(format!("iot-bench-broker-{}", std::process::id())),
        PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("mosquitto")).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry = now + 86_400;
    let fleet = Fleet::new(fleet_size, expiry).unwrap();
    let tls = tls_files(&dir.join("tls")).unwrap();
    let hub_file = dir.join("hub.json");
    std::fs::write(&hub_file, fleet.hub_file().to_string()).unwrap();

    // iot-server: its own runtime, as `iot serve` builds it (2 workers), named so its threads'
    // CPU time can be read apart from the load generator's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("iotsrv-rt")
        .enable_all()
        .build()
        .unwrap();
    let mut config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
    config.tls = TlsSource::Files {
        cert: tls.chain.clone(),
        key: tls.key.clone(),
    };
    config.imports = vec![hub_file];
    let server = server_rt.block_on(Server::start(config)).unwrap();
    let mosquitto = match Mosquitto::start(&dir.join("mosquitto"), &fleet.password_lines(), &tls) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("broker bench: {e}");
            return ExitCode::from(2);
        }
    };
    let client = client_tls(&std::fs::read(&tls.ca).unwrap()).unwrap();
    let mosquitto_pid = mosquitto.pid();
    let mut sides = [
        Side {
            target: Target {
                name: "iot-server".into(),
                addr: server.mqtt_addr(),
                tls: Arc::clone(&client),
            },
            cpu: Box::new(|| cpu::own_threads(&["iotsrv-rt", "iot-server"])),
            admissions: vec![],
            admission_cpu: vec![],
            messages: vec![],
            message_cpu: vec![],
        },
        Side {
            target: Target {
                name: "mosquitto".into(),
                addr: mosquitto.addr,
                tls: Arc::clone(&client),
            },
            cpu: Box::new(move || cpu::process(mosquitto_pid)),
            admissions: vec![],
            admission_cpu: vec![],
            messages: vec![],
            message_cpu: vec![],
        },
    ];

    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();
    println!(
        "broker: iot-server {} vs {} ({}), {} CPUs, load average at start {}",
        env!("CARGO_PKG_VERSION"),
        Mosquitto::version().unwrap_or_else(|| "mosquitto".into()),
        mosquitto.addr,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
    );
    println!(
        "  {rounds} rounds; admissions: {total} per server per round, {concurrency} at a time, over {fleet_size} devices; telemetry: {devices} devices x {per_device} QoS 1 messages of {payload_len} bytes, window {window}"
    );
    println!("  state and files in {}", dir.display());

    // Both servers must really check the credential: the right token admitted, a token signed
    // with another device's key refused.
    let wrong = fleet.with_wrong_key(0, expiry).unwrap().unwrap();
    for side in &sides {
        let right = load_rt.block_on(admit_once(
            &side.target,
            &fleet.devices[0],
            bounds.io_timeout,
        ));
        let refused = load_rt.block_on(admit_once(&side.target, &wrong, bounds.io_timeout));
        let tls = load_rt
            .block_on(async {
                let mut client = MqttClient::connect(&side.target, bounds.io_timeout).await?;
                client.mqtt_connect(&fleet.devices[1]).await?;
                let tls = client.tls_parameters();
                client.disconnect().await;
                Ok::<_, LoadError>(tls)
            })
            .unwrap_or_else(|e| format!("handshake failed: {e}"));
        match (right, refused) {
            (Ok(()), Err(LoadError::Refused(code))) => println!(
                "  {}: {tls}; the device's token admitted, a token with another key refused (CONNACK {code})",
                side.target.name
            ),
            (right, refused) => {
                eprintln!(
                    "broker bench: {} does not check credentials as required: right token {right:?}, wrong key {refused:?}",
                    side.target.name
                );
                return ExitCode::FAILURE;
            }
        }
    }
    // Warm-up, not recorded.
    for side in &sides {
        let warm = load_rt.block_on(admissions(
            &side.target,
            Arc::clone(&fleet.devices),
            total / 10,
            concurrency,
            bounds,
        ));
        if !warm.is_clean() {
            eprintln!(
                "broker bench: warm-up against {} failed: {warm:?}",
                side.target.name
            );
            return ExitCode::FAILURE;
        }
    }

    let load = TelemetryLoad {
        per_device,
        window,
        payload: vec![b'x'; payload_len].into(),
    };
    let mut clean = true;
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for &i in order.iter().filter(|_| run_admissions) {
            let side = &mut sides[i];
            std::thread::sleep(Duration::from_millis(500));
            let before = ((side.cpu)(), loadgen_cpu());
            let run: AdmissionRun = load_rt.block_on(admissions(
                &side.target,
                Arc::clone(&fleet.devices),
                total,
                concurrency,
                bounds,
            ));
            let spent = cpu::delta(before.0, (side.cpu)());
            let client_spent = cpu::delta(before.1, loadgen_cpu());
            clean &= run.is_clean();
            side.admissions.push(run.per_second());
            side.admission_cpu.push(micros_per(spent, run.admitted));
            println!(
                "  round {} admissions {:>10}: {:>6.0}/s ({} admitted, {} refused, {} failed{}), CPU per admission: server {}, load generator {}",
                round + 1,
                side.target.name,
                run.per_second(),
                run.admitted,
                run.refused,
                run.failed,
                run.first_error
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
                show_cpu(micros_per(spent, run.admitted)),
                show_cpu(micros_per(client_spent, run.admitted)),
            );
        }
        for &i in order.iter().filter(|_| run_telemetry) {
            let side = &mut sides[i];
            std::thread::sleep(Duration::from_millis(500));
            let clients = match load_rt.block_on(connect_all(
                &side.target,
                &fleet.devices[..devices],
                bounds,
            )) {
                Ok(clients) => clients,
                Err(e) => {
                    eprintln!(
                        "broker bench: {} devices could not connect to {}: {e}",
                        devices, side.target.name
                    );
                    return ExitCode::FAILURE;
                }
            };
            let before = ((side.cpu)(), loadgen_cpu());
            let run: TelemetryRun = load_rt.block_on(telemetry(clients, &load, bounds));
            let spent = cpu::delta(before.0, (side.cpu)());
            let client_spent = cpu::delta(before.1, loadgen_cpu());
            clean &= run.is_clean(devices, per_device);
            side.messages.push(run.per_second());
            side.message_cpu.push(micros_per(spent, run.acked));
            println!(
                "  round {} telemetry  {:>10}: {:>6.0}/s ({} acked of {} sent, {} devices, {} failed{}), CPU per message: server {}, load generator {}",
                round + 1,
                side.target.name,
                run.per_second(),
                run.acked,
                run.sent,
                run.devices,
                run.failed,
                run.first_error
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
                show_cpu(micros_per(spent, run.acked)),
                show_cpu(micros_per(client_spent, run.acked)),
            );
        }
    }

    println!("load average at end {}", loadavg());
    println!(
        "| load | iot-server median | mosquitto median | ratio of medians | median of per-round ratios | server CPU per op, iot-server / mosquitto | goal |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let [ours, theirs] = &sides;
    let rows = [
        (
            "TLS admissions/s",
            &ours.admissions,
            &theirs.admissions,
            &ours.admission_cpu,
            &theirs.admission_cpu,
            1.0,
        ),
        (
            "QoS 1 messages/s",
            &ours.messages,
            &theirs.messages,
            &ours.message_cpu,
            &theirs.message_cpu,
            0.5,
        ),
    ];
    let mut goals = true;
    for (name, a, b, ca, cb, goal) in rows {
        if a.is_empty() {
            continue;
        }
        let ratio = median(a) / median(b);
        let per_round: Vec<f64> = a.iter().zip(b.iter()).map(|(x, y)| x / y).collect();
        let met = ratio >= goal;
        goals &= met;
        println!(
            "| {name} | {:.0} | {:.0} | {ratio:.2}x | {:.2}x | {} / {} | >= {goal:.1}x: {} |",
            median(a),
            median(b),
            median(&per_round),
            show_cpu(median(ca)),
            show_cpu(median(cb)),
            if met { "met" } else { "NOT met" }
        );
    }

    drop(mosquitto);
    server_rt.block_on(server.shutdown());
    drop(load_rt);
    let _ = std::fs::remove_dir_all(&dir);
    if !clean {
        eprintln!(
            "broker bench: some connections or messages failed (see the rounds above); the numbers are not valid"
        );
        return ExitCode::FAILURE;
    }
    if !goals {
        println!("(a goal is not met)");
    }
    ExitCode::SUCCESS
}
