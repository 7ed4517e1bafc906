//! `iot hub`: what IoT Hub decides when a device, a module or a back-end service connects.
//!
//! Every decision is made by `iot-hub-auth` (reference §6, §9); this module reads the hub file,
//! the certificate file, secrets and the clock, and prints.

use std::path::PathBuf;

use clap::Subcommand;
use iot_hub_auth::{
    AccessRights, AuthMethod, ConnectRequest, Decision, DenyReason, ThumbprintMatch, Transport,
    authorize, authorize_service,
};
use serde_json::{Value, json};

use crate::certs::{chain_message, read_certs};
use crate::input::{one_stdin, secret, secret_opt};
use crate::when::{now_or, parse_time, put_time, show};
use crate::{Failure, Out, Outcome, hub_file};

/// `iot hub ...` (no `Debug`: the arguments hold keys and tokens)
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Decide whether a device or module may connect (exit 0 allowed, 1 denied, 2 bad input).
    ///
    /// MQTT: --client-id and --username, with --password (SAS) or --cert (X.509). AMQP:
    /// --username `{deviceId}@sas.{hub}` or `{policy}@sas.root.{hub}` with --password, or
    /// --device-id with --cert. HTTPS: --device-id (+ --module-id) with --password or --cert.
    Authorize {
        /// Hub file: settings, policies, CAs and identities in Azure's JSON shapes; - for
        /// stdin.
        #[arg(long, value_name = "FILE")]
        hub: PathBuf,
        /// Transport: mqtt, mqtt-ws, amqp, amqp-ws or https.
        #[arg(short = 'T', long)]
        transport: Transport,
        /// MQTT client ID: `{deviceId}` or `{deviceId}/{moduleId}`.
        #[arg(long)]
        client_id: Option<String>,
        /// MQTT user name (`{host}/{deviceId}/?api-version=...`) or AMQP SASL PLAIN user name.
        #[arg(short, long)]
        username: Option<String>,
        /// SAS token (`SharedAccessSignature sr=...&sig=...&se=...`): the value, @FILE or - for
        /// stdin.
        #[arg(short, long, env = "IOT_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// TLS client certificate chain, PEM (leaf first, then intermediates) or DER; - for
        /// stdin.
        #[arg(short, long, visible_alias = "client-cert", value_name = "FILE")]
        cert: Option<PathBuf>,
        /// Device ID named by the HTTPS path or the AMQP link.
        #[arg(short, long)]
        device_id: Option<String>,
        /// Module ID named by the HTTPS path or the AMQP link.
        #[arg(short, long)]
        module_id: Option<String>,
        /// Decision time: Unix seconds or RFC 3339 (default: the clock).
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
    },
    /// Decide whether a back-end (service) SAS token may perform an operation that needs the
    /// given rights (exit 0 allowed, 1 denied, 2 bad input).
    ///
    /// The token must name a shared access policy of the hub (`skn`) that holds every right
    /// asked for, be unexpired, carry one of that policy's key signatures, and be scoped to the
    /// hub host name; `disableLocalAuth` refuses every such token.
    AuthorizeService {
        /// Hub file; - for stdin.
        #[arg(long, value_name = "FILE")]
        hub: PathBuf,
        /// Policy SAS token (`SharedAccessSignature sr=...&sig=...&se=...&skn=...`): the value,
        /// @FILE or - for stdin.
        #[arg(short, long, env = "IOT_TOKEN", hide_env_values = true)]
        token: String,
        /// Rights the operation needs, Azure's names separated by commas: RegistryRead,
        /// RegistryWrite, ServiceConnect, DeviceConnect.
        #[arg(short, long)]
        rights: String,
        /// Decision time: Unix seconds or RFC 3339 (default: the clock).
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
    },
}

/// Runs one `iot hub` command.
pub(crate) fn run(cmd: Command, out: Out) -> Outcome {
    match cmd {
        Command::Authorize {
            hub,
            transport,
            client_id,
            username,
            password,
            cert,
            device_id,
            module_id,
            now,
        } => {
            let given = Given {
                client_id: client_id.is_some(),
                username: username.is_some(),
                device_id: device_id.is_some(),
            };
            check_flags(transport, &given)?;
            let path_text = |p: &PathBuf| p.to_str().map(str::to_owned);
            let (hub_text, cert_text) = (path_text(&hub), cert.as_ref().and_then(path_text));
            one_stdin(&[
                ("--hub", hub_text.as_deref()),
                ("--password", password.as_deref()),
                ("--cert", cert_text.as_deref()),
            ])?;
            let password = secret_opt("--password", password.as_deref())?;
            let chain = cert
                .map(|path| read_certs("--cert", &path))
                .transpose()?
                .unwrap_or_default();
            let (settings, registry) = hub_file::load(&hub)?;
            let req = ConnectRequest {
                transport,
                client_id: client_id.as_deref(),
                username: username.as_deref(),
                password: password.as_deref().map(String::as_str),
                client_chain: &chain,
                device_id: device_id.as_deref(),
                module_id: module_id.as_deref(),
            };
            let now = now_or(now);
            report(&authorize(&settings, &registry, &req, now), now, out)
        }
        Command::AuthorizeService {
            hub,
            token,
            rights,
            now,
        } => {
            let required = match AccessRights::parse(&rights) {
                Ok(required) if !required.is_empty() => required,
                Ok(_) => return Err(Failure::usage("--rights: name at least one right")),
                Err(e) => return Err(Failure::usage(format_args!("--rights: {e}"))),
            };
            one_stdin(&[("--hub", hub.to_str()), ("--token", Some(&token))])?;
            let token = secret("--token", &token)?;
            let (settings, _) = hub_file::load(&hub)?;
            let now = now_or(now);
            match authorize_service(&settings, &token, required, now) {
                Ok(allow) => {
                    let mut fields = json!({
                        "policy": allow.policy,
                        "key": allow.key.as_str(),
                        "rights": allow.rights.to_string(),
                        "required": required.to_string(),
                    });
                    put_time(&mut fields, "validUntil", allow.valid_until);
                    put_time(&mut fields, "now", now);
                    let text = format!(
                        "allowed: policy {} ({} key) holds {}; required {}; valid until {}",
                        allow.policy,
                        allow.key.as_str(),
                        allow.rights,
                        required,
                        show(allow.valid_until)
                    );
                    out.accepted(&text, fields)
                }
                Err(reason) => report_deny(&reason, now, out),
            }
        }
    }
}

