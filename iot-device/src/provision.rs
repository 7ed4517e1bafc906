//! DPS provisioning over MQTT: `iot_dps_proto::ProvisioningClient` driven by the real clock,
//! OS randomness for jitter, and a [`Connection`] (MQTT over TLS or WebSockets).

use std::time::Duration;

use bytes::Bytes;
use iot_dps_proto::{
    ApiVersion, ClientConfig, DeviceRegistration, Event, Failure, MqttConnect, ProvisioningClient,
    RESPONSE_TOPIC_PREFIX, Request, Response, SUBSCRIBE_TOPIC_FILTER,
};
use iot_sas::expiry_from_ttl;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::clock::{jitter, unix_now};
use crate::connection::{Connection, Limits};
use crate::endpoint::Endpoint;
use crate::session::ConnectFields;
use crate::{Credential, Error, USER_AGENT};

/// Where and how a device provisions.
#[derive(Clone, Debug)]
pub struct ProvisioningOptions {
    /// The DPS device endpoint (default `global.azure-devices-provisioning.net:8883`).
    pub endpoint: Endpoint,
    /// The DPS instance's ID scope.
    pub id_scope: String,
    /// The registration ID (for X.509: the leaf certificate's CN, reference §5.1).
    pub registration_id: String,
    /// The device's key (individual or derived from a group key) or certificate.
    pub credential: Credential,
    /// Custom allocation payload (`payload` of the register body, reference §5.3).
    pub payload: Option<Value>,
    /// Timing of the registration flow: poll interval, `retry-after` clamps, back-off,
    /// response timeout and the overall deadline (see [`ClientConfig`]).
    pub timing: ClientConfig,
    /// Largest random jitter added to waits the client chooses itself (csharp: 0..5 s).
    pub max_jitter: Duration,
    /// Lifetime of the DPS SAS token (Python and Node: 3600 s, reference §1.7).
    pub sas_ttl: Duration,
    /// MQTT keep-alive.
    pub keep_alive: Duration,
    /// Time limit of each TLS + CONNECT + CONNACK exchange.
    pub connect_timeout: Duration,
    /// The api-version in the user name (both SDKs send 2019-03-31, see the capture README).
    pub api_version: ApiVersion,
}

impl ProvisioningOptions {
    /// Azure's defaults: the global endpoint over MQTT/TLS, system trust store, the
    /// [`ClientConfig`] defaults (600 s deadline), up to 1 s of jitter, 3600 s tokens.
    pub fn new(
        id_scope: impl Into<String>,
        registration_id: impl Into<String>,
        credential: Credential,
    ) -> Self {
        Self {
            endpoint: Endpoint::new(iot_dps_proto::GLOBAL_DEVICE_ENDPOINT),
            id_scope: id_scope.into(),
            registration_id: registration_id.into(),
            credential,
            payload: None,
            timing: ClientConfig::default(),
            max_jitter: Duration::from_secs(1),
            sas_ttl: Duration::from_secs(3600),
            keep_alive: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            api_version: ApiVersion::V2019_03_31,
        }
    }

    /// The CONNECT fields (reference §5.1): client ID = registration ID, user name
    /// `{idScope}/registrations/{id}/api-version=…&ClientVersion=…`, a SAS password with
    /// `skn=registration` for keys, none for X.509, clean session.
    pub(crate) fn connect_fields(&self, now_unix: u64) -> Result<ConnectFields, Error> {
        let connect = MqttConnect::new(&self.id_scope, &self.registration_id)?
            .with_api_version(self.api_version)
            .with_client_version(USER_AGENT);
        let password = match &self.credential {
            Credential::SymmetricKey(key) => {
                Some(connect.password(&**key, expiry_from_ttl(now_unix, self.sas_ttl.as_secs()))?)
            }
            Credential::X509(_) => None,
        };
        Ok(ConnectFields {
            client_id: connect.client_id().to_owned(),
            user_name: connect.user_name(),
            password,
            keep_alive: self.keep_alive,
            clean_session: true,
        })
    }

    /// The register body: `{"registrationId":…[,"payload":…]}` (Node's and sdk-for-c's shape,
    /// reference §5.3).
    pub(crate) fn register_body(&self) -> Result<Bytes, Error> {
        let mut body = DeviceRegistration::new(self.registration_id.clone());
        if let Some(payload) = &self.payload {
            body = body.with_payload(payload.clone());
        }
        Ok(Bytes::from(body.to_json()?))
    }
}

