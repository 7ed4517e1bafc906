//! The Registry Manager identity API of a hub: `PUT/GET/DELETE /devices/{id}` and
//! `/devices/{id}/modules/{moduleId}` (Microsoft Learn "IoT Hub REST: Create Or Update
//! Identity", "Get Identity", "Delete Identity"; the requests Python `azure-iot-hub` 2.7.0
//! sends are in reference embedding.md §4).
//!
//! * Authorization: a back-end token of a hub policy with `RegistryRead` (GET) or
//!   `RegistryWrite` (PUT, DELETE), checked by `iot_hub_auth::authorize_service`.
//! * `PUT` without `If-Match` creates (409 when it exists); with `If-Match: "*"` or the etag
//!   it replaces (404 when missing, 412 when the etag differs). A `sas` identity sent without
//!   keys gets two fresh 32-byte keys, as the service does. 200 with the identity back.
//! * `DELETE` honours `If-Match` the same way and answers 204; a device takes its modules and
//!   twins with it.
//! * Bodies and answers use the `az iot hub device-identity show` shape.

use iot_hub_auth::{AccessRights, AuthenticationType, DeviceIdentity, Registry as _, SymmetricKey};
use serde_json::{Value, json};

use super::wire::{ApiResponse, IfMatch, etag_of};
use super::{AfterCommit, ApiOutcome, ApiRequest, Method};
use crate::engine::hubs::{HubEntry, empty_twin, twin_key};
use crate::engine::realm::Realm;
use crate::store::Write;

/// Handles one identity request for `hub` (already selected by the caller).
pub(super) fn handle(
    realm: &Realm,
    hub: &HubEntry,
    req: &ApiRequest<'_>,
    device_id: &str,
    module_id: Option<&str>,
) -> ApiOutcome {
    let host = hub.settings.host_name();
    let required = if req.method == Method::Get {
        AccessRights::REGISTRY_READ
    } else {
        AccessRights::REGISTRY_WRITE
    };
    let policy = match super::auth::hub_service(
        &hub.settings,
        req.authorization,
        required,
        req.now_secs(),
    ) {
        Ok(policy) => policy,
        Err(refusal) => return ApiOutcome::refused_hub(&refusal),
    };
    let current = hub.registry.get(device_id, module_id);
    let outcome = match req.method {
        Method::Get => match current {
            Some(identity) => ApiOutcome::read(identity_response(host, identity)),
            None => not_found(module_id),
        },
        Method::Delete => delete(host, current, req, device_id, module_id),
        Method::Put => put(realm, hub, current, req, device_id, module_id),
        _ => ApiOutcome::read(ApiResponse::empty(405)),
    };
    outcome.by(&policy)
}

fn not_found(module_id: Option<&str>) -> ApiOutcome {
    let outcome = match module_id {
        None => ApiResponse::hub_error(404, "DeviceNotFound", "the device does not exist"),
        Some(_) => ApiResponse::hub_error(404, "ModuleNotFound", "the module does not exist"),
    };
    ApiOutcome::read(outcome).code("not_found")
}

fn precondition_failed() -> ApiOutcome {
    ApiOutcome::read(ApiResponse::hub_error(
        412,
        "PreconditionFailed",
        "the etag does not match",
    ))
    .code("etag_mismatch")
}

fn bad_request(text: &str) -> ApiOutcome {
    ApiOutcome::read(ApiResponse::hub_error(400, "ArgumentInvalid", text)).code("invalid_body")
}

fn delete(
    host: &str,
    current: Option<&DeviceIdentity>,
    req: &ApiRequest<'_>,
    device_id: &str,
    module_id: Option<&str>,
) -> ApiOutcome {
    let Some(identity) = current else {
        return not_found(module_id);
    };
    if !IfMatch::parse(req.if_match).matches(Some(&etag_of(identity))) {
        return precondition_failed();
    }
    ApiOutcome::write(
        ApiResponse::empty(204),
        vec![Write::RemoveIdentity {
            hub: host.to_ascii_lowercase(),
            device_id: device_id.to_owned(),
            module_id: module_id.map(str::to_owned),
        }],
        AfterCommit::Mirror,
    )
}

