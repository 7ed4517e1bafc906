//! `--tls-cert` and `--tls-key` read like every file flag of the CLI (`-` for stdin, `@PATH`,
//! a byte-order mark skipped, 16 MiB at most), then handed to the server as files: a private
//! copy in `STATE/.tls-input-PID/` (directory 0700, files 0600 on Unix), removed as soon as
//! the server has loaded them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::Failure;
use crate::input::{read_file, read_secret_file};

/// The certificate chain and key as read.
pub(super) struct TlsInput {
    cert: Vec<u8>,
    key: Zeroizing<String>,
}

impl TlsInput {
    /// Reads both flags.
    pub(super) fn read(cert: &Path, key: &Path) -> Result<Self, Failure> {
        Ok(Self {
            cert: read_file("--tls-cert", cert)?,
            key: read_secret_file("--tls-key", key)?,
        })
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
