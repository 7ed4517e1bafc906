//! What a running `iot serve` prints: the summary once it listens, then one line per decision
//! (connect, registration, API call, telemetry, disconnect), each with the time.
//!
//! JSON lines follow the CLI's convention: camelCase keys, `event` naming the line, a decision
//! carries `accepted`, `reason` (a stable snake_case code) and `message` (prose), and the time
//! is `time` (RFC 3339) with `timeUnix`. The shapes are `$defs/serveListening` and
//! `$defs/serveEvent` of the schema.
//!
//! **A running server outlives its stdout.** Devices keep being served when the reader goes
//! away (`iot serve | head -1`) or the disk fills up: the first failed write is reported once
//! on stderr and the log stops; SIGINT or SIGTERM still stops the server with status 0.

use iot_server::{ServerEvent, Summary};
use serde_json::{Value, json};

use crate::output::warn;
use crate::when::{now_or, put_time, show};
use crate::{Failure, Out};

/// stdout of a running server: writes until the first failure, then stays quiet.
pub(super) struct Log {
    out: Out,
    gone: bool,
}

impl Log {
    pub(super) fn new(out: Out) -> Self {
        Self { out, gone: false }
    }

    /// Prints `text()` or `json()`; a failure ends the log, not the server.
    fn write(&mut self, text: impl FnOnce() -> String, json: impl FnOnce() -> Value) {
        if self.gone {
            return;
        }
        if let Err(failure) = self.out.print(text, json) {
            self.gone = true;
            let why = match failure {
                Failure::Write(err) => format!("cannot write the output ({err})"),
                Failure::BrokenPipe { .. } => "stdout was closed".to_owned(),
                Failure::Bad { message, .. } => message,
            };
            warn(format_args!(
                "{why}; iot serve goes on serving without printing events (stop it with Ctrl-C \
                 or SIGTERM)"
            ));
        }
    }

    /// One line with the time: `{time} {text}`, or `fields` plus `time` and `timeUnix`.
    fn line(&mut self, text: impl FnOnce() -> String, fields: impl FnOnce() -> Value) {
        let now = now_or(None);
        self.write(
            || format!("{} {}\n", show(now), text()),
            || {
                let mut object = fields();
                put_time(&mut object, "time", now);
                object
            },
        );
    }

    /// The summary of a server that started listening (`event: "listening"` in JSON); its
    /// warnings also go to stderr.
    pub(super) fn listening(&mut self, summary: &Summary) {
        for warning in &summary.warnings {
            warn(warning);
        }
        let now = now_or(None);
        self.write(
            || describe_summary(summary),
            || {
                let mut object = serde_json::to_value(summary).unwrap_or_else(|_| json!({}));
                object["event"] = json!("listening");
                put_time(&mut object, "time", now);
                object
            },
        );
    }

    /// One decision or happening.
    pub(super) fn event(&mut self, event: &ServerEvent) {
        self.line(|| describe_event(event), || event_json(event));
    }

    /// Events dropped because stdout could not keep up.
    pub(super) fn lagged(&mut self, skipped: u64) {
        let message = format!("{skipped} events not shown (the output was too slow)");
        self.line(
            || message.clone(),
            || json!({ "event": "lagged", "skipped": skipped, "message": message }),
        );
    }
}

fn describe_summary(summary: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "iot serve: MQTT over TLS on {}", summary.mqtt);
    if let Some(https) = &summary.https {
        let _ = writeln!(
            out,
            "  HTTPS (MQTT over WebSockets, service APIs) on {https}"
        );
    }
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

fn verdict(allowed: bool) -> &'static str {
    if allowed { "ALLOWED" } else { "DENIED" }
}

fn describe_event(event: &ServerEvent) -> String {
    match event {
        ServerEvent::Connect {
            endpoint,
            target,
            identity,
            transport,
            allowed,
            code,
            reason,
            peer,
        } => format!(
            "connect {} {endpoint} {target} {identity} ({transport}) from {peer}: {code}: \
             {reason}",
            verdict(*allowed)
        ),
        ServerEvent::Registration {
            registration_id,
            status,
            reason,
            ..
        } => format!("dps registration {registration_id}: {status}: {reason}"),
        ServerEvent::Telemetry {
            hub,
            device_id,
            module_id,
            size,
        } => format!(
            "telemetry {hub} {device_id}{}: {size} bytes stored",
            module_id
                .as_deref()
                .map(|m| format!("/{m}"))
                .unwrap_or_default()
        ),
        ServerEvent::Api {
            api,
            method,
            resource,
            host,
            status,
            code,
            reason,
            peer,
            ..
        } => {
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            };
            format!(
                "api {api} {method} {resource} (host {host}) from {peer}: {status} {code}{reason}"
            )
        }
        ServerEvent::Disconnect {
            identity,
            reason,
            peer,
        } => format!("disconnect {identity} from {peer}: {reason}"),
        other => format!("{} event", event_name(other)),
    }
}

/// The `event` tag serde gives a variant (`connect`, `api`, ...).
fn event_name(event: &ServerEvent) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v["event"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `message` only when there is prose to give.
fn put_message(object: &mut Value, message: &str) {
    if !message.is_empty() {
        object["message"] = json!(message);
    }
}

fn event_json(event: &ServerEvent) -> Value {
    match event {
        ServerEvent::Connect {
            endpoint,
            target,
            identity,
            transport,
            allowed,
            code,
            reason,
            peer,
        } => {
            let mut object = json!({
                "event": "connect", "endpoint": endpoint, "target": target,
                "identity": identity, "transport": transport, "accepted": allowed,
                "reason": code, "peer": peer,
            });
            put_message(&mut object, reason);
            object
        }
        ServerEvent::Registration {
            registration_id,
            status,
            assigned_hub,
            device_id,
            reason,
        } => {
            let mut object = json!({
                "event": "registration", "registrationId": registration_id,
                "accepted": status == "assigned", "reason": status,
            });
            if let Some(hub) = assigned_hub {
                object["assignedHub"] = json!(hub);
            }
            if let Some(device) = device_id {
                object["deviceId"] = json!(device);
            }
            put_message(&mut object, reason);
            object
        }
        ServerEvent::Telemetry {
            hub,
            device_id,
            module_id,
            size,
        } => {
            let mut object =
                json!({ "event": "telemetry", "hub": hub, "deviceId": device_id, "size": size });
            if let Some(module) = module_id {
                object["moduleId"] = json!(module);
            }
            object
        }
        ServerEvent::Api {
            api,
            method,
            resource,
            host,
            status,
            code,
            reason,
            policy,
            peer,
        } => {
            let mut object = json!({
                "event": "api", "api": api, "method": method, "resource": resource,
                "host": host, "status": status, "accepted": *status < 400, "reason": code,
                "peer": peer,
            });
            if let Some(policy) = policy {
                object["policy"] = json!(policy);
            }
            put_message(&mut object, reason);
            object
        }
        ServerEvent::Disconnect {
            identity,
            reason,
            peer,
        } => {
            let mut object = json!({ "event": "disconnect", "identity": identity, "peer": peer });
            put_message(&mut object, reason);
            object
        }
        // A kind of event this build does not know: the server's own form.
        other => serde_json::to_value(other).unwrap_or_else(|_| json!({ "event": "unknown" })),
    }
}
