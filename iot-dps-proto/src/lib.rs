#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod api_version;
mod client;
mod client_config;
mod error;
mod event;
mod http;
mod json;
mod mqtt;
mod operation;
mod registration;
mod request;
mod response;
mod status;
mod text;
mod topic;

pub use api_version::ApiVersion;
pub use client::ProvisioningClient;
pub use client_config::{ClientConfig, POLLING_LIMIT, POLLING_WINDOW};
pub use error::Error;
pub use event::{Event, Failure, Handled};
pub use http::{HTTPS_BASE_URL, HttpMethod, HttpRequest, HttpsEndpoint};
pub use json::{MAX_JSON_DEPTH, MAX_PAYLOAD_LEN, check_json_bounds};
pub use mqtt::{
    GLOBAL_DEVICE_ENDPOINT, MQTT_PORT, MqttConnect, REGISTRATION_KEY_NAME, UserNameParts,
};
pub use operation::{
    DeviceRegistrationResult, ErrorBody, RegistrationOperationStatus,
    SymmetricKeyRegistrationResult, TpmRegistrationResult, TrustBundle, TrustBundleCertificate,
    X509CertificateInfo, X509RegistrationResult,
};
pub use registration::{DeviceRegistration, TpmAttestation, check_poll_payload};
pub use request::{Request, Rid};
pub use response::{Response, ResponseBody, parse_retry_after_header};
pub use status::{RegistrationStatus, Substatus};
pub use topic::{
    OPERATION_STATUS_TOPIC_PREFIX, REGISTER_TOPIC_PREFIX, RESPONSE_TOPIC_PREFIX, RequestTopic,
    ResponseTopic, SUBSCRIBE_TOPIC_FILTER, operation_status_topic, register_topic, response_topic,
    write_operation_status_topic, write_register_topic, write_response_topic,
};
