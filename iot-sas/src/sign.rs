//! Token generation into a caller buffer (no allocation) or a `String` (`alloc`).

use core::fmt::Write as _;

use crate::buffer::{SliceWriter, formatted_len, write_into};
use crate::token::{MAX_TOKEN_LEN, PREFIX};
use crate::{Error, ResourceUri, Signer};

/// Largest `&sig=` value: 44 base64 characters, each possibly escaped as `%XX`.
const MAX_SIG_TEXT: usize = 44 * 3;

/// Signs `resource` (canonically encoded, see [`percent_encode`](crate::percent_encode)) until
/// `expiry` (Unix seconds) and writes the token into `out`.
///
/// The result is `SharedAccessSignature sr={sr}&sig={sig}&se={expiry}[&skn={key_name}]`, the
/// order and encoding of the python device SDK and azure-sdk-for-c (reference §1.1-1.3): the MAC
/// is HMAC-SHA256 over `sr` + `"\n"` + `se`, and `sig` is its base64 with `+ / =` escaped as
/// `%2B %2F %3D`. `key_name` is the `skn` (a hub policy name, or `registration` for DPS).
///
/// # Errors
///
/// [`Error::InvalidKeyName`]; [`Error::EmptyValue`] for an empty resource;
/// [`Error::TokenTooLong`] when the token would exceed [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN)
/// (no verifier would accept it); [`Error::SignerFailed`]; [`Error::BufferTooSmall`] with a
/// sufficient size (exact when `out` could hold the resource part, else an upper bound that
/// assumes every `sig` character escaped).
pub fn sign_into<'b, S: Signer>(
    signer: &S,
    resource: &ResourceUri<'_>,
    expiry: u64,
    key_name: Option<&str>,
    out: &'b mut [u8],
) -> Result<&'b str, Error> {
    write_token(signer, resource, expiry, key_name, out)
}

/// Like [`sign_into`] for an `sr` that is already encoded, written and signed exactly as
/// given (for producers whose spelling differs from the canonical one, reference §1.3: raw
/// slashes, lower-case `%2f`, lower-cased audiences).
///
/// # Errors
///
/// As [`sign_into`], plus [`Error::EmptyValue`] for an empty `sr` and
/// [`Error::InvalidCharacter`] (offset inside `sr`) for a byte that cannot appear in a token
/// (whitespace, control, non-ASCII, `&`).
pub fn sign_encoded_into<'b, S: Signer>(
    signer: &S,
    sr: &str,
    expiry: u64,
    key_name: Option<&str>,
    out: &'b mut [u8],
) -> Result<&'b str, Error> {
    if sr.is_empty() {
        return Err(Error::EmptyValue { field: "sr" });
    }
    if let Some((offset, &byte)) = sr
        .as_bytes()
        .iter()
        .enumerate()
        .find(|(_, b)| !b.is_ascii_graphic() || **b == b'&')
    {
        return Err(Error::InvalidCharacter { offset, byte });
    }
    write_token(signer, &sr, expiry, key_name, out)
}

/// Signs and returns the token as a `String`. See [`sign_into`].
///
/// # Errors
///
/// As [`sign_into`], except [`Error::BufferTooSmall`].
#[cfg(feature = "alloc")]
pub fn sign<S: Signer>(
    signer: &S,
    resource: &ResourceUri<'_>,
    expiry: u64,
    key_name: Option<&str>,
) -> Result<alloc::string::String, Error> {
    let mut buf = alloc::vec![0u8; max_token_len(resource, key_name)];
    let token = sign_into(signer, resource, expiry, key_name, &mut buf)?;
    Ok(alloc::string::String::from(token))
}

/// A buffer of this many bytes always holds the token [`sign_into`] writes for `resource`
/// (whatever the expiry and signature).
pub fn max_token_len(resource: &ResourceUri<'_>, key_name: Option<&str>) -> usize {
    PREFIX.len()
        + "sr=".len()
        + formatted_len(resource)
        + "&sig=".len()
        + MAX_SIG_TEXT
        + "&se=".len()
        + 20
        + key_name.map_or(0, |name| "&skn=".len() + name.len())
}

