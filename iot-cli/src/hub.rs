//! `iot hub`: what IoT Hub decides when a device or module connects.
//!
//! Every decision is made by `iot-hub-auth`; this module reads the hub file, the certificate
//! file and the clock, and prints.

use std::path::PathBuf;

use clap::Subcommand;
use iot_hub_auth::{
    AccessRights, AuthMethod, CertificateDer, ConnectRequest, Decision, DenyReason, HubDocument,
    HubSettings, InMemoryRegistry, KeySlot, ThumbprintMatch, Transport, authorize,
    authorize_service,
};
use serde_json::json;

use crate::Exit;
use crate::output::{bad_input, now_or, print_json};

/// `iot hub ...`
#[derive(Subcommand)]
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
    /// Decide whether a back-end (service) SAS token may perform an operation that needs the
    /// given rights (exit 0 allowed, 1 denied, 2 bad input).
    ///
    /// The token must name a shared access policy of the hub (`skn`) that holds every right
    /// asked for, be unexpired, carry one of that policy's key signatures, and be scoped to the
    /// hub host name; `disableLocalAuth` refuses every such token.
    AuthorizeService {
        /// Hub file (see examples/hub.json).
        #[arg(long)]
        hub: PathBuf,
        /// Policy SAS token (`SharedAccessSignature sr=...&sig=...&se=...&skn=...`).
        #[arg(long)]
        token: String,
        /// Rights the operation needs, Azure's names separated by commas: RegistryRead,
        /// RegistryWrite, ServiceConnect, DeviceConnect.
        #[arg(long)]
        rights: String,
        /// Decision time, Unix seconds (default: now).
        #[arg(long)]
        now: Option<u64>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Reads and validates the hub file.
fn load_hub(path: &std::path::Path) -> Result<(HubSettings, InMemoryRegistry), Exit> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad_input(format_args!("{}: {e}", path.display())))?;
    HubDocument::from_json(&text)
        .and_then(|doc| doc.build())
        .map_err(|e| bad_input(format_args!("{}: {e}", path.display())))
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
            let (settings, registry) = match load_hub(&hub) {
                Ok(parts) => parts,
                Err(exit) => return exit,
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
        Command::AuthorizeService {
            hub,
            token,
            rights,
            now,
            json,
        } => {
            let required = match AccessRights::parse(&rights) {
                Ok(required) if !required.is_empty() => required,
                Ok(_) => return bad_input("--rights: name at least one right"),
                Err(e) => return bad_input(format_args!("--rights: {e}")),
            };
            let (settings, _) = match load_hub(&hub) {
                Ok(parts) => parts,
                Err(exit) => return exit,
            };
            let now = now_or(now);
            match authorize_service(&settings, &token, required, now) {
                Ok(allow) => {
                    if json {
                        print_json(&json!({
                            "decision": "allow",
                            "policy": allow.policy,
                            "key": slot(allow.key),
                            "rights": allow.rights.to_string(),
                            "required": required.to_string(),
                            "validUntil": allow.valid_until,
                            "now": now,
                        }));
                    } else {
                        println!(
                            "allowed: policy {} ({} key) holds {}; required {}; valid until {}",
                            allow.policy,
                            slot(allow.key),
                            allow.rights,
                            required,
                            allow.valid_until
                        );
                    }
                    Exit::Ok
                }
                Err(reason) => report_deny(&reason, now, json),
            }
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
        Decision::Deny(reason) => report_deny(reason, now, json),
    }
}

fn report_deny(reason: &DenyReason, now: u64, json: bool) -> Exit {
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
