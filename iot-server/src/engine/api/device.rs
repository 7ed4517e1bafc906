//! The device side over HTTPS: DPS registration (`PUT /{idScope}/registrations/{id}/register`,
//! `GET /{idScope}/registrations/{id}/operations/{operationId}`, reference
//! azure-iot-protocol.md §5.6; what Node `azure-iot-provisioning-device-http` 1.9.1 sends is
//! in embedding.md §4) and hub telemetry (`POST /devices/{id}[/modules/{m}]/messages/events`,
//! Microsoft Learn "IoT Hub REST: Send Device Event").
//!
//! Registration goes through the same [`crate::engine::dps::DpsFrontEnd`] decision as the
//! MQTT path, with the `Authorization` header as the SAS token or the TLS client chain: the
//! record, the hub changes and the operation are committed in one transaction before the 202
//! (and so before any poll can see `assigned`). Telemetry is authorized by
//! `iot_hub_auth::authorize` with `Transport::Https` and stored durably before the 204.

use iot_dps_service::{DpsTransport, RegistrationDecision, RegistrationOutcome};
use iot_hub_auth::{ConnectRequest, Transport};
use iot_sas::percent_encode;

use super::wire::ApiResponse;
use super::{AfterCommit, ApiOutcome, ApiRequest};
use crate::ServerEvent;
use crate::engine::dps::DpsPeer;
use crate::engine::hubs::HubEntry;
use crate::engine::realm::Realm;
use crate::store::{TelemetryMessage, Write};

/// The MQTT-style property bag (`$.mid=..&$.cid=..&$.ct=..&$.ce=..&name=value`, reference
/// §6.3) of an HTTPS message's headers: `iothub-messageid`, `iothub-correlationid`,
/// `content-type`, `content-encoding` and every `iothub-app-{name}` (names lower-case, as
/// HTTP delivers them). Application keys and all values are percent-encoded
/// ([`iot_sas::percent_encode`]: RFC 3986 unreserved kept).
pub fn telemetry_properties(headers: &[(&str, &str)]) -> String {
    let mut bag: Vec<String> = Vec::new();
    let mut push = |key: &str, system: bool, value: &str| {
        let key = if system {
            key.to_owned()
        } else {
            percent_encode(key).to_string()
        };
        bag.push(format!("{key}={}", percent_encode(value)));
    };
    for (system, key) in [
        ("iothub-messageid", "$.mid"),
        ("iothub-correlationid", "$.cid"),
        ("content-type", "$.ct"),
        ("content-encoding", "$.ce"),
    ] {
        if let Some((_, v)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(system)) {
            push(key, true, v);
        }
    }
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if let Some(app) = lower.strip_prefix("iothub-app-").filter(|a| !a.is_empty()) {
            push(app, false, value);
        }
    }
    bag.join("&")
}

/// `POST .../messages/events`.
pub(super) fn telemetry(
    hub: &HubEntry,
    req: &ApiRequest<'_>,
    device_id: &str,
    module_id: Option<&str>,
) -> ApiOutcome {
    let host = hub.settings.host_name();
    let mut connect = ConnectRequest::new(Transport::Https);
    connect.device_id = Some(device_id);
    connect.module_id = module_id;
    connect.password = req.authorization.map(str::trim).filter(|t| !t.is_empty());
    connect.client_chain = req.client_chain;
    let decision = iot_hub_auth::authorize(&hub.settings, &hub.registry, &connect, req.now_secs());
    if let iot_hub_auth::Decision::Deny(deny) = decision {
        return ApiOutcome::read(ApiResponse::hub_error(
            401,
            "IotHubUnauthorizedAccess",
            "Unauthorized",
        ))
        .code(deny.code())
        .reason(deny.to_string());
    }
    if req.body.len() > crate::MAX_MESSAGE_SIZE {
        return ApiOutcome::read(ApiResponse::hub_error(
            413,
            "MessageTooLarge",
            "the message exceeds 256 KB",
        ))
        .code("too_large");
    }
    let message = TelemetryMessage {
        hub: host.to_ascii_lowercase(),
        device_id: device_id.to_owned(),
        module_id: module_id.map(str::to_owned),
        properties: telemetry_properties(req.headers),
        body: req.body.to_vec(),
        received_ms: req.now_ms,
    };
    let mut outcome = ApiOutcome::write(
        ApiResponse::empty(204),
        vec![Write::Telemetry(message)],
        AfterCommit::Nothing,
    );
    outcome.events.push(ServerEvent::Telemetry {
        hub: host.to_owned(),
        device_id: device_id.to_owned(),
        module_id: module_id.map(str::to_owned),
        size: req.body.len(),
    });
    outcome
}

fn dps_unauthorized(req: &ApiRequest<'_>, code: &str, reason: String) -> ApiOutcome {
    ApiOutcome::read(ApiResponse::dps_error(
        401,
        401_002,
        "Unauthorized.",
        req.now_ms,
    ))
    .code(code)
    .reason(reason)
}

