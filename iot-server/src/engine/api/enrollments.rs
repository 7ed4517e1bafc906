//! The DPS service API: `PUT/GET/DELETE /enrollments/{id}` and `/enrollmentGroups/{id}`,
//! `GET/DELETE /registrations/{id}` (Microsoft Learn "Device Provisioning Service REST":
//! Individual Enrollment, Enrollment Group and Device Registration State; the requests Node
//! `azure-iot-provisioning-service` 1.11.2 sends are in reference embedding.md §4).
//!
//! * Rights: `EnrollmentRead` (GET enrollments), `EnrollmentWrite` (PUT, DELETE enrollments),
//!   `RegistrationStatusRead` / `RegistrationStatusWrite` (registration states).
//! * `PUT` creates or replaces (the service's create-or-update); with `If-Match` the current
//!   etag (or `*`: any) must match, else 412. The body is checked with the enrollment's own
//!   rules here and with the cross-enrollment rules (certificates used once, known CA
//!   references) by [`super::trial`] before the commit; 200 with the stored enrollment.
//! * Deleting an enrollment does not touch the hubs: its devices keep connecting until the
//!   Registry Manager deletes them (reference §7.6). Deleting a registration state forgets
//!   the record, so the next registration is an initial assignment.

use iot_dps_service::{EnrollmentGroup, IndividualEnrollment, RegistrationRecord, iso8601};
use serde_json::{Value, json};

use super::route::Route;
use super::wire::{ApiResponse, IfMatch, etag_of};
use super::{AfterCommit, ApiOutcome, ApiRequest, Method};
use crate::engine::realm::DpsEntry;
use crate::store::Write;

/// Handles one DPS service request.
pub(super) fn handle(dps: &DpsEntry, req: &ApiRequest<'_>, route: &Route) -> ApiOutcome {
    let right = match (route, req.method) {
        (Route::RegistrationState(_), Method::Get) => "RegistrationStatusRead",
        (Route::RegistrationState(_), _) => "RegistrationStatusWrite",
        (_, Method::Get) => "EnrollmentRead",
        _ => "EnrollmentWrite",
    };
    let policy = match super::auth::dps_service(
        &dps.state,
        req.authorization,
        right,
        req.now_secs(),
        iot_sas::DEFAULT_SKEW_SECS,
    ) {
        Ok(policy) => policy,
        Err(refusal) => return ApiOutcome::refused_dps(&refusal, req.now_ms),
    };
    let outcome = match route {
        Route::Enrollment(id) => individual(dps, req, id),
        Route::EnrollmentGroup(id) => group(dps, req, id),
        Route::RegistrationState(id) => registration(dps, req, id),
        _ => ApiOutcome::read(ApiResponse::empty(404)).code("no_route"),
    };
    outcome.by(&policy)
}

fn not_found(req: &ApiRequest<'_>, what: &str) -> ApiOutcome {
    ApiOutcome::read(ApiResponse::dps_error(
        404,
        404_000,
        &format!("{what} not found."),
        req.now_ms,
    ))
    .code("not_found")
}

fn precondition_failed(req: &ApiRequest<'_>) -> ApiOutcome {
    ApiOutcome::read(ApiResponse::dps_error(
        412,
        412_000,
        "The etag does not match.",
        req.now_ms,
    ))
    .code("etag_mismatch")
}

fn bad_request(req: &ApiRequest<'_>, text: &str) -> ApiOutcome {
    ApiOutcome::read(ApiResponse::dps_error(400, 400_000, text, req.now_ms)).code("invalid_body")
}

/// The etag of an enrollment: its content with the `etag` field cleared.
fn settings_etag<T: serde::Serialize + Clone>(value: &T, clear: impl FnOnce(&mut T)) -> String {
    let mut plain = value.clone();
    clear(&mut plain);
    etag_of(&plain)
}

fn individual_etag(e: &IndividualEnrollment) -> String {
    settings_etag(e, |e| e.settings.etag = None)
}

fn group_etag(g: &EnrollmentGroup) -> String {
    settings_etag(g, |g| g.settings.etag = None)
}

/// 200 with an enrollment (its `etag` set) and the `ETag` header.
fn enrollment_response<T: serde::Serialize>(value: &T, etag: &str) -> ApiResponse {
    let mut body = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        map.insert("etag".into(), json!(etag));
    }
    ApiResponse::json(200, &body).with_header("ETag", format!("\"{etag}\""))
}

