//! The connect decision (azure-iot-protocol.md §9) and the service-token decision (§1.6).
//!
//! Order of checks for a device or module connection:
//!
//! 1. The identity claim: MQTT client ID and user name must name the same identity and this
//!    hub (§6.1; the hub's own behaviour on disagreement is OPEN §9, we refuse); AMQP SASL
//!    user names must name this hub (§1.6); HTTPS and AMQP links name the identity directly.
//! 2. The registry entry must exist and be `enabled` (§1.6, §7.3, §9).
//! 3. The credential:
//!    * a SAS token without `skn` is a device (or module) key token: the identity must be of
//!      type `sas`, SAS must not be disabled, `se` not past (with the hub's skew), the MAC must
//!      match the primary or secondary key, and the decoded `sr` must name **exactly** the
//!      identity's resource `{host}/devices/{id}[/modules/{mid}]`, case-insensitively (§1.4.5).
//!      Exact, not prefix: whether a device-key token may use a hub- or `devices`-wide `sr`
//!      is OPEN (§10.2), and a device's key is not documented as valid for its modules (§1.5),
//!      so both are refused;
//!    * a SAS token with `skn` is a policy token (refused for identities of type `none`): the
//!      policy must exist, hold `DeviceConnect`,
//!      local auth and device (module) SAS must be enabled, the MAC must match a policy key,
//!      and the decoded `sr` must be a path-segment prefix of the identity's resource
//!      (`{host}`, `{host}/devices`, `{host}/devices/{id}` all qualify; §1.4.5, §9);
//!    * a client certificate: `selfSigned` identities match the leaf's thumbprint with the
//!      algorithm of each registered thumbprint, SHA-1 or SHA-256 (§7.1, §7.2; OPEN §10.5: we
//!      accept both) and check the leaf's validity period; `certificateAuthority` identities
//!      need the chain to reach a verified CA, CN = `deviceId` or `deviceId/moduleId` (§7.3),
//!      and are refused over WebSockets unless `x509_ca_over_websockets` is set (§6.4).
//!
//! The SAS path performs no heap allocation on success (see `tests/no_alloc.rs`).

use std::borrow::Cow;

use iot_sas::{KeySlot, SasToken};
use iot_x509::{CertificateInfo, ChainError, Thumbprint, match_thumbprints};

use crate::amqp::SaslUserName;
use crate::decision::{
    Allow, AuthMethod, ConnectRequest, Decision, DenyReason, Presented, ServiceAllow, Transport,
};
use crate::error::Error;
use crate::hub::HubSettings;
use crate::identity::{AuthenticationType, DeviceIdentity};
use crate::keys::PreKeyedKeys;
use crate::mqtt::{MqttClientId, MqttUserName};
use crate::policy::AccessRights;
use crate::registry::{Registry, RegistryEntry, prepare_keys};

/// The identity a connection claims, plus the policy named by an AMQP policy user name.
#[derive(Clone, Copy, Debug)]
struct Claim<'r> {
    device_id: &'r str,
    module_id: Option<&'r str>,
    sasl_policy: Option<&'r str>,
}

fn claim_error(reason: &'static str) -> DenyReason {
    DenyReason::MalformedClaim(Error::MalformedUserName { reason })
}

fn display_id(device_id: &str, module_id: Option<&str>) -> String {
    match module_id {
        Some(m) => format!("{device_id}/{m}"),
        None => device_id.to_owned(),
    }
}

fn check_host(hub: &HubSettings, host: &str) -> Result<(), DenyReason> {
    if host.eq_ignore_ascii_case(hub.host_name()) {
        Ok(())
    } else {
        Err(DenyReason::HostNameMismatch {
            expected: hub.host_name().to_owned(),
            found: host.to_owned(),
        })
    }
}

