//! What the registration flow reports: its outcome and what it did with a response.

use alloc::boxed::Box;
use alloc::string::String;

use serde_json::Value;

use crate::{DeviceRegistrationResult, Error, ErrorBody, RegistrationStatus, Substatus};

/// Why a registration failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The service answered with a non-retriable status (1xx, 3xx, or 4xx other than 429):
    /// its error body, if it sent one (reference §5.5; python and node fail on 300..=428).
    Service(Option<ErrorBody>),
    /// The operation ended with status `failed`; `errorCode`/`errorMessage` are in the
    /// registration state (e.g. `400207` custom allocation failed).
    Registration(Box<DeviceRegistrationResult>),
    /// The operation ended with a status this crate does not know.
    UnexpectedStatus(RegistrationStatus),
    /// A 2xx answer whose body is not a valid operation status, or an `assigned` answer
    /// without `assignedHub`/`deviceId` (sdk-for-c treats that as a parse error).
    Malformed(Error),
    /// [`ClientConfig::deadline`](crate::ClientConfig::deadline) passed before a final answer.
    DeadlineExceeded,
}

impl Failure {
    /// The service's 6-digit extended error code, if any.
    pub fn error_code(&self) -> Option<u32> {
        match self {
            Self::Service(Some(body)) => body.error_code,
            Self::Registration(state) => state.error_code,
            _ => None,
        }
    }
}

/// What the registration came to; see [`ProvisioningClient::poll_event`](crate::ProvisioningClient::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The device is assigned: connect to `assigned_hub` as `device_id` (reference §5.5 step 4).
    Assigned {
        /// Host name of the IoT hub.
        assigned_hub: String,
        /// Device ID in that hub.
        device_id: String,
        /// Why this hub, if the service said.
        substatus: Option<Substatus>,
        /// Custom allocation payload returned by the service.
        payload: Option<Value>,
        /// The whole registration state (etag, x509 details, issued certificates, ...).
        registration_state: Box<DeviceRegistrationResult>,
    },
    /// The enrollment or registration is disabled (reference §5.4).
    Disabled,
    /// The registration failed.
    Failed {
        /// The status code of the answer that ended it; `None` for a deadline.
        status: Option<u16>,
        /// Why.
        error: Failure,
    },
}

/// What [`ProvisioningClient::handle_response`](crate::ProvisioningClient::handle_response) did with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Handled {
    /// It answered the request in flight and moved the state machine.
    Accepted,
    /// Its `$rid` names another request (an older, abandoned one, or another client's): ignored.
    ForeignRid,
    /// No request is in flight (not started, finished, or already answered): ignored.
    NotExpected,
}
