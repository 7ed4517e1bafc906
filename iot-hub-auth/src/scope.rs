//! Whether a token's `sr` names or covers an identity's resource (azure-iot-protocol.md §1.4.5,
//! §1.4.6): allocation-free fast paths for the spellings the SDKs send (§1.3), with iot-sas's
//! full rules as the fallback.

use crate::identity::DeviceIdentity;

/// `{host}/devices/{deviceId}[/modules/{moduleId}]` written into a stack buffer.
pub(crate) struct ResourceBuf {
    buf: [u8; 640],
    len: usize,
}

impl ResourceBuf {
    pub(crate) fn new(host: &str, identity: &DeviceIdentity) -> Option<Self> {
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

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s were copied in, so the prefix is valid UTF-8.
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// `sr` is exactly `host` (ASCII case-insensitive) followed by `path` (byte for byte).
pub(crate) fn is_host_then(sr: &str, host: &str, path: &str) -> bool {
    let (sr, host) = (sr.as_bytes(), host.as_bytes());
    sr.split_at_checked(host.len())
        .is_some_and(|(h, rest)| h.eq_ignore_ascii_case(host) && rest == path.as_bytes())
}

/// Length of the longest prefix of `plain` that `sr_raw`, percent-decoded once (`%XX`, either
/// hex case), equals ASCII case-insensitively; `None` if the decoded `sr` is not a prefix of
/// `plain` or holds a malformed escape. The fast path of the spellings every SDK but csharp
/// sends (§1.3); anything else falls back to iot-sas's full rules (§1.4.5, §1.4.6).
pub(crate) fn decoded_prefix_len(sr_raw: &str, plain: &str) -> Option<usize> {
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
pub(crate) fn matches_exactly(sr_raw: &str, plain: &str) -> bool {
    decoded_prefix_len(sr_raw, plain) == Some(plain.len())
        || iot_sas::resource_matches(sr_raw, plain)
}

/// The decoded `sr` is a path-segment prefix of `plain` (policy tokens, §1.4.5).
pub(crate) fn covers(sr_raw: &str, plain: &str) -> bool {
    let fast = decoded_prefix_len(sr_raw, plain)
        .is_some_and(|n| n > 0 && (n == plain.len() || plain.as_bytes().get(n) == Some(&b'/')));
    fast || iot_sas::resource_covers(sr_raw, plain)
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

    /// Random `sr` spellings (raw, `%XX` escapes of either case, wrong case, truncated,
    /// extended, broken escapes) for random identities, from a fixed-seed xorshift generator:
    /// whenever a fast path accepts, iot-sas's full rules accept too.
    #[test]
    fn fast_paths_never_accept_more_than_iot_sas() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        };
        const ID: &[u8] = b"abcXYZ019()!*'~%+@$._-";
        let word = |next: &mut dyn FnMut(usize) -> usize, alphabet: &[u8], max: usize| {
            let len = 1 + next(max);
            (0..len)
                .map(|_| char::from(alphabet[next(alphabet.len())]))
                .collect::<String>()
        };
        let mut fast_hits = 0;
        for _ in 0..20_000 {
            let host = format!("{}.net", word(&mut next, b"abcXYZ09-", 8));
            let device = word(&mut next, ID, 10);
            let module = (next(2) == 0).then(|| word(&mut next, ID, 6));
            let plain = match &module {
                Some(m) => format!("{host}/devices/{device}/modules/{m}"),
                None => format!("{host}/devices/{device}"),
            };
            let mutation = next(7);
            let mut sr = String::new();
            for c in plain.chars() {
                match (mutation, next(3) == 0) {
                    (0, true) => sr.push_str(&format!("%{:02X}", c as u32)),
                    (1, true) => sr.push_str(&format!("%{:02x}", c as u32)),
                    (2, true) => sr.push(c.to_ascii_uppercase()),
                    _ => sr.push(c),
                }
            }
            match mutation {
                3 => {
                    sr.pop();
                }
                4 => sr.push_str("%2Fx"),
                5 => sr.insert(0, '%'),
                _ => {}
            }
            let targets = [
                plain.clone(),
                format!("{host}/devices/{device}"),
                host.clone(),
            ];
            for target in &targets {
                let prefix = decoded_prefix_len(&sr, target);
                if prefix == Some(target.len()) {
                    fast_hits += 1;
                    assert!(iot_sas::resource_matches(&sr, target), "{sr} {target}");
                }
                let fast_cover = prefix.is_some_and(|n| {
                    n > 0 && (n == target.len() || target.as_bytes().get(n) == Some(&b'/'))
                });
                if fast_cover {
                    assert!(iot_sas::resource_covers(&sr, target), "{sr} {target}");
                }
            }
            let path = crate::registry::encoded_path(&device, module.as_deref());
            if is_host_then(&sr, &host, &path) {
                assert!(iot_sas::resource_matches(&sr, &plain), "{sr} {plain}");
            }
        }
        assert!(
            fast_hits > 5_000,
            "the generator reaches the accepting paths: {fast_hits}"
        );
    }
}
