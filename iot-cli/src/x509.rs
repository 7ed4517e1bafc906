//! `iot x509`: thumbprints, inspection, chain verification, proof of possession and a test PKI.
//!
//! Every decision is made by `iot-x509` (thumbprints: reference §7.1; chains: §7.3; proof of
//! possession: §7.4); this module holds the command line, [`check`] the verdicts,
//! [`inspect`] the certificate view and [`pki`] the test PKI with its [`key_file`] writer.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::input::one_stdin;
use crate::when::{parse_days, parse_time};
use crate::{Failure, Out, Outcome};

mod check;
mod inspect;
mod key_file;
mod pki;

/// A certificate file named either way: `iot x509 thumbprint FILE` or `--cert FILE`.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct CertFile {
    /// Certificate file, PEM (a bundle too) or DER; - for stdin.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Certificate file (the positional FILE, as in `verify` and `hub authorize`); - for stdin.
    #[arg(short, long, value_name = "FILE")]
    cert: Option<PathBuf>,
}

impl CertFile {
    /// The path given, or a usage error naming both forms.
    fn path(&self) -> Result<&Path, Failure> {
        self.cert
            .as_deref()
            .or(self.file.as_deref())
            .ok_or_else(|| {
                Failure::bad(
                    "missing_argument",
                    "a certificate is needed: --cert FILE (or FILE)",
                )
            })
    }
}