/// Where DPS put the device, worth caching (reference §5.5 "do not re-provision on every
/// boot; cache the hub").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The registration ID it was given for.
    pub registration_id: String,
    /// Host name of the assigned hub.
    pub assigned_hub: String,
    /// Device ID in that hub.
    pub device_id: String,
    /// Why this hub (`initialAssignment`, `deviceDataMigrated`, `deviceDataReset`,
    /// `reprovisionedToInitialAssignment`), when DPS said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substatus: Option<String>,
    /// Custom allocation payload returned by DPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// One step of a registration, for logs and progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisioningStep {
    /// Opening connection number `attempt` (1-based).
    Connecting {
        /// Attempt number.
        attempt: u32,
    },
    /// CONNACK 0 and SUBACK arrived.
    Connected,
    /// A request went out on this topic.
    Sent {
        /// The publish topic.
        topic: String,
    },
    /// An answer came in.
    Answered {
        /// Its status code.
        status: u16,
        /// Its `retry-after`, seconds.
        retry_after: Option<u32>,
    },
    /// The connection failed or dropped; the next attempt starts after `after`.
    Retrying {
        /// Why.
        reason: String,
        /// Wait before reconnecting.
        after: Duration,
    },
}

/// Registers with DPS and returns the assignment.
///
/// # Errors
/// [`Error::Refused`] when DPS refuses the CONNECT, [`Error::Disabled`],
/// [`Error::Registration`] for a final failure answer or the flow's deadline, and
/// [`Error::Deadline`] when the transport kept failing until the deadline.
pub async fn provision(options: &ProvisioningOptions) -> Result<Assignment, Error> {
    provision_with(options, |_| {}).await
}

