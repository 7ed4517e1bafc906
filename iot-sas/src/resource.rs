//! Resource URIs (`sr`): builders, the canonical encoding, and the path-segment rules that
//! [`Scope`](crate::Scope) (in `scope.rs`, the public entry point) applies to plain text.

use core::fmt;

use percent_encoding::utf8_percent_encode;

use crate::percent::{CANONICAL, Decode, escape_at};

/// A plain (not yet encoded) resource a token is signed for (reference §1.5).
///
/// `Display` writes the canonical encoded `sr`: the whole plain string encoded with the RFC 3986
/// unreserved set and upper-case hex, so `/` becomes `%2F` (what the python device SDK and
/// azure-sdk-for-c produce, §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceUri<'a> {
    /// `{host}/devices/{device_id}`: a device signing with its own key, or a device-scoped policy
    /// token.
    Device {
        /// IoT hub host name, e.g. `myhub.azure-devices.net`.
        host: &'a str,
        /// Device ID.
        device_id: &'a str,
    },
    /// `{host}/devices/{device_id}/modules/{module_id}`.
    Module {
        /// IoT hub host name.
        host: &'a str,
        /// Device ID.
        device_id: &'a str,
        /// Module ID.
        module_id: &'a str,
    },
    /// `{host}`: hub-wide (back-end service policies such as `iothubowner`, and the csharp SDK
    /// when a device connection string names a policy).
    Hub {
        /// IoT hub (or DPS service) host name.
        host: &'a str,
    },
    /// `{host}/devices`: a gateway (protocol gateway, token service) scope covering every device.
    Devices {
        /// IoT hub host name.
        host: &'a str,
    },
    /// `{id_scope}/registrations/{registration_id}`: DPS device registration, no host name.
    DpsRegistration {
        /// DPS ID scope, e.g. `0ne00002193`.
        id_scope: &'a str,
        /// Registration ID.
        registration_id: &'a str,
    },
}

impl ResourceUri<'_> {
    /// Writes the plain, unencoded resource (`myhub.azure-devices.net/devices/dev1`).
    ///
    /// # Errors
    ///
    /// Whatever `out` returns.
    pub fn write_plain(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match *self {
            Self::Device { host, device_id } => write!(out, "{host}/devices/{device_id}"),
            Self::Module {
                host,
                device_id,
                module_id,
            } => {
                write!(out, "{host}/devices/{device_id}/modules/{module_id}")
            }
            Self::Hub { host } => out.write_str(host),
            Self::Devices { host } => write!(out, "{host}/devices"),
            Self::DpsRegistration {
                id_scope,
                registration_id,
            } => {
                write!(out, "{id_scope}/registrations/{registration_id}")
            }
        }
    }
}

impl fmt::Display for ResourceUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_plain(&mut Encoder(f))
    }
}

/// A `fmt::Write` adapter that writes the canonical encoding of whatever goes through it.
struct Encoder<'w, W>(&'w mut W);

impl<W: fmt::Write> fmt::Write for Encoder<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in utf8_percent_encode(s, CANONICAL) {
            self.0.write_str(chunk)?;
        }
        Ok(())
    }
}

/// True when the decoded `sr` names exactly the resource `plain` (same segments, see
/// [`Scope::CoversText`](crate::Scope::CoversText) for how a segment is compared).
pub(crate) fn resource_matches(sr_raw: &str, plain: &str) -> bool {
    fast_compare(sr_raw.as_bytes(), plain.as_bytes(), true) || slow_matches(sr_raw, plain)
}

fn slow_matches(sr_raw: &str, plain: &str) -> bool {
    slow_matches_segments(sr_raw, plain_segments(plain))
}

/// The plain resource's path segments (split at `/`).
fn plain_segments(plain: &str) -> impl Iterator<Item = &[u8]> + Clone {
    plain.as_bytes().split(|&b| b == b'/')
}

/// [`resource_matches`]'s full rule, with the plain resource given as its segments.
pub(crate) fn slow_matches_segments<'p>(
    sr_raw: &str,
    plain: impl Iterator<Item = &'p [u8]> + Clone,
) -> bool {
    let sr_count = segment_count(sr_raw);
    sr_count > 0
        && sr_count == plain_segment_count(plain.clone())
        && slow_first_difference_segments(sr_raw, plain).is_none()
}

