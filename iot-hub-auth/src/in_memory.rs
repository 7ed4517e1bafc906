//! [`InMemoryRegistry`]: a million identities in under 300 bytes each, with their keys
//! pre-keyed (azure-iot-protocol.md §9: the registry is read on every connect).
//!
//! Layout. What a SAS connect reads sits in one fixed-size record per identity: its two
//! pre-keyed HMAC-SHA256 states ([`PreKeyedKeys`], 160 bytes) and 16 bytes of metadata
//! (status, authentication type, flags, lengths and arena offsets). Device and module IDs live
//! in one string arena, the raw key bytes (kept to give the identity back as Azure prints it)
//! in one wiped byte arena ([`SecretBytes`]), and a `hashbrown` table of `u32` positions takes
//! (device ID, module ID) to the record: 4 bytes and a control byte per bucket, where a map of
//! `String` keys would repeat every ID. `selfSigned`, `certificateAuthority` and `none`
//! identities have their own records without keys (and with thumbprints). Rare data
//! (`statusReason`, the module list of a device) sits in side maps; the full [`DeviceIdentity`]
//! is rebuilt on demand ([`Registry::get`]).
//!
//! Removing an identity moves the last record into its place (keys are cloned into the hole and
//! the old copies dropped, so no key state is left behind) and wipes its key bytes; the arenas
//! are rebuilt once half of them is garbage.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use iot_sas::KeySlot;

use crate::arena::SecretBytes;
use crate::error::{Error, IdKind};
use crate::identifier::display_id;
use crate::identity::{AuthenticationType, DeviceIdentity, IdentityStatus};
use crate::keys::{PreKeyedKeys, registered_key};
use crate::registry::{Lent, Registry, RegistryEntry, RegistryHasher};

mod records;

use records::{HAS_REASON, IOT_EDGE, Meta, OTHER, OtherRecord, SasRecord};

/// An in-memory registry keyed by (device ID, module ID), compact enough for a million
/// identities (see the `registry_memory` example in the repository's `benches/`).
///
/// Lookups by `&str` allocate nothing, and every `sas` identity keeps its [`PreKeyedKeys`]
/// beside its status and type. [`Registry::get`] rebuilds the full [`DeviceIdentity`] (keys as
/// base64 text, `statusReason`, capabilities) on demand.
///
/// ```
/// use iot_hub_auth::{DeviceIdentity, InMemoryRegistry, Registry};
/// let mut registry = InMemoryRegistry::new();
/// registry
///     .upsert(DeviceIdentity::sas(
///         "dev-1",
///         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
///         "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
///     ))
///     .unwrap();
/// assert!(registry.get("dev-1", None).is_some());
/// registry.remove("dev-1", None);
/// assert!(registry.get("dev-1", None).is_none());
/// ```
///
/// The hasher `S` defaults to [`RegistryHasher`]; see [`Self::with_hasher`]. `Debug` prints
/// counts only.
#[derive(Clone)]
pub struct InMemoryRegistry<S = RegistryHasher> {
    /// (device ID, module ID) -> position: an index into `sas`, or `OTHER | index` into `other`.
    index: HashTable<u32>,
    sas: Vec<SasRecord>,
    other: Vec<OtherRecord>,
    ids: String,
    ids_garbage: usize,
    secrets: SecretBytes,
    /// `statusReason` by `deviceId[/moduleId]`.
    reasons: HashMap<String, String>,
    /// Module IDs by device ID, for devices that have modules.
    modules: HashMap<String, Vec<String>>,
    hasher: S,
}

impl<S> core::fmt::Debug for InMemoryRegistry<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InMemoryRegistry")
            .field("sas_identities", &self.sas.len())
            .field("other_identities", &self.other.len())
            .finish_non_exhaustive()
    }
}

impl InMemoryRegistry {
    /// An empty registry (hasher: [`RegistryHasher`] with a fresh seed).
    pub fn new() -> Self {
        Self::with_hasher(RegistryHasher::new())
    }

    /// An empty registry with room for `identities` `sas` identities.
    pub fn with_capacity(identities: usize) -> Self {
        Self::with_capacity_and_hasher(identities, RegistryHasher::new())
    }
}

