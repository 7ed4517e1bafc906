// Fuzz logic for `iot_hub_auth::authorize` and `authorize_service` over arbitrary request
// fields (shared by cargo-fuzz and iot-hub-auth/tests/fuzz_replay.rs, which replays the same
// world through `world()` and `Input::parse`).
//
// Input: fields separated by NUL bytes: transport name, client ID, user name, password, device
// ID, module ID, now (decimal), then everything after the seventh NUL is the client
// certificate (DER). Empty fields are absent. A password that starts with 0x01 is signed here
// (fuzz/sas_reference.rs `sign_mode`, with the world's `KEYS`), so mutated `sr` spellings keep
// a valid MAC.
//
// The world is the tables below: every identity and policy has its own keys, a disabled device
// `off` has enabled modules of each credential type, a device ID holds reserved characters, and
// a verified and an unverified CA are registered (certificates in
// iot-hub-auth/tests/data/fuzz-pki/, made by iot-hub-auth/tests/data/make_fuzz_seeds.py).
//
// Invariants, each checked against the tables and fuzz/sas_reference.rs, not against the crate:
// never panics; an allow names the identity the request claims (MQTT client ID and user name,
// AMQP SASL user name or link, HTTPS path), that identity is enabled and so is its parent
// device; a device-key allow has no `skn`, an `sr` naming exactly the identity once decoded,
// and a MAC under that identity's key; a policy allow has `skn` = a policy with
// DeviceConnect, an `sr` covering the identity by path segments once decoded, and a MAC under
// that policy's key; a thumbprint allow presented a leaf whose SHA-1 or SHA-256 is registered
// for a selfSigned identity; a CA allow is for a certificateAuthority identity whose name is
// the leaf's CN, anchored at the verified CA; `valid_until` is not before `now - skew`. A
// service allow is signed by a policy with ServiceConnect and covers the hub.

use std::borrow::Cow;
use std::sync::OnceLock;

use iot_hub_auth::{
    AccessRights, AuthMethod, AuthenticationType, CertificateDer, ConnectRequest, Decision,
    DeviceIdentity, HubSettings, InMemoryRegistry, KeySlot, SharedAccessPolicy, Thumbprint,
    ThumbprintMatch, Transport, authorize, authorize_service,
};

#[allow(dead_code)]
mod sas_reference {
    include!("../sas_reference.rs");
}

/// The hub's host name.
pub const HOST: &str = "contoso.azure-devices.net";

/// Every key of the world: `base64(sha256("hub fuzz key N"))`, one per identity or policy slot.
pub const KEYS: [&str; 16] = [
    "681WvchnvwXZeMqHBPSNDBI0QeecOwK2mtexp7wfir0=",
    "We68Bcs0RXIEdPj1WgdlS8+uocIgcugTRNUh7fTYR3E=",
    "t68kc1xmF3iStXjMe5iVncbCP3IBygxAhvkuVUymFDU=",
    "rTKzFkR9VIV3iVJvHy8Dmt55eFOwLEWfOg/WGVjnksY=",
    "22k7MvX3sUWhiSEoQmJkALj0NRoki6TGZPa3bdXzWGs=",
    "C92uurnkPCo1AKX+6viIS6vcR63+drGx03RKfuFXgB8=",
    "AtvEU9LnjgQwziLeMQRhv8+txd3xVDOyC15eyw6plI0=",
    "o4uy1cTotX5BxRVLOwHnNQ/XIbBzkHOb7bloLa3iIWM=",
    "CaiUzfKiEke2Q1F1l7TLvCQZsn9YCtLujH592FEhKeI=",
    "jq1BsJXVlOJ+l7ZXPTX5P4zJY9T80t2AZcCriQ6wgXw=",
    "473/47t/h9H33NGAUp9ovOL/VpR+6xqdpCkIw2DFL1E=",
    "MnUu/eLpInm7wDN9WNBf3lg0nzM85sZQhv/cK8xtdw8=",
    "NDxFHYJRAGm78OarmC00ygayaQz1XqvXcp+C8/JsNkg=",
    "BxyRBAwjq7ccok+GvJ/SeZHj2GxXU4/TuPWFbp/Eopk=",
    "C8wYd7XZf0L8tjzyzCZkJA+LG44qtX1Kek896njiOOE=",
    "MNnAmuGKiDHKlssP5OARMXQ272lZiaG+xuLHkmtGnz0=",
];

/// SHA-256 of examples/certs/device-self-signed.pem (`openssl x509 -fingerprint -sha256`).
pub const SELF_SIGNED: &str = "9026AACE3D14805FB8C825AA6ABEBBE307F93AB75AFFDB12A1A4088DA64DC7A7";

