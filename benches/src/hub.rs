//! The hub both `hub` benches decide on: 1,000,000 `sas` devices, and one MQTT CONNECT of a
//! device in the middle of the registry with a valid device-key token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use hmac::{Hmac, KeyInit as _, Mac as _};
use iot_hub_auth::{ConnectRequest, DeviceIdentity, HubSettings, InMemoryRegistry, authorize};
use iot_sas::{ResourceUri, SasToken, SharedAccessKey};
use sha2::Sha256;

/// The hub host name.
pub const HOST: &str = "myhub-prod-weu.azure-devices.net";
/// Identities in the registry.
pub const IDENTITIES: usize = 1_000_000;
/// The token's `se`.
pub const EXPIRY: u64 = 1_767_225_600;

/// A hub, its registry and one connecting device.
pub struct HubFixture {
    /// Hub settings (defaults).
    pub hub: HubSettings,
    /// [`IDENTITIES`] `sas` devices.
    pub registry: InMemoryRegistry,
    /// The connecting device's ID.
    pub device: String,
    /// Its primary key.
    pub key: SharedAccessKey,
    /// A device-key token for it, signed with `key`.
    pub token: String,
    /// Its MQTT user name, with the query an azure-sdk-for-c device sends.
    pub username: String,
    /// The decision time: ten minutes before `se`.
    pub now: u64,
}

fn device_id(i: usize) -> String {
    format!("building-{:03}-floor-{:02}-sensor-{i:07}", i % 997, i % 13)
}

fn key_for(i: usize) -> SharedAccessKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
    bytes[8..].copy_from_slice(&[0x5a; 24]);
    SharedAccessKey::from_bytes(&bytes).unwrap()
}

impl HubFixture {
    /// Builds the registry (a few seconds) and checks that the device is allowed.
    pub fn new() -> Self {
        let hub = HubSettings::new(HOST).unwrap();
        let mut registry = InMemoryRegistry::with_capacity(IDENTITIES);
        let secondary = key_for(usize::MAX).to_base64();
        for i in 0..IDENTITIES {
            let primary = key_for(i).to_base64();
            registry
                .upsert(DeviceIdentity::sas(&device_id(i), &primary, &secondary))
                .unwrap();
        }
        assert_eq!(registry.len(), IDENTITIES);

        let target = IDENTITIES / 2 + 4242;
        let device = device_id(target);
        let key = key_for(target);
        let token = iot_sas::sign(&key, &Self::resource_of(&device), EXPIRY, None).unwrap();
        let username =
            format!("{HOST}/{device}/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.5.0");
        let fixture = Self {
            hub,
            registry,
            device,
            key,
            token,
            username,
            now: EXPIRY - 600,
        };
        assert!(fixture.decide_mqtt().is_allowed());
        fixture
    }

    /// The device's resource URI.
    pub fn resource_of(device: &str) -> ResourceUri<'_> {
        ResourceUri::Device {
            host: HOST,
            device_id: device,
        }
    }

    /// The MQTT CONNECT decision, unmeasured (used to check the fixture).
    pub fn decide_mqtt(&self) -> iot_hub_auth::Decision<'_> {
        let req = ConnectRequest::mqtt(&self.device, &self.username).with_password(&self.token);
        authorize(&self.hub, &self.registry, &req, self.now)
    }

    /// The measured body: build the MQTT CONNECT request from the (opaque) fields and decide.
    pub fn authorize_mqtt(&self) -> bool {
        let req = ConnectRequest::mqtt(black_box(&self.device), black_box(&self.username))
            .with_password(black_box(&self.token));
        authorize(&self.hub, &self.registry, &req, self.now).is_allowed()
    }

    /// The raw primitive beside it: the key pre-keyed into a plain `Hmac<Sha256>`, and the
    /// token's raw `sr` and `se`.
    pub fn bare_hmac(&self) -> BareHmac {
        bare_hmac_for(&self.key, &self.token)
    }

    /// `n` connects of different devices spread evenly over the registry, each with its own
    /// token, user name and bare HMAC: cycling through them, every decision reads a registry
    /// entry that is not in the CPU caches, as on a real hub.
    pub fn spread_connects(&self, n: usize) -> Vec<Connect> {
        let step = (IDENTITIES / n.max(1)).max(1);
        (0..IDENTITIES)
            .step_by(step)
            .take(n)
            .map(|i| {
                let device = device_id(i);
                let key = key_for(i);
                let token = iot_sas::sign(&key, &Self::resource_of(&device), EXPIRY, None).unwrap();
                let username = format!("{HOST}/{device}/?api-version=2021-04-12");
                let bare = bare_hmac_for(&key, &token);
                Connect {
                    device,
                    username,
                    token,
                    bare,
                }
            })
            .collect()
    }

    /// The MQTT CONNECT decision for one of [`Self::spread_connects`].
    pub fn authorize_connect(&self, connect: &Connect) -> bool {
        let req = ConnectRequest::mqtt(black_box(&connect.device), black_box(&connect.username))
            .with_password(black_box(&connect.token));
        authorize(&self.hub, &self.registry, &req, self.now).is_allowed()
    }
}

/// One device's MQTT CONNECT and the bare HMAC of its token.
pub struct Connect {
    /// Device ID (= client ID).
    pub device: String,
    /// MQTT user name.
    pub username: String,
    /// Device-key token.
    pub token: String,
    /// The bare pre-keyed HMAC of the token's string to sign.
    pub bare: BareHmac,
}

fn bare_hmac_for(key: &SharedAccessKey, token: &str) -> BareHmac {
    let parsed = SasToken::parse(token).unwrap();
    BareHmac {
        prekeyed: Hmac::<Sha256>::new_from_slice(key.secret_bytes()).unwrap(),
        sr: parsed.resource_raw().to_owned(),
        se: parsed.expiry_raw().to_owned(),
    }
}

/// A bare pre-keyed HMAC-SHA256 of one token's string to sign.
pub struct BareHmac {
    prekeyed: Hmac<Sha256>,
    sr: String,
    se: String,
}

impl BareHmac {
    /// Clones the keyed state and MACs `sr` + LF + `se` (reference §1.2).
    pub fn run(&self) -> [u8; 32] {
        let mut mac = self.prekeyed.clone();
        mac.update(black_box(self.sr.as_bytes()));
        mac.update(b"\n");
        mac.update(black_box(self.se.as_bytes()));
        mac.finalize().into_bytes().into()
    }
}

impl Default for HubFixture {
    fn default() -> Self {
        Self::new()
    }
}
