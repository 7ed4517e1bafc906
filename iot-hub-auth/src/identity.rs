//! Device and module identities in the JSON shape that `az iot hub device-identity show` and
//! `az iot hub module-identity show` print (azure-iot-protocol.md §7.1; Microsoft Learn
//! "Understand the identity registry in your IoT hub").
//!
//! Fields this crate does not use (`etag`, `generationId`, `connectionState`,
//! `cloudToDeviceMessageCount`, `parentScopes`, ...) are accepted and ignored, so output of the
//! Azure CLI or the REST API can be pasted as is. `null` key or thumbprint slots (the CLI prints
//! `"symmetricKey": {"primaryKey": null, "secondaryKey": null}` for X.509 devices) are read as
//! absent.

use iot_sas::KeySlot;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{AuthenticationProblem, Error, ThumbprintProblem};
use crate::identifier::{validate_device_id, validate_module_id};
use crate::keys::registered_key;
use iot_x509::Thumbprint;

/// Maximum length of `statusReason` (azure-iot-protocol.md §7.1).
pub const MAX_STATUS_REASON_LEN: usize = 128;

/// `status` of an identity: only `enabled` identities may connect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentityStatus {
    /// `"enabled"` (the default when the field is absent).
    #[default]
    Enabled,
    /// `"disabled"`: every connection is refused.
    Disabled,
}

/// `authentication.type` (azure-iot-protocol.md §7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthenticationType {
    /// `"sas"`: symmetric keys; the device signs SAS tokens (§1).
    #[default]
    Sas,
    /// `"selfSigned"`: X.509 certificate identified by its thumbprint (§7.2).
    SelfSigned,
    /// `"certificateAuthority"`: X.509 certificate chaining to a verified CA (§7.3).
    CertificateAuthority,
    /// `"none"`: no credential of its own (e.g. modules managed by IoT Edge); never allowed to
    /// connect directly.
    None,
}

impl AuthenticationType {
    /// The JSON spelling (`sas`, `selfSigned`, `certificateAuthority`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sas => "sas",
            Self::SelfSigned => "selfSigned",
            Self::CertificateAuthority => "certificateAuthority",
            Self::None => "none",
        }
    }
}

impl core::fmt::Display for AuthenticationType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `authentication.symmetricKey`: base64 text of the primary and secondary keys, each of
/// which must decode to 16..=64 bytes (azure-iot-protocol.md §1.2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKey {
    /// Base64 of the primary key.
    pub primary_key: String,
    /// Base64 of the secondary key.
    pub secondary_key: String,
}

impl core::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

impl SymmetricKey {
    /// Checks both slots (base64, 16..=64 bytes: iot-sas's
    /// [`SharedAccessKey::from_registered_base64`](iot_sas::SharedAccessKey::from_registered_base64));
    /// `owner` names the identity in the error.
    pub fn validate(&self, owner: &str) -> Result<(), Error> {
        registered_key(owner, KeySlot::Primary, &self.primary_key)?;
        registered_key(owner, KeySlot::Secondary, &self.secondary_key)?;
        Ok(())
    }
}

/// `authentication.x509Thumbprint`: SHA-1 (40 hex) or SHA-256 (64 hex) thumbprints of the
/// device certificate; when both are set they must have the same length (§7.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Thumbprint {
    /// Primary thumbprint.
    #[serde(default)]
    pub primary_thumbprint: Option<Thumbprint>,
    /// Secondary thumbprint.
    #[serde(default)]
    pub secondary_thumbprint: Option<Thumbprint>,
}

impl X509Thumbprint {
    fn is_empty(&self) -> bool {
        self.primary_thumbprint.is_none() && self.secondary_thumbprint.is_none()
    }
}

/// `authentication`: the type and the credential data that goes with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    /// `type`: which credential the identity uses.
    #[serde(rename = "type", default)]
    pub r#type: AuthenticationType,
    /// Keys, for `sas`.
    #[serde(
        default,
        deserialize_with = "de_symmetric_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub symmetric_key: Option<SymmetricKey>,
    /// Thumbprints, for `selfSigned`.
    #[serde(
        default,
        deserialize_with = "de_thumbprints",
        skip_serializing_if = "Option::is_none"
    )]
    pub x509_thumbprint: Option<X509Thumbprint>,
}

