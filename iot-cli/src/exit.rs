//! The exit-status contract and the one error type every command returns.
//!
//! | status | meaning |
//! | --- | --- |
//! | 0 | success, or the credential was accepted |
//! | 1 | the input was checked and rejected (the reason is printed) |
//! | 2 | bad usage, unreadable input, a value that cannot work, or output that could not be written |
//!
//! A reader that closes the pipe early (`iot x509 inspect F | head -1`) is not an error: the
//! command stops writing and exits with the status its verdict already had.

use std::fmt::Display;
use std::path::Path;
use std::process::ExitCode;

/// The outcome of a command that ran to a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success, or the credential was accepted (status 0).
    Ok,
    /// The input was checked and rejected; the reason was printed (status 1).
    Rejected,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Ok => Self::SUCCESS,
            Exit::Rejected => Self::from(1),
        }
    }
}

/// Status 2: bad usage, unreadable input or an output failure.
pub(crate) const BAD_INPUT: u8 = 2;

/// Why a command could not reach a verdict (status 2), or why it stopped writing.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage or input: printed as `error: {message}` on stderr, and with `--json` also as
    /// `{"error":{"reason":..,"message":..}}` on stdout.
    Bad {
        /// Stable snake_case code (`usage`, `unreadable_file`, `not_a_certificate`, ...).
        reason: &'static str,
        /// Prose for a person.
        message: String,
    },
    /// The reader closed stdout: stop quietly.
    BrokenPipe {
        /// The status the command's verdict had (0 for commands that only print).
        status: Exit,
    },
    /// Writing to stdout failed for another reason (`>/dev/full`): `error: ...`, status 2.
    Write(std::io::Error),
}

impl Failure {
    /// A usage error: a flag value that cannot work (reason `usage`).
    pub(crate) fn usage(message: impl Display) -> Self {
        Self::bad("usage", message)
    }

    /// An error with its own stable reason code.
    pub(crate) fn bad(reason: &'static str, message: impl Display) -> Self {
        Self::Bad {
            reason,
            message: message.to_string(),
        }
    }

    /// A file (or stdin, `-`) that could not be read.
    pub(crate) fn unreadable(path: &Path, err: &std::io::Error) -> Self {
        let what = if path == Path::new("-") {
            "stdin".to_owned()
        } else {
            path.display().to_string()
        };
        let err = if err.kind() == std::io::ErrorKind::IsADirectory {
            "is a directory, expected a file".to_owned()
        } else {
            err.to_string()
        };
        Self::bad("unreadable_file", format_args!("{what}: {err}"))
    }

    /// A file that could not be written.
    pub(crate) fn unwritable(path: &Path, err: &std::io::Error) -> Self {
        Self::bad("unwritable_file", format_args!("{}: {err}", path.display()))
    }
}

/// What every command returns.
pub(crate) type Outcome = Result<Exit, Failure>;

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            Self::BrokenPipe { status: Exit::Ok }
        } else {
            Self::Write(err)
        }
    }
}
