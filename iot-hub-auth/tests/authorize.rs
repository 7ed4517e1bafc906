//! Every allow path and every deny reason of `authorize` / `authorize_service`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use iot_hub_auth::{
    AccessRights, AuthMethod, ChainError, ConnectRequest, Decision, DenyReason, DeviceIdentity,
    HubSettings, IdentityStatus, KeySlot, Presented, Registry, ThumbprintMatch, Transport,
    authorize, authorize_service,
};
use iot_sas::ResourceUri;

const NOW: u64 = AT;

fn deny(d: Decision<'_>) -> DenyReason {
    match d {
        Decision::Deny(r) => r,
        Decision::Allow(a) => panic!("expected deny, got {a:?}"),
    }
}

fn mqtt_sas<'a>(client: &'a str, user: &'a str, token: &'a str) -> ConnectRequest<'a> {
    ConnectRequest::mqtt(client, user).with_password(token)
}

/// The decision for an MQTT CONNECT of `client_id`, with the user name an SDK derives from it,
/// presenting `token`, at [`NOW`].
fn connect<'a, R: Registry + ?Sized>(
    hub: &'a HubSettings,
    reg: &'a R,
    client_id: &str,
    token: &str,
) -> Decision<'a> {
    authorize(
        hub,
        reg,
        &mqtt_sas(client_id, &username(client_id), token),
        NOW,
    )
}

// ---------------------------------------------------------------- allow paths

#[test]
fn allow_device_key_primary_and_secondary_on_every_transport() {
    let (hub, reg) = (hub(), registry());
    let user = username("dev1");
    for (key, slot) in [(K1, KeySlot::Primary), (K2, KeySlot::Secondary)] {
        let token = device_token(key, "dev1", EXPIRY);
        let amqp_user = "dev1@sas.contoso";
        let requests = [
            mqtt_sas("dev1", &user, &token),
            mqtt_sas("dev1", &user, &token).over(Transport::MqttWs),
            ConnectRequest::amqp_sasl(amqp_user, &token),
            ConnectRequest::amqp_sasl(amqp_user, &token).over(Transport::AmqpWs),
            ConnectRequest::new(Transport::Amqp)
                .with_identity("dev1", None)
                .with_password(&token),
            ConnectRequest::https("dev1").with_password(&token),
        ];
        for req in requests {
            let d = authorize(&hub, &reg, &req, NOW);
            let allow = d.allowed().unwrap_or_else(|| panic!("{req:?}: {d:?}"));
            assert_eq!(allow.identity.device_id, "dev1");
            assert_eq!(allow.method, AuthMethod::DeviceKey(slot));
            assert_eq!(allow.rights, AccessRights::DEVICE_CONNECT);
            assert_eq!(
                allow.valid_until, EXPIRY,
                "the hub drops the connection at se"
            );
        }
    }
}

#[test]
fn allow_module_key() {
    let (hub, reg) = (hub(), registry());
    let token = module_token(K2, "dev1", "mod1", EXPIRY);
    let d = connect(&hub, &reg, "dev1/mod1", &token);
    let allow = d.allowed().unwrap();
    assert_eq!(allow.identity.module_id.as_deref(), Some("mod1"));
    assert_eq!(allow.method, AuthMethod::DeviceKey(KeySlot::Primary));
    let https = ConnectRequest::https("dev1").with_identity("dev1", Some("mod1"));
    assert!(authorize(&hub, &reg, &https.with_password(&token), NOW).is_allowed());
}

#[test]
fn allow_policy_tokens_device_scoped_devices_wide_and_hub_wide() {
    let (hub, reg) = (hub(), registry());
    let user = username("dev1");
    for resource in [
        ResourceUri::Device {
            host: HOST,
            device_id: "dev1",
        },
        ResourceUri::Devices { host: HOST },
        ResourceUri::Hub { host: HOST },
    ] {
        for (policy, key, slot) in [
            ("device", P1, KeySlot::Primary),
            ("iothubowner", O2, KeySlot::Secondary),
        ] {
            let token = policy_token(key, &resource, policy, EXPIRY);
            let d = authorize(&hub, &reg, &mqtt_sas("dev1", &user, &token), NOW);
            let allow = d
                .allowed()
                .unwrap_or_else(|| panic!("{resource:?} {policy}: {d:?}"));
            assert_eq!(
                allow.method,
                AuthMethod::Policy {
                    name: policy,
                    key: slot
                }
            );
            assert_eq!(allow.rights, AccessRights::DEVICE_CONNECT);
        }
    }
    // AMQP: {policy}@sas.root.{hub} with the device named by the link.
    let token = policy_token(P1, &ResourceUri::Devices { host: HOST }, "device", EXPIRY);
    let req =
        ConnectRequest::amqp_sasl("device@sas.root.contoso", &token).with_identity("dev1", None);
    assert!(authorize(&hub, &reg, &req, NOW).is_allowed());
    // A policy token also connects a module (segment prefix, §1.4.5).
    let token = policy_token(
        P1,
        &ResourceUri::Device {
            host: HOST,
            device_id: "dev1",
        },
        "device",
        EXPIRY,
    );
    assert!(connect(&hub, &reg, "dev1/mod1", &token).is_allowed());
}

