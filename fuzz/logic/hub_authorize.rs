// Fuzz logic for `iot_hub_auth::authorize` and `authorize_service` over arbitrary request
// fields (shared by cargo-fuzz and iot-hub-auth/tests/fuzz_replay.rs).
//
// Input: fields separated by NUL bytes: transport name, client ID, user name, password, device
// ID, module ID, now (decimal), then everything after the seventh NUL is the client
// certificate (DER). Empty fields are absent. The hub `contoso.azure-devices.net` has the
// policies `device` (DeviceConnect) and `service` (ServiceConnect); the registry holds `dev1`
// (sas), its module `mod1` (sas), `off` (sas, disabled), `self1` (selfSigned) and `ca1`
// (certificateAuthority, no CA registered).
//
// Invariants: never panics; an allowed connection is for the identity the request claims, is
// enabled, used a credential its type allows, and `valid_until` is not before `now - skew`.

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_hub_auth::{
        AccessRights, AuthMethod, AuthenticationType, CertificateDer, ConnectRequest,
        DeviceIdentity, HubSettings, InMemoryRegistry, Registry, SharedAccessPolicy, Thumbprint,
        Transport, authorize, authorize_service,
    };

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    const P1: &str = "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";
    // SHA-256 of examples/certs/device-self-signed.pem.
    const SELF: &str = "9026AACE3D14805FB8C825AA6ABEBBE307F93AB75AFFDB12A1A4088DA64DC7A7";

    static WORLD: std::sync::OnceLock<(HubSettings, InMemoryRegistry)> = std::sync::OnceLock::new();
    let (hub, registry) = WORLD.get_or_init(|| {
        let mut hub = HubSettings::new("contoso.azure-devices.net").expect("host");
        for (name, rights) in [
            ("device", AccessRights::DEVICE_CONNECT),
            ("service", AccessRights::SERVICE_CONNECT),
        ] {
            let policy = SharedAccessPolicy {
                key_name: name.into(),
                primary_key: P1.into(),
                secondary_key: K2.into(),
                rights,
            };
            hub.add_policy(&policy).expect("policy");
        }
        let mut reg = InMemoryRegistry::new();
        reg.upsert(DeviceIdentity::sas("dev1", K1, K2))
            .expect("dev1");
        reg.upsert(DeviceIdentity::sas("dev1", K2, K1).into_module("mod1"))
            .expect("mod1");
        reg.upsert(DeviceIdentity::sas("off", K1, K2).disabled(None))
            .expect("off");
        let thumb = Thumbprint::from_hex(SELF).expect("thumbprint");
        reg.upsert(DeviceIdentity::self_signed("self1", thumb, None))
            .expect("self1");
        reg.upsert(DeviceIdentity::certificate_authority("ca1"))
            .expect("ca1");
        (hub, reg)
    });

    let mut fields = data.splitn(8, |&b| b == 0);
    let mut next_str = || -> Option<&str> {
        fields
            .next()
            .and_then(|f| core::str::from_utf8(f).ok())
            .filter(|s| !s.is_empty())
    };
    let Some(transport) = next_str().and_then(|t| t.parse::<Transport>().ok()) else {
        return;
    };
    let client_id = next_str();
    let username = next_str();
    let password = next_str();
    let device_id = next_str();
    let module_id = next_str();
    let now = next_str().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let cert = fields.next().filter(|c| !c.is_empty());
    let chain: Vec<CertificateDer<'_>> = cert.map(CertificateDer::from).into_iter().collect();

    let req = ConnectRequest {
        transport,
        client_id,
        username,
        password,
        client_chain: &chain,
        device_id,
        module_id,
    };
    let decision = authorize(hub, registry, &req, now);
    if let Some(allow) = decision.allowed() {
        let identity = &allow.identity;
        let stored = registry.get(&identity.device_id, identity.module_id.as_deref());
        assert!(stored.is_some_and(|i| i.is_enabled()));
        if transport.is_mqtt() {
            let claimed = client_id.expect("MQTT allow needs a client ID");
            assert_eq!(identity.display_id(), claimed);
        } else if let Some(d) = device_id {
            assert_eq!(identity.device_id, d);
        }
        let skew = hub.allowed_clock_skew_secs;
        assert!(allow.valid_until.saturating_add(skew) >= now);
        let auth = identity.auth_type;
        match &allow.method {
            AuthMethod::DeviceKey(_) => assert_eq!(auth, AuthenticationType::Sas),
            AuthMethod::Policy { name, .. } => assert_eq!(*name, "device"),
            AuthMethod::Thumbprint(_) => assert_eq!(auth, AuthenticationType::SelfSigned),
            AuthMethod::Ca { .. } => panic!("no CA is registered"),
        }
        assert!(password.is_some() || !chain.is_empty());
    } else if let Some(reason) = decision.denied() {
        assert!(!reason.to_string().is_empty());
    }
    if let Some(token) = password
        && let Ok(ok) = authorize_service(hub, token, AccessRights::SERVICE_CONNECT, now)
    {
        assert_eq!(ok.policy, "service");
        assert!(ok.valid_until.saturating_add(hub.allowed_clock_skew_secs) >= now);
    }
}
