//! The outcome of a connect decision: [`Decision`] with one [`DenyReason`] per rule of
//! azure-iot-protocol.md §9.

use std::borrow::Cow;

use iot_sas::KeySlot;
use iot_x509::{ChainError, ThumbprintMatch};

use crate::identity::AuthenticationType;
use crate::policy::AccessRights;
use crate::registry::RegistryEntry;
use crate::request::Transport;

/// How an allowed connection authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod<'a> {
    /// A SAS token signed with the identity's own primary or secondary key.
    DeviceKey(KeySlot),
    /// A SAS token signed with a shared access policy's key.
    Policy {
        /// The policy name.
        name: &'a str,
        /// Which of the policy's keys signed.
        key: KeySlot,
    },
    /// A `selfSigned` certificate matching the primary or secondary thumbprint.
    Thumbprint(ThumbprintMatch),
    /// A `certificateAuthority` chain anchored at this registered, verified CA.
    Ca {
        /// The CA's registered name.
        name: Cow<'a, str>,
    },
}

impl core::fmt::Display for AuthMethod<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::DeviceKey(slot) => write!(f, "{slot} device key"),
            Self::Policy { name, key } => write!(f, "{key} key of policy {name}"),
            Self::Thumbprint(ThumbprintMatch::Primary) => f.write_str("primary thumbprint"),
            Self::Thumbprint(ThumbprintMatch::Secondary) => f.write_str("secondary thumbprint"),
            Self::Ca { name } => write!(f, "certificate chain to CA {name}"),
        }
    }
}

/// The registry identity an allowed connection authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedIdentity<'a> {
    /// `deviceId`.
    pub device_id: Cow<'a, str>,
    /// `moduleId`, for a module.
    pub module_id: Option<Cow<'a, str>>,
    /// Its `authentication.type`.
    pub auth_type: AuthenticationType,
}

impl AllowedIdentity<'_> {
    /// `deviceId` or `deviceId/moduleId`, the form used in MQTT client IDs.
    pub fn display_id(&self) -> String {
        crate::identifier::display_id(&self.device_id, self.module_id.as_deref())
    }
}

/// An allowed connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow<'a> {
    /// The registry identity that connected (the full document: [`crate::Registry::get`]).
    pub identity: AllowedIdentity<'a>,
    /// How it authenticated.
    pub method: AuthMethod<'a>,
    /// What the connection may do: `DeviceConnect` for device connections (§1.6).
    pub rights: AccessRights,
    /// Unix seconds after which the hub must drop the connection: the token's `se`, or the
    /// earliest `notAfter` of the certificate path (§1.7, §7.3).
    pub valid_until: u64,
}

/// Which credential the device presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented {
    /// A SAS token signed with a device or module key (no `skn`).
    DeviceToken,
    /// A SAS token signed with a shared access policy key (`skn`).
    PolicyToken,
    /// A TLS client certificate.
    ClientCertificate,
    /// Nothing.
    Nothing,
}

impl core::fmt::Display for Presented {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::DeviceToken => "a SAS token signed with a device key",
            Self::PolicyToken => "a SAS token signed with a shared access policy",
            Self::ClientCertificate => "a client certificate",
            Self::Nothing => "no credential",
        })
    }
}