#[test]
fn allow_self_signed_thumbprints_sha256_and_sha1() {
    let (hub, reg) = (hub(), registry());
    for (device, file, expected) in [
        ("self1", "device-self-signed.pem", ThumbprintMatch::Primary),
        ("self1", "device-ec.pem", ThumbprintMatch::Secondary),
        (
            "self-sha1",
            "device-self-signed.pem",
            ThumbprintMatch::Primary,
        ),
    ] {
        let certs = chain(&[file]);
        let user = username(device);
        for transport in Transport::ALL {
            let req = match transport {
                Transport::Mqtt | Transport::MqttWs => ConnectRequest::mqtt(device, &user),
                _ => ConnectRequest::new(transport).with_identity(device, None),
            }
            .over(transport)
            .with_client_chain(&certs);
            let d = authorize(&hub, &reg, &req, NOW);
            let allow = d
                .allowed()
                .unwrap_or_else(|| panic!("{device} {file} {transport}: {d:?}"));
            assert_eq!(allow.method, AuthMethod::Thumbprint(expected));
            let info = iot_x509::CertificateInfo::parse(certs[0].as_ref()).unwrap();
            assert_eq!(allow.valid_until, info.not_after() as u64);
        }
    }
}

#[test]
fn allow_ca_signed_direct_via_intermediate_and_module() {
    let (hub, reg) = (hub(), registry());
    for (client, files, ca) in [
        ("device-ec", vec!["device-ec.pem"], "root-ec"),
        (
            "device-via-int",
            vec!["device-via-intermediate.pem", "intermediate-ec.pem"],
            "root-ec",
        ),
        ("device-1/module-a", vec!["module.pem"], "root-ec"),
    ] {
        let certs = chain(&files);
        let user = username(client);
        let req = ConnectRequest::mqtt(client, &user).with_client_chain(&certs);
        let d = authorize(&hub, &reg, &req, NOW);
        let allow = d.allowed().unwrap_or_else(|| panic!("{client}: {d:?}"));
        match &allow.method {
            AuthMethod::Ca { name } => assert!(name == ca || name == "intermediate-ec", "{name}"),
            other => panic!("{other:?}"),
        }
        let leaf = iot_x509::CertificateInfo::parse(certs[0].as_ref()).unwrap();
        assert!(allow.valid_until <= leaf.not_after() as u64);
    }
    // With the setting on, CA over WebSockets is accepted.
    let mut hub = hub;
    hub.x509_ca_over_websockets = true;
    let certs = chain(&["device-ec.pem"]);
    let user = username("device-ec");
    let req = ConnectRequest::mqtt("device-ec", &user)
        .over(Transport::MqttWs)
        .with_client_chain(&certs);
    assert!(authorize(&hub, &reg, &req, NOW).is_allowed());
}

#[test]
fn allow_service_tokens() {
    let hub = hub();
    let token = policy_token(S1, &ResourceUri::Hub { host: HOST }, "service", EXPIRY);
    let ok = authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW).unwrap();
    assert_eq!(
        (ok.policy, ok.key, ok.valid_until),
        ("service", KeySlot::Primary, EXPIRY)
    );
    let token = policy_token(O2, &ResourceUri::Hub { host: HOST }, "iothubowner", EXPIRY);
    let ok = authorize_service(&hub, &token, AccessRights::REGISTRY_WRITE, NOW).unwrap();
    assert_eq!(ok.rights, AccessRights::ALL);
    assert_eq!(ok.key, KeySlot::Secondary);
}

// ---------------------------------------------------------------- seed rules

#[test]
fn seed_rule_sas_devices_are_symmetric_key_identities() {
    let (hub, reg) = (hub(), registry());
    // A sas identity presenting a certificate is refused...
    let certs = chain(&["device-ec.pem"]);
    let user = username("dev1");
    let req = ConnectRequest::mqtt("dev1", &user).with_client_chain(&certs);
    assert_eq!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::CredentialMismatch {
            identity: "dev1".into(),
            auth_type: iot_hub_auth::AuthenticationType::Sas,
            presented: Presented::ClientCertificate,
        }
    );
    // ...and an X.509 identity presenting a device-key token is refused.
    let token = device_token(K1, "device-ec", EXPIRY);
    let r = deny(connect(&hub, &reg, "device-ec", &token));
    assert!(
        matches!(
            r,
            DenyReason::CredentialMismatch {
                presented: Presented::DeviceToken,
                ..
            }
        ),
        "{r}"
    );
}

#[test]
fn seed_rule_x509_ca_over_websockets_refused_by_default() {
    let (hub, reg) = (hub(), registry());
    assert!(!hub.x509_ca_over_websockets);
    let certs = chain(&["device-ec.pem"]);
    let user = username("device-ec");
    for transport in [Transport::MqttWs, Transport::AmqpWs] {
        let req = match transport {
            Transport::MqttWs => ConnectRequest::mqtt("device-ec", &user),
            _ => ConnectRequest::new(transport).with_identity("device-ec", None),
        }
        .over(transport)
        .with_client_chain(&certs);
        let r = deny(authorize(&hub, &reg, &req, NOW));
        assert_eq!(r, DenyReason::X509CaOverWebSockets { transport });
        let text = r.to_string();
        assert!(
            text.contains("x509CaOverWebSockets") && text.contains("default"),
            "{text}"
        );
    }
    // Plain MQTT is fine, and selfSigned over WebSockets is not affected.
    let req = ConnectRequest::mqtt("device-ec", &user).with_client_chain(&certs);
    assert!(authorize(&hub, &reg, &req, NOW).is_allowed());
}

