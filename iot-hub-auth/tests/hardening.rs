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
        fn get(
            &self,
            device_id: &str,
            module_id: Option<&str>,
        ) -> Option<std::borrow::Cow<'_, DeviceIdentity>> {
            self.0
                .iter()
                .find(|i| i.device_id == device_id && i.module_id.as_deref() == module_id)
                .map(std::borrow::Cow::Borrowed)
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

// ------------------------------------------------ 2. `sr` is decoded exactly once

/// A `device`-policy token for the device `%64ev1` (`sr` segment `%2564ev1`) connects that
/// device, and only that one: decoding `sr` twice would make it cover `dev1`.
#[test]
fn policy_scope_is_decoded_exactly_once() {
    let hub = hub();
    let mut reg = registry();
    for id in ["%64ev1", "x%41", "xA"] {
        reg.upsert(DeviceIdentity::sas(id, K1, K2)).unwrap();
    }
    for (token_for, other) in [("%64ev1", "dev1"), ("x%41", "xA")] {
        let resource = ResourceUri::Device {
            host: HOST,
            device_id: token_for,
        };
        let token = policy_token(P1, &resource, "device", EXPIRY);
        assert!(
            connect(&hub, &reg, token_for, &token).is_allowed(),
            "{token_for}"
        );
        assert!(
            matches!(
                deny(connect(&hub, &reg, other, &token)),
                DenyReason::TokenScope { .. }
            ),
            "{token_for} -> {other}"
        );
        // Nor the other device's modules (policy scopes cover by path-segment prefix).
        if other == "dev1" {
            assert!(matches!(
                deny(connect(&hub, &reg, "dev1/mod1", &token)),
                DenyReason::TokenScope { .. }
            ));
        }
    }
}

/// The .NET SDK's spelling of an ID with reserved characters (encoded, then encoded again with
/// the whole resource, reference §1.3) still connects the device, with its own key and with a
/// policy token.
#[test]
fn dotnet_double_encoded_device_id_connects() {
    let hub = hub();
    let mut reg = registry();
    reg.upsert(DeviceIdentity::sas("n@m.et#st", K1, K2))
        .unwrap();
    let sr = format!("{HOST}%2Fdevices%2Fn%2540m.et%2523st");
    let mut buf = [0u8; 512];
    let device_token = iot_sas::sign_encoded_into(&key(K1), &sr, EXPIRY, None, &mut buf)
        .unwrap()
        .to_owned();
    let d = connect(&hub, &reg, "n@m.et#st", &device_token);
    assert_eq!(
        d.allowed().unwrap().method,
        AuthMethod::DeviceKey(iot_hub_auth::KeySlot::Primary)
    );
    let policy =
        iot_sas::sign_encoded_into(&key(P1), &sr, EXPIRY, Some("device"), &mut buf).unwrap();
    assert!(connect(&hub, &reg, "n@m.et#st", policy).is_allowed());
    // The same token does not name a device whose ID differs in an unreserved character.
    reg.upsert(DeviceIdentity::sas("n@m.et#sT2", K1, K2))
        .unwrap();
    assert!(matches!(
        deny(connect(&hub, &reg, "n@m.et#sT2", &device_token)),
        DenyReason::TokenScope { .. }
    ));
}

// ------------------------------------------------ 3. the registered CA's own constraints

/// A hub whose verified CAs are the OpenSSL-made anchors with constraints (iot-x509's
/// `tests/data/generate.py`: `openssl verify -purpose sslclient` refuses each chain below).
fn constrained_hub() -> HubSettings {
    let mut hub = HubSettings::new(HOST).unwrap();
    for file in [
        "root-pathlen0.pem",
        "root-eku-server-auth.pem",
        "root-no-keycertsign.pem",
    ] {
        hub.cas
            .add(iot_x509::RegisteredCa {
                name: file.into(),
                der: chain(&[file])[0].to_vec(),
                verified: true,
            })
            .unwrap();
    }
    hub
}