/// Why a connection (or service request) was refused: one variant per rule of
/// azure-iot-protocol.md §9. `Display` says what to fix.
///
/// For operators only: it tells whether an identity or policy exists, its authentication type
/// and its `statusReason`. Send the client [`DenyReason::wire`] instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DenyReason {
    /// The identity fields are missing or malformed (MQTT client ID / user name, AMQP SASL
    /// user name, HTTPS path).
    #[error("identity claim rejected: {0}; send the identity as the transport requires")]
    MalformedClaim(#[source] crate::Error),
    /// The device or module is not in the registry (never created, or deleted).
    #[error("identity {identity} is not registered in the hub; create it in the identity registry")]
    UnknownIdentity {
        /// `deviceId` or `deviceId/moduleId`.
        identity: String,
    },
    /// The identity's `status` is `disabled`.
    #[error("identity {identity} is disabled{}; set its status to enabled", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Disabled {
        /// `deviceId` or `deviceId/moduleId`.
        identity: String,
        /// `statusReason`, if any.
        reason: Option<String>,
    },
    /// The module's device is `disabled`: a device's status covers its modules (Azure modules
    /// have no status of their own, azure-iot-protocol.md §7.1).
    #[error("module {module} belongs to device {device}, which is disabled{}; set the device's status to enabled", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    DeviceDisabled {
        /// `deviceId/moduleId` of the module that tried to connect.
        module: String,
        /// `deviceId`.
        device: String,
        /// The device's `statusReason`, if any.
        reason: Option<String>,
    },
    /// The credential does not fit `authentication.type` (a `sas` identity must present a SAS
    /// token, X.509 identities a client certificate; `none` never connects).
    #[error(
        "identity {identity} authenticates with type {auth_type} but presented {presented}; use the credential its authentication type requires"
    )]
    CredentialMismatch {
        /// `deviceId` or `deviceId/moduleId`.
        identity: String,
        /// The registered type.
        auth_type: AuthenticationType,
        /// What was presented.
        presented: Presented,
    },
    /// SAS is switched off on the hub for this kind of connection.
    #[error(
        "SAS authentication is disabled on this hub ({setting} is true); use X.509 or change {setting}"
    )]
    SasDisabled {
        /// `disableDeviceSAS`, `disableModuleSAS` or `disableLocalAuth`.
        setting: &'static str,
    },
    /// The password is not a well-formed SAS token.
    #[error(
        "malformed SAS token: {0}; send `SharedAccessSignature sr=...&sig=...&se=...[&skn=...]`"
    )]
    MalformedToken(#[source] iot_sas::Error),
    /// The token's `se` is in the past (beyond the allowed clock skew).
    #[error(
        "SAS token expired at {expiry} (now {now}, skew {skew} s); sign a new token with a later expiry"
    )]
    TokenExpired {
        /// The token's `se`.
        expiry: u64,
        /// The decision time.
        now: u64,
        /// The allowed clock skew.
        skew: u64,
    },
    /// Neither key produced the token's signature.
    #[error(
        "SAS token signature does not match the {signer}'s primary or secondary key; sign with the current key over the exact `sr` and `se`"
    )]
    BadSignature {
        /// `identity dev-1` or `policy device`.
        signer: String,
    },
    /// The token's `sr` does not name (or, for policy tokens, cover) the identity's resource.
    #[error("SAS token resource {resource:?} does not cover {expected:?}; sign for `{expected}`")]
    TokenScope {
        /// The token's `sr` as received.
        resource: String,
        /// The resource the connection needs.
        expected: String,
    },
    /// `skn` names a policy the hub does not have.
    #[error(
        "shared access policy {name:?} does not exist on this hub; use an existing policy name in skn"
    )]
    UnknownPolicy {
        /// The `skn` value.
        name: String,
    },
    /// A service token carries no `skn`: only policy tokens may call service APIs.
    #[error("service requests need a token signed with a shared access policy (skn=...)")]
    NotAPolicyToken,
    /// The policy lacks a right the operation needs (`DeviceConnect` for device connects).
    #[error(
        "policy {policy} has rights {granted} but {required} is required; grant it or use another policy"
    )]
    PolicyLacksRights {
        /// Policy name.
        policy: String,
        /// Needed rights.
        required: AccessRights,
        /// Rights of the policy.
        granted: AccessRights,
    },
    /// The AMQP user name `{policy}@sas.root.{hub}` names another policy than the token's `skn`.
    #[error(
        "SASL user name names policy {user_name_policy:?} but the token was signed by {token_policy:?}; make them agree"
    )]
    PolicyNameMismatch {
        /// Policy in the user name.
        user_name_policy: String,
        /// `skn` of the token (empty if absent).
        token_policy: String,
    },
    /// The certificate's thumbprint is neither the primary nor the secondary thumbprint.
    #[error(
        "client certificate thumbprints (SHA-1 {sha1}, SHA-256 {sha256}) match neither registered thumbprint of {identity}; register this certificate's thumbprint"
    )]
    ThumbprintMismatch {
        /// `deviceId` or `deviceId/moduleId`.
        identity: String,
        /// SHA-1 of the presented leaf.
        sha1: String,
        /// SHA-256 of the presented leaf.
        sha256: String,
    },
    /// The certificate chain was refused.
    #[error("client certificate chain rejected: {0}")]
    ChainRejected(#[source] ChainError),
    /// The leaf's subject CN is not `deviceId` (or `deviceId/moduleId`).
    #[error(
        "certificate subject CN {found:?} does not match {expected:?}; issue the device certificate with CN={expected}"
    )]
    CnMismatch {
        /// What the CN must be.
        expected: String,
        /// The CN found (`None`: no single CN).
        found: Option<String>,
    },
    /// The chain reaches a registered CA whose proof of possession is not complete.
    #[error("CA {ca_name} is registered but not verified; complete proof of possession for it")]
    CaNotVerified {
        /// The CA's name.
        ca_name: String,
    },
    /// A `certificateAuthority` device connected over WebSockets while `x509CaOverWebSockets`
    /// is false (the default).
    #[error(
        "X.509 CA authentication over {transport} is refused by this hub (setting x509CaOverWebSockets is false, the default); connect over mqtt or amqp, or set x509CaOverWebSockets to true"
    )]
    X509CaOverWebSockets {
        /// The WebSocket transport used.
        transport: Transport,
    },
    /// The MQTT user name (or AMQP user name) names another identity than the client ID (or
    /// link).
    #[error(
        "user name names {user_name:?} but the client ID names {client_id:?}; both must be the same deviceId[/moduleId]"
    )]
    ClientIdMismatch {
        /// Identity in the user name.
        user_name: String,
        /// Identity in the client ID / link / path.
        client_id: String,
    },
    /// The user name names another hub.
    #[error(
        "user name names hub {found:?} but this hub is {expected:?}; put the hub host name in the user name"
    )]
    HostNameMismatch {
        /// The hub's host name.
        expected: String,
        /// What the user name says.
        found: String,
    },
}

