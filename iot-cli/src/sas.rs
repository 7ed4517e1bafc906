//! `iot sas`: sign, verify and inspect SAS tokens; also `iot dps derive-key`.
//!
//! Every decision is made by `iot-sas`; this module reads arguments and the clock, and prints.
//! Keys are never printed, and a signature only as its first 6 characters (`inspect`).

use clap::Subcommand;
use iot_sas::{
    Error, KeySlot, SasToken, SharedAccessKey, Verifier, derive_device_key, encode_resource,
    expiry_from_ttl,
};
use serde_json::json;

use crate::Exit;
use crate::output::{bad_input, now_or, print_json};

/// `iot sas ...`
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Sign a token and print it (only the token). Exit 0 signed, 2 bad usage (bad base64 key,
    /// invalid policy name, empty resource).
    ///
    /// The resource is the plain one, e.g. `myhub.azure-devices.net/devices/dev1` or
    /// `0ne00000A0A/registrations/reg1`; it is encoded whole with the canonical encoder (RFC 3986
    /// unreserved set, upper-case hex, so `/` becomes `%2F`), like the python device SDK.
    Sign {
        /// Plain resource, e.g. `myhub.azure-devices.net/devices/dev1`.
        #[arg(long)]
        resource: String,
        /// Base64 key (device, module, policy, enrollment or derived key).
        #[arg(long)]
        key: String,
        /// Expiry in Unix seconds.
        #[arg(long, required_unless_present = "ttl", conflicts_with = "ttl")]
        expiry: Option<u64>,
        /// Lifetime in seconds from now (saturating).
        #[arg(long)]
        ttl: Option<u64>,
        /// Policy / key name, written as `skn` (e.g. `iothubowner`, `registration` for DPS).
        #[arg(long)]
        policy: Option<String>,
        /// Use this Unix time as "now" for --ttl instead of the clock.
        #[arg(long)]
        now: Option<u64>,
        /// Print one JSON object: {"token":..,"expiry":..}.
        #[arg(long)]
        json: bool,
    },
    /// Verify a token: MAC with the key (then the secondary key), expiry with clock skew, and
    /// optionally the resource (path-segment prefix, case-insensitive). Exit 0 accepted,
    /// 1 rejected with the reason printed (a malformed token text is also a rejection:
    /// "rejected: malformed token: ..."), 2 bad usage (for example a key that is not base64).
    Verify {
        /// The token text, `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`.
        #[arg(long)]
        token: String,
        /// Base64 primary key.
        #[arg(long)]
        key: String,
        /// Base64 secondary key, tried when the primary key does not match.
        #[arg(long)]
        secondary_key: Option<String>,
        /// Plain resource being accessed, e.g. `myhub.azure-devices.net/devices/dev1`.
        #[arg(long)]
        resource: Option<String>,
        /// Check at this Unix time instead of the clock.
        #[arg(long)]
        now: Option<u64>,
        /// Tolerated clock skew in seconds.
        #[arg(long, default_value_t = iot_sas::DEFAULT_SKEW_SECS)]
        skew: u64,
        /// Print one JSON object: {"accepted":true,"key":"primary","expiry":..} or
        /// {"accepted":false,"code":..,"reason":..}.
        #[arg(long)]
        json: bool,
    },
    /// Show a token's fields (the signature truncated). Exit 0 well-formed, 1 malformed (the
    /// reason is printed).
    Inspect {
        /// The token text.
        #[arg(long)]
        token: String,
        /// Report "expired" relative to this Unix time instead of the clock.
        #[arg(long)]
        now: Option<u64>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: Command) -> Exit {
    match cmd {
        Command::Sign {
            resource,
            key,
            expiry,
            ttl,
            policy,
            now,
            json,
        } => {
            let expiry = expiry.unwrap_or_else(|| expiry_from_ttl(now_or(now), ttl.unwrap_or(0)));
            sign(&resource, &key, expiry, policy.as_deref(), json)
        }
        Command::Verify {
            token,
            key,
            secondary_key,
            resource,
            now,
            skew,
            json,
        } => {
            let keys = (
                parse_key("--key", &key),
                secondary_key.map(|k| parse_key("--secondary-key", &k)),
            );
            let primary = match keys.0 {
                Ok(key) => key,
                Err(exit) => return exit,
            };
            let secondary = match keys.1.transpose() {
                Ok(key) => key,
                Err(exit) => return exit,
            };
            let verifier = Verifier::new(primary, secondary).with_skew(skew);
            verify(&verifier, &token, resource.as_deref(), now_or(now), json)
        }
        Command::Inspect { token, now, json } => inspect(&token, now_or(now), json),
    }
}

/// `iot dps derive-key`: the group-enrollment derived device key (reference §3), base64 only.
pub(crate) fn derive_key(group_key: &str, registration_id: &str, json: bool) -> Exit {
    let group = match parse_key("--group-key", group_key) {
        Ok(key) => key,
        Err(exit) => return exit,
    };
    if registration_id.is_empty() {
        return bad_input("--registration-id must not be empty");
    }
    let derived = derive_device_key(&group, registration_id);
    let mut buf = [0u8; 44];
    let Ok(text) = derived.encode_base64(&mut buf) else {
        return bad_input("derived key does not fit");
    };
    if json {
        print_json(&json!({ "key": text, "registration_id": registration_id }));
    } else {
        println!("{text}");
    }
    Exit::Ok
}

fn parse_key(flag: &str, text: &str) -> Result<SharedAccessKey, Exit> {
    SharedAccessKey::from_base64(text).map_err(|err| bad_input(format_args!("{flag}: {err}")))
}

fn sign(resource: &str, key: &str, expiry: u64, policy: Option<&str>, json: bool) -> Exit {
    let key = match parse_key("--key", key) {
        Ok(key) => key,
        Err(exit) => return exit,
    };
    let sr = encode_resource(resource).to_string();
    let mut buf = vec![0u8; sr.len() + 256];
    match iot_sas::sign_encoded_into(&key, &sr, expiry, policy, &mut buf) {
        Ok(token) if json => print_json(&json!({ "token": token, "expiry": expiry })),
        Ok(token) => println!("{token}"),
        Err(Error::EmptyValue { .. }) => return bad_input("--resource must not be empty"),
        Err(Error::InvalidKeyName) => {
            return bad_input(format_args!("--policy: {}", Error::InvalidKeyName));
        }
        Err(err) => return bad_input(err),
    }
    Exit::Ok
}

/// A short machine-readable name for a rejection.
fn code(err: &Error) -> &'static str {
    match err {
        Error::SignatureMismatch => "signature_mismatch",
        Error::Expired { .. } => "expired",
        Error::ResourceMismatch { .. } => "resource_mismatch",
        _ => "malformed_token",
    }
}

