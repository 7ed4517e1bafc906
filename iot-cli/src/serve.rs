//! `iot serve`: a local IoT Hub + DPS over TLS for the unmodified SDKs (iot-server), and
//! `iot serve export` / `iot serve events` over its state directory. This module checks the
//! arguments, reads the import files and TLS material (files or stdin), runs the runtime,
//! handles signals and prints.
//!
//! A running server keeps serving when its stdout goes away (see [`log`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use iot_server::engine::import::ImportFile;
use iot_server::store::{SqliteStore, Store as _, Write};
use iot_server::{Limits, Server, ServerConfig, TlsSource};

use crate::input::{file_path, one_stdin, read_text};
use crate::{Exit, Failure, Out, Outcome};

mod log;
mod stored;
mod tls_copy;

/// Arguments of `iot serve`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Write the stored hubs and DPS instance back as import files.
    Export(stored::ExportArgs),
    /// Print stored telemetry, oldest first (with --follow, new messages as they arrive).
    Events(stored::EventsArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// State directory: the database and tls/ (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    state: Option<PathBuf>,
    /// Hub file or DPS file (the formats `iot serve export` writes) to upsert at start; a
    /// path, @PATH or - for stdin; repeatable.
    #[arg(long = "import", value_name = "FILE")]
    imports: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// MQTT over TLS port (0 picks a free one).
    #[arg(long, value_name = "PORT", default_value_t = 8883)]
    mqtt_port: u16,
    /// HTTPS port: MQTT over WebSockets, Registry Manager and DPS service APIs, DPS and
    /// telemetry over HTTPS (0 picks a free one).
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    https_port: u16,
    /// Server certificate chain (PEM); a path, @PATH or -. Default: a local CA in STATE/tls/.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM) of --tls-cert; a path, @PATH or -.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Most simultaneous connections (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
}

/// Runs `iot serve` (with `--json`: one JSON line when listening, then one per decision),
/// `iot serve export` or `iot serve events`.
pub(crate) fn run(args: Args, out: Out) -> Outcome {
    match args.command {
        Some(Sub::Export(e)) => stored::export(&e, out),
        Some(Sub::Events(e)) => stored::events(&e, out),
        None => serve(args.run, out),
    }
}

/// Refuses what cannot work before anything is read or bound.
fn check(args: &RunArgs) -> Result<PathBuf, Failure> {
    let state = args
        .state
        .clone()
        .ok_or_else(|| Failure::bad("missing_argument", "--state DIR is required"))?;
    if state.as_os_str().is_empty() {
        return Err(Failure::usage("--state must not be empty"));
    }
    if state.exists() && !state.is_dir() {
        return Err(Failure::usage(format_args!(
            "--state {}: is a file; give a directory (created if missing)",
            state.display()
        )));
    }
    if args.mqtt_port != 0 && args.mqtt_port == args.https_port {
        return Err(Failure::usage(format_args!(
            "--mqtt-port and --https-port are both {}; give two different ports (or 0 to \
             pick free ones)",
            args.mqtt_port
        )));
    }
    let mut readers: Vec<(&str, Option<&str>)> = args
        .imports
        .iter()
        .map(|path| ("--import", path.to_str()))
        .collect();
    readers.push((
        "--tls-cert",
        args.tls_cert.as_deref().and_then(Path::to_str),
    ));
    readers.push(("--tls-key", args.tls_key.as_deref().and_then(Path::to_str)));
    one_stdin(&readers)?;
    Ok(state)
}

/// Reads and checks every `--import` (every rule of the decision crates) into store writes.
fn read_imports(paths: &[PathBuf]) -> Result<Vec<Vec<Write>>, Failure> {
    paths
        .iter()
        .map(|path| {
            let text = read_text("--import", path)?;
            let shown = match file_path(path) {
                p if p == Path::new("-") => "stdin".to_owned(),
                p => p.display().to_string(),
            };
            ImportFile::parse(&text)
                .map(|file| file.writes())
                .map_err(|reason| {
                    Failure::bad("invalid_import", format_args!("--import {shown}: {reason}"))
                })
        })
        .collect()
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::bad("runtime", format_args!("cannot start the runtime: {e}")))
}

fn serve(args: RunArgs, out: Out) -> Outcome {
    let state = check(&args)?;
    let imports = read_imports(&args.imports)?;
    // Read before the state directory is touched: a file that cannot be read changes nothing.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_copy::TlsInput::read(cert, key)?),
        _ => None,
    };
    std::fs::create_dir_all(&state).map_err(|err| Failure::unwritable(&state, &err))?;
    let tls = tls.map(|input| input.place(&state)).transpose()?;
    let mut store = SqliteStore::open(&state).map_err(|e| Failure::bad("state", e))?;
    for writes in &imports {
        store.apply(writes).map_err(|e| Failure::bad("state", e))?;
    }
    let mut config = ServerConfig::new(state);
    config.bind = args.bind;
    config.mqtt_port = args.mqtt_port;
    config.https_port = args.https_port;
    if let Some(tls) = &tls {
        config.tls = TlsSource::Files {
            cert: tls.cert(),
            key: tls.key(),
        };
    }
    if let Some(max) = args.max_connections {
        config.limits = Limits {
            max_connections: usize::try_from(max).unwrap_or(usize::MAX),
            ..config.limits
        };
    }
    runtime()?.block_on(async move {
        let started = Server::start_with_store(config, store).await;
        // The server has read its TLS material: a copy taken from stdin goes now.
        drop(tls);
        let server = started.map_err(|e| stored::server_failure(&e))?;
        let mut log = log::Log::new(out);
        log.listening(server.summary());
        let mut events = server.events();
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                event = events.recv() => match event {
                    Ok(event) => log.event(&event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => log.lagged(n),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        server.shutdown().await;
        Ok(Exit::Ok)
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
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