fn mqtt_claim<'r>(hub: &HubSettings, req: &ConnectRequest<'r>) -> Result<Claim<'r>, DenyReason> {
    let client_id = req
        .client_id
        .ok_or(claim_error("MQTT CONNECT needs a client ID"))?;
    let username = req.username.ok_or(claim_error(
        "MQTT CONNECT needs the user name {host}/{deviceId}/?api-version=...",
    ))?;
    let id = MqttClientId::parse(client_id).map_err(DenyReason::MalformedClaim)?;
    // Fast, allocation-free check of the common case: the user name's path is exactly the
    // client ID (`{host}/{clientId}/?{query}`). Query parameters are not part of the decision.
    if let Some(host) = host_if_path_is(username, client_id) {
        check_host(hub, host)?;
        return Ok(Claim {
            device_id: id.device_id,
            module_id: id.module_id,
            sasl_policy: None,
        });
    }
    // Otherwise find out what differs.
    let parsed = MqttUserName::parse(username).map_err(DenyReason::MalformedClaim)?;
    check_host(hub, parsed.host)?;
    Err(DenyReason::ClientIdMismatch {
        user_name: display_id(parsed.device_id, parsed.module_id),
        client_id: client_id.to_owned(),
    })
}

/// `Some(host)` when `username` is `{host}/{client_id}`, optionally followed by `/` or
/// `/?{query}` (azure-iot-protocol.md §6.1), with a non-empty host.
fn host_if_path_is<'u>(username: &'u str, client_id: &str) -> Option<&'u str> {
    let (host, rest) = username.split_once('/')?;
    let tail = rest.strip_prefix(client_id)?;
    let shaped = tail.is_empty() || tail == "/" || tail.starts_with("/?");
    (shaped && !host.is_empty()).then_some(host)
}

fn direct_claim<'r>(req: &ConnectRequest<'r>) -> Result<Claim<'r>, DenyReason> {
    let device_id = req.device_id.ok_or(claim_error(match req.transport {
        Transport::Https => "HTTPS requests name the device in the path /devices/{deviceId}/...",
        _ => "AMQP without a SASL PLAIN device user name must name the device of the link",
    }))?;
    Ok(Claim {
        device_id,
        module_id: req.module_id,
        sasl_policy: None,
    })
}

fn amqp_claim<'r>(hub: &HubSettings, req: &ConnectRequest<'r>) -> Result<Claim<'r>, DenyReason> {
    let Some(username) = req.username else {
        return direct_claim(req);
    };
    let sasl = SaslUserName::parse(username).map_err(DenyReason::MalformedClaim)?;
    if !sasl.names_hub(hub.host_name()) {
        return Err(DenyReason::HostNameMismatch {
            expected: hub.host_name().to_owned(),
            found: sasl.hub().to_owned(),
        });
    }
    match sasl {
        SaslUserName::Device { device_id, .. } => {
            if let Some(link) = req.device_id
                && (link != device_id || req.module_id.is_some())
            {
                return Err(DenyReason::ClientIdMismatch {
                    user_name: device_id.to_owned(),
                    client_id: display_id(link, req.module_id),
                });
            }
            Ok(Claim {
                device_id,
                module_id: None,
                sasl_policy: None,
            })
        }
        SaslUserName::Policy { policy, .. } => Ok(Claim {
            sasl_policy: Some(policy),
            ..direct_claim(req)?
        }),
    }
}

/// Decides whether a device or module may connect (azure-iot-protocol.md §9).
///
/// Pure: no clock, no I/O; `now` is Unix seconds. See the module documentation of this crate
/// for the order of the checks, and [`DenyReason`] for every refusal.
pub fn authorize<'a, R: Registry + ?Sized>(
    hub: &'a HubSettings,
    registry: &'a R,
    req: &ConnectRequest<'_>,
    now: u64,
) -> Decision<'a> {
    match decide(hub, registry, req, now) {
        Ok(allow) => Decision::Allow(allow),
        Err(reason) => Decision::Deny(reason),
    }
}

