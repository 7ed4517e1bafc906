//! The connect decision (azure-iot-protocol.md §9) and the service-token decision (§1.6); the
//! order of checks is on [`authorize`] and [`authorize_service`].

use iot_sas::{KeySlot, ResourceUri, SasToken, Scope, TokenRefused, check_token};

use crate::claim::{Claim, amqp_claim, direct_claim, mqtt_claim};
use crate::decision::{
    Allow, AuthMethod, Decision, DenyReason, Presented, ServiceAllow, allowed, mismatch,
};
use crate::hub_settings::{HubPolicy, HubSettings};
use crate::identifier::display_id;
use crate::identity::AuthenticationType;
use crate::keys::PreKeyedKeys;
use crate::policy::AccessRights;
use crate::registry::{Registry, RegistryEntry};
use crate::request::{ConnectRequest, Transport};

/// Decides whether a device or module may connect (azure-iot-protocol.md §9).
///
/// Pure: no clock, no I/O; `now` is Unix seconds. The first check that fails gives the
/// [`DenyReason`]; the checks run in this order:
///
/// 1. **The identity claim**: MQTT client ID and user name must name the same identity and
///    this hub (§6.1; the hub's own behaviour on disagreement is OPEN §9, we refuse); AMQP SASL
///    user names must name this hub (§1.6); HTTPS and AMQP links name the identity directly.
/// 2. **The registry entry** must exist and be `enabled` (§1.6, §7.3, §9). A module also needs
///    its device registered and `enabled`: the module is looked up first, then its device
///    (`registry.lookup(device_id, None)`), whatever the credential, so disabling a device
///    refuses its modules (Azure modules have no status of their own, §7.1). A disabled device
///    gives [`DenyReason::DeviceDisabled`], a missing one [`DenyReason::UnknownIdentity`]
///    naming the device; every [`Registry`] gets this rule without storing it.
/// 3. **The credential**:
///    * a SAS token without `skn` is a device (or module) key token: the identity must be of
///      type `sas` and `disableDeviceSAS` (devices) or `disableModuleSAS` (modules) off; then
///      the token's own checks in [`iot_sas::check_token`]'s order: the MAC must match the
///      primary or secondary key, `se` must not be past (with the hub's skew), and the decoded
///      `sr` must name **exactly** the identity's resource `{host}/devices/{id}[/modules/{mid}]`,
///      case-insensitively ([`Scope::Names`], §1.4.5). Exact, not prefix: whether a device-key
///      token may use a hub- or `devices`-wide `sr` is OPEN (§10.2), and a device's key is not
///      documented as valid for its modules (§1.5), so both are refused;
///    * a SAS token with `skn` is a policy token (refused for identities of type `none`): the
///      policy must exist, `disableLocalAuth` must be off (the device and module switches do
///      not cover hub-scoped keys), the policy must hold `DeviceConnect`; then, in
///      [`iot_sas::check_token`]'s order, the MAC must match a policy key, `se` must not be past,
///      and the decoded `sr` must be a path-segment prefix of the identity's resource
///      (`{host}`, `{host}/devices`, `{host}/devices/{id}` all qualify; [`Scope::Covers`],
///      §1.4.5, §9);
///    * a client certificate: `selfSigned` identities match the leaf's thumbprint with the
///      algorithm of each registered thumbprint, SHA-1 or SHA-256 (§7.1, §7.2; OPEN §10.5: we
///      accept both) and check the leaf's validity period; `certificateAuthority` identities
///      need the chain to reach a verified CA, CN = `deviceId` or `deviceId/moduleId` (§7.3),
///      and are refused over WebSockets unless `x509_ca_over_websockets` is set (§6.4).
///
/// The SAS path performs no heap allocation on success (see `tests/no_alloc.rs`).
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

#[inline]
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
    // Borrowed, not moved out of the `Option`: the decision reads a few fields of the entry
    // and moving it would copy all of it.
    let found = registry.lookup(claim.device_id, claim.module_id);
    let Some(entry) = &found else {
        return Err(DenyReason::UnknownIdentity {
            identity: display_id(claim.device_id, claim.module_id),
        });
    };
    if !entry.is_enabled() {
        return Err(DenyReason::Disabled {
            identity: entry.display_id(),
            reason: status_reason(registry, claim.device_id, claim.module_id),
        });
    }
    if let Some(module_id) = claim.module_id {
        check_parent_device(registry, claim.device_id, module_id)?;
    }
    if let Some(token) = req.password {
        return sas(hub, entry, claim, token, now);
    }
    match req.client_chain.first() {
        Some(leaf) => crate::certificate::authenticate(hub, entry, req, leaf.as_ref(), now),
        None => Err(mismatch(entry, Presented::Nothing)),
    }
}

