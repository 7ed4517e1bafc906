//! Reading what people give: files, stdin and secrets.
//!
//! * A file flag (`--cert`, `--hub`, `--ca-key`, `--payload`, ...) takes a path; `-` reads
//!   stdin, and `@PATH` is read like `PATH`, so that `@` always means "from this file".
//! * A secret flag (`--key`, `--secondary-key`, `--group-key`, `--password`, `--token`) takes
//!   the value itself, `@PATH` to read it from a file, or `-` to read it from stdin; trailing
//!   line breaks and spaces are dropped. Each also reads an environment variable when the flag
//!   is absent (`IOT_KEY`, ...; listed in each command's help), as `az` does with
//!   `AZURE_STORAGE_KEY`. A value on the command line is visible in `ps` and shell history;
//!   the other three forms are not.
//! * Only one input of a run can come from stdin.
//! * A UTF-8 byte-order mark at the start of a text file is skipped.
//!
//! Secret text lives in [`Secret`], which wipes its memory when dropped.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroizing;

use crate::exit::Failure;

/// Largest file the CLI reads (certificate bundles, hub files, payloads): 16 MiB.
pub(crate) const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// Secret text read from a flag, a file or stdin; wiped when dropped.
pub(crate) type Secret = Zeroizing<String>;

static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Reads stdin once per run; `flag` names who asked, for the error.
fn read_stdin(flag: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(Failure::usage(format_args!(
            "{flag}: stdin (`-`) was already read by another flag; only one input can come \
             from stdin"
        )));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Failure::unreadable(Path::new("-"), &err))?;
    check_len(Path::new("-"), bytes.len())?;
    Ok(bytes)
}

fn check_len(path: &Path, len: usize) -> Result<(), Failure> {
    if u64::try_from(len).map_or(true, |len| len > MAX_FILE_LEN) {
        return Err(Failure::bad(
            "input_too_large",
            format_args!("{}: larger than 16 MiB", path.display()),
        ));
    }
    Ok(())
}

/// The path a file flag names (`@PATH` is `PATH`).
pub(crate) fn file_path(flag_value: &Path) -> PathBuf {
    match flag_value.to_str().and_then(|s| s.strip_prefix('@')) {
        Some(rest) => PathBuf::from(rest),
        None => flag_value.to_path_buf(),
    }
}

/// Reads a file flag's bytes (`-` = stdin), with a leading UTF-8 byte-order mark removed.
pub(crate) fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    let path = file_path(path);
    let mut bytes = if path == Path::new("-") {
        read_stdin(flag)?.to_vec()
    } else {
        let file = std::fs::File::open(&path).map_err(|err| Failure::unreadable(&path, &err))?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| Failure::unreadable(&path, &err))?;
        check_len(&path, bytes.len())?;
        bytes
    };
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    Ok(bytes)
}

/// Reads a file flag as UTF-8 text (byte-order mark removed).
pub(crate) fn read_text(flag: &str, path: &Path) -> Result<String, Failure> {
    let bytes = read_file(flag, path)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::bad(
            "not_text",
            format_args!("{}: not UTF-8 text", file_path(path).display()),
        )
    })
}

/// Reads a secret file (a private key) as text, wiped when dropped.
pub(crate) fn read_secret_file(flag: &str, path: &Path) -> Result<Secret, Failure> {
    let bytes = Zeroizing::new(read_file(flag, path)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::bad(
            "not_text",
            format_args!("{flag}: {} is not UTF-8 text", file_path(path).display()),
        )
    })?;
    Ok(Zeroizing::new(text.to_owned()))
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Resolves a secret flag: the value, `@PATH` or `-` (see the module docs).
pub(crate) fn secret(flag: &str, value: &str) -> Result<Secret, Failure> {
    let text = if value == "-" {
        secret_text(flag, &read_stdin(flag)?)?
    } else if let Some(path) = value.strip_prefix('@') {
        let bytes = Zeroizing::new(read_file(flag, Path::new(path))?);
        secret_text(flag, &bytes)?
    } else {
        Zeroizing::new(value.to_owned())
    };
    if text.is_empty() {
        return Err(Failure::usage(format_args!("{flag}: the value is empty")));
    }
    Ok(text)
}

fn secret_text(flag: &str, bytes: &[u8]) -> Result<Secret, Failure> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::usage(format_args!("{flag}: the value is not UTF-8 text")))?;
    Ok(Zeroizing::new(text.trim_end().to_owned()))
}

/// Refuses a run where more than one of `flags` (name, value) reads stdin (`-` or `@-`),
/// before anything is read.
pub(crate) fn one_stdin(flags: &[(&str, Option<&str>)]) -> Result<(), Failure> {
    let readers: Vec<&str> = flags
        .iter()
        .filter(|(_, value)| matches!(value, Some("-" | "@-")))
        .map(|(flag, _)| *flag)
        .collect();
    if readers.len() > 1 {
        let (last, rest) = readers.split_last().unwrap_or((&"", &[]));
        let both = if rest.len() == 1 { "both" } else { "all" };
        return Err(Failure::usage(format_args!(
            "{} and {last} {both} read stdin (`-`); only one input can come from stdin",
            rest.join(", ")
        )));
    }
    Ok(())
}

/// Resolves an optional secret flag.
pub(crate) fn secret_opt(flag: &str, value: Option<&str>) -> Result<Option<Secret>, Failure> {
    value.map(|v| secret(flag, v)).transpose()
}
