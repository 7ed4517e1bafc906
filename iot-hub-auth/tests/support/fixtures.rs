//! Shared fixtures: a hub, identities, tokens signed by iot-sas, and the OpenSSL-made
//! certificates of iot-x509 (`iot-x509/tests/data/generate.py`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

use iot_hub_auth::{
    AccessRights, CertificateDer, DeviceIdentity, HubSettings, InMemoryRegistry,
    SharedAccessPolicy, Thumbprint,
};
use iot_sas::{ResourceUri, SharedAccessKey};

pub const HOST: &str = "contoso.azure-devices.net";
/// Device key (primary), secondary, and an unrelated key.
pub const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
pub const K3: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
/// Policy keys, each policy its own so a MAC check tells them apart: `device` P1/P2,
/// `service` S1/S2, `iothubowner` O1/O2, `registryRead` R1/R2.
pub const P1: &str = "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";
pub const P2: &str = "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8=";
pub const S1: &str = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=";
pub const S2: &str = "sLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs8=";
pub const O1: &str = "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t8=";
pub const O2: &str = "0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt7u8=";
pub const R1: &str = "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=";
pub const R2: &str = "8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8=";

/// Verification time of the iot-x509 OpenSSL fixtures (2026-06-01).
pub const AT: u64 = 1_780_272_000;
pub const EXPIRY: u64 = AT + 3600;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../iot-x509/tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn chain(names: &[&str]) -> Vec<CertificateDer<'static>> {
    names
        .iter()
        .flat_map(|n| iot_x509::parse_certificates(&fixture(n)).unwrap())
        .collect()
}

pub fn policy(name: &str, rights: AccessRights) -> SharedAccessPolicy {
    let (primary, secondary) = match name {
        "service" => (S1, S2),
        "iothubowner" => (O1, O2),
        "registryRead" => (R1, R2),
        _ => (P1, P2),
    };
    SharedAccessPolicy {
        key_name: name.into(),
        primary_key: primary.into(),
        secondary_key: secondary.into(),
        rights,
    }
}

/// `contoso` with policies iothubowner (all), device (DeviceConnect), service
/// (ServiceConnect), registryRead; CAs root-ec (verified), intermediate-ec (verified),
/// root-rsa (NOT verified).
pub fn hub() -> HubSettings {
    let mut hub = HubSettings::new(HOST).unwrap();
    hub.add_policy(&policy("iothubowner", AccessRights::ALL))
        .unwrap();
    hub.add_policy(&policy("device", AccessRights::DEVICE_CONNECT))
        .unwrap();
    hub.add_policy(&policy("service", AccessRights::SERVICE_CONNECT))
        .unwrap();
    hub.add_policy(&policy("registryRead", AccessRights::REGISTRY_READ))
        .unwrap();
    for (name, file, verified) in [
        ("root-ec", "root-ec.pem", true),
        ("intermediate-ec", "intermediate-ec.pem", true),
        ("root-rsa", "root-rsa.pem", false),
    ] {
        let der = iot_x509::parse_certificates(&fixture(file))
            .unwrap()
            .remove(0);
        hub.cas
            .add(iot_x509::RegisteredCa {
                name: name.into(),
                der: der.as_ref().to_vec(),
                verified,
            })
            .unwrap();
    }
    hub
}

pub fn sha256_of_fixture(name: &str) -> Thumbprint {
    Thumbprint::sha256_of(chain(&[name])[0].as_ref())
}

pub fn sha1_of_fixture(name: &str) -> Thumbprint {
    Thumbprint::sha1_of(chain(&[name])[0].as_ref())
}

/// dev1 (sas, with module mod1 sas and module none1 `none`), self1 (selfSigned SHA-256 of
/// device-self-signed.pem, secondary = that of device-ec.pem), self-sha1 (SHA-1 of
/// device-self-signed.pem), device-ec / device-via-int / device-rsa / device-expired
/// (certificateAuthority), device-1 with module module-a (certificateAuthority),
/// off (sas, disabled).
pub fn registry() -> InMemoryRegistry {
    let mut r = InMemoryRegistry::new();
    r.upsert(DeviceIdentity::sas("dev1", K1, K2)).unwrap();
    r.upsert(DeviceIdentity::sas("dev1", K2, K3).into_module("mod1"))
        .unwrap();
    let mut none = DeviceIdentity::certificate_authority("dev1").into_module("none1");
    none.authentication.r#type = iot_hub_auth::AuthenticationType::None;
    r.upsert(none).unwrap();
    r.upsert(DeviceIdentity::self_signed(
        "self1",
        sha256_of_fixture("device-self-signed.pem"),
        Some(sha256_of_fixture("device-ec.pem")),
    ))
    .unwrap();
    r.upsert(DeviceIdentity::self_signed(
        "self-sha1",
        sha1_of_fixture("device-self-signed.pem"),
        None,
    ))
    .unwrap();
    for id in [
        "device-ec",
        "device-via-int",
        "device-rsa",
        "device-expired",
        "device-1",
    ] {
        r.upsert(DeviceIdentity::certificate_authority(id)).unwrap();
    }
    r.upsert(DeviceIdentity::certificate_authority("device-1").into_module("module-a"))
        .unwrap();
    r.upsert(DeviceIdentity::sas("off", K1, K2).disabled(Some("lost in transit")))
        .unwrap();
    r
}

pub fn key(b64: &str) -> SharedAccessKey {
    SharedAccessKey::from_base64(b64).unwrap()
}

pub fn device_token(key_b64: &str, device_id: &str, expiry: u64) -> String {
    iot_sas::sign(
        &key(key_b64),
        &ResourceUri::Device {
            host: HOST,
            device_id,
        },
        expiry,
        None,
    )
    .unwrap()
}

pub fn module_token(key_b64: &str, device_id: &str, module_id: &str, expiry: u64) -> String {
    iot_sas::sign(
        &key(key_b64),
        &ResourceUri::Module {
            host: HOST,
            device_id,
            module_id,
        },
        expiry,
        None,
    )
    .unwrap()
}

pub fn policy_token(
    key_b64: &str,
    resource: &ResourceUri<'_>,
    policy: &str,
    expiry: u64,
) -> String {
    iot_sas::sign(&key(key_b64), resource, expiry, Some(policy)).unwrap()
}

pub fn username(client_id: &str) -> String {
    format!("{HOST}/{client_id}/?api-version=2021-04-12")
}
