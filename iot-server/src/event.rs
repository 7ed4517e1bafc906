//! What the server reports: one value per decision (connect allowed or denied with its reason
//! code, registration outcome, API call), printed as one JSON line by `iot serve --json`.
//! Never a key, a token or a signature.

use serde::Serialize;

/// One decision or notable happening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "event"
)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A CONNECT was decided.
    Connect {
        /// `hub` or `dps`, or `unknown` when the user name routes nowhere.
        endpoint: String,
        /// Hub host name or DPS ID scope.
        target: String,
        /// Device ID (`deviceId/moduleId` for modules) or registration ID.
        identity: String,
        /// Transport (`mqtt`, `mqtt-ws`).
        transport: String,
        /// Whether it was allowed.
        allowed: bool,
        /// Machine-readable reason (`iot-hub-auth` `DenyReason::code`, or `dps`/`routing`).
        code: String,
        /// Human-readable reason: what to fix.
        reason: String,
        /// Remote address.
        peer: String,
    },
    /// A DPS registration was decided.
    Registration {
        /// Registration ID.
        registration_id: String,
        /// `assigned`, `disabled` or `failed`.
        status: String,
        /// Assigned hub, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        assigned_hub: Option<String>,
        /// Device ID in that hub, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        device_id: Option<String>,
        /// The decision in words.
        reason: String,
    },
    /// A telemetry message was stored.
    Telemetry {
        /// Hub host name.
        hub: String,
        /// Device ID.
        device_id: String,
        /// Module ID.
        #[serde(skip_serializing_if = "Option::is_none")]
        module_id: Option<String>,
        /// Body size in bytes.
        size: usize,
    },
    /// An HTTPS API call was decided (Registry Manager, DPS service, DPS device, telemetry).
    Api {
        /// `registry`, `dps-service`, `dps-device`, `telemetry`, or `none` (no route).
        api: String,
        /// HTTP method.
        method: String,
        /// The resource (`devices/{id}`, `enrollments/{id}`, ...).
        resource: String,
        /// The `Host` header.
        host: String,
        /// HTTP status answered.
        status: u16,
        /// Machine-readable outcome (`ok`, `not_found`, `etag_mismatch`, a deny code, ...).
        code: String,
        /// The decision in words (empty when plain).
        reason: String,
        /// The policy that authorized the call.
        #[serde(skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
        /// Remote address.
        peer: String,
    },
    /// A connection ended.
    Disconnect {
        /// Device or registration ID, when the CONNECT got that far.
        identity: String,
        /// Why.
        reason: String,
        /// Remote address.
        peer: String,
    },
}
