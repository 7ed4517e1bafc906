//! The crate's one error type. The typed causes behind its import, TLS and state variants
//! are in [`cause`](self::cause).

mod cause;

use std::path::PathBuf;

pub use cause::{ImportProblem, StateProblem, TlsProblem};

/// Why the server could not start, load its state or answer an embedder's call.
///
/// Refusals of devices are not errors: they are decisions, reported as
/// [`crate::ServerEvent`]s and answered on the wire (CONNACK 5, a DPS error status).
///
/// Every variant that wraps another error keeps it as its [`source()`](std::error::Error::source).
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
        /// What is wrong, e.g. [`ImportProblem::NotJson`]; boxed because the decision
        /// crates' errors it may hold would make every `Result<_, Error>` large.
        #[source]
        reason: Box<ImportProblem>,
    },
    /// The TLS certificate or key is unusable, or local CA generation failed.
    #[error("tls: {0}")]
    Tls(#[source] TlsProblem),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Stored or imported state does not satisfy the decision crates' rules.
    #[error("invalid state: {0}")]
    State(#[source] StateProblem),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<TlsProblem> for Error {
    fn from(problem: TlsProblem) -> Self {
        Self::Tls(problem)
    }
}

impl From<StateProblem> for Error {
    fn from(problem: StateProblem) -> Self {
        Self::State(problem)
    }
}
