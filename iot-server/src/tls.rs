//! TLS for every listener: rustls 0.23 with the ring provider, TLS 1.3 and 1.2 (the Python SDK
//! pins 1.2, embedding.md §2), a client-certificate verifier that asks for a certificate
//! without requiring one and checks only the handshake signature ([`AnyClientCertificate`]), and the local
//! CA that signs the server certificate when none is given ([`LocalCa`]).

mod local_ca;
mod verifier;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use crate::engine::summary::{GLOBAL_DPS_HOST, server_names};
pub use local_ca::LocalCa;
pub use verifier::AnyClientCertificate;

use crate::config::TlsSource;
use crate::error::{Error, TlsProblem};

/// The server's TLS configuration and where its trust anchor is.
#[derive(Clone, Debug)]
pub struct TlsSetup {
    /// The rustls configuration shared by every listener.
    pub config: Arc<rustls::ServerConfig>,
    /// `STATE/tls/ca.pem` when the certificate was generated (the file devices must trust).
    pub ca_path: Option<PathBuf>,
}

impl TlsSetup {
    /// Loads `--tls-cert`/`--tls-key`, or makes (or reuses) the local CA and a server
    /// certificate for `names` in `state_dir/tls/`.
    ///
    /// # Errors
    /// [`Error::Tls`], [`Error::Io`].
    pub fn prepare(state_dir: &Path, source: &TlsSource, names: &[String]) -> Result<Self, Error> {
        match source {
            TlsSource::Files { cert, key } => {
                let pem = |file: &Path| {
                    let file = file.to_owned();
                    move |source| TlsProblem::Pem { file, source }
                };
                let chain = CertificateDer::pem_file_iter(cert)
                    .map_err(pem(cert))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(pem(cert))?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(pem(key))?;
                Ok(Self {
                    config: server_config(chain, key)?,
                    ca_path: None,
                })
            }
            TlsSource::Generated => {
                let ca = LocalCa::open_or_create(&state_dir.join("tls"))?;
                let (chain, key) = ca.server_certificate(names)?;
                Ok(Self {
                    config: server_config(chain, key)?,
                    ca_path: Some(ca.ca_path()),
                })
            }
        }
    }
}

/// A rustls server configuration: ring provider, TLS 1.3 and 1.2, optional client
/// certificates through [`AnyClientCertificate`].
///
/// # Errors
/// [`Error::Tls`] when the key does not match the certificate or is unsupported.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyClientCertificate::new(&provider));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsProblem::Rustls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsProblem::Rustls)?;
    Ok(Arc::new(config))
}
