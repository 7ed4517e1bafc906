#![doc = include_str!("../README.md")]

mod clock;
mod connection;
mod credential;
mod endpoint;
mod error;
mod hub;
#[doc(hidden)]
pub mod internal;
mod lifecycle;
mod link;
mod message;
mod provision;
mod session;
mod twin;

pub use connection::ReceivedMessage;
pub use credential::{Credential, X509Identity};
pub use endpoint::{
    Endpoint, MQTT_TLS_PORT, ServerTrust, Transport, WEBSOCKET_PATH, WEBSOCKET_PORT,
};
pub use error::{Error, InvalidInput, ProtocolError, StoreError, TlsError, WebSocketError};
pub use hub::{HUB_API_VERSION, HubClient, HubOptions};
pub use lifecycle::{
    AssignmentStore, ConnectPath, Connected, DeviceStep, FileStore, HubSettings,
    provision_or_connect,
};
pub use message::{MAX_MESSAGE_SIZE, Message};
pub use provision::{Assignment, ProvisioningOptions, ProvisioningStep, provision, provision_with};
pub use twin::{TWIN_RESPONSE_FILTER, TwinResponse, get_twin_topic, patch_reported_topic};

// Re-exported so callers can tune the registration flow without depending on iot-dps-proto.
pub use iot_dps_proto::{ApiVersion, ClientConfig, Failure};

/// What this crate calls itself in the DPS `ClientVersion` and the hub `DeviceClientType`.
pub const USER_AGENT: &str = concat!("iot-device/", env!("CARGO_PKG_VERSION"));

/// Largest MQTT packet sent or accepted: a 256 KB message plus room for its topic.
pub(crate) const MAX_PACKET: usize = MAX_MESSAGE_SIZE + 64 * 1024;