/// [`provision`], reporting each [`ProvisioningStep`] to `observe`.
///
/// Connection failures are retried with the flow's back-off ([`ClientConfig::backoff`] plus
/// jitter) until [`ClientConfig::deadline`]; after a reconnect the registration starts again
/// with a new register request, since the answer to anything in flight went with the old
/// connection (the per-device polling limit still counts every request). Cancel by dropping
/// the future (e.g. in `tokio::select!` or `tokio::time::timeout`): the connection task is
/// aborted with it.
///
/// # Errors
/// As [`provision`].
pub async fn provision_with(
    options: &ProvisioningOptions,
    mut observe: impl FnMut(&ProvisioningStep),
) -> Result<Assignment, Error> {
    // Validate identifiers before touching the network.
    options.connect_fields(unix_now())?;
    let register_body = options.register_body()?;
    let rng = SystemRandom::new();
    let start = Instant::now();
    let deadline = start + options.timing.deadline;
    let mut machine = ProvisioningClient::new(options.timing.clone());
    let mut connection: Option<Connection> = None;
    let mut attempts = 0u32;
    let mut failures = 0u32;
    let mut first: Option<Request> = None;
    loop {
        if Instant::now() >= deadline {
            return Err(match connection {
                Some(_) => Error::Registration {
                    status: None,
                    error: Failure::DeadlineExceeded,
                },
                None => Error::Deadline {
                    attempts,
                    last: "no connection".to_owned(),
                },
            });
        }
        let Some(conn) = connection.as_mut() else {
            attempts = attempts.saturating_add(1);
            observe(&ProvisioningStep::Connecting { attempt: attempts });
            match open(options, deadline).await {
                Ok(conn) => {
                    observe(&ProvisioningStep::Connected);
                    failures = 0;
                    connection = Some(conn);
                    // (Re)start: register again on the new connection.
                    first = machine.start(start.elapsed());
                }
                Err(e) if e.is_retryable() => {
                    failures = failures.saturating_add(1);
                    let wait = options
                        .timing
                        .backoff(failures, jitter(&rng, options.max_jitter));
                    let reason = e.to_string();
                    if Instant::now() + wait >= deadline {
                        return Err(Error::Deadline {
                            attempts,
                            last: reason,
                        });
                    }
                    observe(&ProvisioningStep::Retrying {
                        reason,
                        after: wait,
                    });
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
            continue;
        };
        machine.set_jitter(jitter(&rng, options.max_jitter));
        let mut lost = None;
        while let Some(request) = first
            .take()
            .or_else(|| machine.poll_transmit(start.elapsed()))
        {
            let topic = request.mqtt_topic()?;
            let body = match request {
                Request::Register { .. } => register_body.clone(),
                // Python and Node send a single space (capture README).
                Request::PollStatus { .. } => Bytes::from_static(b" "),
            };
            observe(&ProvisioningStep::Sent {
                topic: topic.clone(),
            });
            // QoS 1 like the SDKs; the answer topic, not the PUBACK, moves the flow.
            if let Err(e) = conn.publish(topic, body, true).await {
                lost = Some(e);
                break;
            }
        }
        if let Some(event) = machine.poll_event() {
            if let Some(conn) = connection.take() {
                conn.close().await;
            }
            return outcome(event, &options.registration_id);
        }
        if lost.is_none() {
            let wake = machine
                .poll_timeout()
                .map_or(deadline, |t| (start + t).min(deadline));
            tokio::select! {
                received = conn.recv() => match received {
                    Ok(message) => {
                        if message.topic.starts_with(RESPONSE_TOPIC_PREFIX)
                            && let Ok(response) = Response::from_mqtt(&message.topic, &message.payload)
                        {
                            observe(&ProvisioningStep::Answered {
                                status: response.status,
                                retry_after: response.retry_after,
                            });
                            let _ = machine.handle_response(start.elapsed(), &response);
                        }
                    }
                    Err(e) => lost = Some(e),
                },
                () = tokio::time::sleep_until(wake) => machine.handle_timeout(start.elapsed()),
            }
        }
        if let Some(e) = lost {
            connection = None;
            failures = failures.saturating_add(1);
            let wait = options
                .timing
                .backoff(failures, jitter(&rng, options.max_jitter))
                .min(Duration::from_secs(1));
            observe(&ProvisioningStep::Retrying {
                reason: e.to_string(),
                after: wait,
            });
            tokio::time::sleep(wait).await;
        }
    }
}

async fn open(options: &ProvisioningOptions, deadline: Instant) -> Result<Connection, Error> {
    let fields = options.connect_fields(unix_now())?;
    let identity = match &options.credential {
        Credential::X509(identity) => Some(identity),
        Credential::SymmetricKey(_) => None,
    };
    let remaining = deadline.saturating_duration_since(Instant::now());
    let limits = Limits {
        connect_timeout: options.connect_timeout.min(remaining),
        max_packet: crate::MAX_PACKET,
    };
    let connection = Connection::open(&options.endpoint, identity, &fields, limits).await?;
    connection
        .subscribe(
            &[SUBSCRIBE_TOPIC_FILTER],
            limits.connect_timeout.max(Duration::from_secs(1)),
        )
        .await?;
    Ok(connection)
}

fn outcome(event: Event, registration_id: &str) -> Result<Assignment, Error> {
    match event {
        Event::Assigned {
            assigned_hub,
            device_id,
            substatus,
            payload,
            ..
        } => Ok(Assignment {
            registration_id: registration_id.to_owned(),
            assigned_hub,
            device_id,
            substatus: substatus.map(|s| s.as_str().to_owned()),
            payload,
        }),
        Event::Disabled => Err(Error::Disabled),
        Event::Failed { status, error } => Err(Error::Registration { status, error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_fields_match_the_sdk_shapes() {
        let key =
            Credential::symmetric_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
        let o = ProvisioningOptions::new("0ne00CAPTURE", "capture-device-sym", key);
        let f = o.connect_fields(1_795_866_140).unwrap();
        assert_eq!(f.client_id, "capture-device-sym");
        assert_eq!(
            f.user_name,
            format!(
                "0ne00CAPTURE/registrations/capture-device-sym/api-version=2019-03-31&ClientVersion=iot-device%2F{}",
                env!("CARGO_PKG_VERSION")
            )
        );
        let token = f.password.unwrap();
        assert!(token.starts_with(
            "SharedAccessSignature sr=0ne00CAPTURE%2Fregistrations%2Fcapture-device-sym&sig="
        ));
        assert!(token.ends_with("&se=1795869740&skn=registration"));
        assert!(f.clean_session);
        assert_eq!(
            o.register_body().unwrap(),
            Bytes::from_static(br#"{"registrationId":"capture-device-sym"}"#)
        );
    }

    #[test]
    fn bad_identifiers_fail_before_any_io() {
        let key =
            Credential::symmetric_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
        let o = ProvisioningOptions::new("0ne", "a/b", key);
        assert!(matches!(o.connect_fields(0), Err(Error::Dps(_))));
    }
}
