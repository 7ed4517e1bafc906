//! The command line about itself: `--version`, usage errors, exit codes in every help text,
//! shell completions and man pages.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap_complete::Shell;
use serde_json::json;

use crate::exit::{BAD_INPUT, Exit, Failure, Outcome};
use crate::output::Out;

/// `iot --version`: the versions of the iot-auth crates and notable dependencies this binary
/// was built with, and its enabled features (written by `build.rs` from `Cargo.lock`).
pub(crate) const LONG_VERSION: &str = include_str!(concat!(env!("OUT_DIR"), "/long_version.txt"));

/// Appended to every command's help.
const EXIT_CODES: &str = "Exit status: 0 success or accepted, 1 checked and rejected (the \
reason is printed), 2 bad usage, unreadable input or an output that could not be written.";

/// The full command tree: every command's help ends with the exit codes.
pub(crate) fn command() -> clap::Command {
    with_exit_codes(crate::bare_command())
}

fn with_exit_codes(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let mut cmd = cmd.after_help(EXIT_CODES);
    for name in names {
        cmd = cmd.mut_subcommand(name, with_exit_codes);
    }
    cmd
}

/// Reports a clap error: help and `--version` go to stdout with status 0; a usage error is
/// `error: ...` on stderr with status 2 (and a JSON error object on stdout with `--json`).
pub(crate) fn usage_error(err: &clap::Error, json: bool) -> ExitCode {
    if !err.use_stderr() {
        // --help / --version go through the same writer as every output: a closed pipe ends
        // quietly, any other write failure (a full disk) is `error: ...` and status 2.
        use std::io::IsTerminal as _;
        let rendered = err.render();
        let text = if std::io::stdout().is_terminal() {
            rendered.ansi().to_string()
        } else {
            rendered.to_string()
        };
        return crate::output::finish(Out::new(false).text(&text).map(|()| Exit::Ok), false);
    }
    let _ = err.print();
    if json {
        let rendered = err.render().to_string();
        let mut lines = rendered.lines();
        let mut message = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        // "the following required arguments were not provided:" lists them on the next
        // lines: the JSON message names every one too.
        if message.ends_with(':') {
            let listed: Vec<&str> = lines
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            message = format!("{message} {}", listed.join(", "));
        }
        let reason = match err.kind() {
            ErrorKind::MissingRequiredArgument => "missing_argument",
            ErrorKind::UnknownArgument => "unknown_argument",
            ErrorKind::InvalidValue | ErrorKind::ValueValidation => "invalid_value",
            ErrorKind::ArgumentConflict => "argument_conflict",
            ErrorKind::InvalidSubcommand => "unknown_command",
            ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                "missing_command"
            }
            _ => "usage",
        };
        let object = json!({ "error": { "reason": reason, "message": message } });
        let _ = Out::new(true).value(&object);
    }
    ExitCode::from(BAD_INPUT)
}

/// Arguments of `iot completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    shell: Shell,
}

/// Arguments of `iot man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Write `iot.1`, `iot-sas.1`, `iot-sas-sign.1`, ... into this directory instead of
    /// printing the `iot(1)` page.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `iot completions SHELL`: the script on stdout (`iot completions bash > /etc/...`).
pub(crate) fn completions(args: &CompletionsArgs, out: Out) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command(), "iot", &mut script);
    let text = String::from_utf8(script)
        .map_err(|_| Failure::bad("internal", "completion script is not UTF-8"))?;
    if out.is_json() {
        out.value(&json!({ "shell": args.shell.to_string(), "script": text }))?;
    } else {
        out.text(&text)?;
    }
    Ok(Exit::Ok)
}

/// `iot man [--out DIR]`.
pub(crate) fn man(args: &ManArgs, out: Out) -> Outcome {
    let cmd = command();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(Failure::Write)?;
        let text = String::from_utf8_lossy(&page);
        return if out.is_json() {
            out.value(&json!({ "page": text }))?;
            Ok(Exit::Ok)
        } else {
            out.text(&text)?;
            Ok(Exit::Ok)
        };
    };
    if dir.is_file() {
        return Err(Failure::usage(format_args!(
            "--out: {} is a file, expected a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|err| Failure::unwritable(dir, &err))?;
    let mut written = Vec::new();
    write_pages(&cmd, "", dir, &mut written)?;
    out.print(
        || {
            let mut text = String::new();
            for page in &written {
                text.push_str(page);
                text.push('\n');
            }
            text
        },
        || json!({ "pages": written }),
    )?;
    Ok(Exit::Ok)
}

/// Writes `prefix-name.1` for `cmd` and each subcommand.
fn write_pages(
    cmd: &clap::Command,
    prefix: &str,
    dir: &std::path::Path,
    written: &mut Vec<String>,
) -> Result<(), Failure> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(name.clone()))
        .render(&mut page)
        .map_err(Failure::Write)?;
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(&page))
        .map_err(|err| Failure::unwritable(&path, &err))?;
    written.push(path.display().to_string());
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &name, dir, written)?;
    }
    Ok(())
}
