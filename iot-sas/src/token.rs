//! SAS token text: parse (borrowing, no allocation) and format.
//!
//! The rules are listed, with their reasons, in the crate README section "Parsing rules".

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::percent::hex_value;
use crate::{Error, ExpiryError, SharedAccessKey, Signature, SignatureError};

/// Maximum length of a token text in bytes; longer texts are refused before any other work.
///
/// The longest legitimate token is `sr` for a 128-character device ID plus a 128-character
/// module ID under a ~60-character host name, each character escaped (`%XX`), plus 132 bytes of
/// `sig`: well under 1.5 KiB. 4096 leaves room for unusual producers and still bounds the work.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The literal prefix: exact case and exactly one space (reference §1.1).
pub(crate) const PREFIX: &str = "SharedAccessSignature ";

/// A parsed SAS token, borrowing its text (zero allocation).
///
/// `SharedAccessSignature sr=<resource>&sig=<signature>&se=<expiry>[&skn=<key name>]`, fields
/// in any order (reference §1.1). The `sr` and `se` values are kept exactly as received: they
/// are the MAC input (§1.2, §1.4.1). The `sig` is checked and decoded when parsing, so a parsed
/// token always has a well-formed 32-byte signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SasToken<'a> {
    sr: &'a str,
    sig: &'a str,
    se: &'a str,
    skn: Option<&'a str>,
    expiry: u64,
    signature: Signature,
}

impl<'a> SasToken<'a> {
    /// Parses a token text. See the crate README, section "Parsing rules".
    ///
    /// # Errors
    ///
    /// [`Error::TokenTooLong`], [`Error::MissingPrefix`], [`Error::InvalidCharacter`],
    /// [`Error::EmptyField`], [`Error::MalformedField`], [`Error::UnknownField`],
    /// [`Error::DuplicateField`], [`Error::EmptyValue`], [`Error::MissingField`],
    /// [`Error::MalformedExpiry`] or [`Error::MalformedSignature`].
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        if text.len() > MAX_TOKEN_LEN {
            return Err(Error::TokenTooLong {
                len: text.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let fields = text.strip_prefix(PREFIX).ok_or(Error::MissingPrefix)?;
        // Branch-free over the whole text (vectorises); the position is searched only on error.
        let any_invalid = fields
            .bytes()
            .fold(false, |bad, b| bad | !b.is_ascii_graphic());
        if let Some(i) = any_invalid
            .then(|| fields.bytes().position(|b| !b.is_ascii_graphic()))
            .flatten()
        {
            let byte = fields.as_bytes().get(i).copied().unwrap_or_default();
            return Err(Error::InvalidCharacter {
                offset: PREFIX.len() + i,
                byte,
            });
        }

        let (mut sr, mut sig, mut se, mut skn) = (None, None, None, None);
        // One pass per field: the name is recognised from the first bytes, then the value runs
        // to the next `&`. All bytes are ASCII (checked above), so every index is a char
        // boundary.
        let bytes = fields.as_bytes();
        let mut start = 0;
        loop {
            let rest = bytes.get(start..).unwrap_or_default();
            let len = crate::percent::find(rest, b'&').unwrap_or(rest.len());
            let field = rest.get(..len).unwrap_or_default();
            let offset = PREFIX.len() + start;
            if field.is_empty() {
                return Err(Error::EmptyField { offset });
            }
            let (slot, name, name_len) = if field.starts_with(b"sr=") {
                (&mut sr, "sr", 2)
            } else if field.starts_with(b"sig=") {
                (&mut sig, "sig", 3)
            } else if field.starts_with(b"se=") {
                (&mut se, "se", 2)
            } else if field.starts_with(b"skn=") {
                (&mut skn, "skn", 3)
            } else {
                return Err(match field.iter().position(|&b| b == b'=') {
                    None | Some(0) => Error::MalformedField { offset },
                    Some(_) => Error::UnknownField { offset },
                });
            };
            if slot.is_some() {
                return Err(Error::DuplicateField { field: name });
            }
            let value = fields
                .get(start + name_len + 1..start + len)
                .unwrap_or_default();
            if value.is_empty() {
                return Err(Error::EmptyValue { field: name });
            }
            *slot = Some(value);
            start += len + 1;
            if start > bytes.len() {
                break;
            }
        }

        let sr = sr.ok_or(Error::MissingField { field: "sr" })?;
        let sig = sig.ok_or(Error::MissingField { field: "sig" })?;
        let se = se.ok_or(Error::MissingField { field: "se" })?;
        // `sig` before `se`: a speed choice, see "Store forwarding" in benches/benches/sas.rs.
        let mut signature = Signature([0; 32]);
        if decode_signature_fast(sig.as_bytes(), &mut signature.0).is_none() {
            signature = decode_signature_checked(sig).map_err(Error::MalformedSignature)?;
        }
        let expiry = parse_expiry(se).map_err(Error::MalformedExpiry)?;
        Ok(Self {
            sr,
            sig,
            se,
            skn,
            expiry,
            signature,
        })
    }

    /// The `sr` value exactly as received (the MAC input; not decoded).
    pub fn resource_raw(&self) -> &'a str {
        self.sr
    }

    /// The `sig` value exactly as received (percent-encoded base64).
    pub fn signature_raw(&self) -> &'a str {
        self.sig
    }

