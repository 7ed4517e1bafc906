//! What the device commands read: credentials (a key from a value, `@FILE`, `-` or the
//! environment; a certificate and key from files or stdin), the CA to trust, the allocation
//! payload and the message, turned into `iot-device` options.

use std::path::Path;
use std::time::Duration;

use iot_device::{
    Credential, Endpoint, Error, HubOptions, Message, ProvisioningOptions, ServerTrust, Transport,
};
use serde_json::Value;

use super::args::{Chosen, DpsArgs, SendArgs};
use crate::Failure;
use crate::input::{read_file, read_secret_file, read_text, secret};

/// A device error found in the input (status 2).
pub(super) fn bad(error: &Error) -> Failure {
    Failure::bad(error.code(), error)
}

/// `--ca`: the PEM certificates to trust, or the system store.
fn trust(ca: Option<&Path>) -> Result<ServerTrust, Failure> {
    ca.map_or(Ok(ServerTrust::System), |path| {
        ServerTrust::from_pem(&read_file("--ca", path)?).map_err(|e| bad(&e))
    })
}

pub(super) fn transport(websockets: bool) -> Transport {
    if websockets {
        Transport::WebSockets
    } else {
        Transport::Mqtt
    }
}

/// `--cert` and `--key`: a certificate chain and its private key (read into wiped memory).
fn x509(cert: &Path, key: &Path) -> Result<Credential, Failure> {
    let cert = read_file("--cert", cert)?;
    let key = read_secret_file("--key", key)?;
    Credential::x509_from_pem(&cert, key.as_bytes()).map_err(|e| bad(&e))
}

fn symmetric_key(value: &str) -> Result<Credential, Failure> {
    Credential::symmetric_key(&secret("--symmetric-key", value)?).map_err(|e| bad(&e))
}

/// `--payload`: JSON text, `@FILE` or `-`.
fn payload(value: &str) -> Result<Value, Failure> {
    let text = if value == "-" || value.starts_with('@') {
        read_text("--payload", Path::new(value))?
    } else {
        value.to_owned()
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::bad("invalid_payload", format_args!("--payload: not JSON: {e}")))
}

/// The registration's options: endpoint, credential, payload and deadline.
pub(super) fn provisioning(dps: &DpsArgs, chosen: Chosen) -> Result<ProvisioningOptions, Failure> {
    let c = &dps.credential;
    let credential = match (chosen, &c.symmetric_key, &c.group_key, &c.cert, &c.key) {
        (Chosen::SymmetricKey, Some(key), ..) => symmetric_key(key)?,
        (Chosen::GroupKey, _, Some(group), ..) => {
            let group = secret("--group-key", group)?;
            Credential::derived_from_group_key(&group, &dps.registration_id).map_err(|e| bad(&e))?
        }
        (Chosen::Cert, _, _, Some(cert), Some(key)) => x509(cert, key)?,
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
        .with_deadline(Duration::from_secs(dps.timeout));
    options.payload = dps.payload.as_deref().map(payload).transpose()?;
    Ok(options)
}

/// The hub connection's options for `iot device send`.
pub(super) fn hub(args: &SendArgs, chosen: Chosen) -> Result<HubOptions, Failure> {
    let credential = match (chosen, &args.symmetric_key, &args.cert, &args.key) {
        (Chosen::SymmetricKey, Some(key), ..) => symmetric_key(key)?,
        (Chosen::Cert, _, Some(cert), Some(key)) => x509(cert, key)?,
        _ => return Err(Failure::usage("give --symmetric-key, or --cert with --key")),
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

/// The message of `iot device send`: the body and its `--property NAME=VALUE`s.
pub(super) fn message(body: &str, properties: &[String]) -> Result<Message, Failure> {
    let mut message = Message::new(body.to_owned());
    for p in properties {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| Failure::usage(format_args!("--property {p:?}: expected NAME=VALUE")))?;
        if name.is_empty() {
            return Err(Failure::usage(format_args!(
                "--property {p:?}: the name is empty (expected NAME=VALUE)"
            )));
        }
        message = message.with_property(name, value);
    }
    Ok(message)
}
