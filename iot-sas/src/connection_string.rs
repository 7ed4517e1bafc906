//! Connection strings (reference §2): strict parsing into a typed enum; formatting back and
//! the redacting `Debug` are in `connection_string/format.rs`.

use crate::{ConnectionStringError, Error, ResourceUri, SasToken, SharedAccessKey};

/// Maximum length of a connection string (it may embed a token of up to
/// [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN) bytes).
pub const MAX_CONNECTION_STRING_LEN: usize = 8192;

/// Host-name suffix of DPS service instances (reference §2.1, public cloud).
const DPS_SUFFIX: &str = ".azure-devices-provisioning.net";

/// The keys this parser knows, exact case (reference §2.1).
const KEYS: [&str; 8] = [
    "HostName",
    "DeviceId",
    "ModuleId",
    "SharedAccessKey",
    "SharedAccessKeyName",
    "SharedAccessSignature",
    "GatewayHostName",
    "x509",
];
const HOST: usize = 0;
const DEVICE: usize = 1;
const MODULE: usize = 2;
const KEY: usize = 3;
const KEY_NAME: usize = 4;
const TOKEN: usize = 5;
const GATEWAY: usize = 6;
const X509: usize = 7;

/// How a device or module authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `SharedAccessKey=` (base64 text, checked when parsing). With `SharedAccessKeyName=` the
    /// key is a hub policy key and the csharp SDK signs hub-scoped tokens with `skn` (§1.5).
    SharedAccessKey {
        /// The key's base64 text.
        key: &'a str,
        /// `SharedAccessKeyName`, when the key is a policy key.
        key_name: Option<&'a str>,
    },
    /// `SharedAccessSignature=`: a complete, pre-made token.
    SharedAccessSignature(SasToken<'a>),
    /// `x509=true`: a client certificate, no secret in the string.
    X509,
}

/// A parsed connection string, borrowing its text.
///
/// Parsing rules (strict; each one decided against the SDK table of reference §2.2, see the
/// crate README, section "Connection strings"): `;`-separated `Key=value` segments, the value
/// running from the first `=` to the next `;`; keys case-sensitive; unknown, duplicated and
/// empty keys or values are errors; required keys are named in the error; `x509` must be exactly
/// `true`; a key, a token and `x509` are mutually exclusive.
///
/// `Display` writes the string back in canonical key order. It therefore contains the secret
/// key: treat the output like the input. `Debug` redacts keys and signatures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ConnectionString<'a> {
    /// `HostName=h;DeviceId=d;(SharedAccessKey=k|SharedAccessSignature=t|x509=true)[;GatewayHostName=g]`.
    Device {
        /// IoT hub host name (used for `sr` even behind a gateway).
        host: &'a str,
        /// Device ID.
        device_id: &'a str,
        /// The credential.
        credential: Credential<'a>,
        /// `GatewayHostName`: the transparent gateway (IoT Edge) to connect to.
        gateway: Option<&'a str>,
    },
    /// As `Device`, with `ModuleId=m`.
    Module {
        /// IoT hub host name.
        host: &'a str,
        /// Device ID.
        device_id: &'a str,
        /// Module ID.
        module_id: &'a str,
        /// The credential.
        credential: Credential<'a>,
        /// `GatewayHostName`.
        gateway: Option<&'a str>,
    },
    /// `HostName=h;SharedAccessKeyName=p;SharedAccessKey=k`: a hub back-end policy.
    HubService {
        /// IoT hub host name.
        host: &'a str,
        /// Policy name, e.g. `iothubowner`.
        key_name: &'a str,
        /// The policy key's base64 text.
        key: &'a str,
    },
    /// As `HubService` with a host ending in `.azure-devices-provisioning.net`.
    DpsService {
        /// DPS service host name.
        host: &'a str,
        /// Policy name, e.g. `provisioningserviceowner`.
        key_name: &'a str,
        /// The policy key's base64 text.
        key: &'a str,
    },
}

