//! `iot hub`: what IoT Hub decides when a device or module connects.
//!
//! Every decision is made by `iot-hub-auth`; this module reads the hub file, the certificate
//! file and the clock, and prints.

use std::path::PathBuf;

use clap::Subcommand;
use iot_hub_auth::{
    AuthMethod, CertificateDer, ConnectRequest, Decision, HubDocument, KeySlot, ThumbprintMatch,
    Transport, authorize,
};
use serde_json::json;

use crate::Exit;
use crate::output::{bad_input, now_or, print_json};

/// `iot hub ...`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decide whether a device or module may connect (exit 0 allowed, 1 denied, 2 bad input).
    ///
    /// MQTT: --client-id and --username (+ --password for SAS); AMQP: --username
    /// `{deviceId}@sas.{hub}` or `{policy}@sas.root.{hub}` + --password, or --device-id;
    /// HTTPS: --device-id (+ --module-id) + --password. X.509: --client-cert.
    Authorize {
        /// Hub file: settings, policies, CAs and identities in Azure's JSON shapes
        /// (see examples/hub.json).
        #[arg(long)]
        hub: PathBuf,
        /// Transport: mqtt, mqtt-ws, amqp, amqp-ws or https.
        #[arg(long)]
        transport: Transport,
        /// MQTT client ID: `{deviceId}` or `{deviceId}/{moduleId}`.
        #[arg(long)]
        client_id: Option<String>,
        /// MQTT user name (`{host}/{deviceId}/?api-version=...`) or AMQP SASL PLAIN user name.
        #[arg(long)]
        username: Option<String>,
        /// SAS token (`SharedAccessSignature sr=...&sig=...&se=...`).
        #[arg(long)]
        password: Option<String>,
        /// TLS client certificate chain, PEM (leaf first, then intermediates) or DER.
        #[arg(long)]
        client_cert: Option<PathBuf>,
        /// Device ID named by the HTTPS path or the AMQP link.
        #[arg(long)]
        device_id: Option<String>,
        /// Module ID named by the HTTPS path or the AMQP link.
        #[arg(long)]
        module_id: Option<String>,
        /// Decision time, Unix seconds (default: now).
        #[arg(long)]
        now: Option<u64>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: Command) -> Exit {
    match cmd {
        Command::Authorize {
            hub,
            transport,
            client_id,
            username,
            password,
            client_cert,
            device_id,
            module_id,
            now,
            json,
        } => {
            let text = match std::fs::read_to_string(&hub) {
                Ok(text) => text,
                Err(e) => return bad_input(format_args!("{}: {e}", hub.display())),
            };
            let built = HubDocument::from_json(&text).and_then(|doc| doc.build());
            let (settings, registry) = match built {
                Ok(parts) => parts,
                Err(e) => return bad_input(format_args!("{}: {e}", hub.display())),
            };
            let chain: Vec<CertificateDer<'static>> = match &client_cert {
                None => Vec::new(),
                Some(path) => {
                    match std::fs::read(path)
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| {
                            iot_x509::parse_certificates(&bytes).map_err(|e| e.to_string())
                        }) {
                        Ok(chain) => chain,
                        Err(e) => return bad_input(format_args!("{}: {e}", path.display())),
                    }
                }
            };
            let req = ConnectRequest {
                transport,
                client_id: client_id.as_deref(),
                username: username.as_deref(),
                password: password.as_deref(),
                client_chain: &chain,
                device_id: device_id.as_deref(),
                module_id: module_id.as_deref(),
            };
            let now = now_or(now);
            report(&authorize(&settings, &registry, &req, now), now, json)
        }
    }
}

fn slot(slot: KeySlot) -> &'static str {
    match slot {
        KeySlot::Primary => "primary",
        KeySlot::Secondary => "secondary",
    }
}

fn report(decision: &Decision<'_>, now: u64, json: bool) -> Exit {
    match decision {
        Decision::Allow(allow) => {
            if json {
                let method = match &allow.method {
                    AuthMethod::DeviceKey(k) => json!({"type": "deviceKey", "key": slot(*k)}),
                    AuthMethod::Policy { name, key } => {
                        json!({"type": "policy", "policy": name, "key": slot(*key)})
                    }
                    AuthMethod::Thumbprint(t) => {
                        json!({"type": "thumbprint", "thumbprint": match t {
                            ThumbprintMatch::Primary => "primary",
                            ThumbprintMatch::Secondary => "secondary",
                        }})
                    }
                    AuthMethod::Ca { name } => json!({"type": "certificateAuthority", "ca": name}),
                };
                print_json(&json!({
                    "decision": "allow",
                    "deviceId": allow.identity.device_id,
                    "moduleId": allow.identity.module_id,
                    "method": method,
                    "rights": allow.rights.to_string(),
                    "validUntil": allow.valid_until,
                    "now": now,
                }));
            } else {
                println!(
                    "allowed: {} by {}; rights {}; valid until {} (the hub drops the connection then)",
                    allow.identity.display_id(),
                    allow.method,
                    allow.rights,
                    allow.valid_until
                );
            }
            Exit::Ok
        }
        Decision::Deny(reason) => {
            if json {
                print_json(&json!({
                    "decision": "deny",
                    "reason": reason.code(),
                    "message": reason.to_string(),
                    "now": now,
                }));
            } else {
                println!("denied: {reason}");
            }
            Exit::Rejected
        }
    }
}
