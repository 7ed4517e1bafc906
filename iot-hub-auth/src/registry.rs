//! The identity registry: a trait so embedders can back it with their own store, and an
//! in-memory implementation that holds a million identities (azure-iot-protocol.md §9: the
//! registry entry must exist and be enabled on every connect).
//!
//! [`InMemoryRegistry`] keeps, beside each `sas` identity, its keys already base64-decoded and
//! pre-keyed for HMAC-SHA256 ([`PreKeyedKeys`]: an [`iot_sas::Verifier`] of two compact
//! [`iot_sas::MacKey`]s), so a connect decision does no base64 decoding, no key schedule and
//! no allocation.
//!
//! Lookups hash the device ID once per connect. The default [`RegistryHasher`] is foldhash
//! (the hasher hashbrown itself defaults to) keyed with 64 bits of OS randomness per registry,
//! about five times cheaper than std's SipHash-1-3 on a 40-byte ID; any other
//! [`BuildHasher`] can be chosen with [`InMemoryRegistry::with_hasher`] (see its docs for when
//! to prefer SipHash).

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::error::{Error, IdKind};
use crate::identity::{AuthenticationType, DeviceIdentity, IdentityStatus};
use crate::keys::PreKeyedKeys;

/// What a registry returns for one identity: the identity and, optionally, its symmetric keys
/// pre-keyed for verification.
#[derive(Clone, Copy, Debug)]
pub struct RegistryEntry<'a> {
    /// The identity.
    pub identity: &'a DeviceIdentity,
    /// Pre-keyed primary and secondary keys of a `sas` identity. `None` makes
    /// [`crate::authorize`] decode the keys from the identity on each call (correct, slower).
    pub keys: Option<&'a PreKeyedKeys>,
}

/// Looks up device and module identities.
///
/// Implementations return the identity whose IDs are exactly the ones asked for (device and
/// module IDs are case-sensitive, azure-iot-protocol.md §4): [`crate::authorize`] checks the
/// token's `sr` against the IDs the connection claims, and authenticates it with the keys of
/// the identity returned for them.
pub trait Registry {
    /// The identity `device_id` (module `module_id`), if registered.
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<&DeviceIdentity>;

    /// The identity plus its optional pre-keyed keys. The default implementation wraps
    /// [`Self::get`] without keys; stores that can keep [`PreKeyedKeys`] should override it.
    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        self.get(device_id, module_id)
            .map(|identity| RegistryEntry {
                identity,
                keys: None,
            })
    }
}

impl<R: Registry + ?Sized> Registry for &R {
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<&DeviceIdentity> {
        (**self).get(device_id, module_id)
    }
    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        (**self).lookup(device_id, module_id)
    }
}

/// One identity with its pre-keyed keys, the keys first and inline (`repr(C)` keeps that
/// order): a SAS connect reads the keys and the identity's status and type from one block of
/// adjacent cache lines instead of following another pointer.
#[derive(Clone, Debug)]
#[repr(C)]
struct Stored {
    keys: Option<PreKeyedKeys>,
    identity: DeviceIdentity,
}

impl Stored {
    fn new(identity: DeviceIdentity) -> Result<Self, Error> {
        identity.validate()?;
        let keys = prepare_keys(&identity)?;
        Ok(Self { keys, identity })
    }

    fn entry(&self) -> RegistryEntry<'_> {
        RegistryEntry {
            identity: &self.identity,
            keys: self.keys.as_ref(),
        }
    }
}

/// Pre-keys the symmetric keys of a `sas` identity (`None` for other types).
pub(crate) fn prepare_keys(identity: &DeviceIdentity) -> Result<Option<PreKeyedKeys>, Error> {
    let auth = &identity.authentication;
    let (AuthenticationType::Sas, Some(keys)) = (auth.r#type, &auth.symmetric_key) else {
        return Ok(None);
    };
    PreKeyedKeys::from_base64(
        &identity.display_id(),
        &keys.primary_key,
        &keys.secondary_key,
    )
    .map(Some)
}

#[derive(Clone, Debug)]
struct DeviceSlot<S> {
    device: Stored,
    modules: HashMap<String, Stored, S>,
}

/// The default hasher of [`InMemoryRegistry`]: foldhash with a per-registry secret seed.
///
/// foldhash (<https://github.com/orlp/foldhash>) is fast but only "minimally DoS-resistant":
/// no input list collides for every seed, so an attacker who cannot observe the seed cannot
/// flood a table. foldhash's own `RandomState` seeds itself from addresses and the clock;
/// [`Self::new`] instead takes its 64-bit seed from std's [`std::hash::RandomState`] (the
/// source std's `HashMap` uses: the operating system's random generator), and
/// [`Self::with_seed`] takes it from the caller, for embedders that supply all randomness
/// themselves.
#[derive(Clone, Debug)]
pub struct RegistryHasher(foldhash::fast::FixedState);