#[test]
fn registered_ca_constraints_apply_to_hub_connects() {
    use iot_hub_auth::ChainError;
    let hub = constrained_hub();
    let mut reg = iot_hub_auth::InMemoryRegistry::new();
    for id in [
        "device-pl0",
        "device-pl0-int",
        "device-srv-root",
        "device-nosign-root",
    ] {
        reg.upsert(DeviceIdentity::certificate_authority(id))
            .unwrap();
    }
    let x509 = |id: &str, files: &[&str]| {
        let presented = chain(files);
        let user = username(id);
        let req = ConnectRequest::mqtt(id, &user).with_client_chain(&presented);
        match authorize(&hub, &reg, &req, NOW) {
            Decision::Allow(_) => Ok(()),
            Decision::Deny(reason) => Err(reason),
        }
    };
    // Control: the pathLen-0 root admits a device it signed directly.
    assert_eq!(
        x509("device-pl0", &["device-under-pathlen0-root.pem"]),
        Ok(())
    );
    assert_eq!(
        x509(
            "device-pl0-int",
            &[
                "device-via-pathlen0-root-intermediate.pem",
                "intermediate-under-pathlen0.pem"
            ]
        ),
        Err(DenyReason::ChainRejected(ChainError::PathTooLong))
    );
    assert_eq!(
        x509("device-srv-root", &["device-under-server-eku-root.pem"]),
        Err(DenyReason::ChainRejected(ChainError::NotClientAuth))
    );
    assert_eq!(
        x509(
            "device-nosign-root",
            &["device-under-no-keycertsign-root.pem"]
        ),
        Err(DenyReason::ChainRejected(ChainError::CaKeyUsage))
    );
}

// ------------------------------------------------ 4. each SAS switch covers exactly its scope

/// One row per switch x credential. Microsoft Learn ("Control access to IoT Hub by using
/// Microsoft Entra ID", disabling local authentication): `disableDeviceSAS` = "all device
/// (including Edge devices but excluding modules) scoped SAS keys cannot be used";
/// `disableModuleSAS` = module-scoped keys; `disableLocalAuth` = IoT hub-scoped (policy) keys.
#[test]
fn each_sas_switch_covers_exactly_its_documented_scope() {
    use iot_hub_auth::{AccessRights, authorize_service};
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Switch {
        DeviceSas,
        ModuleSas,
        LocalAuth,
    }
    #[derive(Clone, Copy, Debug)]
    enum Credential {
        DeviceKey,
        EdgeDeviceKey,
        ModuleKey,
        PolicyOnDevice,
        PolicyOnModule,
        ServicePolicy,
    }
    let covers = |switch: Switch, credential: Credential| match credential {
        Credential::DeviceKey | Credential::EdgeDeviceKey => switch == Switch::DeviceSas,
        Credential::ModuleKey => switch == Switch::ModuleSas,
        Credential::PolicyOnDevice | Credential::PolicyOnModule | Credential::ServicePolicy => {
            switch == Switch::LocalAuth
        }
    };
    let setting = |switch: Switch| match switch {
        Switch::DeviceSas => "disableDeviceSAS",
        Switch::ModuleSas => "disableModuleSAS",
        Switch::LocalAuth => "disableLocalAuth",
    };
    let mut reg = registry();
    let mut edge = DeviceIdentity::sas("edge1", K1, K2);
    edge.capabilities.iot_edge = true;
    reg.upsert(edge).unwrap();
    let module = ResourceUri::Module {
        host: HOST,
        device_id: "dev1",
        module_id: "mod1",
    };
    let hub_wide = ResourceUri::Hub { host: HOST };
    let tokens = [
        (
            Credential::DeviceKey,
            "dev1",
            device_token(K1, "dev1", EXPIRY),
        ),
        (
            Credential::EdgeDeviceKey,
            "edge1",
            device_token(K1, "edge1", EXPIRY),
        ),
        (
            Credential::ModuleKey,
            "dev1/mod1",
            module_token(K2, "dev1", "mod1", EXPIRY),
        ),
        (
            Credential::PolicyOnDevice,
            "dev1",
            policy_token(P1, &hub_wide, "device", EXPIRY),
        ),
        (
            Credential::PolicyOnModule,
            "dev1/mod1",
            policy_token(P1, &module, "device", EXPIRY),
        ),
        (
            Credential::ServicePolicy,
            "",
            policy_token(S1, &hub_wide, "service", EXPIRY),
        ),
    ];
    let mut rows = 0;
    for switch in [Switch::DeviceSas, Switch::ModuleSas, Switch::LocalAuth] {
        let mut hub = hub();
        match switch {
            Switch::DeviceSas => hub.disable_device_sas = true,
            Switch::ModuleSas => hub.disable_module_sas = true,
            Switch::LocalAuth => hub.disable_local_auth = true,
        }
        for (credential, client_id, token) in &tokens {
            let refused = DenyReason::SasDisabled {
                setting: setting(switch),
            };
            let outcome = match credential {
                Credential::ServicePolicy => {
                    authorize_service(&hub, token, AccessRights::SERVICE_CONNECT, NOW).map(|_| ())
                }
                _ => match connect(&hub, &reg, client_id, token) {
                    Decision::Allow(_) => Ok(()),
                    Decision::Deny(reason) => Err(reason),
                },
            };
            if covers(switch, *credential) {
                assert_eq!(
                    outcome,
                    Err(refused),
                    "{switch:?} must refuse {credential:?}"
                );
            } else {
                assert_eq!(outcome, Ok(()), "{switch:?} must not refuse {credential:?}");
            }
            rows += 1;
        }
    }
    assert_eq!(rows, 18);
}

