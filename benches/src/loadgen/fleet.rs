//! The bench's devices and TLS material, shared by both servers: one hub of SAS devices, each
//! with its own key and token, the hub file iot-server imports, the password lines Mosquitto
//! hashes, and one server certificate and key both servers present.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use iot_sas::{ResourceUri, SharedAccessKey};
use sha2::{Digest as _, Sha256};

/// The bench hub's host name.
pub const HUB: &str = "bench-hub.azure-devices.net";

/// The api-version in the MQTT user name (reference §6.1).
pub const API_VERSION: &str = "2021-04-12";

/// One device as the load generator presents it: client ID, user name and SAS token password
/// (reference §6.1: `{hub}/{deviceId}/?api-version=…`, token for `{hub}/devices/{deviceId}`).
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    /// MQTT client ID: the device ID.
    pub client_id: String,
    /// MQTT user name.
    pub username: String,
    password: String,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &"<redacted SAS token>")
            .finish()
    }
}

impl Device {
    /// The SAS token sent as the MQTT password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// The bench's devices, their keys and tokens.
pub struct Fleet {
    /// Every device, in order (`bench-dev-00000`, …).
    pub devices: Arc<[Device]>,
    keys: Vec<SharedAccessKey>,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("devices", &self.devices.len())
            .finish_non_exhaustive()
    }
}

/// The device ID of device `index`.
pub fn device_id(index: usize) -> String {
    format!("bench-dev-{index:05}")
}

/// A fixed test key for device `index` (SHA-256 of a label and the index; bench data, not a
/// secret of anything).
fn device_key(index: usize) -> Result<SharedAccessKey, iot_sas::Error> {
    let mut hash = Sha256::new();
    hash.update(b"iot-benches broker device key ");
    hash.update((index as u64).to_be_bytes());
    SharedAccessKey::from_bytes(&hash.finalize())
}

fn token(key: &SharedAccessKey, id: &str, expiry: u64) -> Result<String, iot_sas::Error> {
    let resource = ResourceUri::Device {
        host: HUB,
        device_id: id,
    };
    iot_sas::sign(key, &resource, expiry, None)
}

impl Fleet {
    /// `count` devices whose tokens expire at `expiry` (Unix seconds).
    ///
    /// # Errors
    /// [`iot_sas::Error`] from key or token making (not expected).
    pub fn new(count: usize, expiry: u64) -> Result<Self, iot_sas::Error> {
        let mut keys = Vec::with_capacity(count);
        let mut devices = Vec::with_capacity(count);
        for index in 0..count {
            let key = device_key(index)?;
            let id = device_id(index);
            devices.push(Device {
                username: format!("{HUB}/{id}/?api-version={API_VERSION}"),
                password: token(&key, &id, expiry)?,
                client_id: id,
            });
            keys.push(key);
        }
        Ok(Self {
            devices: devices.into(),
            keys,
        })
    }

    /// Device `index` with a token of the same shape and expiry signed with another device's
    /// key: a server that checks the credential must refuse it.
    ///
    /// # Errors
    /// [`iot_sas::Error`] from signing (not expected).
    pub fn with_wrong_key(
        &self,
        index: usize,
        expiry: u64,
    ) -> Result<Option<Device>, iot_sas::Error> {
        let (Some(device), Some(other)) = (
            self.devices.get(index),
            self.keys.get((index + 1) % self.keys.len().max(1)),
        ) else {
            return Ok(None);
        };
        if self.keys.len() < 2 {
            return Ok(None);
        }
        Ok(Some(Device {
            password: token(other, &device.client_id, expiry)?,
            ..device.clone()
        }))
    }

    /// The hub file iot-server imports (`iot_hub_auth::HubDocument`, as `examples/hub.json`):
    /// one SAS identity per device with its key as primary and secondary key.
    pub fn hub_file(&self) -> serde_json::Value {
        let identities: Vec<serde_json::Value> = self
            .devices
            .iter()
            .zip(&self.keys)
            .map(|(device, key)| {
                let key = key.to_base64();
                serde_json::json!({
                    "deviceId": device.client_id,
                    "authentication": {"type": "sas",
                        "symmetricKey": {"primaryKey": *key, "secondaryKey": *key}}
                })
            })
            .collect();
        let owner = self
            .keys
            .first()
            .map(|k| k.to_base64().to_string())
            .unwrap_or_default();
        serde_json::json!({
            "hostName": HUB,
            "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": owner,
                "secondaryKey": owner, "rights": "RegistryWrite, ServiceConnect, DeviceConnect"}],
            "identities": identities,
        })
    }

    /// Plain `username:password` lines (the SAS token as the password), the input of
    /// `mosquitto_passwd -U`, which replaces each password by its salted hash.
    pub fn password_lines(&self) -> String {
        let mut text = String::new();
        for device in self.devices.iter() {
            text.push_str(&device.username);
            text.push(':');
            text.push_str(&device.password);
            text.push('\n');
        }
        text
    }
}

/// The TLS files both servers use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The local root CA the load generator trusts.
    pub ca: PathBuf,
    /// Server certificate chain, PEM: the leaf (ECDSA P-256, SANs `localhost`, `127.0.0.1`,
    /// `::1`, the hub) then the CA.
    pub chain: PathBuf,
    /// The server's private key, PKCS #8 PEM.
    pub key: PathBuf,
}

/// Makes iot-server's local CA and a server certificate in `dir` (iot-server's own
/// [`iot_server::tls::LocalCa`], so the certificate is the one `iot serve` would make), and
/// writes the chain file both servers load.
///
/// # Errors
/// [`iot_server::Error`] from the CA, or writing the chain file.
pub fn tls_files(dir: &Path) -> Result<TlsFiles, iot_server::Error> {
    let ca = iot_server::tls::LocalCa::open_or_create(dir)?;
    ca.server_certificate(&iot_server::tls::server_names([HUB]))?;
    let io = |path: PathBuf| move |source| iot_server::Error::Io { path, source };
    let leaf_path = dir.join("server.pem");
    let leaf = std::fs::read_to_string(&leaf_path).map_err(io(leaf_path.clone()))?;
    let chain = dir.join("chain.pem");
    std::fs::write(&chain, format!("{leaf}{}", ca.ca_pem())).map_err(io(chain.clone()))?;
    Ok(TlsFiles {
        ca: ca.ca_path(),
        chain,
        key: dir.join("server.key"),
    })
}
