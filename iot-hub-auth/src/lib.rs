#![doc = include_str!("../README.md")]

mod amqp;
mod arena;
mod authorize;
mod certificate;
mod claim;
mod decision;
mod error;
mod hub_settings;
mod identifier;
mod identity;
mod in_memory;
mod keys;
mod mqtt;
mod policy;
mod registry;
mod request;
mod wire;

pub use amqp::SaslUserName;
pub use authorize::{authorize, authorize_service};
pub use decision::{
    Allow, AllowedIdentity, AuthMethod, Decision, DenyReason, Presented, ServiceAllow,
};
pub use error::{AuthenticationProblem, Error, IdKind, IdProblem, ThumbprintProblem};
pub use hub_settings::{
    CertificateDocument, CertificateProperties, HubDocument, HubPolicy, HubSettings,
};
pub use identifier::{
    ID_SPECIAL_CHARS, MAX_ID_LEN, MAX_POLICY_NAME_LEN, hub_name, validate_device_id,
    validate_host_name, validate_module_id, validate_policy_name,
};
pub use identity::{
    Authentication, AuthenticationType, Capabilities, DeviceIdentity, IdentityStatus,
    MAX_STATUS_REASON_LEN, SymmetricKey, X509Thumbprint,
};
pub use in_memory::InMemoryRegistry;
pub use keys::PreKeyedKeys;
pub use mqtt::{MAX_USERNAME_LEN, MqttClientId, MqttUserName};
pub use policy::{AccessRights, SharedAccessPolicy};
pub use registry::{Lent, Registry, RegistryEntry, RegistryHasher};
pub use request::{ConnectRequest, Transport};
pub use wire::ClientView;

// Types of the dependencies that appear in this crate's API.
pub use iot_sas::KeySlot;
pub use iot_x509::{CertificateDer, ChainError, Thumbprint, ThumbprintAlgorithm, ThumbprintMatch};