#[test]
fn seed_rule_removed_device_is_refused_on_next_connect() {
    let hub = hub();
    let mut reg = registry();
    let token = device_token(K1, "dev1", EXPIRY);
    let user = username("dev1");
    assert!(authorize(&hub, &reg, &mqtt_sas("dev1", &user, &token), NOW).is_allowed());
    assert!(reg.remove("dev1", None).is_some());
    assert_eq!(
        deny(authorize(&hub, &reg, &mqtt_sas("dev1", &user, &token), NOW)),
        DenyReason::UnknownIdentity {
            identity: "dev1".into()
        }
    );
    // Its modules went with it.
    let token = module_token(K2, "dev1", "mod1", EXPIRY);
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1/mod1", &token)),
        DenyReason::UnknownIdentity { .. }
    ));
}

// ---------------------------------------------------------------- deny reasons

#[test]
fn deny_malformed_claims() {
    let (hub, reg) = (hub(), registry());
    let token = device_token(K1, "dev1", EXPIRY);
    let cases = [
        ConnectRequest {
            username: None,
            ..ConnectRequest::mqtt("dev1", "")
        }
        .with_password(&token),
        ConnectRequest {
            client_id: None,
            ..ConnectRequest::mqtt("", "x")
        }
        .with_password(&token),
        mqtt_sas("dev1", "no-slash", &token),
        mqtt_sas("", "h/d", &token),
        ConnectRequest::new(Transport::Https).with_password(&token),
        ConnectRequest::new(Transport::Amqp).with_password(&token),
        ConnectRequest::amqp_sasl("dev1", &token),
    ];
    for req in cases {
        let r = deny(authorize(&hub, &reg, &req, NOW));
        assert!(matches!(r, DenyReason::MalformedClaim(_)), "{req:?}: {r}");
    }
}

#[test]
fn deny_unknown_identity() {
    let (hub, reg) = (hub(), registry());
    let token = device_token(K1, "ghost", EXPIRY);
    let user = username("ghost");
    let r = deny(authorize(
        &hub,
        &reg,
        &mqtt_sas("ghost", &user, &token),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::UnknownIdentity {
            identity: "ghost".into()
        }
    );
    assert!(r.to_string().contains("create it"), "{r}");
    // Device IDs are case-sensitive.
    let user = username("DEV1");
    assert!(matches!(
        deny(authorize(&hub, &reg, &mqtt_sas("DEV1", &user, &token), NOW)),
        DenyReason::UnknownIdentity { .. }
    ));
    // Unknown module of a known device.
    assert_eq!(
        deny(connect(&hub, &reg, "dev1/nope", &token)),
        DenyReason::UnknownIdentity {
            identity: "dev1/nope".into()
        }
    );
}

#[test]
fn deny_disabled() {
    let hub = hub();
    let mut reg = registry();
    let token = device_token(K1, "off", EXPIRY);
    let user = username("off");
    let r = deny(authorize(&hub, &reg, &mqtt_sas("off", &user, &token), NOW));
    assert_eq!(
        r,
        DenyReason::Disabled {
            identity: "off".into(),
            reason: Some("lost in transit".into())
        }
    );
    assert!(r.to_string().contains("lost in transit"), "{r}");
    // Disabling a working device refuses its next connect; enabling restores it.
    let token = device_token(K1, "dev1", EXPIRY);
    reg.set_status("dev1", None, IdentityStatus::Disabled, None);
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1", &token)),
        DenyReason::Disabled { .. }
    ));
    reg.set_status("dev1", None, IdentityStatus::Enabled, None);
    assert!(connect(&hub, &reg, "dev1", &token).is_allowed());
}

#[test]
fn deny_credential_mismatch() {
    let (hub, reg) = (hub(), registry());
    // No credential at all.
    let user = username("dev1");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("dev1", &user),
        NOW,
    ));
    assert!(
        matches!(
            r,
            DenyReason::CredentialMismatch {
                presented: Presented::Nothing,
                ..
            }
        ),
        "{r}"
    );
    // An identity of type `none` never connects, whatever it presents.
    let token = module_token(K1, "dev1", "none1", EXPIRY);
    let user = username("dev1/none1");
    let r = deny(connect(&hub, &reg, "dev1/none1", &token));
    assert!(matches!(r, DenyReason::CredentialMismatch { .. }), "{r}");
    let token = policy_token(P1, &ResourceUri::Hub { host: HOST }, "device", EXPIRY);
    let r = deny(connect(&hub, &reg, "dev1/none1", &token));
    assert!(
        matches!(
            r,
            DenyReason::CredentialMismatch {
                presented: Presented::PolicyToken,
                ..
            }
        ),
        "{r}"
    );
    let certs = chain(&["device-self-signed.pem"]);
    let req = ConnectRequest::mqtt("dev1/none1", &user).with_client_chain(&certs);
    assert!(matches!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::CredentialMismatch { .. }
    ));
}

