//! The storage of [`InMemoryRegistry`]: fixed-size records, the ID and key arenas, and the
//! index operations behind its public methods (see the parent module for the layout).

use std::hash::BuildHasher;

use base64::Engine as _;

use super::InMemoryRegistry;
use crate::identifier::display_id;
use crate::identity::{
    Authentication, AuthenticationType, Capabilities, DeviceIdentity, IdentityStatus, SymmetricKey,
    X509Thumbprint,
};
use crate::keys::PreKeyedKeys;

pub(super) const IOT_EDGE: u8 = 1;
pub(super) const HAS_REASON: u8 = 2;
/// Top bit of a position: set for a record without keys.
pub(super) const OTHER: u32 = 1 << 31;
/// Arenas are rebuilt when garbage passes half their size and this many bytes (less in unit
/// tests, so that their random operations rebuild often).
pub(super) const COMPACT_AFTER: usize = if cfg!(test) { 1 << 9 } else { 1 << 16 };

/// Where an identity's IDs and keys are, and what the decision needs besides its keys.
#[derive(Clone, Copy, Debug)]
pub(super) struct Meta {
    /// Device ID then module ID, in `ids`.
    pub(super) id_off: u32,
    /// Primary then secondary key bytes, in `secrets` (`sas` only).
    pub(super) key_off: u32,
    pub(super) device_len: u8,
    pub(super) module_len: u8,
    pub(super) primary_len: u8,
    pub(super) secondary_len: u8,
    pub(super) status: IdentityStatus,
    pub(super) auth_type: AuthenticationType,
    pub(super) flags: u8,
}

impl Meta {
    #[inline]
    pub(super) fn device<'s>(&self, ids: &'s str) -> &'s str {
        let start = self.id_off as usize;
        ids.get(start..start + usize::from(self.device_len))
            .unwrap_or_default()
    }

    #[inline]
    pub(super) fn module<'s>(&self, ids: &'s str) -> Option<&'s str> {
        let start = self.id_off as usize + usize::from(self.device_len);
        (self.module_len > 0)
            .then(|| ids.get(start..start + usize::from(self.module_len)))
            .flatten()
    }

    pub(super) fn ids_len(&self) -> usize {
        usize::from(self.device_len) + usize::from(self.module_len)
    }

    pub(super) fn keys_len(&self) -> usize {
        usize::from(self.primary_len) + usize::from(self.secondary_len)
    }
}

/// A `sas` identity in one 176-byte record: the metadata first (`repr(C)` keeps the order), so
/// that the cache line a lookup reads to compare the IDs also holds the start of the keys.
#[derive(Clone, Debug)]
#[repr(C)]
pub(super) struct SasRecord {
    pub(super) meta: Meta,
    pub(super) keys: PreKeyedKeys,
}

/// Any other identity: the metadata and, for `selfSigned`, the thumbprints.
#[derive(Clone, Debug)]
pub(super) struct OtherRecord {
    pub(super) meta: Meta,
    pub(super) thumbprints: Option<X509Thumbprint>,
}

impl<S: BuildHasher + Clone> InMemoryRegistry<S> {
    #[inline]
    pub(super) fn hash(&self, device_id: &str, module_id: Option<&str>) -> u64 {
        hash_ids(&self.hasher, device_id, module_id)
    }

    /// The position of an identity (see `index`).
    #[inline]
    pub(super) fn position(&self, device_id: &str, module_id: Option<&str>) -> Option<u32> {
        let hash = self.hash(device_id, module_id);
        let ids = self.ids.as_bytes();
        let module = module_id.unwrap_or_default().as_bytes();
        self.index
            .find(hash, |&at| {
                self.meta(at).is_some_and(|meta| {
                    // The stored IDs back to back, against the asked ones.
                    let start = meta.id_off as usize;
                    let split = start + usize::from(meta.device_len);
                    usize::from(meta.device_len) == device_id.len()
                        && usize::from(meta.module_len) == module.len()
                        && (module_id.is_some() == (meta.module_len > 0))
                        && same_bytes(ids.get(start..split), device_id.as_bytes())
                        && (module.is_empty()
                            || same_bytes(ids.get(split..split + module.len()), module))
                })
            })
            .copied()
    }

