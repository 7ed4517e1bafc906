//! `iot sas`: sign, verify and inspect SAS tokens; also `iot dps derive-key`.
//!
//! Every decision is made by `iot-sas` (token rules: reference §1.1-§1.4; derived keys: §3);
//! this module reads arguments, secrets and the clock, and prints. Keys are never printed, and
//! a signature only as its first 6 characters (`inspect`).

use clap::Subcommand;
use iot_sas::{Error, SasToken, SharedAccessKey, Verifier, derive_device_key, percent_encode};
use serde_json::json;

use crate::input::{Secret, one_stdin, secret, secret_opt};
use crate::output::warn;
use crate::when::{self, now_or, parse_time, parse_ttl, put_time, show};
use crate::{Exit, Failure, Out, Outcome};

/// `iot sas ...` (no `Debug`: the arguments hold keys and tokens)
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Sign a token and print it (only the token).
    ///
    /// The resource is the plain one, e.g. `myhub.azure-devices.net/devices/dev1` or
    /// `0ne00000A0A/registrations/reg1`; it is encoded whole with the canonical encoder
    /// (RFC 3986 unreserved set, upper-case hex, so `/` becomes `%2F`), like the python device
    /// SDK. Warns (exit 0) when the token is already expired or the resource looks
    /// percent-encoded already.
    Sign {
        /// Plain resource, e.g. `myhub.azure-devices.net/devices/dev1`.
        #[arg(short, long)]
        resource: String,
        /// Base64 key (device, module, policy, enrollment or derived): the value, @FILE or -
        /// for stdin.
        #[arg(short, long, env = "IOT_KEY", hide_env_values = true)]
        key: String,
        /// Expiry: Unix seconds or RFC 3339 (2026-01-01T00:00:00Z).
        #[arg(short, long, value_parser = parse_time, required_unless_present = "ttl",
              conflicts_with = "ttl")]
        expiry: Option<u64>,
        /// Lifetime from now: seconds, or a duration such as 1h or 30d.
        #[arg(long, value_parser = parse_ttl)]
        ttl: Option<u64>,
        /// Policy / key name, written as `skn` (e.g. `iothubowner`, `registration` for DPS).
        #[arg(short, long)]
        policy: Option<String>,
        /// Use this time as "now" (Unix seconds or RFC 3339) instead of the clock.
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
    },
    /// Verify a token: the MAC with the key (then the secondary key), the expiry with clock
    /// skew, and optionally the resource (path-segment prefix, case-insensitive).
    ///
    /// Exit 0 accepted; 1 rejected with the reason printed (a malformed token text is a
    /// rejection too); 2 bad usage (for example a key that is not base64).
    Verify {
        /// The token, `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`: the value, @FILE or
        /// - for stdin.
        #[arg(short, long, env = "IOT_TOKEN", hide_env_values = true)]
        token: String,
        /// Base64 primary key: the value, @FILE or - for stdin.
        #[arg(short, long, env = "IOT_KEY", hide_env_values = true)]
        key: String,
        /// Base64 secondary key, tried when the primary key does not match: the value, @FILE or
        /// - for stdin.
        #[arg(long, env = "IOT_SECONDARY_KEY", hide_env_values = true)]
        secondary_key: Option<String>,
        /// Plain resource being accessed, e.g. `myhub.azure-devices.net/devices/dev1`.
        #[arg(short, long)]
        resource: Option<String>,
        /// Check at this time (Unix seconds or RFC 3339) instead of the clock.
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
        /// Tolerated clock skew: seconds or a duration such as 5m.
        #[arg(long, default_value_t = iot_sas::DEFAULT_SKEW_SECS, value_parser = parse_ttl)]
        skew: u64,
    },
    /// Show a token's fields (the signature truncated). Exit 0 well-formed, 1 malformed.
    Inspect {
        /// The token text: the value, @FILE or - for stdin.
        #[arg(short, long, env = "IOT_TOKEN", hide_env_values = true)]
        token: String,
        /// Report "expired" relative to this time (Unix seconds or RFC 3339) instead of the clock.
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
    },
}

/// Runs one `iot sas` command.
pub(crate) fn run(cmd: Command, out: Out) -> Outcome {
    match cmd {
        Command::Sign {
            resource,
            key,
            expiry,
            ttl,
            policy,
            now,
        } => {
            let now = now_or(now);
            let expiry = match (expiry, ttl) {
                (Some(expiry), _) => expiry,
                (None, ttl) => when::add(now, ttl.unwrap_or(0), "--ttl")?,
            };
            let key = parse_key("--key", &secret("--key", &key)?)?;
            sign(&resource, &key, expiry, policy.as_deref(), now, out)
        }
        Command::Verify {
            token,
            key,
            secondary_key,
            resource,
            now,
            skew,
        } => {
            one_stdin(&[
                ("--token", Some(&token)),
                ("--key", Some(&key)),
                ("--secondary-key", secondary_key.as_deref()),
            ])?;
            let primary = parse_key("--key", &secret("--key", &key)?)?;
            let secondary = secret_opt("--secondary-key", secondary_key.as_deref())?
                .map(|k| parse_key("--secondary-key", &k))
                .transpose()?;
            let token = secret("--token", &token)?;
            let verifier = Verifier::new(primary, secondary).with_skew(skew);
            verify(&verifier, &token, resource.as_deref(), now_or(now), out)
        }
        Command::Inspect { token, now } => inspect(&secret("--token", &token)?, now_or(now), out),
    }
}

