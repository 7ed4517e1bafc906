// Fuzz logic for the HTTPS request parsing of `iot_server::engine::api`: `route` (method +
// path), `IfMatch::parse` and `telemetry_properties` (shared by cargo-fuzz and
// iot-server/tests/fuzz_replay.rs).
//
// Input: the method token, `\n`, the path, `\n`, then header lines `name: value\n`.
// Invariants: never panics; a routed request names non-empty IDs without `/` or control
// characters, routing is deterministic and its resource text is non-empty; an `If-Match`
// etag is the value without one layer of quotes and a `W/` prefix, never `*`; the property bag has one `key=value` pair per property
// header, and its values carry no raw `&` or `=`.

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_server::engine::api::{IfMatch, Method, Route, route, telemetry_properties};

    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = Method::parse(lines.next().unwrap_or_default());
    let path = lines.next().unwrap_or_default();
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();

    let routed = route(method, path);
    assert_eq!(routed, route(method, path));
    if let Ok(r) = &routed {
        assert!(!r.resource().is_empty());
        let ids: Vec<&str> = match r {
            Route::Identity {
                device_id,
                module_id,
            }
            | Route::Telemetry {
                device_id,
                module_id,
            } => std::iter::once(device_id.as_str())
                .chain(module_id.as_deref())
                .collect(),
            Route::Enrollment(id) | Route::EnrollmentGroup(id) | Route::RegistrationState(id) => {
                vec![id.as_str()]
            }
            Route::Register {
                id_scope,
                registration_id,
            } => vec![id_scope, registration_id],
            Route::OperationStatus {
                id_scope,
                registration_id,
                operation_id,
            } => {
                vec![id_scope, registration_id, operation_id]
            }
        };
        for id in ids {
            assert!(!id.is_empty() && !id.contains('/') && !id.chars().any(char::is_control));
        }
    }

    for (_, value) in &headers {
        match IfMatch::parse(Some(value)) {
            IfMatch::Etag(tag) => {
                assert_ne!(tag, "*");
                // One layer of quotes (and a `W/`) is removed, nothing else.
                let v = value.trim();
                let v = v.strip_prefix("W/").unwrap_or(v);
                let inner = v.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
                assert_eq!(tag, inner.unwrap_or(v));
            }
            IfMatch::Any | IfMatch::Absent => {}
        }
    }

    let bag = telemetry_properties(&headers);
    let system = [
        "iothub-messageid",
        "iothub-correlationid",
        "content-type",
        "content-encoding",
    ]
    .iter()
    .filter(|s| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(s)))
    .count();
    let app = headers
        .iter()
        .filter(|(n, _)| {
            n.to_ascii_lowercase()
                .strip_prefix("iothub-app-")
                .is_some_and(|a| !a.is_empty())
        })
        .count();
    let pairs: Vec<&str> = if bag.is_empty() {
        Vec::new()
    } else {
        bag.split('&').collect()
    };
    assert_eq!(pairs.len(), system + app, "{bag}");
    for pair in pairs {
        let (_, value) = pair.split_once('=').expect("key=value");
        assert!(!value.contains('=') && !value.contains('&'));
    }
}