    #[inline]
    pub(super) fn meta(&self, at: u32) -> Option<&Meta> {
        if at & OTHER == 0 {
            self.sas.get(at as usize).map(|r| &r.meta)
        } else {
            self.other.get((at & !OTHER) as usize).map(|r| &r.meta)
        }
    }

    pub(super) fn meta_mut(&mut self, at: u32) -> Option<&mut Meta> {
        if at & OTHER == 0 {
            self.sas.get_mut(at as usize).map(|r| &mut r.meta)
        } else {
            self.other
                .get_mut((at & !OTHER) as usize)
                .map(|r| &mut r.meta)
        }
    }

    pub(super) fn hash_of(&self, at: u32) -> Option<u64> {
        let meta = self.meta(at)?;
        Some(self.hash(meta.device(&self.ids), meta.module(&self.ids)))
    }

    pub(super) fn insert_new(
        &mut self,
        meta: Meta,
        keys: Option<PreKeyedKeys>,
        thumbprints: Option<X509Thumbprint>,
    ) {
        let at = match keys {
            Some(keys) => {
                self.sas.push(SasRecord { meta, keys });
                u32::try_from(self.sas.len() - 1).unwrap_or(u32::MAX)
            }
            None => {
                self.other.push(OtherRecord { meta, thumbprints });
                u32::try_from(self.other.len() - 1).unwrap_or(u32::MAX) | OTHER
            }
        };
        let hash = self.hash(meta.device(&self.ids), meta.module(&self.ids));
        let Self {
            index,
            sas,
            other,
            ids,
            hasher,
            ..
        } = self;
        index.insert_unique(hash, at, |&p| {
            let meta = if p & OTHER == 0 {
                sas.get(p as usize).map(|r| &r.meta)
            } else {
                other.get((p & !OTHER) as usize).map(|r| &r.meta)
            };
            meta.map_or(0, |m| hash_ids(hasher, m.device(ids), m.module(ids)))
        });
    }

    /// Replaces the record at `at` (same IDs) with a new one.
    pub(super) fn replace(
        &mut self,
        at: u32,
        meta: Meta,
        keys: Option<PreKeyedKeys>,
        thumbprints: Option<X509Thumbprint>,
    ) {
        if let Some(old) = self.meta(at).copied()
            && old.auth_type == AuthenticationType::Sas
        {
            self.secrets.release(old.key_off, old.keys_len());
        }
        match (at & OTHER == 0, keys) {
            (true, Some(keys)) => {
                if let Some(record) = self.sas.get_mut(at as usize) {
                    *record = SasRecord { meta, keys }; // the old keys are wiped as they drop
                }
            }
            (false, None) => {
                if let Some(record) = self.other.get_mut((at & !OTHER) as usize) {
                    *record = OtherRecord { meta, thumbprints };
                }
            }
            (_, keys) => {
                // The kind changes: the record moves to the other vector (IDs stay put).
                self.unlink(at);
                self.insert_new(meta, keys, thumbprints);
            }
        }
    }

    /// Removes the record at `at` and releases its IDs and key bytes.
    pub(super) fn remove_record(&mut self, at: u32) {
        if let Some(meta) = self.meta(at).copied() {
            self.ids_garbage = self.ids_garbage.saturating_add(meta.ids_len());
            if meta.auth_type == AuthenticationType::Sas {
                self.secrets.release(meta.key_off, meta.keys_len());
            }
        }
        self.unlink(at);
    }

    /// Takes the record at `at` out of the index and its vector; the last record of that
    /// vector moves into its place. Arena ranges are left to the caller.
    pub(super) fn unlink(&mut self, at: u32) {
        if let Some(hash) = self.hash_of(at)
            && let Ok(entry) = self.index.find_entry(hash, |&p| p == at)
        {
            entry.remove();
        }
        let (index, last) = if at & OTHER == 0 {
            let index = at as usize;
            let Some(last) = self.sas.len().checked_sub(1) else {
                return;
            };
            if index < last {
                // Clone into the hole and drop the last in place: no copy of a key state is
                // left in the vector's spare capacity.
                if let Some(moved) = self.sas.get(last).cloned()
                    && let Some(hole) = self.sas.get_mut(index)
                {
                    *hole = moved;
                }
            }
            self.sas.truncate(last);
            (index, last)
        } else {
            let index = (at & !OTHER) as usize;
            if index >= self.other.len() {
                return;
            }
            self.other.swap_remove(index);
            (index, self.other.len())
        };
        if index < last {
            let (from, to) = (
                u32::try_from(last).unwrap_or(u32::MAX),
                u32::try_from(index).unwrap_or(u32::MAX),
            );
            let (from, to) = if at & OTHER == 0 {
                (from, to)
            } else {
                (from | OTHER, to | OTHER)
            };
            if let Some(hash) = self.hash_of(to)
                && let Ok(mut entry) = self.index.find_entry(hash, |&p| p == from)
            {
                *entry.get_mut() = to;
            }
        }
    }

