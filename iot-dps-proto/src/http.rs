//! DPS over HTTPS: request shapes for register, operation status and status lookup, and the
//! response mapping (reference §5.6).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use iot_sas::percent_encode;

use crate::text::check_identifier;
use crate::{ApiVersion, DeviceRegistration, Error, Request};

/// Base URL of the global device endpoint over HTTPS (§5.6).
pub const HTTPS_BASE_URL: &str = "https://global.azure-devices-provisioning.net";

/// HTTP method of a DPS request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `PUT`: register.
    Put,
    /// `GET`: operation status.
    Get,
    /// `POST`: registration status lookup.
    Post,
}

impl HttpMethod {
    /// The method token.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Put => "PUT",
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTPS request to send to [`HTTPS_BASE_URL`]: everything but the TLS connection.
///
/// `Debug` prints the `Authorization` header without its signature
/// ([`iot_sas::RedactedToken`]).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: HttpMethod,
    /// Path with percent-escaped segments, e.g. `/0ne00000001/registrations/dev1/register`.
    pub path: String,
    /// Query without `?`, e.g. `api-version=2021-06-01&forceRegistration=true`.
    pub query: String,
    /// Header names and values, in sending order.
    pub headers: Vec<(&'static str, String)>,
    /// Body (JSON); empty for `GET`.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'h>(&'h [(&'static str, String)]);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                for (name, value) in self.0 {
                    if name.eq_ignore_ascii_case("authorization") {
                        list.entry(&(name, iot_sas::RedactedToken::new(value)));
                    } else {
                        list.entry(&(name, value));
                    }
                }
                list.finish()
            }
        }
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &Headers(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// `path?query`, the request target.
    pub fn path_and_query(&self) -> String {
        alloc::format!("{}?{}", self.path, self.query)
    }

    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The HTTPS side of a device registration: builds the three DPS device requests.
///
/// Path segments are percent-escaped (RFC 3986 unreserved set kept), like csharp's
/// `Uri.EscapeDataString` (§5.6).
///
/// ```
/// use core::time::Duration;
/// use iot_dps_proto::{DeviceRegistration, HttpMethod, HttpsEndpoint, ProvisioningClient, Response};
///
/// let endpoint = HttpsEndpoint::new("0ne00111111", "my-symkey-device")?;
/// let body = DeviceRegistration::new("my-symkey-device");
/// let token = "SharedAccessSignature sr=0ne00111111%2Fregistrations%2Fmy-symkey-device&sig=..&se=1663952627&skn=registration";
///
/// let mut client = ProvisioningClient::default();
/// let request = client.start(Duration::ZERO).expect("first request");
/// let http = endpoint.request(&request, &body, Some(token))?;
/// assert_eq!(http.method, HttpMethod::Put);
/// assert_eq!(http.path_and_query(), "/0ne00111111/registrations/my-symkey-device/register?api-version=2021-06-01");
/// assert_eq!(http.header("Authorization"), Some(token));
///
/// // Send it to HTTPS_BASE_URL, then map the answer (status, Retry-After header, body):
/// let answer = Response::from_http(202, Some("3"), br#"{"operationId":"op1","status":"assigning"}"#);
/// let _ = client.handle_response(Duration::ZERO, &answer);
/// assert_eq!(client.poll_timeout(), Some(Duration::from_secs(3)));
/// # Ok::<(), iot_dps_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpsEndpoint<'a> {
    id_scope: &'a str,
    registration_id: &'a str,
    api_version: ApiVersion,
    force_registration: bool,
    user_agent: Option<&'a str>,
}

impl<'a> HttpsEndpoint<'a> {
    /// A device `registration_id` in `id_scope`, [`ApiVersion::DEFAULT`].
    ///
    /// # Errors
    /// [`Error::Missing`] / [`Error::InvalidIdentifier`] as for
    /// [`MqttConnect::new`](crate::MqttConnect::new).
    pub fn new(id_scope: &'a str, registration_id: &'a str) -> Result<Self, Error> {
        check_identifier(id_scope, "id scope")?;
        check_identifier(registration_id, "registration id")?;
        Ok(Self {
            id_scope,
            registration_id,
            api_version: ApiVersion::DEFAULT,
            force_registration: false,
            user_agent: None,
        })
    }

    /// Selects another api-version.
    #[must_use]
    pub fn with_api_version(mut self, api_version: ApiVersion) -> Self {
        self.api_version = api_version;
        self
    }

    /// Adds `&forceRegistration=true` to register requests (re-run allocation even if the
    /// device is already assigned).
    #[must_use]
    pub fn with_force_registration(mut self, force: bool) -> Self {
        self.force_registration = force;
        self
    }

    /// Sends a `User-Agent` header (iot-sdk-c sends `prov_device_client/1.0`).
    #[must_use]
    pub fn with_user_agent(mut self, agent: &'a str) -> Self {
        self.user_agent = Some(agent);
        self
    }

    fn base_path(&self) -> String {
        alloc::format!(
            "/{}/registrations/{}",
            percent_encode(self.id_scope),
            percent_encode(self.registration_id)
        )
    }

    fn headers(&self, with_body: bool, authorization: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(5);
        headers.push(("Accept", String::from("application/json")));
        if with_body {
            headers.push((
                "Content-Type",
                String::from("application/json; charset=utf-8"),
            ));
            // The docs' HTTPS examples also send it.
            headers.push(("Content-Encoding", String::from("utf-8")));
        }
        if let Some(agent) = self.user_agent {
            headers.push(("User-Agent", String::from(agent)));
        }
        // SAS token for symmetric keys (and the TPM second leg); X.509 uses mutual TLS instead.
        if let Some(token) = authorization {
            headers.push(("Authorization", String::from(token)));
        }
        headers
    }

