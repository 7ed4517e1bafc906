// Fuzz logic for `iot_server::engine::api::decide` and `trial`: arbitrary HTTPS requests
// against a fixed realm whose keys are the ones the recorded SDK requests were signed with
// (iot-server/tests/data/capture/service-and-device-https.json), at a fixed time before
// those tokens expire (shared by cargo-fuzz and iot-server/tests/fuzz_replay.rs).
//
// Input: fields separated by 0x00: method, path, Host, Authorization, If-Match, then the
// body (the rest). Invariants: never panics; a 401 or 403 writes nothing and its body names
// no policy; anything written is answered 200/202/204 (or is a DPS register's own record);
// a request without a credential writes nothing but a DPS register's failure; `trial` leaves
// the enrollments as they were; the report never carries the token's signature (a `sig` text
// that cannot be a MAC may be reported where the caller also sent it in the clear, or where
// the server's own words hold it whatever the `sig`).

/// The fixed realm: hub `acme-test.azure-devices.net` (`iothubowner` = base64 of 32 × `k`,
/// device `dev-sas`), DPS `0ne00AB12CD` (`provisioningserviceowner` = 32 × 0x07, enrollment
/// `node-http-dev` = 32 × 0x09, linked to that hub).
pub fn realm() -> iot_server::engine::realm::Realm {
    use iot_server::store::{DpsPolicy, DpsState, HubState, Snapshot};
    let owner = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";
    let seven = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let nine = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
    let doc: iot_hub_auth::HubDocument = serde_json::from_value(serde_json::json!({
        "hostName": "acme-test.azure-devices.net",
        "authorizationPolicies": [
            {"keyName": "iothubowner", "primaryKey": owner, "secondaryKey": owner,
             "rights": "RegistryWrite, ServiceConnect, DeviceConnect"},
            {"keyName": "registryRead", "primaryKey": owner, "secondaryKey": owner,
             "rights": "RegistryRead"}],
        "identities": [{"deviceId": "dev-sas", "authentication": {"type": "sas",
            "symmetricKey": {"primaryKey": nine, "secondaryKey": nine}}}]
    }))
    .unwrap();
    let mut instance = iot_dps_service::DpsInstance::new("0ne00AB12CD");
    instance.linked_hubs.push(iot_dps_service::LinkedHub::new(
        "acme-test.azure-devices.net",
    ));
    let enrollment: iot_dps_service::IndividualEnrollment =
        serde_json::from_value(serde_json::json!({
        "registrationId": "node-http-dev",
        "attestation": {"type": "symmetricKey",
            "symmetricKey": {"primaryKey": nine, "secondaryKey": nine}}}))
        .unwrap();
    let dps = DpsState {
        instance,
        service_host_name: "acme-dps.azure-devices-provisioning.net".into(),
        authorization_policies: vec![DpsPolicy {
            key_name: "provisioningserviceowner".into(),
            primary_key: iot_dps_service::KeyText::new(seven),
            secondary_key: iot_dps_service::KeyText::new(seven),
            rights: "ServiceConfig, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, \
                     RegistrationStatusWrite"
                .into(),
        }],
    };
    let snapshot = Snapshot {
        hubs: vec![(HubState::from_document(&doc), doc.identities.clone())],
        dps: Some(dps),
        enrollments: vec![enrollment],
        ..Snapshot::default()
    };
    iot_server::engine::realm::Realm::from_snapshot(snapshot).unwrap()
}

