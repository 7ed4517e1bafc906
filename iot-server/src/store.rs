//! Persistence behind a trait, so a networked database can replace the embedded SQLite one
//! (issue 10 "State"): everything the server acknowledges (a registration record with its hub
//! changes, an API write, a PUBACKed telemetry message) is one [`Store::apply`] call, one
//! transaction, committed before the acknowledgement goes out.

mod records;
mod sqlite;

pub use records::{
    DPS_RIGHTS, DpsPolicy, DpsState, HubState, StoredTwin, TelemetryMessage, TwinKey,
};
pub use sqlite::{DATABASE_FILE, SqliteStore};

use iot_dps_service::{EnrollmentGroup, IndividualEnrollment, RegistrationRecord};
use iot_hub_auth::DeviceIdentity;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database: {0}")]
    Database(#[source] rusqlite::Error),
    /// The state directory given to [`SqliteStore::open_existing`] has no database.
    #[error("database: {} does not exist (not a state directory)", path.display())]
    NotAStateDirectory {
        /// The database file that was looked for.
        path: std::path::PathBuf,
    },
    /// A stored value does not decode, or a value to store does not encode.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// What was being read or written.
        what: &'static str,
        /// serde_json's error.
        #[source]
        reason: serde_json::Error,
    },
    /// The store's writer is gone (the server is stopping).
    #[error("store closed")]
    Closed,
}

/// One change. A batch of them is applied atomically by [`Store::apply`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Write {
    /// Create or replace a hub's settings (policies, CAs, switches; identities apart).
    Hub(HubState),
    /// Create or replace a device or module identity in a hub.
    Identity {
        /// Hub host name.
        hub: String,
        /// The identity.
        identity: DeviceIdentity,
    },
    /// Delete a device (with its modules and twins) or one module.
    RemoveIdentity {
        /// Hub host name.
        hub: String,
        /// Device ID.
        device_id: String,
        /// Module ID.
        module_id: Option<String>,
    },
    /// Create or replace a twin.
    Twin(StoredTwin),
    /// Create or replace the DPS instance settings and service policies.
    Dps(DpsState),
    /// Create or replace an individual enrollment.
    Enrollment(IndividualEnrollment),
    /// Delete an individual enrollment.
    RemoveEnrollment(String),
    /// Create or replace an enrollment group.
    EnrollmentGroup(EnrollmentGroup),
    /// Delete an enrollment group.
    RemoveEnrollmentGroup(String),
    /// Create or replace a registration record.
    Record(RegistrationRecord),
    /// Delete a registration record.
    RemoveRecord(String),
    /// Remember a DPS operation's final answer, so a poll after a restart still finds it.
    Operation {
        /// The operation ID.
        operation_id: String,
        /// Registration ID.
        registration_id: String,
        /// HTTP/MQTT status of the answer.
        status: u16,
        /// JSON body of the answer.
        body: Vec<u8>,
    },
    /// Append a device-to-cloud message.
    Telemetry(TelemetryMessage),
}

/// A stored DPS operation answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOperation {
    /// The operation ID.
    pub operation_id: String,
    /// Registration ID.
    pub registration_id: String,
    /// Status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

/// Everything a server loads at start.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Hubs with their identities.
    pub hubs: Vec<(HubState, Vec<DeviceIdentity>)>,
    /// Twins.
    pub twins: Vec<StoredTwin>,
    /// The DPS instance, if one was imported.
    pub dps: Option<DpsState>,
    /// Individual enrollments.
    pub enrollments: Vec<IndividualEnrollment>,
    /// Enrollment groups, in the order they were first stored.
    pub groups: Vec<EnrollmentGroup>,
    /// Registration records.
    pub records: Vec<RegistrationRecord>,
    /// DPS operation answers.
    pub operations: Vec<StoredOperation>,
}

/// Which telemetry to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TelemetryFilter {
    /// Only this hub (case-insensitive).
    pub hub: Option<String>,
    /// Only this device.
    pub device_id: Option<String>,
    /// Only messages with a sequence number above this.
    pub after: u64,
    /// At most this many (0 = no limit).
    pub limit: usize,
}

/// Persistence for the server. Implementations must make [`Store::apply`] atomic and durable
/// (it returns only once the batch survives a crash of the process or the machine).
pub trait Store: Send {
    /// Reads the whole configuration and state (not the telemetry).
    ///
    /// # Errors
    /// [`StoreError`].
    fn load(&mut self) -> Result<Snapshot, StoreError>;

    /// Applies every write or none, durably.
    ///
    /// # Errors
    /// [`StoreError`]; nothing was applied.
    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError>;

    /// Reads stored telemetry in arrival order, with each message's sequence number.
    ///
    /// # Errors
    /// [`StoreError`].
    fn telemetry(
        &mut self,
        filter: &TelemetryFilter,
    ) -> Result<Vec<(u64, TelemetryMessage)>, StoreError>;
}