impl Default for InMemoryRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: BuildHasher + Clone> InMemoryRegistry<S> {
    /// An empty registry hashing device and module IDs with `hasher`.
    ///
    /// The default [`RegistryHasher`] resists hash flooding only while its seed stays secret.
    /// Where an attacker can both create many identities (for example devices registering
    /// their own IDs through a DPS enrollment group) and time lookups over a long period,
    /// prefer std's SipHash-1-3, about 20 ns more per connect:
    ///
    /// ```
    /// use iot_hub_auth::{DeviceIdentity, InMemoryRegistry, Registry};
    /// let mut registry = InMemoryRegistry::with_hasher(std::hash::RandomState::new());
    /// registry
    ///     .upsert(DeviceIdentity::sas(
    ///         "dev-1",
    ///         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ///         "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
    ///     ))
    ///     .unwrap();
    /// assert!(registry.get("dev-1", None).is_some());
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty registry with room for `identities` `sas` identities, hashing with `hasher`.
    pub fn with_capacity_and_hasher(identities: usize, hasher: S) -> Self {
        Self {
            index: HashTable::with_capacity(identities),
            sas: Vec::with_capacity(identities),
            other: Vec::new(),
            ids: String::new(),
            ids_garbage: 0,
            secrets: SecretBytes::default(),
            reasons: HashMap::new(),
            modules: HashMap::new(),
            hasher,
        }
    }

    /// Validates the identity and inserts or replaces it. A module's device must already be
    /// registered. Replacing a device keeps its modules.
    pub fn upsert(&mut self, identity: DeviceIdentity) -> Result<(), Error> {
        identity.validate()?;
        let device_id = identity.device_id.as_str();
        let module_id = identity.module_id.as_deref();
        let owner = identity.display_id();
        if let Some(module_id) = module_id
            && self.position(device_id, None).is_none()
        {
            return Err(Error::ParentMissing {
                device_id: device_id.to_owned(),
                module_id: module_id.to_owned(),
            });
        }
        let auth = &identity.authentication;
        // Decode and pre-key before changing anything: every failure leaves the registry as
        // it was.
        let raw = match (auth.r#type, &auth.symmetric_key) {
            (AuthenticationType::Sas, Some(keys)) => Some((
                registered_key(&owner, KeySlot::Primary, &keys.primary_key)?,
                registered_key(&owner, KeySlot::Secondary, &keys.secondary_key)?,
            )),
            _ => None,
        };
        let keys = raw
            .as_ref()
            .map(|(primary, secondary)| PreKeyedKeys::new(primary, secondary));
        let existing = self.position(device_id, module_id);
        let ids_len = if existing.is_some() { 0 } else { owner.len() };
        if u32::try_from(self.ids.len().saturating_add(ids_len)).is_err() {
            return Err(Error::RegistryFull {
                what: "device and module IDs",
            });
        }
        let secret_len = raw.as_ref().map_or(0, |(p, s)| p.len() + s.len());
        self.secrets.check_room(secret_len)?;
        let full = |len: usize| u32::try_from(len).is_err() || len >= OTHER as usize;
        if existing.is_none() && (full(self.sas.len()) || full(self.other.len())) {
            return Err(Error::RegistryFull { what: "identities" });
        }

        let id_off = match existing.and_then(|at| self.meta(at)) {
            Some(meta) => meta.id_off,
            None => {
                let at = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
                self.ids.push_str(device_id);
                self.ids.push_str(module_id.unwrap_or_default());
                at
            }
        };
        let key_off = match &raw {
            Some((primary, secondary)) => self
                .secrets
                .push(&[primary.secret_bytes(), secondary.secret_bytes()]),
            None => 0,
        };
        let len8 = |len: usize| u8::try_from(len).unwrap_or(u8::MAX);
        let reason = identity.status_reason.clone();
        let meta = Meta {
            id_off,
            key_off,
            device_len: len8(device_id.len()),
            module_len: len8(module_id.map_or(0, str::len)),
            primary_len: len8(raw.as_ref().map_or(0, |(p, _)| p.len())),
            secondary_len: len8(raw.as_ref().map_or(0, |(_, s)| s.len())),
            status: identity.status,
            auth_type: auth.r#type,
            flags: if identity.capabilities.iot_edge {
                IOT_EDGE
            } else {
                0
            } | if reason.is_some() { HAS_REASON } else { 0 },
        };
        let thumbprints = auth.x509_thumbprint.clone();
        match existing {
            Some(at) => self.replace(at, meta, keys, thumbprints),
            None => {
                self.insert_new(meta, keys, thumbprints);
                if let Some(module_id) = module_id {
                    self.modules
                        .entry(device_id.to_owned())
                        .or_default()
                        .push(module_id.to_owned());
                }
            }
        }
        match reason {
            Some(reason) => self.reasons.insert(owner, reason),
            None => self.reasons.remove(&owner),
        };
        self.compact_if_sparse();
        Ok(())
    }