#[allow(dead_code)]
mod sas_reference {
    include!("../sas_reference.rs");
}

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_server::engine::api::{self, ApiRequest, Method, Route, route};
    use std::sync::{Mutex, OnceLock};

    static REALM: OnceLock<Mutex<iot_server::engine::realm::Realm>> = OnceLock::new();
    let realm = REALM.get_or_init(|| Mutex::new(realm()));
    let mut realm = realm
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    let mut fields = data.splitn(6, |&b| b == 0);
    let mut text = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let (method, path, host, authorization, if_match) = (text(), text(), text(), text(), text());
    let body = fields.next().unwrap_or_default();
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let (host, authorization, if_match) = (some(&host), some(&authorization), some(&if_match));
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    let entropy = [0x5a; 64];
    let request = ApiRequest {
        method: Method::parse(&method),
        path: &path,
        host: host.as_deref(),
        authorization: authorization.as_deref(),
        if_match: if_match.as_deref(),
        headers: &headers,
        body,
        client_chain: &[],
        peer: "127.0.0.1:1",
        now_ms: 1_796_177_000_000,
        entropy: &entropy,
        operation_id: "4.0000000000000001.00000000-0000-0000-0000-000000000001",
    };
    let register = matches!(route(request.method, &path), Ok(Route::Register { .. }));
    let before = realm
        .dps
        .as_ref()
        .map(|d| (d.service.individual_count(), d.service.groups().count()));
    let mut outcome = api::decide(&realm, &request);
    api::trial(&mut realm, &mut outcome, request.now_ms);
    let after = realm
        .dps
        .as_ref()
        .map(|d| (d.service.individual_count(), d.service.groups().count()));
    assert_eq!(before, after, "trial must undo what it tried");

    let status = outcome.response.status;
    if (status == 401 || status == 403) && !register {
        assert!(outcome.writes.is_empty());
    }
    if status == 401 || status == 403 {
        let body = String::from_utf8_lossy(&outcome.response.body).to_ascii_lowercase();
        assert!(
            !body.contains("policy") && !body.contains("iothubowner"),
            "{body}"
        );
    }
    if !outcome.writes.is_empty() && !register {
        assert!(matches!(status, 200 | 202 | 204), "{status}");
    }
    if authorization.is_none() && !register {
        assert!(outcome.writes.is_empty());
    }
    let report = serde_json::to_string(&api::report(&request, &outcome)).unwrap();
    if let Some(sig) = authorization
        .as_deref()
        .and_then(|a| a.split("sig=").nth(1))
        .map(|s| s.split('&').next().unwrap_or_default())
        .filter(|s| s.len() >= 8)
    {
        // The secret is the `sig` value of the Authorization header. A SAS signature is the
        // base64 of an HMAC-SHA256: 44 characters ending in `=` once percent-decoded
        // (fuzz/sas_reference.rs `decode_once`). Such a value stays out of the report, as sent
        // and decoded, wherever else the caller put it (a Host, a path, a body:
        // regression_signature_in_host, regression_signature_in_body). Any other `sig` text
        // can never verify and may also be what the caller sent in the clear (a Host, a path,
        // the body, the token's `sr` or `skn`), reported as that field
        // (regression_sig_text_is_the_host, regression_sig_text_in_body), or be the server's
        // own words: it must stay out unless it is there.
        let decoded = sas_reference::decode_once(sig);
        if decoded.len() == 44 && decoded.last() == Some(&u16::from(b'=')) {
            assert!(!report.contains(sig), "the report carries the signature");
            let text: Option<String> = decoded
                .iter()
                .map(|&c| match c {
                    // A raw `+` (`PLUS_OR_SPACE`): in `sig` always `+` (iot-sas README).
                    0x100 => Some('+'),
                    c => u8::try_from(c).ok().filter(u8::is_ascii).map(char::from),
                })
                .collect();
            if let Some(text) = text {
                assert!(!report.contains(&text), "the report carries the signature");
            }
        } else if report.contains(sig) {
            let token_without_sig = authorization.as_deref().unwrap_or_default().replacen(
                &format!("sig={sig}"),
                "sig=",
                1,
            );
            let body = String::from_utf8_lossy(body);
            let public = [
                method.as_str(),
                path.as_str(),
                host.as_deref().unwrap_or_default(),
                if_match.as_deref().unwrap_or_default(),
                token_without_sig.as_str(),
                &body,
            ];
            // The server's own words may also hold the text (a reason quoting
            // `SharedAccessSignature `: regression_sig_text_is_the_servers_words): the same
            // request with each letter of `sig` in the other case and each digit one more
            // (still base64, still percent-encoded alike, the same length) must report it
            // too, so the text does not come from the `sig`.
            let other: String = sig
                .chars()
                .map(|c| match c {
                    'a'..='z' => c.to_ascii_uppercase(),
                    'A'..='Z' => c.to_ascii_lowercase(),
                    '0'..='8' => char::from(c as u8 + 1),
                    '9' => '0',
                    c => c,
                })
                .collect();
            let servers_words = other != sig && {
                let authorization = authorization.as_deref().unwrap_or_default().replacen(
                    &format!("sig={sig}"),
                    &format!("sig={other}"),
                    1,
                );
                let headers = [("authorization", authorization.as_str())];
                let request = ApiRequest {
                    authorization: Some(&authorization),
                    headers: &headers,
                    ..request
                };
                let mut outcome = api::decide(&realm, &request);
                api::trial(&mut realm, &mut outcome, request.now_ms);
                serde_json::to_string(&api::report(&request, &outcome))
                    .unwrap()
                    .contains(sig)
            };
            assert!(
                servers_words || public.iter().any(|field| field.contains(sig)),
                "the report carries the signature"
            );
        }
    }
}