    /// The full identity at `at`, as Azure prints it.
    pub(super) fn materialize(&self, at: u32) -> Option<DeviceIdentity> {
        let meta = self.meta(at)?;
        let device_id = meta.device(&self.ids);
        let module_id = meta.module(&self.ids);
        let b64 = |offset: usize, len: u8| {
            let start = meta.key_off as usize + offset;
            base64::engine::general_purpose::STANDARD.encode(
                self.secrets
                    .get(u32::try_from(start).unwrap_or(u32::MAX), len.into()),
            )
        };
        let symmetric_key = (meta.auth_type == AuthenticationType::Sas).then(|| SymmetricKey {
            primary_key: b64(0, meta.primary_len),
            secondary_key: b64(usize::from(meta.primary_len), meta.secondary_len),
        });
        let thumbprints = if at & OTHER == 0 {
            None
        } else {
            self.other
                .get((at & !OTHER) as usize)
                .and_then(|r| r.thumbprints.clone())
        };
        let status_reason = (meta.flags & HAS_REASON != 0)
            .then(|| self.reasons.get(&display_id(device_id, module_id)).cloned())
            .flatten();
        Some(DeviceIdentity {
            device_id: device_id.to_owned(),
            module_id: module_id.map(str::to_owned),
            status: meta.status,
            status_reason,
            authentication: Authentication {
                r#type: meta.auth_type,
                symmetric_key,
                x509_thumbprint: thumbprints,
            },
            capabilities: Capabilities {
                iot_edge: meta.flags & IOT_EDGE != 0,
            },
        })
    }

    /// Rebuilds an arena once half of it is garbage (amortized: each rebuild follows at least
    /// as many bytes of removals).
    pub(super) fn compact_if_sparse(&mut self) {
        if self.ids_garbage > COMPACT_AFTER && self.ids_garbage * 2 > self.ids.len() {
            let mut ids = String::with_capacity(self.ids.len() - self.ids_garbage);
            let metas = self
                .sas
                .iter_mut()
                .map(|r| &mut r.meta)
                .chain(self.other.iter_mut().map(|r| &mut r.meta));
            for meta in metas {
                let at = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                ids.push_str(meta.device(&self.ids));
                ids.push_str(meta.module(&self.ids).unwrap_or_default());
                meta.id_off = at;
            }
            self.ids = ids;
            self.ids_garbage = 0;
        }
        let secrets = &self.secrets;
        if secrets.garbage() > COMPACT_AFTER && secrets.garbage() * 2 > secrets.len() {
            let mut fresh = secrets.fresh();
            for record in &mut self.sas {
                let bytes = self
                    .secrets
                    .get(record.meta.key_off, record.meta.keys_len());
                record.meta.key_off = fresh.push(&[bytes]);
            }
            self.secrets = fresh; // the old arena is wiped as it drops
        }
    }
}

/// Whether `stored` is `asked`, compared inline: IDs are short, and a call to the C library's
/// `memcmp` here cost more than the comparison itself (measured: it doubled the lookup).
#[inline]
pub(super) fn same_bytes(stored: Option<&[u8]>, asked: &[u8]) -> bool {
    stored.is_some_and(|stored| {
        stored.len() == asked.len()
            && stored
                .iter()
                .zip(asked)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    })
}

/// The index hash: the device ID alone for a device (one `write_str`, the common case), the
/// pair for a module.
#[inline]
pub(super) fn hash_ids<S: BuildHasher>(
    hasher: &S,
    device_id: &str,
    module_id: Option<&str>,
) -> u64 {
    match module_id {
        None => hasher.hash_one(device_id),
        Some(module_id) => hasher.hash_one((device_id, module_id)),
    }
}