    /// The `se` value exactly as received (the MAC input).
    pub fn expiry_raw(&self) -> &'a str {
        self.se
    }

    /// The expiry in Unix seconds.
    pub fn expiry(&self) -> u64 {
        self.expiry
    }

    /// The `skn` value (policy or key name), if present. It is optional even for DPS, where
    /// python and sdk-for-c send none (reference §1.5).
    pub fn key_name(&self) -> Option<&'a str> {
        self.skn
    }

    /// The decoded 32-byte MAC (`sig` percent-decoded, then base64-decoded).
    ///
    /// # Errors
    ///
    /// None in practice: [`parse`](Self::parse) already refused tokens whose `sig` does not
    /// decode ([`Error::MalformedSignature`]).
    pub fn signature(&self) -> Result<Signature, Error> {
        Ok(self.signature)
    }

    /// The three parts the MAC covers: raw `sr`, a line feed, raw `se` (reference §1.2).
    pub fn signed_parts(&self) -> [&'a [u8]; 3] {
        [self.sr.as_bytes(), b"\n", self.se.as_bytes()]
    }

    /// Checks the MAC with `key`, in constant time (reference §1.4.1-2).
    ///
    /// # Errors
    ///
    /// [`Error::SignatureMismatch`].
    pub fn verify_signature(&self, key: &SharedAccessKey) -> Result<(), Error> {
        key.as_mac_key().verify(self)
    }

    /// The decoded `sig` bytes.
    pub(crate) fn signature_bytes(&self) -> &[u8; 32] {
        &self.signature.0
    }

    /// Checks the expiry: the token is expired when `expiry + skew_secs < now` (the SDK-side
    /// rule with `MaxClockSkew`, reference §1.4.4). Saturating: no overflow near `u64::MAX`.
    ///
    /// # Errors
    ///
    /// [`Error::Expired`].
    pub fn check_expiry(&self, now: u64, skew_secs: u64) -> Result<(), Error> {
        if self.expiry.saturating_add(skew_secs) < now {
            Err(Error::Expired {
                expiry: self.expiry,
                now,
            })
        } else {
            Ok(())
        }
    }
}

/// Canonical order `sr`, `sig`, `se`, `skn`, values exactly as received.
impl core::fmt::Display for SasToken<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{PREFIX}sr={}&sig={}&se={}", self.sr, self.sig, self.se)?;
        if let Some(skn) = self.skn {
            write!(f, "&skn={skn}")?;
        }
        Ok(())
    }
}

/// Prints at most the first 6 characters of the signature.
impl core::fmt::Debug for SasToken<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SasToken")
            .field("sr", &self.sr)
            .field("sig", &SigPrefix(self.sig))
            .field("se", &self.se)
            .field("skn", &self.skn)
            .finish()
    }
}

/// Debug helper: `"abcdef..."`.
struct SigPrefix<'a>(&'a str);

impl core::fmt::Debug for SigPrefix<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "\"{}...\"", self.0.get(..6).unwrap_or(""))
    }
}

/// Canonical decimal: digits only, no sign, no leading zero (except `0` itself), fits `u64`.
fn parse_expiry(se: &str) -> Result<u64, ExpiryError> {
    let digits = se.as_bytes();
    let (mut value, mut all_digits) = (0u64, true);
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        all_digits &= digit < 10;
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    if !all_digits {
        return Err(ExpiryError::NotDecimal);
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return Err(ExpiryError::LeadingZero);
    }
    // Without leading zeros, more than 20 digits, or 20 digits above u64::MAX's, overflow
    // (equal-length ASCII digit strings compare like their values).
    const MAX: &[u8] = b"18446744073709551615";
    if digits.len() > MAX.len() || (digits.len() == MAX.len() && digits > MAX) {
        return Err(ExpiryError::Overflow);
    }
    Ok(value)
}