#[test]
fn deny_sas_disabled_by_each_setting() {
    let reg = registry();
    let dev_token = device_token(K1, "dev1", EXPIRY);
    let mod_token = module_token(K2, "dev1", "mod1", EXPIRY);
    let pol_token = policy_token(P1, &ResourceUri::Hub { host: HOST }, "device", EXPIRY);
    let (dev_user, mod_user) = (username("dev1"), username("dev1/mod1"));

    let mut hub = hub();
    hub.disable_device_sas = true;
    let r = deny(authorize(
        &hub,
        &reg,
        &mqtt_sas("dev1", &dev_user, &dev_token),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::SasDisabled {
            setting: "disableDeviceSAS"
        }
    );
    assert!(r.to_string().contains("disableDeviceSAS"));
    // Module keys and policy keys are outside its scope (tests/hardening.rs has the full table).
    for (client, user, token) in [
        ("dev1/mod1", &mod_user, &mod_token),
        ("dev1", &dev_user, &pol_token),
    ] {
        assert!(
            authorize(&hub, &reg, &mqtt_sas(client, user, token), NOW).is_allowed(),
            "{client}"
        );
    }
    // X.509 still works.
    let certs = chain(&["device-ec.pem"]);
    let user = username("device-ec");
    assert!(
        authorize(
            &hub,
            &reg,
            &ConnectRequest::mqtt("device-ec", &user).with_client_chain(&certs),
            NOW
        )
        .is_allowed()
    );

    let mut hub = fixtures::hub();
    hub.disable_module_sas = true;
    assert!(authorize(&hub, &reg, &mqtt_sas("dev1", &dev_user, &dev_token), NOW).is_allowed());
    let r = deny(authorize(
        &hub,
        &reg,
        &mqtt_sas("dev1/mod1", &mod_user, &mod_token),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::SasDisabled {
            setting: "disableModuleSAS"
        }
    );

    let mut hub = fixtures::hub();
    hub.disable_local_auth = true;
    assert!(authorize(&hub, &reg, &mqtt_sas("dev1", &dev_user, &dev_token), NOW).is_allowed());
    let r = deny(authorize(
        &hub,
        &reg,
        &mqtt_sas("dev1", &dev_user, &pol_token),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::SasDisabled {
            setting: "disableLocalAuth"
        }
    );
    let svc = policy_token(S1, &ResourceUri::Hub { host: HOST }, "service", EXPIRY);
    assert_eq!(
        authorize_service(&hub, &svc, AccessRights::SERVICE_CONNECT, NOW).unwrap_err(),
        DenyReason::SasDisabled {
            setting: "disableLocalAuth"
        }
    );
}

#[test]
fn deny_malformed_token() {
    let (hub, reg) = (hub(), registry());
    for bad in [
        "",
        "SharedAccessSignature",
        "sr=x&sig=y&se=1",
        "SharedAccessSignature sr=a&se=1",
        "SharedAccessSignature sr=a&sig=AAAA&se=notanumber",
    ] {
        let r = deny(connect(&hub, &reg, "dev1", bad));
        assert!(matches!(r, DenyReason::MalformedToken(_)), "{bad:?}: {r}");
    }
    assert!(matches!(
        authorize_service(&hub, "junk", AccessRights::SERVICE_CONNECT, NOW),
        Err(DenyReason::MalformedToken(_))
    ));
}

#[test]
fn deny_expired_with_skew() {
    let (mut hub, reg) = (hub(), registry());
    let token = device_token(K1, "dev1", NOW - 301);
    let r = deny(connect(&hub, &reg, "dev1", &token));
    assert_eq!(
        r,
        DenyReason::TokenExpired {
            expiry: NOW - 301,
            now: NOW,
            skew: 300
        }
    );
    // Within the default 5-minute skew it is still accepted...
    let token = device_token(K1, "dev1", NOW - 300);
    assert!(connect(&hub, &reg, "dev1", &token).is_allowed());
    // ...and not with zero skew.
    hub.allowed_clock_skew_secs = 0;
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1", &token)),
        DenyReason::TokenExpired { .. }
    ));
    let svc = policy_token(S1, &ResourceUri::Hub { host: HOST }, "service", NOW - 1);
    assert!(matches!(
        authorize_service(&hub, &svc, AccessRights::SERVICE_CONNECT, NOW),
        Err(DenyReason::TokenExpired { .. })
    ));
}

#[test]
fn deny_bad_signature() {
    let (hub, reg) = (hub(), registry());
    let token = device_token(K3, "dev1", EXPIRY);
    let r = deny(connect(&hub, &reg, "dev1", &token));
    assert_eq!(
        r,
        DenyReason::BadSignature {
            signer: "identity dev1".into()
        }
    );
    // A module does not accept its device's key (§1.5 OPEN: refused).
    let token = module_token(K1, "dev1", "mod1", EXPIRY);
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1/mod1", &token)),
        DenyReason::BadSignature { .. }
    ));
    // Tampered expiry.
    let token =
        device_token(K1, "dev1", EXPIRY).replace(&EXPIRY.to_string(), &(EXPIRY + 1).to_string());
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1", &token)),
        DenyReason::BadSignature { .. }
    ));
    // Policy token with a wrong key.
    let token = policy_token(K3, &ResourceUri::Hub { host: HOST }, "device", EXPIRY);
    assert_eq!(
        deny(connect(&hub, &reg, "dev1", &token)),
        DenyReason::BadSignature {
            signer: "policy device".into()
        }
    );
    let token = policy_token(K3, &ResourceUri::Hub { host: HOST }, "service", EXPIRY);
    assert!(matches!(
        authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW),
        Err(DenyReason::BadSignature { .. })
    ));
}