fn decide<'a, R: Registry + ?Sized>(
    hub: &'a HubSettings,
    registry: &'a R,
    req: &ConnectRequest<'_>,
    now: u64,
) -> Result<Allow<'a>, DenyReason> {
    let claim = match req.transport {
        Transport::Mqtt | Transport::MqttWs => mqtt_claim(hub, req)?,
        Transport::Amqp | Transport::AmqpWs => amqp_claim(hub, req)?,
        Transport::Https => direct_claim(req)?,
    };
    let entry = registry
        .lookup(claim.device_id, claim.module_id)
        .ok_or_else(|| DenyReason::UnknownIdentity {
            identity: display_id(claim.device_id, claim.module_id),
        })?;
    let identity = entry.identity;
    if !identity.is_enabled() {
        return Err(DenyReason::Disabled {
            identity: identity.display_id(),
            reason: identity.status_reason.clone(),
        });
    }
    if let Some(token) = req.password {
        return sas(hub, entry, claim, token, now);
    }
    match req.client_chain.first() {
        Some(leaf) => x509(hub, identity, req, leaf.as_ref(), now),
        None => Err(mismatch(identity, Presented::Nothing)),
    }
}

fn mismatch(identity: &DeviceIdentity, presented: Presented) -> DenyReason {
    DenyReason::CredentialMismatch {
        identity: identity.display_id(),
        auth_type: identity.authentication.r#type,
        presented,
    }
}

/// `{host}/devices/{deviceId}[/modules/{moduleId}]` written into a stack buffer.
struct ResourceBuf {
    buf: [u8; 640],
    len: usize,
}

impl ResourceBuf {
    fn new(host: &str, identity: &DeviceIdentity) -> Option<Self> {
        let mut out = Self {
            buf: [0; 640],
            len: 0,
        };
        out.push(host)?;
        out.push("/devices/")?;
        out.push(&identity.device_id)?;
        if let Some(m) = &identity.module_id {
            out.push("/modules/")?;
            out.push(m)?;
        }
        Some(out)
    }

    fn push(&mut self, s: &str) -> Option<()> {
        let end = self.len.checked_add(s.len())?;
        self.buf
            .get_mut(self.len..end)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Some(())
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s were copied in, so the prefix is valid UTF-8.
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

fn sas_disabled_setting(hub: &HubSettings, identity: &DeviceIdentity) -> Option<&'static str> {
    if hub.disable_device_sas {
        Some("disableDeviceSAS")
    } else if identity.module_id.is_some() && hub.disable_module_sas {
        Some("disableModuleSAS")
    } else {
        None
    }
}

fn check_expiry(hub: &HubSettings, token: &SasToken<'_>, now: u64) -> Result<(), DenyReason> {
    token
        .check_expiry(now, hub.allowed_clock_skew_secs)
        .map_err(|_| DenyReason::TokenExpired {
            expiry: token.expiry(),
            now,
            skew: hub.allowed_clock_skew_secs,
        })
}

fn sas<'a>(
    hub: &'a HubSettings,
    entry: RegistryEntry<'a>,
    claim: Claim<'_>,
    token_text: &str,
    now: u64,
) -> Result<Allow<'a>, DenyReason> {
    let identity = entry.identity;
    let token = SasToken::parse(token_text).map_err(DenyReason::MalformedToken)?;
    if let Some(policy) = claim.sasl_policy
        && token.key_name() != Some(policy)
    {
        return Err(DenyReason::PolicyNameMismatch {
            user_name_policy: policy.to_owned(),
            token_policy: token.key_name().unwrap_or_default().to_owned(),
        });
    }
    let resource = || {
        ResourceBuf::new(hub.host_name(), identity)
            .ok_or(claim_error("identity resource longer than 640 bytes"))
    };
    let scope_error = |resource: &str| DenyReason::TokenScope {
        resource: token.resource_raw().to_owned(),
        expected: resource.to_owned(),
    };
    if let Some(name) = token.key_name() {
        // Policy token (§1.6, §9 step 4). Identities of type `none` never connect directly.
        if identity.authentication.r#type == AuthenticationType::None {
            return Err(mismatch(identity, Presented::PolicyToken));
        }
        let policy = hub.policy(name).ok_or_else(|| DenyReason::UnknownPolicy {
            name: name.to_owned(),
        })?;
        if hub.disable_local_auth {
            return Err(DenyReason::SasDisabled {
                setting: "disableLocalAuth",
            });
        }
        if let Some(setting) = sas_disabled_setting(hub, identity) {
            return Err(DenyReason::SasDisabled { setting });
        }
        if !policy.rights().contains(AccessRights::DEVICE_CONNECT) {
            return Err(DenyReason::PolicyLacksRights {
                policy: policy.name().to_owned(),
                required: AccessRights::DEVICE_CONNECT,
                granted: policy.rights(),
            });
        }
        check_expiry(hub, &token, now)?;
        let key = policy
            .keys()
            .verify(&token)
            .ok_or_else(|| DenyReason::BadSignature {
                signer: format!("policy {}", policy.name()),
            })?;
        let resource = resource()?;
        if !covers(token.resource_raw(), resource.as_str()) {
            return Err(scope_error(resource.as_str()));
        }
        return Ok(Allow {
            identity,
            method: AuthMethod::Policy {
                name: policy.name(),
                key,
            },
            rights: AccessRights::DEVICE_CONNECT,
            valid_until: token.expiry(),
        });
    }
    // Device or module key token (§9 step 3).
    if identity.authentication.r#type != AuthenticationType::Sas {
        return Err(mismatch(identity, Presented::DeviceToken));
    }
    if let Some(setting) = sas_disabled_setting(hub, identity) {
        return Err(DenyReason::SasDisabled { setting });
    }
    check_expiry(hub, &token, now)?;
    let key = verify_with_identity_keys(entry, &token)?;
    let sr = token.resource_raw();
    // Fast path: `sr` is the host plus the registry's canonical encoding of the path.
    let canonical = entry
        .encoded_path
        .is_some_and(|path| is_host_then(sr, hub.host_name(), path));
    if !canonical {
        let resource = resource()?;
        if !matches_exactly(sr, resource.as_str()) {
            return Err(scope_error(resource.as_str()));
        }
    }
    Ok(Allow {
        identity,
        method: AuthMethod::DeviceKey(key),
        rights: AccessRights::DEVICE_CONNECT,
        valid_until: token.expiry(),
    })
}

