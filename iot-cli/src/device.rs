//! `iot device provision | send | run`: a device over real MQTT/TLS (or MQTT over WebSockets)
//! driven by `iot-device`. This module parses arguments, reads files, runs the runtime and
//! prints; the device logic is the crate's.
//!
//! Exit status: 0 success, 1 refused / disabled / failed (the reason is printed), 2 bad input.

use std::path::Path;
use std::time::Duration;

use iot_device::{
    Assignment, Credential, DeviceStep, Endpoint, Error, FileStore, HubClient, HubOptions,
    HubSettings, Message, ProvisioningOptions, ProvisioningStep, ServerTrust, Transport,
    provision_or_connect, provision_with,
};
use serde_json::{Value, json};

use crate::input::{read_file, secret, secret_opt};
use crate::{Exit, Failure, Out, Outcome};

mod args;

use args::DpsArgs;
pub(crate) use args::{ProvisionArgs, RunArgs, SendArgs};

/// The device commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Register with DPS and print the assigned hub, device ID and substatus.
    Provision(ProvisionArgs),
    /// Connect to a hub and send telemetry; exit 0 only when every message was acknowledged.
    Send(SendArgs),
    /// Provision if needed, else connect (re-provisioning when the hub refuses), then send a
    /// message every --interval seconds until stopped or --count messages were sent.
    Run(RunArgs),
}

/// Runs one `iot device` command.
pub(crate) fn run(command: Command, out: Out) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Failure::bad("runtime", format_args!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        match command {
            Command::Provision(args) => provision(args, out).await,
            Command::Send(args) => send(args, out).await,
            Command::Run(args) => run_loop(args, out).await,
        }
    })
}

/// Bad input (status 2) for configuration errors; a rejection (status 1, `reason` = the
/// error's code) for everything the service or the network said.
fn fail(error: &Error, out: Out) -> Outcome {
    match error {
        Error::Invalid(_) | Error::Sas(_) | Error::Dps(_) | Error::Store(_) => {
            Err(Failure::bad(error.code(), error))
        }
        _ => out.rejected(
            "failed",
            error.code(),
            &error.to_string(),
            json!({ "refused": error.is_refused(), "retryable": error.is_retryable() }),
        ),
    }
}

