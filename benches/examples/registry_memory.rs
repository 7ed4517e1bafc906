//! Resident memory of iot-hub-auth's `InMemoryRegistry` per `sas` identity, at 1,000,000
//! identities (the `hub` benches' registry: 36-character device IDs, 32-byte keys).
//!
//! Reads the process's resident set size (`VmRSS` of `/proc/self/status`, Linux) before and
//! after building the registry, and prints the difference per identity. Then checks that one
//! device still connects. Run:
//!
//! ```sh
//! cargo run --release -p iot-benches --example registry_memory
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use iot_benches::hub::{HubFixture, IDENTITIES};

/// `VmRSS` in bytes, or `None` where `/proc/self/status` does not exist.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() {
    let Some(before) = resident_bytes() else {
        eprintln!("no /proc/self/status: resident memory is measured on Linux only");
        return;
    };
    let fixture = HubFixture::new();
    let after = resident_bytes().unwrap_or(before);
    let per_identity = after.saturating_sub(before) as f64 / IDENTITIES as f64;
    assert!(fixture.decide_mqtt().is_allowed());
    println!(
        "{IDENTITIES} sas identities: {:.0} MB resident for the registry, {per_identity:.0} bytes per identity (process {:.0} MB before, {:.0} MB after)",
        after.saturating_sub(before) as f64 / 1e6,
        before as f64 / 1e6,
        after as f64 / 1e6,
    );
}
