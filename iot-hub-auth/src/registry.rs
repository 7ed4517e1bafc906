//! The identity registry as a connect decision sees it: a trait so embedders can back it with
//! their own store (a database, a cache in front of one), and the compact record a decision
//! reads ([`RegistryEntry`]). [`crate::InMemoryRegistry`] is the in-process implementation.
//!
//! azure-iot-protocol.md §9: the registry entry must exist and be enabled on every connect.

use std::borrow::Cow;
use std::hash::BuildHasher;

use crate::error::Error;
use crate::identity::{AuthenticationType, DeviceIdentity, IdentityStatus, X509Thumbprint};
use crate::keys::PreKeyedKeys;

/// A value a store lends to one decision: borrowed from the store's memory, or built (and
/// boxed, so that a [`RegistryEntry`] stays small to pass around) for this call only.
#[derive(Clone, Debug)]
pub enum Lent<'a, T> {
    /// Borrowed from the store.
    Borrowed(&'a T),
    /// Built for this call.
    Owned(Box<T>),
}

impl<T> core::ops::Deref for Lent<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Self::Borrowed(value) => value,
            Self::Owned(value) => value,
        }
    }
}

/// What a connect decision reads of one identity.
///
/// Each field is borrowed from the store where it lives in memory, owned where the store had
/// to build it (`Cow`, [`Lent`]). `Debug` redacts the keys ([`PreKeyedKeys`]).
#[derive(Clone, Debug)]
pub struct RegistryEntry<'a> {
    /// `deviceId`.
    pub device_id: Cow<'a, str>,
    /// `moduleId`, for module identities.
    pub module_id: Option<Cow<'a, str>>,
    /// `status`.
    pub status: IdentityStatus,
    /// `authentication.type`.
    pub auth_type: AuthenticationType,
    /// The pre-keyed primary and secondary keys of a `sas` identity (`None` for other types,
    /// and for keys a store could not decode: every token then fails its MAC check).
    pub keys: Option<Lent<'a, PreKeyedKeys>>,
    /// The registered thumbprints of a `selfSigned` identity (`None` for other types).
    pub thumbprints: Option<Lent<'a, X509Thumbprint>>,
}

impl<'a> RegistryEntry<'a> {
    /// The entry of a full identity document, pre-keying its keys now (what the default
    /// [`Registry::lookup`] does on every call).
    pub fn from_identity(identity: Cow<'a, DeviceIdentity>) -> Self {
        let keys = prepare_keys(&identity)
            .ok()
            .flatten()
            .map(|keys| Lent::Owned(Box::new(keys)));
        match identity {
            Cow::Borrowed(identity) => Self {
                device_id: Cow::Borrowed(&identity.device_id),
                module_id: identity.module_id.as_deref().map(Cow::Borrowed),
                status: identity.status,
                auth_type: identity.authentication.r#type,
                keys,
                thumbprints: identity
                    .authentication
                    .x509_thumbprint
                    .as_ref()
                    .map(Lent::Borrowed),
            },
            Cow::Owned(identity) => Self {
                device_id: Cow::Owned(identity.device_id),
                module_id: identity.module_id.map(Cow::Owned),
                status: identity.status,
                auth_type: identity.authentication.r#type,
                keys,
                thumbprints: identity
                    .authentication
                    .x509_thumbprint
                    .map(|t| Lent::Owned(Box::new(t))),
            },
        }
    }

    /// Whether the identity may connect at all (`status: enabled`).
    pub fn is_enabled(&self) -> bool {
        self.status == IdentityStatus::Enabled
    }

    /// `deviceId` or `deviceId/moduleId`.
    pub fn display_id(&self) -> String {
        crate::identifier::display_id(&self.device_id, self.module_id.as_deref())
    }
}

/// Looks up device and module identities.
///
/// Implementations return the identity whose IDs are exactly the ones asked for (device and
/// module IDs are case-sensitive, azure-iot-protocol.md §4): [`crate::authorize`] checks the
/// token's `sr` against the IDs the connection claims, and authenticates it with the keys of
/// the identity returned for them. A module's device is looked up too (`module_id: None`): a
/// module connects only while its device is registered and enabled.
///
/// # Implementing it for an external store
///
/// Two methods, both keyed by the exact, case-sensitive IDs (§4):
///
/// * [`Registry::get`] returns the full identity document as Azure prints it
///   ([`DeviceIdentity`]), borrowed or built on demand (`Cow::Owned` from a database row). A
///   decision calls it only on refusal paths that name a `statusReason`; operators' tools call
///   it to show an identity.
/// * [`Registry::lookup`] returns what the decision reads on every connect: IDs, status,
///   authentication type, and the credential data (pre-keyed keys of a `sas` identity,
///   thumbprints of a `selfSigned` one), each borrowed where the store keeps it in memory and
///   owned where it has to build it. The default implementation builds it from [`Registry::get`],
///   decoding and pre-keying the keys on every call: correct, and a few hundred nanoseconds
///   slower; a store that keeps [`PreKeyedKeys`] (or caches them) overrides it.
///
/// A server backed by SQLite implements `get` with one query and the JSON of the row
/// (`Cow::Owned`), and may override `lookup` to take the pre-keyed keys from a bounded cache in
/// front of the database ([`Lent::Owned`] of a clone), so a connect costs no key schedule. The
/// decision never writes; the registry's own writes (create, disable, delete) are the store's
/// business.
pub trait Registry {
    /// The full identity `device_id` (module `module_id`) as Azure prints it, if registered:
    /// borrowed, or built on demand.
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<Cow<'_, DeviceIdentity>>;

    /// What a connect decision reads of the identity. The default implementation builds it
    /// from [`Self::get`] with [`RegistryEntry::from_identity`] (keys decoded and pre-keyed on
    /// every call); stores that keep [`PreKeyedKeys`] should override it.
    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        self.get(device_id, module_id)
            .map(RegistryEntry::from_identity)
    }
}

impl<R: Registry + ?Sized> Registry for &R {
    fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<Cow<'_, DeviceIdentity>> {
        (**self).get(device_id, module_id)
    }
    fn lookup(&self, device_id: &str, module_id: Option<&str>) -> Option<RegistryEntry<'_>> {
        (**self).lookup(device_id, module_id)
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

/// The default hasher of [`crate::InMemoryRegistry`]: foldhash with a per-registry secret seed.
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

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

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
    fn entries_from_borrowed_and_owned_identities_agree() {
        let identity = DeviceIdentity::sas("d", K1, K2).into_module("m");
        for entry in [
            RegistryEntry::from_identity(Cow::Borrowed(&identity)),
            RegistryEntry::from_identity(Cow::Owned(identity.clone())),
        ] {
            assert_eq!(entry.display_id(), "d/m");
            assert!(entry.is_enabled());
            assert_eq!(entry.auth_type, AuthenticationType::Sas);
            assert!(entry.keys.is_some() && entry.thumbprints.is_none());
        }
        let broken = DeviceIdentity::sas("d", "AAAA", K2);
        assert!(
            RegistryEntry::from_identity(Cow::Owned(broken))
                .keys
                .is_none()
        );
    }
}
