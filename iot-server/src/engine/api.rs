//! The HTTPS APIs as a sans-I/O core: a parsed request and the realm in, an [`ApiOutcome`]
//! out (the answer, the store writes to commit before answering, what to apply to the realm
//! after the commit, what to report). The tokio/hyper plumbing in `crate::http` only moves
//! bytes, reads the clock and the OS random generator, commits and applies.
//!
//! * [`mod@route`]: which API a method and path are for.
//! * [`auth`]: back-end tokens of hub and DPS policies.
//! * `registry`: the Registry Manager identity API.
//! * `enrollments`: the DPS service API.
//! * `device`: DPS device registration and hub telemetry over HTTPS.
//! * [`wire`]: statuses, error bodies, etags, `If-Match`.
//! * `commit`: after the store committed, bringing the realm in step ([`mirror`], [`trial`],
//!   [`apply`]).
//! * `redact`: the caller's signature never reaches a report.
//!
//! Order of a write: decide under a read lock, commit the writes in one store transaction,
//! apply [`AfterCommit`] under the write lock, answer. The caller serializes writes (and DPS
//! registrations) with one lock, so two `If-Match` updates cannot both pass.

pub mod auth;
mod commit;
mod device;
mod enrollments;
mod redact;
mod registry;
pub mod route;
pub mod wire;

use iot_x509::CertificateDer;

pub use commit::{apply, mirror, trial};
pub use device::telemetry_properties;
pub use enrollments::registration_state;
pub use registry::identity_json;
pub use route::{Method, Route, RouteError, route};
pub use wire::{ApiResponse, IfMatch, etag_of};

use crate::ServerEvent;
use crate::engine::dps::RegisterPlan;
use crate::engine::hubs::HubEntry;
use crate::engine::realm::Realm;
use crate::store::Write;

/// Largest request body read (IoT Hub's 256 KB message limit; identities and enrollments are
/// far smaller).
pub const MAX_BODY: usize = crate::MAX_MESSAGE_SIZE;

/// One HTTPS request, parsed by the plumbing.
#[derive(Clone, Copy, Debug)]
pub struct ApiRequest<'a> {
    /// Method.
    pub method: Method,
    /// Path, without the query.
    pub path: &'a str,
    /// `Host` header without the port.
    pub host: Option<&'a str>,
    /// `Authorization` header.
    pub authorization: Option<&'a str>,
    /// `If-Match` header.
    pub if_match: Option<&'a str>,
    /// Every header (lower-case names), for message properties.
    pub headers: &'a [(&'a str, &'a str)],
    /// Body.
    pub body: &'a [u8],
    /// TLS client chain, leaf first.
    pub client_chain: &'a [CertificateDer<'a>],
    /// Remote address, for reports.
    pub peer: &'a str,
    /// Now, Unix milliseconds.
    pub now_ms: u64,
    /// Fresh randomness from the caller (generated identity keys).
    pub entropy: &'a [u8; 64],
    /// A fresh operation ID for a DPS register (caller randomness).
    pub operation_id: &'a str,
}

impl ApiRequest<'_> {
    /// Now, Unix seconds.
    pub fn now_secs(&self) -> u64 {
        self.now_ms / 1000
    }
}

/// What to change in memory once the writes are committed.
#[derive(Clone, Debug, Default)]
pub enum AfterCommit {
    /// Nothing (reads, refusals, telemetry).
    #[default]
    Nothing,
    /// Apply the same writes to the realm ([`mirror`]).
    Mirror,
    /// A DPS register: the front end records the plan and the hubs apply its changes.
    Register(Box<RegisterPlan>),
}

/// The decision on one request.
#[derive(Clone, Debug)]
pub struct ApiOutcome {
    /// The answer, sent after the commit.
    pub response: ApiResponse,
    /// Store writes, committed in one transaction before the answer.
    pub writes: Vec<Write>,
    /// What to apply to the realm after the commit.
    pub after: AfterCommit,
    /// Machine-readable outcome for the report.
    pub code: String,
    /// The decision in words, for the report.
    pub reason: String,
    /// The policy that authorized the call.
    pub policy: Option<String>,
    /// Extra reports (a registration outcome, a stored message).
    pub events: Vec<ServerEvent>,
    /// The writes must pass the realm's cross-record rules first ([`trial`]).
    pub trial: bool,
}

impl ApiOutcome {
    fn read(response: ApiResponse) -> Self {
        Self {
            response,
            writes: Vec::new(),
            after: AfterCommit::Nothing,
            code: "ok".into(),
            reason: String::new(),
            policy: None,
            events: Vec::new(),
            trial: false,
        }
    }

    /// 503: the server cannot decide or store now (the reason is for the log).
    pub fn unavailable(reason: &str) -> Self {
        Self::read(ApiResponse::empty(503))
            .code("unavailable")
            .reason(reason)
    }

    fn write(response: ApiResponse, writes: Vec<Write>, after: AfterCommit) -> Self {
        Self {
            writes,
            after,
            ..Self::read(response)
        }
    }

    fn code(mut self, code: &str) -> Self {
        code.clone_into(&mut self.code);
        self
    }

    fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    fn by(mut self, policy: &str) -> Self {
        self.policy = Some(policy.to_owned());
        self
    }

    /// A hub refusal: 401 `IotHubUnauthorizedAccess` or 403 `IotHubUnauthorized`, nothing
    /// more on the wire.
    fn refused_hub(refusal: &auth::Refusal) -> Self {
        let response = if refusal.status() == 403 {
            ApiResponse::hub_error(403, "IotHubUnauthorized", "Forbidden")
        } else {
            ApiResponse::hub_error(401, "IotHubUnauthorizedAccess", "Unauthorized")
        };
        Self::read(response)
            .code(refusal.code())
            .reason(refusal.reason())
    }

    /// A DPS refusal: 401 (401002) or 403 (403002), nothing more on the wire.
    fn refused_dps(refusal: &auth::Refusal, now_ms: u64) -> Self {
        let response = if refusal.status() == 403 {
            ApiResponse::dps_error(403, 403_002, "Forbidden.", now_ms)
        } else {
            ApiResponse::dps_error(401, 401_002, "Unauthorized.", now_ms)
        };
        Self::read(response)
            .code(refusal.code())
            .reason(refusal.reason())
    }
}

/// Decides one request against `realm`.
pub fn decide(realm: &Realm, req: &ApiRequest<'_>) -> ApiOutcome {
    let route = match route(req.method, req.path) {
        Ok(route) => route,
        Err(RouteError::NotFound) => {
            return ApiOutcome::read(ApiResponse::empty(404)).code("no_route");
        }
        Err(RouteError::MethodNotAllowed) => {
            return ApiOutcome::read(ApiResponse::empty(405)).code("method_not_allowed");
        }
    };
    match &route {
        Route::Identity {
            device_id,
            module_id,
        } => match select_hub(realm, req) {
            Some(hub) => registry::handle(realm, hub, req, device_id, module_id.as_deref()),
            None => unknown_hub(),
        },
        Route::Telemetry {
            device_id,
            module_id,
        } => match select_hub(realm, req) {
            Some(hub) => device::telemetry(hub, req, device_id, module_id.as_deref()),
            None => unknown_hub(),
        },
        Route::Enrollment(_) | Route::EnrollmentGroup(_) | Route::RegistrationState(_) => {
            match realm.dps.as_ref() {
                Some(dps) => enrollments::handle(dps, req, &route),
                None => ApiOutcome::refused_dps(
                    &auth::Refusal::Unauthenticated {
                        code: "no_dps",
                        reason: "no DPS instance is loaded".into(),
                    },
                    req.now_ms,
                ),
            }
        }
        Route::Register {
            id_scope,
            registration_id,
        } => device::register(realm, req, id_scope, registration_id),
        Route::OperationStatus {
            id_scope,
            registration_id,
            operation_id,
        } => device::operation_status(realm, req, id_scope, registration_id, operation_id),
    }
}

/// The report of a decided request, without the caller's signature in any field (`redact`).
pub fn report(req: &ApiRequest<'_>, outcome: &ApiOutcome) -> ServerEvent {
    let route = route(req.method, req.path).ok();
    let secrets = redact::signatures(req.authorization);
    let scrub = |text: String| redact::scrub(text, &secrets);
    ServerEvent::Api {
        api: route.as_ref().map_or("none", Route::api).into(),
        method: req.method.as_str().into(),
        resource: scrub(route.as_ref().map(Route::resource).unwrap_or_default()),
        host: scrub(report_host(req.host)),
        status: outcome.response.status,
        code: scrub(outcome.code.clone()),
        reason: scrub(outcome.reason.clone()),
        policy: outcome.policy.clone().map(scrub),
        peer: req.peer.into(),
    }
}

/// The `Host` header for a report: a host name (letters, digits, `.`, `-`, `_`, `:`, `[`,
/// `]`) of at most 255 characters, else `<invalid>` (a header is the caller's text, and a
/// report must not carry whatever was put there, such as a token).
fn report_host(host: Option<&str>) -> String {
    let host = host.unwrap_or_default();
    let plausible = host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    if plausible {
        host.to_owned()
    } else {
        "<invalid>".into()
    }
}

/// No hub answers to this host and token: 401, as for a bad token (the caller learns nothing
/// about which hubs exist).
fn unknown_hub() -> ApiOutcome {
    ApiOutcome::refused_hub(&auth::Refusal::Unauthenticated {
        code: "unknown_hub",
        reason: "neither the Host header nor the token names a hub".into(),
    })
}

/// The hub a request is for: the `Host` header (the SDKs send the hub name), else the host
/// the token's `sr` starts with (a client that dialled `localhost`).
fn select_hub<'r>(realm: &'r Realm, req: &ApiRequest<'_>) -> Option<&'r HubEntry> {
    if let Some(hub) = req.host.and_then(|h| realm.hubs.hub(h)) {
        return Some(hub);
    }
    let token = iot_sas::SasToken::parse(req.authorization?.trim()).ok()?;
    let sr = iot_sas::percent_decode(token.resource_raw())
        .decode_utf8()
        .ok()?;
    let first = sr.split('/').next()?;
    realm.hubs.hub(first)
}
