//! IoT hubs in memory: settings, identity registry and twins per host name, the connect
//! decision through `iot_hub_auth::authorize`, and the DPS [`HubChange`]s applied to them
//! (reference ../shared/reference/azure-iot-protocol.md §7.5, §8.3, §9). The server and the
//! in-memory demo use this same type; the server commits [`Hubs::writes_for`] to its store
//! before it calls [`Hubs::apply`].

use std::collections::HashMap;

use iot_dps_service::{HubChange, InitialTwin, TwinChange};
use iot_hub_auth::{
    ConnectRequest, Decision, DenyReason, DeviceIdentity, HubSettings, IdentityStatus,
    InMemoryRegistry, Registry as _, authorize,
};
use serde_json::{Map, Value, json};

use crate::store::{HubState, StoredTwin, TwinKey, Write};

mod identities;

/// One hub: its stored settings, the settings built from them, its identities.
#[derive(Debug)]
pub struct HubEntry {
    /// Settings as the hub file spells them.
    pub state: HubState,
    /// Settings for decisions.
    pub settings: HubSettings,
    /// Identities.
    pub registry: InMemoryRegistry,
}

/// Every hub, and the twins of their identities.
#[derive(Debug, Default)]
pub struct Hubs {
    hubs: Vec<HubEntry>,
    twins: HashMap<TwinKey, StoredTwin>,
}

/// The key of a twin (host names compare in lower case).
pub fn twin_key(hub: &str, device_id: &str, module_id: Option<&str>) -> TwinKey {
    TwinKey {
        hub: hub.to_ascii_lowercase(),
        device_id: device_id.to_owned(),
        module_id: module_id.map(str::to_owned),
    }
}

/// A fresh twin: empty tags, desired and reported at `$version` 1.
pub fn empty_twin(key: TwinKey) -> StoredTwin {
    StoredTwin {
        key,
        tags: json!({}),
        desired: json!({"$version": 1}),
        reported: json!({"$version": 1}),
    }
}

fn initial_twin(key: TwinKey, initial: &InitialTwin) -> StoredTwin {
    let mut twin = empty_twin(key);
    if let Some(Value::Object(tags)) = &initial.tags {
        twin.tags = Value::Object(tags.clone());
    }
    let desired = initial.properties.as_ref().and_then(|p| p.desired.as_ref());
    if let Some(Value::Object(desired)) = desired {
        let mut d = desired.clone();
        d.insert("$version".into(), json!(1));
        twin.desired = Value::Object(d);
    }
    twin
}

impl Hubs {
    /// No hubs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hub with no policies and no identities.
    pub fn add(&mut self, settings: HubSettings) {
        let doc = iot_hub_auth::HubDocument {
            host_name: settings.host_name().to_owned(),
            authorization_policies: Vec::new(),
            certificates: Vec::new(),
            disable_device_sas: settings.disable_device_sas,
            disable_module_sas: settings.disable_module_sas,
            disable_local_auth: settings.disable_local_auth,
            allowed_clock_skew_seconds: settings.allowed_clock_skew_secs,
            x509_ca_over_websockets: settings.x509_ca_over_websockets,
            self_signed_requires_cn: settings.self_signed_requires_cn,
            identities: Vec::new(),
        };
        self.hubs.push(HubEntry {
            state: HubState::from_document(&doc),
            settings,
            registry: InMemoryRegistry::new(),
        });
    }

    /// Adds or replaces a hub built from its stored settings and identities.
    ///
    /// # Errors
    /// The hub document's rule that failed.
    pub fn insert(
        &mut self,
        state: HubState,
        identities: Vec<DeviceIdentity>,
    ) -> Result<(), iot_hub_auth::Error> {
        let (settings, registry) = state.to_document(identities).build()?;
        let entry = HubEntry {
            state,
            settings,
            registry,
        };
        match self.position(entry.settings.host_name()) {
            Some(i) => self.hubs[i] = entry,
            None => self.hubs.push(entry),
        }
        Ok(())
    }

    /// Adds or replaces a twin.
    pub fn set_twin(&mut self, twin: StoredTwin) {
        self.twins.insert(twin.key.clone(), twin);
    }

    /// A twin.
    pub fn twin(&self, key: &TwinKey) -> Option<&StoredTwin> {
        self.twins.get(key)
    }

    /// Every hub.
    pub fn iter(&self) -> impl Iterator<Item = &HubEntry> {
        self.hubs.iter()
    }

