//! `--tls-cert` and `--tls-key` read like every file flag of the CLI (`-` for stdin, `@PATH`,
//! a byte-order mark skipped, 16 MiB at most) and checked to be a PEM certificate chain and a
//! PEM private key, then handed to the server as files: a private copy in
//! `STATE/.tls-input-PID/` (directory 0700, files 0600 on Unix), removed as soon as the server
//! has loaded them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::Failure;
use crate::input::{file_path, read_file, read_secret_file};

/// What is wrong with a PEM file, in words (the parser's own text shows raw bytes).
fn pem_problem(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { .. } => {
            "a PEM block has no -----END line (is the file cut short?)".to_owned()
        }
        pem::Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed".to_owned(),
        pem::Error::Base64Decode(e) => format!("a PEM block is not valid base64 ({e})"),
        pem::Error::NoItemsFound => "no PEM block of the expected kind".to_owned(),
        _ => "not readable as PEM".to_owned(),
    }
}

fn invalid(flag: &str, path: &Path, problem: &str) -> Failure {
    let shown = match file_path(path) {
        p if p == Path::new("-") => "stdin".to_owned(),
        p => p.display().to_string(),
    };
    Failure::bad("invalid_tls", format_args!("{flag} {shown}: {problem}"))
}

/// The certificate chain and key as read.
pub(super) struct TlsInput {
    cert: Vec<u8>,
    key: Zeroizing<String>,
}

impl TlsInput {
    /// Reads both flags.
    pub(super) fn read(cert_path: &Path, key_path: &Path) -> Result<Self, Failure> {
        let cert = read_file("--tls-cert", cert_path)?;
        let chain = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("--tls-cert", cert_path, &pem_problem(&e)))?;
        if chain.is_empty() {
            return Err(invalid(
                "--tls-cert",
                cert_path,
                "no -----BEGIN CERTIFICATE----- block (a PEM certificate chain, leaf first)",
            ));
        }
        let key = read_secret_file("--tls-key", key_path)?;
        PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| {
            let problem = match e {
                pem::Error::NoItemsFound => {
                    "no PEM private key (PKCS #8, PKCS #1 or SEC1) in it".to_owned()
                }
                other => pem_problem(&other),
            };
            invalid("--tls-key", key_path, &problem)
        })?;
        Ok(Self { cert, key })
    }

    /// Writes the private copy under `state` (which exists).
    pub(super) fn place(self, state: &Path) -> Result<TlsFiles, Failure> {
        let dir = state.join(format!(".tls-input-{}", std::process::id()));
        // A copy left by an earlier run that had this process ID is stale.
        let _ = std::fs::remove_dir_all(&dir);
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|err| Failure::unwritable(&dir, &err))?;
        let files = TlsFiles { dir };
        write_private(&files.cert(), &self.cert)?;
        write_private(&files.key(), self.key.as_bytes())?;
        Ok(files)
    }
}

/// Owner-only, created new.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|err| Failure::unwritable(path, &err))
}

/// The private copy; removed when dropped.
pub(super) struct TlsFiles {
    dir: PathBuf,
}

impl TlsFiles {
    /// The certificate chain's path.
    pub(super) fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// The private key's path.
    pub(super) fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
