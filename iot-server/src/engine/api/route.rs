//! Which API a request is for, from its method and path alone (no state, no credentials):
//! the Registry Manager identity routes, hub telemetry over HTTPS, the DPS service API and the
//! DPS device API over HTTPS (reference embedding.md §4; azure-iot-protocol.md §5.6).
//!
//! Path segments are percent-decoded once (UTF-8, no `/` inside a decoded segment); an empty
//! segment, a trailing `/` or a path longer than [`MAX_PATH_LEN`] is not routed.

use iot_sas::percent_decode;

/// Longest request path routed (IDs are at most 128 characters; four of them fit).
pub const MAX_PATH_LEN: usize = 1024;

/// The HTTP methods the APIs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
    /// Any other method.
    Other,
}

impl Method {
    /// From the request line's method token.
    pub fn parse(text: &str) -> Self {
        match text {
            "GET" => Self::Get,
            "PUT" => Self::Put,
            "POST" => Self::Post,
            "DELETE" => Self::Delete,
            _ => Self::Other,
        }
    }

    /// The method token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Other => "OTHER",
        }
    }
}

/// A routed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/devices/{id}` and `/devices/{id}/modules/{moduleId}`: Registry Manager identity
    /// (`GET`, `PUT`, `DELETE`).
    Identity {
        /// Device ID.
        device_id: String,
        /// Module ID.
        module_id: Option<String>,
    },
    /// `POST /devices/{id}[/modules/{moduleId}]/messages/events`: device-to-cloud message.
    Telemetry {
        /// Device ID.
        device_id: String,
        /// Module ID.
        module_id: Option<String>,
    },
    /// `/enrollments/{id}`: individual enrollment (`GET`, `PUT`, `DELETE`).
    Enrollment(String),
    /// `/enrollmentGroups/{id}`: enrollment group (`GET`, `PUT`, `DELETE`).
    EnrollmentGroup(String),
    /// `/registrations/{id}`: registration state (`GET`, `DELETE`).
    RegistrationState(String),
    /// `PUT /{idScope}/registrations/{id}/register`: DPS device register.
    Register {
        /// ID scope.
        id_scope: String,
        /// Registration ID.
        registration_id: String,
    },
    /// `GET /{idScope}/registrations/{id}/operations/{operationId}`: DPS operation status.
    OperationStatus {
        /// ID scope.
        id_scope: String,
        /// Registration ID.
        registration_id: String,
        /// Operation ID.
        operation_id: String,
    },
}

impl Route {
    /// The API family, for logs: `registry`, `telemetry`, `dps-service` or `dps-device`.
    pub fn api(&self) -> &'static str {
        match self {
            Self::Identity { .. } => "registry",
            Self::Telemetry { .. } => "telemetry",
            Self::Enrollment(_) | Self::EnrollmentGroup(_) | Self::RegistrationState(_) => {
                "dps-service"
            }
            Self::Register { .. } | Self::OperationStatus { .. } => "dps-device",
        }
    }

    /// The resource named, for logs (`devices/dev1/modules/m`, `enrollments/x`, ...).
    pub fn resource(&self) -> String {
        match self {
            Self::Identity {
                device_id,
                module_id,
            }
            | Self::Telemetry {
                device_id,
                module_id,
            } => match module_id {
                Some(m) => format!("devices/{device_id}/modules/{m}"),
                None => format!("devices/{device_id}"),
            },
            Self::Enrollment(id) => format!("enrollments/{id}"),
            Self::EnrollmentGroup(id) => format!("enrollmentGroups/{id}"),
            Self::RegistrationState(id)
            | Self::Register {
                registration_id: id,
                ..
            } => format!("registrations/{id}"),
            Self::OperationStatus {
                registration_id,
                operation_id,
                ..
            } => format!("registrations/{registration_id}/operations/{operation_id}"),
        }
    }
}

/// Why a request is not routed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No API has this path (404).
    #[error("no such resource")]
    NotFound,
    /// The path exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
}

