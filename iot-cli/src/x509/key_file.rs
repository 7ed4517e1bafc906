//! Writing a generated certificate and its private key.
//!
//! * Both files are created new (`O_CREAT | O_EXCL`): an existing file, or a symbolic link
//!   even a dangling one, is refused unless `--force`.
//! * With `--force` an existing regular file is replaced by renaming a fresh file over it, so
//!   the key never lands in an old file with old permissions; a symbolic link is refused even
//!   then (it would write the key wherever the link points).
//! * The private key is created owner-only (0600) on Unix, from its first byte.
//! * `--out` names a file prefix, not a directory.
//! * Nothing is written unless both files can be.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::exit::Failure;

/// The two output paths of a prefix: `PREFIX.cert.pem` and `PREFIX.key.pem`.
pub(super) struct Outputs {
    pub(super) cert: PathBuf,
    pub(super) key: PathBuf,
}

/// Checks `--out` and the two paths it makes, before any key is generated.
pub(super) fn plan(prefix: &Path, force: bool) -> Result<Outputs, Failure> {
    let text = prefix.as_os_str().to_string_lossy();
    if text.is_empty() {
        return Err(Failure::usage("--out must not be empty"));
    }
    if text.ends_with('/') || prefix.is_dir() {
        return Err(Failure::usage(format_args!(
            "--out {}: is a directory; give a file prefix such as {}/device (writes \
             device.cert.pem and device.key.pem)",
            prefix.display(),
            text.trim_end_matches('/')
        )));
    }
    let outputs = Outputs {
        cert: PathBuf::from(format!("{text}.cert.pem")),
        key: PathBuf::from(format!("{text}.key.pem")),
    };
    for path in [&outputs.cert, &outputs.key] {
        check_target(path, force)?;
    }
    Ok(outputs)
}

/// Refuses a symbolic link always, and an existing entry unless `force` (then only a file).
fn check_target(path: &Path, force: bool) -> Result<(), Failure> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let shown = path.display();
    if meta.file_type().is_symlink() {
        return Err(Failure::bad(
            "refused_symlink",
            format_args!("{shown}: is a symbolic link; refusing to write through it"),
        ));
    }
    if !meta.is_file() {
        return Err(Failure::bad(
            "output_exists",
            format_args!("{shown}: exists and is not a regular file"),
        ));
    }
    if !force {
        return Err(Failure::bad(
            "output_exists",
            format_args!("{shown}: exists; pass --force to replace it"),
        ));
    }
    Ok(())
}

/// Writes the certificate (0644) and the private key (0600).
pub(super) fn write(
    outputs: &Outputs,
    cert_pem: &[u8],
    key_pem: &[u8],
    force: bool,
) -> Result<(), Failure> {
    if let Some(dir) = outputs.cert.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| Failure::unwritable(dir, &err))?;
    }
    // Checked again: the first check ran before the (slow) key generation.
    check_target(&outputs.cert, force)?;
    check_target(&outputs.key, force)?;
    write_one(&outputs.key, key_pem, 0o600, force)?;
    write_one(&outputs.cert, cert_pem, 0o644, force)
}

fn write_one(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), Failure> {
    if !force || std::fs::symlink_metadata(path).is_err() {
        return create_new(path, bytes, mode);
    }
    // Replace: a fresh file beside the target, renamed over it (rename does not follow a link
    // at the destination, and check_target has refused links anyway).
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    create_new(&temp, bytes, mode)?;
    std::fs::rename(&temp, path).map_err(|err| {
        let _ = std::fs::remove_file(&temp);
        Failure::unwritable(path, &err)
    })
}

/// `O_CREAT | O_EXCL` with `mode` (Unix); removes a partly written file.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::bad(
                "output_exists",
                format_args!("{}: exists; pass --force to replace it", path.display()),
            )
        } else {
            Failure::unwritable(path, &err)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| {
            let _ = std::fs::remove_file(path);
            Failure::unwritable(path, &err)
        })
}