impl RegistryHasher {
    /// A hasher with a fresh secret seed from the OS random source (through std).
    pub fn new() -> Self {
        // SipHash under std's random keys of a constant is a uniformly random 64-bit value.
        Self::with_seed(std::hash::RandomState::new().hash_one(0x6961_6f74_2d61_7574_u64))
    }

    /// A hasher with the caller's seed, which must be random and secret for the flooding
    /// resistance described above (a fixed seed makes lookups reproducible, for tests).
    pub fn with_seed(seed: u64) -> Self {
        Self(foldhash::fast::FixedState::with_seed(seed))
    }
}

impl Default for RegistryHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildHasher for RegistryHasher {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// An in-memory registry keyed by (device ID, module ID).
///
/// A hash map takes each device ID to an index into one vector of devices; each device holds
/// its own (initially unallocated) map of modules. Lookups by `&str` allocate nothing, the map
/// stays small (32 bytes per bucket rather than the whole identity), and every `sas` identity
/// is stored with its [`PreKeyedKeys`] in the same block as the identity.
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
/// The hasher `S` defaults to [`RegistryHasher`]; see [`Self::with_hasher`].
#[derive(Clone, Debug)]
pub struct InMemoryRegistry<S = RegistryHasher> {
    /// Device ID -> index into `devices`.
    index: HashMap<String, usize, S>,
    devices: Vec<DeviceSlot<S>>,
    modules: usize,
    hasher: S,
}

impl InMemoryRegistry {
    /// An empty registry (hasher: [`RegistryHasher`] with a fresh seed).
    pub fn new() -> Self {
        Self::with_hasher(RegistryHasher::new())
    }

