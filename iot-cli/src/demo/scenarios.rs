//! The demo's scenarios over real sockets: devices are `iot-device` clients (MQTT over TLS or
//! WebSockets), the operator calls the HTTPS APIs, and every step compares the decision that
//! happened with the expected one (reference §7.5, §7.6, §8.3, §8.4).

use std::time::Duration;

use iot_device::{
    Credential, Error, HubClient, HubOptions, Message, ProvisioningOptions, Transport, provision,
};
use iot_server::ServerEvent;
use iot_server::engine::workflow::{ScenarioReport, StepReport};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::Setup;

/// One device of a scenario.
pub(crate) struct DemoDevice {
    pub(crate) id: String,
    pub(crate) credential: Credential,
    /// `enrollments` or `enrollmentGroups`, and the enrollment's ID.
    pub(crate) enrollment: (&'static str, String),
    /// DER of the leaf for X.509 devices (the hub must show its SHA-256 thumbprint).
    pub(crate) leaf: Option<Vec<u8>>,
}

fn step(title: &str, expected: String, actual: String, ok: bool, notes: Vec<String>) -> StepReport {
    StepReport {
        step: title.into(),
        expected,
        actual,
        ok,
        notes,
    }
}

fn report(name: &str, steps: Vec<StepReport>) -> ScenarioReport {
    ScenarioReport {
        name: name.into(),
        ok: steps.iter().all(|s| s.ok),
        steps,
    }
}

impl Setup {
    fn dps_options(&self, device: &DemoDevice, transport: Transport) -> ProvisioningOptions {
        let mut o = ProvisioningOptions::new(&self.id_scope, &device.id, device.credential.clone());
        o.endpoint = self.endpoint(transport);
        o.max_jitter = Duration::ZERO;
        o.timing = o.timing.with_deadline(Duration::from_secs(20));
        o
    }

    fn hub_options(&self, hub: &str, device: &DemoDevice) -> HubOptions {
        let mut o = HubOptions::new(hub, &device.id, device.credential.clone());
        o.endpoint = self.endpoint(Transport::Mqtt);
        o.connect_timeout = Duration::from_secs(5);
        o.operation_timeout = Duration::from_secs(5);
        o
    }

