//! The seed's step 2 as an API: provision if not provisioned, else connect; when the assigned
//! hub refuses the device, provision again and connect where DPS now points (reference §5.5
//! and §8.4: "do not re-provision on every boot; cache the hub, fall back to DPS on hub errors").

use std::path::PathBuf;
use std::time::Duration;

use crate::endpoint::Endpoint;
use crate::hub::{HubClient, HubOptions};
use crate::provision::{Assignment, ProvisioningOptions, ProvisioningStep, provision_with};
use crate::{Error, StoreError};

/// Where the last assignment is kept between runs; the caller owns it.
pub trait AssignmentStore {
    /// The cached assignment, if any.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be read.
    fn load(&mut self) -> Result<Option<Assignment>, Error>;
    /// Replaces the cached assignment.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be written.
    fn save(&mut self, assignment: &Assignment) -> Result<(), Error>;
    /// Forgets the cached assignment.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be written.
    fn clear(&mut self) -> Result<(), Error>;
}

/// A value the caller persists itself (firmware flash, a database row).
impl AssignmentStore for Option<Assignment> {
    fn load(&mut self) -> Result<Option<Assignment>, Error> {
        Ok(self.clone())
    }

    fn save(&mut self, assignment: &Assignment) -> Result<(), Error> {
        *self = Some(assignment.clone());
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Error> {
        *self = None;
        Ok(())
    }
}

/// A JSON file holding the [`Assignment`] (what `iot device run --state FILE` uses). Writes
/// go to a temporary file renamed over the old one, so a crash leaves the old or the new
/// assignment, never half of one.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store in `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn io_error(&self, source: std::io::Error) -> Error {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
        .into()
    }
}

impl AssignmentStore for FileStore {
    fn load(&mut self) -> Result<Option<Assignment>, Error> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|source| {
                StoreError::NotAnAssignment {
                    path: self.path.clone(),
                    source,
                }
                .into()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_error(e)),
        }
    }

    fn save(&mut self, assignment: &Assignment) -> Result<(), Error> {
        let text = serde_json::to_vec_pretty(assignment).map_err(StoreError::Encode)?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| self.io_error(e))
    }

    fn clear(&mut self) -> Result<(), Error> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error(e)),
        }
    }
}

/// How the hub connection is made once DPS has named the hub.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// Port, transport and trust for the hub; its host is the assigned hub (or `gateway`).
    pub endpoint: Endpoint,
    /// Socket target instead of the assigned hub (a gateway, or `localhost` for `iot serve`).
    pub gateway: Option<String>,
    /// MQTT keep-alive.
    pub keep_alive: Duration,
    /// IoT Plug and Play model ID.
    pub model_id: Option<String>,
    /// SAS token lifetime.
    pub sas_ttl: Duration,
    /// Renewal margin.
    pub renew_margin: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            endpoint: Endpoint::new(String::new()),
            gateway: None,
            keep_alive: Duration::from_secs(60),
            model_id: None,
            sas_ttl: Duration::from_secs(3600),
            renew_margin: Duration::from_secs(120),
        }
    }
}

impl HubSettings {
    /// The hub options for an assignment, with the provisioning credential (for a group
    /// device that is the derived key; for X.509 the same certificate, reference §3, §7.5).
    pub fn hub_options(
        &self,
        assignment: &Assignment,
        provisioning: &ProvisioningOptions,
    ) -> HubOptions {
        let mut options = HubOptions::new(
            assignment.assigned_hub.clone(),
            assignment.device_id.clone(),
            provisioning.credential.clone(),
        );
        options.endpoint = Endpoint {
            host: self
                .gateway
                .clone()
                .unwrap_or_else(|| assignment.assigned_hub.clone()),
            ..self.endpoint.clone()
        };
        options.keep_alive = self.keep_alive;
        options.model_id.clone_from(&self.model_id);
        options.sas_ttl = self.sas_ttl;
        options.renew_margin = self.renew_margin;
        options
    }
}

/// How [`provision_or_connect`] got its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectPath {
    /// The cached assignment's hub admitted the device; DPS was not asked.
    Cached,
    /// Nothing was cached: DPS assigned a hub.
    Provisioned,
    /// The cached hub refused the device (CONNACK non-zero): DPS was asked again.
    Reprovisioned,
}

/// One step of [`provision_or_connect`], for logs and progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceStep {
    /// A cached assignment was found.
    Cached(Assignment),
    /// A step of the DPS registration.
    Provisioning(ProvisioningStep),
    /// DPS assigned the device.
    Assigned(Assignment),
    /// Connecting to this hub as this device.
    Connecting {
        /// Hub host name.
        hub: String,
        /// Device ID.
        device_id: String,
    },
    /// The hub admitted the device.
    Connected {
        /// Hub host name.
        hub: String,
    },
    /// The hub refused the device with this CONNACK code.
    Refused {
        /// Hub host name.
        hub: String,
        /// CONNACK return code.
        code: u8,
    },
}