    /// An empty registry with room for `devices` devices.
    pub fn with_capacity(devices: usize) -> Self {
        Self::with_capacity_and_hasher(devices, RegistryHasher::new())
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

    /// An empty registry with room for `devices` devices, hashing with `hasher`.
    pub fn with_capacity_and_hasher(devices: usize, hasher: S) -> Self {
        Self {
            index: HashMap::with_capacity_and_hasher(devices, hasher.clone()),
            devices: Vec::with_capacity(devices),
            modules: 0,
            hasher,
        }
    }

    /// Validates the identity and inserts or replaces it. A module's device must already be
    /// registered. Replacing a device keeps its modules.
    pub fn upsert(&mut self, identity: DeviceIdentity) -> Result<(), Error> {
        let stored = Stored::new(identity)?;
        match stored.identity.module_id.clone() {
            None => match self.slot_mut(&stored.identity.device_id) {
                Some(slot) => slot.device = stored,
                None => {
                    self.index
                        .insert(stored.identity.device_id.clone(), self.devices.len());
                    self.devices.push(DeviceSlot {
                        device: stored,
                        modules: HashMap::with_hasher(self.hasher.clone()),
                    });
                }
            },
            Some(module_id) => {
                let Some(slot) = self.slot_mut(&stored.identity.device_id) else {
                    return Err(Error::ParentMissing {
                        device_id: stored.identity.device_id.clone(),
                        module_id,
                    });
                };
                if slot.modules.insert(module_id, stored).is_none() {
                    self.modules = self.modules.saturating_add(1);
                }
            }
        }
        Ok(())
    }

    /// Inserts a new identity; fails with [`Error::Duplicate`] if it already exists.
    pub fn insert(&mut self, identity: DeviceIdentity) -> Result<(), Error> {
        if self
            .get(&identity.device_id, identity.module_id.as_deref())
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
        match module_id {
            None => {
                let at = self.index.remove(device_id)?;
                if at >= self.devices.len() {
                    return None; // unreachable: every index points into `devices`
                }
                let slot = self.devices.swap_remove(at);
                // The last device moved into the hole: point its index entry there.
                if let Some(moved) = self.devices.get(at)
                    && let Some(entry) = self.index.get_mut(&moved.device.identity.device_id)
                {
                    *entry = at;
                }
                self.modules = self.modules.saturating_sub(slot.modules.len());
                Some(slot.device.identity)
            }
            Some(m) => {
                let removed = self.slot_mut(device_id)?.modules.remove(m)?;
                self.modules = self.modules.saturating_sub(1);
                Some(removed.identity)
            }
        }
    }

    /// Sets `status` and `statusReason`; returns `false` if the identity is not registered.
    pub fn set_status(
        &mut self,
        device_id: &str,
        module_id: Option<&str>,
        status: IdentityStatus,
        reason: Option<&str>,
    ) -> bool {
        let Some(slot) = self.slot_mut(device_id) else {
            return false;
        };
        let stored = match module_id {
            None => &mut slot.device,
            Some(m) => match slot.modules.get_mut(m) {
                Some(s) => s,
                None => return false,
            },
        };
        stored.identity.status = status;
        stored.identity.status_reason = reason.map(Into::into);
        true
    }

    /// Number of identities (devices plus modules).
    pub fn len(&self) -> usize {
        self.devices.len().saturating_add(self.modules)
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Every identity, devices before their modules, in no particular device order.
    pub fn iter(&self) -> impl Iterator<Item = &DeviceIdentity> {
        self.devices.iter().flat_map(|slot| {
            core::iter::once(&slot.device.identity)
                .chain(slot.modules.values().map(|s| &s.identity))
        })
    }

    fn slot_mut(&mut self, device_id: &str) -> Option<&mut DeviceSlot<S>> {
        let at = *self.index.get(device_id)?;
        self.devices.get_mut(at)
    }

    fn stored(&self, device_id: &str, module_id: Option<&str>) -> Option<&Stored> {
        let slot = self.devices.get(*self.index.get(device_id)?)?;
        match module_id {
            None => Some(&slot.device),
            Some(m) => slot.modules.get(m),
        }
    }
}

impl<S: BuildHasher + Clone> Registry for InMemoryRegistry<S> {
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<&DeviceIdentity> {
        self.stored(device_id, module_id).map(|s| &s.identity)
    }

    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        self.stored(device_id, module_id).map(Stored::entry)
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
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

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
        assert!(!r.get("d", Some("m")).unwrap().is_enabled());
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
        // "d" (last) moves into the hole "b" leaves, with its module.
        assert_eq!(r.remove("b", None).unwrap().device_id, "b");
        assert!(r.remove("b", None).is_none());
        for d in ["a", "c", "d"] {
            assert_eq!(r.get(d, None).unwrap().device_id, d);
        }
        assert!(r.lookup("d", Some("m")).unwrap().keys.is_some());
        assert!(r.set_status("d", None, IdentityStatus::Disabled, None));
        assert!(!r.get("d", None).unwrap().is_enabled());
        assert_eq!(r.len(), 4);
        // Removing the last device and re-adding one still works.
        assert!(r.remove("d", None).is_some());
        assert_eq!(r.len(), 2);
        r.upsert(DeviceIdentity::sas("e", K1, K2)).unwrap();
        let mut ids: Vec<_> = r.iter().map(|i| i.device_id.clone()).collect();
        ids.sort();
        assert_eq!(ids, ["a", "c", "e"]);
    }

    #[test]
    fn invalid_identities_are_refused() {
        let mut r = InMemoryRegistry::new();
        assert!(r.upsert(DeviceIdentity::sas("d", "AAAA", K2)).is_err());
        assert!(r.is_empty());
        let ca = DeviceIdentity::certificate_authority("c");
        r.upsert(ca).unwrap();
        assert!(r.lookup("c", None).unwrap().keys.is_none());
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
    fn each_registry_hasher_has_its_own_seed() {
        // Two seeds agreeing on 64 bits would mean the seed is not random (chance 2^-64).
        let (a, b) = (RegistryHasher::new(), RegistryHasher::default());
        assert_ne!(a.hash_one("dev-1"), b.hash_one("dev-1"));
        assert_eq!(a.hash_one("dev-1"), a.clone().hash_one("dev-1"));
        let (c, d) = (RegistryHasher::with_seed(7), RegistryHasher::with_seed(7));
        assert_eq!(c.hash_one("dev-1"), d.hash_one("dev-1"));
        assert_ne!(
            c.hash_one("dev-1"),
            RegistryHasher::with_seed(8).hash_one("dev-1")
        );
    }

    #[test]
    fn any_build_hasher_backs_the_same_registry() {
        let mut r = InMemoryRegistry::with_capacity_and_hasher(4, std::hash::RandomState::new());
        r.upsert(DeviceIdentity::sas("d", K1, K2)).unwrap();
        r.upsert(DeviceIdentity::sas("d", K1, K2).into_module("m"))
            .unwrap();
        assert!(r.lookup("d", Some("m")).unwrap().keys.is_some());
        assert_eq!(r.len(), 2);
        assert!(r.remove("d", None).is_some());
        assert!(r.is_empty());
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
