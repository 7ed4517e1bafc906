//! Shared output helpers: plain text or one JSON object, and the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current Unix time in seconds, unless `override_secs` (`--now` / `--at`) was given.
pub(crate) fn now_or(override_secs: Option<u64>) -> u64 {
    override_secs.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// Prints one JSON object on stdout.
pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// Reports bad input on stderr and returns the matching exit status.
pub(crate) fn bad_input(message: impl std::fmt::Display) -> crate::Exit {
    eprintln!("error: {message}");
    crate::Exit::BadInput
}
