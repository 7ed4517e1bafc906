//! AMQP SASL PLAIN user names (azure-iot-protocol.md §1.6, §6.2; Microsoft Learn "Control
//! access to IoT Hub by using shared access signatures", AMQP section):
//!
//! * `{deviceId}@sas.{iothubName}` for device-scoped tokens,
//! * `{deviceId}/modules/{moduleId}@sas.{iothubName}` for module-scoped tokens (the form
//!   Azure IoT Edge's hub accepts, its `SaslIdentityHelper`),
//! * `{policyName}@sas.root.{iothubName}` for hub-level (policy) tokens.
//!
//! The password is the SAS token. Hub names hold no `@` and no `.`, so the user name is split at
//! its last `@sas.`; device IDs may themselves contain `@` (§4), but neither device nor module
//! IDs contain `/`, so a `/` in the identity part is the module form or an error.

use crate::error::Error;

/// Who an AMQP SASL PLAIN user name claims to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslUserName<'a> {
    /// `{deviceId}@sas.{hub}`, or `{deviceId}/modules/{moduleId}@sas.{hub}`: the password is
    /// a token for this device, or for this module of it.
    Device {
        /// The device ID.
        device_id: &'a str,
        /// The module ID, for the module form.
        module_id: Option<&'a str>,
        /// The hub name (or host name) as written.
        hub: &'a str,
    },
    /// `{policy}@sas.root.{hub}`: the password is a token signed with this policy's key.
    Policy {
        /// The shared access policy name.
        policy: &'a str,
        /// The hub name (or host name) as written.
        hub: &'a str,
    },
}

impl<'a> SaslUserName<'a> {
    /// Parses a SASL PLAIN user name.
    ///
    /// ```
    /// use iot_hub_auth::SaslUserName;
    /// assert_eq!(
    ///     SaslUserName::parse("dev@1@sas.myhub").unwrap(),
    ///     SaslUserName::Device { device_id: "dev@1", module_id: None, hub: "myhub" }
    /// );
    /// assert_eq!(
    ///     SaslUserName::parse("dev1/modules/mod1@sas.myhub").unwrap(),
    ///     SaslUserName::Device { device_id: "dev1", module_id: Some("mod1"), hub: "myhub" }
    /// );
    /// assert_eq!(
    ///     SaslUserName::parse("iothubowner@sas.root.myhub").unwrap(),
    ///     SaslUserName::Policy { policy: "iothubowner", hub: "myhub" }
    /// );
    /// ```
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        let bad = |reason| Error::MalformedSaslUserName { reason };
        let (who, hub) = text.rsplit_once("@sas.").ok_or(bad(
            "expected {deviceId}@sas.{hub} or {policy}@sas.root.{hub}",
        ))?;
        if who.is_empty() {
            return Err(bad("empty device ID or policy name"));
        }
        let parsed = match hub.strip_prefix("root.") {
            Some(hub) => Self::Policy { policy: who, hub },
            None => {
                let (device_id, module_id) = match who.split_once('/') {
                    None => (who, None),
                    Some((device_id, rest)) => match rest.strip_prefix("modules/") {
                        Some(module_id)
                            if !device_id.is_empty()
                                && !module_id.is_empty()
                                && !module_id.contains('/') =>
                        {
                            (device_id, Some(module_id))
                        }
                        _ => {
                            return Err(bad(
                                "expected {deviceId}/modules/{moduleId}@sas.{hub} for a module",
                            ));
                        }
                    },
                };
                Self::Device {
                    device_id,
                    module_id,
                    hub,
                }
            }
        };
        if parsed.hub().is_empty() {
            return Err(bad("empty hub name"));
        }
        Ok(parsed)
    }

    /// The hub part.
    pub fn hub(&self) -> &'a str {
        match *self {
            Self::Device { hub, .. } | Self::Policy { hub, .. } => hub,
        }
    }

    /// Whether the hub part names the hub with this host name: either the hub name (first
    /// label, as documented) or the whole host name, ASCII case-insensitively.
    pub fn names_hub(&self, host_name: &str) -> bool {
        let hub = self.hub();
        hub.eq_ignore_ascii_case(crate::identifier::hub_name(host_name))
            || hub.eq_ignore_ascii_case(host_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let d = SaslUserName::parse("d@sas.hub").unwrap();
        assert_eq!(
            d,
            SaslUserName::Device {
                device_id: "d",
                module_id: None,
                hub: "hub"
            }
        );
        assert_eq!(
            SaslUserName::parse("d@x/modules/m(1)@sas.hub").unwrap(),
            SaslUserName::Device {
                device_id: "d@x",
                module_id: Some("m(1)"),
                hub: "hub"
            }
        );
        assert!(d.names_hub("HUB.azure-devices.net"));
        assert!(!d.names_hub("other.azure-devices.net"));
        let full = SaslUserName::parse("d@sas.hub.azure-devices.net").unwrap();
        assert!(full.names_hub("hub.azure-devices.net"));
        let p = SaslUserName::parse("service@sas.root.hub").unwrap();
        assert_eq!(
            p,
            SaslUserName::Policy {
                policy: "service",
                hub: "hub"
            }
        );
        for bad in [
            "",
            "d",
            "@sas.hub",
            "d@sas.",
            "p@sas.root.",
            "d@sasx.hub",
            "d/modules/@sas.hub",
            "/modules/m@sas.hub",
            "d/m@sas.hub",
            "d/modules/m/x@sas.hub",
            "d/module/m@sas.hub",
        ] {
            assert!(SaslUserName::parse(bad).is_err(), "{bad}");
        }
    }
}
