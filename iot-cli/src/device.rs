//! `iot device provision | send | run`: a device over real MQTT/TLS (or MQTT over WebSockets)
//! driven by `iot-device`. This module checks arguments, runs the runtime and prints; the
//! device logic is the crate's.
//!
//! Exit status: 0 success, 1 refused / disabled / failed (the reason is printed), 2 bad input
//! or output that could not be written. `provision` and `send` print one result (one JSON
//! object with `--json`: `accepted`, and on a refusal `reason` and `message`); `run` prints one
//! line per step (one JSON object per line) and ends on a closed stdout like every command.

use std::time::Duration;

use iot_device::{
    AssignmentStore as _, DeviceStep, Error, FileStore, HubClient, HubSettings, Message,
    provision_or_connect, provision_with,
};
use serde_json::{Value, json};

use crate::input::one_stdin;
use crate::{Exit, Failure, Out, Outcome};

mod args;
mod inputs;
mod report;

use args::{Chosen, Credentials};
pub(crate) use args::{ProvisionArgs, RunArgs, SendArgs, check_device_id};
use report::{assignment_json, describe_step, print_step, progress};

/// The device commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Register with DPS and print the assigned hub, device ID and substatus.
    #[command(
        override_usage = "iot device provision --id-scope <SCOPE> -r <ID> <CREDENTIAL> \
                                [OPTIONS]\n       \
                                CREDENTIAL: --symmetric-key <KEY> | --group-key <KEY> | \
                                --cert <FILE> --key <FILE>"
    )]
    Provision(ProvisionArgs),
    /// Connect to a hub and send telemetry; exit 0 only when every message was acknowledged.
    #[command(
        override_usage = "iot device send --hub <HOST> -d <ID> --message <TEXT> \
                                <CREDENTIAL> [OPTIONS]\n       \
                                CREDENTIAL: --symmetric-key <KEY> | --cert <FILE> --key <FILE>"
    )]
    Send(SendArgs),
    /// Provision if needed, else connect (re-provisioning when the hub refuses), then send a
    /// message every --interval until stopped (Ctrl-C, SIGTERM) or --count messages were sent.
    #[command(
        override_usage = "iot device run --id-scope <SCOPE> -r <ID> --state <FILE> \
                                <CREDENTIAL> [OPTIONS]\n       \
                                CREDENTIAL: --symmetric-key <KEY> | --group-key <KEY> | \
                                --cert <FILE> --key <FILE>"
    )]
    Run(RunArgs),
}

/// The credential flags of each command: clap id, flag, environment variable, choice.
const DPS_CREDENTIALS: [(&str, &str, Option<&str>, Chosen); 3] = [
    (
        "symmetric_key",
        "--symmetric-key",
        Some("IOT_SYMMETRIC_KEY"),
        Chosen::SymmetricKey,
    ),
    (
        "group_key",
        "--group-key",
        Some("IOT_GROUP_KEY"),
        Chosen::GroupKey,
    ),
    ("cert", "--cert", None, Chosen::Cert),
];
const HUB_CREDENTIALS: [(&str, &str, Option<&str>, Chosen); 2] = [
    (
        "symmetric_key",
        "--symmetric-key",
        Some("IOT_SYMMETRIC_KEY"),
        Chosen::SymmetricKey,
    ),
    ("cert", "--cert", None, Chosen::Cert),
];