fn individual(dps: &DpsEntry, req: &ApiRequest<'_>, id: &str) -> ApiOutcome {
    let current = dps.service.individual(id);
    match req.method {
        Method::Get => match current {
            Some(e) => ApiOutcome::read(enrollment_response(e, &individual_etag(e))),
            None => not_found(req, "Enrollment"),
        },
        Method::Delete => {
            let Some(e) = current else {
                return not_found(req, "Enrollment");
            };
            if !IfMatch::parse(req.if_match).matches(Some(&individual_etag(e))) {
                return precondition_failed(req);
            }
            ApiOutcome::write(
                ApiResponse::empty(204),
                vec![Write::RemoveEnrollment(e.registration_id.clone())],
                AfterCommit::Mirror,
            )
        }
        _ => {
            let mut e: IndividualEnrollment = match serde_json::from_slice(req.body) {
                Ok(e) => e,
                Err(err) => return bad_request(req, &format!("not an enrollment: {err}")),
            };
            if !e.registration_id.eq_ignore_ascii_case(id) {
                return bad_request(req, "registrationId in the body differs from the path");
            }
            if !IfMatch::parse(req.if_match).matches(current.map(individual_etag).as_deref()) {
                return precondition_failed(req);
            }
            e.settings.etag = None;
            if let Err(err) = e.validate(dps.service.instance()) {
                return bad_request(req, &err.to_string());
            }
            let etag = individual_etag(&e);
            let mut outcome = ApiOutcome::write(
                enrollment_response(&e, &etag),
                vec![Write::Enrollment(e)],
                AfterCommit::Mirror,
            );
            outcome.trial = true;
            outcome
        }
    }
}

fn group(dps: &DpsEntry, req: &ApiRequest<'_>, id: &str) -> ApiOutcome {
    let current = dps.service.group(id);
    match req.method {
        Method::Get => match current {
            Some(g) => ApiOutcome::read(enrollment_response(g, &group_etag(g))),
            None => not_found(req, "Enrollment group"),
        },
        Method::Delete => {
            let Some(g) = current else {
                return not_found(req, "Enrollment group");
            };
            if !IfMatch::parse(req.if_match).matches(Some(&group_etag(g))) {
                return precondition_failed(req);
            }
            ApiOutcome::write(
                ApiResponse::empty(204),
                vec![Write::RemoveEnrollmentGroup(g.enrollment_group_id.clone())],
                AfterCommit::Mirror,
            )
        }
        _ => {
            let mut g: EnrollmentGroup = match serde_json::from_slice(req.body) {
                Ok(g) => g,
                Err(err) => return bad_request(req, &format!("not an enrollment group: {err}")),
            };
            if !g.enrollment_group_id.eq_ignore_ascii_case(id) {
                return bad_request(req, "enrollmentGroupId in the body differs from the path");
            }
            if !IfMatch::parse(req.if_match).matches(current.map(group_etag).as_deref()) {
                return precondition_failed(req);
            }
            g.settings.etag = None;
            if let Err(err) = g.validate(dps.service.instance()) {
                return bad_request(req, &err.to_string());
            }
            let etag = group_etag(&g);
            let mut outcome = ApiOutcome::write(
                enrollment_response(&g, &etag),
                vec![Write::EnrollmentGroup(g)],
                AfterCommit::Mirror,
            );
            outcome.trial = true;
            outcome
        }
    }
}

fn registration(dps: &DpsEntry, req: &ApiRequest<'_>, id: &str) -> ApiOutcome {
    let Some(record) = dps.front.record(id) else {
        return not_found(req, "Registration");
    };
    match req.method {
        Method::Get => ApiOutcome::read(
            ApiResponse::json(200, &registration_state(record))
                .with_header("ETag", format!("\"{}\"", record.etag())),
        ),
        _ => {
            if !IfMatch::parse(req.if_match).matches(Some(&record.etag())) {
                return precondition_failed(req);
            }
            ApiOutcome::write(
                ApiResponse::empty(204),
                vec![Write::RemoveRecord(record.registration_id.clone())],
                AfterCommit::Mirror,
            )
        }
    }
}

/// A record as the service's `DeviceRegistrationState` (reference §5.4 registrationState).
pub fn registration_state(record: &RegistrationRecord) -> Value {
    let mut body = json!({
        "registrationId": record.registration_id,
        "createdDateTimeUtc": iso8601(record.created),
        "status": record.status,
        "lastUpdatedDateTimeUtc": iso8601(record.last_updated),
        "etag": record.etag(),
    });
    if let Value::Object(map) = &mut body {
        if record.is_assigned() {
            map.insert("assignedHub".into(), json!(record.assigned_hub));
            map.insert("deviceId".into(), json!(record.device_id));
        }
        if let Some(sub) = record.substatus {
            map.insert("substatus".into(), json!(sub.as_str()));
        }
        if let Some(code) = record.error_code {
            map.insert("errorCode".into(), json!(code));
        }
    }
    body
}
