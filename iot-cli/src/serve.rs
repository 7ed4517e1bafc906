//! `iot serve`: a local IoT Hub + DPS over TLS for the unmodified SDKs (iot-server), and
//! `iot serve export` / `iot serve events` over its state directory. This module only parses
//! arguments, runs the runtime, handles signals and prints.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use iot_server::store::{SqliteStore, Store as _, TelemetryFilter, TelemetryMessage};
use iot_server::{Limits, Server, ServerConfig, ServerEvent, TlsSource};

use crate::{Exit, Failure, Out, Outcome};

/// Arguments of `iot serve`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Write the stored hubs and DPS instance back as import files.
    Export(ExportArgs),
    /// Print stored telemetry.
    Events(EventsArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// State directory: the database and tls/ (created if missing).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Hub file or DPS file (the formats `iot serve export` writes) to upsert at start;
    /// repeatable.
    #[arg(long = "import", value_name = "FILE")]
    imports: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// MQTT over TLS port (0 picks a free one).
    #[arg(long, default_value_t = 8883)]
    mqtt_port: u16,
    /// HTTPS port: MQTT over WebSockets, Registry Manager and DPS service APIs, DPS and
    /// telemetry over HTTPS (0 picks a free one).
    #[arg(long, default_value_t = 443)]
    https_port: u16,
    /// Server certificate chain (PEM); default: a local CA in STATE/tls/.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Most simultaneous connections.
    #[arg(long)]
    max_connections: Option<usize>,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// Output directory (created).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct EventsArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// Only this hub.
    #[arg(long)]
    hub: Option<String>,
    /// Only this device.
    #[arg(long)]
    device: Option<String>,
    /// Keep printing new messages until interrupted.
    #[arg(long)]
    follow: bool,
}

/// Runs `iot serve` (with `--json`: one JSON object first, then one JSON line per decision),
/// `iot serve export` or `iot serve events`.
pub(crate) fn run(args: Args, out: Out) -> Outcome {
    match args.command {
        Some(Sub::Export(e)) => export(&e, out),
        Some(Sub::Events(e)) => events(&e, out),
        None => serve(args.run, out.is_json()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, std::io::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn serve(args: RunArgs, json: bool) -> Outcome {
    let Some(state) = args.state else {
        return Err(Failure::usage("--state DIR is required"));
    };
    let mut config = ServerConfig::new(state);
    config.imports = args.imports;
    config.bind = args.bind;
    config.mqtt_port = args.mqtt_port;
    config.https_port = args.https_port;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = TlsSource::Files { cert, key };
    }
    if let Some(max) = args.max_connections {
        config.limits = Limits {
            max_connections: max,
            ..config.limits
        };
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            return Err(Failure::bad(
                "runtime",
                format!("cannot start the runtime: {e}"),
            ));
        }
    };
    rt.block_on(async move {
        let server = match Server::start(config).await {
            Ok(server) => server,
            Err(e) => return Err(Failure::bad("server_start", e)),
        };
        let mut events = server.events();
        let summary = server.summary();
        if json {
            let mut value = serde_json::to_value(summary).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("event".into(), "listening".into());
            }
            emit(&format!("{value}\n"));
        } else {
            emit(&describe_summary(summary));
        }
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                event = events.recv() => match event {
                    Ok(event) => emit(&format_event(&event, json)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        emit(&format!("... {n} events not shown (output too slow)\n"));
                    }
                    Err(_) => break,
                },
            }
        }
        server.shutdown().await;
        Ok(Exit::Ok)
    })
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn describe_summary(summary: &iot_server::Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "iot serve: MQTT over TLS on {}", summary.mqtt);
    if let Some(ca) = &summary.ca_path {
        let _ = writeln!(out, "  devices trust the local CA {}", ca.display());
    }
    for hub in &summary.hubs {
        let _ = writeln!(out, "  hub {}", hub.host_name);
        if let Some(cs) = &hub.owner_connection_string {
            let _ = writeln!(out, "    owner connection string: {cs}");
        }
    }
    if let Some(dps) = &summary.dps {
        let _ = writeln!(
            out,
            "  dps id scope {} (device endpoint {}, service {})",
            dps.id_scope, dps.device_endpoint, dps.service_host_name
        );
        if let Some(cs) = &dps.service_connection_string {
            let _ = writeln!(out, "    service connection string: {cs}");
        }
    }
    for warning in &summary.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = writeln!(out, "stop with Ctrl-C (SIGINT) or SIGTERM");
    out
}

