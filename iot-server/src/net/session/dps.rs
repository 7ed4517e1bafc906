//! A DPS session's publishes: register (decide, commit record + hub changes + operation in
//! one transaction, apply, answer) and the operation-status poll.

use std::sync::Arc;

use iot_dps_proto::{RequestTopic, response_topic};

use super::{Close, Session, unix_now};
use crate::ServerEvent;
use crate::engine::dps::DpsPeer;
use crate::mqtt::Publish;

impl Session {
    pub(super) async fn dps_publish(
        &mut self,
        peer: DpsPeer<'_>,
        publish: Publish,
    ) -> Result<(), Close> {
        let chain = self.chain.clone();
        let peer = DpsPeer {
            chain: &chain,
            ..peer
        };
        let topic = publish.topic.clone();
        let (reply_topic, body) = match RequestTopic::parse(&topic) {
            Ok(RequestTopic::Register { rid }) => {
                if publish.payload.len() > iot_dps_proto::MAX_PAYLOAD_LEN {
                    return Err(self
                        .conn
                        .close(Close::Policy("register body too large".into())));
                }
                match self.register(&peer, rid, &publish.payload).await {
                    Ok(reply) => reply,
                    Err(e) => return Err(self.conn.close(Close::Policy(e))),
                }
            }
            Ok(RequestTopic::OperationStatus { rid, operation_id }) => {
                let now = unix_now().as_secs();
                let answer = self.shared.realm.read().ok().and_then(|realm| {
                    realm.dps.as_ref().map(|dps| {
                        dps.front
                            .poll_attested(&dps.service, &peer, operation_id, now)
                            .unwrap_or_else(|refused| (refused.status, refused.body))
                    })
                });
                let (status, body) = answer.unwrap_or((404, Vec::new()));
                (response_topic(status, rid, None).unwrap_or_default(), body)
            }
            _ => {
                return Err(self
                    .conn
                    .close(Close::Policy("unsupported DPS topic".into())));
            }
        };
        self.conn.publish(reply_topic, body);
        self.ack_now(&publish);
        Ok(())
    }

    /// Decide, commit (record, hub changes, operation in one transaction), apply, answer.
    async fn register(
        &mut self,
        peer: &DpsPeer<'_>,
        rid: &str,
        payload: &[u8],
    ) -> Result<(String, Vec<u8>), String> {
        let shared = Arc::clone(&self.shared);
        let _one_at_a_time = shared.registrations.lock().await;
        let now = unix_now().as_secs();
        let operation_id = operation_id(now);
        let planned = shared.realm.read().ok().and_then(|realm| {
            let dps = realm.dps.as_ref()?;
            let plan = dps
                .front
                .decide_register(&dps.service, peer, payload, now, &operation_id);
            let writes = dps.front.writes_for(&plan, &realm.hubs);
            Some((plan, writes))
        });
        let Some((plan, writes)) = planned else {
            return Err("no DPS instance".into());
        };
        shared
            .store
            .commit(writes)
            .await
            .map_err(|e| format!("store: {e}"))?;
        if let Ok(mut realm) = shared.realm.write() {
            let realm = &mut *realm;
            if let Some(dps) = realm.dps.as_mut() {
                dps.front.commit(&plan, &mut realm.hubs);
            }
        }
        shared.emit(registration_event(peer.client_id, &plan.outcome));
        Ok((plan.topic(rid), plan.body))
    }
}

fn registration_event(
    registration_id: &str,
    outcome: &iot_dps_service::RegistrationOutcome,
) -> ServerEvent {
    use iot_dps_service::RegistrationDecision;
    let (status, hub, device) = match &outcome.decision {
        RegistrationDecision::Assigned { hub, device_id, .. } => {
            ("assigned", Some(hub.clone()), Some(device_id.clone()))
        }
        RegistrationDecision::Disabled { .. } => ("disabled", None, None),
        RegistrationDecision::Failed(_) => ("failed", None, None),
    };
    ServerEvent::Registration {
        registration_id: registration_id.to_owned(),
        status: status.into(),
        assigned_hub: hub,
        device_id: device,
        reason: outcome.decision.to_string(),
    }
}

/// An operation ID in the service's shape (`4.{16 hex}.{uuid}`, reference §5.4) from the OS
/// random generator.
fn operation_id(now: u64) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "4.{now:016x}.{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
