//! A device's (or module's) connection to its IoT hub: SAS or X.509, telemetry resolved on
//! PUBACK, twin get and reported-properties patch, token renewal by reconnecting.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use iot_sas::percent_encode;
use iot_sas::{ResourceUri, expiry_from_ttl, should_renew};
use serde_json::Value;

use crate::clock::unix_now;
use crate::connection::{Connection, Limits, ReceivedMessage};
use crate::endpoint::Endpoint;
use crate::session::ConnectFields;
use crate::twin::{TWIN_RESPONSE_FILTER, TwinResponse, get_twin_topic, patch_reported_topic};
use crate::{Credential, Error, InvalidInput, Message, ProtocolError, USER_AGENT};

/// The hub api-version in the user name: the docs' and Node's (reference §6.1).
pub const HUB_API_VERSION: &str = "2021-04-12";

/// Everything a hub connection needs.
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// The hub's host name: it goes into the SAS resource and the MQTT user name.
    pub hub: String,
    /// Device ID.
    pub device_id: String,
    /// Module ID, for a module identity.
    pub module_id: Option<String>,
    /// Where the socket goes: the hub itself by default, a gateway with
    /// [`with_gateway`](Self::with_gateway) (reference §6.1).
    pub endpoint: Endpoint,
    /// The device's key or certificate.
    pub credential: Credential,
    /// MQTT keep-alive (Python 60 s, Node 180 s; the hub allows up to 1177 s, reference §6.1).
    pub keep_alive: Duration,
    /// IoT Plug and Play model ID, sent as `&model-id=` in the user name.
    pub model_id: Option<String>,
    /// Lifetime of each SAS token (SDK default 3600 s, reference §1.7).
    pub sas_ttl: Duration,
    /// Renew (reconnect with a fresh token) when less than this remains (Python 120 s).
    pub renew_margin: Duration,
    /// Time limit of the TLS + CONNECT + CONNACK exchange.
    pub connect_timeout: Duration,
    /// Time limit for a PUBACK, SUBACK or twin response.
    pub operation_timeout: Duration,
}

impl HubOptions {
    /// A device of `hub` with Azure's defaults: MQTT/TLS on 8883 to the hub itself, the
    /// system trust store, keep-alive 60 s, 3600 s tokens renewed 120 s early.
    pub fn new(
        hub: impl Into<String>,
        device_id: impl Into<String>,
        credential: Credential,
    ) -> Self {
        let hub = hub.into();
        Self {
            endpoint: Endpoint::new(hub.clone()),
            hub,
            device_id: device_id.into(),
            module_id: None,
            credential,
            keep_alive: Duration::from_secs(60),
            model_id: None,
            sas_ttl: Duration::from_secs(3600),
            renew_margin: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(30),
        }
    }

    /// Sends the socket to `gateway` instead of the hub; tokens and the user name still name
    /// the hub.
    #[must_use]
    pub fn with_gateway(mut self, gateway: impl Into<String>) -> Self {
        self.endpoint.host = gateway.into();
        self
    }

    /// MQTT client ID: `{deviceId}` or `{deviceId}/{moduleId}` (reference §6.1).
    pub fn client_id(&self) -> String {
        match &self.module_id {
            Some(module) => format!("{}/{module}", self.device_id),
            None => self.device_id.clone(),
        }
    }

    /// MQTT user name: `{hub}/{clientId}/?api-version=…&DeviceClientType=…[&model-id=…]`;
    /// the host and IDs raw, query values percent-encoded (reference §6.1, §11 item 7).
    pub fn user_name(&self) -> String {
        let mut name = format!(
            "{}/{}/?api-version={HUB_API_VERSION}&DeviceClientType={}",
            self.hub,
            self.client_id(),
            percent_encode(USER_AGENT)
        );
        if let Some(model) = &self.model_id {
            name.push_str("&model-id=");
            name.push_str(&percent_encode(model).to_string());
        }
        name
    }

    fn resource(&self) -> ResourceUri<'_> {
        match &self.module_id {
            Some(module_id) => ResourceUri::Module {
                host: &self.hub,
                device_id: &self.device_id,
                module_id,
            },
            None => ResourceUri::Device {
                host: &self.hub,
                device_id: &self.device_id,
            },
        }
    }

    fn check(&self) -> Result<(), Error> {
        for (what, value) in [
            ("hub host name", self.hub.as_str()),
            ("device ID", self.device_id.as_str()),
            ("module ID", self.module_id.as_deref().unwrap_or("m")),
        ] {
            if value.is_empty()
                || value.chars().any(|c| {
                    matches!(c, '/' | '?' | '#' | '+' | '&') || c.is_whitespace() || c.is_control()
                })
            {
                return Err(InvalidInput::NotTopicSafe {
                    what,
                    value: value.to_owned(),
                }
                .into());
            }
        }
        if self.keep_alive > Duration::from_secs(1177) {
            return Err(InvalidInput::KeepAliveOverHubMaximum.into());
        }
        Ok(())
    }
}