/// `sr` is exactly `host` (ASCII case-insensitive) followed by `path` (byte for byte).
fn is_host_then(sr: &str, host: &str, path: &str) -> bool {
    let (sr, host) = (sr.as_bytes(), host.as_bytes());
    sr.split_at_checked(host.len())
        .is_some_and(|(h, rest)| h.eq_ignore_ascii_case(host) && rest == path.as_bytes())
}

/// Length of the longest prefix of `plain` that `sr_raw`, percent-decoded once (`%XX`, either
/// hex case), equals ASCII case-insensitively; `None` if the decoded `sr` is not a prefix of
/// `plain` or holds a malformed escape. The fast path of the spellings every SDK but csharp
/// sends (§1.3); anything else falls back to iot-sas's full rules (§1.4.5, §1.4.6).
fn decoded_prefix_len(sr_raw: &str, plain: &str) -> Option<usize> {
    let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
    let (mut sr, mut rest) = (sr_raw.as_bytes(), plain.as_bytes());
    loop {
        // A run of literal bytes, compared as a slice, then one `%XX` escape.
        let run = sr.iter().position(|&b| b == b'%').unwrap_or(sr.len());
        let (literal, after) = sr.split_at(run);
        let (target, remaining) = rest.split_at_checked(literal.len())?;
        if !literal.eq_ignore_ascii_case(target) {
            return None;
        }
        rest = remaining;
        if after.is_empty() {
            return Some(plain.len() - rest.len());
        }
        let decoded = u8::try_from(hex(after.get(1))? << 4 | hex(after.get(2))?).ok()?;
        let (first, remaining) = rest.split_first()?;
        if !first.eq_ignore_ascii_case(&decoded) {
            return None;
        }
        rest = remaining;
        sr = after.get(3..)?;
    }
}

/// The decoded `sr` names exactly `plain` (device-key tokens, §1.4.5).
fn matches_exactly(sr_raw: &str, plain: &str) -> bool {
    decoded_prefix_len(sr_raw, plain) == Some(plain.len())
        || iot_sas::resource_matches(sr_raw, plain)
}

