//! `iot`: the command line of the iot-auth crates.
//!
//! This is the only crate of the workspace that does I/O: it reads arguments, files and the
//! clock, and prints. Every decision is made by the library crates.
//!
//! Exit status (the contract interop checks rely on): 0 = success or accepted,
//! 1 = checked and rejected (the reason is printed), 2 = bad usage or unreadable input.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod device;
mod dps;
mod hub;
mod output;
mod sas;
mod serve;
mod x509;

/// The outcome of a command, mapped to the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success, or the credential was accepted (status 0).
    Ok,
    /// The input was checked and rejected; the reason was printed (status 1).
    Rejected,
    /// Bad usage or unreadable input (status 2).
    BadInput,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Ok => Self::SUCCESS,
            Exit::Rejected => Self::from(1),
            Exit::BadInput => Self::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "iot",
    version,
    about = "Azure IoT Hub and DPS attestation, authentication and provisioning, offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    // Command groups are wired here, one line each (see ../README.md for the list).
    /// DPS device protocol: decode MQTT messages.
    Dps {
        #[command(subcommand)]
        cmd: dps::Command,
    },
    /// SAS tokens: sign, verify, inspect.
    Sas {
        #[command(subcommand)]
        cmd: sas::Command,
    },
    /// IoT Hub: authorize a device or module connection against a hub file.
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
    /// A local IoT Hub + DPS over TLS for the unmodified SDKs; `serve export`, `serve events`.
    Serve(Box<serve::Args>),
    /// X.509: thumbprints, chain verification, proof of possession, test PKI.
    X509 {
        #[command(subcommand)]
        cmd: x509::Command,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with exit 0, and usage errors to stderr.
            let usage_error = err.use_stderr();
            let _ = err.print();
            return if usage_error {
                Exit::BadInput.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let exit = match cli.command {
        Command::Dps { cmd } => dps::run(cmd),
        Command::Sas { cmd } => sas::run(cmd),
        Command::Hub { cmd } => hub::run(cmd),
        Command::Demo(args) => demo::run(&args),
        Command::Device { cmd } => device::run(cmd),
        Command::Serve(args) => serve::run(*args),
        Command::X509 { cmd } => x509::run(cmd),
    };
    exit.into()
}