/// The token's own checks run in `iot_sas::check_token`'s order (MAC, expiry, scope): a token
/// that fails several reports the first, for device-key, policy and service tokens alike.
#[test]
fn token_checks_run_mac_then_expiry_then_scope() {
    let (hub, reg) = (hub(), registry());
    let user = username("dev1");
    let late = NOW - 301;
    let dev2 = ResourceUri::Device {
        host: HOST,
        device_id: "dev2",
    };
    let refuse = |token: &str| deny(authorize(&hub, &reg, &mqtt_sas("dev1", &user, token), NOW));
    // Wrong key, expired, other device: the MAC speaks first.
    let token = iot_sas::sign(&key(K3), &dev2, late, None).unwrap();
    assert!(matches!(refuse(&token), DenyReason::BadSignature { .. }));
    // Right key, expired, other device: then the expiry.
    let token = iot_sas::sign(&key(K1), &dev2, late, None).unwrap();
    assert!(matches!(refuse(&token), DenyReason::TokenExpired { .. }));
    // Policy token: wrong key and expired, then right key, expired and out of scope.
    let token = policy_token(K3, &ResourceUri::Hub { host: HOST }, "device", late);
    assert!(matches!(refuse(&token), DenyReason::BadSignature { .. }));
    let token = policy_token(P1, &dev2, "device", late);
    assert!(matches!(refuse(&token), DenyReason::TokenExpired { .. }));
    let token = policy_token(P1, &dev2, "device", EXPIRY);
    assert!(matches!(refuse(&token), DenyReason::TokenScope { .. }));
    let svc = policy_token(K3, &ResourceUri::Hub { host: HOST }, "service", late);
    assert!(matches!(
        authorize_service(&hub, &svc, AccessRights::SERVICE_CONNECT, NOW),
        Err(DenyReason::BadSignature { .. })
    ));
}

#[test]
fn deny_token_scope() {
    let (hub, reg) = (hub(), registry());
    let user = username("dev1");
    // Signed with dev1's key but for another device, the hub, `devices`, a module, another hub.
    for resource in [
        ResourceUri::Device {
            host: HOST,
            device_id: "dev2",
        },
        ResourceUri::Device {
            host: "other.azure-devices.net",
            device_id: "dev1",
        },
        ResourceUri::Hub { host: HOST },
        ResourceUri::Devices { host: HOST },
        ResourceUri::Module {
            host: HOST,
            device_id: "dev1",
            module_id: "mod1",
        },
    ] {
        let token = iot_sas::sign(&key(K1), &resource, EXPIRY, None).unwrap();
        let r = deny(authorize(&hub, &reg, &mqtt_sas("dev1", &user, &token), NOW));
        match r {
            DenyReason::TokenScope { expected, .. } => {
                assert_eq!(expected, "contoso.azure-devices.net/devices/dev1")
            }
            other => panic!("{resource:?}: {other}"),
        }
    }
    // A device-scoped policy token does not cover another device (segment rule: dev1 vs dev10).
    let mut reg = reg;
    reg.upsert(DeviceIdentity::sas("dev10", K1, K2)).unwrap();
    let token = policy_token(
        P1,
        &ResourceUri::Device {
            host: HOST,
            device_id: "dev1",
        },
        "device",
        EXPIRY,
    );
    assert!(matches!(
        deny(connect(&hub, &reg, "dev10", &token)),
        DenyReason::TokenScope { .. }
    ));
    // A service token scoped below the hub does not cover the hub.
    let token = policy_token(S1, &ResourceUri::Devices { host: HOST }, "service", EXPIRY);
    assert!(matches!(
        authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW),
        Err(DenyReason::TokenScope { .. })
    ));
}

#[test]
fn deny_unknown_policy_and_missing_rights() {
    let (hub, reg) = (hub(), registry());
    let token = policy_token(P1, &ResourceUri::Hub { host: HOST }, "nope", EXPIRY);
    let r = deny(connect(&hub, &reg, "dev1", &token));
    assert_eq!(
        r,
        DenyReason::UnknownPolicy {
            name: "nope".into()
        }
    );
    assert_eq!(
        authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW).unwrap_err(),
        r
    );
    for (policy, key) in [("service", S1), ("registryRead", R1)] {
        let token = policy_token(key, &ResourceUri::Hub { host: HOST }, policy, EXPIRY);
        let r = deny(connect(&hub, &reg, "dev1", &token));
        assert!(
            matches!(&r, DenyReason::PolicyLacksRights { required, .. } if *required == AccessRights::DEVICE_CONNECT),
            "{r}"
        );
        assert!(r.to_string().contains("DeviceConnect"), "{r}");
    }
    let token = policy_token(R1, &ResourceUri::Hub { host: HOST }, "registryRead", EXPIRY);
    assert!(authorize_service(&hub, &token, AccessRights::REGISTRY_READ, NOW).is_ok());
    assert!(matches!(
        authorize_service(&hub, &token, AccessRights::REGISTRY_WRITE, NOW),
        Err(DenyReason::PolicyLacksRights { .. })
    ));
    let device_key_token = device_token(K1, "dev1", EXPIRY);
    assert_eq!(
        authorize_service(&hub, &device_key_token, AccessRights::SERVICE_CONNECT, NOW).unwrap_err(),
        DenyReason::NotAPolicyToken
    );
}

