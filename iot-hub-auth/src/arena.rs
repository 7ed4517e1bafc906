//! A byte arena for secrets (identity keys): one allocation for a million keys, wiped when
//! dropped, and never left behind in freed memory when it grows.

use zeroize::{Zeroize as _, Zeroizing};

use crate::error::Error;

/// Append-only secret bytes addressed by `u32` offsets. Released ranges are wiped at once and
/// counted as garbage until the owner rebuilds the arena ([`SecretBytes::fresh`]).
#[derive(Clone, Default)]
pub(crate) struct SecretBytes {
    bytes: Zeroizing<Vec<u8>>,
    garbage: usize,
}

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.bytes.len())
    }
}

impl SecretBytes {
    /// An empty arena with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Zeroizing::new(Vec::with_capacity(capacity)),
            garbage: 0,
        }
    }

    /// Bytes in use, garbage included.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes released and not yet reclaimed.
    pub(crate) fn garbage(&self) -> usize {
        self.garbage
    }

    /// Fails when `extra` more bytes would put an offset beyond `u32`.
    pub(crate) fn check_room(&self, extra: usize) -> Result<(), Error> {
        let end = self.bytes.len().saturating_add(extra);
        if u32::try_from(end).is_err() {
            return Err(Error::RegistryFull { what: "key bytes" });
        }
        Ok(())
    }

    /// Appends `parts` one after another; returns the offset of the first byte. Call
    /// [`Self::check_room`] first: past `u32::MAX` the offset saturates.
    pub(crate) fn push(&mut self, parts: &[&[u8]]) -> u32 {
        let at = self.bytes.len();
        let need: usize = parts.iter().map(|p| p.len()).sum();
        if self.bytes.capacity() - at < need {
            // Grow by hand: a reallocation may copy and free the old buffer unwiped.
            let capacity = (at + need)
                .max(self.bytes.capacity().saturating_mul(2))
                .max(256);
            let mut grown = Zeroizing::new(Vec::with_capacity(capacity));
            grown.extend_from_slice(&self.bytes);
            self.bytes = grown; // the old buffer is wiped as it drops
        }
        for part in parts {
            self.bytes.extend_from_slice(part);
        }
        u32::try_from(at).unwrap_or(u32::MAX)
    }

    /// The `len` bytes at `offset` (empty if out of range).
    pub(crate) fn get(&self, offset: u32, len: usize) -> &[u8] {
        let start = offset as usize;
        self.bytes
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    /// Wipes the `len` bytes at `offset` and counts them as garbage.
    pub(crate) fn release(&mut self, offset: u32, len: usize) {
        let start = offset as usize;
        if let Some(range) = self.bytes.get_mut(start..start.saturating_add(len)) {
            range.zeroize();
            self.garbage = self.garbage.saturating_add(len);
        }
    }

    /// An empty arena sized for what is live here (to copy the live ranges into).
    pub(crate) fn fresh(&self) -> Self {
        Self::with_capacity(self.bytes.len().saturating_sub(self.garbage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_release_and_grow() {
        let mut arena = SecretBytes::default();
        let a = arena.push(&[b"abc", b"de"]);
        let b = arena.push(&[&[7u8; 300]]);
        assert_eq!(arena.get(a, 5), b"abcde");
        assert_eq!(arena.get(b, 300), [7u8; 300]);
        arena.release(a, 5);
        assert_eq!(arena.get(a, 5), [0u8; 5]);
        assert_eq!((arena.len(), arena.garbage()), (305, 5));
        assert_eq!(arena.get(u32::MAX, 4), b"");
        assert!(arena.check_room(10).is_ok());
        assert!(arena.check_room(usize::MAX).is_err());
        assert!(format!("{arena:?}").contains("redacted"));
        assert_eq!(arena.fresh().len(), 0);
    }
}
