//! The operator's side of the demo: the server's Registry Manager and DPS service APIs over
//! HTTPS (hyper 1 client on a rustls connection), authorized with service SAS tokens signed by
//! the `iothubowner` and `provisioningserviceowner` policies (reference §1.5, §1.6).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use iot_sas::{ResourceUri, SharedAccessKey};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

/// Registry Manager api-version (what Python azure-iot-hub 2.7.0 sends, embedding.md §4).
const HUB_API: &str = "2021-04-12";
/// DPS service api-version (Node azure-iot-provisioning-service 1.11.2, embedding.md §4).
const DPS_API: &str = "2021-10-01";

/// An HTTPS client for the operator's API calls.
pub(crate) struct Operator {
    https: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    hub_owner_keys: HashMap<String, SharedAccessKey>,
    dps_host: String,
    dps_owner_key: SharedAccessKey,
}

impl Operator {
    pub(crate) fn new(
        https: SocketAddr,
        ca: CertificateDer<'static>,
        hub_owner_keys: HashMap<String, SharedAccessKey>,
        dps_host: String,
        dps_owner_key: SharedAccessKey,
    ) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            https,
            tls: Arc::new(tls),
            hub_owner_keys,
            dps_host,
            dps_owner_key,
        })
    }

    /// One request to `host` (the TLS server name and `Host` header select the hub or DPS).
    async fn request(
        &self,
        host: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let tcp = tokio::net::TcpStream::connect(self.https)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("tls: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("http: {e}"))?;
        let driver = tokio::spawn(connection);
        let bytes = body.map_or_else(Vec::new, |b| b.to_string().into_bytes());
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", host)
            .header("Authorization", token)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Accept", "application/json");
        if method == "PUT" || method == "DELETE" {
            // Unconditional update, as the SDKs send it (embedding.md §4).
            request = request.header("If-Match", "\"*\"");
        }
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("http: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("http body: {e}"))?
            .to_bytes();
        driver.abort();
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    fn hub_token(&self, hub: &str) -> Result<String, String> {
        let key = self
            .hub_owner_keys
            .get(hub)
            .ok_or_else(|| format!("no owner key for {hub}"))?;
        let expiry = crate::when::now_or(None) + 3600;
        iot_sas::sign(
            key,
            &ResourceUri::Hub { host: hub },
            expiry,
            Some("iothubowner"),
        )
        .map_err(|e| e.to_string())
    }

    fn dps_token(&self) -> Result<String, String> {
        let expiry = crate::when::now_or(None) + 3600;
        iot_sas::sign(
            &self.dps_owner_key,
            &ResourceUri::Hub {
                host: &self.dps_host,
            },
            expiry,
            Some("provisioningserviceowner"),
        )
        .map_err(|e| e.to_string())
    }

    /// Registry Manager: `METHOD /devices/{id}` on `hub`.
    pub(crate) async fn device(
        &self,
        hub: &str,
        method: &str,
        device_id: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let token = self.hub_token(hub)?;
        let path = format!("/devices/{device_id}?api-version={HUB_API}");
        self.request(hub, method, &path, &token, body).await
    }

    /// DPS service API: `METHOD /{collection}/{id}` (`enrollments` or `enrollmentGroups`).
    pub(crate) async fn enrollment(
        &self,
        collection: &str,
        method: &str,
        id: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let token = self.dps_token()?;
        let path = format!("/{collection}/{id}?api-version={DPS_API}");
        let host = self.dps_host.clone();
        self.request(&host, method, &path, &token, body).await
    }
}