fn write_token<'b, S: Signer>(
    signer: &S,
    sr: &dyn core::fmt::Display,
    expiry: u64,
    key_name: Option<&str>,
    out: &'b mut [u8],
) -> Result<&'b str, Error> {
    if let Some(name) = key_name {
        check_key_name(name)?;
    }
    // A u64 has at most 20 decimal digits.
    let mut se_buf = [0u8; 20];
    let se = write_into(&mut se_buf, format_args!("{expiry}"))?;
    let tail_len = |sig_text: usize| {
        "&sig=".len()
            + sig_text
            + "&se=".len()
            + se.len()
            + key_name.map_or(0, |name| "&skn=".len() + name.len())
    };

    let mut w = SliceWriter {
        buf: &mut *out,
        len: 0,
    };
    let _ = write!(w, "{PREFIX}sr={sr}");
    if w.overflowed() {
        return Err(Error::BufferTooSmall {
            required: w.len + tail_len(MAX_SIG_TEXT),
        });
    }
    let sr_end = w.len;
    if sr_end == PREFIX.len() + 3 {
        return Err(Error::EmptyValue { field: "sr" });
    }
    let sr_bytes = w.buf.get(PREFIX.len() + 3..sr_end).unwrap_or_default();
    let signature = signer
        .sign(&[sr_bytes, b"\n", se.as_bytes()])
        .map_err(|_| Error::SignerFailed)?;
    let mut b64 = [0u8; 44];
    let b64 = signature.encode_base64(&mut b64);
    let sig_text = crate::percent_encode(b64);

    let _ = write!(w, "&sig={sig_text}&se=");
    let _ = w.write_str(se);
    if let Some(name) = key_name {
        let _ = write!(w, "&skn={name}");
    }
    if w.overflowed() {
        return Err(Error::BufferTooSmall { required: w.len });
    }
    if w.len > MAX_TOKEN_LEN {
        return Err(Error::TokenTooLong {
            len: w.len,
            max: MAX_TOKEN_LEN,
        });
    }
    let len = w.len;
    let out: &'b [u8] = out;
    let written = out.get(..len).unwrap_or_default();
    core::str::from_utf8(written).map_err(|_| Error::BufferTooSmall { required: len })
}