    fn position(&self, host: &str) -> Option<usize> {
        self.hubs
            .iter()
            .position(|h| h.settings.host_name().eq_ignore_ascii_case(host))
    }

    /// The hub with this host name (case-insensitive).
    pub fn hub(&self, host: &str) -> Option<&HubEntry> {
        self.position(host).map(|i| &self.hubs[i])
    }

    /// The registry of a hub.
    pub fn registry(&self, host: &str) -> Option<&InMemoryRegistry> {
        self.hub(host).map(|h| &h.registry)
    }

    fn registry_mut(&mut self, host: &str) -> Option<&mut InMemoryRegistry> {
        let i = self.position(host)?;
        Some(&mut self.hubs[i].registry)
    }

    /// The connect decision of the hub `host` (§9): `Ok` with the identity that connected and
    /// the Unix second after which the connection must end (the token's `se`, or the earliest
    /// `notAfter` of the certificate path, §1.7, §7.3), or the deny reason (an unknown hub is
    /// an unknown identity).
    ///
    /// # Errors
    /// The hub's [`DenyReason`].
    pub fn authorize(
        &self,
        host: &str,
        req: &ConnectRequest<'_>,
        now: u64,
    ) -> Result<(DeviceIdentity, u64), DenyReason> {
        let Some(hub) = self.hub(host) else {
            return Err(DenyReason::UnknownIdentity {
                identity: format!(
                    "{} (no hub {host})",
                    req.client_id.or(req.device_id).unwrap_or_default()
                ),
            });
        };
        match authorize(&hub.settings, &hub.registry, req, now) {
            Decision::Allow(allow) => {
                // The decision names the identity; the full document comes from the registry
                // (the same one the decision read, so it is there).
                let id = &allow.identity;
                hub.registry
                    .get(&id.device_id, id.module_id.as_deref())
                    .map(|identity| (identity.into_owned(), allow.valid_until))
                    .ok_or_else(|| DenyReason::UnknownIdentity {
                        identity: id.display_id(),
                    })
            }
            Decision::Deny(reason) => Err(reason),
        }
    }