/// True when the decoded `sr` is a path-segment prefix of the plain resource being accessed
/// (the rule is on [`Scope::CoversText`](crate::Scope::CoversText), reference §1.4.5).
pub(crate) fn resource_covers(sr_raw: &str, plain: &str) -> bool {
    first_difference(sr_raw, plain).is_none()
}

/// `None` when `sr_raw` covers `plain`, else the index of the first `sr` segment that differs
/// or has no counterpart.
pub(crate) fn first_difference(sr_raw: &str, plain: &str) -> Option<usize> {
    if fast_compare(sr_raw.as_bytes(), plain.as_bytes(), false) {
        return None;
    }
    slow_first_difference(sr_raw, plain)
}

fn slow_first_difference(sr_raw: &str, plain: &str) -> Option<usize> {
    slow_first_difference_segments(sr_raw, plain_segments(plain))
}

/// [`first_difference`]'s full rule, with the plain resource given as its segments.
pub(crate) fn slow_first_difference_segments<'p>(
    sr_raw: &str,
    mut plain_segments: impl Iterator<Item = &'p [u8]>,
) -> Option<usize> {
    let sr_count = segment_count(sr_raw);
    if sr_count == 0 {
        return Some(0);
    }
    for (index, sr_segment) in RawSegments::new(sr_raw.as_bytes())
        .take(sr_count)
        .enumerate()
    {
        match plain_segments.next() {
            Some(plain_segment) if segment_matches(sr_segment, plain_segment) => {}
            _ => return Some(index),
        }
    }
    None
}

/// Single pass over both texts, decoding `sr` once on the fly. Conservative: `true` only when
/// the full rules agree (`sr` covers `plain`, or equals it when `exact`); `false` means "ask the
/// segment-wise rules" (which also handle double-encoded IDs and trailing slashes). This keeps
/// the usual accepting case at a fraction of the HMAC's cost.
fn fast_compare(sr: &[u8], plain: &[u8], exact: bool) -> bool {
    let (mut i, mut j) = (0, 0);
    let (mut any_byte, mut after_separator) = (false, false);
    loop {
        // A run of plain bytes is compared as a slice; only `%`, `+` and `/` need a closer look.
        let run = sr.get(i..).unwrap_or_default();
        let run_len = find_special(run);
        if run_len > 0 {
            let Some(theirs) = plain.get(j..j + run_len) else {
                return false;
            };
            let ours = run.get(..run_len).unwrap_or_default();
            if ours != theirs && !ours.eq_ignore_ascii_case(theirs) {
                return false;
            }
            any_byte = true;
            after_separator = false;
            i += run_len;
            j += run_len;
        }
        let Some(&raw) = sr.get(i) else {
            break;
        };
        let (byte, escaped, width) = match escape_at(sr.get(i..).unwrap_or_default()) {
            Some(decoded) => (decoded, true, 3),
            None => (raw, false, 1),
        };
        let Some(&p) = plain.get(j) else {
            return false;
        };
        let same = if byte == b'/' {
            p == b'/'
        } else {
            byte.eq_ignore_ascii_case(&p) || (byte == b'+' && !escaped && p == b' ')
        };
        if !same {
            return false;
        }
        any_byte |= byte != b'/';
        after_separator = byte == b'/';
        i += width;
        j += 1;
    }
    let rest = plain.get(j..).unwrap_or_default();
    any_byte
        && !after_separator
        && if exact {
            rest.is_empty()
        } else {
            rest.is_empty() || rest.first() == Some(&b'/')
        }
}

/// Index of the first `%`, `+` or `/` in `bytes` (or its length), eight bytes at a time with
/// the classic "has zero byte" bit trick, then byte by byte for the tail.
fn find_special(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let hit = has_zero(v ^ (ONES * u64::from(b'%')))
            | has_zero(v ^ (ONES * u64::from(b'+')))
            | has_zero(v ^ (ONES * u64::from(b'/')));
        if hit != 0 {
            break;
        }
        base += 8;
    }
    let tail = bytes.get(base..).unwrap_or_default();
    base + tail
        .iter()
        .position(|&b| matches!(b, b'%' | b'+' | b'/'))
        .unwrap_or(tail.len())
}

/// Number of segments once trailing empty ones are dropped.
fn segment_count(sr_raw: &str) -> usize {
    let mut count = 0;
    for (index, segment) in RawSegments::new(sr_raw.as_bytes()).enumerate() {
        if !segment.is_empty() {
            count = index + 1;
        }
    }
    count
}

