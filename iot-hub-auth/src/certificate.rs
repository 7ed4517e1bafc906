//! X.509 client certificates (azure-iot-protocol.md §7.1-7.3, §6.4): `selfSigned` thumbprint
//! match, `certificateAuthority` chain to a verified CA with CN = identity, and the
//! `x509CaOverWebSockets` switch.

use std::borrow::Cow;

use iot_x509::{CertificateInfo, ChainError, Thumbprint, match_thumbprints};

use crate::decision::{Allow, AuthMethod, DenyReason, Presented, allowed, mismatch};
use crate::hub_settings::HubSettings;
use crate::identity::AuthenticationType;
use crate::policy::AccessRights;
use crate::registry::RegistryEntry;
use crate::request::ConnectRequest;

pub(crate) fn not_after_u64(not_after: i64) -> u64 {
    u64::try_from(not_after).unwrap_or(0)
}

pub(crate) fn authenticate<'a>(
    hub: &'a HubSettings,
    entry: &RegistryEntry<'a>,
    req: &ConnectRequest<'_>,
    leaf: &[u8],
    now: u64,
) -> Result<Allow<'a>, DenyReason> {
    let auth_type = entry.auth_type;
    if !matches!(
        auth_type,
        AuthenticationType::SelfSigned | AuthenticationType::CertificateAuthority
    ) {
        return Err(mismatch(entry, Presented::ClientCertificate));
    }
    if auth_type == AuthenticationType::CertificateAuthority
        && req.transport.is_websocket()
        && !hub.x509_ca_over_websockets
    {
        return Err(DenyReason::X509CaOverWebSockets {
            transport: req.transport,
        });
    }
    let info = CertificateInfo::parse(leaf)
        .map_err(|e| DenyReason::ChainRejected(ChainError::Malformed(e)))?;
    let check_cn = || {
        iot_x509::check_identity(&info, &entry.device_id, entry.module_id.as_deref()).map_err(
            |_| DenyReason::CnMismatch {
                expected: entry.display_id(),
                found: match info.common_names() {
                    [one] => Some(one.clone()),
                    _ => None,
                },
            },
        )
    };
    if auth_type == AuthenticationType::SelfSigned {
        // §7.2: thumbprint only, plus the leaf's own validity period (as EdgeHub checks).
        let thumbprints = entry.thumbprints.as_deref();
        let primary = thumbprints.and_then(|t| t.primary_thumbprint.as_ref());
        let secondary = thumbprints.and_then(|t| t.secondary_thumbprint.as_ref());
        let matched = match_thumbprints(leaf, primary, secondary).ok_or_else(|| {
            DenyReason::ThumbprintMismatch {
                identity: entry.display_id(),
                sha1: Thumbprint::sha1_of(leaf).to_string(),
                sha256: Thumbprint::sha256_of(leaf).to_string(),
            }
        })?;
        let now_i = i64::try_from(now).unwrap_or(i64::MAX);
        if now_i < info.not_before() {
            return Err(DenyReason::ChainRejected(ChainError::NotYetValid {
                not_before: info.not_before(),
                now,
            }));
        }
        if now_i > info.not_after() {
            return Err(DenyReason::ChainRejected(ChainError::Expired {
                not_after: info.not_after(),
                now,
            }));
        }
        if hub.self_signed_requires_cn {
            check_cn()?;
        }
        return Ok(Allow {
            identity: allowed(entry),
            method: AuthMethod::Thumbprint(matched),
            rights: AccessRights::DEVICE_CONNECT,
            valid_until: not_after_u64(info.not_after()),
        });
    }
    // certificateAuthority (§7.3).
    let intermediates = req.client_chain.get(1..).unwrap_or_default();
    let chain =
        iot_x509::verify_client_chain(&hub.cas, leaf, intermediates, now).map_err(|e| match e {
            ChainError::CaNotVerified { ca_name } => DenyReason::CaNotVerified { ca_name },
            other => DenyReason::ChainRejected(other),
        })?;
    check_cn()?;
    let name = match hub.cas.get(&chain.ca_name) {
        Some(ca) => Cow::Borrowed(ca.name.as_str()),
        None => Cow::Owned(chain.ca_name),
    };
    Ok(Allow {
        identity: allowed(entry),
        method: AuthMethod::Ca { name },
        rights: AccessRights::DEVICE_CONNECT,
        valid_until: not_after_u64(chain.not_after),
    })
}
