//! The DPS device endpoint over MQTT, in memory (reference
//! ../shared/reference/azure-iot-protocol.md §5.2-§5.5): `iotdps-register` is decided by
//! [`ProvisioningService::register`] and answered 202 `assigning` with an operation ID and
//! `retry-after`; the operation-status poll answers the decision. One registration record is
//! kept per registration ID. The server and the in-memory demo share this type: the server
//! commits [`DpsFrontEnd::writes_for`] (record, hub changes, operation) in one transaction
//! before it calls [`DpsFrontEnd::commit`] and answers the device.

use std::collections::HashMap;

use iot_dps_proto::{RequestTopic, response_topic};
use iot_dps_service::{
    DpsTransport, ProvisioningService, RegisterStep, RegistrationOutcome, RegistrationRecord,
    RegistrationRequest,
};
use iot_x509::CertificateDer;

use crate::engine::hubs::Hubs;
use crate::store::{StoredOperation, Write};

/// Seconds the device is told to wait before its first poll (`retry-after`, §5.2).
pub const RETRY_AFTER_SECS: u32 = 1;

/// The connection a DPS request came in on.
#[derive(Clone, Copy, Debug)]
pub struct DpsPeer<'a> {
    /// MQTT client ID: the registration ID.
    pub client_id: &'a str,
    /// MQTT user name.
    pub user_name: Option<&'a str>,
    /// MQTT password: the SAS token.
    pub password: Option<&'a str>,
    /// TLS client chain, leaf first.
    pub chain: &'a [CertificateDer<'a>],
    /// Transport.
    pub transport: DpsTransport,
}

impl<'a> DpsPeer<'a> {
    /// The service's view of a request on this connection.
    fn request(&self, body: &'a [u8], operation_id: &'a str, now: u64) -> RegistrationRequest<'a> {
        RegistrationRequest {
            registration_id: self.client_id,
            transport: self.transport,
            mqtt_user_name: self.user_name,
            sas_token: self.password,
            client_chain: self.chain,
            body,
            operation_id,
            latencies: &[],
            now,
        }
    }
}

/// An operation-status poll whose credential did not attest the registration.
#[derive(Clone, Debug)]
pub struct RefusedPoll {
    /// The answer's status (401).
    pub status: u16,
    /// The answer's body: the same client-safe error a refused register gets.
    pub body: Vec<u8>,
    /// Why, for the operator's log (never sent to the caller).
    pub reason: String,
}

/// A register request decided but not yet committed.
#[derive(Clone, Debug)]
pub struct RegisterPlan {
    /// The service's decision.
    pub outcome: RegistrationOutcome,
    /// Status of the immediate answer: 202 when an operation was started, else the error.
    pub status: u16,
    /// Body of the immediate answer.
    pub body: Vec<u8>,
    /// The `retry-after` of the immediate answer.
    pub retry_after: Option<u32>,
    /// The operation whose poll answers the decision (202 only).
    pub operation: Option<StoredOperation>,
}

impl RegisterPlan {
    /// The MQTT response topic for request `$rid`.
    pub fn topic(&self, rid: &str) -> String {
        response_topic(self.status, rid, self.retry_after).unwrap_or_default()
    }
}

/// The DPS front end's state: records and operation answers.
#[derive(Debug, Default)]
pub struct DpsFrontEnd {
    records: HashMap<String, RegistrationRecord>,
    operations: HashMap<String, StoredOperation>,
    next_operation: u64,
}

/// The answer to a poll for an unknown operation (§5.4: 404 with an error body).
const NOT_FOUND: &[u8] = b"{\"errorCode\":404000,\"message\":\"operation not found\"}";

impl DpsFrontEnd {
    /// An endpoint with no records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads stored records and operations.
    pub fn restore(
        &mut self,
        records: impl IntoIterator<Item = RegistrationRecord>,
        operations: impl IntoIterator<Item = StoredOperation>,
    ) {
        for record in records {
            self.records
                .insert(record.registration_id.to_ascii_lowercase(), record);
        }
        for op in operations {
            self.operations.insert(op.operation_id.clone(), op);
        }
    }

    /// The stored records, sorted by registration ID.
    pub fn records(&self) -> Vec<RegistrationRecord> {
        let mut all: Vec<RegistrationRecord> = self.records.values().cloned().collect();
        all.sort_by(|a, b| a.registration_id.cmp(&b.registration_id));
        all
    }

    /// The record of a registration ID (case-insensitive).
    pub fn record(&self, registration_id: &str) -> Option<&RegistrationRecord> {
        self.records.get(&registration_id.to_ascii_lowercase())
    }

    /// Forgets a registration record (the DPS service API's delete of a registration state);
    /// returns it.
    pub fn remove_record(&mut self, registration_id: &str) -> Option<RegistrationRecord> {
        self.records.remove(&registration_id.to_ascii_lowercase())
    }

    /// A fresh operation ID from a counter (in-memory use; the server passes random ones).
    pub fn next_operation_id(&mut self, now: u64) -> String {
        self.next_operation += 1;
        format!("4.{:016x}.{:08}", now, self.next_operation)
    }

