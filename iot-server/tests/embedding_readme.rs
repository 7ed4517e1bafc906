//! The root README's "Embedding" snippet, compiled and run: a CONNECT decision the way a
//! broker plug-in or a protocol gateway makes it with the decision crates alone.

use iot_hub_auth::{ConnectRequest, Decision, HubDocument, authorize};
use iot_x509::CertificateDer;

/// What the README shows: the connect hook of your own MQTT front door.
fn on_connect(
    hub: &iot_hub_auth::HubSettings,
    registry: &iot_hub_auth::InMemoryRegistry,
    client_id: &str,
    user_name: &str,
    password: Option<&str>,
    peer_chain: &[CertificateDer<'_>], // from your TLS stack: rustls `peer_certificates()`
    now: u64,                          // Unix seconds, from your clock
) -> Result<u64, u8> {
    let mut req = ConnectRequest::mqtt(client_id, user_name).with_client_chain(peer_chain);
    if let Some(token) = password {
        req = req.with_password(token);
    }
    match authorize(hub, registry, &req, now) {
        // Keep the session until the token or certificate expires.
        Decision::Allow(allow) => Ok(allow.valid_until),
        // Log the reason for operators; send the client only its client-safe view.
        Decision::Deny(reason) => {
            eprintln!("refused {client_id}: {} ({reason})", reason.code());
            Err(reason.wire().mqtt_connack_code())
        }
    }
}

#[test]
fn the_readme_embedding_snippet_decides() {
    let json =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hub.json"))
            .unwrap();
    let (hub, registry) = HubDocument::from_json(&json).unwrap().build().unwrap();
    // dev1's own key signs a token for dev1 (the Python SDK's spelling): allowed until `se`.
    let key = iot_sas::SharedAccessKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .unwrap();
    let resource = iot_sas::ResourceUri::Device {
        host: "contoso.azure-devices.net",
        device_id: "dev1",
    };
    let token = iot_sas::sign(&key, &resource, 2_000_000_000, None).unwrap();
    let dev1 = "contoso.azure-devices.net/dev1/?api-version=2021-04-12";
    assert_eq!(
        on_connect(
            &hub,
            &registry,
            "dev1",
            dev1,
            Some(&token),
            &[],
            1_900_000_000
        ),
        Ok(2_000_000_000)
    );
    let user = "contoso.azure-devices.net/nobody/?api-version=2021-04-12";
    // An unknown device with a made-up token: CONNACK 5, whatever the reason.
    let refused = on_connect(
        &hub,
        &registry,
        "nobody",
        user,
        Some("SharedAccessSignature sr=x&sig=eA%3D%3D&se=1"),
        &[],
        1,
    );
    assert_eq!(refused, Err(5));
    // A client ID that disagrees with the user name: CONNACK 4, decided before any lookup.
    let bad = on_connect(&hub, &registry, "other", user, None, &[], 1);
    assert_eq!(bad, Err(4));
}
