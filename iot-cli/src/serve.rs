//! `iot serve`: a local IoT Hub + DPS over TLS for the unmodified SDKs (iot-server), and
//! `iot serve export` / `iot serve events` over its state directory. This module only parses
//! arguments, runs the runtime, handles signals and prints.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use iot_server::store::{SqliteStore, Store as _, TelemetryFilter, TelemetryMessage};
use iot_server::{Limits, Server, ServerConfig, ServerEvent, TlsSource};

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
    /// Hub file (examples/hub.json format) or DPS file to upsert at start; repeatable.
    #[arg(long = "import", value_name = "FILE")]
    imports: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// MQTT over TLS port (0 picks a free one).
    #[arg(long, default_value_t = 8883)]
    mqtt_port: u16,
    /// HTTPS port (0 picks a free one); reserved, the HTTPS listener is not served yet.
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
    /// One JSON object first (addresses, CA, hubs, DPS), then one JSON line per decision.
    #[arg(long)]
    json: bool,
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
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> crate::Exit {
    match args.command {
        Some(Sub::Export(e)) => export(&e),
        Some(Sub::Events(e)) => events(&e),
        None => serve(args.run),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, std::io::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn serve(args: RunArgs) -> crate::Exit {
    let Some(state) = args.state else {
        return crate::output::bad_input("--state DIR is required");
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
        Err(e) => return crate::output::bad_input(format!("cannot start the runtime: {e}")),
    };
    rt.block_on(async move {
        let server = match Server::start(config).await {
            Ok(server) => server,
            Err(e) => return crate::output::bad_input(e),
        };
        let mut events = server.events();
        let summary = server.summary();
        if args.json {
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
                    Ok(event) => emit(&format_event(&event, args.json)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        emit(&format!("... {n} events not shown (output too slow)\n"));
                    }
                    Err(_) => break,
                },
            }
        }
        server.shutdown().await;
        crate::Exit::Ok
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

/// Writes to stdout, ignoring a closed pipe.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn export(args: &ExportArgs) -> crate::Exit {
    match iot_server::export(&args.state, &args.out) {
        Ok(files) => {
            for file in files {
                emit(&format!("{}\n", file.display()));
            }
            crate::Exit::Ok
        }
        Err(e) => crate::output::bad_input(e),
    }
}

fn events(args: &EventsArgs) -> crate::Exit {
    let mut store = match SqliteStore::open_existing(&args.state) {
        Ok(store) => store,
        Err(e) => return crate::output::bad_input(e),
    };
    let mut filter = TelemetryFilter {
        hub: args.hub.clone(),
        device_id: args.device.clone(),
        after: 0,
        limit: 10_000,
    };
    loop {
        let batch = match store.telemetry(&filter) {
            Ok(batch) => batch,
            Err(e) => return crate::output::bad_input(e),
        };
        for (seq, message) in &batch {
            emit(&format_message(*seq, message, args.json));
            filter.after = *seq;
        }
        if batch.len() < filter.limit {
            if !args.follow {
                return crate::Exit::Ok;
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