/// Policy (key) names: 1..=64 characters of `A-Z a-z 0-9 _ - @ .` (reference §4, csharp regex
/// `^[a-zA-Z0-9_\-@\.]+$`); this also keeps `&`, `=` and whitespace out of the token.
fn check_key_name(name: &str) -> Result<(), Error> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidKeyName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SasToken, SharedAccessKey, Signature};

    const V1_KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const HOST: &str = "myiothub.azure-devices.net";

    /// `sign` without the `alloc` feature, so these tests run in every configuration.
    fn sign(
        signer: &impl Signer,
        resource: &ResourceUri<'_>,
        expiry: u64,
        key_name: Option<&str>,
    ) -> Result<std::string::String, Error> {
        let mut buf = [0u8; 512];
        sign_into(signer, resource, expiry, key_name, &mut buf).map(std::string::String::from)
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn alloc_sign_equals_sign_into() {
        let r = ResourceUri::Device {
            host: HOST,
            device_id: "my_device",
        };
        assert_eq!(
            super::sign(&v1(), &r, 7, Some("device")),
            sign(&v1(), &r, 7, Some("device"))
        );
    }

    fn v1() -> SharedAccessKey {
        SharedAccessKey::from_base64(V1_KEY).unwrap()
    }

    #[test]
    fn hub_device_token_matches_reference_vector() {
        // reference §1.8, complete vector row 1 (full token given there).
        let r = ResourceUri::Device {
            host: HOST,
            device_id: "my_device",
        };
        let mut out = [0u8; 256];
        assert_eq!(
            sign_into(&v1(), &r, 1_578_941_692, None, &mut out).unwrap(),
            "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692"
        );
    }

    #[test]
    fn hub_service_token_with_skn() {
        let token = sign(
            &v1(),
            &ResourceUri::Hub { host: HOST },
            1_578_941_692,
            Some("iothubowner"),
        )
        .unwrap();
        let parsed = SasToken::parse(&token).unwrap();
        assert_eq!(parsed.key_name(), Some("iothubowner"));
        assert_eq!(
            parsed.signature().unwrap().encode_base64(&mut [0; 44]),
            "jNLd5fT1OOOh8Q3GOXfi+CbnqvMsE7+lpEsBASuS/KI="
        );
        assert!(token.ends_with("&se=1578941692&skn=iothubowner"));
    }

    #[test]
    fn dps_chained_example_from_reference_section_3() {
        let group = SharedAccessKey::from_base64("8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==").unwrap();
        let id = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
        let device = crate::derive_device_key(&group, id);
        let r = ResourceUri::DpsRegistration {
            id_scope: "0ne00002193",
            registration_id: id,
        };
        assert_eq!(
            sign(&device, &r, 1_700_000_000, Some("registration")).unwrap(),
            "SharedAccessSignature sr=0ne00002193%2Fregistrations%2Fsn-007-888-abc-mac-a1-b2-c3-d4-e5-f6&sig=l4WGmr52Z9%2BqW8Za4QPSRsCQUx1aIYiu%2BH%2FkZw30m7A%3D&se=1700000000&skn=registration"
        );
    }

    #[test]
    fn sign_encoded_keeps_the_given_spelling() {
        // reference §1.8: raw DPS (node) spelling.
        let token = sign_encoded_into(
            &v1(),
            "0neFEEDC0DE/registrations/myRegistrationId",
            1_578_941_692,
            None,
            &mut [0; 256],
        )
        .map(std::string::String::from)
        .unwrap();
        assert!(
            token.contains("sig=ad%2By%2B8CaG7%2FLlhlx9g%2BtidAW4jsUwb6AluSr0p0mxfk%3D"),
            "{token}"
        );
        assert_eq!(
            sign_encoded_into(&v1(), "a b", 1, None, &mut [0; 256]),
            Err(Error::InvalidCharacter {
                offset: 1,
                byte: b' '
            })
        );
        assert_eq!(
            sign_encoded_into(&v1(), "a&b", 1, None, &mut [0; 256]),
            Err(Error::InvalidCharacter {
                offset: 1,
                byte: b'&'
            })
        );
        assert_eq!(
            sign_encoded_into(&v1(), "", 1, None, &mut [0; 256]),
            Err(Error::EmptyValue { field: "sr" })
        );
    }

    #[test]
    fn buffer_too_small_reports_a_sufficient_size() {
        let r = ResourceUri::Device {
            host: HOST,
            device_id: "my_device",
        };
        let full = sign(&v1(), &r, 1_578_941_692, None).unwrap();
        // Room for the resource but not the signature: exact size.
        let mut out = [0u8; 100];
        assert_eq!(
            sign_into(&v1(), &r, 1_578_941_692, None, &mut out),
            Err(Error::BufferTooSmall {
                required: full.len()
            })
        );
        // Too small for the resource: an upper bound that works.
        let mut tiny = [0u8; 10];
        let Err(Error::BufferTooSmall { required }) =
            sign_into(&v1(), &r, 1_578_941_692, None, &mut tiny)
        else {
            panic!("expected BufferTooSmall");
        };
        assert!(required >= full.len());
        assert_eq!(required, max_token_len(&r, None) - 20 + 10);
        let mut exact = std::vec![0u8; full.len()];
        assert_eq!(
            sign_into(&v1(), &r, 1_578_941_692, None, &mut exact).unwrap(),
            full
        );
    }

    #[test]
    fn empty_and_over_long_resources_are_refused() {
        assert_eq!(
            sign(&v1(), &ResourceUri::Hub { host: "" }, 1, None),
            Err(Error::EmptyValue { field: "sr" })
        );
        let host = "h".repeat(MAX_TOKEN_LEN);
        let r = ResourceUri::Hub { host: &host };
        let mut buf = std::vec![0u8; max_token_len(&r, None)];
        assert!(matches!(
            sign_into(&v1(), &r, 1, None, &mut buf),
            Err(Error::TokenTooLong { .. })
        ));
    }

    #[test]
    fn key_name_is_validated() {
        let r = ResourceUri::Hub { host: HOST };
        for bad in ["", "a&b", "a b", "a=b", &"x".repeat(65)] {
            assert_eq!(
                sign(&v1(), &r, 1, Some(bad)),
                Err(Error::InvalidKeyName),
                "{bad}"
            );
        }
        assert!(sign(&v1(), &r, 1, Some("registryReadWrite")).is_ok());
        assert!(sign(&v1(), &r, 1, Some("a_b-c@d.e")).is_ok());
    }

    #[test]
    fn signer_errors_are_reported() {
        struct Broken;
        impl Signer for Broken {
            type Error = &'static str;
            fn sign(&self, _: &[&[u8]]) -> Result<Signature, Self::Error> {
                Err("tpm unavailable")
            }
        }
        let r = ResourceUri::Hub { host: HOST };
        assert_eq!(sign(&Broken, &r, 1, None), Err(Error::SignerFailed));
    }

    #[test]
    fn expiry_extremes() {
        let r = ResourceUri::Hub { host: HOST };
        let token = sign(&v1(), &r, u64::MAX, None).unwrap();
        assert_eq!(SasToken::parse(&token).unwrap().expiry(), u64::MAX);
        let token = sign(&v1(), &r, 0, None).unwrap();
        assert_eq!(SasToken::parse(&token).unwrap().expiry_raw(), "0");
    }
}
