//! Who may call: back-end (service) SAS tokens for the Registry Manager API
//! (`iot_hub_auth::authorize_service`, reference azure-iot-protocol.md §1.5, §1.6) and for the
//! DPS service API (a DPS policy's keys; Microsoft Learn "Control access to Azure IoT Hub
//! Device Provisioning Service": `sr` = the service host, `skn` = the policy, rights
//! `EnrollmentRead`, `EnrollmentWrite`, `RegistrationStatusRead`, `RegistrationStatusWrite`).
//!
//! A refusal tells the caller only 401 (not authenticated) or 403 (authenticated, the policy
//! lacks the right). 403 is given only after the MAC verified, so an unauthenticated caller
//! never learns whether a policy exists or what it may do; the reason in words goes to the log.

use iot_hub_auth::{AccessRights, DenyReason, HubSettings};
use iot_sas::{SasToken, Scope, SharedAccessKey, TokenRefused, Verifier};

use crate::engine::dps_api::has_right;
use crate::store::DpsState;

/// Why a caller was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not authenticated (401): no token, a malformed or expired one, an unknown policy, a
    /// bad MAC, a token for another resource.
    Unauthenticated {
        /// Machine-readable code for the log.
        code: &'static str,
        /// What to fix, for the log only.
        reason: String,
    },
    /// Authenticated, but the policy lacks a right (403).
    Forbidden {
        /// The policy.
        policy: String,
        /// The right it lacks.
        right: String,
    },
}

impl Refusal {
    /// HTTP status: 401 or 403.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated { .. } => 401,
            Self::Forbidden { .. } => 403,
        }
    }

    /// Machine-readable code for the log.
    pub fn code(&self) -> &str {
        match self {
            Self::Unauthenticated { code, .. } => code,
            Self::Forbidden { .. } => "policy_lacks_rights",
        }
    }

    /// The reason in words, for the log.
    pub fn reason(&self) -> String {
        match self {
            Self::Unauthenticated { reason, .. } => reason.clone(),
            Self::Forbidden { policy, right } => format!("policy {policy} lacks {right}"),
        }
    }
}

fn unauthenticated(code: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal::Unauthenticated {
        code,
        reason: reason.into(),
    }
}

/// The token text of an `Authorization` header (the header is the token itself).
fn token_text(authorization: Option<&str>) -> Result<&str, Refusal> {
    authorization
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthenticated("no_token", "no Authorization header"))
}

/// A hub back-end token for an operation that needs `required` (RegistryRead or
/// RegistryWrite). Returns the policy name.
///
/// # Errors
/// [`Refusal`].
pub fn hub_service(
    hub: &HubSettings,
    authorization: Option<&str>,
    required: AccessRights,
    now: u64,
) -> Result<String, Refusal> {
    let text = token_text(authorization)?;
    match iot_hub_auth::authorize_service(hub, text, required, now) {
        Ok(allow) => Ok(allow.policy.to_owned()),
        Err(DenyReason::PolicyLacksRights { policy, .. }) => {
            // authorize_service checks rights before the MAC: tell 403 only to a caller
            // whose token really is signed by that policy.
            let signed = SasToken::parse(text).ok().is_some_and(|token| {
                hub.policy(&policy)
                    .is_some_and(|p| p.keys().verify(&token).is_some())
            });
            if signed {
                Err(Refusal::Forbidden {
                    policy,
                    right: rights_name(required).into(),
                })
            } else {
                Err(unauthenticated(
                    "bad_signature",
                    format!("token not signed by policy {policy}"),
                ))
            }
        }
        Err(reason) => Err(unauthenticated(reason.code(), reason.to_string())),
    }
}

fn rights_name(rights: AccessRights) -> &'static str {
    if rights.contains(AccessRights::REGISTRY_WRITE) {
        "RegistryWrite"
    } else {
        "RegistryRead"
    }
}