    /// `PUT /{idScope}/registrations/{registrationId}/register?api-version={v}[&forceRegistration=true]`.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] when the body exceeds the DPS message limit.
    pub fn register(
        &self,
        body: &DeviceRegistration,
        authorization: Option<&str>,
    ) -> Result<HttpRequest, Error> {
        let mut query = alloc::format!("api-version={}", percent_encode(self.api_version.as_str()));
        if self.force_registration {
            query.push_str("&forceRegistration=true");
        }
        Ok(HttpRequest {
            method: HttpMethod::Put,
            path: alloc::format!("{}/register", self.base_path()),
            query,
            headers: self.headers(true, authorization),
            body: body.to_json()?,
        })
    }

    /// `GET /{idScope}/registrations/{registrationId}/operations/{operationId}?api-version={v}`.
    ///
    /// # Errors
    /// [`Error::Missing`] for an empty operation ID.
    pub fn operation_status(
        &self,
        operation_id: &str,
        authorization: Option<&str>,
    ) -> Result<HttpRequest, Error> {
        if operation_id.is_empty() {
            return Err(Error::Missing {
                field: "operationId",
            });
        }
        Ok(HttpRequest {
            method: HttpMethod::Get,
            path: alloc::format!(
                "{}/operations/{}",
                self.base_path(),
                percent_encode(operation_id)
            ),
            query: alloc::format!("api-version={}", percent_encode(self.api_version.as_str())),
            headers: self.headers(false, authorization),
            body: Vec::new(),
        })
    }

    /// `POST /{idScope}/registrations/{registrationId}?api-version={v}` with a
    /// [`DeviceRegistration`] body: the registration status lookup (it counts as a
    /// registration against the limits, §5.5).
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] when the body exceeds the DPS message limit.
    pub fn status_lookup(
        &self,
        body: &DeviceRegistration,
        authorization: Option<&str>,
    ) -> Result<HttpRequest, Error> {
        Ok(HttpRequest {
            method: HttpMethod::Post,
            path: self.base_path(),
            query: alloc::format!("api-version={}", percent_encode(self.api_version.as_str())),
            headers: self.headers(true, authorization),
            body: body.to_json()?,
        })
    }

    /// Maps a state-machine [`Request`] to HTTPS (`body` is used for `Register`).
    ///
    /// # Errors
    /// As [`register`](Self::register) and [`operation_status`](Self::operation_status).
    pub fn request(
        &self,
        request: &Request,
        body: &DeviceRegistration,
        authorization: Option<&str>,
    ) -> Result<HttpRequest, Error> {
        match request {
            Request::Register { .. } => self.register(body, authorization),
            Request::PollStatus { operation_id, .. } => {
                self.operation_status(operation_id, authorization)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rid;

    #[test]
    fn register_request_matches_docs() {
        let ep = HttpsEndpoint::new("0ne00111111", "my-symkey-device").unwrap();
        let req = ep
            .register(
                &DeviceRegistration::new("my-symkey-device"),
                Some("SharedAccessSignature sr=x"),
            )
            .unwrap();
        assert_eq!(req.method, HttpMethod::Put);
        assert_eq!(
            req.path_and_query(),
            "/0ne00111111/registrations/my-symkey-device/register?api-version=2021-06-01"
        );
        assert_eq!(
            req.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(req.header("Accept"), Some("application/json"));
        assert_eq!(
            req.header("Authorization"),
            Some("SharedAccessSignature sr=x")
        );
        assert_eq!(req.body, br#"{"registrationId":"my-symkey-device"}"#);

        let forced = ep
            .with_force_registration(true)
            .with_api_version(ApiVersion::V2019_03_31);
        let req = forced
            .register(&DeviceRegistration::default(), None)
            .unwrap();
        assert_eq!(req.query, "api-version=2019-03-31&forceRegistration=true");
        assert_eq!(req.header("Authorization"), None);
    }

    #[test]
    fn operation_status_and_lookup() {
        let ep = HttpsEndpoint::new("0ne00111111", "dev:1")
            .unwrap()
            .with_user_agent("prov_device_client/1.0");
        let req = ep
            .operation_status(
                "4.d0a671905ea5b2c8.e7173b7b-0e54-4aa0-9d20-aeb1b89e6c7d",
                None,
            )
            .unwrap();
        assert_eq!(req.method, HttpMethod::Get);
        assert_eq!(
            req.path,
            "/0ne00111111/registrations/dev%3A1/operations/4.d0a671905ea5b2c8.e7173b7b-0e54-4aa0-9d20-aeb1b89e6c7d"
        );
        assert!(req.body.is_empty());
        assert_eq!(req.header("Content-Type"), None);
        assert_eq!(req.header("user-agent"), Some("prov_device_client/1.0"));
        assert!(ep.operation_status("", None).is_err());

        let req = ep
            .status_lookup(&DeviceRegistration::new("dev:1"), None)
            .unwrap();
        assert_eq!(req.method, HttpMethod::Post);
        assert_eq!(
            req.path_and_query(),
            "/0ne00111111/registrations/dev%3A1?api-version=2021-06-01"
        );

        let poll = Request::PollStatus {
            rid: Rid(2),
            operation_id: "op".into(),
        };
        let req = ep
            .request(&poll, &DeviceRegistration::default(), None)
            .unwrap();
        assert_eq!(req.path, "/0ne00111111/registrations/dev%3A1/operations/op");
        let reg = ep
            .request(
                &Request::Register { rid: Rid(1) },
                &DeviceRegistration::default(),
                None,
            )
            .unwrap();
        assert_eq!(reg.body, b"{}");
    }
}
