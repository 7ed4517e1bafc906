//! A hub session's publishes: telemetry acknowledged after the commit, twin GET and reported
//! PATCH, method responses (engine::hub_topics decides what is allowed).

use super::{Close, Pending, Session, unix_now};
use crate::ServerEvent;
use crate::engine::hub_topics::{HubRequest, classify};
use crate::engine::hubs::twin_key;
use crate::mqtt::Publish;
use crate::store::{TelemetryMessage, Write};

impl Session {
    pub(super) async fn hub_publish(
        &mut self,
        host: &str,
        device_id: &str,
        module_id: Option<&str>,
        publish: Publish,
    ) -> Result<(), Close> {
        let request = match classify(&publish.topic, device_id, module_id) {
            Ok(request) => request,
            Err(reason) => return Err(self.conn.close(Close::Policy(reason))),
        };
        match request {
            HubRequest::Telemetry { properties } => {
                let max = self.shared.config.limits.max_message_size;
                if publish.payload.len() > max {
                    return Err(self.conn.close(Close::Policy(format!(
                        "message of {} bytes exceeds IoT Hub's {max}",
                        publish.payload.len()
                    ))));
                }
                let size = publish.payload.len();
                let message = TelemetryMessage {
                    hub: host.to_ascii_lowercase(),
                    device_id: device_id.to_owned(),
                    module_id: module_id.map(str::to_owned),
                    properties: properties.to_owned(),
                    body: publish.payload,
                    received_ms: u64::try_from(unix_now().as_millis()).unwrap_or(u64::MAX),
                };
                let wait = self.shared.store.submit(vec![Write::Telemetry(message)]);
                self.pending.push_back(Pending {
                    packet_id: publish.packet_id,
                    wait: Some(wait),
                    event: Some(ServerEvent::Telemetry {
                        hub: host.to_owned(),
                        device_id: device_id.to_owned(),
                        module_id: module_id.map(str::to_owned),
                        size,
                    }),
                });
                Ok(())
            }
            HubRequest::TwinGet { rid } => {
                let key = twin_key(host, device_id, module_id);
                let body = self.shared.realm.read().ok().map(|realm| {
                    let twin = realm
                        .hubs
                        .twin(&key)
                        .cloned()
                        .unwrap_or_else(|| crate::engine::hubs::empty_twin(key.clone()));
                    serde_json::json!({"desired": twin.desired, "reported": twin.reported})
                });
                let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
                self.conn
                    .publish(format!("$iothub/twin/res/200/?$rid={rid}"), body);
                self.ack_now(&publish);
                Ok(())
            }
            HubRequest::TwinPatchReported { rid } => {
                let rid = rid.to_owned();
                let patch: Option<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_slice(&publish.payload).ok();
                let Some(patch) = patch else {
                    self.conn
                        .publish(format!("$iothub/twin/res/400/?$rid={rid}"), Vec::new());
                    self.ack_now(&publish);
                    return Ok(());
                };
                let key = twin_key(host, device_id, module_id);
                let planned = self
                    .shared
                    .realm
                    .read()
                    .ok()
                    .map(|realm| realm.hubs.patched_reported(&key, &patch));
                let Some((twin, version)) = planned else {
                    return Err(self.conn.close(Close::Policy("state unavailable".into())));
                };
                if let Err(e) = self
                    .shared
                    .store
                    .commit(vec![Write::Twin(twin.clone())])
                    .await
                {
                    return Err(self.conn.close(Close::Policy(format!("store: {e}"))));
                }
                if let Ok(mut realm) = self.shared.realm.write() {
                    realm.hubs.set_twin(twin);
                }
                self.conn.publish(
                    format!("$iothub/twin/res/204/?$rid={rid}&$version={version}"),
                    Vec::new(),
                );
                self.ack_now(&publish);
                Ok(())
            }
            HubRequest::MethodResponse => {
                self.ack_now(&publish);
                Ok(())
            }
        }
    }
}