impl<'a> ConnectionString<'a> {
    /// Parses a connection string.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionString`] for the structure, the key errors of
    /// [`SharedAccessKey::from_base64`] for `SharedAccessKey`, and the token errors of
    /// [`SasToken::parse`] for `SharedAccessSignature`.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        if text.len() > MAX_CONNECTION_STRING_LEN {
            return Err(ConnectionStringError::TooLong {
                len: text.len(),
                max: MAX_CONNECTION_STRING_LEN,
            }
            .into());
        }
        let mut values: [Option<&'a str>; KEYS.len()] = [None; KEYS.len()];
        let mut offset = 0;
        for segment in text.split(';') {
            if segment.is_empty() {
                return Err(ConnectionStringError::EmptySegment { offset }.into());
            }
            let (name, value) = segment
                .split_once('=')
                .ok_or(ConnectionStringError::MissingEquals { offset })?;
            let index = KEYS
                .iter()
                .position(|known| *known == name)
                .ok_or(ConnectionStringError::UnknownKey { offset })?;
            let key = KEYS.get(index).copied().unwrap_or_default();
            let slot = values
                .get_mut(index)
                .ok_or(ConnectionStringError::UnknownKey { offset })?;
            if slot.is_some() {
                return Err(ConnectionStringError::DuplicateKey { key }.into());
            }
            if value.is_empty() {
                return Err(ConnectionStringError::EmptyValue { key }.into());
            }
            *slot = Some(value);
            offset += segment.len() + 1;
        }
        let get = |index: usize| values.get(index).copied().flatten();
        let host = get(HOST).ok_or(ConnectionStringError::MissingKey { key: KEYS[HOST] })?;
        let is_dps = host.len() > DPS_SUFFIX.len()
            && host
                .get(host.len() - DPS_SUFFIX.len()..)
                .is_some_and(|suffix| suffix.eq_ignore_ascii_case(DPS_SUFFIX));
        if get(X509).is_some_and(|x509| x509 != "true") {
            return Err(ConnectionStringError::InvalidX509Value.into());
        }
        if let Some(key) = get(KEY) {
            SharedAccessKey::from_base64(key)?;
        }

        let Some(device_id) = get(DEVICE) else {
            return service(&get, host, is_dps);
        };
        if is_dps {
            return Err(ConnectionStringError::DpsDevice.into());
        }
        let credential = credential(&get)?;
        let gateway = get(GATEWAY);
        Ok(match get(MODULE) {
            Some(module_id) => Self::Module {
                host,
                device_id,
                module_id,
                credential,
                gateway,
            },
            None => Self::Device {
                host,
                device_id,
                credential,
                gateway,
            },
        })
    }

    /// The `HostName` value.
    pub fn host(&self) -> &'a str {
        match *self {
            Self::Device { host, .. }
            | Self::Module { host, .. }
            | Self::HubService { host, .. }
            | Self::DpsService { host, .. } => host,
        }
    }

    /// The resource a token signed from this string is for (reference §1.5): the device or
    /// module, or the hub (service policies, and device strings that name a policy, which the
    /// csharp SDK signs hub-scoped).
    pub fn resource(&self) -> ResourceUri<'a> {
        match *self {
            Self::Device {
                host,
                credential:
                    Credential::SharedAccessKey {
                        key_name: Some(_), ..
                    },
                ..
            }
            | Self::Module {
                host,
                credential:
                    Credential::SharedAccessKey {
                        key_name: Some(_), ..
                    },
                ..
            }
            | Self::HubService { host, .. }
            | Self::DpsService { host, .. } => ResourceUri::Hub { host },
            Self::Device {
                host, device_id, ..
            } => ResourceUri::Device { host, device_id },
            Self::Module {
                host,
                device_id,
                module_id,
                ..
            } => ResourceUri::Module {
                host,
                device_id,
                module_id,
            },
        }
    }

    /// The key's base64 text and the policy name, if the string carries a key.
    pub fn key(&self) -> Option<(&'a str, Option<&'a str>)> {
        match *self {
            Self::Device {
                credential: Credential::SharedAccessKey { key, key_name },
                ..
            }
            | Self::Module {
                credential: Credential::SharedAccessKey { key, key_name },
                ..
            } => Some((key, key_name)),
            Self::HubService { key, key_name, .. } | Self::DpsService { key, key_name, .. } => {
                Some((key, Some(key_name)))
            }
            Self::Device { .. } | Self::Module { .. } => None,
        }
    }
}