/// Progress for a person, on stderr (stdout keeps the result).
fn progress(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn trust(ca: Option<&Path>) -> Result<ServerTrust, Failure> {
    ca.map_or(Ok(ServerTrust::System), |p| {
        ServerTrust::from_pem(&read_file("--ca", p)?).map_err(|e| Failure::bad(e.code(), e))
    })
}

fn transport(websockets: bool) -> Transport {
    if websockets {
        Transport::WebSockets
    } else {
        Transport::Mqtt
    }
}

/// A device error as bad input (status 2).
fn bad(error: &Error) -> Failure {
    Failure::bad(error.code(), error)
}

fn x509(cert: &Path, key: &Path) -> Result<Credential, Failure> {
    let cert = read_file("--cert", cert)?;
    let key = zeroize::Zeroizing::new(read_file("--key", key)?);
    Credential::x509_from_pem(&cert, &key).map_err(|e| bad(&e))
}

fn symmetric_key(flag: &str, value: &str) -> Result<Credential, Failure> {
    Credential::symmetric_key(&secret(flag, value)?).map_err(|e| bad(&e))
}

fn provisioning_options(dps: &DpsArgs) -> Result<ProvisioningOptions, Failure> {
    let c = &dps.credential;
    let group = secret_opt("--group-key", c.group_key.as_deref())?;
    let credential = match (&c.symmetric_key, &group, &c.cert, &c.key) {
        (Some(k), None, None, None) => symmetric_key("--symmetric-key", k)?,
        (None, Some(g), None, None) => {
            Credential::derived_from_group_key(g, &dps.registration_id).map_err(|e| bad(&e))?
        }
        (None, None, Some(cert), Some(key)) => x509(cert, key)?,
        _ => {
            return Err(Failure::usage(
                "give one of --symmetric-key, --group-key, or --cert with --key",
            ));
        }
    };
    let mut options = ProvisioningOptions::new(&dps.id_scope, &dps.registration_id, credential);
    let mut endpoint = Endpoint::new(dps.endpoint.clone())
        .with_transport(transport(dps.websockets))
        .with_trust(trust(dps.ca.as_deref())?);
    endpoint.port = dps.port;
    options.endpoint = endpoint;
    options.timing = options
        .timing
        .with_deadline(Duration::from_secs(dps.timeout.max(1)));
    if let Some(payload) = &dps.payload {
        let value: Value = serde_json::from_str(payload)
            .map_err(|e| Failure::usage(format_args!("--payload is not JSON: {e}")))?;
        options.payload = Some(value);
    }
    Ok(options)
}

fn assignment_json(a: &Assignment) -> Value {
    json!({
        "assignedHub": a.assigned_hub,
        "deviceId": a.device_id,
        "registrationId": a.registration_id,
        "substatus": a.substatus,
        "payload": a.payload,
    })
}

fn describe_step(step: &ProvisioningStep) -> String {
    match step {
        ProvisioningStep::Connecting { attempt } => format!("dps: connecting (attempt {attempt})"),
        ProvisioningStep::Connected => "dps: connected".to_owned(),
        ProvisioningStep::Sent { topic } => format!("dps: sent {topic}"),
        ProvisioningStep::Answered {
            status,
            retry_after,
        } => match retry_after {
            Some(secs) => format!("dps: answer {status}, retry-after {secs} s"),
            None => format!("dps: answer {status}"),
        },
        ProvisioningStep::Retrying { reason, after } => {
            format!("dps: {reason}; retrying in {} ms", after.as_millis())
        }
        other => format!("dps: {other:?}"),
    }
}

async fn provision(args: ProvisionArgs, out: Out) -> Outcome {
    let options = provisioning_options(&args.dps)?;
    let json = out.is_json();
    let outcome = provision_with(&options, |step| {
        if !json {
            progress(&describe_step(step));
        }
    })
    .await;
    match outcome {
        Ok(a) => {
            out.print(
                || {
                    format!(
                        "assigned hub: {}\ndevice id:    {}\nsubstatus:    {}\n",
                        a.assigned_hub,
                        a.device_id,
                        a.substatus.as_deref().unwrap_or("(none)")
                    )
                },
                || {
                    let mut v = assignment_json(&a);
                    v["ok"] = json!(true);
                    v
                },
            )?;
            Ok(Exit::Ok)
        }
        Err(e) => fail(&e, out),
    }
}

fn message(body: &str, properties: &[String]) -> Result<Message, Failure> {
    let mut message = Message::new(body.to_owned());
    for p in properties {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| Failure::usage(format_args!("--property {p:?} is not NAME=VALUE")))?;
        if name.is_empty() {
            return Err(Failure::usage(format_args!("--property {p:?} has no name")));
        }
        message = message.with_property(name, value);
    }
    Ok(message)
}

fn hub_options(args: &SendArgs) -> Result<HubOptions, Failure> {
    let credential = match (&args.symmetric_key, &args.cert, &args.key) {
        (Some(k), None, None) => symmetric_key("--symmetric-key", k)?,
        (None, Some(cert), Some(key)) => x509(cert, key)?,
        _ => {
            return Err(Failure::usage("give --symmetric-key, or --cert with --key"));
        }
    };
    let mut options = HubOptions::new(&args.hub, &args.device_id, credential);
    options.module_id.clone_from(&args.module_id);
    if let Some(gateway) = &args.gateway {
        options = options.with_gateway(gateway);
    }
    options.endpoint.transport = transport(args.websockets);
    options.endpoint.port = args.port;
    options.endpoint.trust = trust(args.ca.as_deref())?;
    Ok(options)
}

