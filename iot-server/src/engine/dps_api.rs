//! DPS service-side policies: names and rights (Microsoft Learn "Control access to Azure IoT
//! Hub Device Provisioning Service": ServiceConfig, EnrollmentRead, EnrollmentWrite,
//! RegistrationStatusRead, RegistrationStatusWrite).

use crate::store::{DPS_RIGHTS, DpsState};

/// Which rule of the DPS service policies a file breaks ([`check_policies`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// The policy name breaks iot-hub-auth's policy-name rule.
    #[error("{0}")]
    Name(#[source] iot_hub_auth::Error),
    /// A right that is not one of [`DPS_RIGHTS`].
    #[error("policy {policy}: unknown right {right} (expected {})", DPS_RIGHTS.join(", "))]
    UnknownRight {
        /// The policy name.
        policy: String,
        /// The right as written.
        right: String,
    },
    /// A key that is not base64 of 16..=64 bytes (the key itself is not kept).
    #[error("policy {policy}: keys must be base64 of 16..=64 bytes")]
    KeyLength {
        /// The policy name.
        policy: String,
    },
    /// `serviceHostName` is empty.
    #[error("serviceHostName is empty")]
    NoServiceHost,
}

/// Checks every policy: a name, known rights, keys that decode to 16..=64 bytes.
///
/// # Errors
/// The first broken rule.
pub fn check_policies(state: &DpsState) -> Result<(), PolicyProblem> {
    use base64::Engine as _;
    for policy in &state.authorization_policies {
        iot_hub_auth::validate_policy_name(&policy.key_name).map_err(PolicyProblem::Name)?;
        for right in policy.rights.split([',', ' ']).filter(|r| !r.is_empty()) {
            if !DPS_RIGHTS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(right))
            {
                return Err(PolicyProblem::UnknownRight {
                    policy: policy.key_name.clone(),
                    right: right.to_owned(),
                });
            }
        }
        for key in [&policy.primary_key, &policy.secondary_key] {
            let len = base64::engine::general_purpose::STANDARD
                .decode(key.secret_text())
                .map(|k| k.len())
                .unwrap_or(0);
            if !(16..=64).contains(&len) {
                return Err(PolicyProblem::KeyLength {
                    policy: policy.key_name.clone(),
                });
            }
        }
    }
    if state.service_host_name.is_empty() {
        return Err(PolicyProblem::NoServiceHost);
    }
    Ok(())
}

/// Whether a policy's rights text holds `right`.
pub fn has_right(rights: &str, right: &str) -> bool {
    rights
        .split([',', ' '])
        .any(|r| r.eq_ignore_ascii_case(right))
}
