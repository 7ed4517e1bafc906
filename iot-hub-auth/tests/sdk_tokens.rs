//! Tokens produced by Microsoft's Python (azure-iot-device 2.14.0) and Node
//! (azure-iot-device 1.18.4, azure-iot-common 1.13.3) SDKs, committed by iot-sas in
//! `iot-sas/tests/data/sdk-vectors.json` (generator: `iot-sas/tests/data/generate/`), connect
//! through `authorize` over MQTT, AMQP and HTTPS; service tokens through `authorize_service`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_hub_auth::{
    AccessRights, AuthMethod, ConnectRequest, DenyReason, DeviceIdentity, Error, HubSettings,
    InMemoryRegistry, KeySlot, SharedAccessPolicy, authorize, authorize_service,
};
use serde_json::Value;

/// Unrelated valid keys: for the other slot, and for another identity's keys.
const OTHER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OTHER2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../iot-sas/tests/data/sdk-vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn s<'a>(case: &'a Value, field: &str) -> Option<&'a str> {
    case.get(field).and_then(Value::as_str)
}

/// Whether the hub could hold this identity at all: key 16..=64 bytes, IDs per §4.
fn registrable(identity: &DeviceIdentity) -> Result<(), Error> {
    identity.validate()
}

#[derive(Default, Debug)]
struct Counts {
    allowed: usize,
    unregistrable: usize,
}

#[test]
fn device_and_module_tokens_from_python_and_node_sdks_connect() {
    let mut per_sdk = std::collections::BTreeMap::<String, Counts>::new();
    for case in cases() {
        let kind = s(&case, "kind").unwrap();
        if kind != "device" && kind != "module" {
            continue;
        }
        let sdk = s(&case, "sdk").unwrap().to_owned();
        let host = s(&case, "host").unwrap();
        let device_id = s(&case, "device_id").unwrap();
        let module_id = s(&case, "module_id");
        let key = s(&case, "key").unwrap();
        let token = s(&case, "token").unwrap();
        let now = case["expiry"].as_u64().unwrap().saturating_sub(10);
        let counts = per_sdk.entry(sdk.clone()).or_default();

        // Register the identity with the SDK key as primary, then as secondary.
        for (primary, secondary, slot) in [
            (key, OTHER, KeySlot::Primary),
            (OTHER, key, KeySlot::Secondary),
        ] {
            let hub = HubSettings::new(host).unwrap();
            let mut reg = InMemoryRegistry::new();
            let device = DeviceIdentity::sas(device_id, primary, secondary);
            let identity = match module_id {
                None => device.clone(),
                Some(m) => device.clone().into_module(m),
            };
            if let Err(e) = registrable(&identity) {
                // Keys under 16 bytes and non-ASCII IDs cannot exist in a hub (§1.2, §4): the
                // registry must refuse them with a clear error.
                let up = reg.upsert(device).and_then(|()| reg.upsert(identity));
                assert!(up.is_err(), "{e}");
                counts.unregistrable += 1;
                continue;
            }
            if module_id.is_some() {
                reg.upsert(DeviceIdentity::sas(device_id, OTHER, OTHER))
                    .unwrap();
            }
            reg.upsert(identity).unwrap();

            let client_id = match module_id {
                Some(m) => format!("{device_id}/{m}"),
                None => device_id.to_owned(),
            };
            let user = format!("{host}/{client_id}/?api-version=2021-04-12&DeviceClientType={sdk}");
            let mut requests = vec![ConnectRequest::mqtt(&client_id, &user).with_password(token)];
            let sasl = format!("{device_id}@sas.{}", iot_hub_auth::hub_name(host));
            if module_id.is_none() {
                requests.push(ConnectRequest::amqp_sasl(&sasl, token));
            }
            requests.push(
                ConnectRequest::https(device_id)
                    .with_identity(device_id, module_id)
                    .with_password(token),
            );
            for req in requests {
                let d = authorize(&hub, &reg, &req, now);
                let allow = d
                    .allowed()
                    .unwrap_or_else(|| panic!("{sdk} {client_id:?} {:?}: {d:?}", req.transport));
                assert_eq!(allow.method, AuthMethod::DeviceKey(slot));
                assert_eq!(allow.valid_until, case["expiry"].as_u64().unwrap());
            }
            // The same token is refused once expired, and for another identity's keys: the
            // same IDs registered with two keys that did not sign it.
            let late = case["expiry"].as_u64().unwrap() + 301;
            let req = ConnectRequest::mqtt(&client_id, &user).with_password(token);
            assert!(matches!(
                authorize(&hub, &reg, &req, late).denied(),
                Some(DenyReason::TokenExpired { .. })
            ));
            let mut others = InMemoryRegistry::new();
            others
                .upsert(DeviceIdentity::sas(device_id, OTHER, OTHER2))
                .unwrap();
            if let Some(m) = module_id {
                others
                    .upsert(DeviceIdentity::sas(device_id, OTHER2, OTHER).into_module(m))
                    .unwrap();
            }
            assert_eq!(
                authorize(&hub, &others, &req, now).denied(),
                Some(&DenyReason::BadSignature {
                    signer: format!("identity {client_id}")
                }),
                "{sdk} {client_id:?}"
            );
            counts.allowed += 1;
        }
    }
    // Both SDKs contributed connectable device and module tokens.
    for sdk in ["python", "node"] {
        let c = per_sdk
            .get(sdk)
            .unwrap_or_else(|| panic!("no {sdk} cases: {per_sdk:?}"));
        assert!(c.allowed >= 16, "{sdk}: {c:?}");
        assert!(c.unregistrable >= 2, "{sdk}: {c:?}");
    }
}

#[test]
fn policy_tokens_from_python_and_node_sdks() {
    let mut seen = 0;
    for case in cases() {
        if s(&case, "kind") != Some("policy") {
            continue;
        }
        let host = s(&case, "host").unwrap();
        let key = s(&case, "key").unwrap();
        let token = s(&case, "token").unwrap();
        let policy = s(&case, "policy").unwrap();
        let now = case["expiry"].as_u64().unwrap().saturating_sub(10);
        let mut hub = HubSettings::new(host).unwrap();
        let p = SharedAccessPolicy {
            key_name: policy.into(),
            primary_key: key.into(),
            secondary_key: OTHER.into(),
            rights: AccessRights::ALL,
        };
        if hub.add_policy(&p).is_err() {
            continue; // keys under 16 bytes cannot be hub policy keys
        }
        match s(&case, "device_id") {
            None => {
                let ok =
                    authorize_service(&hub, token, AccessRights::SERVICE_CONNECT, now).unwrap();
                assert_eq!((ok.policy, ok.key), (policy, KeySlot::Primary));
            }
            Some(device_id) => {
                let mut reg = InMemoryRegistry::new();
                reg.upsert(DeviceIdentity::sas(device_id, OTHER, OTHER))
                    .unwrap();
                let user = format!("{host}/{device_id}/?api-version=2021-04-12");
                let req = ConnectRequest::mqtt(device_id, &user).with_password(token);
                let d = authorize(&hub, &reg, &req, now);
                assert_eq!(
                    d.allowed()
                        .unwrap_or_else(|| panic!("{case}: {d:?}"))
                        .method,
                    AuthMethod::Policy {
                        name: policy,
                        key: KeySlot::Primary
                    }
                );
            }
        }
        seen += 1;
    }
    assert!(seen >= 8, "{seen}");
}