/// Reads `symmetricKey`, treating `null` and `{primaryKey: null, secondaryKey: null}` as absent.
fn de_symmetric_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SymmetricKey>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        primary_key: Option<String>,
        #[serde(default)]
        secondary_key: Option<String>,
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None
        | Some(Raw {
            primary_key: None,
            secondary_key: None,
        }) => None,
        Some(raw) => Some(SymmetricKey {
            primary_key: raw.primary_key.unwrap_or_default(),
            secondary_key: raw.secondary_key.unwrap_or_default(),
        }),
    })
}

/// Reads `x509Thumbprint`, treating `null` and two `null` slots as absent.
fn de_thumbprints<'de, D: Deserializer<'de>>(d: D) -> Result<Option<X509Thumbprint>, D::Error> {
    Ok(Option::<X509Thumbprint>::deserialize(d)?.filter(|t| !t.is_empty()))
}

/// `capabilities`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// `iotEdge`: the device is an IoT Edge device.
    #[serde(default)]
    pub iot_edge: bool,
}

/// A device or module identity of the registry, as Azure prints it.
///
/// ```
/// let json = r#"{
///   "deviceId": "thermostat-1", "etag": "AAAAAAAAAAE=", "status": "enabled",
///   "authentication": { "type": "sas",
///     "symmetricKey": { "primaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
///                       "secondaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" },
///     "x509Thumbprint": { "primaryThumbprint": null, "secondaryThumbprint": null } },
///   "capabilities": { "iotEdge": false }, "cloudToDeviceMessageCount": 0
/// }"#;
/// let identity: iot_hub_auth::DeviceIdentity = serde_json::from_str(json).unwrap();
/// identity.validate().unwrap();
/// assert_eq!(identity.authentication.r#type, iot_hub_auth::AuthenticationType::Sas);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIdentity {
    /// `deviceId` (case-sensitive, §4).
    pub device_id: String,
    /// `moduleId`, for module identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
    /// `status`.
    #[serde(default)]
    pub status: IdentityStatus,
    /// `statusReason` (at most 128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// `authentication`.
    #[serde(default)]
    pub authentication: Authentication,
    /// `capabilities` (devices only; absent on modules).
    #[serde(default)]
    pub capabilities: Capabilities,
}

impl DeviceIdentity {
    /// A `sas` device with the given base64 keys (call [`validate`](Self::validate) to check
    /// them).
    pub fn sas(device_id: &str, primary: &str, secondary: &str) -> Self {
        Self::with_auth(
            device_id,
            Authentication {
                r#type: AuthenticationType::Sas,
                symmetric_key: Some(SymmetricKey {
                    primary_key: primary.into(),
                    secondary_key: secondary.into(),
                }),
                x509_thumbprint: None,
            },
        )
    }

    /// A `selfSigned` device with the given thumbprints.
    pub fn self_signed(
        device_id: &str,
        primary: Thumbprint,
        secondary: Option<Thumbprint>,
    ) -> Self {
        Self::with_auth(
            device_id,
            Authentication {
                r#type: AuthenticationType::SelfSigned,
                symmetric_key: None,
                x509_thumbprint: Some(X509Thumbprint {
                    primary_thumbprint: Some(primary),
                    secondary_thumbprint: secondary,
                }),
            },
        )
    }

    /// A `certificateAuthority` device.
    pub fn certificate_authority(device_id: &str) -> Self {
        Self::with_auth(
            device_id,
            Authentication {
                r#type: AuthenticationType::CertificateAuthority,
                symmetric_key: None,
                x509_thumbprint: None,
            },
        )
    }

    fn with_auth(device_id: &str, authentication: Authentication) -> Self {
        Self {
            device_id: device_id.into(),
            module_id: None,
            status: IdentityStatus::Enabled,
            status_reason: None,
            authentication,
            capabilities: Capabilities::default(),
        }
    }

    /// The same identity as a module `module_id` of this device.
    #[must_use]
    pub fn into_module(mut self, module_id: &str) -> Self {
        self.module_id = Some(module_id.into());
        self
    }

    /// The same identity with `status: disabled` and the given reason.
    #[must_use]
    pub fn disabled(mut self, reason: Option<&str>) -> Self {
        self.status = IdentityStatus::Disabled;
        self.status_reason = reason.map(Into::into);
        self
    }