/// Runs one `iot device` command; `matches` (the whole command line) tells a credential flag
/// from an environment variable.
pub(crate) fn run(command: Command, matches: &clap::ArgMatches, out: Out) -> Outcome {
    let credentials = Credentials::new(matches);
    // Every value is checked, and stdin claimed by at most one flag, before a socket opens.
    let chosen = match &command {
        Command::Provision(args) => {
            args.dps.check()?;
            one_stdin(&args.dps.stdin_readers())?;
            credentials.choose(&DPS_CREDENTIALS)?
        }
        Command::Send(args) => {
            args.check()?;
            one_stdin(&args.stdin_readers())?;
            credentials.choose(&HUB_CREDENTIALS)?
        }
        Command::Run(args) => {
            args.check()?;
            one_stdin(&args.dps.stdin_readers())?;
            credentials.choose(&DPS_CREDENTIALS)?
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Failure::bad("runtime", format_args!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        match command {
            Command::Provision(args) => provision(args, chosen, out).await,
            Command::Send(args) => send(args, chosen, out).await,
            Command::Run(args) => run_loop(args, chosen, out).await,
        }
    })
}

/// Bad input (status 2) for configuration errors; a rejection (status 1, `reason` = the
/// error's code) for everything the service or the network said, with `extra` fields.
fn fail(error: &Error, out: Out, mut extra: Value) -> Outcome {
    match error {
        Error::Invalid(_) | Error::Sas(_) | Error::Dps(_) | Error::Store(_) => {
            Err(inputs::bad(error))
        }
        _ => {
            extra["refused"] = json!(error.is_refused());
            extra["retryable"] = json!(error.is_retryable());
            out.rejected("failed", error.code(), &error.to_string(), extra)
        }
    }
}

async fn provision(args: ProvisionArgs, chosen: Chosen, out: Out) -> Outcome {
    let options = inputs::provisioning(&args.dps, chosen)?;
    let json = out.is_json();
    let outcome = provision_with(&options, |step| {
        if !json {
            progress(&describe_step(step));
        }
    })
    .await;
    match outcome {
        Ok(a) => out.accepted(
            &format!(
                "assigned hub: {}\ndevice id:    {}\nsubstatus:    {}",
                a.assigned_hub,
                a.device_id,
                a.substatus.as_deref().unwrap_or("(none)")
            ),
            assignment_json(&a),
        ),
        Err(e) => fail(&e, out, json!({})),
    }
}

async fn send(args: SendArgs, chosen: Chosen, out: Out) -> Outcome {
    let options = inputs::hub(&args, chosen)?;
    let message = inputs::message(&args.message, &args.properties)?;
    let fields = |acknowledged: u32| {
        json!({
            "hub": args.hub,
            "deviceId": args.device_id,
            "moduleId": args.module_id,
            "count": args.count,
            "acknowledged": acknowledged,
        })
    };
    let mut client = match HubClient::connect(options).await {
        Ok(c) => c,
        Err(e) => return fail(&e, out, fields(0)),
    };
    let mut acknowledged = 0u32;
    let mut error = None;
    for _ in 0..args.count {
        match client.send(&message).await {
            Ok(()) => acknowledged += 1,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    client.close().await;
    if let Some(e) = error {
        if !out.is_json() {
            progress(&format!(
                "{acknowledged} of {} messages acknowledged",
                args.count
            ));
        }
        return fail(&e, out, fields(acknowledged));
    }
    out.accepted(
        &format!(
            "{acknowledged} of {} messages acknowledged by {}",
            args.count, args.hub
        ),
        fields(acknowledged),
    )
}

/// Provision-or-connect, printing each step; the first step that cannot be printed (a closed
/// pipe, a full disk) ends the run once the lifecycle call returns.
async fn connect(
    provisioning: &iot_device::ProvisioningOptions,
    settings: &HubSettings,
    store: &mut FileStore,
    out: Out,
) -> Result<Result<iot_device::Connected, Error>, Failure> {
    let mut unprinted = None;
    let connected = provision_or_connect(provisioning, settings, store, |step: &DeviceStep| {
        if unprinted.is_none() {
            unprinted = print_step(out, step).err();
        }
    })
    .await;
    match unprinted {
        Some(failure) => {
            if let Ok(c) = connected {
                c.client.close().await;
            }
            Err(failure)
        }
        None => Ok(connected),
    }
}

/// The last line of a run that ended on a refusal or a failure.
fn run_failed(error: &Error, out: Out, sent: u32) -> Outcome {
    let mut extra = json!({ "event": "failed", "sent": sent });
    crate::when::put_time(&mut extra, "time", crate::when::now_or(None));
    fail(error, out, extra)
}

async fn run_loop(args: RunArgs, chosen: Chosen, out: Out) -> Outcome {
    let provisioning = inputs::provisioning(&args.dps, chosen)?;
    let mut settings = HubSettings {
        gateway: args.gateway.clone(),
        ..HubSettings::default()
    };
    settings.endpoint.transport = provisioning.endpoint.transport;
    settings.endpoint.port = args.hub_port;
    settings.endpoint.trust = provisioning.endpoint.trust.clone();
    let mut store = FileStore::new(&args.state);
    let mut connected = match connect(&provisioning, &settings, &mut store, out).await? {
        Ok(c) => c,
        Err(e) => return run_failed(&e, out, 0),
    };
    let message = Message::new(args.message.clone());
    let mut sent = 0u32;
    let interval = Duration::from_secs(args.interval);
    let stop = crate::serve::shutdown_signal();
    tokio::pin!(stop);
    while args.count.is_none_or(|n| sent < n) {
        if sent > 0 {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = &mut stop => break,
            }
        }
        match connected.client.send(&message).await {
            Ok(()) => {
                sent += 1;
                let printed = report::line(
                    out,
                    "sent",
                    &format!("hub: message {sent} acknowledged"),
                    json!({ "count": sent }),
                );
                if let Err(failure) = printed {
                    connected.client.close().await;
                    return Err(failure);
                }
            }
            Err(Error::Refused { code }) => {
                // The hub no longer admits the device: back to DPS, as the SDK samples do.
                print_step(
                    out,
                    &DeviceStep::Refused {
                        hub: connected.assignment.assigned_hub.clone(),
                        code,
                    },
                )?;
                let _ = store.clear();
                connected = match connect(&provisioning, &settings, &mut store, out).await? {
                    Ok(c) => c,
                    Err(e) => return run_failed(&e, out, sent),
                };
            }
            Err(e) => return run_failed(&e, out, sent),
        }
    }
    connected.client.close().await;
    Ok(Exit::Ok)
}
