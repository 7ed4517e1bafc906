//! The floor of HMAC-SHA256 work: pre-keyed inner and outer states and nothing but SHA-256
//! block compressions (`sha2::block_api::compress256`), with the padding written by hand
//! (FIPS 180-4 §5.1.1, RFC 2104). No buffering, no generic-array copies, no `finalize`
//! bookkeeping: a raw side that any implementation of the same HMACs can at best equal.

use sha2::block_api::compress256;

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// An HMAC-SHA256 key as its two pre-keyed states (the ipad and opad blocks compressed).
#[derive(Clone, Copy)]
pub struct FloorHmac {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl FloorHmac {
    /// Pre-keys a key of at most 64 bytes: two compressions.
    pub fn new(key: &[u8]) -> Self {
        assert!(
            key.len() <= 64,
            "keys over one block are hashed first; not needed here"
        );
        let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
        for (i, k) in key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let (mut inner, mut outer) = (IV, IV);
        compress256(&mut inner, &[ipad]);
        compress256(&mut outer, &[opad]);
        Self { inner, outer }
    }

    /// HMAC of the concatenated `parts` (together at most 119 bytes, two blocks after the
    /// key block, as every message here is): the inner blocks and one outer block.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut message = [0u8; 128];
        let mut len = 0;
        for part in parts {
            message[len..len + part.len()].copy_from_slice(part);
            len += part.len();
        }
        let inner = finish(self.inner, &mut message, len);
        let mut block = [0u8; 128];
        block[..32].copy_from_slice(&inner);
        finish(self.outer, &mut block, 32)
    }
}

/// Pads `buf[..len]` as the tail of a message that follows one 64-byte key block, compresses
/// the one or two blocks that makes, and returns the digest.
fn finish(mut state: [u32; 8], buf: &mut [u8; 128], len: usize) -> [u8; 32] {
    assert!(len <= 119, "longer messages are not needed here");
    buf[len] = 0x80;
    let blocks = if len + 9 <= 64 { 1 } else { 2 };
    let end = blocks * 64;
    let bits = ((64 + len) as u64) * 8;
    buf[end - 8..end].copy_from_slice(&bits.to_be_bytes());
    for block in buf[..end].chunks_exact(64) {
        let mut one = [0u8; 64];
        one.copy_from_slice(block);
        compress256(&mut state, &[one]);
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit as _, Mac as _};
    use sha2::Sha256;

    #[test]
    fn equals_the_hmac_crate() {
        for (key, parts) in [
            (&[7u8; 32][..], &[&b"registration-id"[..]][..]),
            (
                &[1u8; 16],
                &[
                    &b"0ne00002193%2Fregistrations%2Flate-member-0001"[..],
                    b"\n",
                    b"1767229200",
                ],
            ),
            (&[9u8; 64], &[&[0u8; 55][..]]),
            (&[2u8; 5], &[&[3u8; 56][..]]),
            (&[4u8; 33], &[&[5u8; 119][..]]),
        ] {
            let mut reference = Hmac::<Sha256>::new_from_slice(key).unwrap();
            for part in parts {
                reference.update(part);
            }
            let want: [u8; 32] = reference.finalize().into_bytes().into();
            assert_eq!(FloorHmac::new(key).mac(parts), want);
        }
    }
}