async fn send(args: SendArgs, out: Out) -> Outcome {
    let options = hub_options(&args)?;
    let message = message(&args.message, &args.properties)?;
    let mut client = match HubClient::connect(options).await {
        Ok(c) => c,
        Err(e) => return fail(&e, out),
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
        return fail(&e, out);
    }
    out.print(
        || {
            format!(
                "{acknowledged} of {} messages acknowledged by {}\n",
                args.count, args.hub
            )
        },
        || {
            json!({
                "ok": true,
                "hub": args.hub,
                "deviceId": args.device_id,
                "acknowledged": acknowledged,
            })
        },
    )?;
    Ok(Exit::Ok)
}

fn print_step(out: Out, step: &DeviceStep) -> Result<(), Failure> {
    let (event, text, extra) = match step {
        DeviceStep::Cached(a) => (
            "cached",
            format!("cached assignment: {} on {}", a.device_id, a.assigned_hub),
            assignment_json(a),
        ),
        DeviceStep::Provisioning(s) => ("dps", describe_step(s), Value::Null),
        DeviceStep::Assigned(a) => (
            "assigned",
            format!(
                "assigned: {} on {} ({})",
                a.device_id,
                a.assigned_hub,
                a.substatus.as_deref().unwrap_or("-")
            ),
            assignment_json(a),
        ),
        DeviceStep::Connecting { hub, device_id } => (
            "connecting",
            format!("hub: connecting to {hub} as {device_id}"),
            json!({"hub": hub, "deviceId": device_id}),
        ),
        DeviceStep::Connected { hub } => (
            "connected",
            format!("hub: {hub} admitted the device"),
            json!({"hub": hub}),
        ),
        DeviceStep::Refused { hub, code } => (
            "refused",
            format!("hub: {hub} refused the device (CONNACK {code}); provisioning again"),
            json!({"hub": hub, "code": code}),
        ),
        other => ("step", format!("{other:?}"), Value::Null),
    };
    out.print(
        || format!("{text}\n"),
        || json!({"event": event, "text": text, "detail": extra}),
    )
}

async fn run_loop(args: RunArgs, out: Out) -> Outcome {
    let provisioning = provisioning_options(&args.dps)?;
    let mut settings = HubSettings {
        gateway: args.gateway.clone(),
        ..HubSettings::default()
    };
    settings.endpoint.transport = provisioning.endpoint.transport;
    settings.endpoint.port = args.hub_port;
    settings.endpoint.trust = provisioning.endpoint.trust.clone();
    let mut store = FileStore::new(&args.state);
    // A step that cannot be printed (a closed pipe) does not stop the device.
    let mut connected = match provision_or_connect(&provisioning, &settings, &mut store, |s| {
        let _ = print_step(out, s);
    })
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(&e, out),
    };
    let message = Message::new(args.message.clone());
    let mut sent = 0u32;
    let interval = Duration::from_secs(args.interval);
    loop {
        if args.count.is_some_and(|n| sent >= n) {
            break;
        }
        if sent > 0 {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        match connected.client.send(&message).await {
            Ok(()) => {
                sent += 1;
                let text = format!("hub: message {sent} acknowledged");
                out.print(
                    || format!("{text}\n"),
                    || json!({"event": "sent", "text": text, "count": sent}),
                )?;
            }
            Err(e) if e.is_refused() => {
                // The hub no longer admits the device: back to DPS (the seed's step 2).
                print_step(
                    out,
                    &DeviceStep::Refused {
                        hub: connected.assignment.assigned_hub.clone(),
                        code: 5,
                    },
                )?;
                let _ = iot_device::AssignmentStore::clear(&mut store);
                connected = match provision_or_connect(&provisioning, &settings, &mut store, |s| {
                    let _ = print_step(out, s);
                })
                .await
                {
                    Ok(c) => c,
                    Err(e) => return fail(&e, out),
                };
            }
            Err(e) => return fail(&e, out),
        }
    }
    connected.client.close().await;
    Ok(Exit::Ok)
}
