// Reference SAS rules for the fuzz invariants, written from the protocol text and not from
// iot-sas (pulled in with `include!` by fuzz/logic/{sas_verify,hub_authorize,
// dps_service_register}.rs, so the fuzzer and the stable replays use the same oracle):
//
// * `sr` is percent-decoded exactly once, then split into segments at `/` (reference §1.4.5;
//   issue 12: never decoded twice);
// * a decoded segment matches a plain segment ASCII case-insensitively (§1.4.5), where a raw
//   `+` stands for `+` or a space (form encoders, §1.3);
// * or it is that plain segment percent-encoded once more, the way csharp encodes IDs twice
//   (§1.3, §1.4.6): every byte outside `A-Z a-z 0-9 - _ .` either as itself or as `%XX`, a
//   space also as `+`. A letter or digit is never escaped by any encoder, so `x%41` is not `xA`
//   and `%64ev1` is not `dev1`;
// * trailing empty segments are ignored; an `sr` without a segment covers nothing.
//
// Also the fuzz "sign mode": a token text that starts with 0x01 is signed here, so the fuzzer
// can explore `sr` spellings with valid MACs.

/// A raw `+` in `sr` after decoding: `+` or a space.
const PLUS_OR_SPACE: u16 = 0x100;

/// `sr` percent-decoded once: `%XX` (either hex case) is the byte, a raw `+` is
/// [`PLUS_OR_SPACE`], anything else (a lone `%` too) stays as it is.
pub fn decode_once(sr: &str) -> Vec<u16> {
    let (bytes, mut out, mut i) = (sr.as_bytes(), Vec::new(), 0);
    let hex = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
    while let Some(&byte) = bytes.get(i) {
        match (byte, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => (out.push((high * 16 + low) as u16), i += 3),
            (b'+', ..) => (out.push(PLUS_OR_SPACE), i += 1),
            _ => (out.push(u16::from(byte)), i += 1),
        };
    }
    out
}

/// Whether the once-decoded `sr` names `plain` (given as its segments) exactly, or (when not
/// `exact`) is a path-segment prefix of it; a segment may also be the plain one encoded once
/// more (csharp's IDs). What a validator may accept: nothing outside this.
pub fn sr_covers(sr: &str, plain: &[&str], exact: bool) -> bool {
    covers_by(sr, plain, exact, |segment, plain| {
        segment_is_literally(segment, plain) || segment_is_reencoded(segment, plain)
    })
}

/// As [`sr_covers`], with every segment compared only as decoded once (no re-encoded form).
/// What a validator must accept.
pub fn sr_covers_literally(sr: &str, plain: &[&str], exact: bool) -> bool {
    covers_by(sr, plain, exact, segment_is_literally)
}

fn covers_by(sr: &str, plain: &[&str], exact: bool, same: impl Fn(&[u16], &[u8]) -> bool) -> bool {
    let decoded = decode_once(sr);
    let mut segments: Vec<&[u16]> = decoded.split(|&c| c == u16::from(b'/')).collect();
    while segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    let mut plain = plain.to_vec();
    while plain.last().is_some_and(|s| s.is_empty()) {
        plain.pop();
    }
    !segments.is_empty()
        && segments.len() <= plain.len()
        && (!exact || segments.len() == plain.len())
        && segments
            .iter()
            .zip(&plain)
            .all(|(s, p)| same(s, p.as_bytes()))
}

/// One decoded `sr` byte against one plain byte: ASCII case-insensitive; a raw `+` is `+` or
/// a space.
fn same_byte(c: u16, b: u8) -> bool {
    (c == PLUS_OR_SPACE && (b == b'+' || b == b' '))
        || u8::try_from(c).is_ok_and(|c| c.eq_ignore_ascii_case(&b))
}

/// One decoded `sr` segment against one plain segment, byte for byte.
fn segment_is_literally(segment: &[u16], plain: &[u8]) -> bool {
    segment.len() == plain.len() && segment.iter().zip(plain).all(|(&c, &b)| same_byte(c, b))
}

/// One decoded `sr` segment against one plain segment encoded once more: every byte outside
/// `A-Z a-z 0-9 - _ .` as itself or `%XX` (either hex case), a space also as `+`.
fn segment_is_reencoded(segment: &[u16], plain: &[u8]) -> bool {
    // `ok[i][j]`: plain[i..] is spelled by segment[j..] (a byte kept, escaped, or `+` for space).
    let (n, m) = (plain.len(), segment.len());
    let mut ok = vec![vec![false; m + 1]; n + 1];
    ok[n][m] = true;
    for i in (0..n).rev() {
        let b = plain[i];
        let may_escape = !(b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        for j in (0..m).rev() {
            let c = segment[j];
            let kept = (same_byte(c, b) || (b == b' ' && c == u16::from(b'+'))) && ok[i + 1][j + 1];
            let escaped = may_escape
                && c == u16::from(b'%')
                && j + 2 < m
                && [segment[j + 1], segment[j + 2]]
                    .iter()
                    .map(|&h| {
                        u8::try_from(h)
                            .ok()
                            .and_then(|h| char::from(h).to_digit(16))
                    })
                    .collect::<Option<Vec<u32>>>()
                    .is_some_and(|h| h[0] * 16 + h[1] == u32::from(b))
                && ok[i + 1][j + 3];
            ok[i][j] = kept || escaped;
        }
    }
    ok[0][0]
}

/// Sign mode: `\x01{k}{sr}\x01{se}[\x01{skn}]` becomes the token over that raw `sr` and `se`,
/// signed with `keys[k as usize % keys.len()]` (base64). `None` when `text` is not in sign
/// mode or the key does not decode.
pub fn sign_mode(text: &str, keys: &[&str]) -> Option<String> {
    let mut chars = text.strip_prefix('\u{1}')?.chars();
    let key = keys.get(chars.next()? as usize % keys.len().max(1))?;
    let mut parts = chars.as_str().split('\u{1}');
    let (sr, se, skn) = (parts.next()?, parts.next()?, parts.next());
    let mac = iot_sas::MacKey::from_base64(key).ok()?;
    let signature = mac.sign(&[sr.as_bytes(), b"\n", se.as_bytes()]);
    let mut b64 = [0u8; 44];
    let sig: String = signature
        .encode_base64(&mut b64)
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_owned(),
            '/' => "%2F".to_owned(),
            '=' => "%3D".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut token = format!("SharedAccessSignature sr={sr}&sig={sig}&se={se}");
    if let Some(skn) = skn {
        token.push_str("&skn=");
        token.push_str(skn);
    }
    Some(token)
}

/// Whether `token` carries a MAC made with `key` (base64): HMAC-SHA256 over the raw `sr`, a
/// line feed and the raw `se` (§1.2), recomputed here and compared with the decoded `sig`.
pub fn signed_with(token: &iot_sas::SasToken<'_>, key: &str) -> bool {
    let Ok(mac) = iot_sas::MacKey::from_base64(key) else {
        return false;
    };
    let expected = mac.sign(&[
        token.resource_raw().as_bytes(),
        b"\n",
        token.expiry_raw().as_bytes(),
    ]);
    token.signature().is_ok_and(|sig| sig == expected)
}
