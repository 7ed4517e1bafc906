//! The local root CA in `STATE/tls/` and the server certificate it signs (issue 10 "TLS"):
//! SANs `localhost`, `127.0.0.1`, `::1`, every hub host, the DPS service host and
//! `global.azure-devices-provisioning.net`; re-made whenever that list changes.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use iot_x509::generate::{GeneratedCert, Validity, new_root_ca};
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, TlsProblem};

/// The local root CA (P-256, ten years) kept in a directory.
#[derive(Debug)]
pub struct LocalCa {
    dir: PathBuf,
    ca: GeneratedCert,
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn read(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes a file atomically (temporary file, fsync, rename); keys readable by the owner only.
fn write(path: &Path, text: &str, secret: bool) -> Result<(), Error> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

impl LocalCa {
    /// Loads `dir/ca.pem` + `dir/ca.key`, or creates them (and `dir`).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Tls`].
    pub fn open_or_create(dir: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
        let ca = match (read(&cert_path)?, read(&key_path)?) {
            (Some(cert), Some(key)) => {
                GeneratedCert::from_pem(&cert, &key).map_err(TlsProblem::LocalCa)?
            }
            _ => {
                let validity = Validity::days(now() - 3600, 3650);
                let ca = new_root_ca("iot-server local root CA", validity)
                    .map_err(TlsProblem::LocalCa)?;
                write(&key_path, &ca.key_pem, true)?;
                write(&cert_path, &ca.cert_pem, false)?;
                ca
            }
        };
        Ok(Self {
            dir: dir.to_owned(),
            ca,
        })
    }

    /// Path of the CA certificate devices must trust.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca.cert_pem
    }

    /// The server chain (leaf, CA) and key for `names` (see [`super::server_names`]): reused from
    /// `server.pem`/`server.key` when `server.names` lists the same names, else made anew.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Tls`].
    pub fn server_certificate(
        &self,
        names: &[String],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
        let (cert_path, key_path, names_path) = (
            self.dir.join("server.pem"),
            self.dir.join("server.key"),
            self.dir.join("server.names"),
        );
        let wanted = names.join("\n");
        let current = (read(&names_path)?, read(&cert_path)?, read(&key_path)?);
        let (cert_pem, key_pem) = match current {
            (Some(n), Some(c), Some(k)) if n == wanted => (c, k),
            _ => {
                let (c, k) = self.issue(names)?;
                write(&key_path, &k, true)?;
                write(&cert_path, &c, false)?;
                write(&names_path, &wanted, false)?;
                (c, k)
            }
        };
        let leaf = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|source| {
            TlsProblem::Pem {
                file: "server.pem".into(),
                source,
            }
        })?;
        let ca = CertificateDer::from(self.ca.der.clone());
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|source| {
            TlsProblem::Pem {
                file: "server.key".into(),
                source,
            }
        })?;
        Ok((vec![leaf, ca], key))
    }

    fn issue(&self, names: &[String]) -> Result<(String, String), Error> {
        let tls = TlsProblem::ServerCertificate;
        let ca_key = KeyPair::from_pem(&self.ca.key_pem).map_err(tls)?;
        let issuer =
            Issuer::from_ca_cert_der(&self.ca.der.as_slice().into(), ca_key).map_err(tls)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(tls)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "iot-server");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let start = now() - 3600;
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_before = epoch + std::time::Duration::from_secs(start.unsigned_abs());
        params.not_after =
            epoch + std::time::Duration::from_secs((start + 825 * 86_400).unsigned_abs());
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(tls)?;
        let cert = params.signed_by(&key, &issuer).map_err(tls)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}