/// Marks bytes outside the standard base64 alphabet in [`BASE64_VALUES`].
const NOT_BASE64: u8 = 0xff;

/// RFC 4648 standard alphabet: symbol byte -> 6-bit value.
const BASE64_VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The common case without the general engine: 43 symbols (each raw or `%XX`), the last one
/// with zero low bits, then `=` (raw or `%3D`/`%3d`), decoded by quads. Accepts exactly what
/// [`decode_signature_checked`] accepts and writes `mac`; `None` (with `mac` unspecified)
/// sends everything else there, which also finds the precise error (a differential test keeps
/// the two in step).
fn decode_signature_fast(raw: &[u8], mac: &mut [u8; 32]) -> Option<()> {
    // Percent-decode into a fixed buffer, copying the runs between escapes (a canonical `sig`
    // has at most a handful of escapes).
    let mut text = [0u8; 44];
    let (mut i, mut len) = (0, 0);
    while i < raw.len() {
        let rest = raw.get(i..)?;
        let run = crate::percent::find(rest, b'%').unwrap_or(rest.len());
        text.get_mut(len..len + run)?
            .copy_from_slice(rest.get(..run)?);
        len += run;
        i += run;
        if i < raw.len() {
            *text.get_mut(len)? = crate::percent::escape_at(raw.get(i..)?)?;
            len += 1;
            i += 3;
        }
    }
    if len != 44 || text[43] != b'=' {
        return None;
    }
    // Eleven quads; the last one is `XYZ=` and Z's two low bits must be zero (canonical).
    text[43] = b'A';
    let mut values = [0u8; 44];
    for (value, symbol) in values.iter_mut().zip(text) {
        *value = BASE64_VALUES[usize::from(symbol)];
    }
    if values.iter().fold(0, |acc, v| acc | v) & 0x80 != 0 {
        return None;
    }
    let mut out = [0u8; 33];
    for (quad, bytes) in values.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        if let ([a, b, c, d], [x, y, z]) = (quad, bytes) {
            *x = a << 2 | b >> 4;
            *y = b << 4 | c >> 2;
            *z = c << 6 | d;
        }
    }
    if out[32] != 0 {
        return None;
    }
    mac.copy_from_slice(&out[..32]);
    Some(())
}

