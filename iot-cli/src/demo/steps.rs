//! The steps the demo's scenarios are made of, over real sockets: provisioning and hub options
//! for a device, register, connect, the hub's thumbprint note, an operator's enrollment edit,
//! and waiting for a server event (reference §7.5, §8.3).

use std::time::Duration;

use iot_device::{Error, HubClient, HubOptions, Message, ProvisioningOptions, Transport};
use iot_server::ServerEvent;
use iot_server::engine::workflow::{StepReport, identity_of_leaf};
use serde_json::Value;
use tokio::sync::broadcast;

use super::Setup;
use super::scenarios::DemoDevice;

impl Setup {
    pub(super) fn dps_options(
        &self,
        device: &DemoDevice,
        transport: Transport,
    ) -> ProvisioningOptions {
        let mut o = ProvisioningOptions::new(&self.id_scope, &device.id, device.credential.clone());
        o.endpoint = self.endpoint(transport);
        o.max_jitter = Duration::ZERO;
        o.timing = o.timing.with_deadline(Duration::from_secs(20));
        o
    }

    pub(super) fn hub_options(&self, hub: &str, device: &DemoDevice) -> HubOptions {
        let mut o = HubOptions::new(hub, &device.id, device.credential.clone());
        o.endpoint = self.endpoint(Transport::Mqtt);
        o.connect_timeout = Duration::from_secs(5);
        o.operation_timeout = Duration::from_secs(5);
        o
    }

    /// Registers; passes when DPS assigns `hub` with `substatus` (and, for X.509, the hub shows
    /// a selfSigned identity with the leaf's SHA-256 thumbprint, pitfall §11.10).
    pub(super) async fn register(
        &self,
        title: &str,
        device: &DemoDevice,
        hub: &str,
        substatus: &str,
    ) -> StepReport {
        let expected = format!("assigned to {hub}, substatus {substatus}");
        let mut events = self.server.events();
        let mut messages = 0u32;
        let outcome = iot_device::provision_with(&self.dps_options(device, Transport::Mqtt), |s| {
            if matches!(
                s,
                iot_device::ProvisioningStep::Sent { .. }
                    | iot_device::ProvisioningStep::Answered { .. }
            ) {
                messages += 1;
            }
        })
        .await;
        let mut notes = Vec::new();
        if let Some(ServerEvent::Registration { reason, .. }) =
            find(&mut events, |e| matches!(e, ServerEvent::Registration { registration_id, .. } if *registration_id == device.id)).await
        {
            notes.push(format!("dps decision: {reason}"));
        }
        notes.push(format!(
            "{messages} MQTT messages over TLS through the iot-dps-proto state machine"
        ));
        let (actual, mut ok) = match &outcome {
            Ok(a) => {
                let s = a.substatus.as_deref().unwrap_or("none");
                (
                    format!(
                        "assigned to {} as '{}', substatus {s}",
                        a.assigned_hub, a.device_id
                    ),
                    a.assigned_hub == hub && s == substatus,
                )
            }
            Err(e) => (format!("{e}"), false),
        };
        if let Some(leaf) = &device.leaf {
            let (line, good) = self.thumbprint_note(hub, &device.id, leaf).await;
            notes.push(line);
            ok &= good;
        }
        step(title, expected, actual, ok, notes)
    }

    pub(super) async fn thumbprint_note(
        &self,
        hub: &str,
        device_id: &str,
        leaf: &[u8],
    ) -> (String, bool) {
        let what = format!("registry manager GET {hub}/devices/{device_id}");
        match self.operator.device(hub, "GET", device_id, None).await {
            Ok((200, body)) => match serde_json::from_value(body) {
                Ok(identity) => {
                    let (line, good) = identity_of_leaf(&identity, leaf);
                    (format!("{what}: {line}"), good)
                }
                Err(e) => (format!("{what}: unreadable identity: {e}"), false),
            },
            Ok((status, _)) => (format!("{what}: status {status}"), false),
            Err(e) => (format!("registry manager: {e}"), false),
        }
    }

