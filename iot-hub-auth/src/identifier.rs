//! Identifier rules (azure-iot-protocol.md §4).
//!
//! Device and module IDs: case-sensitive, 1..=128 characters, ASCII alphanumerics plus
//! `- : . + % _ # * ? ! ( ) , = @ ; $ '`. The identity-registry doc lists the set without `:`
//! and `;`; the Event Grid schema pages and the C# service SDK's regex accept the union, so we
//! accept the union (IDs created through those paths exist in real hubs). `/` is never allowed,
//! which is what keeps `{deviceId}/{moduleId}` client IDs unambiguous.

use crate::error::{Error, IdKind, IdProblem};

/// Maximum length of a device or module ID (azure-iot-protocol.md §4).
pub const MAX_ID_LEN: usize = 128;
/// Maximum length of a shared access policy name (azure-iot-protocol.md §1.6, §4).
pub const MAX_POLICY_NAME_LEN: usize = 64;

/// The special characters allowed in device and module IDs besides ASCII alphanumerics.
pub const ID_SPECIAL_CHARS: &str = "-:.+%_#*?!(),=@;$'";

fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || ID_SPECIAL_CHARS.as_bytes().contains(&b)
}

fn invalid(kind: IdKind, id: &str, reason: IdProblem) -> Error {
    Error::InvalidId {
        kind,
        id: id.into(),
        reason,
    }
}

fn check_chars(kind: IdKind, id: &str, max: usize, ok: impl Fn(u8) -> bool) -> Result<(), Error> {
    if id.is_empty() {
        return Err(invalid(kind, id, IdProblem::Empty));
    }
    if id.len() > max {
        return Err(invalid(kind, id, IdProblem::TooLong { max }));
    }
    if let Some(ch) = id.chars().find(|&c| !c.is_ascii() || !ok(c as u8)) {
        return Err(invalid(kind, id, IdProblem::BadChar { ch }));
    }
    Ok(())
}

/// Checks an IoT Hub device ID (azure-iot-protocol.md §4).
///
/// ```
/// assert!(iot_hub_auth::validate_device_id("my-device_01").is_ok());
/// assert!(iot_hub_auth::validate_device_id("a/b").is_err());
/// ```
pub fn validate_device_id(id: &str) -> Result<(), Error> {
    check_chars(IdKind::Device, id, MAX_ID_LEN, is_id_char)
}

/// Checks an IoT Hub module ID (same rule as device IDs, azure-iot-protocol.md §4).
pub fn validate_module_id(id: &str) -> Result<(), Error> {
    check_chars(IdKind::Module, id, MAX_ID_LEN, is_id_char)
}

/// Checks a shared access policy name: 1..=64 of `A-Z a-z 0-9 _ - @ .` (C# service SDK regex,
/// azure-iot-protocol.md §4).
pub fn validate_policy_name(name: &str) -> Result<(), Error> {
    check_chars(IdKind::Policy, name, MAX_POLICY_NAME_LEN, |b| {
        b.is_ascii_alphanumeric() || b"_-@.".contains(&b)
    })
}

/// Checks a hub host name: DNS labels of `A-Z a-z 0-9 -`, separated by `.`, at most 253
/// characters, at least two labels (e.g. `myhub.azure-devices.net`).
pub fn validate_host_name(host: &str) -> Result<(), Error> {
    check_chars(IdKind::HostName, host, 253, |b| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
    })?;
    if !host.contains('.') {
        return Err(invalid(IdKind::HostName, host, IdProblem::SingleLabel));
    }
    if host
        .split('.')
        .any(|label| label.is_empty() || label.len() > 63)
    {
        return Err(invalid(IdKind::HostName, host, IdProblem::BadLabel));
    }
    Ok(())
}

/// The hub name: the first label of the host name (`myhub` for `myhub.azure-devices.net`),
/// as used in AMQP SASL user names (azure-iot-protocol.md §1.6).
pub fn hub_name(host: &str) -> &str {
    host.split('.').next().unwrap_or(host)
}

/// How an identity is named in messages and keys: `deviceId`, or `deviceId/moduleId` (the
/// MQTT client ID form, azure-iot-protocol.md §6.1).
pub(crate) fn display_id(device_id: &str, module_id: Option<&str>) -> String {
    match module_id {
        Some(m) => format!("{device_id}/{m}"),
        None => device_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_charset_and_length() {
        assert!(validate_device_id("a").is_ok());
        assert!(validate_device_id(&"a".repeat(128)).is_ok());
        assert!(validate_device_id("a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s").is_ok());
        let err = validate_device_id(&"a".repeat(129)).unwrap_err();
        assert!(err.to_string().contains("longer than 128"), "{err}");
        let cause = std::error::Error::source(&err).expect("InvalidId has a source");
        assert_eq!(
            cause.downcast_ref::<IdProblem>(),
            Some(&IdProblem::TooLong { max: MAX_ID_LEN })
        );
        assert_eq!(
            validate_device_id("a/b"),
            Err(Error::InvalidId {
                kind: IdKind::Device,
                id: "a/b".into(),
                reason: IdProblem::BadChar { ch: '/' },
            })
        );
        assert_eq!(
            validate_device_id("a/b").unwrap_err().to_string(),
            "invalid device ID \"a/b\": character '/' is not allowed"
        );
        assert!(validate_device_id("").is_err());
        for bad in [
            "a/b", "a b", "a&b", "a~b", "a\"b", "é", "a\0", "a\\b", "a<b",
        ] {
            let err = validate_device_id(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidId {
                        kind: IdKind::Device,
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn module_and_policy_names() {
        assert!(validate_module_id("$edgeHub").is_ok());
        assert!(validate_module_id("a/b").is_err());
        assert!(validate_policy_name("iothubowner").is_ok());
        assert!(validate_policy_name("a@b.c-d_e").is_ok());
        assert!(validate_policy_name("a b").is_err());
        assert!(validate_policy_name(&"p".repeat(65)).is_err());
    }

    #[test]
    fn host_names() {
        assert!(validate_host_name("myhub.azure-devices.net").is_ok());
        let reason = |host| match validate_host_name(host) {
            Err(Error::InvalidId { reason, .. }) => Some(reason),
            _ => None,
        };
        assert_eq!(reason("myhub"), Some(IdProblem::SingleLabel));
        assert_eq!(reason("my hub.net"), Some(IdProblem::BadChar { ch: ' ' }));
        assert_eq!(reason("a..b"), Some(IdProblem::BadLabel));
        assert_eq!(reason(""), Some(IdProblem::Empty));
        assert_eq!(hub_name("myhub.azure-devices.net"), "myhub");
    }
}