/// Each policy has its own keys: a token naming one policy but signed with another's key is
/// refused, for device connects and back-end requests alike.
#[test]
fn deny_a_policy_token_signed_with_another_policys_key() {
    let (hub, reg) = (hub(), registry());
    let hub_wide = ResourceUri::Hub { host: HOST };
    let token = policy_token(P1, &hub_wide, "iothubowner", EXPIRY);
    assert_eq!(
        deny(connect(&hub, &reg, "dev1", &token)),
        DenyReason::BadSignature {
            signer: "policy iothubowner".into()
        }
    );
    let token = policy_token(P2, &hub_wide, "service", EXPIRY);
    assert_eq!(
        authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW).unwrap_err(),
        DenyReason::BadSignature {
            signer: "policy service".into()
        }
    );
    let token = policy_token(S1, &hub_wide, "service", EXPIRY);
    assert!(authorize_service(&hub, &token, AccessRights::SERVICE_CONNECT, NOW).is_ok());
}

#[test]
fn deny_amqp_policy_name_mismatch() {
    let (hub, reg) = (hub(), registry());
    let token = policy_token(P1, &ResourceUri::Hub { host: HOST }, "device", EXPIRY);
    let req = ConnectRequest::amqp_sasl("iothubowner@sas.root.contoso", &token)
        .with_identity("dev1", None);
    assert_eq!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::PolicyNameMismatch {
            user_name_policy: "iothubowner".into(),
            token_policy: "device".into()
        }
    );
}

#[test]
fn deny_thumbprint_mismatch() {
    let (hub, reg) = (hub(), registry());
    let certs = chain(&["device-rsa.pem"]);
    let user = username("self1");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("self1", &user).with_client_chain(&certs),
        NOW,
    ));
    match &r {
        DenyReason::ThumbprintMismatch {
            identity, sha256, ..
        } => {
            assert_eq!(identity, "self1");
            assert_eq!(*sha256, sha256_of_fixture("device-rsa.pem").to_string());
        }
        other => panic!("{other}"),
    }
    assert!(r.to_string().contains("register"), "{r}");
}

#[test]
fn deny_chain_rejected_with_the_x509_reason() {
    let (hub, reg) = (hub(), registry());
    type Case<'a> = (&'a str, Vec<&'a str>, fn(&ChainError) -> bool);
    let cases: [Case<'_>; 3] = [
        ("device-expired", vec!["device-expired.pem"], |e| {
            matches!(e, ChainError::Expired { .. })
        }),
        ("device-ec", vec!["device-forged-issuer.pem"], |e| {
            matches!(e, ChainError::BadSignature)
        }),
        ("device-ec", vec!["device-untrusted-root.pem"], |e| {
            matches!(e, ChainError::UnknownIssuer)
        }),
    ];
    for (client, files, expected) in cases {
        let certs = chain(&files);
        let user = username(client);
        let r = deny(authorize(
            &hub,
            &reg,
            &ConnectRequest::mqtt(client, &user).with_client_chain(&certs),
            NOW,
        ));
        match &r {
            DenyReason::ChainRejected(e) => assert!(expected(e), "{client}: {e}"),
            other => panic!("{client}: {other}"),
        }
    }
    // Missing intermediate when only the root is registered.
    let mut root_only = fixtures::hub();
    assert!(root_only.cas.remove("intermediate-ec"));
    let certs = chain(&["device-via-intermediate.pem"]);
    let user = username("device-via-int");
    let req = ConnectRequest::mqtt("device-via-int", &user).with_client_chain(&certs);
    assert_eq!(
        deny(authorize(&root_only, &reg, &req, NOW)),
        DenyReason::ChainRejected(ChainError::UnknownIssuer)
    );
    // Garbage instead of a certificate.
    let junk = [iot_hub_auth::CertificateDer::from(vec![
        0x30, 0x03, 0x02, 0x01, 0x00,
    ])];
    let user = username("device-ec");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("device-ec", &user).with_client_chain(&junk),
        NOW,
    ));
    assert!(
        matches!(
            &r,
            DenyReason::ChainRejected(ChainError::Malformed(
                iot_x509::Error::MalformedCertificate(_)
            ))
        ),
        "{r}"
    );
    // The parse error is kept as the cause, down the source chain.
    let cause = std::error::Error::source(&r).expect("ChainRejected has a source");
    let parse = cause.source().expect("Malformed keeps the parse error");
    assert!(
        parse.to_string().starts_with("malformed certificate: "),
        "{parse}"
    );
    // A selfSigned identity whose certificate has expired (valid_until would be in the past).
    let mut reg = reg;
    reg.upsert(DeviceIdentity::self_signed(
        "old",
        sha256_of_fixture("device-expired.pem"),
        None,
    ))
    .unwrap();
    let certs = chain(&["device-expired.pem"]);
    let user = username("old");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("old", &user).with_client_chain(&certs),
        NOW,
    ));
    assert!(
        matches!(r, DenyReason::ChainRejected(ChainError::Expired { .. })),
        "{r}"
    );
}

