//! Scope: whether a token's `sr` admits the resource being accessed (reference §1.4.5,
//! §1.4.6). [`Scope`] is the one public entry point; the rules by path segment live in
//! [`resource`](crate::resource) (plain text) and below (a structured [`ResourceUri`], no
//! plain text written, with the SDK-spelling fast tiers).

use crate::resource::{
    ResourceUri, resource_covers, resource_matches, slow_first_difference_segments,
    slow_matches_segments,
};

/// What a token's `sr` must say about the resource being accessed, the third check of
/// [`check_token`](crate::check_token).
///
/// `sr` is percent-decoded once and compared by path segment, ASCII case-insensitively; a raw
/// `+` also matches a space, and a segment also matches the plain segment percent-encoded
/// (the csharp SDK's double-encoded IDs). The full rule is on
/// [`CoversText`](Self::CoversText). The structured variants give exactly the answers of the
/// text variants for [`ResourceUri::write_plain`]'s text, without writing it (the hub's hot
/// path).
///
/// ```
/// use iot_sas::{ResourceUri, Scope};
///
/// let dev1 = ResourceUri::Device { host: "hub.net", device_id: "dev1" };
/// assert!(Scope::Names(dev1).admits("hub.net%2Fdevices%2Fdev1"));
/// assert!(Scope::Covers(dev1).admits("hub.net%2Fdevices"));
/// assert!(!Scope::Names(dev1).admits("hub.net%2Fdevices"));
/// assert!(Scope::CoversText("hub.net/devices/dev1/modules/m").admits("hub.net/devices/dev1"));
/// assert!(!Scope::CoversText("hub.net/devices/dev10").admits("hub.net/devices/dev1"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'r> {
    /// The decoded `sr` names exactly this resource: a device or module key token (§1.4.5),
    /// a DPS registration.
    Names(ResourceUri<'r>),
    /// The decoded `sr` is a path-segment prefix of this resource (or the resource itself):
    /// a policy token, whose `sr` may be `{host}`, `{host}/devices` or the identity (§1.6).
    Covers(ResourceUri<'r>),
    /// [`Names`](Self::Names) for a plain resource given as text (`hub.net/devices/dev1`).
    NamesText(&'r str),
    /// [`Covers`](Self::Covers) for a plain resource given as text.
    ///
    /// * `sr` is percent-decoded once (either hex case); `%2F`, `%2f` and raw `/` all separate
    ///   segments. A trailing `/` on either side is ignored; an `sr` without any segment covers
    ///   nothing.
    /// * By segment, not by character: `hub/devices/dev1` covers `hub/devices/dev1/modules/m`
    ///   but not `hub/devices/dev10`; `hub/devices` covers every device.
    /// * ASCII case-insensitive: identity-service lower-cases the whole audience (§1.3).
    /// * A raw `+` in `sr` matches `+` or a space (form encoders write a space as `+`); `%2B`
    ///   matches only `+` and `%20` only a space.
    /// * `sr` is decoded exactly once. A decoded segment also matches when it equals the plain
    ///   segment percent-encoded: the csharp SDK encodes device and module IDs twice (§1.3,
    ///   §1.4.6), so `dev%2523x` (decoded once: `dev%23x`) names the device `dev#x`. Only
    ///   characters outside the RFC 3986 unreserved set count as encoded there, and `%` only
    ///   as `%25`, so a token for the device `%64ev1` (`sr` segment `%2564ev1`) does not cover
    ///   `dev1`, nor one for `x%41` cover `xA`. What stays ambiguous is inherent in the csharp
    ///   spelling (§10.3): the device `a%40` signed once-encoded and the device `a@` signed by
    ///   csharp have the same `sr` (`a%2540`), which names both; the MAC still needs their key.
    CoversText(&'r str),
}

impl Scope<'_> {
    /// True when the raw (undecoded) `sr` of a token admits this scope's resource.
    #[inline]
    pub fn admits(&self, sr_raw: &str) -> bool {
        match *self {
            Self::Names(resource) => resource.is_named_by(sr_raw),
            Self::Covers(resource) => resource.is_covered_by(sr_raw),
            Self::NamesText(plain) => resource_matches(sr_raw, plain),
            Self::CoversText(plain) => resource_covers(sr_raw, plain),
        }
    }
}

impl<'a> ResourceUri<'a> {
    /// The plain resource's pieces in order; the plain text is these joined with `/`.
    fn pieces(&self) -> ([&'a str; 5], usize) {
        match *self {
            Self::Device { host, device_id } => ([host, "devices", device_id, "", ""], 3),
            Self::Module {
                host,
                device_id,
                module_id,
            } => ([host, "devices", device_id, "modules", module_id], 5),
            Self::Hub { host } => ([host, "", "", "", ""], 1),
            Self::Devices { host } => ([host, "devices", "", "", ""], 2),
            Self::DpsRegistration {
                id_scope,
                registration_id,
            } => ([id_scope, "registrations", registration_id, "", ""], 3),
        }
    }

    /// True when the decoded `sr` names exactly this resource: the same answer as
    /// [`Scope::NamesText`] with the plain text of
    /// [`write_plain`](Self::write_plain), without writing it (reference §1.4.5, §1.4.6).
    pub(crate) fn is_named_by(&self, sr_raw: &str) -> bool {
        if self.is_sdk_spelling(sr_raw.as_bytes()) {
            return true;
        }
        let (pieces, n) = self.pieces();
        let pieces = pieces.get(..n).unwrap_or_default();
        fast_pieces(sr_raw.as_bytes(), pieces, true)
            || slow_matches_segments(sr_raw, segments(pieces))
    }

    /// Tier zero, for hub identities only: `sr` is byte for byte what every device SDK sends,
    /// `{host}%2Fdevices%2F{id}[%2Fmodules%2F{mid}]` (reference §1.3), and no piece holds a
    /// `%`, so decoding `sr` gives exactly the plain resource. A special case of
    /// [`fast_pieces`] without its per-piece loop (about half its cost, on every connect);
    /// `false` passes the question on.
    fn is_sdk_spelling(&self, sr: &[u8]) -> bool {
        let (host, device_id, module_id) = match *self {
            Self::Device { host, device_id } => (host, device_id, None),
            Self::Module {
                host,
                device_id,
                module_id,
            } => (host, device_id, Some(module_id)),
            _ => return false,
        };
        let Some(rest) = sr
            .strip_prefix(host.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"%2Fdevices%2F"))
            .and_then(|rest| rest.strip_prefix(device_id.as_bytes()))
        else {
            return false;
        };
        let rest = match module_id {
            None => rest,
            Some(module_id) => match rest
                .strip_prefix(b"%2Fmodules%2F")
                .and_then(|rest| rest.strip_prefix(module_id.as_bytes()))
            {
                Some(rest) => rest,
                None => return false,
            },
        };
        let no_percent = |piece: &str| !piece.bytes().fold(false, |seen, b| seen | (b == b'%'));
        rest.is_empty()
            && !host.is_empty()
            && !device_id.is_empty()
            && no_percent(host)
            && no_percent(device_id)
            && module_id.is_none_or(|m| !m.is_empty() && no_percent(m))
    }

    /// True when the decoded `sr` is a path-segment prefix of this resource: the same answer
    /// as [`Scope::CoversText`] with the plain text of
    /// [`write_plain`](Self::write_plain), without writing it (reference §1.4.5).
    pub(crate) fn is_covered_by(&self, sr_raw: &str) -> bool {
        let (pieces, n) = self.pieces();
        let pieces = pieces.get(..n).unwrap_or_default();
        fast_pieces(sr_raw.as_bytes(), pieces, false)
            || slow_first_difference_segments(sr_raw, segments(pieces)).is_none()
    }
}

/// The plain segments of pieces joined with `/` (a piece may itself contain `/`).
fn segments<'p>(pieces: &'p [&'p str]) -> impl Iterator<Item = &'p [u8]> + Clone {
    pieces
        .iter()
        .flat_map(|piece| piece.as_bytes().split(|&b| b == b'/'))
}

/// The cheapest tier, for the spellings the SDKs send (§1.3): each piece appears in `sr` as
/// itself (ASCII case-insensitive; no `%` in it, so nothing to decode), the pieces separated by
/// `/`, `%2F` or `%2f`. Then the decoded `sr` equals the plain resource (or, when not `exact`,
/// a prefix of it that ends between two pieces, hence on a segment boundary) by one slice
/// compare per piece. Conservative: `false` means "ask the segment rules" (escapes inside IDs,
/// `+` for space, double encoding, trailing or empty segments).
fn fast_pieces(sr: &[u8], pieces: &[&str], exact: bool) -> bool {
    let mut rest = sr;
    for (index, piece) in pieces.iter().enumerate() {
        let piece = piece.as_bytes();
        if index > 0 {
            if rest.is_empty() {
                // `sr` ended on a segment boundary: a segment prefix.
                return !exact;
            }
            rest = match rest {
                [b'/', tail @ ..] => tail,
                [b'%', b'2', b'F' | b'f', tail @ ..] => tail,
                _ => return false,
            };
        }
        let Some((head, tail)) = rest.split_at_checked(piece.len()) else {
            return false;
        };
        // `head` equals `piece` up to ASCII case, so a `%` in one is a `%` in the other. The
        // fold (no early exit) vectorizes; `contains` costs more on such short slices.
        if piece.is_empty()
            || (head != piece && !head.eq_ignore_ascii_case(piece))
            || piece.iter().fold(false, |seen, &b| seen | (b == b'%'))
        {
            return false;
        }
        rest = tail;
    }
    !pieces.is_empty() && rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{format, string::String, vec::Vec};

    fn plain(r: &ResourceUri<'_>) -> String {
        let mut s = String::new();
        r.write_plain(&mut s).unwrap();
        s
    }

    #[test]
    fn resource_uri_checks_agree_with_the_plain_text_rules() {
        let uris = [
            ResourceUri::Device {
                host: "hub.net",
                device_id: "dev1",
            },
            ResourceUri::Module {
                host: "hub.net",
                device_id: "dev1",
                module_id: "m(1)",
            },
            ResourceUri::Hub { host: "hub.net" },
            ResourceUri::Devices { host: "hub.net" },
            ResourceUri::DpsRegistration {
                id_scope: "0ne00000001",
                registration_id: "reg 1",
            },
            ResourceUri::Device {
                host: "hub.net",
                device_id: "dev#1",
            },
        ];
        let srs = [
            "hub.net%2Fdevices%2Fdev1",
            "HUB.net%2fDEVICES%2fdev1",
            "hub.net/devices/dev1",
            "hub.net/devices/dev1/",
            "hub.net%2Fdevices%2Fdev1%2Fmodules%2Fm%281%29",
            "hub.net/devices/dev1/modules/m(1)",
            "hub.net/devices/dev",
            "hub.net/devices/dev10",
            "hub.net/devices",
            "hub.net",
            "hub.net/",
            "hub.ne",
            "",
            "/",
            "%2F",
            "hub.net//devices",
            "0ne00000001/registrations/reg+1",
            "0ne00000001%2Fregistrations%2Freg%201",
            "0ne00000001/registrations/reg%2B1",
            "hub.net%2Fdevices%2Fdev%25231",
            "hub.net%2Fdevices%2Fdev%231",
            "hub.net%2Fdevices%2Fdev#1",
            "hub.net%2Fdevices%2Fdev%zz",
        ];
        for uri in &uris {
            let text = plain(uri);
            for sr in srs {
                assert_eq!(
                    uri.is_named_by(sr),
                    resource_matches(sr, &text),
                    "{sr} {text}"
                );
                assert_eq!(
                    uri.is_covered_by(sr),
                    resource_covers(sr, &text),
                    "{sr} {text}"
                );
            }
        }
        let device = uris[0];
        assert!(device.is_named_by("hub.net%2Fdevices%2Fdev1"));
        assert!(!device.is_named_by("hub.net%2Fdevices"));
        assert!(device.is_covered_by("hub.net%2Fdevices"));
        assert!(uris[5].is_named_by("hub.net%2Fdevices%2Fdev%25231"));
    }

    /// Random `sr` spellings of realistic identities against random resources: the fast tier
    /// never accepts what the segment rules refuse, and the `ResourceUri` checks give exactly
    /// the plain-text answers.
    #[test]
    fn fast_pieces_never_accepts_more_than_the_segment_rules() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        const ID: &[u8] = b"abcXYZ019()!*'~%+@$._- #/";
        let word = |next: &mut dyn FnMut(usize) -> usize, alphabet: &[u8], max: usize| {
            (0..next(max + 1))
                .map(|_| char::from(alphabet[next(alphabet.len())]))
                .collect::<String>()
        };
        let (mut fast_hits, mut sdk_hits) = (0, 0);
        for _ in 0..20_000 {
            let host = format!("{}.net", word(&mut next, b"abcXYZ09-", 8));
            let device = word(&mut next, ID, 10);
            let module = word(&mut next, ID, 6);
            let uri = if next(2) == 0 {
                ResourceUri::Device {
                    host: &host,
                    device_id: &device,
                }
            } else {
                ResourceUri::Module {
                    host: &host,
                    device_id: &device,
                    module_id: &module,
                }
            };
            let text = plain(&uri);
            let mutation = next(9);
            let mut sr = String::new();
            for c in text.chars() {
                match (mutation, next(3) == 0) {
                    // The SDKs' spelling: every `/` as `%2F`, nothing else escaped.
                    (8, _) if c == '/' => sr.push_str("%2F"),
                    (0, true) => sr.push_str(&format!("%{:02X}", c as u32)),
                    (1, true) => sr.push_str(&format!("%{:02x}", c as u32)),
                    (2, true) => sr.push(c.to_ascii_uppercase()),
                    (3, true) if c == '/' => sr.push_str("%2f"),
                    _ => sr.push(c),
                }
            }
            match mutation {
                4 => {
                    sr.pop();
                }
                5 => sr.push_str("%2Fx"),
                6 => sr.insert(0, '%'),
                7 => {
                    sr = sr
                        .split('/')
                        .take(next(4) + 1)
                        .collect::<Vec<_>>()
                        .join("/")
                }
                _ => {}
            }
            let targets = [
                text.clone(),
                format!("{host}/devices/{device}"),
                host.clone(),
            ];
            for target in &targets {
                let pieces: Vec<&str> = target.split('/').collect();
                for (pieces, exact) in [(&pieces[..], true), (&[target.as_str()][..], true)] {
                    if fast_pieces(sr.as_bytes(), pieces, exact) {
                        fast_hits += 1;
                        assert!(resource_matches(&sr, target), "matches {sr} {target}");
                    }
                    if fast_pieces(sr.as_bytes(), pieces, false) {
                        assert!(resource_covers(&sr, target), "covers {sr} {target}");
                    }
                }
            }
            assert_eq!(uri.is_named_by(&sr), resource_matches(&sr, &text), "{sr}");
            if uri.is_sdk_spelling(sr.as_bytes()) {
                sdk_hits += 1;
                assert!(resource_matches(&sr, &text), "{sr}");
            }
            assert_eq!(uri.is_covered_by(&sr), resource_covers(&sr, &text), "{sr}");
        }
        assert!(
            fast_hits > 3_000,
            "the generator reaches the accepting paths: {fast_hits}"
        );
        assert!(sdk_hits > 500, "the SDK spelling is reached: {sdk_hits}");
    }

    #[test]
    fn sdk_spelling_is_the_exact_escaped_join() {
        let device = ResourceUri::Device {
            host: "h.net",
            device_id: "d-1",
        };
        let module = ResourceUri::Module {
            host: "h.net",
            device_id: "d-1",
            module_id: "m(1)",
        };
        assert!(device.is_sdk_spelling(b"h.net%2Fdevices%2Fd-1"));
        assert!(module.is_sdk_spelling(b"h.net%2Fdevices%2Fd-1%2Fmodules%2Fm(1)"));
        // Other spellings are left to the general tiers, which still accept them.
        for sr in [
            "h.net/devices/d-1",
            "h.net%2fdevices%2fd-1",
            "H.NET%2Fdevices%2Fd-1",
        ] {
            assert!(!device.is_sdk_spelling(sr.as_bytes()), "{sr}");
            assert!(device.is_named_by(sr), "{sr}");
        }
        for sr in [
            "h.net%2Fdevices%2Fd-",
            "h.net%2Fdevices%2Fd-1x",
            "h.net%2Fdevices",
        ] {
            assert!(!device.is_sdk_spelling(sr.as_bytes()), "{sr}");
            assert!(!device.is_named_by(sr), "{sr}");
        }
        // A trailing separator is the segment rules' call (they allow it), not this tier's.
        assert!(!device.is_sdk_spelling(b"h.net%2Fdevices%2Fd-1%2F"));
        assert!(!device.is_sdk_spelling(b"h.net%2Fdevices%2Fd-1%2Fmodules%2Fm(1)"));
        // An ID holding `%` is never matched byte for byte: `sr` would decode differently.
        let percent = ResourceUri::Device {
            host: "h.net",
            device_id: "a%41",
        };
        assert!(!percent.is_sdk_spelling(b"h.net%2Fdevices%2Fa%41"));
        assert!(!percent.is_named_by("h.net%2Fdevices%2Fa%41"));
        assert!(percent.is_named_by("h.net%2Fdevices%2Fa%2541"));
        let hub = ResourceUri::Hub { host: "h.net" };
        assert!(!hub.is_sdk_spelling(b"h.net"));
        assert!(hub.is_named_by("h.net"));
    }
}