/// `iot dps derive-key`: the group-enrollment derived device key (reference §3), base64 only.
pub(crate) fn derive_key(group_key: &str, registration_id: &str, out: Out) -> Outcome {
    iot_dps_service::validate_registration_id(registration_id).map_err(|err| {
        Failure::bad(
            "invalid_registration_id",
            format_args!("--registration-id: {err}"),
        )
    })?;
    let group = parse_key("--group-key", &secret("--group-key", group_key)?)?;
    let derived = derive_device_key(&group, registration_id);
    let mut buf = [0u8; 44];
    let text = derived
        .encode_base64(&mut buf)
        .map_err(|err| Failure::bad(err.code(), err))?;
    out.print(
        || format!("{text}\n"),
        || json!({ "key": text, "registrationId": registration_id }),
    )?;
    Ok(Exit::Ok)
}

fn parse_key(flag: &str, text: &Secret) -> Result<SharedAccessKey, Failure> {
    SharedAccessKey::from_base64(text)
        .map_err(|err| Failure::bad(err.code(), format_args!("{flag}: {err}")))
}

fn sign(
    resource: &str,
    key: &SharedAccessKey,
    expiry: u64,
    policy: Option<&str>,
    now: u64,
    out: Out,
) -> Outcome {
    if resource.is_empty() {
        return Err(Failure::usage("--resource must not be empty"));
    }
    let sr = percent_encode(resource).to_string();
    let mut buf = vec![0u8; sr.len() + 256];
    let token =
        iot_sas::sign_encoded_into(key, &sr, expiry, policy, &mut buf).map_err(
            |err| match err {
                Error::InvalidKeyName => Failure::bad(err.code(), format_args!("--policy: {err}")),
                other => Failure::bad(other.code(), other),
            },
        )?;
    if expiry < now {
        warn(format_args!(
            "the token is already expired: expiry {} is before now {}",
            show(expiry),
            show(now)
        ));
    }
    if looks_encoded(resource) {
        warn(
            "--resource looks percent-encoded already (it holds %XX escapes); it is encoded \
             again, so `%` becomes `%25`: pass the plain resource",
        );
    }
    out.print(
        || format!("{token}\n"),
        || {
            let mut v = json!({ "token": token });
            put_time(&mut v, "expiry", expiry);
            v
        },
    )?;
    Ok(Exit::Ok)
}

/// Whether `text` holds a `%XX` escape (hex digits either case).
fn looks_encoded(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| matches!(w, [b'%', a, b] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit()))
}

fn verify(verifier: &Verifier, text: &str, resource: Option<&str>, now: u64, out: Out) -> Outcome {
    let token = match SasToken::parse(text) {
        Ok(token) => token,
        Err(err) => {
            let message = format!("malformed token: {err}");
            return out.rejected("rejected", err.code(), &message, json!({}));
        }
    };
    match verifier.verify(&token, resource, now) {
        Ok(verified) => {
            let key = verified.key.as_str();
            let mut fields = json!({ "key": key });
            put_time(&mut fields, "expiry", verified.expiry);
            let text = format!("accepted: {key} key, expires {}", show(verified.expiry));
            out.accepted(&text, fields)
        }
        Err(err) => {
            let message = match (&err, resource) {
                (Error::ResourceMismatch { segment }, Some(requested)) => {
                    resource_mismatch(token.resource_raw(), requested, *segment)
                }
                (Error::Expired { expiry, now }, _) => format!(
                    "token expired at {}, now is {} (beyond the tolerated clock skew of {} s)",
                    show(*expiry),
                    show(*now),
                    verifier.skew_secs()
                ),
                _ => err.to_string(),
            };
            out.rejected("rejected", err.code(), &message, json!({}))
        }
    }
}

/// The resource mismatch in a person's words: segments counted from 1, the token's `sr`
/// decoded once so that it reads like the plain requested resource it was compared with.
fn resource_mismatch(sr_raw: &str, requested: &str, segment: usize) -> String {
    let token_side = decode(sr_raw);
    let nth = |text: &str| {
        text.trim_end_matches('/')
            .split('/')
            .nth(segment)
            .map_or_else(|| "nothing".to_owned(), |s| format!("`{s}`"))
    };
    format!(
        "the token's resource `{token_side}` does not cover the requested `{requested}`: path \
         segment {} differs (token {}, requested {})",
        segment + 1,
        nth(&token_side),
        nth(requested)
    )
}

/// One level of `%XX` decoding, for display (invalid UTF-8 shown as U+FFFD).
fn decode(text: &str) -> String {
    iot_sas::percent_decode(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn inspect(text: &str, now: u64, out: Out) -> Outcome {
    let token = match SasToken::parse(text) {
        Ok(token) => token,
        Err(err) => {
            return out.rejected("malformed token", err.code(), &err.to_string(), json!({}));
        }
    };
    let sig = token.signature_raw();
    let sig_prefix = format!("{}...", sig.get(..6).unwrap_or(""));
    let decoded = decode(token.resource_raw());
    let expired = token.expiry() < now;
    let mut fields = json!({
        "resource": token.resource_raw(),
        "resourceDecoded": decoded,
        "signature": sig_prefix,
        "expired": expired,
        "keyName": token.key_name(),
    });
    put_time(&mut fields, "expiry", token.expiry());
    let text = format!(
        "resource:         {}\nresource decoded: {decoded}\nsignature:        {sig_prefix}\n\
         expiry:           {}{}\nkey name:         {}",
        token.resource_raw(),
        show(token.expiry()),
        if expired { ", expired" } else { "" },
        token.key_name().unwrap_or("-"),
    );
    out.accepted(&text, fields)
}
