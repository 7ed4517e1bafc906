//! Issue 12 item 8: `iot x509 new-*` key files are created owner-only with create-new
//! semantics, replaced only with `--force`, and never written through a symbolic link.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;

use cli::{iot, temp_dir};

fn new_device(prefix: &Path, extra: &[&str]) -> cli::Run {
    let prefix = prefix.display().to_string();
    let mut args = vec![
        "x509",
        "new-device",
        "--out",
        &prefix,
        "--device-id",
        "dev1",
    ];
    args.extend_from_slice(extra);
    iot(&args)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn key_files_are_created_owner_only() {
    let dir = temp_dir("key_files_mode");
    let run = new_device(&dir.join("dev"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&dir.join("dev.key.pem")), 0o600);
    assert_eq!(mode(&dir.join("dev.cert.pem")) & 0o600, 0o600);
}

#[test]
fn existing_files_are_refused_without_force() {
    let dir = temp_dir("key_files_exist");
    let key = dir.join("dev.key.pem");
    std::fs::write(&key, "precious").unwrap();
    let run = new_device(&dir.join("dev"), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("exists; pass --force"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), "precious");
    assert!(!dir.join("dev.cert.pem").exists(), "nothing half-written");
    // The certificate alone existing is refused the same way.
    std::fs::remove_file(&key).unwrap();
    std::fs::write(dir.join("dev.cert.pem"), "old").unwrap();
    assert_eq!(new_device(&dir.join("dev"), &[]).code, 2);
    assert!(!key.exists());
}

#[cfg(unix)]
#[test]
fn force_replaces_an_existing_key_with_a_fresh_owner_only_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("key_files_force");
    let key = dir.join("dev.key.pem");
    std::fs::write(&key, "old key").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = new_device(&dir.join("dev"), &["--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
    assert_eq!(mode(&key), 0o600, "the old file's mode is not kept");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_never_written_through_even_with_force() {
    let dir = temp_dir("key_files_symlink");
    let target = dir.join("elsewhere");
    std::fs::write(&target, "not a key").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("dev.key.pem")).unwrap();
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling.key.pem")).unwrap();
    for (prefix, extra) in [
        ("dev", &[][..]),
        ("dev", &["--force"][..]),
        ("dangling", &[][..]),
    ] {
        let run = new_device(&dir.join(prefix), extra);
        assert_eq!(run.code, 2, "{prefix} {extra:?}");
        assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a key");
    assert!(!dir.join("missing").exists());
}

#[test]
fn out_naming_a_directory_is_refused() {
    let dir = temp_dir("key_files_dir");
    for prefix in [dir.display().to_string(), format!("{}/", dir.display())] {
        let run = iot(&["x509", "new-ca", "--out", &prefix]);
        assert_eq!(run.code, 2, "{prefix}");
        assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