// ------------------------------------------------ 5. AMQP SASL PLAIN user names for modules

/// `{deviceId}/modules/{moduleId}@sas.{hub}` (Azure IoT Edge hub's `SaslIdentityHelper`)
/// names the module, over AMQP and AMQP over WebSockets; the module's own key admits it, any
/// other key does not.
#[test]
fn amqp_sasl_module_user_name_authenticates_the_module() {
    use iot_hub_auth::{KeySlot, Transport};
    let (hub, reg) = (hub(), registry());
    let right = module_token(K2, "dev1", "mod1", EXPIRY);
    let secondary = module_token(K3, "dev1", "mod1", EXPIRY);
    let wrong = module_token(K1, "dev1", "mod1", EXPIRY);
    let device = device_token(K1, "dev1", EXPIRY);
    for transport in [Transport::Amqp, Transport::AmqpWs] {
        for user in [
            "dev1/modules/mod1@sas.contoso",
            "dev1/modules/mod1@sas.contoso.azure-devices.net",
        ] {
            let decide = |token: &str| {
                authorize(
                    &hub,
                    &reg,
                    &ConnectRequest::amqp_sasl(user, token).over(transport),
                    NOW,
                )
            };
            let d = decide(&right);
            let allow = d
                .allowed()
                .unwrap_or_else(|| panic!("{transport} {user}: {d:?}"));
            assert_eq!(allow.identity.device_id, "dev1");
            assert_eq!(allow.identity.module_id.as_deref(), Some("mod1"));
            assert_eq!(allow.method, AuthMethod::DeviceKey(KeySlot::Primary));
            let d = decide(&secondary);
            assert_eq!(
                d.allowed().unwrap().method,
                AuthMethod::DeviceKey(KeySlot::Secondary)
            );
            // The wrong key, and the device's own token, do not admit the module.
            for token in [&wrong, &device] {
                assert_eq!(
                    deny(decide(token)),
                    DenyReason::BadSignature {
                        signer: "identity dev1/mod1".into()
                    },
                    "{transport} {user}"
                );
            }
        }
    }
    // The module's token under the device's user name does not connect the device (here its
    // MAC even matches: the fixture's module key K2 is also the device's secondary key).
    let as_device = ConnectRequest::amqp_sasl("dev1@sas.contoso", &right);
    assert!(matches!(
        deny(authorize(&hub, &reg, &as_device, NOW)),
        DenyReason::TokenScope { .. }
    ));
    // A link naming another identity than the user name is refused.
    let other_link = ConnectRequest::amqp_sasl("dev1/modules/mod1@sas.contoso", &right)
        .with_identity("dev1", None);
    assert_eq!(
        deny(authorize(&hub, &reg, &other_link, NOW)),
        DenyReason::ClientIdMismatch {
            user_name: "dev1/mod1".into(),
            client_id: "dev1".into()
        }
    );
    let same_link = ConnectRequest::amqp_sasl("dev1/modules/mod1@sas.contoso", &right)
        .with_identity("dev1", Some("mod1"));
    assert!(authorize(&hub, &reg, &same_link, NOW).is_allowed());
    // Malformed module forms are claim errors, not lookups of odd device IDs.
    for user in ["dev1/modules/@sas.contoso", "dev1/mod1@sas.contoso"] {
        assert!(matches!(
            deny(authorize(
                &hub,
                &reg,
                &ConnectRequest::amqp_sasl(user, &right),
                NOW
            )),
            DenyReason::MalformedClaim(_)
        ));
    }
}