/// How a world identity authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `sas` with `KEYS[primary]`, `KEYS[secondary]`.
    Sas(usize, usize),
    /// `selfSigned` with this SHA-256 thumbprint.
    SelfSigned(&'static str),
    /// `certificateAuthority`.
    Ca,
}

/// One identity of the world.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    /// Device ID.
    pub device: &'static str,
    /// Module ID.
    pub module: Option<&'static str>,
    /// Credential.
    pub credential: Credential,
    /// `status: enabled`.
    pub enabled: bool,
}

const fn id(
    device: &'static str,
    module: Option<&'static str>,
    credential: Credential,
) -> Identity {
    Identity {
        device,
        module,
        credential,
        enabled: true,
    }
}

/// The registry.
pub const IDENTITIES: [Identity; 9] = [
    id("dev1", None, Credential::Sas(0, 1)),
    id("dev1", Some("mod1"), Credential::Sas(2, 3)),
    Identity {
        enabled: false,
        ..id("off", None, Credential::Sas(4, 5))
    },
    id("off", Some("offmod"), Credential::Sas(6, 7)),
    id("off", Some("offself"), Credential::SelfSigned(SELF_SIGNED)),
    id("off", Some("offca"), Credential::Ca),
    id("n@m.et#st", None, Credential::Sas(8, 9)),
    id("self1", None, Credential::SelfSigned(SELF_SIGNED)),
    id("ca1", None, Credential::Ca),
];

/// The hub's shared access policies: name, rights, `KEYS` index of the primary and secondary.
pub const POLICIES: [(&str, AccessRights, usize, usize); 3] = [
    ("device", AccessRights::DEVICE_CONNECT, 10, 11),
    ("service", AccessRights::SERVICE_CONNECT, 12, 13),
    ("registryRead", AccessRights::REGISTRY_READ, 14, 15),
];

/// The verified CA's registered name.
pub const VERIFIED_CA: &str = "hubroot";
const HUB_ROOT: &[u8] = include_bytes!("../../iot-hub-auth/tests/data/fuzz-pki/hub-root.pem");
const PENDING_ROOT: &[u8] =
    include_bytes!("../../iot-hub-auth/tests/data/fuzz-pki/pending-root.pem");

/// The hub settings and registry built from the tables (once).
pub fn world() -> &'static (HubSettings, InMemoryRegistry) {
    static WORLD: OnceLock<(HubSettings, InMemoryRegistry)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut hub = HubSettings::new(HOST).expect("host");
        for (name, rights, primary, secondary) in POLICIES {
            let policy = SharedAccessPolicy {
                key_name: name.into(),
                primary_key: KEYS[primary].into(),
                secondary_key: KEYS[secondary].into(),
                rights,
            };
            hub.add_policy(&policy).expect("policy");
        }
        for (name, pem, verified) in [
            (VERIFIED_CA, HUB_ROOT, true),
            ("pending", PENDING_ROOT, false),
        ] {
            let der = iot_x509::parse_certificates(pem)
                .expect("CA PEM")
                .remove(0)
                .to_vec();
            let ca = iot_x509::RegisteredCa {
                name: name.into(),
                der,
                verified,
            };
            hub.cas.add(ca).expect("CA");
        }
        let mut registry = InMemoryRegistry::new();
        for entry in IDENTITIES {
            let mut identity = match entry.credential {
                Credential::Sas(p, s) => DeviceIdentity::sas(entry.device, KEYS[p], KEYS[s]),
                Credential::SelfSigned(thumbprint) => {
                    let thumbprint = Thumbprint::from_hex(thumbprint).expect("thumbprint");
                    DeviceIdentity::self_signed(entry.device, thumbprint, None)
                }
                Credential::Ca => DeviceIdentity::certificate_authority(entry.device),
            };
            if let Some(module) = entry.module {
                identity = identity.into_module(module);
            }
            if !entry.enabled {
                identity = identity.disabled(Some("fuzz"));
            }
            registry.upsert(identity).expect("identity");
        }
        (hub, registry)
    })
}

/// One decoded fuzz input.
pub struct Input<'a> {
    /// Transport.
    pub transport: Transport,
    /// MQTT client ID.
    pub client_id: Option<&'a str>,
    /// MQTT or SASL user name.
    pub username: Option<&'a str>,
    /// SAS token (after sign mode).
    pub password: Option<Cow<'a, str>>,
    /// Device ID of the HTTPS path or AMQP link.
    pub device_id: Option<&'a str>,
    /// Module ID of the HTTPS path or AMQP link.
    pub module_id: Option<&'a str>,
    /// Decision time.
    pub now: u64,
    /// The client chain (the leaf, or nothing).
    pub chain: Vec<CertificateDer<'a>>,
}