fn verify(verifier: &Verifier, text: &str, resource: Option<&str>, now: u64, json: bool) -> Exit {
    let result = SasToken::parse(text)
        .map_err(|err| (code(&err), format!("malformed token: {err}")))
        .and_then(|token| {
            verifier.verify(&token, resource, now).map_err(|err| {
                let reason = match (&err, resource) {
                    (Error::ResourceMismatch { .. }, Some(resource)) => {
                        format!(
                            "{err}: token is for `{}`, requested `{resource}`",
                            token.resource_raw()
                        )
                    }
                    _ => err.to_string(),
                };
                (code(&err), reason)
            })
        });
    match result {
        Ok(verified) => {
            let key = match verified.key {
                KeySlot::Primary => "primary",
                KeySlot::Secondary => "secondary",
            };
            if json {
                print_json(&json!({ "accepted": true, "key": key, "expiry": verified.expiry }));
            } else {
                println!("accepted: {key} key, expires at {}", verified.expiry);
            }
            Exit::Ok
        }
        Err((code, reason)) => {
            if json {
                print_json(&json!({ "accepted": false, "code": code, "reason": reason }));
            } else {
                println!("rejected: {reason}");
            }
            Exit::Rejected
        }
    }
}

fn inspect(text: &str, now: u64, json: bool) -> Exit {
    let token = match SasToken::parse(text) {
        Ok(token) => token,
        Err(err) => {
            if json {
                print_json(&json!({ "valid": false, "reason": format!("malformed token: {err}") }));
            } else {
                println!("malformed token: {err}");
            }
            return Exit::Rejected;
        }
    };
    let sig = token.signature_raw();
    let sig_prefix = format!("{}...", sig.get(..6).unwrap_or(""));
    let decoded = percent_decode_lossy(token.resource_raw());
    let expired = token.expiry() < now;
    if json {
        print_json(&json!({
            "valid": true,
            "resource": token.resource_raw(),
            "resource_decoded": decoded,
            "signature": sig_prefix,
            "expiry": token.expiry(),
            "expired": expired,
            "key_name": token.key_name(),
        }));
    } else {
        println!("resource:         {}", token.resource_raw());
        println!("resource decoded: {decoded}");
        println!("signature:        {sig_prefix}");
        println!(
            "expiry:           {}{}",
            token.expiry(),
            if expired { " (expired)" } else { "" }
        );
        println!("key name:         {}", token.key_name().unwrap_or("-"));
    }
    Exit::Ok
}

/// One level of `%XX` decoding for display (invalid UTF-8 shown with U+FFFD).
fn percent_decode_lossy(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex
            .filter(|_| byte == b'%')
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