/// A DPS service token for an operation that needs `right` (`EnrollmentRead`, ...). Checks,
/// in order: a policy named by `skn`, the MAC with its primary then secondary key, expiry
/// (with `skew_secs`), `sr` covering the service host, then the right. Returns the policy
/// name.
///
/// # Errors
/// [`Refusal`].
pub fn dps_service(
    dps: &DpsState,
    authorization: Option<&str>,
    right: &str,
    now: u64,
    skew_secs: u64,
) -> Result<String, Refusal> {
    let text = token_text(authorization)?;
    let token = SasToken::parse(text)
        .map_err(|e| unauthenticated("malformed_token", format!("malformed token: {e}")))?;
    let name = token
        .key_name()
        .ok_or_else(|| unauthenticated("not_a_policy_token", "token has no skn"))?;
    let policy = dps
        .authorization_policies
        .iter()
        .find(|p| p.key_name == name)
        .ok_or_else(|| unauthenticated("unknown_policy", format!("no policy {name}")))?;
    let key = |text: &str| SharedAccessKey::from_base64(text).ok();
    let verifier = match key(policy.primary_key.secret_text()) {
        Some(primary) => Verifier::new(primary, key(policy.secondary_key.secret_text())),
        None => return Err(unauthenticated("bad_policy_key", "policy key unusable")),
    }
    .with_skew(skew_secs);
    iot_sas::check_token(
        &token,
        |token| verifier.verify_signature(token),
        now,
        skew_secs,
        Some(Scope::CoversText(&dps.service_host_name)),
    )
    .map_err(|refused| match refused {
        TokenRefused::Signature(_) => unauthenticated(
            "bad_signature",
            format!("token not signed by policy {name}"),
        ),
        TokenRefused::Expired(_) => unauthenticated(
            "token_expired",
            format!("token expired at {} (now {now})", token.expiry()),
        ),
        TokenRefused::OutOfScope => unauthenticated(
            "token_scope",
            format!(
                "token for {} does not cover {}",
                token.resource_raw(),
                dps.service_host_name
            ),
        ),
    })?;
    if !has_right(&policy.rights, right) {
        return Err(Refusal::Forbidden {
            policy: name.to_owned(),
            right: right.to_owned(),
        });
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::store::DpsPolicy;
    use iot_dps_service::{DpsInstance, KeyText};
    use iot_sas::ResourceUri;

    const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    const OTHER: &str = "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=";

    fn dps() -> DpsState {
        DpsState {
            instance: DpsInstance::new("0ne00AB12CD"),
            service_host_name: "acme-dps.azure-devices-provisioning.net".into(),
            authorization_policies: vec![
                DpsPolicy {
                    key_name: "provisioningserviceowner".into(),
                    primary_key: KeyText::new(OTHER),
                    secondary_key: KeyText::new(KEY),
                    rights: "ServiceConfig, EnrollmentRead, EnrollmentWrite, \
                             RegistrationStatusRead, RegistrationStatusWrite"
                        .into(),
                },
                DpsPolicy {
                    key_name: "reader".into(),
                    primary_key: KeyText::new(KEY),
                    secondary_key: KeyText::new(KEY),
                    rights: "EnrollmentRead".into(),
                },
            ],
        }
    }

    fn token(host: &str, key: &str, name: &str, expiry: u64) -> String {
        let key = SharedAccessKey::from_base64(key).unwrap();
        iot_sas::sign(&key, &ResourceUri::Hub { host }, expiry, Some(name)).unwrap()
    }

    /// The token the Node provisioning-service SDK sent in the capture (field order
    /// `sr, sig, skn, se`), signed with `Buffer.alloc(32, 7)` = [`KEY`].
    const CAPTURED: &str = "SharedAccessSignature sr=acme-dps.azure-devices-provisioning.net\
        &sig=NQfNC1xHJrIw122Lf8Xd96ZcWKOOksVYEpj9K2VjJEA%3D&skn=provisioningserviceowner\
        &se=1796177053";

    #[test]
    fn dps_token_from_the_node_sdk_verifies_with_the_secondary_key() {
        let state = dps();
        assert_eq!(
            dps_service(&state, Some(CAPTURED), "EnrollmentWrite", 1_796_177_000, 0),
            Ok("provisioningserviceowner".into())
        );
        let expired = dps_service(&state, Some(CAPTURED), "EnrollmentWrite", 1_796_177_054, 0);
        assert_eq!(expired.unwrap_err().code(), "token_expired");
    }

    #[test]
    fn dps_refusals_say_401_unless_signed() {
        let state = dps();
        let host = "acme-dps.azure-devices-provisioning.net";
        let now = 1_000;
        let read = token(host, KEY, "reader", now + 60);
        assert!(dps_service(&state, Some(&read), "EnrollmentRead", now, 0).is_ok());
        let refused = dps_service(&state, Some(&read), "EnrollmentWrite", now, 0).unwrap_err();
        assert_eq!(refused.status(), 403);
        // Same request, wrong key: 401, not 403.
        let forged = token(host, OTHER, "reader", now + 60);
        let refused = dps_service(&state, Some(&forged), "EnrollmentWrite", now, 0).unwrap_err();
        assert_eq!((refused.status(), refused.code()), (401, "bad_signature"));
        let unknown = token(host, KEY, "nobody", now + 60);
        let refused = dps_service(&state, Some(&unknown), "EnrollmentRead", now, 0).unwrap_err();
        assert_eq!((refused.status(), refused.code()), (401, "unknown_policy"));
        let elsewhere = token(
            "other.azure-devices-provisioning.net",
            KEY,
            "reader",
            now + 60,
        );
        let refused = dps_service(&state, Some(&elsewhere), "EnrollmentRead", now, 0).unwrap_err();
        assert_eq!((refused.status(), refused.code()), (401, "token_scope"));
        for bad in [None, Some(""), Some("Bearer x")] {
            assert_eq!(
                dps_service(&state, bad, "EnrollmentRead", now, 0)
                    .unwrap_err()
                    .status(),
                401
            );
        }
    }

    #[test]
    fn hub_rights_refusal_is_403_only_for_a_signed_token() {
        let doc: iot_hub_auth::HubDocument = serde_json::from_value(serde_json::json!({
            "hostName": "acme-test.azure-devices.net",
            "authorizationPolicies": [
                {"keyName": "iothubowner", "primaryKey": KEY, "secondaryKey": KEY,
                 "rights": "RegistryWrite, ServiceConnect, DeviceConnect"},
                {"keyName": "registryRead", "primaryKey": KEY, "secondaryKey": KEY,
                 "rights": "RegistryRead"}
            ]
        }))
        .unwrap();
        let (hub, _) = doc.build().unwrap();
        let host = "acme-test.azure-devices.net";
        let now = 1_000;
        let owner = token(host, KEY, "iothubowner", now + 60);
        assert_eq!(
            hub_service(&hub, Some(&owner), AccessRights::REGISTRY_WRITE, now),
            Ok("iothubowner".into())
        );
        let read = token(host, KEY, "registryRead", now + 60);
        assert!(hub_service(&hub, Some(&read), AccessRights::REGISTRY_READ, now).is_ok());
        let refused =
            hub_service(&hub, Some(&read), AccessRights::REGISTRY_WRITE, now).unwrap_err();
        assert_eq!(refused.status(), 403);
        let forged = token(host, OTHER, "registryRead", now + 60);
        let refused =
            hub_service(&hub, Some(&forged), AccessRights::REGISTRY_WRITE, now).unwrap_err();
        assert_eq!(refused.status(), 401);
        let refused = hub_service(&hub, None, AccessRights::REGISTRY_READ, now).unwrap_err();
        assert_eq!(refused.status(), 401);
    }
}
