//! MQTT CONNECT identity fields (azure-iot-protocol.md §6.1; Microsoft Learn "Communicate with
//! an IoT hub using the MQTT protocol").
//!
//! * Client ID: `{deviceId}` or `{deviceId}/{moduleId}`.
//! * User name: `{hubHost}/{deviceId}/?api-version={ver}` or
//!   `{hubHost}/{deviceId}/{moduleId}/?api-version={ver}`, optionally followed by
//!   `&DeviceClientType=...`, `&model-id=...`, `&auth-chain=...`. Host and IDs are raw (never
//!   URL-encoded, §4); only query values are percent-encoded.
//!
//! Parsing borrows from the input and never allocates.

use std::borrow::Cow;

use crate::error::Error;

/// A parsed MQTT client ID: `{deviceId}` or `{deviceId}/{moduleId}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqttClientId<'a> {
    /// The device ID.
    pub device_id: &'a str,
    /// The module ID, for module connections.
    pub module_id: Option<&'a str>,
}

impl<'a> MqttClientId<'a> {
    /// Splits a client ID at its only `/` (IDs cannot contain `/`, §4). Character-set checks
    /// are left to the registry lookup: an ID that cannot exist is simply not found.
    pub fn parse(client_id: &'a str) -> Result<Self, Error> {
        let bad = |reason| Error::MalformedUserName { reason };
        // The `memchr` crate's search: several times cheaper than `str::split_once` on IDs of
        // a few dozen bytes, and this runs on every MQTT connect.
        let (device_id, module_id) = match memchr::memchr(b'/', client_id.as_bytes()) {
            None => (client_id, None),
            Some(at) => (
                client_id.get(..at).unwrap_or_default(),
                client_id.get(at + 1..),
            ),
        };
        if device_id.is_empty() {
            return Err(bad("client ID has an empty device ID"));
        }
        if module_id.is_some_and(|m| m.is_empty() || m.contains('/')) {
            return Err(bad("client ID must be {deviceId} or {deviceId}/{moduleId}"));
        }
        Ok(Self {
            device_id,
            module_id,
        })
    }
}

/// A parsed IoT Hub MQTT user name, borrowing the input.
///
/// ```
/// use iot_hub_auth::MqttUserName;
/// let u = MqttUserName::parse(
///     "myhub.azure-devices.net/dev-1/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.5.0",
/// )
/// .unwrap();
/// assert_eq!((u.host, u.device_id, u.module_id), ("myhub.azure-devices.net", "dev-1", None));
/// assert_eq!(u.api_version, Some("2021-04-12"));
/// assert_eq!(u.device_client_type().as_deref(), Some("azsdk-c/1.5.0"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqttUserName<'a> {
    /// The hub host name as written (compare case-insensitively).
    pub host: &'a str,
    /// The device ID.
    pub device_id: &'a str,
    /// The module ID, for module connections.
    pub module_id: Option<&'a str>,
    /// The whole query after `?` (may be empty), raw.
    pub query: &'a str,
    /// `api-version`, raw.
    pub api_version: Option<&'a str>,
    /// `DeviceClientType`, raw (percent-encoded); see [`Self::device_client_type`].
    pub device_client_type_raw: Option<&'a str>,
    /// `model-id` (IoT Plug and Play), raw; see [`Self::model_id`].
    pub model_id_raw: Option<&'a str>,
    /// `auth-chain` (nested IoT Edge), raw.
    pub auth_chain_raw: Option<&'a str>,
}

/// Longest user name accepted (host 253 + two IDs of 128 + a generous query).
pub const MAX_USERNAME_LEN: usize = 4096;

impl<'a> MqttUserName<'a> {
    /// Parses `{host}/{deviceId}[/{moduleId}]/?{query}`.
    ///
    /// A device or module ID that itself begins with `?` makes the text ambiguous; the first
    /// segment after the device ID that begins with `?` is taken as the query. The connect
    /// decision ([`crate::authorize`]) resolves the ambiguity with the client ID instead.
    ///
    /// Known query keys may appear at most once; unknown keys are kept in [`Self::query`].
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        let bad = |reason| Error::MalformedUserName { reason };
        if text.len() > MAX_USERNAME_LEN {
            return Err(bad("longer than 4096 bytes"));
        }
        let (host, rest) = text
            .split_once('/')
            .ok_or_else(|| bad("expected {host}/{deviceId}/?api-version=..."))?;
        if host.is_empty() {
            return Err(bad("empty host name"));
        }
        let (device_id, rest) = rest.split_once('/').unwrap_or((rest, ""));
        if device_id.is_empty() {
            return Err(bad("empty device ID"));
        }
        let (module_id, query) = split_tail(rest)?;
        Self::with_parts(host, device_id, module_id, query)
    }

    /// Parses a user name whose identity part is known to be exactly `client_id` (the MQTT
    /// client ID): `{host}/{client_id}/?{query}`. Returns `None` when the text does not have
    /// that shape (then [`Self::parse`] tells what is wrong or what disagrees).
    pub fn parse_with_client_id(text: &'a str, client_id: &str) -> Option<Result<Self, Error>> {
        let (host, rest) = text.split_once('/')?;
        let tail = rest.strip_prefix(client_id)?;
        let query = match tail {
            "" | "/" => "",
            t => t.strip_prefix("/?")?,
        };
        let id = match MqttClientId::parse(&rest[..client_id.len()]) {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        if host.is_empty() {
            return Some(Err(Error::MalformedUserName {
                reason: "empty host name",
            }));
        }
        Some(Self::with_parts(host, id.device_id, id.module_id, query))
    }

    fn with_parts(
        host: &'a str,
        device_id: &'a str,
        module_id: Option<&'a str>,
        query: &'a str,
    ) -> Result<Self, Error> {
        let mut out = Self {
            host,
            device_id,
            module_id,
            query,
            api_version: None,
            device_client_type_raw: None,
            model_id_raw: None,
            auth_chain_raw: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "api-version" => &mut out.api_version,
                "DeviceClientType" => &mut out.device_client_type_raw,
                "model-id" => &mut out.model_id_raw,
                "auth-chain" => &mut out.auth_chain_raw,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(Error::MalformedUserName {
                    reason: "a query parameter appears twice",
                });
            }
        }
        Ok(out)
    }

    /// `DeviceClientType`, percent-decoded (allocates only if it holds escapes).
    pub fn device_client_type(&self) -> Option<Cow<'a, str>> {
        self.device_client_type_raw.map(decode)
    }

    /// `model-id`, percent-decoded (e.g. `dtmi:com:example:Thermostat;1`).
    pub fn model_id(&self) -> Option<Cow<'a, str>> {
        self.model_id_raw.map(decode)
    }

    /// The client ID this user name implies: `{deviceId}` or `{deviceId}/{moduleId}`.
    pub fn client_id(&self) -> MqttClientId<'a> {
        MqttClientId {
            device_id: self.device_id,
            module_id: self.module_id,
        }
    }
}

