//! `iot serve events` and `iot serve export`: read a state directory (also while a server runs
//! on it) and print the stored telemetry, or write the hubs and the DPS instance back as import
//! files.

use std::path::PathBuf;
use std::time::Duration;

use iot_server::store::{SqliteStore, Store as _, TelemetryFilter, TelemetryMessage};
use serde_json::{Value, json};

use crate::device::check_device_id;
use crate::when::{put_time, show};
use crate::{Exit, Failure, Out, Outcome};

/// Arguments of `iot serve export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// State directory of `iot serve`.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Output directory (created): HUB.hub.json for each hub and dps.json.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
}

/// Arguments of `iot serve events`.
#[derive(Debug, clap::Args)]
pub(crate) struct EventsArgs {
    /// State directory of `iot serve`.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Only this hub (host name).
    #[arg(long, value_name = "HOST")]
    hub: Option<String>,
    /// Only this device.
    #[arg(short = 'd', long, visible_alias = "device-id", value_name = "ID")]
    device: Option<String>,
    /// Keep printing new messages until interrupted.
    #[arg(long)]
    follow: bool,
}

/// A server error as status 2, with a stable reason.
pub(super) fn server_failure(error: &iot_server::Error) -> Failure {
    use iot_server::Error;
    let reason = match error {
        Error::Io { .. } => "file_error",
        Error::Bind { .. } => "cannot_listen",
        Error::Import { .. } => "invalid_import",
        Error::Tls(_) => "invalid_tls",
        Error::Store(_) => "state",
        Error::State(_) => "invalid_state",
        _ => "server",
    };
    Failure::bad(reason, error)
}

fn store_failure(error: &iot_server::store::StoreError) -> Failure {
    Failure::bad("state", error)
}

/// `iot serve export`: one file per hub and `dps.json`; prints their paths.
pub(super) fn export(args: &ExportArgs, out: Out) -> Outcome {
    if args.out.as_os_str().is_empty() {
        return Err(Failure::usage("--out must not be empty"));
    }
    if args.out.exists() && !args.out.is_dir() {
        return Err(Failure::usage(format_args!(
            "--out {}: is a file; give a directory (created if missing)",
            args.out.display()
        )));
    }
    let files = iot_server::export(&args.state, &args.out).map_err(|e| server_failure(&e))?;
    out.print(
        || {
            files
                .iter()
                .map(|file| format!("{}\n", file.display()))
                .collect()
        },
        || json!({ "files": files }),
    )?;
    Ok(Exit::Ok)
}

/// `iot serve events`: stored telemetry in arrival order, one line per message.
pub(super) fn events(args: &EventsArgs, out: Out) -> Outcome {
    if let Some(hub) = &args.hub {
        iot_hub_auth::validate_host_name(hub)
            .map_err(|err| Failure::bad("invalid_host_name", format_args!("--hub: {err}")))?;
    }
    if let Some(device) = &args.device {
        check_device_id("--device", device)?;
    }
    let mut store = SqliteStore::open_existing(&args.state).map_err(|e| store_failure(&e))?;
    let mut filter = TelemetryFilter {
        hub: args.hub.clone(),
        device_id: args.device.clone(),
        after: 0,
        limit: 10_000,
    };
    loop {
        let batch = store.telemetry(&filter).map_err(|e| store_failure(&e))?;
        for (seq, message) in &batch {
            out.print(|| describe_message(message), || message_json(*seq, message))?;
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

fn received_secs(message: &TelemetryMessage) -> u64 {
    message.received_ms / 1000
}

/// `$defs/serveEventsLine`: the stored message with `seq`, `propertyMap` and `received`
/// (+`Unix`).
fn message_json(seq: u64, message: &TelemetryMessage) -> Value {
    let mut object = serde_json::to_value(message).unwrap_or_else(|_| json!({}));
    if let Some(map) = object.as_object_mut() {
        map.remove("receivedMs");
        map.insert("seq".into(), seq.into());
        let properties: serde_json::Map<String, Value> = message
            .property_map()
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
        map.insert("propertyMap".into(), properties.into());
    }
    put_time(&mut object, "received", received_secs(message));
    object
}

/// `{time (unix)} {hub} {device}[/{module}] [{properties}] {body}`.
fn describe_message(message: &TelemetryMessage) -> String {
    let body = String::from_utf8(message.body.clone())
        .unwrap_or_else(|_| format!("<{} bytes of binary>", message.body.len()));
    let properties: Vec<String> = message
        .property_map()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {}{} [{}] {body}\n",
        show(received_secs(message)),
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
