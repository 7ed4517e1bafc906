//! Regression tests for the hardening of issue 12: each test is named after the rule it pins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use iot_hub_auth::{
    AuthMethod, ConnectRequest, Decision, DenyReason, DeviceIdentity, HubSettings, IdentityStatus,
    Registry, authorize,
};
use iot_sas::ResourceUri;

const NOW: u64 = AT;

fn deny(d: Decision<'_>) -> DenyReason {
    match d {
        Decision::Deny(r) => r,
        Decision::Allow(a) => panic!("expected deny, got {a:?}"),
    }
}

/// The MQTT CONNECT decision for `client_id` with the user name an SDK derives from it.
fn connect<'a, R: Registry + ?Sized>(
    hub: &'a HubSettings,
    reg: &'a R,
    client_id: &str,
    token: &str,
) -> Decision<'a> {
    let user = username(client_id);
    authorize(
        hub,
        reg,
        &ConnectRequest::mqtt(client_id, &user).with_password(token),
        NOW,
    )
}

// ------------------------------------------------ 1. a device's status covers its modules

/// Every credential a module can present: its own key, a policy token scoped to the module,
/// and (for `device-1/module-a`) a CA-signed certificate with CN `device-1/module-a`.
#[test]
fn module_of_disabled_device_is_refused() {
    let hub = hub();
    let mut reg = registry();
    let module_key = module_token(K2, "dev1", "mod1", EXPIRY);
    let module_resource = ResourceUri::Module {
        host: HOST,
        device_id: "dev1",
        module_id: "mod1",
    };
    let policy = policy_token(P1, &module_resource, "device", EXPIRY);
    let cert_chain = chain(&["module.pem"]);
    let x509_user = username("device-1/module-a");
    let x509 = ConnectRequest::mqtt("device-1/module-a", &x509_user).with_client_chain(&cert_chain);

    // Control: with their devices enabled, each credential connects.
    assert!(connect(&hub, &reg, "dev1/mod1", &module_key).is_allowed());
    assert!(connect(&hub, &reg, "dev1/mod1", &policy).is_allowed());
    assert!(authorize(&hub, &reg, &x509, NOW).is_allowed());

    assert!(reg.set_status("dev1", None, IdentityStatus::Disabled, Some("stolen")));
    assert!(reg.set_status("device-1", None, IdentityStatus::Disabled, None));
    let expected = |module: &str, device: &str, reason: Option<&str>| DenyReason::DeviceDisabled {
        module: module.into(),
        device: device.into(),
        reason: reason.map(Into::into),
    };
    for token in [&module_key, &policy] {
        assert_eq!(
            deny(connect(&hub, &reg, "dev1/mod1", token)),
            expected("dev1/mod1", "dev1", Some("stolen"))
        );
    }
    let https = ConnectRequest::https("dev1")
        .with_identity("dev1", Some("mod1"))
        .with_password(&module_key);
    assert_eq!(
        deny(authorize(&hub, &reg, &https, NOW)),
        expected("dev1/mod1", "dev1", Some("stolen"))
    );
    assert_eq!(
        deny(authorize(&hub, &reg, &x509, NOW)),
        expected("device-1/module-a", "device-1", None)
    );
    // The module's own entry is untouched and still enabled: the device's status decides.
    assert!(reg.get("dev1", Some("mod1")).unwrap().is_enabled());

    // Enabling the device again lets the module back in.
    assert!(reg.set_status("dev1", None, IdentityStatus::Enabled, None));
    let d = connect(&hub, &reg, "dev1/mod1", &module_key);
    assert_eq!(
        d.allowed().unwrap().method,
        AuthMethod::DeviceKey(iot_hub_auth::KeySlot::Primary)
    );
}

/// A store that holds a module without its device (possible in an external store, never in
/// [`iot_hub_auth::InMemoryRegistry`]) does not let the module in.
#[test]
fn module_without_registered_device_is_refused() {
    struct Orphans(Vec<DeviceIdentity>);
    impl Registry for Orphans {
        fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<&DeviceIdentity> {
            self.0
                .iter()
                .find(|i| i.device_id == device_id && i.module_id.as_deref() == module_id)
        }
    }
    let hub = hub();
    let reg = Orphans(vec![
        DeviceIdentity::sas("dev1", K2, K3).into_module("mod1"),
    ]);
    let token = module_token(K2, "dev1", "mod1", EXPIRY);
    assert_eq!(
        deny(connect(&hub, &reg, "dev1/mod1", &token)),
        DenyReason::UnknownIdentity {
            identity: "dev1".into()
        }
    );
}