/// The decoded `sr` is a path-segment prefix of `plain` (policy tokens, §1.4.5).
fn covers(sr_raw: &str, plain: &str) -> bool {
    let fast = decoded_prefix_len(sr_raw, plain)
        .is_some_and(|n| n > 0 && (n == plain.len() || plain.as_bytes().get(n) == Some(&b'/')));
    fast || iot_sas::resource_covers(sr_raw, plain)
}

fn verify_with_identity_keys(
    entry: RegistryEntry<'_>,
    token: &SasToken<'_>,
) -> Result<KeySlot, DenyReason> {
    let bad = || DenyReason::BadSignature {
        signer: format!("identity {}", entry.identity.display_id()),
    };
    let slot = match entry.keys {
        Some(keys) => keys.verify(token),
        // A registry without pre-keyed keys: derive them now (slower, still correct).
        None => prepare_keys(entry.identity)
            .ok()
            .flatten()
            .as_ref()
            .and_then(|keys: &PreKeyedKeys| keys.verify(token)),
    };
    slot.ok_or_else(bad)
}

fn not_after_u64(not_after: i64) -> u64 {
    u64::try_from(not_after).unwrap_or(0)
}

fn x509<'a>(
    hub: &'a HubSettings,
    identity: &'a DeviceIdentity,
    req: &ConnectRequest<'_>,
    leaf: &[u8],
    now: u64,
) -> Result<Allow<'a>, DenyReason> {
    let auth = &identity.authentication;
    if !matches!(
        auth.r#type,
        AuthenticationType::SelfSigned | AuthenticationType::CertificateAuthority
    ) {
        return Err(mismatch(identity, Presented::ClientCertificate));
    }
    if auth.r#type == AuthenticationType::CertificateAuthority
        && req.transport.is_websocket()
        && !hub.x509_ca_over_websockets
    {
        return Err(DenyReason::X509CaOverWebSockets {
            transport: req.transport,
        });
    }
    let info = CertificateInfo::parse(leaf)
        .map_err(|e| DenyReason::ChainRejected(ChainError::Malformed(e.to_string())))?;
    let check_cn = || {
        iot_x509::check_identity(&info, &identity.device_id, identity.module_id.as_deref()).map_err(
            |_| DenyReason::CnMismatch {
                expected: identity.display_id(),
                found: match info.common_names() {
                    [one] => Some(one.clone()),
                    _ => None,
                },
            },
        )
    };
    if auth.r#type == AuthenticationType::SelfSigned {
        // §7.2: thumbprint only, plus the leaf's own validity period (as EdgeHub checks).
        let thumbprints = auth.x509_thumbprint.as_ref();
        let primary = thumbprints.and_then(|t| t.primary_thumbprint.as_ref());
        let secondary = thumbprints.and_then(|t| t.secondary_thumbprint.as_ref());
        let matched = match_thumbprints(leaf, primary, secondary).ok_or_else(|| {
            DenyReason::ThumbprintMismatch {
                identity: identity.display_id(),
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
            identity,
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
        identity,
        method: AuthMethod::Ca { name },
        rights: AccessRights::DEVICE_CONNECT,
        valid_until: not_after_u64(chain.not_after),
    })
}