    /// Decides a register request (body = the DeviceRegistration JSON) without changing any
    /// state.
    pub fn decide_register(
        &self,
        service: &ProvisioningService,
        peer: &DpsPeer<'_>,
        payload: &[u8],
        now: u64,
        operation_id: &str,
    ) -> RegisterPlan {
        let req = peer.request(payload, operation_id, now);
        let outcome = match service.register(&req, self.record(peer.client_id)) {
            RegisterStep::Done(outcome) => *outcome,
            // No webhook client here: custom allocation fails as an unreachable webhook would
            // (§8.2, 400207).
            RegisterStep::NeedsCustomAllocation(pending) => {
                service.complete_custom_allocation(*pending, Err(503))
            }
        };
        if outcome.status_code != 200 {
            return RegisterPlan {
                status: outcome.status_code,
                body: outcome.wire().to_json(),
                retry_after: None,
                operation: None,
                outcome,
            };
        }
        let body = format!("{{\"operationId\":\"{operation_id}\",\"status\":\"assigning\"}}");
        RegisterPlan {
            status: 202,
            body: body.into_bytes(),
            retry_after: Some(RETRY_AFTER_SECS),
            operation: Some(StoredOperation {
                operation_id: operation_id.to_owned(),
                registration_id: peer.client_id.to_owned(),
                status: 200,
                body: outcome.wire().to_json(),
            }),
            outcome,
        }
    }

    /// What the store must commit, in one transaction, for `plan`: the record, the hub
    /// identities and twins, the operation.
    pub fn writes_for(&self, plan: &RegisterPlan, hubs: &Hubs) -> Vec<Write> {
        let mut writes = Vec::new();
        if let Some(record) = &plan.outcome.record {
            writes.push(Write::Record(record.clone()));
        }
        for change in &plan.outcome.hub_changes {
            writes.extend(hubs.writes_for(change));
        }
        if let Some(op) = &plan.operation {
            writes.push(Write::Operation {
                operation_id: op.operation_id.clone(),
                registration_id: op.registration_id.clone(),
                status: op.status,
                body: op.body.clone(),
            });
        }
        writes
    }

    /// Applies a plan to memory (after the store committed it); returns what the hubs did.
    pub fn commit(&mut self, plan: &RegisterPlan, hubs: &mut Hubs) -> Vec<String> {
        if let Some(record) = &plan.outcome.record {
            self.records
                .insert(record.registration_id.to_ascii_lowercase(), record.clone());
        }
        if let Some(op) = &plan.operation {
            self.operations.insert(op.operation_id.clone(), op.clone());
        }
        plan.outcome
            .hub_changes
            .iter()
            .map(|change| hubs.apply(change))
            .collect()
    }

    /// The answer to `registration_id`'s operation-status poll: status and body. Another
    /// registration's operation is not found (a device reads only its own results).
    pub fn poll(&self, registration_id: &str, operation_id: &str) -> (u16, Vec<u8>) {
        match self
            .operations
            .get(operation_id)
            .filter(|op| op.registration_id.eq_ignore_ascii_case(registration_id))
        {
            Some(op) => (op.status, op.body.clone()),
            None => (404, NOT_FOUND.to_vec()),
        }
    }

    /// The operation-status poll of a caller that proves again that it is `peer.client_id`.
    /// DPS authenticates every device request, not only the register: the SDKs send the
    /// registration's SAS token (HTTPS `Authorization` on each request, the MQTT session's
    /// CONNECT password) or the same TLS client certificate with each poll (reference §5.6 and
    /// §6.3; Node's HTTP client sends the register's token again on its GET). The credential
    /// goes through the same attestation as a register, decided with nothing committed; a
    /// refusal is that attestation's 401 answer, so a caller that learned only an operation ID
    /// reads nothing about the registration. `Err` carries that answer and, for the operator,
    /// why the credential failed.
    pub fn poll_attested(
        &self,
        service: &ProvisioningService,
        peer: &DpsPeer<'_>,
        operation_id: &str,
        now: u64,
    ) -> Result<(u16, Vec<u8>), RefusedPoll> {
        let body = serde_json::json!({ "registrationId": peer.client_id }).to_string();
        let req = peer.request(body.as_bytes(), operation_id, now);
        match service.authenticate(&req) {
            Err(refused) if refused.status_code == 401 => Err(RefusedPoll {
                status: refused.status_code,
                body: refused.wire().to_json(),
                reason: refused.decision.to_string(),
            }),
            _ => Ok(self.poll(peer.client_id, operation_id)),
        }
    }

    /// One MQTT request end to end in memory (decide, commit, answer): the response topic
    /// and payload, and the decision when it was a register. Used by the in-memory demo; the
    /// server splits the same steps around its store commit.
    pub fn handle_request(
        &mut self,
        service: &ProvisioningService,
        hubs: &mut Hubs,
        peer: &DpsPeer<'_>,
        topic: &str,
        payload: &[u8],
        now: u64,
    ) -> Option<(String, Vec<u8>, Option<RegistrationOutcome>)> {
        match RequestTopic::parse(topic).ok()? {
            RequestTopic::Register { rid } => {
                let operation_id = self.next_operation_id(now);
                let plan = self.decide_register(service, peer, payload, now, &operation_id);
                self.commit(&plan, hubs);
                Some((plan.topic(rid), plan.body.clone(), Some(plan.outcome)))
            }
            RequestTopic::OperationStatus { rid, operation_id } => {
                let (status, body) = self
                    .poll_attested(service, peer, operation_id, now)
                    .unwrap_or_else(|refused| (refused.status, refused.body));
                Some((response_topic(status, rid, None).ok()?, body, None))
            }
        }
    }
}