    /// Parses one identity from JSON (Azure's shape) and validates it.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let identity: Self = serde_json::from_str(json)?;
        identity.validate()?;
        Ok(identity)
    }

    /// `deviceId` or `deviceId/moduleId`, the form used in MQTT client IDs and errors.
    pub fn display_id(&self) -> String {
        match &self.module_id {
            Some(m) => format!("{}/{m}", self.device_id),
            None => self.device_id.clone(),
        }
    }

    /// Whether the identity may connect at all (`status: enabled`).
    pub fn is_enabled(&self) -> bool {
        self.status == IdentityStatus::Enabled
    }

    /// Checks every rule: ID character set and length (§4), `statusReason` length, key sizes
    /// 16..=64 bytes (§1.2), thumbprint syntax and equal lengths (§7.1), and that the
    /// credential data fits `authentication.type`.
    pub fn validate(&self) -> Result<(), Error> {
        validate_device_id(&self.device_id)?;
        if let Some(m) = &self.module_id {
            validate_module_id(m)?;
        }
        let owner = self.display_id();
        if self
            .status_reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_STATUS_REASON_LEN)
        {
            return Err(Error::StatusReasonTooLong { owner });
        }
        let auth = &self.authentication;
        let mismatch = |reason: AuthenticationProblem| Error::AuthenticationMismatch {
            owner: owner.clone(),
            auth_type: auth.r#type.as_str().into(),
            reason,
        };
        if let Some(keys) = &auth.symmetric_key {
            keys.validate(&owner)?;
        }
        if let Some(X509Thumbprint {
            primary_thumbprint: Some(p),
            secondary_thumbprint: Some(s),
        }) = &auth.x509_thumbprint
            && p.algorithm() != s.algorithm()
        {
            return Err(Error::InvalidThumbprint {
                owner,
                reason: ThumbprintProblem::LengthsDiffer {
                    primary: p.algorithm(),
                    secondary: s.algorithm(),
                },
            });
        }
        match auth.r#type {
            AuthenticationType::Sas => {
                if auth.symmetric_key.is_none() {
                    return Err(mismatch(AuthenticationProblem::SymmetricKeyMissing));
                }
                if auth.x509_thumbprint.is_some() {
                    return Err(mismatch(AuthenticationProblem::ThumbprintSuperfluous));
                }
            }
            AuthenticationType::SelfSigned => {
                if auth.symmetric_key.is_some() {
                    return Err(mismatch(AuthenticationProblem::SymmetricKeySuperfluous));
                }
                if auth
                    .x509_thumbprint
                    .as_ref()
                    .is_none_or(|t| t.primary_thumbprint.is_none())
                {
                    return Err(mismatch(AuthenticationProblem::PrimaryThumbprintMissing));
                }
            }
            AuthenticationType::CertificateAuthority | AuthenticationType::None => {
                if auth.symmetric_key.is_some() || auth.x509_thumbprint.is_some() {
                    return Err(mismatch(AuthenticationProblem::CredentialsSuperfluous));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn az_cli_device_output_is_accepted() {
        // Shape of `az iot hub device-identity show` (azure-iot-cli-extension), keys replaced.
        let json = r#"{
          "authentication": {
            "symmetricKey": { "primaryKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                              "secondaryKey": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" },
            "type": "sas",
            "x509Thumbprint": { "primaryThumbprint": null, "secondaryThumbprint": null }
          },
          "capabilities": { "iotEdge": false },
          "cloudToDeviceMessageCount": 0,
          "connectionState": "Disconnected",
          "connectionStateUpdatedTime": "0001-01-01T00:00:00",
          "deviceId": "dev-1",
          "deviceScope": null,
          "etag": "NzE2NzI0NzYz",
          "generationId": "638391111111111111",
          "lastActivityTime": "0001-01-01T00:00:00",
          "parentScopes": [],
          "status": "enabled",
          "statusReason": null,
          "statusUpdatedTime": "0001-01-01T00:00:00"
        }"#;
        let id = DeviceIdentity::from_json(json).unwrap();
        assert_eq!(id, DeviceIdentity::sas("dev-1", K1, K2));
        // Round trip through our own serialization.
        let again: DeviceIdentity =
            serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
        assert_eq!(again, id);
    }

    #[test]
    fn self_signed_with_null_keys() {
        let json = r#"{"deviceId":"x","moduleId":"m","status":"disabled","statusReason":"stolen",
          "authentication":{"type":"selfSigned","symmetricKey":{"primaryKey":null,"secondaryKey":null},
          "x509Thumbprint":{"primaryThumbprint":"97388663832D0393C9246CAB4FBA2C8677185A25","secondaryThumbprint":null}}}"#;
        let id = DeviceIdentity::from_json(json).unwrap();
        assert_eq!(id.authentication.r#type, AuthenticationType::SelfSigned);
        assert_eq!(id.module_id.as_deref(), Some("m"));
        assert!(!id.is_enabled());
        assert_eq!(id.display_id(), "x/m");
    }

    #[test]
    fn key_size_rules() {
        let short = "AAECAwQFBgcICQoLDA0ODw=="; // 16 bytes: ok
        assert!(DeviceIdentity::sas("d", short, short).validate().is_ok());
        let too_short = "AAECAwQFBgcICQoLDA0O"; // 15 bytes
        let err = DeviceIdentity::sas("d", too_short, K2)
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidKey {
                    slot: KeySlot::Primary,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("15 bytes"), "{err}");
        let long = base64::engine::general_purpose::STANDARD.encode([7u8; 65]);
        let err = DeviceIdentity::sas("d", K1, &long).validate().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidKey {
                    slot: KeySlot::Secondary,
                    ..
                }
            ),
            "{err}"
        );
        let ok64 = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert!(DeviceIdentity::sas("d", &ok64, &ok64).validate().is_ok());
        let err = DeviceIdentity::sas("d", "not base64!", K2)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
        // Error messages never echo key material.
        assert!(!err.to_string().contains("not base64!"));
    }

    #[test]
    fn thumbprint_pair_rules() {
        let sha1 = Thumbprint::from_hex("97388663832D0393C9246CAB4FBA2C8677185A25").unwrap();
        let sha256 = Thumbprint::from_hex(&"AB".repeat(32)).unwrap();
        let err = DeviceIdentity::self_signed("d", sha1, Some(sha256))
            .validate()
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidThumbprint {
                owner: "d".into(),
                reason: ThumbprintProblem::LengthsDiffer {
                    primary: iot_x509::ThumbprintAlgorithm::Sha1,
                    secondary: iot_x509::ThumbprintAlgorithm::Sha256,
                },
            }
        );
        assert_eq!(
            err.to_string(),
            "thumbprint of \"d\" is invalid: primary and secondary thumbprints differ in length"
        );
        assert!(
            DeviceIdentity::self_signed("d", sha1, Some(sha1))
                .validate()
                .is_ok()
        );
        let json = r#"{"deviceId":"d","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"XYZ"}}}"#;
        assert!(matches!(
            DeviceIdentity::from_json(json),
            Err(Error::Json { .. })
        ));
    }

    #[test]
    fn type_and_data_must_fit() {
        let mut id = DeviceIdentity::sas("d", K1, K2);
        id.authentication.r#type = AuthenticationType::SelfSigned;
        assert!(matches!(
            id.validate(),
            Err(Error::AuthenticationMismatch { .. })
        ));
        let mut id = DeviceIdentity::certificate_authority("d");
        id.authentication.r#type = AuthenticationType::Sas;
        let err = id.validate().unwrap_err();
        assert!(err.to_string().contains("symmetricKey"), "{err}");
        // The typed cause is the error's source.
        let cause = std::error::Error::source(&err).expect("a mismatch has a source");
        assert_eq!(
            cause.downcast_ref::<AuthenticationProblem>(),
            Some(&AuthenticationProblem::SymmetricKeyMissing)
        );
        assert!(
            DeviceIdentity::certificate_authority("d")
                .validate()
                .is_ok()
        );
        let mut id = DeviceIdentity::certificate_authority("d");
        id.status_reason = Some("x".repeat(129));
        assert!(matches!(
            id.validate(),
            Err(Error::StatusReasonTooLong { .. })
        ));
        assert!(DeviceIdentity::sas("bad/id", K1, K2).validate().is_err());
        assert!(
            DeviceIdentity::sas("d", K1, K2)
                .into_module("bad/m")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn debug_redacts_keys() {
        let id = DeviceIdentity::sas("d", K1, K2);
        let text = format!("{id:?}");
        assert!(!text.contains(K1) && text.contains("redacted"), "{text}");
    }
}
