//! Connection strings written back: `Display` in canonical key order (it contains the secret
//! key), and `Debug` with keys and signatures redacted (reference §2.1).

use core::fmt;

use super::{ConnectionString, Credential};

impl fmt::Display for ConnectionString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (credential, gateway) = match *self {
            Self::Device {
                host,
                device_id,
                credential,
                gateway,
            } => {
                write!(f, "HostName={host};DeviceId={device_id}")?;
                (credential, gateway)
            }
            Self::Module {
                host,
                device_id,
                module_id,
                credential,
                gateway,
            } => {
                write!(
                    f,
                    "HostName={host};DeviceId={device_id};ModuleId={module_id}"
                )?;
                (credential, gateway)
            }
            Self::HubService {
                host,
                key_name,
                key,
            }
            | Self::DpsService {
                host,
                key_name,
                key,
            } => {
                return write!(
                    f,
                    "HostName={host};SharedAccessKeyName={key_name};SharedAccessKey={key}"
                );
            }
        };
        match credential {
            Credential::SharedAccessKey { key, key_name } => {
                if let Some(name) = key_name {
                    write!(f, ";SharedAccessKeyName={name}")?;
                }
                write!(f, ";SharedAccessKey={key}")?;
            }
            Credential::SharedAccessSignature(token) => {
                write!(f, ";SharedAccessSignature={token}")?
            }
            Credential::X509 => f.write_str(";x509=true")?,
        }
        if let Some(gateway) = gateway {
            write!(f, ";GatewayHostName={gateway}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SharedAccessKey { key_name, .. } => f
                .debug_struct("SharedAccessKey")
                .field("key", &format_args!("<redacted>"))
                .field("key_name", key_name)
                .finish(),
            Self::SharedAccessSignature(token) => {
                f.debug_tuple("SharedAccessSignature").field(token).finish()
            }
            Self::X509 => f.write_str("X509"),
        }
    }
}

impl fmt::Debug for ConnectionString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device {
                host,
                device_id,
                credential,
                gateway,
            } => f
                .debug_struct("Device")
                .field("host", host)
                .field("device_id", device_id)
                .field("credential", credential)
                .field("gateway", gateway)
                .finish(),
            Self::Module {
                host,
                device_id,
                module_id,
                credential,
                gateway,
            } => f
                .debug_struct("Module")
                .field("host", host)
                .field("device_id", device_id)
                .field("module_id", module_id)
                .field("credential", credential)
                .field("gateway", gateway)
                .finish(),
            Self::HubService { host, key_name, .. } | Self::DpsService { host, key_name, .. } => f
                .debug_struct(if matches!(self, Self::HubService { .. }) {
                    "HubService"
                } else {
                    "DpsService"
                })
                .field("host", host)
                .field("key_name", key_name)
                .field("key", &format_args!("<redacted>"))
                .finish(),
        }
    }
}