/// Which identity flags of `hub authorize` were given (a connect without any credential is
/// a question the hub answers, with a denial, so credentials are not required here).
struct Given {
    client_id: bool,
    username: bool,
    device_id: bool,
}

/// Names every flag the transport needs that is missing (a usage error, not a denial).
fn check_flags(transport: Transport, given: &Given) -> Result<(), Failure> {
    let mut missing = Vec::new();
    match transport {
        Transport::Mqtt | Transport::MqttWs => {
            if !given.client_id {
                missing.push("--client-id");
            }
            if !given.username {
                missing.push("--username");
            }
        }
        Transport::Amqp | Transport::AmqpWs => {
            if !given.username && !given.device_id {
                missing.push("--username or --device-id");
            }
        }
        Transport::Https => {
            if !given.device_id {
                missing.push("--device-id");
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::bad(
        "missing_argument",
        format_args!(
            "--transport {} needs {}",
            transport_name(transport),
            missing.join(" and ")
        ),
    ))
}

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Mqtt => "mqtt",
        Transport::MqttWs => "mqtt-ws",
        Transport::Amqp => "amqp",
        Transport::AmqpWs => "amqp-ws",
        Transport::Https => "https",
    }
}

fn method_json(method: &AuthMethod<'_>) -> Value {
    match method {
        AuthMethod::DeviceKey(k) => json!({"type": "deviceKey", "key": k.as_str()}),
        AuthMethod::Policy { name, key } => {
            json!({"type": "policy", "policy": name, "key": key.as_str()})
        }
        AuthMethod::Thumbprint(t) => json!({"type": "thumbprint", "thumbprint": match t {
            ThumbprintMatch::Primary => "primary",
            ThumbprintMatch::Secondary => "secondary",
        }}),
        AuthMethod::Ca { name } => json!({"type": "certificateAuthority", "ca": name}),
    }
}

fn report(decision: &Decision<'_>, now: u64, out: Out) -> Outcome {
    match decision {
        Decision::Allow(allow) => {
            let mut fields = json!({
                "deviceId": allow.identity.device_id,
                "moduleId": allow.identity.module_id,
                "method": method_json(&allow.method),
                "rights": allow.rights.to_string(),
            });
            put_time(&mut fields, "validUntil", allow.valid_until);
            put_time(&mut fields, "now", now);
            let text = format!(
                "allowed: {} by {}; rights {}; valid until {} (the hub drops the connection then)",
                allow.identity.display_id(),
                allow.method,
                allow.rights,
                show(allow.valid_until)
            );
            out.accepted(&text, fields)
        }
        Decision::Deny(reason) => report_deny(reason, now, out),
    }
}

fn report_deny(reason: &DenyReason, now: u64, out: Out) -> Outcome {
    let message = match reason {
        DenyReason::PolicyLacksRights {
            policy,
            required,
            granted,
        } => {
            let lacking = lacking(*required, *granted);
            format!(
                "policy {policy} lacks {lacking} (it has {granted}); grant it or use another \
                 policy"
            )
        }
        DenyReason::TokenExpired { expiry, now, skew } => format!(
            "SAS token expired at {} (now {}, skew {skew} s); sign a new token with a later \
             expiry",
            show(*expiry),
            show(*now)
        ),
        DenyReason::ChainRejected(err) => {
            format!("client certificate chain rejected: {}", chain_message(err))
        }
        other => other.to_string(),
    };
    let mut extra = json!({});
    put_time(&mut extra, "now", now);
    out.rejected("denied", reason.code(), &message, extra)
}

/// The rights of `required` that `granted` does not hold.
fn lacking(required: AccessRights, granted: AccessRights) -> AccessRights {
    [
        AccessRights::REGISTRY_WRITE,
        AccessRights::REGISTRY_READ,
        AccessRights::SERVICE_CONNECT,
        AccessRights::DEVICE_CONNECT,
    ]
    .into_iter()
    .filter(|right| required.contains(*right) && !granted.contains(*right))
    .fold(AccessRights::NONE, AccessRights::union)
}