    /// Inserts a new identity; fails with [`Error::Duplicate`] if it already exists.
    pub fn insert(&mut self, identity: DeviceIdentity) -> Result<(), Error> {
        if self
            .position(&identity.device_id, identity.module_id.as_deref())
            .is_some()
        {
            return Err(Error::Duplicate {
                kind: if identity.module_id.is_some() {
                    IdKind::Module
                } else {
                    IdKind::Device
                },
                id: identity.display_id(),
            });
        }
        self.upsert(identity)
    }

    /// Removes an identity (a device takes its modules with it) and returns it. The next
    /// connect of that identity is refused ([`crate::DenyReason::UnknownIdentity`]).
    pub fn remove(&mut self, device_id: &str, module_id: Option<&str>) -> Option<DeviceIdentity> {
        let at = self.position(device_id, module_id)?;
        let removed = self.materialize(at);
        match module_id {
            None => {
                for module in self.modules.remove(device_id).unwrap_or_default() {
                    if let Some(m) = self.position(device_id, Some(&module)) {
                        self.remove_record(m);
                    }
                    self.reasons.remove(&display_id(device_id, Some(&module)));
                }
            }
            Some(module_id) => {
                if let Some(list) = self.modules.get_mut(device_id) {
                    list.retain(|m| m != module_id);
                    if list.is_empty() {
                        self.modules.remove(device_id);
                    }
                }
            }
        }
        // Found above, and removing modules only moves records: find it again.
        if let Some(at) = self.position(device_id, module_id) {
            self.remove_record(at);
        }
        self.reasons.remove(&display_id(device_id, module_id));
        self.compact_if_sparse();
        removed
    }

    /// Sets `status` and `statusReason`; returns `false` if the identity is not registered.
    pub fn set_status(
        &mut self,
        device_id: &str,
        module_id: Option<&str>,
        status: IdentityStatus,
        reason: Option<&str>,
    ) -> bool {
        let Some(meta) = self
            .position(device_id, module_id)
            .and_then(|at| self.meta_mut(at))
        else {
            return false;
        };
        meta.status = status;
        meta.flags = (meta.flags & !HAS_REASON) | if reason.is_some() { HAS_REASON } else { 0 };
        let key = display_id(device_id, module_id);
        match reason {
            Some(reason) => self.reasons.insert(key, reason.to_owned()),
            None => self.reasons.remove(&key),
        };
        true
    }

    /// Number of identities (devices plus modules).
    pub fn len(&self) -> usize {
        self.sas.len() + self.other.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every identity, rebuilt as Azure prints it: each device followed by its modules, in no
    /// particular device order.
    pub fn iter(&self) -> impl Iterator<Item = DeviceIdentity> + '_ {
        let sas = (0..self.sas.len()).filter_map(|i| u32::try_from(i).ok());
        let other = (0..self.other.len()).filter_map(|i| u32::try_from(i).ok().map(|i| i | OTHER));
        let devices = sas
            .chain(other)
            .filter(|&at| self.meta(at).is_some_and(|meta| meta.module_len == 0));
        devices.flat_map(move |at| {
            let device_id = self
                .meta(at)
                .map(|meta| meta.device(&self.ids))
                .unwrap_or_default();
            let modules = self
                .modules
                .get(device_id)
                .into_iter()
                .flatten()
                .filter_map(move |m| self.position(device_id, Some(m)));
            core::iter::once(at)
                .chain(modules)
                .filter_map(move |p| self.materialize(p))
        })
    }
}