/// A connected hub client.
///
/// Each operation first makes sure the connection is usable: a SAS token within
/// [`HubOptions::renew_margin`] of its expiry (`iot_sas::should_renew`) is replaced by
/// reconnecting with a fresh one (MQTT cannot refresh a token in-band, reference §1.7), and a
/// connection that dropped is re-opened once. A refusal ([`Error::Refused`], CONNACK 5) is
/// never retried.
#[derive(Debug)]
pub struct HubClient {
    options: HubOptions,
    connection: Option<Connection>,
    token_expiry: Option<u64>,
    connects: u32,
    next_rid: u32,
    twin_subscribed: bool,
    unread: VecDeque<ReceivedMessage>,
}

impl HubClient {
    /// Connects (TLS, CONNECT, CONNACK).
    ///
    /// # Errors
    /// [`Error::Refused`] when the hub does not admit the device; network, TLS and protocol
    /// errors otherwise.
    pub async fn connect(options: HubOptions) -> Result<Self, Error> {
        options.check()?;
        let mut client = Self {
            options,
            connection: None,
            token_expiry: None,
            connects: 0,
            next_rid: 1,
            twin_subscribed: false,
            unread: VecDeque::new(),
        };
        client.reconnect().await?;
        Ok(client)
    }

    /// The options it was made with.
    pub fn options(&self) -> &HubOptions {
        &self.options
    }

    /// How many times it connected (1 + renewals + reconnects).
    pub fn connects(&self) -> u32 {
        self.connects
    }

    /// Expiry (Unix seconds) of the SAS token of the current connection; `None` for X.509.
    pub fn token_expiry(&self) -> Option<u64> {
        self.token_expiry
    }

    async fn reconnect(&mut self) -> Result<(), Error> {
        if let Some(old) = self.connection.take() {
            old.close().await;
        }
        self.twin_subscribed = false;
        let (password, expiry, identity) = match &self.options.credential {
            Credential::SymmetricKey(key) => {
                let expiry = expiry_from_ttl(unix_now(), self.options.sas_ttl.as_secs());
                let token = iot_sas::sign(&**key, &self.options.resource(), expiry, None)?;
                (Some(token), Some(expiry), None)
            }
            Credential::X509(identity) => (None, None, Some(identity)),
        };
        let fields = ConnectFields {
            client_id: self.options.client_id(),
            user_name: self.options.user_name(),
            password,
            keep_alive: self.options.keep_alive,
            clean_session: false,
        };
        let limits = Limits {
            connect_timeout: self.options.connect_timeout,
            max_packet: crate::MAX_PACKET,
        };
        let connection =
            Connection::open(&self.options.endpoint, identity, &fields, limits).await?;
        self.connection = Some(connection);
        self.token_expiry = expiry;
        self.connects = self.connects.saturating_add(1);
        Ok(())
    }

    /// Renews the token when it is due and re-opens a dropped connection. Call it now and
    /// then on an idle device; every operation calls it first.
    ///
    /// # Errors
    /// Those of [`connect`](Self::connect).
    pub async fn maintain(&mut self) -> Result<(), Error> {
        let due = self
            .token_expiry
            .is_some_and(|e| should_renew(e, unix_now(), self.options.renew_margin.as_secs()));
        if due || self.connection.is_none() {
            self.reconnect().await?;
        }
        Ok(())
    }

    fn connection(&self) -> Result<&Connection, Error> {
        self.connection.as_ref().ok_or(Error::Closed)
    }

    /// Runs `op` on a maintained connection; on a retryable failure, reconnects and runs it
    /// once more.
    async fn with_retry<T, F>(&mut self, mut op: F) -> Result<T, Error>
    where
        F: AsyncFnMut(&mut Self) -> Result<T, Error>,
    {
        self.maintain().await?;
        match op(self).await {
            Err(e) if e.is_retryable() => {
                self.connection = None;
                self.maintain().await?;
                op(self).await
            }
            other => other,
        }
    }

    /// Sends a telemetry message at QoS 1 and returns once the hub acknowledged it (PUBACK).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an oversized body, [`Error::Timeout`] without PUBACK, connection
    /// errors.
    pub async fn send(&mut self, message: &Message) -> Result<(), Error> {
        let topic = message.topic(&self.options.device_id, self.options.module_id.as_deref())?;
        let body = message.body.clone();
        let timeout = self.options.operation_timeout;
        self.with_retry(async |client: &mut Self| {
            let ack = client
                .connection()?
                .publish(topic.clone(), body.clone(), true)
                .await?;
            tokio::time::timeout(timeout, ack.wait())
                .await
                .map_err(|_| Error::Timeout("PUBACK"))?
        })
        .await
    }

