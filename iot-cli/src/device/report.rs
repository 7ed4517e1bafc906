//! How the device commands print: an assignment, the steps of `iot device run` (one text line
//! or one JSON line each, with the time), and progress for a person on stderr.
//!
//! A `run` line in JSON is `{"event": .., "message": .., "time": .., "timeUnix": .., ...}`;
//! the event names and their fields are in the crate README and the schema
//! (`$defs/deviceRunLine`).

use iot_device::{Assignment, DeviceStep, ProvisioningStep};
use serde_json::{Map, Value, json};

use crate::when::{now_or, put_time, show};
use crate::{Failure, Out};

/// An assignment's JSON fields (`registrationId`, `assignedHub`, `deviceId`, `substatus`,
/// `payload`).
pub(super) fn assignment_json(a: &Assignment) -> Value {
    json!({
        "registrationId": a.registration_id,
        "assignedHub": a.assigned_hub,
        "deviceId": a.device_id,
        "substatus": a.substatus,
        "payload": a.payload,
    })
}

/// Progress for a person, on stderr (stdout keeps the result).
pub(super) fn progress(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A registration step in words.
pub(super) fn describe_step(step: &ProvisioningStep) -> String {
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
        _ => "dps: another registration step".to_owned(),
    }
}

/// A registration step's JSON fields: `step` and what it carries.
fn step_json(step: &ProvisioningStep) -> Value {
    match step {
        ProvisioningStep::Connecting { attempt } => {
            json!({"step": "connecting", "attempt": attempt})
        }
        ProvisioningStep::Connected => json!({"step": "connected"}),
        ProvisioningStep::Sent { topic } => json!({"step": "sent", "topic": topic}),
        ProvisioningStep::Answered {
            status,
            retry_after,
        } => json!({"step": "answered", "status": status, "retryAfter": retry_after}),
        ProvisioningStep::Retrying { reason, after } => json!({
            "step": "retrying",
            "error": reason,
            "retryInMs": u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
        }),
        _ => json!({"step": "other"}),
    }
}

/// One `iot device run` line: `{time} {message}` in text, or the event object with `event`,
/// `message`, `time` and `timeUnix` added to `fields`.
pub(super) fn line(out: Out, event: &str, message: &str, fields: Value) -> Result<(), Failure> {
    let now = now_or(None);
    out.print(
        || format!("{} {message}\n", show(now)),
        || {
            let mut object = json!({ "event": event, "message": message });
            if let (Some(map), Value::Object(extra)) = (object.as_object_mut(), fields) {
                map.extend(extra);
            }
            put_time(&mut object, "time", now);
            object
        },
    )
}

/// Prints a step of the provision-or-connect lifecycle as one line.
pub(super) fn print_step(out: Out, step: &DeviceStep) -> Result<(), Failure> {
    match step {
        DeviceStep::Cached(a) => line(
            out,
            "cached",
            &format!("cached assignment: {} on {}", a.device_id, a.assigned_hub),
            assignment_json(a),
        ),
        DeviceStep::Provisioning(s) => line(out, "dps", &describe_step(s), step_json(s)),
        DeviceStep::Assigned(a) => line(
            out,
            "assigned",
            &format!(
                "assigned: {} on {} ({})",
                a.device_id,
                a.assigned_hub,
                a.substatus.as_deref().unwrap_or("-")
            ),
            assignment_json(a),
        ),
        DeviceStep::Connecting { hub, device_id } => line(
            out,
            "connecting",
            &format!("hub: connecting to {hub} as {device_id}"),
            json!({"hub": hub, "deviceId": device_id}),
        ),
        DeviceStep::Connected { hub } => line(
            out,
            "connected",
            &format!("hub: {hub} admitted the device"),
            json!({"hub": hub}),
        ),
        DeviceStep::Refused { hub, code } => line(
            out,
            "refused",
            &format!("hub: {hub} refused the device (CONNACK {code}); provisioning again"),
            json!({"hub": hub, "connack": code}),
        ),
        _ => line(
            out,
            "step",
            "another lifecycle step",
            Value::Object(Map::new()),
        ),
    }
}