fn service<'a>(
    get: &impl Fn(usize) -> Option<&'a str>,
    host: &'a str,
    is_dps: bool,
) -> Result<ConnectionString<'a>, Error> {
    if get(MODULE).is_some() {
        return Err(ConnectionStringError::MissingKey { key: KEYS[DEVICE] }.into());
    }
    let Some(key_name) = get(KEY_NAME) else {
        return Err(ConnectionStringError::MissingKey { key: KEYS[DEVICE] }.into());
    };
    for other in [TOKEN, X509, GATEWAY] {
        if get(other).is_some() {
            return Err(conflict(KEY_NAME, other));
        }
    }
    let key = get(KEY).ok_or(ConnectionStringError::MissingKey { key: KEYS[KEY] })?;
    Ok(if is_dps {
        ConnectionString::DpsService {
            host,
            key_name,
            key,
        }
    } else {
        ConnectionString::HubService {
            host,
            key_name,
            key,
        }
    })
}

fn credential<'a>(get: &impl Fn(usize) -> Option<&'a str>) -> Result<Credential<'a>, Error> {
    match (get(KEY), get(TOKEN), get(X509)) {
        (Some(key), None, None) => Ok(Credential::SharedAccessKey {
            key,
            key_name: get(KEY_NAME),
        }),
        (None, Some(token), None) => {
            if get(KEY_NAME).is_some() {
                return Err(conflict(KEY_NAME, TOKEN));
            }
            Ok(Credential::SharedAccessSignature(SasToken::parse(token)?))
        }
        (None, None, Some(_)) => {
            if get(KEY_NAME).is_some() {
                return Err(conflict(KEY_NAME, X509));
            }
            Ok(Credential::X509)
        }
        (None, None, None) => Err(ConnectionStringError::MissingCredential.into()),
        (Some(_), Some(_), _) => Err(conflict(KEY, TOKEN)),
        (Some(_), None, Some(_)) => Err(conflict(KEY, X509)),
        (None, Some(_), Some(_)) => Err(conflict(TOKEN, X509)),
    }
}

fn conflict(first: usize, second: usize) -> Error {
    ConnectionStringError::Conflict {
        first: KEYS.get(first).copied().unwrap_or_default(),
        second: KEYS.get(second).copied().unwrap_or_default(),
    }
    .into()
}