    async fn twin_request(
        &mut self,
        operation: &'static str,
        topic_for: fn(u32) -> String,
        body: Bytes,
    ) -> Result<(TwinResponse<'static>, Bytes), Error> {
        let timeout = self.options.operation_timeout;
        self.with_retry(async |client: &mut Self| {
            if !client.twin_subscribed {
                client
                    .connection()?
                    .subscribe(&[TWIN_RESPONSE_FILTER], timeout)
                    .await?;
                client.twin_subscribed = true;
            }
            let rid = client.next_rid;
            client.next_rid = client.next_rid.wrapping_add(1).max(1);
            let _ack = client
                .connection()?
                .publish(topic_for(rid), body.clone(), false)
                .await?;
            let want = rid.to_string();
            let wait = async {
                loop {
                    let connection = client.connection.as_mut().ok_or(Error::Closed)?;
                    let message = connection.recv().await?;
                    match TwinResponse::parse(&message.topic) {
                        Some(r) if r.rid == want => {
                            let (status, version) = (r.status, r.version);
                            return Ok::<_, Error>((status, version, message.payload));
                        }
                        Some(_) => {}
                        None => client.unread.push_back(message),
                    }
                }
            };
            let (status, version, payload) = tokio::time::timeout(timeout, wait)
                .await
                .map_err(|_| Error::Timeout("twin response"))??;
            if !(200..300).contains(&status) {
                return Err(Error::Status { operation, status });
            }
            Ok((
                TwinResponse {
                    status,
                    rid: "",
                    version,
                },
                payload,
            ))
        })
        .await
    }

    /// Gets the whole twin (`{"desired":{…},"reported":{…}}`).
    ///
    /// # Errors
    /// [`Error::Status`] for a non-2xx answer, [`Error::Protocol`] for a body that is not
    /// JSON, connection errors.
    pub async fn get_twin(&mut self) -> Result<Value, Error> {
        let (_, body) = self
            .twin_request("twin GET", get_twin_topic, Bytes::new())
            .await?;
        serde_json::from_slice(&body).map_err(|e| ProtocolError::TwinNotJson(e).into())
    }

    /// Patches reported properties; returns the twin's new reported version when the hub
    /// gives it.
    ///
    /// # Errors
    /// [`Error::Status`] for a non-2xx answer, connection errors.
    pub async fn patch_reported(&mut self, patch: &Value) -> Result<Option<u64>, Error> {
        let body = Bytes::from(serde_json::to_vec(patch).map_err(InvalidInput::ReportedNotJson)?);
        let (response, _) = self
            .twin_request("reported properties PATCH", patch_reported_topic, body)
            .await?;
        Ok(response.version)
    }

    /// The next message the hub sent that no operation was waiting for (cloud-to-device,
    /// desired-property updates once subscribed), waiting at most `timeout`.
    ///
    /// # Errors
    /// [`Error::Timeout`], or why the connection ended.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<ReceivedMessage, Error> {
        if let Some(message) = self.unread.pop_front() {
            return Ok(message);
        }
        let connection = self.connection.as_mut().ok_or(Error::Closed)?;
        tokio::time::timeout(timeout, connection.recv())
            .await
            .map_err(|_| Error::Timeout("a message"))?
    }

    /// Sends DISCONNECT and closes the connection.
    pub async fn close(mut self) {
        if let Some(connection) = self.connection.take() {
            connection.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> HubOptions {
        let credential =
            Credential::symmetric_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
        HubOptions::new("hub.azure-devices.net", "dev-1", credential)
    }

    #[test]
    fn user_name_parses_as_the_hub_expects() {
        let mut o = options();
        o.model_id = Some("dtmi:com:example:Thermostat;1".to_owned());
        let name = o.user_name();
        assert_eq!(
            name,
            format!(
                "hub.azure-devices.net/dev-1/?api-version=2021-04-12&DeviceClientType=iot-device%2F{}&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1",
                env!("CARGO_PKG_VERSION")
            )
        );
        let parsed = iot_hub_auth::MqttUserName::parse(&name).unwrap();
        assert_eq!(parsed.host, "hub.azure-devices.net");
        assert_eq!(
            parsed.model_id().as_deref(),
            Some("dtmi:com:example:Thermostat;1")
        );
        o.module_id = Some("m1".to_owned());
        assert_eq!(o.client_id(), "dev-1/m1");
        assert!(
            o.user_name()
                .starts_with("hub.azure-devices.net/dev-1/m1/?api-version=")
        );
    }

    #[test]
    fn gateway_moves_only_the_socket() {
        let o = options().with_gateway("localhost");
        assert_eq!(o.endpoint.host, "localhost");
        assert!(o.user_name().starts_with("hub.azure-devices.net/"));
        assert_eq!(o.endpoint.port(), 8883);
    }

    #[test]
    fn identifiers_that_break_topics_are_refused() {
        let mut o = options();
        o.device_id = "a/b".to_owned();
        assert!(matches!(o.check(), Err(Error::Invalid(_))));
        let mut o = options();
        o.keep_alive = Duration::from_secs(5000);
        assert!(matches!(o.check(), Err(Error::Invalid(_))));
        assert!(options().check().is_ok());
    }
}