#[test]
fn deny_cn_mismatch() {
    let (mut hub, mut reg) = (hub(), registry());
    reg.upsert(DeviceIdentity::certificate_authority("someone-else"))
        .unwrap();
    let certs = chain(&["device-ec.pem"]);
    let user = username("someone-else");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("someone-else", &user).with_client_chain(&certs),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::CnMismatch {
            expected: "someone-else".into(),
            found: Some("device-ec".into())
        }
    );
    assert!(r.to_string().contains("CN=someone-else"), "{r}");
    // Module certificate CN device-1/module-a presented for the device device-1.
    let certs = chain(&["module.pem"]);
    let user = username("device-1");
    assert!(matches!(
        deny(authorize(
            &hub,
            &reg,
            &ConnectRequest::mqtt("device-1", &user).with_client_chain(&certs),
            NOW
        )),
        DenyReason::CnMismatch { .. }
    ));
    // selfSigned: CN not checked by default (OPEN §10.4), checked with the setting.
    reg.upsert(DeviceIdentity::self_signed(
        "renamed",
        sha256_of_fixture("device-ec.pem"),
        None,
    ))
    .unwrap();
    let certs = chain(&["device-ec.pem"]);
    let user = username("renamed");
    let req = ConnectRequest::mqtt("renamed", &user).with_client_chain(&certs);
    assert!(authorize(&hub, &reg, &req, NOW).is_allowed());
    hub.self_signed_requires_cn = true;
    assert!(matches!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::CnMismatch { .. }
    ));
}