/// Routes `method` + `path` (without the query).
///
/// # Errors
/// [`RouteError`].
pub fn route(method: Method, path: &str) -> Result<Route, RouteError> {
    use Method::{Delete, Get, Post, Put};
    if path.len() > MAX_PATH_LEN {
        return Err(RouteError::NotFound);
    }
    let rest = path.strip_prefix('/').ok_or(RouteError::NotFound)?;
    let raw: Vec<&str> = rest.split('/').collect();
    if raw.len() > 6 {
        return Err(RouteError::NotFound);
    }
    let mut segs = Vec::with_capacity(raw.len());
    for s in raw {
        segs.push(decode_segment(s)?);
    }
    let allow = |ok: bool, r: Route| {
        if ok {
            Ok(r)
        } else {
            Err(RouteError::MethodNotAllowed)
        }
    };
    let crud = matches!(method, Get | Put | Delete);
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["devices", id] => allow(crud, identity(id, None)),
        ["devices", id, "modules", m] => allow(crud, identity(id, Some(m))),
        ["devices", id, "messages", "events"] => allow(method == Post, telemetry(id, None)),
        ["devices", id, "modules", m, "messages", "events"] => {
            allow(method == Post, telemetry(id, Some(m)))
        }
        ["enrollments", id] => allow(crud, Route::Enrollment((*id).to_owned())),
        ["enrollmentGroups", id] => allow(crud, Route::EnrollmentGroup((*id).to_owned())),
        ["registrations", id] => allow(
            matches!(method, Get | Delete),
            Route::RegistrationState((*id).to_owned()),
        ),
        [scope, "registrations", id, "register"] => allow(
            method == Put,
            Route::Register {
                id_scope: (*scope).to_owned(),
                registration_id: (*id).to_owned(),
            },
        ),
        [scope, "registrations", id, "operations", op] => allow(
            method == Get,
            Route::OperationStatus {
                id_scope: (*scope).to_owned(),
                registration_id: (*id).to_owned(),
                operation_id: (*op).to_owned(),
            },
        ),
        _ => Err(RouteError::NotFound),
    }
}

fn identity(device_id: &str, module_id: Option<&str>) -> Route {
    Route::Identity {
        device_id: device_id.to_owned(),
        module_id: module_id.map(str::to_owned),
    }
}

fn telemetry(device_id: &str, module_id: Option<&str>) -> Route {
    Route::Telemetry {
        device_id: device_id.to_owned(),
        module_id: module_id.map(str::to_owned),
    }
}

/// One percent-decoded, non-empty UTF-8 segment without control characters.
fn decode_segment(raw: &str) -> Result<String, RouteError> {
    if raw.is_empty() {
        return Err(RouteError::NotFound);
    }
    let text = percent_decode(raw)
        .decode_utf8()
        .map_err(|_| RouteError::NotFound)?;
    if text.is_empty() || text.contains('/') || text.chars().any(char::is_control) {
        return Err(RouteError::NotFound);
    }
    Ok(text.into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn routes_every_recorded_sdk_path() {
        assert_eq!(
            route(Method::Put, "/devices/dev-sas"),
            Ok(identity("dev-sas", None))
        );
        assert_eq!(
            route(Method::Put, "/devices/dev-sas/modules/mod1"),
            Ok(identity("dev-sas", Some("mod1")))
        );
        assert_eq!(
            route(Method::Post, "/devices/d%231/messages/events"),
            Ok(telemetry("d#1", None))
        );
        assert_eq!(
            route(Method::Delete, "/enrollments/node-enr-1"),
            Ok(Route::Enrollment("node-enr-1".into()))
        );
        assert_eq!(
            route(Method::Put, "/enrollmentGroups/node-grp-1"),
            Ok(Route::EnrollmentGroup("node-grp-1".into()))
        );
        assert_eq!(
            route(Method::Get, "/registrations/node-enr-1"),
            Ok(Route::RegistrationState("node-enr-1".into()))
        );
        assert_eq!(
            route(
                Method::Put,
                "/0ne00AB12CD/registrations/node-http-dev/register"
            ),
            Ok(Route::Register {
                id_scope: "0ne00AB12CD".into(),
                registration_id: "node-http-dev".into()
            })
        );
        let op = "/0ne00AB12CD/registrations/node-http-dev/operations/4.0f1e.aaaa-bbbb";
        assert!(matches!(
            route(Method::Get, op),
            Ok(Route::OperationStatus { operation_id, .. }) if operation_id == "4.0f1e.aaaa-bbbb"
        ));
    }

    #[test]
    fn refuses_wrong_methods_and_odd_paths() {
        assert_eq!(
            route(Method::Post, "/devices/d"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route(Method::Put, "/registrations/r"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route(Method::Get, "/devices/d/messages/events"),
            Err(RouteError::MethodNotAllowed)
        );
        for path in [
            "",
            "/",
            "devices/d",
            "/devices/",
            "/devices//modules/m",
            "/devices/d/",
            "/devices/a%2Fb",
            "/devices/%FF",
            "/devices/%00",
            "/a/b/c/d/e/f/g",
            "/$iothub/websocket",
        ] {
            assert_eq!(
                route(Method::Get, path),
                Err(RouteError::NotFound),
                "{path}"
            );
        }
        let long = format!("/devices/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(route(Method::Get, &long), Err(RouteError::NotFound));
    }
}
