//! The `Store` trait is the whole persistence boundary: a server started on a store of the
//! test's own (plain vectors, no database) provisions a device through DPS, connects it and
//! stores its telemetry, and a second server on the same store's content sees all of it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "support/client.rs"]
mod support;

use std::sync::{Arc, Mutex};

use iot_dps_proto::{MqttConnect, operation_status_topic, register_topic};
use iot_sas::{ResourceUri, SharedAccessKey};
use iot_server::mqtt::ConnectReturnCode;
use iot_server::store::{
    Snapshot, Store, StoreError, StoredOperation, TelemetryFilter, TelemetryMessage, Write,
};
use iot_server::{Server, ServerConfig};
use serde_json::Value;
use support::fixtures::{Pki, write_imports};
use support::{Client, HUB, SCOPE, key, now, temp_dir};

/// Every committed write, in order; `load` replays them. Shared so a second server can reuse
/// what the first one committed.
#[derive(Clone, Default)]
struct VecStore {
    log: Arc<Mutex<Vec<Write>>>,
}

impl Store for VecStore {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let mut snap = Snapshot::default();
        for write in self.log.lock().unwrap().iter() {
            match write {
                Write::Hub(hub) => {
                    snap.hubs
                        .retain(|(h, _)| !h.host_name.eq_ignore_ascii_case(&hub.host_name));
                    snap.hubs.push((hub.clone(), Vec::new()));
                }
                Write::Identity { hub, identity } => {
                    let entry = snap
                        .hubs
                        .iter_mut()
                        .find(|(h, _)| h.host_name.eq_ignore_ascii_case(hub))
                        .unwrap();
                    entry.1.retain(|i| {
                        !(i.device_id == identity.device_id && i.module_id == identity.module_id)
                    });
                    entry.1.push(identity.clone());
                }
                Write::Twin(twin) => {
                    snap.twins.retain(|t| t.key != twin.key);
                    snap.twins.push(twin.clone());
                }
                Write::Dps(dps) => snap.dps = Some(dps.clone()),
                Write::Enrollment(e) => {
                    snap.enrollments
                        .retain(|x| x.registration_id != e.registration_id);
                    snap.enrollments.push(e.clone());
                }
                Write::EnrollmentGroup(g) => {
                    snap.groups
                        .retain(|x| x.enrollment_group_id != g.enrollment_group_id);
                    snap.groups.push(g.clone());
                }
                Write::Record(r) => {
                    snap.records
                        .retain(|x| x.registration_id != r.registration_id);
                    snap.records.push(r.clone());
                }
                Write::Operation {
                    operation_id,
                    registration_id,
                    status,
                    body,
                } => snap.operations.push(StoredOperation {
                    operation_id: operation_id.clone(),
                    registration_id: registration_id.clone(),
                    status: *status,
                    body: body.clone(),
                }),
                Write::Telemetry(_) => {}
                other => panic!("not used by this test: {other:?}"),
            }
        }
        Ok(snap)
    }

    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        self.log.lock().unwrap().extend_from_slice(writes);
        Ok(())
    }

    fn telemetry(
        &mut self,
        _filter: &TelemetryFilter,
    ) -> Result<Vec<(u64, TelemetryMessage)>, StoreError> {
        let log = self.log.lock().unwrap();
        Ok(log
            .iter()
            .filter_map(|w| match w {
                Write::Telemetry(m) => Some(m.clone()),
                _ => None,
            })
            .enumerate()
            .map(|(i, m)| (u64::try_from(i).unwrap() + 1, m))
            .collect())
    }
}

#[tokio::test]
async fn a_server_runs_on_any_store() {
    let dir = temp_dir("store-trait");
    let pki = Pki::new();
    let store = VecStore::default();
    let mut config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
    config.imports = write_imports(&dir, &pki);
    let server = Server::start_with_store(config, store.clone())
        .await
        .unwrap();
    let ca = std::fs::read_to_string(server.summary().ca_path.clone().unwrap()).unwrap();
    assert!(
        !dir.join("state/iot-server.sqlite3").exists(),
        "no SQLite database when the embedder brings a store"
    );

    let device_key = SharedAccessKey::from_base64(&key(10)).unwrap();
    let password = MqttConnect::new(SCOPE, "sym-01")
        .unwrap()
        .password(&device_key, now() + 3600)
        .unwrap();
    let mut c = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let user = format!("{SCOPE}/registrations/sym-01/api-version=2019-03-31");
    let ack = c.mqtt_connect("sym-01", &user, Some(&password)).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    c.subscribe("$dps/registrations/res/#").await;
    let (_, reply) = c
        .dps_request(
            &register_topic("1").unwrap(),
            br#"{"registrationId":"sym-01"}"#,
        )
        .await;
    let reply: Value = serde_json::from_str(&reply).unwrap();
    let (_, result) = c
        .dps_request(
            &operation_status_topic("2", reply["operationId"].as_str().unwrap()).unwrap(),
            b" ",
        )
        .await;
    let result: Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["status"], "assigned", "{result}");

    let resource = ResourceUri::Device {
        host: HUB,
        device_id: "sym-01",
    };
    let token = iot_sas::sign(&device_key, &resource, now() + 3600, None).unwrap();
    let mut d = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let hub_user = format!("{HUB}/sym-01/?api-version=2021-04-12");
    let ack = d.mqtt_connect("sym-01", &hub_user, Some(&token)).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    d.publish1_acked("devices/sym-01/messages/events/", b"via the trait")
        .await;
    server.shutdown().await;

    let stored = store
        .clone()
        .telemetry(&TelemetryFilter::default())
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.body, b"via the trait");

    // A second server on the same store content: the DPS-created identity is there.
    let config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
    let server = Server::start_with_store(config, store).await.unwrap();
    let mut d = Client::connect(server.mqtt_addr(), &ca, None)
        .await
        .unwrap();
    let ack = d.mqtt_connect("sym-01", &hub_user, Some(&token)).await;
    assert_eq!(ack.unwrap().code, ConnectReturnCode::Accepted);
    server.shutdown().await;
}