// ------------------------------------------------ 6. CA rollover

/// The renewed CA certificate (same subject and key) registered beside the expired one: the
/// device connects whichever of the two was registered first.
#[test]
fn ca_rollover_admits_devices_whatever_the_registration_order() {
    let mut reg = iot_hub_auth::InMemoryRegistry::new();
    reg.upsert(DeviceIdentity::certificate_authority("device-rollover"))
        .unwrap();
    let presented = chain(&["device-under-rollover-root.pem"]);
    let user = username("device-rollover");
    let req = ConnectRequest::mqtt("device-rollover", &user).with_client_chain(&presented);
    let expired = ("rollover-expired", "rollover-root-expired.pem");
    let renewed = ("rollover-renewed", "rollover-root-renewed.pem");
    for order in [[expired, renewed], [renewed, expired]] {
        let mut hub = HubSettings::new(HOST).unwrap();
        for (name, file) in order {
            hub.cas
                .add(iot_x509::RegisteredCa {
                    name: name.into(),
                    der: chain(&[file])[0].to_vec(),
                    verified: true,
                })
                .unwrap();
        }
        let d = authorize(&hub, &reg, &req, NOW);
        let allow = d.allowed().unwrap_or_else(|| panic!("{order:?}: {d:?}"));
        assert_eq!(
            allow.method,
            AuthMethod::Ca {
                name: "rollover-renewed".into()
            }
        );
    }
}

// ------------------------------------------------ 9. what a refusal may tell the client

/// Refusals that tell apart an unknown identity, a disabled one (with its statusReason), a
/// wrong credential type, a wrong key, an unknown policy, a malformed token or an unverified
/// CA all look the same on the wire: CONNACK 5, HTTP 401 / 401003, SASL auth, "not
/// authorized". Only claim errors (decided from the request alone) read as a bad request.
#[test]
fn client_view_does_not_disclose_why_a_connection_was_refused() {
    use iot_hub_auth::ClientView;
    let (hub, reg) = (hub(), registry());
    let good = device_token(K1, "dev1", EXPIRY);
    let wrong_key = device_token(K3, "dev1", EXPIRY);
    let unknown_policy = policy_token(P1, &ResourceUri::Hub { host: HOST }, "nope", EXPIRY);
    let expired = device_token(K1, "dev1", NOW - 3600);
    let refusals = [
        ("unknown identity", connect(&hub, &reg, "ghost", &good)),
        (
            "disabled",
            connect(&hub, &reg, "off", &device_token(K1, "off", EXPIRY)),
        ),
        ("wrong key", connect(&hub, &reg, "dev1", &wrong_key)),
        (
            "unknown policy",
            connect(&hub, &reg, "dev1", &unknown_policy),
        ),
        ("expired", connect(&hub, &reg, "dev1", &expired)),
        (
            "malformed token",
            connect(&hub, &reg, "dev1", "SharedAccessSignature sr=x"),
        ),
        ("wrong type", connect(&hub, &reg, "device-ec", &good)),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for (what, decision) in &refusals {
        let reason = decision
            .denied()
            .unwrap_or_else(|| panic!("{what} allowed"));
        let view = decision.wire();
        assert_eq!(view, ClientView::NotAuthorized, "{what}: {reason}");
        assert!(!view.is_accepted());
        assert_eq!(reason.wire(), view);
        codes.insert((
            view.mqtt_connack_code(),
            view.mqtt5_reason_code(),
            view.http_status(),
            view.iot_hub_error_code(),
            view.amqp_sasl_code(),
            view.to_string(),
        ));
        // The operator's reason is specific (and must stay so); the view is not.
        assert!(!view.to_string().contains("dev1") && !view.to_string().contains("lost"));
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        [(
            0x05,
            0x87,
            401,
            Some(401_003),
            1,
            "not authorized".to_owned()
        )]
    );
    // The disabled device's statusReason is in the operator's reason, not in the view.
    assert!(
        refusals[1]
            .1
            .denied()
            .unwrap()
            .to_string()
            .contains("lost in transit")
    );

    // Claim errors come from the request alone.
    let bad_user = authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("dev1", "other.azure-devices.net/dev1/?api-version=1")
            .with_password(&good),
        NOW,
    );
    assert_eq!(bad_user.wire(), ClientView::BadRequest);
    assert_eq!(bad_user.wire().mqtt_connack_code(), 0x04);
    assert_eq!(bad_user.wire().http_status(), 400);
    let ok = connect(&hub, &reg, "dev1", &good);
    assert_eq!(ok.wire(), ClientView::Accepted);
    assert_eq!(ok.wire().mqtt_connack_code(), 0);
    assert_eq!(ok.wire().mqtt5_reason_code(), 0);
    assert_eq!(ok.wire().http_status(), 200);
    assert_eq!(ok.wire().iot_hub_error_code(), None);
    assert_eq!(ok.wire().amqp_sasl_code(), 0);
    assert_eq!(ok.wire().to_string(), "accepted");
    assert!(ok.wire().is_accepted());
    assert_eq!(bad_user.wire().amqp_sasl_code(), 1);
    assert_eq!(bad_user.wire().mqtt5_reason_code(), 0x86);
    assert_eq!(bad_user.wire().iot_hub_error_code(), Some(400_000));
    assert_eq!(bad_user.wire().to_string(), "bad request");
    assert!(!bad_user.wire().is_accepted());
}