/// A hub connection and how it was obtained.
#[derive(Debug)]
pub struct Connected {
    /// The connected client.
    pub client: HubClient,
    /// The assignment in use (also in the store).
    pub assignment: Assignment,
    /// Cached, provisioned or re-provisioned.
    pub path: ConnectPath,
}

/// Provision if nothing is cached, else connect to the cached hub; when that hub refuses the
/// device, forget the assignment, provision again and connect where DPS now points.
///
/// A network failure reaching the cached hub is returned as it is (retryable), not treated
/// as a refusal: re-provisioning on every outage would burn the DPS quota (reference §5.5).
/// A refusal by a freshly assigned hub is returned too, so this never loops.
///
/// # Errors
/// The errors of [`provision_with`](crate::provision_with) and
/// [`HubClient::connect`]; [`Error::Store`] when the store fails.
pub async fn provision_or_connect(
    provisioning: &ProvisioningOptions,
    hub: &HubSettings,
    store: &mut dyn AssignmentStore,
    mut observe: impl FnMut(&DeviceStep),
) -> Result<Connected, Error> {
    let mut path = ConnectPath::Provisioned;
    if let Some(cached) = store.load()? {
        observe(&DeviceStep::Cached(cached.clone()));
        if cached.registration_id == provisioning.registration_id {
            match connect(hub, &cached, provisioning, &mut observe).await {
                Ok(client) => {
                    return Ok(Connected {
                        client,
                        assignment: cached,
                        path: ConnectPath::Cached,
                    });
                }
                Err(Error::Refused { .. }) => {
                    store.clear()?;
                    path = ConnectPath::Reprovisioned;
                }
                Err(e) => return Err(e),
            }
        }
    }
    let assignment = provision_with(provisioning, |step| {
        observe(&DeviceStep::Provisioning(step.clone()))
    })
    .await?;
    observe(&DeviceStep::Assigned(assignment.clone()));
    store.save(&assignment)?;
    let client = connect(hub, &assignment, provisioning, &mut observe).await?;
    Ok(Connected {
        client,
        assignment,
        path,
    })
}

async fn connect(
    hub: &HubSettings,
    assignment: &Assignment,
    provisioning: &ProvisioningOptions,
    observe: &mut impl FnMut(&DeviceStep),
) -> Result<HubClient, Error> {
    observe(&DeviceStep::Connecting {
        hub: assignment.assigned_hub.clone(),
        device_id: assignment.device_id.clone(),
    });
    match HubClient::connect(hub.hub_options(assignment, provisioning)).await {
        Ok(client) => {
            observe(&DeviceStep::Connected {
                hub: assignment.assigned_hub.clone(),
            });
            Ok(client)
        }
        Err(Error::Refused { code }) => {
            observe(&DeviceStep::Refused {
                hub: assignment.assigned_hub.clone(),
                code,
            });
            Err(Error::Refused { code })
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment() -> Assignment {
        Assignment {
            registration_id: "reg-1".to_owned(),
            assigned_hub: "test-hub.local".to_owned(),
            device_id: "reg-1".to_owned(),
            substatus: Some("initialAssignment".to_owned()),
            payload: None,
        }
    }

    #[test]
    fn file_store_round_trips_and_clears() {
        let dir = std::env::temp_dir().join(format!("iot-device-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = FileStore::new(dir.join("assignment.json"));
        assert_eq!(store.load().unwrap(), None);
        store.save(&assignment()).unwrap();
        assert_eq!(store.load().unwrap(), Some(assignment()));
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
        std::fs::write(dir.join("assignment.json"), b"{not json").unwrap();
        let err = store.load().unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Store(StoreError::NotAnAssignment { path, .. })
                    if path == &dir.join("assignment.json")
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "assignment store: {}: not an assignment: ",
                dir.join("assignment.json").display()
            )),
            "{err}"
        );
        // serde_json's error is down the source chain.
        let cause = std::error::Error::source(&err).expect("Store has a source");
        let json = cause
            .source()
            .expect("NotAnAssignment keeps serde_json's error");
        assert!(
            json.downcast_ref::<serde_json::Error>().is_some(),
            "{json:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(err.code(), "assignment_store");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hub_options_follow_the_assignment_and_gateway() {
        let key = crate::Credential::symmetric_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
            .unwrap();
        let prov = ProvisioningOptions::new("0ne", "reg-1", key);
        let settings = HubSettings {
            endpoint: Endpoint::new("").with_port(18883),
            gateway: Some("localhost".to_owned()),
            ..HubSettings::default()
        };
        let o = settings.hub_options(&assignment(), &prov);
        assert_eq!(o.hub, "test-hub.local");
        assert_eq!(o.endpoint.host, "localhost");
        assert_eq!(o.endpoint.port(), 18883);
        assert!(o.user_name().starts_with("test-hub.local/reg-1/?"));
        let mut value: Option<Assignment> = None;
        value.save(&assignment()).unwrap();
        assert_eq!(value.load().unwrap(), Some(assignment()));
    }
}