fn plain_segment_count<'p>(plain: impl Iterator<Item = &'p [u8]>) -> usize {
    let mut count = 0;
    for (index, segment) in plain.enumerate() {
        if !segment.is_empty() {
            count = index + 1;
        }
    }
    count
}

/// Splits raw `sr` bytes at raw `/` and at `%2F` / `%2f`, treating each `%XX` escape as one
/// unit (so `%252F` is not a separator at this level).
struct RawSegments<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> RawSegments<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Self { rest: Some(raw) }
    }
}

impl<'a> Iterator for RawSegments<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let mut i = 0;
        while let Some(&byte) = rest.get(i) {
            let (separator, width) = match escape_at(rest.get(i..).unwrap_or_default()) {
                Some(decoded) => (decoded == b'/', 3),
                None => (byte == b'/', 1),
            };
            if separator {
                self.rest = rest.get(i + width..);
                return rest.get(..i);
            }
            i += width;
        }
        self.rest = None;
        Some(rest)
    }
}

/// Whether one `sr` segment names the plain segment. `sr` is decoded exactly once (§1.4.5);
/// the once-decoded segment must then equal either the plain segment itself or the plain
/// segment percent-encoded (§1.4.6, see [`spells_encoded`]).
fn segment_matches(sr_segment: &[u8], plain_segment: &[u8]) -> bool {
    let once = Decode::new(sr_segment.iter().copied());
    decoded_equals(once.clone(), plain_segment)
        || spells_encoded(once.map(|d| d.byte), plain_segment)
}

