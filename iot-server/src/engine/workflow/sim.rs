//! Simulated devices for the in-memory workflow: a device registers through the
//! `iot-dps-proto` state machine against [`DpsFrontEnd`] on a virtual clock, and connects to
//! [`Hubs`] with a SAS token or its client chain (reference
//! ../shared/reference/azure-iot-protocol.md §5.2, §5.5, §9).

use std::time::Duration;

use iot_dps_proto::{ClientConfig, Event, MqttConnect, ProvisioningClient, Request, Response};
use iot_dps_service::{DpsTransport, ProvisioningService, RegistrationOutcome};
use iot_hub_auth::{ConnectRequest, DenyReason, Transport};
use iot_sas::{ResourceUri, SharedAccessKey};
use iot_x509::CertificateDer;

use crate::engine::dps::{DpsFrontEnd, DpsPeer};
use crate::engine::hubs::Hubs;

/// How a simulated device authenticates (to DPS and to its hub).
#[derive(Clone, Debug)]
pub enum DeviceCredential {
    /// A symmetric key: the individual enrollment key, or the key derived from a group key.
    SymmetricKey(Box<SharedAccessKey>),
    /// A TLS client certificate chain, leaf first.
    X509(Vec<CertificateDer<'static>>),
}

impl DeviceCredential {
    fn chain(&self) -> &[CertificateDer<'static>] {
        match self {
            Self::X509(chain) => chain,
            Self::SymmetricKey(_) => &[],
        }
    }
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

/// Runs the device's registration (MQTT, `iot-dps-proto` state machine on a virtual clock
/// starting at `now` Unix seconds) through `front` and `service`, applying the decision's
/// record and hub changes.
pub fn provision(
    front: &mut DpsFrontEnd,
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
    let body = format!("{{\"registrationId\":\"{}\"}}", device.registration_id);
    let mut client = ProvisioningClient::new(ClientConfig::default());
    let mut clock = Duration::ZERO;
    let mut result = Provisioning {
        event: None,
        outcome: None,
        messages: 0,
    };
    let peer = DpsPeer {
        client_id: &device.registration_id,
        user_name: user_name.as_deref(),
        password: password.as_deref(),
        chain: device.credential.chain(),
        transport: device.dps_transport,
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
            let secs = now + clock.as_secs();
            let Some((reply_topic, reply, outcome)) =
                front.handle_request(service, hubs, &peer, &topic, payload, secs)
            else {
                return result;
            };
            if outcome.is_some() {
                result.outcome = outcome;
            }
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

/// A device connects to `host` over `transport` as `device_id` with its credential (a SAS
/// token signed with its key for the device resource, or its client chain).
///
/// # Errors
/// The hub's deny reason.
pub fn connect(
    hubs: &Hubs,
    host: &str,
    device_id: &str,
    credential: &DeviceCredential,
    transport: Transport,
    now: u64,
) -> Result<(), DenyReason> {
    let user_name = format!("{host}/{device_id}/?api-version=2021-04-12");
    let token = match credential {
        DeviceCredential::SymmetricKey(key) => {
            let resource = ResourceUri::Device { host, device_id };
            iot_sas::sign(&**key, &resource, now + 3600, None).ok()
        }
        DeviceCredential::X509(_) => None,
    };
    let mut req = ConnectRequest::new(transport);
    req.client_id = Some(device_id);
    req.username = Some(&user_name);
    req.password = token.as_deref();
    req.client_chain = credential.chain();
    hubs.authorize(host, &req, now).map(|_| ())
}