    /// The store writes that [`Self::apply`] of `change` will mirror: the identity, its twin
    /// (initial, migrated or kept), or the removal.
    pub fn writes_for(&self, change: &HubChange) -> Vec<Write> {
        let hub = change.hub().to_ascii_lowercase();
        if self.hub(&hub).is_none() {
            return Vec::new();
        }
        match change {
            HubChange::Upsert { identity, twin, .. } => {
                let mut writes = vec![Write::Identity {
                    hub: hub.clone(),
                    identity: identity.clone(),
                }];
                if let Some(twin) = self.twin_after(&hub, identity, twin) {
                    writes.push(Write::Twin(twin));
                }
                writes
            }
            HubChange::Remove { device_id, .. } => vec![Write::RemoveIdentity {
                hub,
                device_id: device_id.clone(),
                module_id: None,
            }],
            HubChange::Disable { device_id, .. } => self
                .registry(&hub)
                .and_then(|r| r.get(device_id, None))
                .map(|identity| {
                    vec![Write::Identity {
                        hub,
                        identity: disabled(&identity),
                    }]
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The twin an upsert leaves (`None`: the current one stays).
    fn twin_after(
        &self,
        hub: &str,
        identity: &DeviceIdentity,
        change: &TwinChange,
    ) -> Option<StoredTwin> {
        let key = twin_key(hub, &identity.device_id, identity.module_id.as_deref());
        match change {
            TwinChange::Initial { twin } => Some(initial_twin(key, twin)),
            TwinChange::MigrateFrom {
                hub: old,
                device_id,
            } => {
                let old_key = twin_key(old, device_id, None);
                let mut twin = self
                    .twins
                    .get(&old_key)
                    .cloned()
                    .unwrap_or_else(|| empty_twin(old_key));
                twin.key = key;
                Some(twin)
            }
            _ => (!self.twins.contains_key(&key)).then(|| empty_twin(key)),
        }
    }

    /// Applies one change; returns a one-line description of what happened.
    pub fn apply(&mut self, change: &HubChange) -> String {
        let hub = change.hub().to_owned();
        if self.hub(&hub).is_none() {
            return format!("{hub}: no such hub, change ignored");
        }
        if let HubChange::Upsert { identity, twin, .. } = change
            && let Some(twin) = self.twin_after(&hub, identity, twin)
        {
            self.set_twin(twin);
        }
        if let HubChange::Remove { device_id, .. } = change {
            let lower = hub.to_ascii_lowercase();
            self.twins
                .retain(|k, _| !(k.hub == lower && k.device_id == *device_id));
        }
        let Some(registry) = self.registry_mut(&hub) else {
            return format!("{hub}: no such hub, change ignored");
        };
        match change {
            HubChange::Upsert { identity, .. } => match registry.upsert(identity.clone()) {
                Ok(()) => format!(
                    "{hub}: created/updated device '{}' ({})",
                    identity.device_id,
                    identity.authentication.r#type.as_str()
                ),
                Err(e) => format!("{hub}: upsert of '{}' refused: {e}", identity.device_id),
            },
            HubChange::Remove { device_id, .. } => match registry.remove(device_id, None) {
                Some(_) => format!("{hub}: deleted device '{device_id}'"),
                None => format!("{hub}: device '{device_id}' was already gone"),
            },
            HubChange::Disable { device_id, .. } => {
                if registry.set_status(device_id, None, IdentityStatus::Disabled, Some(REVOKED)) {
                    format!("{hub}: disabled device '{device_id}'")
                } else {
                    format!("{hub}: device '{device_id}' not found")
                }
            }
            _ => format!("{hub}: change of an unknown kind ignored"),
        }
    }

    /// Removes a device from a hub (an operator action).
    pub fn remove_device(&mut self, host: &str, device_id: &str) -> bool {
        self.registry_mut(host)
            .and_then(|r| r.remove(device_id, None))
            .is_some()
    }

    /// Replaces the reported properties of a twin with `patch` merged in (JSON merge patch:
    /// `null` deletes, RFC 7396), `$version` incremented; returns the new twin and version.
    /// The caller commits it, then calls [`Self::set_twin`].
    pub fn patched_reported(&self, key: &TwinKey, patch: &Map<String, Value>) -> (StoredTwin, u64) {
        let mut twin = self
            .twins
            .get(key)
            .cloned()
            .unwrap_or_else(|| empty_twin(key.clone()));
        let version = twin
            .reported
            .get("$version")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .saturating_add(1);
        if !twin.reported.is_object() {
            twin.reported = json!({});
        }
        if let Value::Object(reported) = &mut twin.reported {
            merge(reported, patch);
            reported.insert("$version".into(), json!(version));
        }
        (twin, version)
    }
}

const REVOKED: &str = "enrollment revoked";

fn disabled(identity: &DeviceIdentity) -> DeviceIdentity {
    let mut identity = identity.clone();
    identity.status = IdentityStatus::Disabled;
    identity.status_reason = Some(REVOKED.into());
    identity
}

/// RFC 7396 merge of `patch` into `target` (nested objects merge, `null` removes); keys
/// starting with `$` in the patch are ignored (they are the service's metadata).
fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        if key.starts_with('$') {
            continue;
        }
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(inner) => {
                let slot = target
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(slot) = slot {
                    merge(slot, inner);
                }
            }
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reported_patch_merges_and_counts_versions() {
        let mut hubs = Hubs::new();
        hubs.add(HubSettings::new("h.azure-devices.net").unwrap());
        let key = twin_key("H.azure-devices.net", "d", None);
        let patch = json!({"a": 1, "b": {"c": 2}, "$version": 99});
        let (twin, v) = hubs.patched_reported(&key, patch.as_object().unwrap());
        assert_eq!(v, 2);
        assert_eq!(twin.reported, json!({"a": 1, "b": {"c": 2}, "$version": 2}));
        hubs.set_twin(twin);
        let patch = json!({"a": null, "b": {"d": 3}});
        let (twin, v) = hubs.patched_reported(&key, patch.as_object().unwrap());
        assert_eq!(v, 3);
        assert_eq!(twin.reported, json!({"b": {"c": 2, "d": 3}, "$version": 3}));
    }

    #[test]
    fn initial_twin_from_dps() {
        let initial: InitialTwin = serde_json::from_value(json!({
            "tags": {"env": "test"}, "properties": {"desired": {"interval": 30}}
        }))
        .unwrap();
        let twin = initial_twin(twin_key("h", "d", None), &initial);
        assert_eq!(twin.tags, json!({"env": "test"}));
        assert_eq!(twin.desired, json!({"interval": 30, "$version": 1}));
        assert_eq!(twin.reported, json!({"$version": 1}));
    }
}