impl<'a> Input<'a> {
    /// Splits the input (see the top of this file); `None` for an unknown transport.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let mut fields = data.splitn(8, |&b| b == 0);
        let mut next_str = || -> Option<&'a str> {
            fields
                .next()
                .and_then(|f| core::str::from_utf8(f).ok())
                .filter(|s| !s.is_empty())
        };
        let transport = next_str()?.parse::<Transport>().ok()?;
        let (client_id, username, password) = (next_str(), next_str(), next_str());
        let (device_id, module_id) = (next_str(), next_str());
        let now = next_str().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        let chain = fields
            .next()
            .filter(|c| !c.is_empty())
            .map(CertificateDer::from)
            .into_iter()
            .collect();
        let password = password.map(|p| match sas_reference::sign_mode(p, &KEYS) {
            Some(signed) => Cow::Owned(signed),
            None => Cow::Borrowed(p),
        });
        Some(Self {
            transport,
            client_id,
            username,
            password,
            device_id,
            module_id,
            now,
            chain,
        })
    }

    /// The connect request.
    pub fn request(&self) -> ConnectRequest<'_> {
        ConnectRequest {
            transport: self.transport,
            client_id: self.client_id,
            username: self.username,
            password: self.password.as_deref(),
            client_chain: &self.chain,
            device_id: self.device_id,
            module_id: self.module_id,
        }
    }

    /// The connect decision against the world.
    pub fn decide(&self) -> Decision<'static> {
        let (hub, registry) = world();
        authorize(hub, registry, &self.request(), self.now)
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let (hub, _) = world();
    let skew = hub.allowed_clock_skew_secs;
    match input.decide() {
        Decision::Allow(allow) => {
            let identity = &allow.identity;
            let device: &str = &identity.device_id;
            let module = identity.module_id.as_deref();
            assert_eq!(
                claimed(&input),
                Some((device, module)),
                "allowed another identity"
            );
            let entry = world_identity(device, module).expect("allowed a registered identity");
            let auth_type = match entry.credential {
                Credential::Sas(..) => AuthenticationType::Sas,
                Credential::SelfSigned(_) => AuthenticationType::SelfSigned,
                Credential::Ca => AuthenticationType::CertificateAuthority,
            };
            assert_eq!(identity.auth_type, auth_type);
            assert!(entry.enabled, "allowed a disabled identity");
            if module.is_some() {
                let parent = world_identity(device, None);
                assert!(
                    parent.is_some_and(|p| p.enabled),
                    "allowed a module of a disabled device"
                );
            }
            assert!(allow.valid_until.saturating_add(skew) >= input.now);
            let token = input.password.as_deref().map(iot_sas::SasToken::parse);
            let mut resource = vec![HOST, "devices", device];
            resource.extend(module.map(|m| ["modules", m]).into_iter().flatten());
            match allow.method {
                AuthMethod::DeviceKey(slot) => {
                    let Some(Ok(token)) = token else {
                        panic!("a device-key allow without a token")
                    };
                    let Credential::Sas(primary, secondary) = entry.credential else {
                        panic!("a device-key allow for a {:?} identity", entry.credential)
                    };
                    assert_eq!(token.key_name(), None);
                    let key = if slot == KeySlot::Primary {
                        primary
                    } else {
                        secondary
                    };
                    assert!(
                        sas_reference::signed_with(&token, KEYS[key]),
                        "MAC of another key"
                    );
                    let sr = token.resource_raw();
                    assert!(sas_reference::sr_covers(sr, &resource, true), "sr {sr:?}");
                    assert_eq!(allow.valid_until, token.expiry());
                }
                AuthMethod::Policy { name, key: slot } => {
                    let Some(Ok(token)) = token else {
                        panic!("a policy allow without a token")
                    };
                    assert_eq!(token.key_name(), Some(name));
                    let (_, rights, primary, secondary) = POLICIES
                        .into_iter()
                        .find(|p| p.0 == name)
                        .expect("a world policy");
                    assert!(rights.contains(AccessRights::DEVICE_CONNECT));
                    let key = if slot == KeySlot::Primary {
                        primary
                    } else {
                        secondary
                    };
                    assert!(
                        sas_reference::signed_with(&token, KEYS[key]),
                        "MAC of another key"
                    );
                    let sr = token.resource_raw();
                    assert!(sas_reference::sr_covers(sr, &resource, false), "sr {sr:?}");
                    if let Some(user) = input.username.filter(|_| input.transport.is_amqp())
                        && let Some((policy, _)) = user.rsplit_once("@sas.root.")
                    {
                        assert_eq!(policy, name);
                    }
                    assert_eq!(allow.valid_until, token.expiry());
                }
                AuthMethod::Thumbprint(matched) => {
                    assert_eq!(entry.credential, Credential::SelfSigned(SELF_SIGNED));
                    let leaf = input
                        .chain
                        .first()
                        .expect("a thumbprint allow without a leaf");
                    // Only a primary SHA-256 thumbprint is registered in the world.
                    assert_eq!(matched, ThumbprintMatch::Primary);
                    let sha256 = Thumbprint::sha256_of(leaf.as_ref()).to_string();
                    assert_eq!(
                        sha256, SELF_SIGNED,
                        "a thumbprint allow for another certificate"
                    );
                }
                AuthMethod::Ca { name } => {
                    assert_eq!(entry.credential, Credential::Ca);
                    assert_eq!(name, VERIFIED_CA);
                    let leaf = input.chain.first().expect("a CA allow without a leaf");
                    let info = iot_x509::CertificateInfo::parse(leaf.as_ref()).expect("leaf");
                    let display = module.map_or(device.to_owned(), |m| format!("{device}/{m}"));
                    assert_eq!(info.common_names(), [display]);
                    assert!(
                        !input.transport.is_websocket(),
                        "x509CaOverWebSockets is false"
                    );
                }
            }
        }
        Decision::Deny(reason) => assert!(!reason.to_string().is_empty()),
    }
    if let Some(token) = input.password.as_deref()
        && let Ok(ok) = authorize_service(hub, token, AccessRights::SERVICE_CONNECT, input.now)
    {
        let (_, rights, primary, secondary) = POLICIES
            .into_iter()
            .find(|p| p.0 == ok.policy)
            .expect("a world policy");
        assert!(rights.contains(AccessRights::SERVICE_CONNECT));
        let token = iot_sas::SasToken::parse(token).expect("allowed tokens parse");
        assert_eq!(token.key_name(), Some(ok.policy));
        let key = if ok.key == KeySlot::Primary {
            primary
        } else {
            secondary
        };
        assert!(sas_reference::signed_with(&token, KEYS[key]));
        assert!(sas_reference::sr_covers(
            token.resource_raw(),
            &[HOST],
            false
        ));
        assert!(ok.valid_until.saturating_add(skew) >= input.now);
    }
}