fn decoded_equals(
    mut decoded: impl Iterator<Item = crate::percent::Decoded>,
    plain: &[u8],
) -> bool {
    let mut plain = plain.iter();
    loop {
        match (decoded.next(), plain.next()) {
            (None, None) => return true,
            (Some(d), Some(&p)) => {
                // A raw `+` in `sr` is `+` or a space (form encoders, §1.3).
                let same =
                    d.byte.eq_ignore_ascii_case(&p) || (d.byte == b'+' && !d.escaped && p == b' ');
                if !same {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether `text` (an `sr` segment decoded once) is `plain` percent-encoded, as the csharp SDK
/// writes device and module IDs before encoding the whole resource (§1.3, §1.4.6).
///
/// The comparison encodes `plain`, it does not decode `text` again: each byte of `plain` that
/// some encoder escapes (anything outside the RFC 3986 unreserved set `A-Z a-z 0-9 - . _ ~`)
/// may appear as `%XX` (either hex case) or as itself, since encoders differ on `! * ( ) '`;
/// unreserved bytes must appear as themselves (ASCII case-insensitively, as everywhere in
/// §1.4.5), and `%` always as `%25`, because every encoder escapes it. So `%64ev1`, the
/// once-decoded segment of a token for the device `%64ev1`, is never a spelling of `dev1`.
fn spells_encoded(mut text: impl Iterator<Item = u8>, plain: &[u8]) -> bool {
    for &p in plain {
        let matched = match text.next() {
            Some(b'%') => {
                let hex = |byte: Option<u8>| byte.and_then(crate::percent::hex_value);
                match (hex(text.next()), hex(text.next())) {
                    (Some(hi), Some(lo)) => (hi << 4 | lo) == p && !is_unreserved(p),
                    _ => false,
                }
            }
            Some(byte) => p != b'%' && byte.eq_ignore_ascii_case(&p),
            None => false,
        };
        if !matched {
            return false;
        }
    }
    text.next().is_none()
}

/// RFC 3986 §2.3 unreserved characters: no encoder escapes them.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const HOST: &str = "myiothub.azure-devices.net";

    #[test]
    fn sdk_for_c_hub_device_formatting_vector() {
        // reference §1.8, sdk-for-c test_az_iot_hub_client_sas.c
        let r = ResourceUri::Device {
            host: HOST,
            device_id: "my_device",
        };
        assert_eq!(
            r.to_string(),
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device"
        );
    }

    #[test]
    fn sdk_for_c_hub_module_formatting_vector() {
        let r = ResourceUri::Module {
            host: HOST,
            device_id: "my_device",
            module_id: "my_module",
        };
        assert_eq!(
            r.to_string(),
            "myiothub.azure-devices.net%2Fdevices%2Fmy_device%2Fmodules%2Fmy_module"
        );
    }

    #[test]
    fn dps_formatting_is_python_form_not_sdk_for_c_lower_case_separators() {
        let r = ResourceUri::DpsRegistration {
            id_scope: "0neFEEDC0DE",
            registration_id: "myRegistrationId",
        };
        // python `quote(safe="")`: upper-case %2F; sdk-for-c writes `%2fregistrations%2f`.
        assert_eq!(
            r.to_string(),
            "0neFEEDC0DE%2Fregistrations%2FmyRegistrationId"
        );
        assert_ne!(
            r.to_string(),
            "0neFEEDC0DE%2fregistrations%2fmyRegistrationId"
        );
        assert!(resource_matches(
            "0neFEEDC0DE%2fregistrations%2fmyRegistrationId",
            "0neFEEDC0DE/registrations/myRegistrationId"
        ));
    }

    #[test]
    fn hub_and_devices_scopes() {
        assert_eq!(ResourceUri::Hub { host: HOST }.to_string(), HOST);
        assert_eq!(
            ResourceUri::Devices { host: HOST }.to_string(),
            "myiothub.azure-devices.net%2Fdevices"
        );
        let mut plain = std::string::String::new();
        ResourceUri::Devices { host: HOST }
            .write_plain(&mut plain)
            .unwrap();
        assert_eq!(plain, "myiothub.azure-devices.net/devices");
    }

    #[test]
    fn canonical_encoding_matches_reference_table() {
        // reference §1.3 "Example encodings", RFC 3986 row.
        let input = "a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s~t u/v";
        let expected =
            "a-b.c%2Bd%25e_f%23g%2Ah%3Fi%21j%28k%29l%2Cm%3An%3Do%40p%24q%27r%3Bs~t%20u%2Fv";
        assert_eq!(crate::percent_encode(input).to_string(), expected);
        assert_eq!(crate::percent_encode("é").to_string(), "%C3%A9");
    }

    #[test]
    fn covers_by_segment_not_by_character() {
        let sr = "hub%2Fdevices%2Fdev1";
        assert!(resource_covers(sr, "hub/devices/dev1"));
        assert!(resource_covers(sr, "hub/devices/dev1/modules/m1"));
        assert!(!resource_covers(sr, "hub/devices/dev10"));
        assert!(!resource_covers(sr, "hub/devices"));
        assert!(resource_covers("hub%2Fdevices", "hub/devices/any"));
        assert!(resource_covers("hub", "hub/devices/any"));
        assert!(!resource_covers("hub", "hubx/devices/any"));
        assert_eq!(first_difference(sr, "hub/devices/dev10"), Some(2));
        assert_eq!(first_difference(sr, "hub/devices"), Some(2));
        assert_eq!(first_difference(sr, "other/devices/dev1"), Some(0));
    }

    #[test]
    fn trailing_slashes_are_ignored_and_empty_sr_covers_nothing() {
        assert!(resource_covers("hub%2Fdevices%2F", "hub/devices/dev1"));
        assert!(resource_matches("hub/devices/dev1/", "hub/devices/dev1"));
        assert!(resource_matches("hub/devices/dev1", "hub/devices/dev1/"));
        assert!(!resource_covers("/", "hub"));
        assert!(!resource_covers("%2F%2f", "hub"));
        assert!(!resource_covers("hub//devices", "hub/devices"));
    }

    #[test]
    fn case_insensitive_and_lower_case_escapes() {
        assert!(resource_matches(
            "myiothub.azure-devices.net%2fdevices%2fmy_device",
            "MyIotHub.azure-devices.net/devices/My_Device"
        ));
        assert!(resource_matches(
            "myiothub.azure-devices.net/devices/my_device",
            "myiothub.azure-devices.net/devices/MY_DEVICE"
        ));
    }

    #[test]
    fn matches_is_exact_segment_count() {
        assert!(!resource_matches("hub%2Fdevices", "hub/devices/dev1"));
        assert!(!resource_matches("hub%2Fdevices%2Fdev1", "hub/devices"));
        assert!(resource_matches("hub%2Fdevices%2Fdev1", "hub/devices/dev1"));
    }

    #[test]
    fn plus_space_and_escaped_plus() {
        assert!(resource_matches("hub/devices/a+b", "hub/devices/a b"));
        assert!(resource_matches("hub/devices/a+b", "hub/devices/a+b"));
        assert!(resource_matches("hub/devices/a%2Bb", "hub/devices/a+b"));
        assert!(!resource_matches("hub/devices/a%2Bb", "hub/devices/a b"));
        assert!(resource_matches("hub/devices/a%20b", "hub/devices/a b"));
        assert!(!resource_matches("hub/devices/a%20b", "hub/devices/a+b"));
    }

    #[test]
    fn dotnet_double_encoded_ids() {
        // WebUtility.UrlEncode("hub/devices/" + UrlEncode("dev#1")) (reference §1.3).
        assert!(resource_matches(
            "hub%2Fdevices%2Fdev%25231",
            "hub/devices/dev#1"
        ));
        assert!(resource_matches(
            "hub%2Fdevices%2Fdev%252B1",
            "hub/devices/dev+1"
        ));
        // an escaped separator inside a double-encoded ID is not a separator at the first level
        assert!(!resource_matches(
            "hub%2Fdevices%2Fa%252Fb",
            "hub/devices/a/b"
        ));
        assert!(resource_matches(
            "hub%2Fdevices%2Fa%252Fb",
            "hub/devices/a%2Fb"
        ));
    }

    #[test]
    fn odd_percent_signs_compare_literally() {
        assert!(resource_matches("hub/devices/a%zz", "hub/devices/a%zz"));
        assert!(resource_matches("hub/devices/100%", "hub/devices/100%"));
    }

    #[test]
    fn fast_path_never_accepts_what_the_segment_rules_refuse() {
        // Differential check over short random texts from an alphabet full of edge cases.
        const ALPHABET: &[u8] = b"aA/%2fF+ b0";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let text = |next: &mut dyn FnMut(usize) -> usize| {
            let len = next(9);
            (0..len)
                .map(|_| ALPHABET[next(ALPHABET.len())] as char)
                .collect::<std::string::String>()
        };
        for _ in 0..200_000 {
            let sr = text(&mut next);
            let plain = text(&mut next);
            let (sr, plain) = (sr.as_str(), plain.as_str());
            if fast_compare(sr.as_bytes(), plain.as_bytes(), false) {
                assert_eq!(
                    slow_first_difference(sr, plain),
                    None,
                    "covers {sr:?} {plain:?}"
                );
            }
            if fast_compare(sr.as_bytes(), plain.as_bytes(), true) {
                assert!(slow_matches(sr, plain), "matches {sr:?} {plain:?}");
            }
        }
    }

    /// Random `sr` spellings of realistic hub identities (raw, `%XX` escapes of either case,
    /// wrong case, truncated, extended, broken escapes; moved here from iot-hub-auth, whose own
    /// fast path this replaces): whenever the fast path accepts, the segment rules accept too,
    /// and the fast path does take the usual SDK spellings.
    #[test]
    fn fast_path_agrees_on_identity_spellings() {
        use std::{format, string::String};
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
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
            let canonical = format!("{}", crate::percent_encode(&plain));
            assert!(fast_compare(canonical.as_bytes(), plain.as_bytes(), true));
            for target in [&plain, &format!("{host}/devices/{device}"), &host] {
                if fast_compare(sr.as_bytes(), target.as_bytes(), true) {
                    fast_hits += 1;
                    assert!(slow_matches(&sr, target), "matches {sr} {target}");
                }
                if fast_compare(sr.as_bytes(), target.as_bytes(), false) {
                    assert_eq!(slow_first_difference(&sr, target), None, "{sr} {target}");
                }
            }
        }
        assert!(
            fast_hits > 5_000,
            "the generator reaches the accepting paths: {fast_hits}"
        );
    }

    #[test]
    fn find_special_agrees_with_position() {
        let text = b"abcdefgh%ijklmnopqrstuvwx+yz0123456789/ABCDEFGHIJKLMNOPQRSTUV";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let hay = &text[start..end];
                let expected = hay
                    .iter()
                    .position(|&b| matches!(b, b'%' | b'+' | b'/'))
                    .unwrap_or(hay.len());
                assert_eq!(find_special(hay), expected, "{start}..{end}");
            }
        }
        assert_eq!(
            find_special(&[0x80, 0xff, 0x24, 0x26, 0x2a, 0x2c, 0x2e, 0x30, 0x2f]),
            8
        );
    }
}