    /// Registers; passes when DPS assigns `hub` with `substatus` (and, for X.509, the hub shows
    /// a selfSigned identity with the leaf's SHA-256 thumbprint, pitfall §11.10).
    async fn register(
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

    async fn thumbprint_note(&self, hub: &str, device_id: &str, leaf: &[u8]) -> (String, bool) {
        let want = iot_x509::Thumbprint::sha256_of(leaf).to_string();
        match self.operator.device(hub, "GET", device_id, None).await {
            Ok((200, identity)) => {
                let kind = identity["authentication"]["type"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                let tp = identity["authentication"]["x509Thumbprint"]["primaryThumbprint"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                (
                    format!(
                        "registry manager GET {hub}/devices/{device_id}: type {kind}, primary thumbprint {tp} (leaf SHA-256 {want})"
                    ),
                    kind == "selfSigned" && tp.eq_ignore_ascii_case(&want),
                )
            }
            Ok((status, _)) => (
                format!("registry manager GET {hub}/devices/{device_id}: status {status}"),
                false,
            ),
            Err(e) => (format!("registry manager: {e}"), false),
        }
    }

    /// Connects to `hub`; when allowed, sends a message and finds it in the server's log.
    /// `deny` is the expected refusal: the hub's reason code and its meaning.
    async fn connect(
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
    async fn edit_enrollment(
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

    pub(crate) async fn move_to_production(
        &self,
        name: &str,
        device: &DemoDevice,
    ) -> ScenarioReport {
        let (test, prod) = (self.test_hub.clone(), self.production_hub.clone());
        let mut steps = vec![
            self.register(
                "1. device registers with DPS",
                device,
                &test,
                "initialAssignment",
            )
            .await,
        ];
        steps.push(
            self.connect("2. device connects to the Test hub", &test, device, None)
                .await,
        );
        let prod_for_edit = prod.clone();
        let moved = self
            .edit_enrollment(device, |e| {
                e["allocationPolicy"] = json!("static");
                e["iotHubs"] = json!([prod_for_edit]);
                e["reprovisionPolicy"] =
                    json!({"updateHubAssignment": true, "migrateDeviceData": false});
            })
            .await;
        let removed = self
            .operator
            .device(&test, "DELETE", &device.id, None)
            .await;
        let removed_ok = matches!(removed, Ok((200 | 204, _)));
        let (collection, id) = (&device.enrollment.0, &device.enrollment.1);
        let notes = vec![
            match &moved {
                Ok(()) => format!(
                    "DPS service API PUT {collection}/{id}: static allocation now names only {prod}; reprovision policy: reset to initial config"
                ),
                Err(e) => format!("DPS service API: {e}"),
            },
            match &removed {
                Ok((status, _)) => format!(
                    "registry manager DELETE {test}/devices/{}: status {status}",
                    device.id
                ),
                Err(e) => format!("registry manager: {e}"),
            },
        ];
        let ok = moved.is_ok() && removed_ok;
        steps.push(step(
            "3. operator moves the enrollment to Production and deletes the device from Test",
            "enrollment updated, device deleted from Test".into(),
            if ok {
                "enrollment updated, device deleted from Test".into()
            } else {
                "operator step failed".into()
            },
            ok,
            notes,
        ));
        steps.push(
            self.connect(
                "4. device connects to the Test hub again",
                &test,
                device,
                Some((
                    "unknown_identity",
                    "the device is not registered in the hub",
                )),
            )
            .await,
        );
        steps.push(
            self.register(
                "5. device registers again",
                device,
                &prod,
                "deviceDataReset",
            )
            .await,
        );
        steps.push(
            self.connect(
                "5b. device connects to the Production hub",
                &prod,
                device,
                None,
            )
            .await,
        );
        report(name, steps)
    }

    pub(crate) async fn websocket_refused(&self, device: &DemoDevice) -> ScenarioReport {
        let expected =
            "dps refuses: X.509 CA attestation over WebSockets is disabled (401002)".to_owned();
        let outcome = provision(&self.dps_options(device, Transport::WebSockets)).await;
        let (actual, ok) = match &outcome {
            Err(e @ Error::Registration { status, error }) => (
                e.to_string(),
                *status == Some(401) && error.error_code() == Some(401_002),
            ),
            Err(e) => (format!("{e}"), false),
            Ok(a) => (format!("assigned to {}", a.assigned_hub), false),
        };
        let notes = vec![
            "the device dialled wss://127.0.0.1/$iothub/websocket (subprotocol mqtt) with its client certificate".into(),
            "the instance keeps the historical restriction (x509CaOverWebSockets = false, reference §6.4); the same device registers over plain MQTT".into(),
        ];
        report(
            "X.509 CA device over MQTT-over-WebSockets",
            vec![step(
                "device registers over MQTT/WebSockets",
                expected,
                actual,
                ok,
                notes,
            )],
        )
    }

    pub(crate) async fn revocation(&self, device: &DemoDevice) -> ScenarioReport {
        let test = self.test_hub.clone();
        let mut steps = vec![
            self.register(
                "1. device registers with DPS",
                device,
                &test,
                "initialAssignment",
            )
            .await,
        ];
        steps.push(
            self.connect("2. device connects to the Test hub", &test, device, None)
                .await,
        );
        let disabled = self
            .edit_enrollment(device, |e| e["provisioningStatus"] = json!("disabled"))
            .await;
        steps.push(step(
            "3. operator disables the enrollment in DPS",
            "enrollment disabled (DPS enrollments do not revoke hub access by themselves)".into(),
            match &disabled {
                Ok(()) => "enrollment disabled through the DPS service API".into(),
                Err(e) => format!("disable failed: {e}"),
            },
            disabled.is_ok(),
            vec!["disabling or deleting a DPS enrollment does not revoke hub access: the hub identity keeps working until it is disabled or deleted in the hub (reference §7.6, pitfall §11.9)".into()],
        ));
        steps.push(
            self.connect(
                "4. device connects to the Test hub (hub identity untouched)",
                &test,
                device,
                None,
            )
            .await,
        );
        let again = provision(&self.dps_options(device, Transport::Mqtt)).await;
        steps.push(step(
            "5. device registers again",
            "dps answers status disabled".into(),
            match &again {
                Err(Error::Disabled) => "registration disabled".into(),
                Err(e) => format!("{e}"),
                Ok(a) => format!("assigned to {}", a.assigned_hub),
            },
            matches!(again, Err(Error::Disabled)),
            Vec::new(),
        ));
        let mut note = Vec::new();
        let applied = match self.operator.device(&test, "GET", &device.id, None).await {
            Ok((200, mut identity)) => {
                identity["status"] = json!("disabled");
                let put = self
                    .operator
                    .device(&test, "PUT", &device.id, Some(&identity))
                    .await;
                note.push(format!(
                    "registry manager PUT {test}/devices/{} status disabled: {}",
                    device.id,
                    put.as_ref()
                        .map_or_else(Clone::clone, |(s, _)| format!("status {s}"))
                ));
                matches!(put, Ok((200, _)))
            }
            other => {
                note.push(format!("registry manager GET: {other:?}"));
                false
            }
        };
        let mut last = self
            .connect(
                "6. operator disables the device in the hub; it connects to Test",
                &test,
                device,
                Some(("disabled", "the device is disabled")),
            )
            .await;
        last.ok &= applied;
        last.notes.splice(0..0, note);
        steps.push(last);
        report(
            "revoked enrollment: the device keeps hub access until the operator disables it in the hub",
            steps,
        )
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
