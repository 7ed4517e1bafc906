//! DPS service-side policies: names and rights (Microsoft Learn "Control access to Azure IoT
//! Hub Device Provisioning Service": ServiceConfig, EnrollmentRead, EnrollmentWrite,
//! RegistrationStatusRead, RegistrationStatusWrite).

use crate::store::{DPS_RIGHTS, DpsState};

/// Checks every policy: a name, known rights, keys that decode to 16..=64 bytes.
///
/// # Errors
/// The first broken rule, in words.
pub fn check_policies(state: &DpsState) -> Result<(), String> {
    use base64::Engine as _;
    for policy in &state.authorization_policies {
        iot_hub_auth::validate_policy_name(&policy.key_name).map_err(|e| e.to_string())?;
        for right in policy.rights.split([',', ' ']).filter(|r| !r.is_empty()) {
            if !DPS_RIGHTS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(right))
            {
                return Err(format!(
                    "policy {}: unknown right {right} (expected {})",
                    policy.key_name,
                    DPS_RIGHTS.join(", ")
                ));
            }
        }
        for key in [&policy.primary_key, &policy.secondary_key] {
            let len = base64::engine::general_purpose::STANDARD
                .decode(key.secret_text())
                .map(|k| k.len())
                .unwrap_or(0);
            if !(16..=64).contains(&len) {
                return Err(format!(
                    "policy {}: keys must be base64 of 16..=64 bytes",
                    policy.key_name
                ));
            }
        }
    }
    if state.service_host_name.is_empty() {
        return Err("serviceHostName is empty".into());
    }
    Ok(())
}

/// Whether a policy's rights text holds `right`.
pub fn has_right(rights: &str, right: &str) -> bool {
    rights
        .split([',', ' '])
        .any(|r| r.eq_ignore_ascii_case(right))
}
