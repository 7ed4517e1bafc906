#![doc = include_str!("../README.md")]

mod amqp;
mod error;
mod id;
mod identity;
mod mqtt;
mod policy;
mod thumbprint;

pub use amqp::SaslUserName;
pub use error::{Error, IdKind, Slot};
pub use id::{
    ID_SPECIAL_CHARS, MAX_ID_LEN, MAX_POLICY_NAME_LEN, hub_name, validate_device_id,
    validate_host_name, validate_module_id, validate_policy_name,
};
pub use identity::{
    Authentication, AuthenticationType, Capabilities, DeviceIdentity, IdentityStatus,
    MAX_IDENTITY_KEY_LEN, MAX_STATUS_REASON_LEN, MIN_KEY_LEN, SymmetricKey, X509Thumbprint,
};
pub use mqtt::{MAX_USERNAME_LEN, MqttClientId, MqttUserName};
pub use policy::{AccessRights, SharedAccessPolicy};
pub use thumbprint::{Thumbprint, ThumbprintAlgorithm};