fn format_event(event: &ServerEvent, json: bool) -> String {
    if json {
        return serde_json::to_string(event).map_or_else(|_| String::new(), |s| s + "\n");
    }
    match event {
        ServerEvent::Connect {
            endpoint,
            target,
            identity,
            allowed,
            code,
            reason,
            peer,
            ..
        } => format!(
            "connect {} {endpoint} {target} {identity} from {peer}: {code}: {reason}\n",
            if *allowed { "ALLOWED" } else { "DENIED" }
        ),
        ServerEvent::Registration {
            registration_id,
            status,
            reason,
            ..
        } => format!("dps registration {registration_id}: {status}: {reason}\n"),
        ServerEvent::Telemetry {
            hub,
            device_id,
            module_id,
            size,
        } => format!(
            "telemetry {hub} {device_id}{}: {size} bytes stored\n",
            module_id
                .as_deref()
                .map(|m| format!("/{m}"))
                .unwrap_or_default()
        ),
        ServerEvent::Disconnect {
            identity,
            reason,
            peer,
        } => format!("disconnect {identity} from {peer}: {reason}\n"),
        _ => format!("{event:?}\n"),
    }
}

/// Writes the server's log to stdout. A closed pipe or a full disk must not stop a running
/// server (devices keep being served), so write errors are dropped here.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn export(args: &ExportArgs, out: Out) -> Outcome {
    let files =
        iot_server::export(&args.state, &args.out).map_err(|e| Failure::bad("export", e))?;
    out.print(
        || {
            files
                .iter()
                .map(|file| format!("{}\n", file.display()))
                .collect()
        },
        || serde_json::json!({ "files": files }),
    )?;
    Ok(Exit::Ok)
}

fn events(args: &EventsArgs, out: Out) -> Outcome {
    let mut store =
        SqliteStore::open_existing(&args.state).map_err(|e| Failure::bad("state", e))?;
    let mut filter = TelemetryFilter {
        hub: args.hub.clone(),
        device_id: args.device.clone(),
        after: 0,
        limit: 10_000,
    };
    loop {
        let batch = store
            .telemetry(&filter)
            .map_err(|e| Failure::bad("state", e))?;
        for (seq, message) in &batch {
            out.text(&format_message(*seq, message, out.is_json()))?;
            filter.after = *seq;
        }
        if batch.len() < filter.limit {
            if !args.follow {
                return Ok(Exit::Ok);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn format_message(seq: u64, message: &TelemetryMessage, json: bool) -> String {
    if json {
        let mut value = serde_json::to_value(message).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("seq".into(), seq.into());
            let map: serde_json::Map<String, serde_json::Value> = message
                .property_map()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
            object.insert("propertyMap".into(), map.into());
            object.insert(
                "time".into(),
                iot_dps_service::iso8601(message.received_ms / 1000).into(),
            );
        }
        return format!("{value}\n");
    }
    let body = String::from_utf8(message.body.clone())
        .unwrap_or_else(|_| format!("<{} bytes of binary>", message.body.len()));
    let properties: Vec<String> = message
        .property_map()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {}{} [{}] {body}\n",
        iot_dps_service::iso8601(message.received_ms / 1000),
        message.hub,
        message.device_id,
        message
            .module_id
            .as_deref()
            .map(|m| format!("/{m}"))
            .unwrap_or_default(),
        properties.join(" ")
    )
}