// ------------------------------------------------ 10. a registry an external store can back

/// A store that keeps only Azure's JSON of each identity (as a database row would) and builds
/// every entry on demand (`Cow::Owned`, the default `lookup`) decides exactly like the
/// compact in-memory registry.
#[test]
fn external_store_decides_like_the_in_memory_registry() {
    use std::borrow::Cow;
    use std::collections::HashMap;
    struct Rows(HashMap<String, String>);
    impl Registry for Rows {
        fn get(&self, device_id: &str, module_id: Option<&str>) -> Option<Cow<'_, DeviceIdentity>> {
            let key = match module_id {
                Some(m) => format!("{device_id}/{m}"),
                None => device_id.to_owned(),
            };
            let row = self.0.get(&key)?;
            DeviceIdentity::from_json(row).ok().map(Cow::Owned)
        }
    }
    let (hub, reg) = (hub(), registry());
    let rows = Rows(
        reg.iter()
            .map(|identity| {
                (
                    identity.display_id(),
                    serde_json::to_string(&identity).unwrap(),
                )
            })
            .collect(),
    );
    assert_eq!(rows.0.len(), reg.len());
    let module_resource = ResourceUri::Module {
        host: HOST,
        device_id: "dev1",
        module_id: "mod1",
    };
    let cases = [
        ("dev1", device_token(K1, "dev1", EXPIRY)),
        ("dev1", device_token(K2, "dev1", EXPIRY)),
        ("dev1", device_token(K3, "dev1", EXPIRY)),
        ("dev1/mod1", module_token(K2, "dev1", "mod1", EXPIRY)),
        (
            "dev1/mod1",
            policy_token(P1, &module_resource, "device", EXPIRY),
        ),
        ("off", device_token(K1, "off", EXPIRY)),
        ("ghost", device_token(K1, "ghost", EXPIRY)),
        ("device-ec", device_token(K1, "device-ec", EXPIRY)),
    ];
    for (client_id, token) in &cases {
        let ours = connect(&hub, &reg, client_id, token);
        let theirs = connect(&hub, &rows, client_id, token);
        assert_eq!(ours, theirs, "{client_id}");
    }
    let presented = chain(&["device-ec.pem"]);
    let user = username("device-ec");
    let x509 = ConnectRequest::mqtt("device-ec", &user).with_client_chain(&presented);
    assert_eq!(
        authorize(&hub, &reg, &x509, NOW),
        authorize(&hub, &rows, &x509, NOW)
    );
    assert!(authorize(&hub, &rows, &x509, NOW).is_allowed());
    // The disabled device's statusReason comes from the full document, in both.
    assert!(matches!(
        connect(&hub, &rows, "off", &cases[5].1),
        Decision::Deny(DenyReason::Disabled {
            reason: Some(_),
            ..
        })
    ));
}
