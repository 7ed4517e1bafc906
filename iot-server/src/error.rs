//! The crate's one error type.

use std::path::PathBuf;

/// Why the server could not start, load its state or answer an embedder's call.
///
/// Refusals of devices are not errors: they are decisions, reported as
/// [`crate::ServerEvent`]s and answered on the wire (CONNACK 5, a DPS error status).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// An import file is not a hub file or a DPS file, or breaks a rule of one.
    #[error("{path}: {reason}")]
    Import {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The TLS certificate or key is unusable, or local CA generation failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Stored or imported state does not satisfy the decision crates' rules.
    #[error("invalid state: {0}")]
    State(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