mod format;

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
    const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device&sig=dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D&se=1578941692";

    fn parse(text: &str) -> Result<ConnectionString<'_>, Error> {
        ConnectionString::parse(text)
    }

    fn cs_err(err: ConnectionStringError) -> Result<ConnectionString<'static>, Error> {
        Err(Error::ConnectionString(err))
    }

    #[test]
    fn device_key_round_trips() {
        let text = std::format!("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey={KEY}");
        let cs = parse(&text).unwrap();
        assert_eq!(
            cs,
            ConnectionString::Device {
                host: "h.azure-devices.net",
                device_id: "d",
                credential: Credential::SharedAccessKey {
                    key: KEY,
                    key_name: None
                },
                gateway: None
            }
        );
        assert_eq!(cs.to_string(), text);
        assert_eq!(
            cs.resource(),
            ResourceUri::Device {
                host: "h.azure-devices.net",
                device_id: "d"
            }
        );
        assert_eq!(cs.key(), Some((KEY, None)));
    }

    #[test]
    fn keys_in_any_order_format_canonically() {
        let text = std::format!("SharedAccessKey={KEY};DeviceId=d;HostName=h");
        assert_eq!(
            parse(&text).unwrap().to_string(),
            std::format!("HostName=h;DeviceId=d;SharedAccessKey={KEY}")
        );
    }

    #[test]
    fn device_token_and_x509_and_gateway() {
        let text = std::format!("HostName=h;DeviceId=d;SharedAccessSignature={TOKEN}");
        let cs = parse(&text).unwrap();
        assert!(
            matches!(cs, ConnectionString::Device { credential: Credential::SharedAccessSignature(t), .. } if t.expiry() == 1_578_941_692)
        );
        assert_eq!(cs.to_string(), text);
        assert_eq!(cs.key(), None);

        let text = "HostName=h;DeviceId=d;x509=true;GatewayHostName=edge.local";
        let cs = parse(text).unwrap();
        assert_eq!(
            cs,
            ConnectionString::Device {
                host: "h",
                device_id: "d",
                credential: Credential::X509,
                gateway: Some("edge.local")
            }
        );
        assert_eq!(cs.to_string(), text);
    }

    #[test]
    fn module_and_policy_device() {
        let text = std::format!(
            "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey={KEY};GatewayHostName=g"
        );
        let cs = parse(&text).unwrap();
        assert!(matches!(
            cs,
            ConnectionString::Module {
                module_id: "m",
                gateway: Some("g"),
                ..
            }
        ));
        assert_eq!(cs.to_string(), text);
        assert_eq!(
            cs.resource(),
            ResourceUri::Module {
                host: "h",
                device_id: "d",
                module_id: "m"
            }
        );

        let text =
            std::format!("HostName=h;DeviceId=d;SharedAccessKeyName=device;SharedAccessKey={KEY}");
        let cs = parse(&text).unwrap();
        assert_eq!(cs.resource(), ResourceUri::Hub { host: "h" });
        assert_eq!(cs.to_string(), text);
    }

    #[test]
    fn hub_and_dps_service() {
        let text = std::format!(
            "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
        );
        let cs = parse(&text).unwrap();
        assert!(matches!(
            cs,
            ConnectionString::HubService {
                key_name: "iothubowner",
                ..
            }
        ));
        assert_eq!(cs.to_string(), text);
        let text = std::format!(
            "HostName=my-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={KEY}"
        );
        let cs = parse(&text).unwrap();
        assert!(matches!(
            cs,
            ConnectionString::DpsService {
                host: "my-dps.azure-devices-provisioning.net",
                ..
            }
        ));
        assert_eq!(cs.to_string(), text);
        assert_eq!(
            cs.resource(),
            ResourceUri::Hub {
                host: "my-dps.azure-devices-provisioning.net"
            }
        );
        let text = std::format!(
            "HostName=my-dps.azure-devices-provisioning.net;DeviceId=d;SharedAccessKey={KEY}"
        );
        assert_eq!(parse(&text), cs_err(ConnectionStringError::DpsDevice));
    }

    #[test]
    fn rule_keys_are_case_sensitive() {
        // python, node and iot-sdk-c are case-sensitive; csharp is not (§2.2).
        let text = std::format!("hostname=h;DeviceId=d;SharedAccessKey={KEY}");
        assert_eq!(
            parse(&text),
            cs_err(ConnectionStringError::UnknownKey { offset: 0 })
        );
        assert_eq!(
            parse("HostName=h;DeviceId=d;X509=true"),
            cs_err(ConnectionStringError::UnknownKey { offset: 22 })
        );
    }

    #[test]
    fn rule_unknown_key_is_an_error() {
        // python rejects unknown keys; X509Cert (csharp legacy) and UseProvisioning (iot-sdk-c)
        // are not supported (§2.1).
        for extra in ["Foo=bar", "X509Cert=true", "UseProvisioning=true"] {
            let text = std::format!("HostName=h;DeviceId=d;x509=true;{extra}");
            assert_eq!(
                parse(&text),
                cs_err(ConnectionStringError::UnknownKey { offset: 32 }),
                "{extra}"
            );
        }
    }

    #[test]
    fn rule_duplicate_key_is_an_error() {
        assert_eq!(
            parse("HostName=h;DeviceId=d;DeviceId=e;x509=true"),
            cs_err(ConnectionStringError::DuplicateKey { key: "DeviceId" })
        );
    }

    #[test]
    fn rule_missing_key_names_the_key() {
        assert_eq!(
            parse("DeviceId=d;x509=true"),
            cs_err(ConnectionStringError::MissingKey { key: "HostName" })
        );
        assert_eq!(
            parse("HostName=h;x509=true"),
            cs_err(ConnectionStringError::MissingKey { key: "DeviceId" })
        );
        assert_eq!(
            parse("HostName=h;ModuleId=m;x509=true"),
            cs_err(ConnectionStringError::MissingKey { key: "DeviceId" })
        );
        assert_eq!(
            parse("HostName=h;SharedAccessKeyName=p"),
            cs_err(ConnectionStringError::MissingKey {
                key: "SharedAccessKey"
            })
        );
        assert_eq!(
            parse("HostName=h;DeviceId=d"),
            cs_err(ConnectionStringError::MissingCredential)
        );
    }

    #[test]
    fn rule_x509_must_be_exactly_true() {
        for value in ["True", "TRUE", "false", "1", "yes"] {
            let text = std::format!("HostName=h;DeviceId=d;x509={value}");
            assert_eq!(
                parse(&text),
                cs_err(ConnectionStringError::InvalidX509Value),
                "{value}"
            );
        }
    }

    #[test]
    fn rule_credentials_are_exclusive() {
        let text = std::format!("HostName=h;DeviceId=d;SharedAccessKey={KEY};x509=true");
        assert_eq!(
            parse(&text),
            cs_err(ConnectionStringError::Conflict {
                first: "SharedAccessKey",
                second: "x509"
            })
        );
        let text = std::format!(
            "HostName=h;DeviceId=d;SharedAccessKey={KEY};SharedAccessSignature={TOKEN}"
        );
        assert_eq!(
            parse(&text),
            cs_err(ConnectionStringError::Conflict {
                first: "SharedAccessKey",
                second: "SharedAccessSignature"
            })
        );
        let text = std::format!(
            "HostName=h;SharedAccessKeyName=p;SharedAccessKey={KEY};GatewayHostName=g"
        );
        assert_eq!(
            parse(&text),
            cs_err(ConnectionStringError::Conflict {
                first: "SharedAccessKeyName",
                second: "GatewayHostName"
            })
        );
        assert_eq!(
            parse("HostName=h;DeviceId=d;SharedAccessKeyName=p;x509=true"),
            cs_err(ConnectionStringError::Conflict {
                first: "SharedAccessKeyName",
                second: "x509"
            })
        );
    }

    #[test]
    fn rule_empty_segments_values_and_missing_equals() {
        assert_eq!(
            parse(""),
            cs_err(ConnectionStringError::EmptySegment { offset: 0 })
        );
        assert_eq!(
            parse("HostName=h;;DeviceId=d;x509=true"),
            cs_err(ConnectionStringError::EmptySegment { offset: 11 })
        );
        assert_eq!(
            parse("HostName=h;DeviceId=d;x509=true;"),
            cs_err(ConnectionStringError::EmptySegment { offset: 32 })
        );
        assert_eq!(
            parse("HostName=;DeviceId=d;x509=true"),
            cs_err(ConnectionStringError::EmptyValue { key: "HostName" })
        );
        assert_eq!(
            parse("HostName=h;DeviceId;x509=true"),
            cs_err(ConnectionStringError::MissingEquals { offset: 11 })
        );
        assert_eq!(
            parse(" HostName=h;DeviceId=d;x509=true"),
            cs_err(ConnectionStringError::UnknownKey { offset: 0 })
        );
    }

    #[test]
    fn rule_semicolon_always_separates() {
        // csharp keeps `;` inside legacy device IDs; python, node and iot-sdk-c split (§2.2).
        assert_eq!(
            parse("HostName=h;DeviceId=a;b;x509=true"),
            cs_err(ConnectionStringError::MissingEquals { offset: 22 })
        );
    }

    #[test]
    fn values_may_contain_equals_and_key_is_checked() {
        assert!(
            parse(&std::format!(
                "HostName=h;DeviceId=a=b;SharedAccessKey={KEY}"
            ))
            .is_ok()
        );
        assert!(matches!(
            parse("HostName=h;DeviceId=d;SharedAccessKey=not-base64"),
            Err(Error::KeyBase64(_))
        ));
        assert!(matches!(
            parse("HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=x"),
            Err(Error::MissingField { .. })
        ));
    }

    #[test]
    fn too_long_is_rejected() {
        let text = std::format!(
            "HostName={};DeviceId=d;x509=true",
            "h".repeat(MAX_CONNECTION_STRING_LEN)
        );
        assert!(matches!(
            parse(&text),
            Err(Error::ConnectionString(
                ConnectionStringError::TooLong { .. }
            ))
        ));
    }

    #[test]
    fn debug_redacts_the_key() {
        let text = std::format!("HostName=h;DeviceId=d;SharedAccessKey={KEY}");
        let debug = std::format!("{:?}", parse(&text).unwrap());
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let text = std::format!("HostName=h;SharedAccessKeyName=p;SharedAccessKey={KEY}");
        let debug = std::format!("{:?}", parse(&text).unwrap());
        assert!(!debug.contains(KEY), "{debug}");
    }
}