impl<S: BuildHasher + Clone> Registry for InMemoryRegistry<S> {
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<Cow<'_, DeviceIdentity>> {
        let at = self.position(device_id, module_id)?;
        self.materialize(at).map(Cow::Owned)
    }

    #[inline]
    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        let at = self.position(device_id, module_id)?;
        let (meta, keys, thumbprints) = if at & OTHER == 0 {
            let record = self.sas.get(at as usize)?;
            (&record.meta, Some(Lent::Borrowed(&record.keys)), None)
        } else {
            let record = self.other.get((at & !OTHER) as usize)?;
            (
                &record.meta,
                None,
                record.thumbprints.as_ref().map(Lent::Borrowed),
            )
        };
        Some(RegistryEntry {
            device_id: Cow::Borrowed(meta.device(&self.ids)),
            module_id: meta.module(&self.ids).map(Cow::Borrowed),
            status: meta.status,
            auth_type: meta.auth_type,
            keys,
            thumbprints,
        })
    }
}

impl FromIterator<DeviceIdentity> for Result<InMemoryRegistry, Error> {
    fn from_iter<I: IntoIterator<Item = DeviceIdentity>>(iter: I) -> Self {
        let mut registry = InMemoryRegistry::new();
        let mut pending_modules = Vec::new();
        for identity in iter {
            if identity.module_id.is_some() {
                pending_modules.push(identity);
            } else {
                registry.insert(identity)?;
            }
        }
        for module in pending_modules {
            registry.insert(module)?;
        }
        Ok(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::records::COMPACT_AFTER;
    use super::*;
    use crate::Thumbprint;
    use base64::Engine as _;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    fn thumbprint(byte: u8) -> Thumbprint {
        Thumbprint::from_hex(&format!("{byte:02X}").repeat(32)).unwrap()
    }

    #[test]
    fn records_are_compact() {
        assert_eq!(size_of::<Meta>(), 16);
        assert_eq!(size_of::<SasRecord>(), 176);
    }

    #[test]
    fn devices_and_modules() {
        let mut r = InMemoryRegistry::new();
        let module = DeviceIdentity::sas("d", K1, K2).into_module("m");
        assert!(matches!(
            r.upsert(module.clone()),
            Err(Error::ParentMissing { .. })
        ));
        r.upsert(DeviceIdentity::sas("d", K1, K2)).unwrap();
        r.upsert(module).unwrap();
        assert_eq!(r.len(), 2);
        assert!(r.lookup("d", Some("m")).unwrap().keys.is_some());
        assert!(r.get("d", Some("x")).is_none());
        assert!(r.get("D", None).is_none(), "device IDs are case-sensitive");
        assert!(matches!(
            r.insert(DeviceIdentity::sas("d", K1, K2)),
            Err(Error::Duplicate {
                kind: IdKind::Device,
                ..
            })
        ));
        assert!(r.set_status("d", Some("m"), IdentityStatus::Disabled, Some("x")));
        let module = r.get("d", Some("m")).unwrap();
        assert!(!module.is_enabled());
        assert_eq!(module.status_reason.as_deref(), Some("x"));
        assert!(!r.lookup("d", Some("m")).unwrap().is_enabled());
        assert!(!r.set_status("nope", None, IdentityStatus::Disabled, None));
        assert_eq!(r.iter().count(), 2);
        assert!(r.remove("d", None).is_some());
        assert_eq!(r.len(), 0);
        assert!(r.get("d", Some("m")).is_none());
    }

    #[test]
    fn removing_a_device_keeps_every_other_reachable() {
        let mut r = InMemoryRegistry::new();
        for d in ["a", "b", "c", "d"] {
            r.upsert(DeviceIdentity::sas(d, K1, K2)).unwrap();
        }
        r.upsert(DeviceIdentity::sas("d", K1, K2).into_module("m"))
            .unwrap();
        // The last records move into the holes "b" leaves.
        assert_eq!(r.remove("b", None).unwrap().device_id, "b");
        assert!(r.remove("b", None).is_none());
        for d in ["a", "c", "d"] {
            assert_eq!(r.get(d, None).unwrap().device_id, d);
            assert_eq!(r.lookup(d, None).unwrap().device_id, d);
        }
        assert!(r.lookup("d", Some("m")).unwrap().keys.is_some());
        assert!(r.set_status("d", None, IdentityStatus::Disabled, None));
        assert!(!r.get("d", None).unwrap().is_enabled());
        assert_eq!(r.len(), 4);
        assert!(r.remove("d", None).is_some());
        assert_eq!(r.len(), 2);
        r.upsert(DeviceIdentity::sas("e", K1, K2)).unwrap();
        let mut ids: Vec<_> = r.iter().map(|i| i.device_id).collect();
        ids.sort();
        assert_eq!(ids, ["a", "c", "e"]);
    }

    #[test]
    fn invalid_identities_are_refused_and_change_nothing() {
        let mut r = InMemoryRegistry::new();
        assert!(r.upsert(DeviceIdentity::sas("d", "AAAA", K2)).is_err());
        assert!(r.is_empty());
        r.upsert(DeviceIdentity::sas("d", K1, K2)).unwrap();
        let before = r.get("d", None).unwrap().into_owned();
        assert!(r.upsert(DeviceIdentity::sas("d", K1, "AAAA")).is_err());
        assert_eq!(r.get("d", None).unwrap().into_owned(), before);
        let ca = DeviceIdentity::certificate_authority("c");
        r.upsert(ca).unwrap();
        assert!(r.lookup("c", None).unwrap().keys.is_none());
    }

    /// Replacing or removing a `sas` identity wipes its raw key bytes in the arena at once and
    /// counts them (and a removed identity's IDs) as garbage for the next rebuild.
    #[test]
    fn released_key_bytes_are_wiped_and_counted() {
        let mut r = InMemoryRegistry::new();
        r.upsert(DeviceIdentity::sas("dev-a", K1, K2)).unwrap();
        r.upsert(DeviceIdentity::sas("dev-b", K2, K1)).unwrap();
        let meta = |r: &InMemoryRegistry, id: &str| *r.meta(r.position(id, None).unwrap()).unwrap();
        let first = meta(&r, "dev-a");
        assert_eq!(first.keys_len(), 64);
        assert_eq!(first.ids_len(), 5);
        let bytes =
            |r: &InMemoryRegistry, m: &Meta| r.secrets.get(m.key_off, m.keys_len()).to_vec();
        assert!(bytes(&r, &first).iter().any(|&b| b != 0));
        // Replaced: the old bytes are zero, the new ones elsewhere.
        r.upsert(DeviceIdentity::sas("dev-a", K2, K2)).unwrap();
        assert_eq!(bytes(&r, &first), [0u8; 64]);
        assert_eq!(r.secrets.garbage(), 64);
        let second = meta(&r, "dev-a");
        assert_ne!(second.key_off, first.key_off);
        assert!(bytes(&r, &second).iter().any(|&b| b != 0));
        // Removed: its bytes are zero too, and its 5 ID bytes are garbage.
        r.remove("dev-a", None).unwrap();
        assert_eq!(bytes(&r, &second), [0u8; 64]);
        assert_eq!(r.secrets.garbage(), 128);
        assert_eq!(r.ids_garbage, 5);
        // The other identity is untouched.
        let other = meta(&r, "dev-b");
        assert_eq!(
            r.get("dev-b", None)
                .unwrap()
                .authentication
                .symmetric_key
                .as_ref()
                .unwrap()
                .primary_key,
            K2
        );
        assert!(bytes(&r, &other).iter().any(|&b| b != 0));
        // Certificate identities have no key bytes to release.
        r.upsert(DeviceIdentity::certificate_authority("ca-1"))
            .unwrap();
        r.remove("ca-1", None).unwrap();
        assert_eq!(r.secrets.garbage(), 128);
        assert_eq!(r.ids_garbage, 5 + 4);
    }

    /// With every ID hashing alike (a flooded or broken hasher), lookups stay exact: IDs of the
    /// same length that differ in one byte are told apart by the comparison alone.
    #[test]
    fn colliding_hashes_still_find_the_exact_identity() {
        #[derive(Clone, Default)]
        struct Constant;
        impl std::hash::Hasher for Constant {
            fn finish(&self) -> u64 {
                0x0123_4567_89ab_cdef
            }
            fn write(&mut self, _: &[u8]) {}
        }
        let hasher = std::hash::BuildHasherDefault::<Constant>::default();
        let mut r = InMemoryRegistry::with_hasher(hasher);
        let ids = ["dev-a", "dev-b", "dev-c", "deva-", "xev-a"];
        for (i, id) in ids.iter().enumerate() {
            let key = base64::engine::general_purpose::STANDARD.encode([i as u8 + 1; 32]);
            r.upsert(DeviceIdentity::sas(id, &key, &key)).unwrap();
        }
        r.upsert(DeviceIdentity::sas("dev-a", K1, K2).into_module("m-1"))
            .unwrap();
        for (i, id) in ids.iter().enumerate() {
            let key = base64::engine::general_purpose::STANDARD.encode([i as u8 + 1; 32]);
            let got = r.get(id, None).unwrap();
            assert_eq!(got.device_id, *id);
            assert_eq!(
                got.authentication
                    .symmetric_key
                    .as_ref()
                    .unwrap()
                    .primary_key,
                key
            );
            assert_eq!(r.lookup(id, None).unwrap().device_id, *id);
        }
        assert!(r.get("dev-d", None).is_none());
        assert!(r.get("dev-a", Some("m-2")).is_none());
        assert_eq!(
            r.lookup("dev-a", Some("m-1")).unwrap().display_id(),
            "dev-a/m-1"
        );
        assert!(r.remove("dev-b", None).is_some());
        assert!(r.get("dev-b", None).is_none());
        assert_eq!(r.get("dev-c", None).unwrap().device_id, "dev-c");
    }

    /// `set_status` changes status and reason only: flags such as IoT Edge survive, and a
    /// reason can be set and cleared.
    #[test]
    fn set_status_keeps_the_other_fields() {
        let mut r = InMemoryRegistry::new();
        assert!(r.is_empty());
        let mut edge = DeviceIdentity::sas("edge", K1, K2);
        edge.capabilities.iot_edge = true;
        r.upsert(edge.clone()).unwrap();
        assert!(!r.is_empty());
        assert!(r.set_status("edge", None, IdentityStatus::Disabled, Some("stolen")));
        let got = r.get("edge", None).unwrap().into_owned();
        assert_eq!(got, edge.clone().disabled(Some("stolen")));
        assert!(r.set_status("edge", None, IdentityStatus::Enabled, None));
        assert_eq!(r.get("edge", None).unwrap().into_owned(), edge);
    }

    /// Every kind of identity comes back exactly as it went in, and `lookup` agrees with it.
    #[test]
    fn identities_round_trip() {
        let mut r = InMemoryRegistry::new();
        let mut edge = DeviceIdentity::sas("edge-1", K1, K2).disabled(Some("maintenance"));
        edge.capabilities.iot_edge = true;
        let mut none = DeviceIdentity::certificate_authority("edge-1").into_module("$edgeAgent");
        none.authentication.r#type = AuthenticationType::None;
        let long_key = base64::engine::general_purpose::STANDARD.encode([9u8; 64]);
        let all = [
            edge,
            none,
            DeviceIdentity::sas("edge-1", &long_key, K1).into_module("m(1)"),
            DeviceIdentity::self_signed("self", thumbprint(0xAB), Some(thumbprint(0xCD))),
            DeviceIdentity::certificate_authority("ca@x#1"),
        ];
        for identity in &all {
            r.upsert(identity.clone()).unwrap();
        }
        for identity in &all {
            let (d, m) = (identity.device_id.as_str(), identity.module_id.as_deref());
            assert_eq!(&*r.get(d, m).unwrap(), identity);
            let entry = r.lookup(d, m).unwrap();
            assert_eq!(entry.display_id(), identity.display_id());
            assert_eq!(entry.status, identity.status);
            assert_eq!(entry.auth_type, identity.authentication.r#type);
            assert_eq!(
                entry.thumbprints.as_deref(),
                identity.authentication.x509_thumbprint.as_ref()
            );
            assert_eq!(
                entry.keys.is_some(),
                identity.authentication.r#type == AuthenticationType::Sas
            );
        }
        let mut listed: Vec<_> = r.iter().collect();
        listed.sort_by_key(DeviceIdentity::display_id);
        let mut expected = all.to_vec();
        expected.sort_by_key(DeviceIdentity::display_id);
        assert_eq!(listed, expected);
        assert_eq!(
            format!("{r:?}"),
            "InMemoryRegistry { sas_identities: 2, other_identities: 3, .. }"
        );
    }

    /// Upserting with another authentication type moves the record between the vectors and
    /// keeps the device's modules.
    #[test]
    fn upsert_can_change_the_authentication_type() {
        let mut r = InMemoryRegistry::new();
        r.upsert(DeviceIdentity::sas("d", K1, K2)).unwrap();
        r.upsert(DeviceIdentity::sas("d", K2, K1).into_module("m"))
            .unwrap();
        r.upsert(DeviceIdentity::self_signed("d", thumbprint(1), None))
            .unwrap();
        assert_eq!(
            r.lookup("d", None).unwrap().auth_type,
            AuthenticationType::SelfSigned
        );
        assert!(r.lookup("d", Some("m")).unwrap().keys.is_some());
        r.upsert(DeviceIdentity::sas("d", K2, K2)).unwrap();
        assert_eq!(
            r.get("d", None)
                .unwrap()
                .authentication
                .symmetric_key
                .as_ref()
                .unwrap()
                .primary_key,
            K2
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r.remove("d", None).unwrap().device_id, "d");
        assert!(r.is_empty());
    }

    /// A random sequence of upserts, status changes and removals against a plain map of
    /// identities: the registry answers exactly as the map, through arena rebuilds.
    #[test]
    fn random_operations_agree_with_a_plain_map() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let key = |seed: u64| base64::engine::general_purpose::STANDARD.encode([seed as u8; 32]);
        let mut r = InMemoryRegistry::with_capacity_and_hasher(8, std::hash::RandomState::new());
        let mut model: HashMap<String, DeviceIdentity> = HashMap::new();
        for round in 0..20_000 {
            let n = next(200);
            let device = format!("device-{n:03}-{}", "x".repeat((n % 40) as usize));
            let module = (next(4) == 0).then(|| format!("m{}", next(3)));
            let mut identity = match next(3) {
                0 => DeviceIdentity::self_signed(&device, thumbprint(next(200) as u8), None),
                1 => DeviceIdentity::certificate_authority(&device),
                _ => DeviceIdentity::sas(&device, &key(next(256)), &key(round)),
            };
            if let Some(m) = &module {
                identity = identity.into_module(m);
            }
            let display = identity.display_id();
            match next(10) {
                0..=5 => {
                    let result = r.upsert(identity.clone());
                    let parent = module.is_none() || model.contains_key(&device);
                    assert_eq!(result.is_ok(), parent, "{display}");
                    if parent {
                        model.insert(display, identity);
                    }
                }
                6 => {
                    let reason = (next(2) == 0).then_some("why");
                    let known = model.get_mut(&display);
                    assert_eq!(
                        r.set_status(&device, module.as_deref(), IdentityStatus::Disabled, reason),
                        known.is_some()
                    );
                    if let Some(m) = known {
                        m.status = IdentityStatus::Disabled;
                        m.status_reason = reason.map(Into::into);
                    }
                }
                _ => {
                    let removed = r.remove(&device, module.as_deref());
                    assert_eq!(removed.as_ref(), model.get(&display), "{display}");
                    model.remove(&display);
                    if module.is_none() {
                        model.retain(|_, i| i.device_id != device);
                    }
                }
            }
            // Garbage stays bounded: the arenas are rebuilt as identities go.
            assert!(
                r.ids_garbage <= COMPACT_AFTER.max(r.ids.len() / 2),
                "{round}"
            );
            let secrets = &r.secrets;
            assert!(
                secrets.garbage() <= COMPACT_AFTER.max(secrets.len() / 2),
                "{round}"
            );
            if round % 2000 == 0 || round == 19_999 {
                assert_eq!(r.len(), model.len());
                for (display, identity) in &model {
                    let (d, m) = (identity.device_id.as_str(), identity.module_id.as_deref());
                    assert_eq!(r.get(d, m).as_deref(), Some(identity), "{display}");
                    assert_eq!(r.lookup(d, m).unwrap().display_id(), *display);
                }
                assert_eq!(r.iter().count(), model.len());
            }
        }
    }

    /// A service shares one registry between connection threads (behind a lock or a swap).
    #[test]
    fn registries_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<InMemoryRegistry>();
        shareable::<InMemoryRegistry<std::hash::RandomState>>();
        shareable::<RegistryHasher>();
    }

    #[test]
    fn from_iterator_orders_modules_after_devices() {
        let ids = vec![
            DeviceIdentity::sas("d", K1, K2).into_module("m"),
            DeviceIdentity::sas("d", K1, K2),
        ];
        let r: Result<InMemoryRegistry, Error> = ids.into_iter().collect();
        assert_eq!(r.unwrap().len(), 2);
    }
}