    /// Connects to `hub`; when allowed, sends a message and finds it in the server's log.
    /// `deny` is the expected refusal: the hub's reason code and its meaning.
    pub(super) async fn connect(
        &self,
        title: &str,
        hub: &str,
        device: &DemoDevice,
        deny: Option<(&str, &str)>,
    ) -> StepReport {
        let expect_allowed = deny.is_none();
        let expected = match deny {
            None => format!("{hub} allows the connection; telemetry is stored"),
            Some((_, label)) => format!("{hub} refuses: {label}"),
        };
        let mut events = self.server.events();
        let result = HubClient::connect(self.hub_options(hub, device)).await;
        let decision = find(&mut events, |e| matches!(e, ServerEvent::Connect { identity, target, .. } if *identity == device.id && target == hub)).await;
        let mut notes = Vec::new();
        if let Some(ServerEvent::Connect {
            code,
            reason,
            allowed: true,
            ..
        }) = &decision
        {
            notes.push(format!("hub decision: {code}: {reason}"));
        }
        let (actual, ok) = match result {
            Ok(mut client) => {
                let body = format!("{{\"device\":\"{}\",\"step\":\"{title}\"}}", device.id);
                let sent = client
                    .send(&Message::new(body).with_property("demo", "true"))
                    .await;
                let found = find(&mut events, |e| matches!(e, ServerEvent::Telemetry { device_id, hub: h, .. } if *device_id == device.id && h == hub)).await;
                client.close().await;
                match (sent, found) {
                    (Ok(()), Some(_)) => {
                        notes.push(
                            "telemetry acknowledged (PUBACK) and found in the server's store"
                                .into(),
                        );
                        (format!("{hub} allowed the connection"), expect_allowed)
                    }
                    (Ok(()), None) => (
                        format!("{hub} allowed the connection, but the message was not found"),
                        false,
                    ),
                    (Err(e), _) => (
                        format!("{hub} allowed the connection, telemetry failed: {e}"),
                        false,
                    ),
                }
            }
            Err(Error::Refused { code }) => {
                let (deny_code, reason) = match &decision {
                    Some(ServerEvent::Connect { code, reason, .. }) => {
                        (code.clone(), reason.clone())
                    }
                    _ => (String::new(), String::new()),
                };
                let fits = deny.is_some_and(|(want, _)| want == deny_code);
                (
                    format!("{hub} refused: CONNACK {code} ({deny_code}: {reason})"),
                    fits,
                )
            }
            Err(e) => (format!("connection failed: {e}"), false),
        };
        step(title, expected, actual, ok, notes)
    }

    /// Changes an enrollment through the DPS service API (GET, edit, PUT).
    pub(super) async fn edit_enrollment(
        &self,
        device: &DemoDevice,
        edit: impl FnOnce(&mut Value),
    ) -> Result<(), String> {
        let (collection, id) = (&device.enrollment.0, &device.enrollment.1);
        let (status, mut body) = self
            .operator
            .enrollment(collection, "GET", id, None)
            .await?;
        if status != 200 {
            return Err(format!("GET {collection}/{id}: status {status}"));
        }
        edit(&mut body);
        let (status, _) = self
            .operator
            .enrollment(collection, "PUT", id, Some(&body))
            .await?;
        if status == 200 || status == 201 {
            Ok(())
        } else {
            Err(format!("PUT {collection}/{id}: status {status}"))
        }
    }
}

pub(super) fn step(
    title: &str,
    expected: String,
    actual: String,
    ok: bool,
    notes: Vec<String>,
) -> StepReport {
    StepReport {
        step: title.into(),
        expected,
        actual,
        ok,
        notes,
    }
}

/// The first event matching `pred` within a second (decisions are emitted as they happen).
async fn find(
    events: &mut broadcast::Receiver<ServerEvent>,
    pred: impl Fn(&ServerEvent) -> bool,
) -> Option<ServerEvent> {
    tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match events.recv().await {
                Ok(event) if pred(&event) => return Some(event),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}
