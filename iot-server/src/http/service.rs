//! One HTTP request: the WebSocket upgrade goes to [`crate::http::websocket`]; every other
//! request is read (body capped at [`MAX_BODY`], within the request deadline), decided by the
//! sans-I/O [`crate::engine::api`], committed to the store when it writes, applied to the
//! realm, reported, and answered.

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use ring::rand::SecureRandom as _;

use crate::engine::api::{self, ApiOutcome, ApiRequest, ApiResponse, MAX_BODY, Method};
use crate::http::listener::ConnContext;

/// The answer type of every request.
pub(crate) type Answer = Response<Full<Bytes>>;

/// The WebSocket path (reference embedding.md §2: Python `mqtt_transport.py` L148, Node
/// `'wss://' + host + ':443/$iothub/websocket'`).
pub(crate) const WEBSOCKET_PATH: &str = "/$iothub/websocket";

pub(crate) async fn handle(req: Request<Incoming>, ctx: ConnContext) -> Result<Answer, Infallible> {
    if req.uri().path() == WEBSOCKET_PATH {
        return Ok(crate::http::websocket::upgrade(req, ctx));
    }
    let deadline = ctx.shared.config.limits.connect_timeout;
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(deadline, Limited::new(body, MAX_BODY).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE));
        }
        _ => return Ok(plain(StatusCode::REQUEST_TIMEOUT)),
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let host = header("host").map(strip_port);
    let mut entropy = [0u8; 64];
    let rng = ring::rand::SystemRandom::new();
    if rng.fill(&mut entropy).is_err() {
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now_ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
    let mut op_bytes = [0u8; 16];
    if rng.fill(&mut op_bytes).is_err() {
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let operation_id = operation_id(now.as_secs(), &op_bytes);
    let peer = ctx.peer.to_string();
    let chain = ctx.chain.as_slice();
    let request = ApiRequest {
        method: Method::parse(parts.method.as_str()),
        path: parts.uri.path(),
        host,
        authorization: header("authorization"),
        if_match: header("if-match"),
        headers: &headers,
        body: &body,
        client_chain: chain,
        peer: &peer,
        now_ms,
        entropy: &entropy,
        operation_id: &operation_id,
    };
    let outcome = decide_commit_apply(&ctx, &request).await;
    let shared = &ctx.shared;
    shared.emit(api::report(&request, &outcome));
    for event in outcome.events.iter().cloned() {
        shared.emit(event);
    }
    Ok(answer(outcome.response))
}

/// Reads decide under the read lock. Writes (`PUT`, `DELETE`, and `POST` telemetry) are
/// decided, committed and applied one at a time under the server's registration lock, so an
/// `If-Match` check and a DPS registration see the state they change; telemetry appends
/// skip that lock.
async fn decide_commit_apply(ctx: &ConnContext, request: &ApiRequest<'_>) -> ApiOutcome {
    let shared = &ctx.shared;
    let unavailable = || ApiOutcome::unavailable("the state lock is poisoned");
    if matches!(request.method, Method::Get | Method::Post | Method::Other) {
        let decided = shared
            .realm
            .read()
            .map(|realm| api::decide(&realm, request))
            .ok();
        return match decided {
            Some(outcome) => commit(ctx, outcome).await,
            None => unavailable(),
        };
    }
    let _one_at_a_time = shared.registrations.lock().await;
    let decided = shared
        .realm
        .write()
        .map(|mut realm| {
            let mut outcome = api::decide(&realm, request);
            api::trial(&mut realm, &mut outcome, request.now_ms);
            outcome
        })
        .ok();
    match decided {
        Some(outcome) => commit(ctx, outcome).await,
        None => unavailable(),
    }
}

/// Commits the outcome's writes (one transaction), then applies it to the realm; a failed
/// commit answers 503 and changes nothing.
async fn commit(ctx: &ConnContext, outcome: ApiOutcome) -> ApiOutcome {
    if outcome.writes.is_empty() {
        return outcome;
    }
    let shared = &ctx.shared;
    if let Err(e) = shared.store.commit(outcome.writes.clone()).await {
        return ApiOutcome::unavailable(&format!("store: {e}"));
    }
    if let Ok(mut realm) = shared.realm.write() {
        api::apply(&mut realm, &outcome);
    }
    outcome
}

fn plain(status: StatusCode) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The hyper response of an [`ApiResponse`].
fn answer(api: ApiResponse) -> Answer {
    let has_body = !api.body.is_empty();
    let mut response = Response::new(Full::new(Bytes::from(api.body)));
    *response.status_mut() =
        StatusCode::from_u16(api.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if has_body && let Ok(v) = "application/json; charset=utf-8".parse() {
        headers.insert(hyper::header::CONTENT_TYPE, v);
    }
    for (name, value) in api.headers {
        if let Ok(v) = value.parse() {
            headers.insert(name, v);
        }
    }
    response
}

/// `Host` without a `:port` (keeps a bracketed IPv6 literal whole).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// An operation ID in the service's shape (`4.{16 hex}.{uuid}`, reference §5.4) from the
/// request's randomness.
fn operation_id(now: u64, random: &[u8; 16]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "4.{now:016x}.{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn host_without_port() {
        assert_eq!(
            strip_port("acme.azure-devices.net:443"),
            "acme.azure-devices.net"
        );
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:443"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