/// The world's entry for `device` / `module`.
pub fn world_identity(device: &str, module: Option<&str>) -> Option<Identity> {
    IDENTITIES
        .into_iter()
        .find(|i| i.device == device && i.module == module)
}

/// The identity the request claims, read from its fields by the transport's rules (reference
/// §6.1-6.3, §1.6), or `None` when the fields do not make a consistent claim:
///
/// * MQTT: the client ID `{device}[/{module}]`, which the user name
///   `{host}/{clientId}[/[?{query}]]` must repeat (host ASCII case-insensitive);
/// * AMQP with a SASL user name `{who}@sas.{hub}`: `{who}` is `{device}` or
///   `{device}/modules/{module}` (EdgeHub's module form); `{policy}@sas.root.{hub}` leaves the
///   claim to the link. `{hub}` is the hub name or host name. A link, when also named, must
///   agree;
/// * HTTPS and AMQP without a user name: the device (and module) the path or link names.
pub fn claimed<'a>(input: &Input<'a>) -> Option<(&'a str, Option<&'a str>)> {
    let link = input.device_id.map(|d| (d, input.module_id));
    if input.transport.is_mqtt() {
        let client_id = input.client_id?;
        let (host, path) = input.username?.split_once('/')?;
        let tail = path.strip_prefix(client_id)?;
        let tail_ok = tail.is_empty() || tail == "/" || tail.starts_with("/?");
        if !host.eq_ignore_ascii_case(HOST) || !tail_ok {
            return None;
        }
        return Some(match client_id.split_once('/') {
            Some((device, module)) => (device, Some(module)),
            None => (client_id, None),
        });
    }
    let Some(user) = input.username.filter(|_| input.transport.is_amqp()) else {
        return link;
    };
    let (who, rest) = user.rsplit_once("@sas.")?;
    let (policy, hub) = match rest.strip_prefix("root.") {
        Some(hub) => (true, hub),
        None => (false, rest),
    };
    if !hub.eq_ignore_ascii_case("contoso") && !hub.eq_ignore_ascii_case(HOST) {
        return None;
    }
    if policy {
        return link;
    }
    let sasl = match who.split_once("/modules/") {
        Some((device, module)) => (device, Some(module)),
        None => (who, None),
    };
    match link {
        Some(link) if link != sasl => None,
        _ => Some(sasl),
    }
}
