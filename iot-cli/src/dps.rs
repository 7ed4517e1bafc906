//! `iot dps`: inspect DPS device-protocol messages.
//!
//! Every parse is done by `iot-dps-proto`; this module reads files and prints.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use iot_dps_proto::{
    DeviceRegistration, RequestTopic, Response, ResponseBody, ResponseTopic, check_poll_payload,
};
use serde_json::{Value, json};

use crate::input::read_file;
use crate::{Exit, Failure, Out, Outcome};

/// `iot dps ...` (no `Debug`: the arguments hold keys and tokens)
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Derive a device key from an enrollment group key and a registration ID and print it
    /// (only the base64 key).
    ///
    /// The registration ID must be one DPS accepts: 1 to 128 ASCII letters, digits and
    /// `- . _ :`, ending with a letter, a digit or `-`. It is used exactly as given (no case
    /// folding), as the device presents it.
    DeriveKey {
        /// Base64 group enrollment key (primary or secondary): the value, @FILE or - for stdin.
        #[arg(short, long, env = "IOT_GROUP_KEY", hide_env_values = true)]
        group_key: String,
        /// Registration ID, used exactly as given (no case folding).
        #[arg(short, long)]
        registration_id: String,
    },
    /// Parse a DPS MQTT message (response, register or operation-status topic) and print it
    /// (exit 0 parsed, 2 unparsable).
    Decode {
        /// The MQTT topic, e.g. `$dps/registrations/res/202/?$rid=1&retry-after=3`.
        #[arg(short, long)]
        topic: String,
        /// File holding the message payload (JSON; may be empty); - for stdin.
        #[arg(short, long)]
        payload: Option<PathBuf>,
    },
}

/// Runs one `iot dps` command.
pub(crate) fn run(cmd: Command, out: Out) -> Outcome {
    match cmd {
        Command::DeriveKey {
            group_key,
            registration_id,
        } => crate::sas::derive_key(&group_key, &registration_id, out),
        Command::Decode { topic, payload } => decode(&topic, payload.as_deref(), out),
    }
}

fn decode(topic: &str, payload_file: Option<&Path>, out: Out) -> Outcome {
    // Without --payload only the topic is decoded.
    let payload = payload_file
        .map(|path| read_file("--payload", path))
        .transpose()?;
    let decoded = if let Ok(t) = ResponseTopic::parse(topic) {
        decode_response(&t, topic, payload.as_deref())
    } else {
        match RequestTopic::parse(topic) {
            Ok(t) => decode_request(&t, payload.as_deref()),
            Err(err) => {
                // Report the response-topic error for `$dps/registrations/res/...` topics.
                let err = ResponseTopic::parse(topic)
                    .err()
                    .filter(|_| topic.contains("/res/"))
                    .unwrap_or(err);
                return Err(Failure::bad(
                    "invalid_topic",
                    format_args!("--topic: {err}"),
                ));
            }
        }
    };
    let object = decoded.map_err(|(reason, message)| Failure::bad(reason, message))?;
    out.print(|| text_of(&object), || object.clone())?;
    Ok(Exit::Ok)
}

/// A decode failure: (reason code, message).
type DecodeError = (&'static str, String);

fn decode_response(
    t: &ResponseTopic<'_>,
    topic: &str,
    payload: Option<&[u8]>,
) -> Result<Value, DecodeError> {
    let Some(payload) = payload else {
        return Ok(json!({
            "kind": "response", "status": t.status, "rid": t.rid, "retryAfter": t.retry_after,
        }));
    };
    let response = Response::from_mqtt(topic, payload)
        .map_err(|e| ("invalid_topic", format!("--topic: {e}")))?;
    let body = match response
        .decode()
        .map_err(|e| ("invalid_payload", format!("--payload: {e}")))?
    {
        ResponseBody::Operation(op) => serde_json::to_value(&op).unwrap_or(Value::Null),
        ResponseBody::Error(Some(err)) => serde_json::to_value(&err).unwrap_or(Value::Null),
        ResponseBody::Error(None) => Value::Null,
    };
    Ok(json!({
        "kind": "response",
        "status": t.status,
        "rid": t.rid,
        "retryAfter": t.retry_after,
        "body": body,
    }))
}

fn decode_request(t: &RequestTopic<'_>, payload: Option<&[u8]>) -> Result<Value, DecodeError> {
    let payload = payload.unwrap_or_default();
    match t {
        RequestTopic::Register { rid } => {
            let body = DeviceRegistration::from_slice(payload)
                .map_err(|e| ("invalid_payload", format!("--payload: {e}")))?;
            Ok(
                json!({ "kind": "register", "rid": rid, "body": serde_json::to_value(&body).unwrap_or(Value::Null) }),
            )
        }
        RequestTopic::OperationStatus { rid, operation_id } => {
            check_poll_payload(payload)
                .map_err(|e| ("invalid_payload", format!("--payload: {e}")))?;
            Ok(json!({ "kind": "operationStatus", "rid": rid, "operationId": operation_id }))
        }
    }
}

/// `key: value` lines, header fields first; body fields flattened with dots
/// (`body.registrationState.deviceId`).
fn text_of(object: &Value) -> String {
    use std::fmt::Write as _;
    fn walk(out: &mut String, prefix: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    walk(out, &format!("{prefix}.{key}"), v);
                }
            }
            Value::Null => {}
            Value::String(s) => {
                let _ = writeln!(out, "{prefix}: {s}");
            }
            other => {
                let _ = writeln!(out, "{prefix}: {other}");
            }
        }
    }
    let mut out = String::new();
    for key in ["kind", "status", "rid", "retryAfter", "operationId"] {
        match object.get(key) {
            Some(Value::String(s)) => {
                let _ = writeln!(out, "{key}: {s}");
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                let _ = writeln!(out, "{key}: {other}");
            }
        }
    }
    if let Some(body) = object.get("body") {
        walk(&mut out, "body", body);
    }
    out
}
