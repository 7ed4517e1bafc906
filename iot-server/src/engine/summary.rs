//! What the embedder is told about the hubs and the DPS instance it started (the
//! [`crate::Summary`] of a running server), and the host names its TLS certificate must cover.
//! Plain data made from the realm: the plumbing (`server`, `tls`) reads it, never the reverse.

use serde::Serialize;

/// A hub in the [`crate::Summary`].
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubSummary {
    /// Host name.
    pub host_name: String,
    /// `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...` of the first policy with
    /// RegistryWrite (`iothubowner` by convention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_connection_string: Option<String>,
}

impl core::fmt::Debug for HubSummary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HubSummary")
            .field("host_name", &self.host_name)
            .finish_non_exhaustive()
    }
}

/// The DPS instance in the [`crate::Summary`].
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsSummary {
    /// ID scope.
    pub id_scope: String,
    /// The device endpoint devices dial.
    pub device_endpoint: String,
    /// Service API host name.
    pub service_host_name: String,
    /// `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...` of the first policy with
    /// EnrollmentWrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_connection_string: Option<String>,
}

impl core::fmt::Debug for DpsSummary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpsSummary")
            .field("id_scope", &self.id_scope)
            .field("device_endpoint", &self.device_endpoint)
            .finish_non_exhaustive()
    }
}

/// The SDKs' global DPS endpoint (iot-dps-proto `GLOBAL_DEVICE_ENDPOINT`).
pub const GLOBAL_DPS_HOST: &str = iot_dps_proto::GLOBAL_DEVICE_ENDPOINT;

/// The names the generated server certificate covers, sorted and without duplicates:
/// `localhost`, `127.0.0.1`, `::1`, the global DPS host and `extra` (hub and DPS hosts).
pub fn server_names<'a>(extra: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1", GLOBAL_DPS_HOST]
        .into_iter()
        .chain(extra)
        .map(str::to_ascii_lowercase)
        .collect();
    names.sort();
    names.dedup();
    names
}