/// A module connects only while its device is registered and enabled: disabling (or
/// deleting) a device refuses its modules too, whatever credential they present
/// (azure-iot-protocol.md §7.1, §9; Azure modules carry no status of their own). The decision
/// looks the device up itself, so every [`Registry`] gets this rule without storing it.
fn check_parent_device<R: Registry + ?Sized>(
    registry: &R,
    device_id: &str,
    module_id: &str,
) -> Result<(), DenyReason> {
    let device = registry
        .lookup(device_id, None)
        .ok_or_else(|| DenyReason::UnknownIdentity {
            identity: device_id.to_owned(),
        })?;
    if device.is_enabled() {
        return Ok(());
    }
    Err(DenyReason::DeviceDisabled {
        module: display_id(device_id, Some(module_id)),
        device: device_id.to_owned(),
        reason: status_reason(registry, device_id, None),
    })
}

/// The `statusReason` of a disabled identity, for the operator's deny reason: read from the
/// full document ([`Registry::get`]) on this refusal path only.
fn status_reason<R: Registry + ?Sized>(
    registry: &R,
    device_id: &str,
    module_id: Option<&str>,
) -> Option<String> {
    registry
        .get(device_id, module_id)
        .and_then(|identity| identity.into_owned().status_reason)
}

/// The switch that refuses tokens signed with an identity's own key, if it is on: each switch
/// covers exactly its documented scope (Microsoft Learn "Control access to IoT Hub by using
/// Microsoft Entra ID", local authentication; azure-iot-protocol.md §6.4): `disableDeviceSAS`
/// covers device-scoped keys ("including Edge devices but excluding modules"),
/// `disableModuleSAS` module-scoped keys. Policy (hub-scoped) keys answer to
/// `disableLocalAuth` alone.
fn identity_key_switch(hub: &HubSettings, module_id: Option<&str>) -> Option<&'static str> {
    match module_id {
        None => hub.disable_device_sas.then_some("disableDeviceSAS"),
        Some(_) => hub.disable_module_sas.then_some("disableModuleSAS"),
    }
}

/// The steps every policy token takes, device-facing or back-end (azure-iot-protocol.md §1.6,
/// §9 step 4): the policy holds the `required` rights, then the token's checks in
/// [`iot_sas::check_token`]'s order (MAC with one of the policy's keys, `se` not past, `sr`
/// within `scope`). Returns the key that matched.
fn check_policy_token(
    hub: &HubSettings,
    policy: &HubPolicy,
    token: &SasToken<'_>,
    required: AccessRights,
    (scope, scope_error): (Scope<'_>, impl FnOnce() -> DenyReason),
    now: u64,
) -> Result<KeySlot, DenyReason> {
    if !policy.rights().contains(required) {
        return Err(DenyReason::PolicyLacksRights {
            policy: policy.name().to_owned(),
            required,
            granted: policy.rights(),
        });
    }
    let signed_by = |token: &SasToken<'_>| {
        policy
            .keys()
            .verify(token)
            .ok_or_else(|| DenyReason::BadSignature {
                signer: format!("policy {}", policy.name()),
            })
    };
    check_token(
        token,
        signed_by,
        now,
        hub.allowed_clock_skew_secs,
        Some(scope),
    )
    .map_err(|refused| refusal(hub, token, now, refused, scope_error))
}

/// The deny reason for the step of [`iot_sas::check_token`] that refused `token`.
fn refusal(
    hub: &HubSettings,
    token: &SasToken<'_>,
    now: u64,
    refused: TokenRefused<DenyReason>,
    scope_error: impl FnOnce() -> DenyReason,
) -> DenyReason {
    match refused {
        TokenRefused::Signature(reason) => reason,
        TokenRefused::Expired(_) => DenyReason::TokenExpired {
            expiry: token.expiry(),
            now,
            skew: hub.allowed_clock_skew_secs,
        },
        TokenRefused::OutOfScope => scope_error(),
    }
}

