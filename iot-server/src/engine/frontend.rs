//! An in-memory DPS MQTT front end and in-memory hubs, so a device driven by the
//! `iot-dps-proto` state machine can register through [`ProvisioningService`] and then
//! connect to `iot-hub-auth` hubs, with no I/O (reference
//! ../shared/reference/azure-iot-protocol.md §5.2, §5.5).

use std::collections::HashMap;
use std::time::Duration;

use iot_dps_proto::{
    ClientConfig, Event, MqttConnect, ProvisioningClient, Request, RequestTopic, Response,
    response_topic,
};
use iot_hub_auth::{
    ConnectRequest, Decision as HubDecision, DenyReason, HubSettings, IdentityStatus,
    InMemoryRegistry, Transport, authorize,
};
use iot_sas::{ResourceUri, SharedAccessKey};
use iot_x509::CertificateDer;

use iot_dps_service::{
    DpsTransport, HubChange, ProvisioningService, RegisterStep, RegistrationOutcome,
    RegistrationRecord, RegistrationRequest,
};

/// How a simulated device authenticates (to DPS and to its hub).
#[derive(Clone, Debug)]
pub enum DeviceCredential {
    /// A symmetric key: the individual enrollment key, or the key derived from a group key.
    SymmetricKey(Box<SharedAccessKey>),
    /// A TLS client certificate chain, leaf first.
    X509(Vec<CertificateDer<'static>>),
}

/// A simulated device.
#[derive(Clone, Debug)]
pub struct SimDevice {
    /// Registration ID (for X.509 the leaf CN).
    pub registration_id: String,
    /// Credential.
    pub credential: DeviceCredential,
    /// Transport used towards DPS.
    pub dps_transport: DpsTransport,
}

/// The result of one registration run.
#[derive(Clone, Debug)]
pub struct Provisioning {
    /// What the device's state machine concluded.
    pub event: Option<Event>,
    /// The service's decision for the last register request, if one was made.
    pub outcome: Option<RegistrationOutcome>,
    /// MQTT publishes exchanged (requests and responses).
    pub messages: u32,
}

/// An in-memory DPS MQTT endpoint: answers `iotdps-register` with 202 `assigning`, then the
/// operation-status poll with the decision, keeps one registration record per registration
/// ID, and hands the hub changes to [`Hubs`].
#[derive(Debug, Default)]
pub struct DpsFrontEnd {
    records: HashMap<String, RegistrationRecord>,
    operations: HashMap<String, RegistrationOutcome>,
    next_operation: u64,
}

impl DpsFrontEnd {
    /// An endpoint with no records.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored records (the caller's persistence).
    pub fn records(&self) -> Vec<RegistrationRecord> {
        let mut all: Vec<RegistrationRecord> = self.records.values().cloned().collect();
        all.sort_by(|a, b| a.registration_id.cmp(&b.registration_id));
        all
    }

    /// The record of a registration ID.
    pub fn record(&self, registration_id: &str) -> Option<&RegistrationRecord> {
        self.records.get(&registration_id.to_ascii_lowercase())
    }

