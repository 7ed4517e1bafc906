//! What a refusal may tell the client: the client-safe view of a [`Decision`].
//!
//! A [`DenyReason`] is for operators: it names the identity, whether it exists, its
//! authentication type, its `statusReason`, the policy, the CA. None of that may go back to a
//! caller that has not authenticated, or the hub becomes an oracle for which devices and
//! policies exist and how they are set up. [`Decision::wire`] (and [`DenyReason::wire`]) keep
//! only what the caller's own request already shows:
//!
//! * [`ClientView::BadRequest`]: the identity fields could not be read or disagree with each
//!   other or with this hub (MQTT client ID and user name, AMQP SASL user name, HTTPS path).
//!   These are decided from the request alone, before any lookup.
//! * [`ClientView::NotAuthorized`]: every other refusal, all alike: unknown or disabled
//!   identity or device, wrong credential type, switched-off SAS, malformed, expired or
//!   mis-signed token, scope, policy, rights, certificate chain, CN. IoT Hub itself answers
//!   these with CONNACK 5 "not authorized" on MQTT and 401 (`401003 IoTHubUnauthorized`) on
//!   HTTPS (azure-iot-protocol.md §6.1).
//!
//! **Relay the [`ClientView`]** (its CONNACK code, HTTP status, SASL outcome and fixed
//! [`ClientView::message`]); **log the [`DenyReason`]** for operators.

use crate::decision::{Decision, DenyReason};

/// The client-safe view of a connect decision: what may be sent back on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientView {
    /// Connected.
    Accepted,
    /// The request's identity fields are malformed or inconsistent (decided before any
    /// registry lookup).
    BadRequest,
    /// Refused; the reason is not disclosed.
    NotAuthorized,
}

impl ClientView {
    /// Whether the connection was accepted.
    pub fn is_accepted(self) -> bool {
        self == Self::Accepted
    }

    /// The MQTT 3.1.1 CONNACK return code (OASIS MQTT 3.1.1 §3.2.2.3): `0x00` accepted,
    /// `0x04` bad user name or password (malformed), `0x05` not authorized. The SDKs report
    /// both refusals as "unauthorized" and do not retry them.
    pub fn mqtt_connack_code(self) -> u8 {
        match self {
            Self::Accepted => 0x00,
            Self::BadRequest => 0x04,
            Self::NotAuthorized => 0x05,
        }
    }

    /// The MQTT 5 CONNACK reason code (OASIS MQTT 5.0 §3.2.2.2): `0x00` success, `0x86` bad
    /// user name or password, `0x87` not authorized.
    pub fn mqtt5_reason_code(self) -> u8 {
        match self {
            Self::Accepted => 0x00,
            Self::BadRequest => 0x86,
            Self::NotAuthorized => 0x87,
        }
    }

    /// The HTTP status: 200, 400, or 401.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Accepted => 200,
            Self::BadRequest => 400,
            Self::NotAuthorized => 401,
        }
    }

    /// IoT Hub's 6-digit error code for the body of an HTTPS refusal: `400000` (generic bad
    /// request) or `401003` (`IoTHubUnauthorized`, azure-iot-protocol.md §6.1); `None` when
    /// accepted.
    pub fn iot_hub_error_code(self) -> Option<u32> {
        match self {
            Self::Accepted => None,
            Self::BadRequest => Some(400_000),
            Self::NotAuthorized => Some(401_003),
        }
    }

    /// The AMQP SASL outcome code (OASIS AMQP 1.0 §5.3.3.6): `0` ok, `1` auth (a refusal of
    /// either kind).
    pub fn amqp_sasl_code(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::BadRequest | Self::NotAuthorized => 1,
        }
    }

    /// A fixed text for the client: `accepted`, `bad request`, `not authorized`.
    pub fn message(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::BadRequest => "bad request",
            Self::NotAuthorized => "not authorized",
        }
    }
}

impl core::fmt::Display for ClientView {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl DenyReason {
    /// What this refusal may tell the client (see [`ClientView`]): `BadRequest` for the
    /// identity-claim checks that run before any lookup, `NotAuthorized` for everything else.
    pub fn wire(&self) -> ClientView {
        match self {
            // Decided from the request's own identity fields, before the registry is read.
            Self::MalformedClaim(_)
            | Self::ClientIdMismatch { .. }
            | Self::HostNameMismatch { .. } => ClientView::BadRequest,
            // Everything that depends on the registry, the policies, the CAs, the settings or
            // the clock. A malformed token is here too: tokens are read after the lookup, so
            // telling it apart would tell whether the identity exists.
            Self::UnknownIdentity { .. }
            | Self::Disabled { .. }
            | Self::DeviceDisabled { .. }
            | Self::CredentialMismatch { .. }
            | Self::SasDisabled { .. }
            | Self::MalformedToken(_)
            | Self::TokenExpired { .. }
            | Self::BadSignature { .. }
            | Self::TokenScope { .. }
            | Self::UnknownPolicy { .. }
            | Self::NotAPolicyToken
            | Self::PolicyLacksRights { .. }
            | Self::PolicyNameMismatch { .. }
            | Self::ThumbprintMismatch { .. }
            | Self::ChainRejected(_)
            | Self::CnMismatch { .. }
            | Self::CaNotVerified { .. }
            | Self::X509CaOverWebSockets { .. } => ClientView::NotAuthorized,
        }
    }
}

impl Decision<'_> {
    /// What may be sent back to the client (see [`ClientView`]); log the [`DenyReason`]
    /// itself for operators.
    pub fn wire(&self) -> ClientView {
        match self {
            Self::Allow(_) => ClientView::Accepted,
            Self::Deny(reason) => reason.wire(),
        }
    }
}
