//! `iot dps`: inspect DPS device-protocol messages.
//!
//! Every parse is done by `iot-dps-proto`; this module reads files and prints.

use std::path::PathBuf;

use clap::Subcommand;
use iot_dps_proto::{
    DeviceRegistration, RequestTopic, Response, ResponseBody, ResponseTopic, check_poll_payload,
};
use serde_json::{Value, json};

use crate::Exit;
use crate::output::{bad_input, print_json};

/// `iot dps ...`
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Derive a device key from an enrollment group key and a registration ID and print it
    /// (only the base64 key). Exit 0 derived, 2 bad usage (group key not base64).
    DeriveKey {
        /// Base64 group enrollment key (primary or secondary).
        #[arg(long)]
        group_key: String,
        /// Registration ID, used exactly as given (no case folding).
        #[arg(long)]
        registration_id: String,
        /// Print one JSON object: {"key":..,"registration_id":..}.
        #[arg(long)]
        json: bool,
    },
    /// Parse a DPS MQTT message (response, register or operation-status topic) and print it
    /// (exit 0 parsed, 2 unparsable).
    Decode {
        /// The MQTT topic, e.g. `$dps/registrations/res/202/?$rid=1&retry-after=3`.
        #[arg(long)]
        topic: String,
        /// File holding the message payload (JSON; may be empty).
        #[arg(long)]
        payload: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: Command) -> Exit {
    match cmd {
        Command::DeriveKey {
            group_key,
            registration_id,
            json,
        } => crate::sas::derive_key(&group_key, &registration_id, json),
        Command::Decode {
            topic,
            payload,
            json,
        } => decode(&topic, payload.as_deref(), json),
    }
}

fn decode(topic: &str, payload_file: Option<&std::path::Path>, as_json: bool) -> Exit {
    // Without --payload only the topic is decoded.
    let payload = match payload_file {
        Some(path) => match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(err) => return bad_input(format_args!("{}: {err}", path.display())),
        },
        None => None,
    };
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
                return bad_input(format_args!("topic: {err}"));
            }
        }
    };
    let object = match decoded {
        Ok(object) => object,
        Err(message) => return bad_input(message),
    };
    if as_json {
        print_json(&object);
    } else {
        print_text(&object);
    }
    Exit::Ok
}

fn decode_response(
    t: &ResponseTopic<'_>,
    topic: &str,
    payload: Option<&[u8]>,
) -> Result<Value, String> {
    let Some(payload) = payload else {
        return Ok(json!({
            "kind": "response", "status": t.status, "rid": t.rid, "retryAfter": t.retry_after,
        }));
    };
    let response = Response::from_mqtt(topic, payload).map_err(|e| format!("topic: {e}"))?;
    let body = match response.decode().map_err(|e| format!("payload: {e}"))? {
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

fn decode_request(t: &RequestTopic<'_>, payload: Option<&[u8]>) -> Result<Value, String> {
    let payload = payload.unwrap_or_default();
    match t {
        RequestTopic::Register { rid } => {
            let body =
                DeviceRegistration::from_slice(payload).map_err(|e| format!("payload: {e}"))?;
            Ok(
                json!({ "kind": "register", "rid": rid, "body": serde_json::to_value(&body).unwrap_or(Value::Null) }),
            )
        }
        RequestTopic::OperationStatus { rid, operation_id } => {
            check_poll_payload(payload).map_err(|e| format!("payload: {e}"))?;
            Ok(json!({ "kind": "operationStatus", "rid": rid, "operationId": operation_id }))
        }
    }
}

/// `key: value` lines, header fields first; body fields flattened with dots
/// (`body.registrationState.deviceId`).
fn print_text(object: &Value) {
    fn walk(prefix: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    walk(&format!("{prefix}.{key}"), v);
                }
            }
            Value::Null => {}
            Value::String(s) => println!("{prefix}: {s}"),
            other => println!("{prefix}: {other}"),
        }
    }
    for key in ["kind", "status", "rid", "retryAfter", "operationId"] {
        match object.get(key) {
            Some(Value::String(s)) => println!("{key}: {s}"),
            Some(Value::Null) | None => {}
            Some(other) => println!("{key}: {other}"),
        }
    }
    if let Some(body) = object.get("body") {
        walk("body", body);
    }
}