/// `PUT /{idScope}/registrations/{id}/register`.
pub(super) fn register(
    realm: &Realm,
    req: &ApiRequest<'_>,
    id_scope: &str,
    registration_id: &str,
) -> ApiOutcome {
    let Some(dps) = realm
        .dps
        .as_ref()
        .filter(|d| d.state.instance.id_scope.eq_ignore_ascii_case(id_scope))
    else {
        return dps_unauthorized(req, "unknown_scope", "no DPS with this ID scope".into());
    };
    if req.body.len() > iot_dps_proto::MAX_PAYLOAD_LEN {
        return ApiOutcome::read(ApiResponse::dps_error(
            400,
            400_000,
            "The body is too large.",
            req.now_ms,
        ))
        .code("too_large");
    }
    let peer = DpsPeer {
        client_id: registration_id,
        user_name: None,
        password: req.authorization.map(str::trim).filter(|t| !t.is_empty()),
        chain: req.client_chain,
        transport: DpsTransport::Https,
    };
    let plan = dps.front.decide_register(
        &dps.service,
        &peer,
        req.body,
        req.now_secs(),
        req.operation_id,
    );
    let writes = dps.front.writes_for(&plan, &realm.hubs);
    let mut response = ApiResponse {
        status: plan.status,
        headers: Vec::new(),
        body: plan.body.clone(),
    };
    if let Some(secs) = plan.retry_after {
        response = response.with_header("Retry-After", secs.to_string());
    }
    let event = registration_event(registration_id, &plan.outcome);
    let code = match &plan.outcome.decision {
        RegistrationDecision::Assigned { .. } => "assigned",
        RegistrationDecision::Disabled { .. } => "disabled",
        RegistrationDecision::Failed(_) => "failed",
    };
    let reason = plan.outcome.decision.to_string();
    let mut outcome = ApiOutcome::write(response, writes, AfterCommit::Register(Box::new(plan)))
        .code(code)
        .reason(reason);
    outcome.events.push(event);
    outcome
}

/// `GET /{idScope}/registrations/{id}/operations/{operationId}`: the stored answer of that
/// operation, only for the registration that started it and only to a caller whose SAS token
/// or client certificate attests that registration again (see
/// [`crate::engine::dps::DpsFrontEnd::poll_attested`]).
pub(super) fn operation_status(
    realm: &Realm,
    req: &ApiRequest<'_>,
    id_scope: &str,
    registration_id: &str,
    operation_id: &str,
) -> ApiOutcome {
    let Some(dps) = realm
        .dps
        .as_ref()
        .filter(|d| d.state.instance.id_scope.eq_ignore_ascii_case(id_scope))
    else {
        return dps_unauthorized(req, "unknown_scope", "no DPS with this ID scope".into());
    };
    let peer = DpsPeer {
        client_id: registration_id,
        user_name: None,
        password: req.authorization.map(str::trim).filter(|t| !t.is_empty()),
        chain: req.client_chain,
        transport: DpsTransport::Https,
    };
    let (status, body) =
        match dps
            .front
            .poll_attested(&dps.service, &peer, operation_id, req.now_secs())
        {
            Ok(answer) => answer,
            Err(refused) => {
                return dps_unauthorized(
                    req,
                    "unauthorized",
                    format!("poll refused: {}", refused.reason),
                );
            }
        };
    let owner = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/registrationState/registrationId")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        });
    if status == 200 && !owner.is_some_and(|o| o.eq_ignore_ascii_case(registration_id)) {
        return ApiOutcome::read(ApiResponse::dps_error(
            404,
            404_000,
            "Operation not found.",
            req.now_ms,
        ))
        .code("not_found");
    }
    ApiOutcome::read(ApiResponse {
        status,
        headers: Vec::new(),
        body,
    })
    .code(if status == 200 { "ok" } else { "not_found" })
}

/// The report of a registration decision.
fn registration_event(registration_id: &str, outcome: &RegistrationOutcome) -> ServerEvent {
    let (status, hub, device) = match &outcome.decision {
        RegistrationDecision::Assigned { hub, device_id, .. } => {
            ("assigned", Some(hub.clone()), Some(device_id.clone()))
        }
        RegistrationDecision::Disabled { .. } => ("disabled", None, None),
        RegistrationDecision::Failed(_) => ("failed", None, None),
    };
    ServerEvent::Registration {
        registration_id: registration_id.to_owned(),
        status: status.into(),
        assigned_hub: hub,
        device_id: device,
        reason: outcome.decision.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn property_bag_from_headers() {
        let headers = [
            ("content-type", "application/json"),
            ("iothub-app-temperature alert", "high&hot"),
            ("iothub-messageid", "m-1"),
            ("authorization", "SharedAccessSignature sr=x"),
            ("iothub-app-", "ignored"),
        ];
        assert_eq!(
            telemetry_properties(&headers),
            "$.mid=m-1&$.ct=application%2Fjson&temperature%20alert=high%26hot"
        );
        assert_eq!(telemetry_properties(&[]), "");
    }
}
