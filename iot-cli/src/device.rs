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

use crate::Exit;

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

pub(crate) fn run(command: Command) -> Exit {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return crate::output::bad_input(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        match command {
            Command::Provision(args) => provision(args).await,
            Command::Send(args) => send(args).await,
            Command::Run(args) => run_loop(args).await,
        }
    })
}

/// Bad input (2) for configuration errors, rejected (1) for everything the service or the
/// network said.
fn fail(error: &Error, json: bool) -> Exit {
    let exit = match error {
        Error::Invalid(_) | Error::Sas(_) | Error::Dps(_) | Error::Store(_) => Exit::BadInput,
        _ => Exit::Rejected,
    };
    if json {
        crate::output::print_json(&json!({
            "ok": false,
            "error": error.to_string(),
            "refused": error.is_refused(),
            "retryable": error.is_retryable(),
        }));
    } else {
        eprintln!("error: {error}");
    }
    exit
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

fn trust(ca: Option<&Path>) -> Result<ServerTrust, Error> {
    ca.map_or(Ok(ServerTrust::System), |p| {
        ServerTrust::from_pem(&read(p)?)
    })
}

fn transport(websockets: bool) -> Transport {
    if websockets {
        Transport::WebSockets
    } else {
        Transport::Mqtt
    }
}

fn x509(cert: &Path, key: &Path) -> Result<Credential, Error> {
    Credential::x509_from_pem(&read(cert)?, &read(key)?)
}

fn provisioning_options(dps: &DpsArgs) -> Result<ProvisioningOptions, Error> {
    let c = &dps.credential;
    let credential = match (&c.symmetric_key, &c.group_key, &c.cert, &c.key) {
        (Some(k), None, None, None) => Credential::symmetric_key(k)?,
        (None, Some(g), None, None) => Credential::derived_from_group_key(g, &dps.registration_id)?,
        (None, None, Some(cert), Some(key)) => x509(cert, key)?,
        _ => {
            return Err(Error::Invalid(
                "give one of --symmetric-key, --group-key, or --cert with --key".into(),
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
            .map_err(|e| Error::Invalid(format!("--payload is not JSON: {e}")))?;
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

async fn provision(args: ProvisionArgs) -> Exit {
    let options = match provisioning_options(&args.dps) {
        Ok(o) => o,
        Err(e) => return fail(&e, args.json),
    };
    let json = args.json;
    let outcome = provision_with(&options, |step| {
        if !json {
            eprintln!("{}", describe_step(step));
        }
    })
    .await;
    match outcome {
        Ok(a) => {
            if json {
                let mut v = assignment_json(&a);
                v["ok"] = json!(true);
                crate::output::print_json(&v);
            } else {
                println!("assigned hub: {}", a.assigned_hub);
                println!("device id:    {}", a.device_id);
                println!(
                    "substatus:    {}",
                    a.substatus.as_deref().unwrap_or("(none)")
                );
            }
            Exit::Ok
        }
        Err(e) => fail(&e, json),
    }
}

fn message(body: &str, properties: &[String]) -> Result<Message, Error> {
    let mut message = Message::new(body.to_owned());
    for p in properties {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| Error::Invalid(format!("--property {p:?} is not NAME=VALUE")))?;
        if name.is_empty() {
            return Err(Error::Invalid(format!("--property {p:?} has no name")));
        }
        message = message.with_property(name, value);
    }
    Ok(message)
}

fn hub_options(args: &SendArgs) -> Result<HubOptions, Error> {
    let credential = match (&args.symmetric_key, &args.cert, &args.key) {
        (Some(k), None, None) => Credential::symmetric_key(k)?,
        (None, Some(cert), Some(key)) => x509(cert, key)?,
        _ => {
            return Err(Error::Invalid(
                "give --symmetric-key, or --cert with --key".into(),
            ));
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

async fn send(args: SendArgs) -> Exit {
    let prepared =
        hub_options(&args).and_then(|o| Ok((o, message(&args.message, &args.properties)?)));
    let (options, message) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(&e, args.json),
    };
    let mut client = match HubClient::connect(options).await {
        Ok(c) => c,
        Err(e) => return fail(&e, args.json),
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
        if !args.json {
            eprintln!("{acknowledged} of {} messages acknowledged", args.count);
        }
        return fail(&e, args.json);
    }
    if args.json {
        crate::output::print_json(&json!({
            "ok": true,
            "hub": args.hub,
            "deviceId": args.device_id,
            "acknowledged": acknowledged,
        }));
    } else {
        println!(
            "{acknowledged} of {} messages acknowledged by {}",
            args.count, args.hub
        );
    }
    Exit::Ok
}

fn print_step(json: bool, step: &DeviceStep) {
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
    if json {
        crate::output::print_json(&json!({"event": event, "text": text, "detail": extra}));
    } else {
        println!("{text}");
    }
}

async fn run_loop(args: RunArgs) -> Exit {
    let json = args.json;
    let provisioning = match provisioning_options(&args.dps) {
        Ok(o) => o,
        Err(e) => return fail(&e, json),
    };
    let mut settings = HubSettings {
        gateway: args.gateway.clone(),
        ..HubSettings::default()
    };
    settings.endpoint.transport = provisioning.endpoint.transport;
    settings.endpoint.port = args.hub_port;
    settings.endpoint.trust = provisioning.endpoint.trust.clone();
    let mut store = FileStore::new(&args.state);
    let mut connected = match provision_or_connect(&provisioning, &settings, &mut store, |s| {
        print_step(json, s)
    })
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(&e, json),
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
                if json {
                    crate::output::print_json(
                        &json!({"event": "sent", "text": text, "count": sent}),
                    );
                } else {
                    println!("{text}");
                }
            }
            Err(e) if e.is_refused() => {
                // The hub no longer admits the device: back to DPS (the seed's step 2).
                print_step(
                    json,
                    &DeviceStep::Refused {
                        hub: connected.assignment.assigned_hub.clone(),
                        code: 5,
                    },
                );
                let _ = iot_device::AssignmentStore::clear(&mut store);
                connected = match provision_or_connect(&provisioning, &settings, &mut store, |s| {
                    print_step(json, s)
                })
                .await
                {
                    Ok(c) => c,
                    Err(e) => return fail(&e, json),
                };
            }
            Err(e) => return fail(&e, json),
        }
    }
    connected.client.close().await;
    Exit::Ok
}