    /// Runs the device's registration (MQTT, `iot-dps-proto` state machine on a virtual
    /// clock starting at `now` Unix seconds) through `service`, applying the decision's
    /// record and hub changes.
    pub fn provision(
        &mut self,
        service: &ProvisioningService,
        hubs: &mut Hubs,
        device: &SimDevice,
        now: u64,
    ) -> Provisioning {
        let connect = MqttConnect::new(&service.instance().id_scope, &device.registration_id);
        let user_name = connect.as_ref().map(MqttConnect::user_name).ok();
        let password = match (&device.credential, &connect) {
            (DeviceCredential::SymmetricKey(key), Ok(c)) => c.password(&**key, now + 3600).ok(),
            _ => None,
        };
        let chain: &[CertificateDer<'static>] = match &device.credential {
            DeviceCredential::X509(chain) => chain,
            DeviceCredential::SymmetricKey(_) => &[],
        };
        let body = format!("{{\"registrationId\":\"{}\"}}", device.registration_id);
        let mut client = ProvisioningClient::new(ClientConfig::default());
        let mut clock = Duration::ZERO;
        let mut result = Provisioning {
            event: None,
            outcome: None,
            messages: 0,
        };
        let mut pending = client.start(clock);
        for _ in 0..64 {
            while let Some(request) = pending.take().or_else(|| client.poll_transmit(clock)) {
                result.messages += 2;
                let Ok(topic) = request.mqtt_topic() else {
                    return result;
                };
                let payload: &[u8] = match request {
                    Request::Register { .. } => body.as_bytes(),
                    Request::PollStatus { .. } => b"",
                };
                let conn = Connection {
                    client_id: &device.registration_id,
                    user_name: user_name.as_deref(),
                    password: password.as_deref(),
                    chain,
                    transport: device.dps_transport,
                };
                let secs = now + clock.as_secs();
                let (reply_topic, reply) =
                    self.handle_publish(service, hubs, &conn, &topic, payload, secs, &mut result);
                if let Ok(response) = Response::from_mqtt(&reply_topic, &reply) {
                    let _ = client.handle_response(clock, &response);
                }
            }
            if let Some(event) = client.poll_event() {
                result.event = Some(event);
                return result;
            }
            match client.poll_timeout() {
                Some(at) => {
                    clock = clock.max(at);
                    client.handle_timeout(clock);
                }
                None => return result,
            }
        }
        result
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "private plumbing of one MQTT publish"
    )]
    fn handle_publish(
        &mut self,
        service: &ProvisioningService,
        hubs: &mut Hubs,
        conn: &Connection<'_>,
        topic: &str,
        payload: &[u8],
        now: u64,
        result: &mut Provisioning,
    ) -> (String, Vec<u8>) {
        let reply = |status: u16, rid: &str, retry: Option<u32>, body: Vec<u8>| {
            (response_topic(status, rid, retry).unwrap_or_default(), body)
        };
        match RequestTopic::parse(topic) {
            Ok(RequestTopic::Register { rid }) => {
                self.next_operation += 1;
                let operation_id = format!("4.{:016x}.{:08}", now, self.next_operation);
                let req = RegistrationRequest {
                    registration_id: conn.client_id,
                    transport: conn.transport,
                    mqtt_user_name: conn.user_name,
                    sas_token: conn.password,
                    client_chain: conn.chain,
                    body: payload,
                    operation_id: &operation_id,
                    latencies: &[],
                    now,
                };
                let key = conn.client_id.to_ascii_lowercase();
                let outcome = match service.register(&req, self.records.get(&key)) {
                    RegisterStep::Done(outcome) => *outcome,
                    // The scenarios use no custom allocation; a webhook would be called here.
                    RegisterStep::NeedsCustomAllocation(pending) => {
                        service.complete_custom_allocation(*pending, Err(503))
                    }
                };
                if let Some(record) = &outcome.record {
                    self.records.insert(key, record.clone());
                }
                for change in &outcome.hub_changes {
                    hubs.apply(change);
                }
                result.outcome = Some(outcome.clone());
                if outcome.status_code != 200 {
                    return reply(outcome.status_code, rid, None, outcome.response.to_json());
                }
                let body =
                    format!("{{\"operationId\":\"{operation_id}\",\"status\":\"assigning\"}}");
                self.operations.insert(operation_id, outcome);
                reply(202, rid, Some(1), body.into_bytes())
            }
            Ok(RequestTopic::OperationStatus { rid, operation_id }) => {
                match self.operations.remove(operation_id) {
                    Some(outcome) => reply(200, rid, None, outcome.response.to_json()),
                    None => reply(
                        404,
                        rid,
                        None,
                        b"{\"errorCode\":404000,\"message\":\"operation not found\"}".to_vec(),
                    ),
                }
            }
            Err(_) => (String::new(), Vec::new()),
        }
    }
}

struct Connection<'a> {
    client_id: &'a str,
    user_name: Option<&'a str>,
    password: Option<&'a str>,
    chain: &'a [CertificateDer<'a>],
    transport: DpsTransport,
}

