//! Everything the server decides with, in memory: the hubs (settings, registry, twins) and the
//! DPS instance (service, records, operations). Built from the store's snapshot at start;
//! changed only after the store committed the same change.

use iot_hub_auth::AccessRights;

use crate::engine::dps::DpsFrontEnd;
use crate::engine::hubs::Hubs;
use crate::engine::summary::{self, DpsSummary, HubSummary};
use crate::error::{Error, StateProblem};
use crate::store::{DpsState, Snapshot};

/// The DPS instance.
#[derive(Debug)]
pub struct DpsEntry {
    /// As stored.
    pub state: DpsState,
    /// The decision service with every enrollment.
    pub service: iot_dps_service::ProvisioningService,
    /// Records and operations.
    pub front: DpsFrontEnd,
}

/// The in-memory state.
#[derive(Debug, Default)]
pub struct Realm {
    /// The hubs, their identities and twins.
    pub hubs: Hubs,
    /// The DPS instance, if one was imported.
    pub dps: Option<DpsEntry>,
}

impl Realm {
    /// Builds the state from a snapshot, checking every rule of the decision crates.
    ///
    /// # Errors
    /// [`Error::State`] naming what does not load.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Self, Error> {
        let mut realm = Self::default();
        for (state, identities) in snapshot.hubs {
            let host = state.host_name.clone();
            realm
                .hubs
                .insert(state, identities)
                .map_err(|reason| StateProblem::Hub { host, reason })?;
        }
        for twin in snapshot.twins {
            realm.hubs.set_twin(twin);
        }
        if let Some(state) = snapshot.dps {
            let service = iot_dps_service::ProvisioningService::load(
                state.instance.clone(),
                snapshot.enrollments,
                snapshot.groups,
            )
            .map_err(StateProblem::Dps)?;
            let mut front = DpsFrontEnd::new();
            front.restore(snapshot.records, snapshot.operations);
            realm.dps = Some(DpsEntry {
                state,
                service,
                front,
            });
        }
        Ok(realm)
    }

    /// Configuration that loads but will not work as a developer likely expects: a linked hub
    /// of the DPS instance that this server does not serve (devices assigned there get
    /// `assigned` but no identity, and cannot connect).
    pub fn warnings(&self) -> Vec<String> {
        let Some(dps) = &self.dps else {
            return Vec::new();
        };
        dps.state
            .instance
            .linked_hubs
            .iter()
            .filter(|linked| self.hubs.hub(&linked.host).is_none())
            .map(|linked| {
                format!(
                    "dps links hub {} but no hub file defines it: devices assigned there cannot connect",
                    linked.host
                )
            })
            .collect()
    }

    /// The host names the TLS certificate must cover (see [`summary::server_names`]).
    pub fn tls_names(&self) -> Vec<String> {
        let hubs = self.hubs.iter().map(|h| h.settings.host_name());
        let dps = self.dps.iter().map(|d| d.state.service_host_name.as_str());
        summary::server_names(hubs.chain(dps))
    }

    /// Each hub's host name and owner connection string.
    pub fn hub_summaries(&self) -> Vec<HubSummary> {
        self.hubs
            .iter()
            .map(|h| HubSummary {
                host_name: h.settings.host_name().to_owned(),
                owner_connection_string: h
                    .state
                    .authorization_policies
                    .iter()
                    .find(|p| p.rights.contains(AccessRights::REGISTRY_WRITE))
                    .map(|p| {
                        format!(
                            "HostName={};SharedAccessKeyName={};SharedAccessKey={}",
                            h.settings.host_name(),
                            p.key_name,
                            p.primary_key
                        )
                    }),
            })
            .collect()
    }

    /// The DPS ID scope, device endpoint and service connection string.
    pub fn dps_summary(&self) -> Option<DpsSummary> {
        self.dps.as_ref().map(|d| DpsSummary {
            id_scope: d.state.instance.id_scope.clone(),
            device_endpoint: summary::GLOBAL_DPS_HOST.to_owned(),
            service_host_name: d.state.service_host_name.clone(),
            service_connection_string: d
                .state
                .authorization_policies
                .iter()
                .find(|p| crate::engine::dps_api::has_right(&p.rights, "EnrollmentWrite"))
                .map(|p| {
                    format!(
                        "HostName={};SharedAccessKeyName={};SharedAccessKey={}",
                        d.state.service_host_name,
                        p.key_name,
                        p.primary_key.secret_text()
                    )
                }),
        })
    }
}