impl DenyReason {
    /// A stable machine-readable name of the rule (snake case), e.g. `unknown_identity`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedClaim(_) => "malformed_claim",
            Self::UnknownIdentity { .. } => "unknown_identity",
            Self::Disabled { .. } => "disabled",
            Self::DeviceDisabled { .. } => "device_disabled",
            Self::CredentialMismatch { .. } => "credential_mismatch",
            Self::SasDisabled { .. } => "sas_disabled",
            Self::MalformedToken(_) => "malformed_token",
            Self::TokenExpired { .. } => "token_expired",
            Self::BadSignature { .. } => "bad_signature",
            Self::TokenScope { .. } => "token_scope",
            Self::UnknownPolicy { .. } => "unknown_policy",
            Self::NotAPolicyToken => "not_a_policy_token",
            Self::PolicyLacksRights { .. } => "policy_lacks_rights",
            Self::PolicyNameMismatch { .. } => "policy_name_mismatch",
            Self::ThumbprintMismatch { .. } => "thumbprint_mismatch",
            Self::ChainRejected(_) => "chain_rejected",
            Self::CnMismatch { .. } => "cn_mismatch",
            Self::CaNotVerified { .. } => "ca_not_verified",
            Self::X509CaOverWebSockets { .. } => "x509_ca_over_websockets",
            Self::ClientIdMismatch { .. } => "client_id_mismatch",
            Self::HostNameMismatch { .. } => "host_name_mismatch",
        }
    }
}

/// The outcome of [`crate::authorize`].
///
/// The [`DenyReason`] is for operators. What may go back to the client is
/// [`Decision::wire`] (a [`crate::ClientView`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Connect.
    Allow(Allow<'a>),
    /// Refuse, with the reason.
    Deny(DenyReason),
}

impl<'a> Decision<'a> {
    /// Whether the connection is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }

    /// The allow details, if allowed.
    pub fn allowed(&self) -> Option<&Allow<'a>> {
        match self {
            Self::Allow(a) => Some(a),
            Self::Deny(_) => None,
        }
    }

    /// The deny reason, if denied.
    pub fn denied(&self) -> Option<&DenyReason> {
        match self {
            Self::Allow(_) => None,
            Self::Deny(r) => Some(r),
        }
    }
}

/// An allowed back-end (service) request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAllow<'a> {
    /// The policy that signed the token.
    pub policy: &'a str,
    /// Which of its keys.
    pub key: KeySlot,
    /// The policy's rights.
    pub rights: AccessRights,
    /// The token's `se`.
    pub valid_until: u64,
}

/// The refusal of a credential the identity's authentication type does not take.
pub(crate) fn mismatch(entry: &RegistryEntry<'_>, presented: Presented) -> DenyReason {
    DenyReason::CredentialMismatch {
        identity: entry.display_id(),
        auth_type: entry.auth_type,
        presented,
    }
}

/// The allowed identity, from its registry entry (borrowed IDs are copied as references).
#[inline]
pub(crate) fn allowed<'a>(entry: &RegistryEntry<'a>) -> AllowedIdentity<'a> {
    AllowedIdentity {
        device_id: entry.device_id.clone(),
        module_id: entry.module_id.clone(),
        auth_type: entry.auth_type,
    }
}