/// Percent-decode into a 44-byte buffer, then the `base64` crate's strict `STANDARD` engine,
/// reporting exactly what is wrong.
fn decode_signature_checked(sig: &str) -> Result<Signature, SignatureError> {
    let raw = sig.as_bytes();
    let mut text = [0u8; 44];
    let (mut i, mut len) = (0, 0);
    while let Some(&byte) = raw.get(i) {
        let decoded = if byte == b'%' {
            let hi = raw.get(i + 1).copied().and_then(hex_value);
            let lo = raw.get(i + 2).copied().and_then(hex_value);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(SignatureError::InvalidEscape { offset: i });
            };
            i += 3;
            hi << 4 | lo
        } else {
            i += 1;
            byte
        };
        if let Some(slot) = text.get_mut(len) {
            *slot = decoded;
        }
        len += 1;
    }
    if len != text.len() {
        return Err(SignatureError::WrongLength { len });
    }
    let mut mac = [0u8; 32];
    match STANDARD.decode_slice(text, &mut mac) {
        Ok(32) => Ok(Signature(mac)),
        Ok(bytes) => Err(SignatureError::WrongMacLength { bytes }),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            Err(SignatureError::WrongMacLength { bytes: 33 })
        }
        Err(base64::DecodeSliceError::DecodeError(err)) => Err(SignatureError::Base64(err.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Base64Error;
    use std::string::ToString;

    /// reference §1.8, first complete vector (key V1, se 1578941692).
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";
    const SIG: &str = "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D";
    const SR: &str = "myiothub.azure-devices.net%2Fdevices%2Fmy_device";

    fn token(fields: &str) -> std::string::String {
        std::format!("{PREFIX}{fields}")
    }

    #[test]
    fn parses_the_reference_token() {
        let t = SasToken::parse(TOKEN).unwrap();
        assert_eq!(t.resource_raw(), SR);
        assert_eq!(t.signature_raw(), SIG);
        assert_eq!(t.expiry_raw(), "1578941692");
        assert_eq!(t.expiry(), 1_578_941_692);
        assert_eq!(t.key_name(), None);
        assert_eq!(
            t.signature().unwrap().encode_base64(&mut [0; 44]),
            "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU="
        );
        assert_eq!(t.to_string(), TOKEN);
    }

    #[test]
    fn fields_in_any_order_format_canonically() {
        // node emits sr, sig, skn, se; the docs write sig, se, skn, sr (reference §1.1).
        let node = token(&std::format!("sr={SR}&sig={SIG}&skn=device&se=1578941692"));
        let docs = token(&std::format!("sig={SIG}&se=1578941692&skn=device&sr={SR}"));
        let canonical = std::format!("{TOKEN}&skn=device");
        assert_eq!(SasToken::parse(&node).unwrap().to_string(), canonical);
        assert_eq!(SasToken::parse(&docs).unwrap().to_string(), canonical);
        assert_eq!(SasToken::parse(&docs).unwrap().key_name(), Some("device"));
    }

    #[test]
    fn rule_duplicated_field_is_rejected() {
        let text = token(&std::format!("sr={SR}&sig={SIG}&se=1&se=2"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::DuplicateField { field: "se" })
        );
        let text = token(&std::format!("sr={SR}&sr={SR}&sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::DuplicateField { field: "sr" })
        );
    }

    #[test]
    fn rule_unknown_field_is_rejected() {
        let text = token(&std::format!("sr={SR}&sig={SIG}&se=1&foo=bar"));
        let offset = text.find("foo").unwrap();
        assert_eq!(SasToken::parse(&text), Err(Error::UnknownField { offset }));
    }

    #[test]
    fn rule_differently_cased_field_name_is_rejected() {
        for name in ["SR", "Sr", "SIG", "Se", "SKN"] {
            let text = token(&std::format!("sr={SR}&sig={SIG}&se=1&{name}=x"));
            assert!(
                matches!(SasToken::parse(&text), Err(Error::UnknownField { .. })),
                "{name}"
            );
        }
        let text = token(&std::format!("SR={SR}&sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::UnknownField {
                offset: PREFIX.len()
            })
        );
    }

    #[test]
    fn rule_empty_field_name_or_value_is_rejected() {
        let text = token(&std::format!("sr={SR}&sig={SIG}&se=1&=x"));
        assert!(matches!(
            SasToken::parse(&text),
            Err(Error::MalformedField { .. })
        ));
        let text = token(&std::format!("sr=&sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::EmptyValue { field: "sr" })
        );
        let text = token(&std::format!("sr={SR}&sig={SIG}&se=1&skn="));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::EmptyValue { field: "skn" })
        );
        let text = token(&std::format!("sr={SR}&sig={SIG}&se"));
        assert!(matches!(
            SasToken::parse(&text),
            Err(Error::MalformedField { .. })
        ));
        for text in [
            token(&std::format!("sr={SR}&&sig={SIG}&se=1")),
            token(&std::format!("sr={SR}&sig={SIG}&se=1&")),
            token(&std::format!("&sr={SR}&sig={SIG}&se=1")),
            token(""),
        ] {
            assert!(
                matches!(SasToken::parse(&text), Err(Error::EmptyField { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn rule_missing_required_field_is_rejected() {
        let text = token(&std::format!("sr={SR}&sig={SIG}"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::MissingField { field: "se" })
        );
        let text = token(&std::format!("sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::MissingField { field: "sr" })
        );
        let text = token(&std::format!("sr={SR}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::MissingField { field: "sig" })
        );
    }

    #[test]
    fn rule_whitespace_exactly_one_space_after_prefix() {
        assert_eq!(
            SasToken::parse(&TOKEN.replacen(' ', "  ", 1)),
            Err(Error::InvalidCharacter {
                offset: PREFIX.len(),
                byte: b' '
            })
        );
        assert_eq!(
            SasToken::parse(&TOKEN.replacen(' ', "\t", 1)),
            Err(Error::MissingPrefix)
        );
        assert_eq!(
            SasToken::parse(&std::format!(" {TOKEN}")),
            Err(Error::MissingPrefix)
        );
        assert_eq!(
            SasToken::parse(&std::format!("{TOKEN}\n")),
            Err(Error::InvalidCharacter {
                offset: TOKEN.len(),
                byte: b'\n'
            })
        );
        assert_eq!(
            SasToken::parse(&std::format!("{TOKEN} ")),
            Err(Error::InvalidCharacter {
                offset: TOKEN.len(),
                byte: b' '
            })
        );
        let inner = TOKEN.replace("&se=", "& se=");
        assert!(matches!(
            SasToken::parse(&inner),
            Err(Error::InvalidCharacter { byte: b' ', .. })
        ));
        assert!(matches!(
            SasToken::parse(&TOKEN.replace("my_device", "my_dévice")),
            Err(Error::InvalidCharacter { byte: 0xc3, .. })
        ));
    }

    #[test]
    fn rule_prefix_is_case_sensitive() {
        let lower = TOKEN.replacen("SharedAccessSignature", "sharedaccesssignature", 1);
        assert_eq!(SasToken::parse(&lower), Err(Error::MissingPrefix));
        assert_eq!(
            SasToken::parse(TOKEN.trim_start_matches("SharedAccessSignature ")),
            Err(Error::MissingPrefix)
        );
    }

    #[test]
    fn rule_sig_accepts_raw_slash_raw_plus_and_raw_padding() {
        // `+` is a base64 character here, never a space (reference §1.4.2).
        let raw = token(&std::format!(
            "sr={SR}&sig=f+wW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM=&se=1"
        ));
        let encoded = token(&std::format!(
            "sr={SR}&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1"
        ));
        let slash = token(&std::format!(
            "sr={SR}&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg/YB1AvU%3D&se=1"
        ));
        assert_eq!(
            SasToken::parse(&raw).unwrap().signature(),
            SasToken::parse(&encoded).unwrap().signature()
        );
        assert_eq!(
            SasToken::parse(&slash).unwrap().signature(),
            SasToken::parse(TOKEN).unwrap().signature()
        );
    }

    #[test]
    fn rule_sig_escapes_accept_either_hex_case() {
        let lower = TOKEN.replace("%2FYB1", "%2fYB1").replace("%3D", "%3d");
        assert_eq!(
            SasToken::parse(&lower).unwrap().signature(),
            SasToken::parse(TOKEN).unwrap().signature()
        );
        let plus_lower = token(&std::format!(
            "sr={SR}&sig=f%2bwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3d&se=1"
        ));
        let plus_upper = token(&std::format!(
            "sr={SR}&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1"
        ));
        assert_eq!(
            SasToken::parse(&plus_lower).unwrap().signature(),
            SasToken::parse(&plus_upper).unwrap().signature()
        );
    }

    #[test]
    fn rule_sig_must_be_canonical_base64_of_32_bytes() {
        let bad_escape = token(&std::format!(
            "sr={SR}&sig=%2GwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1"
        ));
        assert_eq!(
            SasToken::parse(&bad_escape),
            Err(Error::MalformedSignature(SignatureError::InvalidEscape {
                offset: 0
            }))
        );
        let short = token(&std::format!("sr={SR}&sig=abc&se=1"));
        assert_eq!(
            SasToken::parse(&short),
            Err(Error::MalformedSignature(SignatureError::WrongLength {
                len: 3
            }))
        );
        let url_safe = token(&std::format!(
            "sr={SR}&sig=f-wW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1"
        ));
        assert_eq!(
            SasToken::parse(&url_safe),
            Err(Error::MalformedSignature(SignatureError::Base64(
                Base64Error::InvalidByte { offset: 1 }
            )))
        );
        // The last symbol `N` carries non-zero trailing bits (`M` is canonical).
        let trailing = token(&std::format!(
            "sr={SR}&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAN%3D&se=1"
        ));
        assert!(matches!(
            SasToken::parse(&trailing),
            Err(Error::MalformedSignature(SignatureError::Base64(
                Base64Error::InvalidLastSymbol { .. }
            )))
        ));
        let unpadded = token(&std::format!(
            "sr={SR}&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAMA&se=1"
        ));
        assert_eq!(
            SasToken::parse(&unpadded),
            Err(Error::MalformedSignature(SignatureError::WrongMacLength {
                bytes: 33
            }))
        );
    }

    #[test]
    fn rule_se_leading_zero_sign_non_digit_and_overflow_are_rejected() {
        let with = |se: &str| {
            SasToken::parse(&token(&std::format!("sr={SR}&sig={SIG}&se={se}"))).map(|t| t.expiry())
        };
        assert_eq!(
            with("01578941692"),
            Err(Error::MalformedExpiry(ExpiryError::LeadingZero))
        );
        assert_eq!(
            with("00"),
            Err(Error::MalformedExpiry(ExpiryError::LeadingZero))
        );
        assert_eq!(
            with("+1578941692"),
            Err(Error::MalformedExpiry(ExpiryError::NotDecimal))
        );
        assert_eq!(
            with("-1"),
            Err(Error::MalformedExpiry(ExpiryError::NotDecimal))
        );
        assert_eq!(
            with("1578941692.5"),
            Err(Error::MalformedExpiry(ExpiryError::NotDecimal))
        );
        assert_eq!(
            with("0x10"),
            Err(Error::MalformedExpiry(ExpiryError::NotDecimal))
        );
        assert_eq!(
            with("18446744073709551616"),
            Err(Error::MalformedExpiry(ExpiryError::Overflow))
        );
        assert_eq!(with("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(with("18446744073709551614"), Ok(u64::MAX - 1));
        assert_eq!(
            with("99999999999999999999"),
            Err(Error::MalformedExpiry(ExpiryError::Overflow))
        );
        assert_eq!(
            with("100000000000000000000"),
            Err(Error::MalformedExpiry(ExpiryError::Overflow))
        );
        assert_eq!(with("10000000000000000000"), Ok(10_000_000_000_000_000_000));
        assert_eq!(with("0"), Ok(0));
    }

    #[test]
    fn rule_max_token_len_is_enforced() {
        let pad = "a".repeat(MAX_TOKEN_LEN);
        let text = token(&std::format!("sr={pad}&sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text),
            Err(Error::TokenTooLong {
                len: text.len(),
                max: MAX_TOKEN_LEN
            })
        );
        let fill = MAX_TOKEN_LEN - token(&std::format!("sr=&sig={SIG}&se=1")).len();
        let longest = token(&std::format!("sr={}&sig={SIG}&se=1", "a".repeat(fill)));
        assert_eq!(longest.len(), MAX_TOKEN_LEN);
        assert!(SasToken::parse(&longest).is_ok());
    }

    #[test]
    fn sr_is_kept_raw_including_plus_equals_and_odd_escapes() {
        let text = token(&std::format!("sr=host/devices/a+b=c%zz&sig={SIG}&se=1"));
        assert_eq!(
            SasToken::parse(&text).unwrap().resource_raw(),
            "host/devices/a+b=c%zz"
        );
    }

    #[test]
    fn verify_signature_and_expiry() {
        let key =
            SharedAccessKey::from_base64("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=").unwrap();
        let t = SasToken::parse(TOKEN).unwrap();
        assert_eq!(t.verify_signature(&key), Ok(()));
        let other = SharedAccessKey::from_bytes(b"other").unwrap();
        assert_eq!(t.verify_signature(&other), Err(Error::SignatureMismatch));
        assert_eq!(t.check_expiry(1_578_941_692 + 300, 300), Ok(()));
        assert_eq!(
            t.check_expiry(1_578_941_692 + 301, 300),
            Err(Error::Expired {
                expiry: 1_578_941_692,
                now: 1_578_941_993
            })
        );
        assert_eq!(t.check_expiry(u64::MAX, u64::MAX), Ok(()));
    }

    #[test]
    fn fast_signature_decoder_agrees_with_the_base64_crate() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000u32 {
            let mut mac = [0u8; 32];
            for byte in &mut mac {
                *byte = next() as u8;
            }
            let mut text = std::string::String::from(
                crate::key_text::encode_base64_into(&mac, &mut [0; 44]).unwrap(),
            );
            // Mutate some rounds: flip a symbol, escape characters, drop the padding.
            match round % 6 {
                1 => {
                    text = text
                        .replace('+', "%2B")
                        .replace('/', "%2f")
                        .replace('=', "%3D")
                }
                2 => text = text.replace('=', ""),
                3 => {
                    let at = (next() % 44) as usize;
                    let symbol = b"A+/=-_%a"[(next() % 8) as usize] as char;
                    text.replace_range(at..=at, symbol.encode_utf8(&mut [0; 4]));
                }
                4 => text.push('A'),
                _ => {}
            }
            let mut bytes = [0; 32];
            let fast = decode_signature_fast(text.as_bytes(), &mut bytes).is_some();
            let checked = decode_signature_checked(&text);
            if fast {
                assert_eq!(checked, Ok(Signature(bytes)), "{text}");
            } else {
                assert!(checked.is_err(), "{text}: fast path refused a valid form");
            }
        }
    }

    #[test]
    fn debug_truncates_the_signature() {
        let debug = std::format!("{:?}", SasToken::parse(TOKEN).unwrap());
        assert!(debug.contains("\"dIMMdD...\""), "{debug}");
        assert!(!debug.contains(SIG), "{debug}");
    }
}
