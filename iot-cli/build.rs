//! Writes `$OUT_DIR/long_version.txt` for `iot --version`: this crate's version, the resolved versions
//! of the iot-auth crates and of the dependencies that decide verdicts (read from the
//! `Cargo.lock` the build used), and the enabled features of this crate.

use std::fmt::Write as _;
use std::path::PathBuf;

/// The packages named in the long version, in this order.
const PACKAGES: &[&str] = &[
    "iot-sas",
    "iot-x509",
    "iot-hub-auth",
    "iot-dps-proto",
    "iot-dps-service",
    "rustls-webpki",
    "ring",
    "x509-parser",
    "hmac",
    "sha2",
];

/// Features iot-cli turns on in its library dependencies (kept in step with Cargo.toml).
const DEPENDENCY_FEATURES: &str = "iot-sas/std, iot-dps-proto/std, iot-x509/generate";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // A workspace build has the lock file one level up; a packaged crate has its own.
    let lock = [manifest.join("Cargo.lock"), manifest.join("../Cargo.lock")]
        .into_iter()
        .find(|path| path.is_file());
    let lock_text = lock
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default();
    if let Some(path) = &lock {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let own = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let mut text = format!("{own}\n");
    let mut crates = Vec::new();
    for name in PACKAGES {
        let version = locked_version(&lock_text, name).unwrap_or_else(|| "?".to_owned());
        crates.push(format!("{name} {version}"));
    }
    let _ = writeln!(text, "crates: {}", crates.join(", "));
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(key, _)| key.strip_prefix("CARGO_FEATURE_").map(str::to_lowercase))
        .collect();
    features.sort();
    let own_features = if features.is_empty() {
        "none".to_owned()
    } else {
        features.join(", ")
    };
    let _ = writeln!(text, "features: {own_features}");
    let _ = write!(text, "dependency features: {DEPENDENCY_FEATURES}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(err) = std::fs::write(out.join("long_version.txt"), text) {
        println!("cargo:warning=cannot write long_version.txt: {err}");
    }
}

/// The version of `name` in a Cargo.lock (`[[package]]` blocks of `name = ".."` then
/// `version = ".."` lines).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_owned());
        }
    }
    None
}