fn put(
    realm: &Realm,
    hub: &HubEntry,
    current: Option<&DeviceIdentity>,
    req: &ApiRequest<'_>,
    device_id: &str,
    module_id: Option<&str>,
) -> ApiOutcome {
    let host = hub.settings.host_name();
    let mut identity: DeviceIdentity = match serde_json::from_slice(req.body) {
        Ok(identity) => identity,
        Err(e) => return bad_request(&format!("the body is not a device identity: {e}")),
    };
    if identity.device_id != device_id {
        return bad_request("deviceId in the body differs from the path");
    }
    match (&identity.module_id, module_id) {
        (None, Some(m)) => identity.module_id = Some(m.to_owned()),
        (Some(body), Some(path)) if body == path => {}
        (None, None) => {}
        _ => return bad_request("moduleId in the body differs from the path"),
    }
    if module_id.is_some() {
        identity.capabilities = iot_hub_auth::Capabilities::default();
        if hub.registry.get(device_id, None).is_none() {
            return ApiOutcome::read(ApiResponse::hub_error(
                404,
                "DeviceNotFound",
                "the module's device does not exist",
            ))
            .code("not_found");
        }
    }
    let auth = &mut identity.authentication;
    let keyless = auth
        .symmetric_key
        .as_ref()
        .is_none_or(|k| k.primary_key.is_empty() && k.secondary_key.is_empty());
    if auth.r#type == AuthenticationType::Sas && keyless {
        auth.symmetric_key = Some(fresh_keys(req.entropy));
    }
    if let Err(e) = identity.validate() {
        return bad_request(&e.to_string());
    }
    let condition = IfMatch::parse(req.if_match);
    match (current, &condition) {
        (Some(_), IfMatch::Absent) => {
            let code = if module_id.is_some() {
                "ModuleAlreadyExistsOnDevice"
            } else {
                "DeviceAlreadyExists"
            };
            return ApiOutcome::read(ApiResponse::hub_error(
                409,
                code,
                "the identity exists; send If-Match to replace it",
            ))
            .code("exists");
        }
        (None, IfMatch::Absent) => {}
        (None, _) => return not_found(module_id),
        (Some(existing), condition) => {
            if !condition.matches(Some(&etag_of(existing))) {
                return precondition_failed();
            }
        }
    }
    let lower = host.to_ascii_lowercase();
    let mut writes = vec![Write::Identity {
        hub: lower.clone(),
        identity: identity.clone(),
    }];
    let key = twin_key(&lower, device_id, module_id);
    if realm.hubs.twin(&key).is_none() {
        writes.push(Write::Twin(empty_twin(key)));
    }
    ApiOutcome::write(
        identity_response(host, &identity),
        writes,
        AfterCommit::Mirror,
    )
}

/// Two keys of 32 bytes from the caller's randomness.
fn fresh_keys(entropy: &[u8; 64]) -> SymmetricKey {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    SymmetricKey {
        primary_key: b64(&entropy[..32]),
        secondary_key: b64(&entropy[32..]),
    }
}

/// 200 with the identity as `az iot hub device-identity show` prints it, and its `ETag`.
pub(super) fn identity_response(host: &str, identity: &DeviceIdentity) -> ApiResponse {
    let etag = etag_of(identity);
    let body = identity_json(host, identity, &etag);
    ApiResponse::json(200, &body).with_header("ETag", format!("\"{etag}\""))
}

/// The identity in Azure's shape: the stored fields, `etag`, a `generationId` stable for
/// the hub and IDs, the connection fields of a never-connected identity, and null slots for
/// the credential kinds not in use.
pub fn identity_json(host: &str, identity: &DeviceIdentity, etag: &str) -> Value {
    let auth = &identity.authentication;
    let keys = auth.symmetric_key.as_ref();
    let prints = auth.x509_thumbprint.as_ref();
    let never = "0001-01-01T00:00:00Z";
    let generation = {
        let seed = format!("{}/{}", host.to_ascii_lowercase(), identity.display_id());
        let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_ref()[..8]);
        (u64::from_be_bytes(first) % 1_000_000_000_000_000_000).to_string()
    };
    let mut body = json!({
        "deviceId": identity.device_id,
        "generationId": generation,
        "etag": etag,
        "connectionState": "Disconnected",
        "status": identity.status,
        "statusReason": identity.status_reason,
        "connectionStateUpdatedTime": never,
        "statusUpdatedTime": never,
        "lastActivityTime": never,
        "cloudToDeviceMessageCount": 0,
        "authentication": {
            "symmetricKey": {
                "primaryKey": keys.map(|k| &k.primary_key),
                "secondaryKey": keys.map(|k| &k.secondary_key),
            },
            "x509Thumbprint": {
                "primaryThumbprint": prints.and_then(|t| t.primary_thumbprint.as_ref()),
                "secondaryThumbprint": prints.and_then(|t| t.secondary_thumbprint.as_ref()),
            },
            "type": auth.r#type,
        },
    });
    if let Value::Object(map) = &mut body {
        match &identity.module_id {
            Some(m) => {
                map.insert("moduleId".into(), json!(m));
                map.insert("managedBy".into(), json!(""));
            }
            None => {
                map.insert("capabilities".into(), json!(identity.capabilities));
            }
        }
    }
    body
}
