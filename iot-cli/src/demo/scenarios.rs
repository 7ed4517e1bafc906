//! The demo's scenarios over real sockets: devices are `iot-device` clients (MQTT over TLS or
//! WebSockets), the operator calls the HTTPS APIs, and every step compares the decision that
//! happened with the expected one (reference §7.5, §7.6, §8.3, §8.4).

use iot_device::{Credential, Error, Transport, provision};
use iot_server::engine::workflow::{ScenarioReport, StepReport};
use serde_json::json;

use super::Setup;
use super::steps::step;

/// One device of a scenario.
pub(crate) struct DemoDevice {
    pub(crate) id: String,
    pub(crate) credential: Credential,
    /// `enrollments` or `enrollmentGroups`, and the enrollment's ID.
    pub(crate) enrollment: (&'static str, String),
    /// DER of the leaf for X.509 devices (the hub must show its SHA-256 thumbprint).
    pub(crate) leaf: Option<Vec<u8>>,
}

fn report(name: &str, steps: Vec<StepReport>) -> ScenarioReport {
    ScenarioReport {
        name: name.into(),
        ok: steps.iter().all(|s| s.ok),
        steps,
    }
}

impl Setup {
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