#[inline]
fn sas<'a>(
    hub: &'a HubSettings,
    entry: &RegistryEntry<'a>,
    claim: Claim<'_>,
    token_text: &str,
    now: u64,
) -> Result<Allow<'a>, DenyReason> {
    // Borrowed, not moved out with `?`: see "Store forwarding" in benches/benches/sas.rs.
    let parsed = SasToken::parse(token_text);
    let token = match &parsed {
        Ok(token) => token,
        Err(error) => return Err(DenyReason::MalformedToken(error.clone())),
    };
    if let Some(policy) = claim.sasl_policy
        && token.key_name() != Some(policy)
    {
        return Err(DenyReason::PolicyNameMismatch {
            user_name_policy: policy.to_owned(),
            token_policy: token.key_name().unwrap_or_default().to_owned(),
        });
    }
    // The identity's resource `{host}/devices/{id}[/modules/{mid}]`, compared with `sr` by
    // iot-sas without writing it out (§1.4.5, §1.4.6). The IDs are the claimed ones, which
    // the registry resolved exactly (see `Registry`) and which are in cache, unlike the
    // stored identity's own copies.
    let resource = match claim.module_id {
        Some(module_id) => ResourceUri::Module {
            host: hub.host_name(),
            device_id: claim.device_id,
            module_id,
        },
        None => ResourceUri::Device {
            host: hub.host_name(),
            device_id: claim.device_id,
        },
    };
    let scope_error = || {
        let mut expected = String::new();
        // Writing into a `String` cannot fail.
        let _ = resource.write_plain(&mut expected);
        DenyReason::TokenScope {
            resource: token.resource_raw().to_owned(),
            expected,
        }
    };
    if let Some(name) = token.key_name() {
        // Policy token (§1.6, §9 step 4). Identities of type `none` never connect directly.
        if entry.auth_type == AuthenticationType::None {
            return Err(mismatch(entry, Presented::PolicyToken));
        }
        let policy = hub.policy(name).ok_or_else(|| DenyReason::UnknownPolicy {
            name: name.to_owned(),
        })?;
        // Hub-scoped keys: only `disableLocalAuth` covers them (see `identity_key_switch`).
        if hub.disable_local_auth {
            return Err(DenyReason::SasDisabled {
                setting: "disableLocalAuth",
            });
        }
        let key = check_policy_token(
            hub,
            policy,
            token,
            AccessRights::DEVICE_CONNECT,
            (Scope::Covers(resource), scope_error),
            now,
        )?;
        return Ok(Allow {
            identity: allowed(entry),
            method: AuthMethod::Policy {
                name: policy.name(),
                key,
            },
            rights: AccessRights::DEVICE_CONNECT,
            valid_until: token.expiry(),
        });
    }
    // Device or module key token (§9 step 3).
    if entry.auth_type != AuthenticationType::Sas {
        return Err(mismatch(entry, Presented::DeviceToken));
    }
    if let Some(setting) = identity_key_switch(hub, claim.module_id) {
        return Err(DenyReason::SasDisabled { setting });
    }
    let key = check_token(
        token,
        |token| verify_with_identity_keys(entry, token),
        now,
        hub.allowed_clock_skew_secs,
        Some(Scope::Names(resource)),
    )
    .map_err(|refused| refusal(hub, token, now, refused, scope_error))?;
    Ok(Allow {
        identity: allowed(entry),
        method: AuthMethod::DeviceKey(key),
        rights: AccessRights::DEVICE_CONNECT,
        valid_until: token.expiry(),
    })
}

fn verify_with_identity_keys(
    entry: &RegistryEntry<'_>,
    token: &SasToken<'_>,
) -> Result<KeySlot, DenyReason> {
    // No keys (a store that could not decode them) verifies nothing.
    entry
        .keys
        .as_deref()
        .and_then(|keys: &PreKeyedKeys| keys.verify(token))
        .ok_or_else(|| DenyReason::BadSignature {
            signer: format!("identity {}", entry.display_id()),
        })
}

/// Decides whether a back-end (service) SAS token may perform an operation that needs
/// `required` rights (azure-iot-protocol.md §1.5, §1.6). In this order: local auth enabled,
/// the token parses and carries `skn` naming an existing policy that holds every required
/// right; then, in [`iot_sas::check_token`]'s order, the MAC matches a policy key, `se` is not
/// past, and the decoded `sr` covers the hub host name (hub-scoped, [`Scope::CoversText`]).
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
    let scope_error = || DenyReason::TokenScope {
        resource: token.resource_raw().to_owned(),
        expected: hub.host_name().to_owned(),
    };
    let key = check_policy_token(
        hub,
        policy,
        &token,
        required,
        (Scope::CoversText(hub.host_name()), scope_error),
        now,
    )?;
    Ok(ServiceAllow {
        policy: policy.name(),
        key,
        rights: policy.rights(),
        valid_until: token.expiry(),
    })
}