/// In-memory IoT hubs: settings plus registry per host name.
#[derive(Debug, Default)]
pub struct Hubs {
    hubs: Vec<(HubSettings, InMemoryRegistry)>,
}

impl Hubs {
    /// No hubs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hub.
    pub fn add(&mut self, settings: HubSettings) {
        self.hubs.push((settings, InMemoryRegistry::new()));
    }

    /// The registry of a hub.
    pub fn registry(&self, host: &str) -> Option<&InMemoryRegistry> {
        self.hubs
            .iter()
            .find(|(s, _)| s.host_name().eq_ignore_ascii_case(host))
            .map(|(_, r)| r)
    }

    fn registry_mut(&mut self, host: &str) -> Option<&mut InMemoryRegistry> {
        self.hubs
            .iter_mut()
            .find(|(s, _)| s.host_name().eq_ignore_ascii_case(host))
            .map(|(_, r)| r)
    }

    /// Applies one change; returns a one-line description of what happened.
    pub fn apply(&mut self, change: &HubChange) -> String {
        let hub = change.hub().to_owned();
        let Some(registry) = self.registry_mut(&hub) else {
            return format!("{hub}: no such hub, change ignored");
        };
        match change {
            HubChange::Upsert { identity, .. } => match registry.upsert(identity.clone()) {
                Ok(()) => format!(
                    "{hub}: created/updated device '{}' ({})",
                    identity.device_id,
                    identity.authentication.r#type.as_str()
                ),
                Err(e) => format!("{hub}: upsert of '{}' refused: {e}", identity.device_id),
            },
            HubChange::Remove { device_id, .. } => match registry.remove(device_id, None) {
                Some(_) => format!("{hub}: deleted device '{device_id}'"),
                None => format!("{hub}: device '{device_id}' was already gone"),
            },
            HubChange::Disable { device_id, .. } => {
                if registry.set_status(
                    device_id,
                    None,
                    IdentityStatus::Disabled,
                    Some("enrollment revoked"),
                ) {
                    format!("{hub}: disabled device '{device_id}'")
                } else {
                    format!("{hub}: device '{device_id}' not found")
                }
            }
            _ => format!("{hub}: change of an unknown kind ignored"),
        }
    }

    /// Removes a device from a hub (an operator action).
    pub fn remove_device(&mut self, host: &str, device_id: &str) -> bool {
        self.registry_mut(host)
            .and_then(|r| r.remove(device_id, None))
            .is_some()
    }

    /// A device connects to `host` over MQTT as `device_id` with its credential (a SAS token
    /// signed with its key for the device resource, or its client chain).
    ///
    /// # Errors
    /// The hub's deny reason.
    pub fn connect(
        &self,
        host: &str,
        device_id: &str,
        credential: &DeviceCredential,
        transport: Transport,
        now: u64,
    ) -> Result<(), DenyReason> {
        let Some((settings, registry)) = self
            .hubs
            .iter()
            .find(|(s, _)| s.host_name().eq_ignore_ascii_case(host))
        else {
            return Err(DenyReason::UnknownIdentity {
                identity: format!("{device_id} (no hub {host})"),
            });
        };
        let user_name = format!(
            "{}/{device_id}/?api-version=2021-04-12",
            settings.host_name()
        );
        let token = match credential {
            DeviceCredential::SymmetricKey(key) => {
                let resource = ResourceUri::Device {
                    host: settings.host_name(),
                    device_id,
                };
                iot_sas::sign(&**key, &resource, now + 3600, None).ok()
            }
            DeviceCredential::X509(_) => None,
        };
        let chain: &[CertificateDer<'static>] = match credential {
            DeviceCredential::X509(chain) => chain,
            DeviceCredential::SymmetricKey(_) => &[],
        };
        let mut req = ConnectRequest::new(transport);
        req.client_id = Some(device_id);
        req.username = Some(&user_name);
        req.password = token.as_deref();
        req.client_chain = chain;
        match authorize(settings, registry, &req, now) {
            HubDecision::Allow(_) => Ok(()),
            HubDecision::Deny(reason) => Err(reason),
        }
    }
}
