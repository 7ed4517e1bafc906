//! Shared access policies and their rights (azure-iot-protocol.md §1.6; Microsoft Learn
//! "Control access to IoT Hub by using shared access signatures").
//!
//! JSON shape as `az iot hub policy list` / the ARM `authorizationPolicies` array print it:
//! `{"keyName": "iothubowner", "primaryKey": "...", "secondaryKey": "...",
//!   "rights": "RegistryWrite, ServiceConnect, DeviceConnect"}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// A set of IoT Hub access rights (azure-iot-protocol.md §1.6).
///
/// `RegistryWrite` includes `RegistryRead` (C# service SDK bit values: RegistryRead = 1,
/// RegistryWrite = 3). Serialized as Azure's comma-separated text.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AccessRights(u8);

impl AccessRights {
    /// No rights.
    pub const NONE: Self = Self(0);
    /// `RegistryRead`: read the identity registry.
    pub const REGISTRY_READ: Self = Self(1);
    /// `RegistryWrite`: read and write the identity registry (includes `RegistryRead`).
    pub const REGISTRY_WRITE: Self = Self(1 | 2);
    /// `ServiceConnect`: service-facing endpoints (C2D, D2C receive, twins, methods).
    pub const SERVICE_CONNECT: Self = Self(4);
    /// `DeviceConnect`: device-facing endpoints; needed for a policy token to connect a device.
    pub const DEVICE_CONNECT: Self = Self(8);
    /// Everything (`iothubowner`).
    pub const ALL: Self = Self(15);

    const NAMES: [(&'static str, Self); 4] = [
        ("RegistryWrite", Self::REGISTRY_WRITE),
        ("RegistryRead", Self::REGISTRY_READ),
        ("ServiceConnect", Self::SERVICE_CONNECT),
        ("DeviceConnect", Self::DEVICE_CONNECT),
    ];

    /// Whether every right in `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses Azure's text form: names separated by `,` and/or spaces, case-insensitive
    /// (`"RegistryWrite, ServiceConnect, DeviceConnect"`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut rights = Self::NONE;
        for word in text.split([',', ' ']).filter(|w| !w.is_empty()) {
            let Some((_, right)) = Self::NAMES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(word))
            else {
                return Err(Error::UnknownRight { right: word.into() });
            };
            rights = rights.union(*right);
        }
        Ok(rights)
    }
}

impl core::ops::BitOr for AccessRights {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl core::fmt::Display for AccessRights {
    /// Azure's text form, e.g. `RegistryWrite, ServiceConnect, DeviceConnect`; `None` if empty.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut rest = *self;
        let mut first = true;
        for (name, right) in Self::NAMES {
            if right.0 != 0 && rest.contains(right) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
                rest = Self(rest.0 & !right.0);
            }
        }
        if first {
            f.write_str("None")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for AccessRights {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AccessRights({self})")
    }
}

impl Serialize for AccessRights {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccessRights {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A shared access policy of the hub, as configured (keys as base64 text).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedAccessPolicy {
    /// `keyName`: the policy name that tokens carry in `skn` (e.g. `iothubowner`, `device`).
    pub key_name: String,
    /// `primaryKey`: base64, 16..=64 bytes.
    pub primary_key: String,
    /// `secondaryKey`: base64, 16..=64 bytes.
    pub secondary_key: String,
    /// `rights`.
    pub rights: AccessRights,
}

impl core::fmt::Debug for SharedAccessPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedAccessPolicy")
            .field("key_name", &self.key_name)
            .field("keys", &"<redacted>")
            .field("rights", &self.rights)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_rights() {
        let r = AccessRights::parse("RegistryWrite, ServiceConnect, DeviceConnect").unwrap();
        assert_eq!(r, AccessRights::ALL);
        assert_eq!(
            r.to_string(),
            "RegistryWrite, ServiceConnect, DeviceConnect"
        );
        let r = AccessRights::parse("registryread").unwrap();
        assert!(r.contains(AccessRights::REGISTRY_READ));
        assert!(!r.contains(AccessRights::REGISTRY_WRITE));
        assert_eq!(r.to_string(), "RegistryRead");
        assert!(AccessRights::REGISTRY_WRITE.contains(AccessRights::REGISTRY_READ));
        assert_eq!(AccessRights::parse("").unwrap().to_string(), "None");
        let err = AccessRights::parse("DeviceConnect, Admin").unwrap_err();
        assert_eq!(
            err,
            Error::UnknownRight {
                right: "Admin".into()
            }
        );
    }

    #[test]
    fn az_policy_json() {
        let json = r#"{"keyName":"device","primaryKey":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "secondaryKey":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=","rights":"DeviceConnect"}"#;
        let p: SharedAccessPolicy = serde_json::from_str(json).unwrap();
        assert_eq!(p.rights, AccessRights::DEVICE_CONNECT);
        assert!(!format!("{p:?}").contains("AAEC"));
    }
}