/// Decides whether a back-end (service) SAS token may perform an operation that needs
/// `required` rights (azure-iot-protocol.md §1.5, §1.6): local auth enabled, the token carries
/// `skn` naming an existing policy that holds every required right, `se` not past, the MAC
/// matches a policy key, and the decoded `sr` covers the hub host name (hub-scoped).
pub fn authorize_service<'a>(
    hub: &'a HubSettings,
    token: &str,
    required: AccessRights,
    now: u64,
) -> Result<ServiceAllow<'a>, DenyReason> {
    if hub.disable_local_auth {
        return Err(DenyReason::SasDisabled {
            setting: "disableLocalAuth",
        });
    }
    let token = SasToken::parse(token).map_err(DenyReason::MalformedToken)?;
    let name = token.key_name().ok_or(DenyReason::NotAPolicyToken)?;
    let policy = hub.policy(name).ok_or_else(|| DenyReason::UnknownPolicy {
        name: name.to_owned(),
    })?;
    if !policy.rights().contains(required) {
        return Err(DenyReason::PolicyLacksRights {
            policy: policy.name().to_owned(),
            required,
            granted: policy.rights(),
        });
    }
    check_expiry(hub, &token, now)?;
    let key = policy
        .keys()
        .verify(&token)
        .ok_or_else(|| DenyReason::BadSignature {
            signer: format!("policy {}", policy.name()),
        })?;
    if !covers(token.resource_raw(), hub.host_name()) {
        return Err(DenyReason::TokenScope {
            resource: token.resource_raw().to_owned(),
            expected: hub.host_name().to_owned(),
        });
    }
    Ok(ServiceAllow {
        policy: policy.name(),
        key,
        rights: policy.rights(),
        valid_until: token.expiry(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path never accepts what iot-sas's full rules refuse.
    #[test]
    fn fast_scope_checks_agree_with_iot_sas() {
        let plain = "contoso.azure-devices.net/devices/dev1/modules/m(1)";
        let module = "contoso.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fm%281%29";
        let srs = [
            module,
            "contoso.azure-devices.net/devices/dev1/modules/m(1)",
            "CONTOSO.azure-devices.net%2fdevices%2fDEV1%2Fmodules%2Fm(1)",
            "contoso.azure-devices.net%2Fdevices%2Fdev1",
            "contoso.azure-devices.net%2Fdevices%2Fdev",
            "contoso.azure-devices.net%2Fdevices",
            "contoso.azure-devices.net",
            "contoso.azure-devices.ne",
            "contoso.azure-devices.net%2F",
            "contoso.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fm%281%29%2Fx",
            "%",
            "%zz",
            "",
            "other.net%2Fdevices%2Fdev1",
        ];
        for sr in srs {
            for target in [
                plain,
                "contoso.azure-devices.net/devices/dev1",
                "contoso.azure-devices.net",
            ] {
                if decoded_prefix_len(sr, target) == Some(target.len()) {
                    assert!(iot_sas::resource_matches(sr, target), "{sr} {target}");
                }
                let fast = decoded_prefix_len(sr, target).is_some_and(|n| {
                    n > 0 && (n == target.len() || target.as_bytes().get(n) == Some(&b'/'))
                });
                if fast {
                    assert!(iot_sas::resource_covers(sr, target), "{sr} {target}");
                }
            }
        }
        // The canonical fast path is a subset of the full rule.
        let path = "%2Fdevices%2Fdev1%2Fmodules%2Fm%281%29";
        for sr in [
            module,
            "CONTOSO.AZURE-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fm%281%29",
        ] {
            assert!(is_host_then(sr, "contoso.azure-devices.net", path));
            assert!(iot_sas::resource_matches(sr, plain));
        }
        assert!(!is_host_then(
            "contoso.azure-devices.net%2fdevices%2fdev1%2fmodules%2fm%281%29",
            "contoso.azure-devices.net",
            path
        ));
        assert!(!is_host_then("contoso", "contoso.azure-devices.net", path));
        assert!(matches_exactly(module, plain));
        assert!(!matches_exactly(
            "contoso.azure-devices.net%2Fdevices%2Fdev1",
            plain
        ));
        assert!(covers("contoso.azure-devices.net%2Fdevices%2Fdev1", plain));
        assert!(!covers("contoso.azure-devices.net%2Fdevices%2Fdev", plain));
    }

    #[test]
    fn user_name_path_shapes() {
        assert_eq!(
            host_if_path_is("h.net/d/?api-version=1", "d"),
            Some("h.net")
        );
        assert_eq!(host_if_path_is("h.net/d", "d"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/", "d"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/m/?a", "d/m"), Some("h.net"));
        assert_eq!(host_if_path_is("h.net/d/m/?a", "d"), None);
        assert_eq!(host_if_path_is("h.net/dd/?a", "d"), None);
        assert_eq!(host_if_path_is("/d/?a", "d"), None);
    }
}
