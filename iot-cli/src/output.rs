//! Everything the CLI writes: plain text or one JSON object, the verdict convention, warnings,
//! and how a failure is reported.
//!
//! JSON convention (documented with its schema in the crate README):
//!
//! * one object per command run, on one line, keys in camelCase;
//! * checks (`sas verify`, `x509 verify`, `x509 verify-pop`, `hub authorize`,
//!   `hub authorize-service`) carry `accepted` (bool); a rejection adds `reason` (a stable
//!   snake_case code) and `message` (prose);
//! * a time is two keys: `name` (RFC 3339 UTC text, `null` past year 9999) and `nameUnix`
//!   (Unix seconds), see [`crate::when::put_time`];
//! * an error (status 2) is `{"error":{"reason":..,"message":..}}`.
//!
//! No command uses `println!`: a write to a closed pipe must not panic, and a write to a full
//! disk must be an error (status 2), so every byte goes through [`Out`].

use std::io::Write as _;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::exit::{BAD_INPUT, Exit, Failure, Outcome};

/// Where a command prints: text or JSON, chosen by the global `--json` flag.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    json: bool,
}

impl Out {
    /// Text output, or JSON output when `json` is set.
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether `--json` was given.
    pub(crate) fn is_json(self) -> bool {
        self.json
    }

    /// Writes `text` as is (text mode); callers end it with a newline.
    pub(crate) fn text(self, text: &str) -> Result<(), Failure> {
        write_stdout(text.as_bytes()).map_err(Failure::from)
    }

    /// Writes one JSON object on one line.
    pub(crate) fn value(self, value: &Value) -> Result<(), Failure> {
        let mut line = value.to_string();
        line.push('\n');
        self.text(&line)
    }

    /// Prints `text()` or `json()`, whichever the mode asks for (only that one is built).
    pub(crate) fn print(
        self,
        text: impl FnOnce() -> String,
        json: impl FnOnce() -> Value,
    ) -> Result<(), Failure> {
        if self.json {
            self.value(&json())
        } else {
            self.text(&text())
        }
    }

    /// A check that passed: `text` (one line, newline added), or `fields` with
    /// `"accepted": true`. Status 0.
    pub(crate) fn accepted(self, text: &str, mut fields: Value) -> Outcome {
        fields["accepted"] = json!(true);
        self.verdict(Exit::Ok, || format!("{text}\n"), fields)
    }

    /// A check that failed: `{word}: {message}` or
    /// `{"accepted":false,"reason":..,"message":..}` plus `extra`'s fields. Status 1.
    pub(crate) fn rejected(self, word: &str, reason: &str, message: &str, extra: Value) -> Outcome {
        let mut fields = json!({ "accepted": false, "reason": reason, "message": message });
        if let (Some(map), Value::Object(extra)) = (fields.as_object_mut(), extra) {
            map.extend(extra);
        }
        self.verdict(Exit::Rejected, || format!("{word}: {message}\n"), fields)
    }

    /// Prints a verdict; a closed pipe keeps the verdict's status.
    fn verdict(self, status: Exit, text: impl FnOnce() -> String, fields: Value) -> Outcome {
        match self.print(text, || fields) {
            Ok(()) => Ok(status),
            Err(Failure::BrokenPipe { .. }) => Err(Failure::BrokenPipe { status }),
            Err(other) => Err(other),
        }
    }
}

/// Writes to stdout and flushes, so that a failure is seen here and not lost at exit.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

/// A warning on stderr (`warning: ...`); the command goes on and its status is unchanged.
pub(crate) fn warn(message: impl std::fmt::Display) {
    // Nothing sensible is left to do when stderr itself is closed.
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Turns a command's outcome into the process status, reporting a failure on stderr (and as a
/// JSON error object on stdout with `--json`).
pub(crate) fn finish(outcome: Outcome, json: bool) -> ExitCode {
    match outcome {
        Ok(exit) => exit.into(),
        Err(Failure::BrokenPipe { status }) => status.into(),
        Err(Failure::Write(err)) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "error: cannot write the output: {err}"
            );
            ExitCode::from(BAD_INPUT)
        }
        Err(Failure::Bad { reason, message }) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {message}");
            if json {
                let object = json!({ "error": { "reason": reason, "message": message } });
                // The error is already on stderr; a closed stdout changes nothing.
                let _ = Out::new(true).value(&object);
            }
            ExitCode::from(BAD_INPUT)
        }
    }
}
