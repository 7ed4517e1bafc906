//! The values the store keeps beside the decision crates' own types.

use core::fmt;

use iot_hub_auth::{CertificateDocument, SharedAccessPolicy};
use serde::{Deserialize, Serialize};

/// A hub's settings as the hub file (`examples/hub.json`) spells them, without identities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubState {
    /// `hostName`.
    pub host_name: String,
    /// `authorizationPolicies`.
    #[serde(default)]
    pub authorization_policies: Vec<SharedAccessPolicy>,
    /// `certificates`.
    #[serde(default)]
    pub certificates: Vec<CertificateDocument>,
    /// `disableDeviceSAS`.
    #[serde(default, rename = "disableDeviceSAS")]
    pub disable_device_sas: bool,
    /// `disableModuleSAS`.
    #[serde(default, rename = "disableModuleSAS")]
    pub disable_module_sas: bool,
    /// `disableLocalAuth`.
    #[serde(default)]
    pub disable_local_auth: bool,
    /// `allowedClockSkewSeconds`.
    #[serde(default = "default_skew")]
    pub allowed_clock_skew_seconds: u64,
    /// `x509CaOverWebSockets`.
    #[serde(default, rename = "x509CaOverWebSockets")]
    pub x509_ca_over_websockets: bool,
    /// `selfSignedRequiresCn`.
    #[serde(default)]
    pub self_signed_requires_cn: bool,
}

fn default_skew() -> u64 {
    iot_sas::DEFAULT_SKEW_SECS
}

impl HubState {
    /// The settings of a hub document.
    pub fn from_document(doc: &iot_hub_auth::HubDocument) -> Self {
        Self {
            host_name: doc.host_name.clone(),
            authorization_policies: doc.authorization_policies.clone(),
            certificates: doc.certificates.clone(),
            disable_device_sas: doc.disable_device_sas,
            disable_module_sas: doc.disable_module_sas,
            disable_local_auth: doc.disable_local_auth,
            allowed_clock_skew_seconds: doc.allowed_clock_skew_seconds,
            x509_ca_over_websockets: doc.x509_ca_over_websockets,
            self_signed_requires_cn: doc.self_signed_requires_cn,
        }
    }

    /// The hub document with these settings and `identities`.
    pub fn to_document(
        &self,
        identities: Vec<iot_hub_auth::DeviceIdentity>,
    ) -> iot_hub_auth::HubDocument {
        iot_hub_auth::HubDocument {
            host_name: self.host_name.clone(),
            authorization_policies: self.authorization_policies.clone(),
            certificates: self.certificates.clone(),
            disable_device_sas: self.disable_device_sas,
            disable_module_sas: self.disable_module_sas,
            disable_local_auth: self.disable_local_auth,
            allowed_clock_skew_seconds: self.allowed_clock_skew_seconds,
            x509_ca_over_websockets: self.x509_ca_over_websockets,
            self_signed_requires_cn: self.self_signed_requires_cn,
            identities,
        }
    }
}

/// A DPS service-side shared access policy: `keyName`, keys, and `rights` from
/// `ServiceConfig`, `EnrollmentRead`, `EnrollmentWrite`, `RegistrationStatusRead`,
/// `RegistrationStatusWrite` (Microsoft Learn "Control access to Azure IoT Hub Device
/// Provisioning Service").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsPolicy {
    /// Policy (key) name, e.g. `provisioningserviceowner`.
    pub key_name: String,
    /// Base64 primary key.
    pub primary_key: iot_dps_service::KeyText,
    /// Base64 secondary key.
    pub secondary_key: iot_dps_service::KeyText,
    /// Comma-separated rights.
    pub rights: String,
}

impl fmt::Debug for DpsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpsPolicy")
            .field("key_name", &self.key_name)
            .field("rights", &self.rights)
            .finish_non_exhaustive()
    }
}

/// The DPS rights names, in the order Azure prints them.
pub const DPS_RIGHTS: [&str; 5] = [
    "ServiceConfig",
    "EnrollmentRead",
    "EnrollmentWrite",
    "RegistrationStatusRead",
    "RegistrationStatusWrite",
];

/// The DPS instance: `iot-dps-service`'s [`iot_dps_service::DpsInstance`] plus the service
/// host name and policies of the service API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DpsState {
    /// The instance (ID scope, linked hubs, CAs, default allocation policy).
    #[serde(flatten)]
    pub instance: iot_dps_service::DpsInstance,
    /// Host name of the service API, e.g. `contoso-dps.azure-devices-provisioning.net`.
    pub service_host_name: String,
    /// Service API policies.
    #[serde(default)]
    pub authorization_policies: Vec<DpsPolicy>,
}

/// Identifies a twin: hub, device, module.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinKey {
    /// Hub host name (lower case).
    pub hub: String,
    /// Device ID.
    pub device_id: String,
    /// Module ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
}

/// A device or module twin: tags, desired and reported properties, each properties object
/// carrying its `$version` (Microsoft Learn "Understand and use device twins").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTwin {
    /// Whose twin.
    #[serde(flatten)]
    pub key: TwinKey,
    /// `tags`.
    #[serde(default)]
    pub tags: serde_json::Value,
    /// `properties.desired` (with `$version`).
    pub desired: serde_json::Value,
    /// `properties.reported` (with `$version`).
    pub reported: serde_json::Value,
}

/// One device-to-cloud message as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryMessage {
    /// Hub host name.
    pub hub: String,
    /// Device ID.
    pub device_id: String,
    /// Module ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
    /// The property bag exactly as the topic carried it (`$.ct=...&key=value`).
    pub properties: String,
    /// The message body.
    #[serde(with = "body_text")]
    pub body: Vec<u8>,
    /// When it was received, Unix milliseconds.
    pub received_ms: u64,
}

impl TelemetryMessage {
    /// The property bag decoded: `key=value` pairs split on `&`, each side percent-decoded
    /// (the SDKs URL-encode system properties such as `$.ct` as `%24.ct`).
    pub fn property_map(&self) -> Vec<(String, String)> {
        let decode = |text: &str| {
            iot_sas::percent_decode(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        self.properties
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(key), decode(value))
            })
            .collect()
    }
}

impl fmt::Debug for TelemetryMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryMessage")
            .field("hub", &self.hub)
            .field("device_id", &self.device_id)
            .field("module_id", &self.module_id)
            .field("properties", &self.properties)
            .field("body_len", &self.body.len())
            .field("received_ms", &self.received_ms)
            .finish()
    }
}

/// Bodies are written as UTF-8 text when they are, else as `{"base64": "..."}`.
mod body_text {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Body {
        Text(String),
        Binary { base64: String },
    }

    pub(super) fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match core::str::from_utf8(body) {
            Ok(text) => Body::Text(text.to_owned()),
            Err(_) => Body::Binary {
                base64: base64::engine::general_purpose::STANDARD.encode(body),
            },
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Body::deserialize(d)? {
            Body::Text(text) => Ok(text.into_bytes()),
            Body::Binary { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(serde::de::Error::custom),
        }
    }
}