/// `iot x509 ...`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a certificate's thumbprint: upper-case hex, no colons (SHA-1 unless --sha256).
    /// With --json both thumbprints are printed.
    Thumbprint {
        #[command(flatten)]
        cert: CertFile,
        /// SHA-256 instead of SHA-1.
        #[arg(long)]
        sha256: bool,
    },
    /// Show every certificate of a file: subject, SANs, issuer, validity, key type and size,
    /// CA flag and path length, key usage, extended key usage by name, thumbprints.
    Inspect {
        #[command(flatten)]
        cert: CertFile,
    },
    /// Verify a device chain against trusted CAs (exit 0 accepted, 1 rejected, 2 bad input).
    Verify {
        /// Device certificate (a bundle's further certificates are presented intermediates); - for
        /// stdin.
        #[arg(short, long, value_name = "FILE")]
        cert: PathBuf,
        /// Registered, verified CA certificates (PEM bundle or DER); repeatable; - for stdin.
        #[arg(long, required = true, value_name = "FILE")]
        trust: Vec<PathBuf>,
        /// CA certificates registered but not verified (proof of possession pending); repeatable;
        /// - for stdin.
        #[arg(long, value_name = "FILE")]
        unverified: Vec<PathBuf>,
        /// Intermediates the device presents (PEM bundle or DER); repeatable; - for stdin.
        #[arg(long, value_name = "FILE")]
        chain: Vec<PathBuf>,
        /// Verification time: Unix seconds or RFC 3339 (default: the clock).
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
        /// Also require the leaf CN to equal this device ID.
        #[arg(short, long)]
        device_id: Option<String>,
        /// With --device-id: the CN must be `deviceId/moduleId`.
        #[arg(short, long, requires = "device_id")]
        module_id: Option<String>,
    },
    /// Check a proof-of-possession verification certificate for a CA (exit 0 proven,
    /// 1 rejected, 2 bad input).
    VerifyPop {
        /// The CA certificate being verified; - for stdin.
        #[arg(long, value_name = "FILE")]
        ca: PathBuf,
        /// The verification certificate (CN = code, signed by the CA key); - for stdin.
        #[arg(short, long, value_name = "FILE")]
        cert: PathBuf,
        /// The verification code the service issued.
        #[arg(long)]
        code: String,
        /// Verification time: Unix seconds or RFC 3339 (default: the clock).
        #[arg(long, visible_alias = "at", value_parser = parse_time)]
        now: Option<u64>,
    },
    /// Make a self-signed test root CA (certGen.sh profile, P-256).
    NewCa {
        #[command(flatten)]
        out: OutArgs,
        /// Subject CN.
        #[arg(long, default_value = "Azure IoT Hub CA Cert Test Only")]
        cn: String,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a test intermediate CA signed by --ca/--ca-key.
    NewIntermediate {
        #[command(flatten)]
        out: OutArgs,
        /// Subject CN.
        #[arg(long, default_value = "Azure IoT Hub Intermediate Cert Test Only")]
        cn: String,
        #[command(flatten)]
        issuer: IssuerArgs,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a device certificate, CN = device ID, signed by --ca/--ca-key (self-signed
    /// without them).
    NewDevice {
        #[command(flatten)]
        out: OutArgs,
        /// Device ID (becomes the CN; `deviceId/moduleId` for a module).
        #[arg(short, long)]
        device_id: String,
        /// Issuing CA certificate (PEM; - for stdin); omit both --ca and --ca-key for a self-signed
        /// device.
        #[arg(long, requires = "ca_key", value_name = "FILE")]
        ca: Option<PathBuf>,
        /// Issuing CA private key (PEM file; - for stdin).
        #[arg(long, requires = "ca", value_name = "FILE")]
        ca_key: Option<PathBuf>,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a proof-of-possession verification certificate: CN = code, signed by --ca/--ca-key.
    NewVerification {
        #[command(flatten)]
        out: OutArgs,
        /// The verification code (becomes the CN exactly).
        #[arg(long)]
        code: String,
        #[command(flatten)]
        issuer: IssuerArgs,
        #[command(flatten)]
        validity: ValidityArgs,
    },
}

/// Where a generated certificate and key go.
#[derive(Debug, clap::Args)]
pub(crate) struct OutArgs {
    /// Output prefix: writes PREFIX.cert.pem and PREFIX.key.pem (the key owner-only, 0600).
    #[arg(short, long, value_name = "PREFIX")]
    out: PathBuf,
    /// Replace existing output files (never through a symbolic link).
    #[arg(short, long)]
    force: bool,
}

/// The issuing CA of a generated certificate.
#[derive(Debug, clap::Args)]
pub(crate) struct IssuerArgs {
    /// Issuing CA certificate (PEM; - for stdin).
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,
    /// Issuing CA private key (PEM file; - for stdin).
    #[arg(long, value_name = "FILE")]
    ca_key: PathBuf,
}

/// Validity of a generated certificate.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidityArgs {
    /// Validity: days, or a duration such as 12h or 30d (certGen.sh uses 30 days).
    #[arg(long, default_value = "30", value_parser = parse_days)]
    days: u64,
    /// notBefore: Unix seconds or RFC 3339 (default: the clock).
    #[arg(long, visible_alias = "at", value_parser = parse_time)]
    now: Option<u64>,
}

/// `flag` once for each of `paths`, with its value.
fn each<'a>(flag: &'static str, paths: &'a [PathBuf]) -> Vec<(&'static str, Option<&'a str>)> {
    paths.iter().map(|p| (flag, p.to_str())).collect()
}

/// The file flags of a command that can read stdin, with their values, in reading order.
fn stdin_readers(cmd: &Command) -> Vec<(&'static str, Option<&str>)> {
    match cmd {
        // One file each: nothing else can take stdin first.
        Command::Thumbprint { .. } | Command::Inspect { .. } | Command::NewCa { .. } => Vec::new(),
        Command::Verify {
            cert,
            trust,
            unverified,
            chain,
            ..
        } => {
            let mut readers = vec![("--cert", cert.to_str())];
            readers.extend(each("--chain", chain));
            readers.extend(each("--trust", trust));
            readers.extend(each("--unverified", unverified));
            readers
        }
        Command::VerifyPop { ca, cert, .. } => {
            vec![("--ca", ca.to_str()), ("--cert", cert.to_str())]
        }
        Command::NewIntermediate { issuer, .. } | Command::NewVerification { issuer, .. } => vec![
            ("--ca", issuer.ca.to_str()),
            ("--ca-key", issuer.ca_key.to_str()),
        ],
        Command::NewDevice { ca, ca_key, .. } => vec![
            ("--ca", ca.as_deref().and_then(Path::to_str)),
            ("--ca-key", ca_key.as_deref().and_then(Path::to_str)),
        ],
    }
}

/// Runs one `iot x509` command.
pub(crate) fn run(cmd: Command, out: Out) -> Outcome {
    // Only one input can come from stdin: two file flags given `-` are refused before anything
    // is read or written (otherwise the first one would read stdin and the error would depend
    // on what it held).
    one_stdin(&stdin_readers(&cmd))?;
    match cmd {
        Command::Thumbprint { cert, sha256 } => check::thumbprint(cert.path()?, sha256, out),
        Command::Inspect { cert } => inspect::inspect(cert.path()?, out),
        Command::Verify {
            cert,
            trust,
            unverified,
            chain,
            now,
            device_id,
            module_id,
        } => {
            let files = check::ChainFiles {
                cert: &cert,
                trust: &trust,
                unverified: &unverified,
                chain: &chain,
            };
            let ids = device_id.as_deref().map(|d| (d, module_id.as_deref()));
            check::verify(&files, now, ids, out)
        }
        Command::VerifyPop {
            ca,
            cert,
            code,
            now,
        } => check::verify_pop(&ca, &cert, &code, now, out),
        Command::NewCa {
            out: to,
            cn,
            validity,
        } => pki::new_ca(&to, &cn, &validity, out),
        Command::NewIntermediate {
            out: to,
            cn,
            issuer,
            validity,
        } => pki::new_intermediate(&to, &cn, &issuer, &validity, out),
        Command::NewDevice {
            out: to,
            device_id,
            ca,
            ca_key,
            validity,
        } => {
            let issuer = ca.zip(ca_key).map(|(ca, ca_key)| IssuerArgs { ca, ca_key });
            pki::new_device(&to, &device_id, issuer.as_ref(), &validity, out)
        }
        Command::NewVerification {
            out: to,
            code,
            issuer,
            validity,
        } => pki::new_verification(&to, &code, &issuer, &validity, out),
    }
}