#[test]
fn deny_ca_not_verified() {
    let (hub, reg) = (hub(), registry());
    let certs = chain(&["device-rsa.pem"]);
    let user = username("device-rsa");
    let r = deny(authorize(
        &hub,
        &reg,
        &ConnectRequest::mqtt("device-rsa", &user).with_client_chain(&certs),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::CaNotVerified {
            ca_name: "root-rsa".into()
        }
    );
    assert!(r.to_string().contains("proof of possession"), "{r}");
    // Once verified, the same device connects.
    let mut hub = hub;
    hub.cas.set_verified("root-rsa", true);
    assert!(
        authorize(
            &hub,
            &reg,
            &ConnectRequest::mqtt("device-rsa", &user).with_client_chain(&certs),
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn deny_user_name_and_client_id_disagree() {
    let (hub, reg) = (hub(), registry());
    let token = device_token(K1, "dev1", EXPIRY);
    for (client, user) in [
        ("dev1", username("dev2")),
        ("dev1", username("dev1/mod1")),
        ("dev1/mod1", username("dev1")),
    ] {
        let r = deny(authorize(&hub, &reg, &mqtt_sas(client, &user, &token), NOW));
        assert!(
            matches!(r, DenyReason::ClientIdMismatch { .. }),
            "{client} {user}: {r}"
        );
    }
    // AMQP: device user name vs the link's device.
    let req = ConnectRequest::amqp_sasl("dev1@sas.contoso", &token).with_identity("dev2", None);
    assert!(matches!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::ClientIdMismatch { .. }
    ));
}

#[test]
fn deny_host_name_mismatch() {
    let (hub, reg) = (hub(), registry());
    let token = device_token(K1, "dev1", EXPIRY);
    let r = deny(authorize(
        &hub,
        &reg,
        &mqtt_sas(
            "dev1",
            "fabrikam.azure-devices.net/dev1/?api-version=2021-04-12",
            &token,
        ),
        NOW,
    ));
    assert_eq!(
        r,
        DenyReason::HostNameMismatch {
            expected: HOST.into(),
            found: "fabrikam.azure-devices.net".into()
        }
    );
    // Host names compare case-insensitively.
    let user = "CONTOSO.azure-devices.net/dev1/?api-version=2021-04-12";
    assert!(authorize(&hub, &reg, &mqtt_sas("dev1", user, &token), NOW).is_allowed());
    let req = ConnectRequest::amqp_sasl("dev1@sas.fabrikam", &token);
    assert!(matches!(
        deny(authorize(&hub, &reg, &req, NOW)),
        DenyReason::HostNameMismatch { .. }
    ));
}

/// Every deny reason (checked against the list of codes in src/decision.rs, so a new reason
/// must be added here), each with what its text must tell the operator: the data that names
/// the problem and the remedy.
#[test]
fn every_deny_reason_says_what_to_fix() {
    let reasons: Vec<(DenyReason, &[&str])> = vec![
        (
            DenyReason::MalformedClaim(iot_hub_auth::Error::MalformedUserName {
                reason: "empty device ID",
            }),
            &[
                "empty device ID",
                "send the identity as the transport requires",
            ],
        ),
        (
            DenyReason::UnknownIdentity {
                identity: "dev9".into(),
            },
            &["dev9", "create it in the identity registry"],
        ),
        (
            DenyReason::Disabled {
                identity: "dev9".into(),
                reason: Some("stolen".into()),
            },
            &["dev9", "stolen", "set its status to enabled"],
        ),
        (
            DenyReason::DeviceDisabled {
                module: "dev9/m".into(),
                device: "dev9".into(),
                reason: Some("stolen".into()),
            },
            &["dev9/m", "stolen", "set the device's status to enabled"],
        ),
        (
            DenyReason::CredentialMismatch {
                identity: "dev9".into(),
                auth_type: iot_hub_auth::AuthenticationType::SelfSigned,
                presented: Presented::DeviceToken,
            },
            &[
                "dev9",
                "selfSigned",
                "device key",
                "credential its authentication type requires",
            ],
        ),
        (
            DenyReason::SasDisabled {
                setting: "disableDeviceSAS",
            },
            &["disableDeviceSAS", "use X.509 or change disableDeviceSAS"],
        ),
        (
            DenyReason::MalformedToken(iot_sas::Error::MissingPrefix),
            &["SharedAccessSignature sr=...&sig=...&se="],
        ),
        (
            DenyReason::TokenExpired {
                expiry: 1_000,
                now: 2_000,
                skew: 300,
            },
            &[
                "1000",
                "2000",
                "300",
                "sign a new token with a later expiry",
            ],
        ),
        (
            DenyReason::BadSignature {
                signer: "identity dev9".into(),
            },
            &["identity dev9", "sign with the current key"],
        ),
        (
            DenyReason::TokenScope {
                resource: "h/devices/a".into(),
                expected: "h/devices/b".into(),
            },
            &["h/devices/a", "sign for `h/devices/b`"],
        ),
        (
            DenyReason::UnknownPolicy {
                name: "nope".into(),
            },
            &["nope", "use an existing policy name"],
        ),
        (
            DenyReason::NotAPolicyToken,
            &["shared access policy", "skn="],
        ),
        (
            DenyReason::PolicyLacksRights {
                policy: "service".into(),
                required: AccessRights::DEVICE_CONNECT,
                granted: AccessRights::SERVICE_CONNECT,
            },
            &[
                "service",
                "DeviceConnect",
                "ServiceConnect",
                "grant it or use another policy",
            ],
        ),
        (
            DenyReason::PolicyNameMismatch {
                user_name_policy: "device".into(),
                token_policy: "service".into(),
            },
            &["device", "service", "make them agree"],
        ),
        (
            DenyReason::ThumbprintMismatch {
                identity: "self9".into(),
                sha1: "AB".into(),
                sha256: "CD".into(),
            },
            &[
                "self9",
                "AB",
                "CD",
                "register this certificate's thumbprint",
            ],
        ),
        (
            DenyReason::ChainRejected(ChainError::UnknownIssuer),
            &["client certificate chain rejected"],
        ),
        (
            DenyReason::CnMismatch {
                expected: "dev9".into(),
                found: Some("dev8".into()),
            },
            &["dev8", "issue the device certificate with CN=dev9"],
        ),
        (
            DenyReason::CaNotVerified {
                ca_name: "root9".into(),
            },
            &["root9", "complete proof of possession"],
        ),
        (
            DenyReason::X509CaOverWebSockets {
                transport: Transport::MqttWs,
            },
            &["mqtt-ws", "set x509CaOverWebSockets to true"],
        ),
        (
            DenyReason::ClientIdMismatch {
                user_name: "dev8".into(),
                client_id: "dev9".into(),
            },
            &["dev8", "dev9", "must be the same deviceId[/moduleId]"],
        ),
        (
            DenyReason::HostNameMismatch {
                expected: "contoso.azure-devices.net".into(),
                found: "fabrikam.azure-devices.net".into(),
            },
            &[
                "fabrikam.azure-devices.net",
                "put the hub host name in the user name",
            ],
        ),
    ];
    for (reason, says) in &reasons {
        let text = reason.to_string();
        for phrase in *says {
            assert!(
                text.contains(phrase),
                "{}: {text:?} lacks {phrase:?}",
                reason.code()
            );
        }
        assert!(!text.ends_with('.'), "{text}");
    }
    // Every reason the crate has is above: the codes of `DenyReason::code` in the source.
    let source = include_str!("../src/decision.rs");
    let body = &source[source.find("pub fn code(&self)").unwrap()..];
    let body = &body[..body.find("\n    }\n").unwrap()];
    let mut all: Vec<&str> = body
        .split("=> \"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    let mut tested: Vec<&str> = reasons.iter().map(|(r, _)| r.code()).collect();
    all.sort_unstable();
    tested.sort_unstable();
    assert_eq!(tested, all, "every DenyReason has a row above, once");
}

#[test]
fn registry_without_prekeyed_keys_gives_the_same_decisions() {
    struct Plain(Vec<DeviceIdentity>);
    impl Registry for Plain {
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
    let reg = Plain(vec![DeviceIdentity::sas("dev1", K1, K2)]);
    let good = device_token(K2, "dev1", EXPIRY);
    let d = connect(&hub, &reg, "dev1", &good);
    assert_eq!(
        d.allowed().unwrap().method,
        AuthMethod::DeviceKey(KeySlot::Secondary)
    );
    let bad = device_token(K3, "dev1", EXPIRY);
    assert!(matches!(
        deny(connect(&hub, &reg, "dev1", &bad)),
        DenyReason::BadSignature { .. }
    ));
}
