//! Everything the server decides with, in memory: the hubs (settings, registry, twins) and the
//! DPS instance (service, records, operations). Built from the store's snapshot at start;
//! changed only after the store committed the same change.

use std::collections::HashMap;

use iot_hub_auth::{AccessRights, HubSettings, InMemoryRegistry};

use crate::Error;
use crate::server::{DpsSummary, HubSummary};
use crate::store::{DpsState, HubState, Snapshot, StoredTwin, TwinKey};

/// One hub.
#[derive(Debug)]
pub struct HubEntry {
    /// As stored.
    pub state: HubState,
    /// Built from `state`.
    pub settings: HubSettings,
    /// Identities.
    pub registry: InMemoryRegistry,
}

/// The DPS instance.
#[derive(Debug)]
pub struct DpsEntry {
    /// As stored.
    pub state: DpsState,
    /// The decision service with every enrollment.
    pub service: iot_dps_service::ProvisioningService,
}

/// The in-memory state.
#[derive(Debug, Default)]
pub struct Realm {
    hubs: Vec<HubEntry>,
    twins: HashMap<TwinKey, StoredTwin>,
    dps: Option<DpsEntry>,
}

impl Realm {
    /// Builds the state from a snapshot, checking every rule of the decision crates.
    ///
    /// # Errors
    /// [`Error::State`] naming what does not load.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Self, Error> {
        let mut realm = Self::default();
        for (state, identities) in snapshot.hubs {
            let doc = state.to_document(identities);
            let (settings, registry) = doc
                .build()
                .map_err(|e| Error::State(format!("hub {}: {e}", state.host_name)))?;
            realm.hubs.push(HubEntry {
                state,
                settings,
                registry,
            });
        }
        for twin in snapshot.twins {
            realm.twins.insert(twin.key.clone(), twin);
        }
        if let Some(state) = snapshot.dps {
            let service = iot_dps_service::ProvisioningService::load(
                state.instance.clone(),
                snapshot.enrollments,
                snapshot.groups,
            )
            .map_err(|e| Error::State(format!("dps: {e}")))?;
            realm.dps = Some(DpsEntry { state, service });
        }
        Ok(realm)
    }

    /// The hub with this host name (case-insensitive).
    pub fn hub(&self, host: &str) -> Option<&HubEntry> {
        self.hubs
            .iter()
            .find(|h| h.settings.host_name().eq_ignore_ascii_case(host))
    }

    /// The DPS instance.
    pub fn dps(&self) -> Option<&DpsEntry> {
        self.dps.as_ref()
    }

    /// A twin.
    pub fn twin(&self, key: &TwinKey) -> Option<&StoredTwin> {
        self.twins.get(key)
    }

    /// The host names the TLS certificate must cover (see [`crate::tls::server_names`]).
    pub fn tls_names(&self) -> Vec<String> {
        let hubs = self.hubs.iter().map(|h| h.settings.host_name());
        let dps = self.dps.iter().map(|d| d.state.service_host_name.as_str());
        crate::tls::server_names(hubs.chain(dps))
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
            device_endpoint: crate::tls::GLOBAL_DPS_HOST.to_owned(),
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