/// After `{deviceId}/`: `` (legacy, no query), `?{query}`, or `{moduleId}/?{query}` /
/// `{moduleId}` / `{moduleId}/`.
fn split_tail(rest: &str) -> Result<(Option<&str>, &str), Error> {
    let bad = |reason| Error::MalformedUserName { reason };
    if rest.is_empty() {
        return Ok((None, ""));
    }
    if let Some(query) = rest.strip_prefix('?') {
        return Ok((None, query));
    }
    let (module, after) = rest.split_once('/').unwrap_or((rest, ""));
    let query = if after.is_empty() {
        ""
    } else {
        after
            .strip_prefix('?')
            .ok_or_else(|| bad("expected /? after the module ID"))?
    };
    Ok((Some(module), query))
}

fn decode(raw: &str) -> Cow<'_, str> {
    iot_sas::percent_decode(raw).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_for_c_user_names() {
        // azure-sdk-for-c sdk/tests/iot/hub/test_az_iot_hub_client.c (reference §6.1).
        let u = MqttUserName::parse(
            "myiothub.azure-devices.net/my_device/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.0.0&model-id=dtmi%3AYOUR_COMPANY_NAME_HERE%3Asample_device%3B1",
        )
        .unwrap();
        assert_eq!(u.host, "myiothub.azure-devices.net");
        assert_eq!(u.device_id, "my_device");
        assert_eq!(u.module_id, None);
        assert_eq!(u.api_version, Some("2020-09-30"));
        assert_eq!(u.device_client_type().unwrap(), "azsdk-c/1.0.0");
        assert_eq!(
            u.model_id().unwrap(),
            "dtmi:YOUR_COMPANY_NAME_HERE:sample_device;1"
        );
        let m = MqttUserName::parse(
            "myiothub.azure-devices.net/my_device/my_module_id/?api-version=2020-09-30&DeviceClientType=azrtos",
        )
        .unwrap();
        assert_eq!(m.module_id, Some("my_module_id"));
        assert_eq!(m.device_client_type_raw, Some("azrtos"));
        assert_eq!(
            m.client_id(),
            MqttClientId::parse("my_device/my_module_id").unwrap()
        );
    }

    #[test]
    fn shapes_and_errors() {
        let u = MqttUserName::parse("h.net/d").unwrap();
        assert_eq!((u.device_id, u.module_id, u.query), ("d", None, ""));
        let u = MqttUserName::parse("h.net/d/?").unwrap();
        assert_eq!(u.api_version, None);
        let u = MqttUserName::parse("h.net/d/m").unwrap();
        assert_eq!(u.module_id, Some("m"));
        let u = MqttUserName::parse("h.net/d/?api-version=1&x=y&auth-chain=a%3Bb").unwrap();
        assert_eq!(u.auth_chain_raw, Some("a%3Bb"));
        for bad in [
            "",
            "h.net",
            "/d/?a",
            "h.net//?a",
            "h.net/d/m/x",
            "h.net/d/?api-version=1&api-version=2",
        ] {
            assert!(MqttUserName::parse(bad).is_err(), "{bad}");
        }
        assert!(MqttUserName::parse(&"a".repeat(5000)).is_err());
    }

    #[test]
    fn client_id_hint_resolves_question_mark_ids() {
        // A device ID may begin with `?`; only a module ID that does is ambiguous.
        assert_eq!(
            MqttUserName::parse("h.net/?dev/?api-version=1")
                .unwrap()
                .device_id,
            "?dev"
        );
        // Without a hint the `?m` segment reads as the query.
        let u = MqttUserName::parse("h.net/d/?m/?api-version=1").unwrap();
        assert_eq!((u.module_id, u.api_version), (None, None));
        let u = MqttUserName::parse_with_client_id("h.net/d/?m/?api-version=1", "d/?m")
            .unwrap()
            .unwrap();
        assert_eq!(
            (u.device_id, u.module_id, u.api_version),
            ("d", Some("?m"), Some("1"))
        );
        assert!(MqttUserName::parse_with_client_id("h.net/d/?api-version=1", "e").is_none());
        assert!(MqttUserName::parse_with_client_id("h.net/de/?a", "d").is_none());
    }

    #[test]
    fn client_ids() {
        assert_eq!(MqttClientId::parse("d").unwrap().module_id, None);
        assert_eq!(MqttClientId::parse("d/m").unwrap().module_id, Some("m"));
        for bad in ["", "/m", "d/", "d/m/x"] {
            assert!(MqttClientId::parse(bad).is_err(), "{bad}");
        }
    }
}
