//! After a write: what the realm does once the store committed (or to try a write before it
//! does), so memory matches the store.

use super::{AfterCommit, ApiOutcome, ApiResponse};
use crate::engine::realm::Realm;
use crate::store::Write;

/// Applies committed writes to the realm, so memory matches the store. Writes the APIs do not
/// produce are ignored.
pub fn mirror(realm: &mut Realm, writes: &[Write]) {
    for write in writes {
        match write {
            Write::Identity { hub, identity } => {
                let _ = realm.hubs.upsert_identity(hub, identity.clone());
            }
            Write::RemoveIdentity {
                hub,
                device_id,
                module_id,
            } => {
                realm
                    .hubs
                    .remove_identity(hub, device_id, module_id.as_deref());
            }
            Write::Twin(twin) => realm.hubs.set_twin(twin.clone()),
            Write::Enrollment(e) => {
                if let Some(dps) = realm.dps.as_mut() {
                    let _ = dps.service.upsert_individual(e.clone());
                }
            }
            Write::RemoveEnrollment(id) => {
                if let Some(dps) = realm.dps.as_mut() {
                    dps.service.remove_individual(id);
                }
            }
            Write::EnrollmentGroup(g) => {
                if let Some(dps) = realm.dps.as_mut() {
                    let _ = dps.service.upsert_group(g.clone());
                }
            }
            Write::RemoveEnrollmentGroup(id) => {
                if let Some(dps) = realm.dps.as_mut() {
                    dps.service.remove_group(id);
                }
            }
            Write::RemoveRecord(id) => {
                if let Some(dps) = realm.dps.as_mut() {
                    dps.front.remove_record(id);
                }
            }
            _ => {}
        }
    }
}

/// Checks writes against the rules that span records (an X.509 certificate in one enrollment
/// only, CA references that exist, group limits) by applying them to the realm and undoing
/// them at once; on failure the outcome becomes a 400 without writes. Call it under the same
/// lock as [`decide`](super::decide), the commit and [`apply`], when [`ApiOutcome::trial`] is set.
pub fn trial(realm: &mut Realm, outcome: &mut ApiOutcome, now_ms: u64) {
    if !outcome.trial {
        return;
    }
    let Some(dps) = realm.dps.as_mut() else {
        return;
    };
    let mut failure = None;
    for write in &outcome.writes {
        let result = match write {
            Write::Enrollment(e) => {
                let old = dps.service.individual(&e.registration_id).cloned();
                let result = dps.service.upsert_individual(e.clone());
                if result.is_ok() {
                    dps.service.remove_individual(&e.registration_id);
                    if let Some(old) = old {
                        let _ = dps.service.upsert_individual(old);
                    }
                }
                result
            }
            Write::EnrollmentGroup(g) => {
                let old = dps.service.group(&g.enrollment_group_id).cloned();
                let result = dps.service.upsert_group(g.clone());
                if result.is_ok() {
                    match old {
                        Some(old) => {
                            let _ = dps.service.upsert_group(old);
                        }
                        None => {
                            dps.service.remove_group(&g.enrollment_group_id);
                        }
                    }
                }
                result
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            failure = Some(e.to_string());
            break;
        }
    }
    if let Some(reason) = failure {
        outcome.response = ApiResponse::dps_error(400, 400_000, &reason, now_ms);
        outcome.writes.clear();
        outcome.after = AfterCommit::Nothing;
        outcome.code = "invalid_body".into();
        outcome.reason = reason;
    }
}

/// Applies what a committed outcome asks for.
pub fn apply(realm: &mut Realm, outcome: &ApiOutcome) {
    match &outcome.after {
        AfterCommit::Nothing => {}
        AfterCommit::Mirror => mirror(realm, &outcome.writes),
        AfterCommit::Register(plan) => {
            let realm = &mut *realm;
            if let Some(dps) = realm.dps.as_mut() {
                dps.front.commit(plan, &mut realm.hubs);
            }
        }
    }
}
