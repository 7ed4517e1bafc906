//! The typed causes behind [`Error`](crate::Error)'s import, TLS and state variants. Each keeps
//! the underlying error (serde_json, the decision crates, rustls, rcgen, iot-x509) as its
//! `source()` where there is one; the rest are conditions this crate words itself. `Display`
//! gives the text the parent variant appends.

use std::path::PathBuf;

use crate::engine::dps_api::PolicyProblem;

/// Why an import file was refused ([`Error::Import`](crate::Error::Import), and
/// [`ImportFile::parse`](crate::engine::import::ImportFile::parse)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportProblem {
    /// The file is over [`MAX_IMPORT_SIZE`](crate::engine::import::MAX_IMPORT_SIZE).
    #[error("file larger than 64 MiB")]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
    },
    /// The text is not JSON; serde_json's error has the line and column.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// Neither `hostName` (a hub file) nor `idScope` (a DPS file) is present.
    #[error("neither a hub file (hostName) nor a DPS file (idScope)")]
    UnknownKind,
    /// A hub file whose JSON does not have the shape of
    /// [`HubDocument`](iot_hub_auth::HubDocument).
    #[error("hub file: {0}")]
    HubShape(#[source] serde_json::Error),
    /// A hub file that breaks a rule of iot-hub-auth (an ID, a key, a policy, a CA).
    #[error("hub file: {0}")]
    HubRule(#[source] iot_hub_auth::Error),
    /// A DPS file whose JSON does not have the shape of
    /// [`DpsFile`](crate::engine::import::DpsFile).
    #[error("dps file: {0}")]
    DpsShape(#[source] serde_json::Error),
    /// A DPS file whose instance or enrollments break a rule of iot-dps-service.
    #[error("dps file: {0}")]
    DpsRule(#[source] iot_dps_service::Error),
    /// A DPS file whose service policies break a rule (see
    /// [`check_policies`](crate::engine::dps_api::check_policies)).
    #[error("dps file: {0}")]
    DpsPolicy(#[source] PolicyProblem),
}

/// Why the TLS certificate or key is unusable, or the local CA failed
/// ([`Error::Tls`](crate::Error::Tls)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsProblem {
    /// A certificate or key file is unreadable, or holds no PEM block of the kind wanted
    /// (`--tls-cert`, `--tls-key`, or the server certificate kept in the state directory).
    #[error("{}: {source}", file.display())]
    Pem {
        /// The file, as given or as named in the state directory (`server.pem`, `server.key`).
        file: PathBuf,
        /// What rustls-pki-types found.
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the protocol versions, the certificate chain or the key (a key that
    /// does not match the certificate, or of an unsupported kind).
    #[error("{0}")]
    Rustls(#[source] rustls::Error),
    /// The local CA in `STATE/tls/` does not load, or a new one could not be made.
    #[error("{0}")]
    LocalCa(#[source] iot_x509::Error),
    /// The server certificate could not be signed by the local CA.
    #[error("{0}")]
    ServerCertificate(#[source] rcgen::Error),
}

/// Why stored (or exported) state does not hold together
/// ([`Error::State`](crate::Error::State)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateProblem {
    /// A stored hub breaks a rule of iot-hub-auth.
    #[error("hub {host}: {reason}")]
    Hub {
        /// The hub's host name.
        host: String,
        /// The broken rule.
        #[source]
        reason: iot_hub_auth::Error,
    },
    /// The stored DPS instance or its enrollments break a rule of iot-dps-service.
    #[error("dps: {0}")]
    Dps(#[source] iot_dps_service::Error),
    /// Stored configuration could not be written as JSON by `export`.
    #[error("{0}")]
    Export(#[source] serde_json::Error),
}
