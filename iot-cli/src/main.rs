//! `iot`: the command line of the iot-auth crates.
//!
//! This is the only crate of the workspace that does I/O: it reads arguments, files, stdin,
//! environment variables and the clock, and prints. Every decision is made by the library
//! crates. The shared pieces every subcommand uses (see the crate README, "Writing a
//! subcommand"):
//!
//! * [`exit`]: the exit-status contract (0 / 1 / 2) and [`exit::Failure`];
//! * [`output`]: text or one JSON object, verdicts, warnings, closed pipes and full disks;
//! * [`input`]: files, `-` for stdin, secrets from a value, `@FILE`, `-` or the environment;
//! * [`when`]: times (Unix or RFC 3339) and durations (`1h`, `30d`), printed both ways;
//! * [`certs`]: certificate files as people have them (BOM, trailing text, PKCS#12 hints).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod certs;
mod demo;
mod device;
mod dps;
mod exit;
mod hub;
mod hub_file;
mod input;
mod meta;
mod output;
mod sas;
mod serve;
mod when;
mod x509;

pub(crate) use exit::{Exit, Failure, Outcome};
pub(crate) use output::Out;

#[derive(Parser)]
#[command(
    name = "iot",
    version,
    long_version = meta::LONG_VERSION,
    about = "Azure IoT Hub and DPS attestation, authentication and provisioning, offline",
    max_term_width = 100
)]
struct Cli {
    /// Print one JSON object (errors too, as {"error":{"reason":..,"message":..}}).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Command groups are wired here, one line each (see ../README.md for the list).
    /// SAS tokens: sign, verify, inspect.
    Sas {
        #[command(subcommand)]
        cmd: sas::Command,
    },
    /// DPS: derive group-enrollment device keys, decode device MQTT messages.
    Dps {
        #[command(subcommand)]
        cmd: dps::Command,
    },
    /// X.509: thumbprints, inspection, chain verification, proof of possession, test PKI.
    X509 {
        #[command(subcommand)]
        cmd: x509::Command,
    },
    /// IoT Hub: decide device, module and back-end (service) connections against a hub file.
    Hub {
        #[command(subcommand)]
        cmd: hub::Command,
    },
    /// A device over real MQTT/TLS: provision with DPS, send telemetry, run the
    /// provision-or-connect loop.
    Device {
        #[command(subcommand)]
        cmd: device::Command,
    },
    /// The DPS test-to-production workflow, in memory, with fresh keys and certificates.
    Demo(demo::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(meta::CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    Man(meta::ManArgs),
    /// A local IoT Hub + DPS over TLS for the unmodified SDKs; `serve export`, `serve events`.
    Serve(Box<serve::Args>),
}

fn main() -> ExitCode {
    // `--json` decides how even a usage error is reported, so look for it before parsing.
    let json = std::env::args_os()
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    let matches = match meta::command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => return meta::usage_error(&err, json),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => return meta::usage_error(&err, json),
    };
    let out = Out::new(cli.json);
    let outcome = match cli.command {
        Command::Sas { cmd } => sas::run(cmd, out),
        Command::Dps { cmd } => dps::run(cmd, out),
        Command::X509 { cmd } => x509::run(cmd, out),
        Command::Hub { cmd } => hub::run(cmd, out),
        Command::Demo(args) => demo::run(&args, out),
        Command::Completions(args) => meta::completions(&args, out),
        Command::Man(args) => meta::man(&args, out),
        Command::Serve(args) => serve::run(*args, out),
        Command::Device { cmd } => device::run(cmd, &matches, out),
    };
    output::finish(outcome, cli.json)
}

/// The clap command tree, before the help decorations of [`meta::command`].
fn bare_command() -> clap::Command {
    Cli::command()
}
