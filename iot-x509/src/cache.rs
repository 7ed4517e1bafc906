//! A bounded cache of verified chains, so a reconnecting device costs a hash, not signatures.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use crate::{CaSet, ChainError, VerifiedChain, verify_client_chain};

/// Default number of chains a [`ChainCache`] keeps.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// A bounded, zero-I/O cache of verified client chains.
///
/// * **Key**: SHA-256 over the presented chain (each certificate's length as 8 bytes
///   big-endian, then its DER: leaf first, then the intermediates in the order presented), with
///   the [`CaSet::version`] stored beside it.
/// * **Hit**: same chain, same CA set version, and `now` within the chain's validity
///   (`VerifiedChain::not_before ..= not_after`, the tightest bounds over the whole path).
/// * **Invalidation**: when the CA set's version differs from the one the cache was filled
///   with, the whole cache is dropped (one cache serves one CA set; versions are unique across
///   sets, so mixing sets is safe, only slower). IoT Hub re-verifies every connection
///   (reference §7.3): this cache gives the same decisions because it only remembers chains
///   that were accepted under the same CAs, and a decision depends only on the chain, the CAs
///   and the time. Failures are never cached.
/// * **Bound**: at most `capacity` entries; when full, expired entries go first, then an
///   arbitrary one.
#[derive(Debug)]
pub struct ChainCache {
    capacity: usize,
    ca_version: u64,
    entries: HashMap<[u8; 32], Arc<VerifiedChain>, BuildHasherDefault<DigestHasher>>,
}

impl Default for ChainCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_CAPACITY)
    }
}

impl ChainCache {
    /// An empty cache holding at most `capacity` chains (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ca_version: 0,
            entries: HashMap::default(),
        }
    }

    /// Returns the cached verification of this chain, or verifies it with
    /// [`verify_client_chain`] and caches the success.
    ///
    /// # Errors
    /// The [`ChainError`] of [`verify_client_chain`].
    pub fn get_or_verify(
        &mut self,
        cas: &CaSet,
        leaf: &[u8],
        intermediates: &[CertificateDer<'_>],
        now: u64,
    ) -> Result<Arc<VerifiedChain>, ChainError> {
        if cas.version() != self.ca_version {
            self.entries.clear();
            self.ca_version = cas.version();
        }
        let key = chain_key(leaf, intermediates);
        let now_i = i64::try_from(now).unwrap_or(i64::MAX);
        if let Some(chain) = self.entries.get(&key)
            && chain.not_before <= now_i
            && now_i <= chain.not_after
        {
            return Ok(Arc::clone(chain));
        }
        let chain = Arc::new(verify_client_chain(cas, leaf, intermediates, now)?);
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, chain| chain.not_after >= now_i);
            if self.entries.len() >= self.capacity
                && let Some(victim) = self.entries.keys().next().copied()
            {
                self.entries.remove(&victim);
            }
        }
        self.entries.insert(key, Arc::clone(&chain));
        Ok(chain)
    }

    /// Number of cached chains.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

fn chain_key(leaf: &[u8], intermediates: &[CertificateDer<'_>]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for der in core::iter::once(leaf).chain(intermediates.iter().map(|c| c.as_ref())) {
        hasher.update((der.len() as u64).to_be_bytes());
        hasher.update(der);
    }
    hasher.finalize().into()
}

/// The map key is already a SHA-256 digest: its first 8 bytes are the bucket hash. No SipHash
/// pass, and no per-process random keys (the crate draws no OS randomness).
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as a length prefix (via `write_usize`) then the 32 bytes.
        if let Some(first) = bytes.first_chunk::<8>() {
            self.0 ^= u64::from_le_bytes(*first);
        }
    }

    fn write_usize(&mut self, _length_prefix: usize) {}
}
