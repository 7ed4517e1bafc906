//! Arguments of `iot device provision | send | run` (clap derive), and the checks that refuse
//! values which cannot work before any socket is opened.
//!
//! Numbers are bounded by clap (`--port 0`, `--count 0` are usage errors); identifiers are
//! checked by [`DpsArgs::check`] and [`SendArgs::check`] with the rules the services apply.

use std::path::{Path, PathBuf};

use clap::builder::RangedU64ValueParser;

use crate::Failure;
use crate::when::parse_ttl;

/// `--port`, `--hub-port`: a port a socket can dial (1 to 65535).
fn port() -> RangedU64ValueParser<u16> {
    RangedU64ValueParser::<u16>::new().range(1..=65_535)
}

/// `--count`: at least one message.
fn count() -> RangedU64ValueParser<u32> {
    RangedU64ValueParser::<u32>::new().range(1..=u64::from(u32::MAX))
}

/// `--interval`, `--timeout`: a duration longer than zero (bare numbers are seconds).
pub(crate) fn positive_duration(text: &str) -> Result<u64, String> {
    match parse_ttl(text)? {
        0 => Err("must be longer than zero".to_owned()),
        secs => Ok(secs),
    }
}

/// The device's credential for DPS: exactly one of a key, a group key or a certificate.
///
/// A flag on the command line wins over an environment variable, so the group does not make
/// its members conflict (an environment variable counts as given for clap): [`Credentials`]
/// refuses two credentials given as flags, or two taken from the environment.
#[derive(Debug, clap::Args)]
#[group(skip)]
#[command(group(
    clap::ArgGroup::new("credential")
        .args(["symmetric_key", "group_key", "cert"])
        .required(true)
        .multiple(true)
))]
pub(crate) struct DpsCredentialArgs {
    /// The device's own symmetric key (base64): the value, @FILE or - for stdin.
    #[arg(
        long,
        env = "IOT_SYMMETRIC_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) symmetric_key: Option<String>,
    /// An enrollment group key (base64): the device key is derived from it and the
    /// registration ID. The value, @FILE or - for stdin.
    #[arg(
        short,
        long,
        env = "IOT_GROUP_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) group_key: Option<String>,
    /// Client certificate chain, PEM (leaf first, CN = registration ID); a path, @PATH or -.
    #[arg(short, long, requires = "key", value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert, PEM; a path, @PATH or -.
    #[arg(long, requires = "cert", value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
}

/// Where and how the device reaches DPS.
#[derive(Debug, clap::Args)]
pub(crate) struct DpsArgs {
    /// The DPS ID scope (ASCII letters and digits, such as 0ne00000A0A).
    #[arg(long, value_name = "SCOPE")]
    pub(crate) id_scope: String,
    /// The registration ID (for X.509, the certificate's CN): 1 to 128 ASCII letters, digits
    /// and - . _ :, ending with a letter, a digit or -.
    #[arg(short, long, value_name = "ID")]
    pub(crate) registration_id: String,
    #[command(flatten)]
    pub(crate) credential: DpsCredentialArgs,
    /// DPS device endpoint host.
    #[arg(
        long,
        value_name = "HOST",
        default_value = "global.azure-devices-provisioning.net"
    )]
    pub(crate) endpoint: String,
    /// Port (default 8883, or 443 with --websockets).
    #[arg(long, value_name = "PORT", value_parser = port())]
    pub(crate) port: Option<u16>,
    /// CA certificates (PEM) to trust instead of the system store; a path, @PATH or -.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// MQTT over WebSockets (wss://HOST:443/$iothub/websocket).
    #[arg(long)]
    pub(crate) websockets: bool,
    /// Custom allocation payload: JSON text, @FILE or - for stdin.
    #[arg(short, long, value_name = "JSON")]
    pub(crate) payload: Option<String>,
    /// Give up after this long (seconds, or a duration such as 2m).
    #[arg(long, value_name = "DURATION", default_value = "120", value_parser = positive_duration)]
    pub(crate) timeout: u64,
}

impl DpsArgs {
    /// Refuses an ID scope, registration ID or endpoint that cannot work.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        if self.id_scope.is_empty() || !self.id_scope.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Failure::bad(
                "invalid_id_scope",
                format_args!(
                    "--id-scope {:?}: an ID scope is ASCII letters and digits, such as \
                     0ne00000A0A",
                    self.id_scope
                ),
            ));
        }
        iot_dps_service::validate_registration_id(&self.registration_id).map_err(|err| {
            Failure::bad(
                "invalid_registration_id",
                format_args!("--registration-id: {err}"),
            )
        })?;
        not_empty("--endpoint", &self.endpoint)
    }

    /// The flags of this command that may read stdin.
    pub(crate) fn stdin_readers(&self) -> Vec<(&'static str, Option<&str>)> {
        let c = &self.credential;
        vec![
            ("--symmetric-key", c.symmetric_key.as_deref()),
            ("--group-key", c.group_key.as_deref()),
            ("--cert", c.cert.as_deref().and_then(Path::to_str)),
            ("--key", c.key.as_deref().and_then(Path::to_str)),
            ("--ca", self.ca.as_deref().and_then(Path::to_str)),
            ("--payload", self.payload.as_deref()),
        ]
    }
}

fn not_empty(flag: &str, value: &str) -> Result<(), Failure> {
    if value.trim().is_empty() {
        return Err(Failure::usage(format_args!("{flag} must not be empty")));
    }
    Ok(())
}

/// Arguments of `iot device provision`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProvisionArgs {
    #[command(flatten)]
    pub(crate) dps: DpsArgs,
}

/// Arguments of `iot device send`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("hub_credential")
        .args(["symmetric_key", "cert"])
        .required(true)
        .multiple(true)
))]
pub(crate) struct SendArgs {
    /// The hub's host name (used in the token and the MQTT user name).
    #[arg(long, value_name = "HOST")]
    pub(crate) hub: String,
    /// Device ID.
    #[arg(short, long, value_name = "ID")]
    pub(crate) device_id: String,
    /// Module ID.
    #[arg(short, long, value_name = "ID")]
    pub(crate) module_id: Option<String>,
    /// The device's symmetric key (base64): the value, @FILE or - for stdin.
    #[arg(
        long,
        env = "IOT_SYMMETRIC_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) symmetric_key: Option<String>,
    /// Client certificate chain, PEM (leaf first); a path, @PATH or -.
    #[arg(short, long, requires = "key", value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert, PEM; a path, @PATH or -.
    #[arg(long, requires = "cert", value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Where the socket goes instead of the hub (a gateway, or localhost for `iot serve`).
    #[arg(long, value_name = "HOST")]
    pub(crate) gateway: Option<String>,
    /// Port (default 8883, or 443 with --websockets).
    #[arg(long, value_name = "PORT", value_parser = port())]
    pub(crate) port: Option<u16>,
    /// CA certificates (PEM) to trust instead of the system store; a path, @PATH or -.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// MQTT over WebSockets.
    #[arg(long)]
    pub(crate) websockets: bool,
    /// The message body.
    #[arg(long, value_name = "TEXT")]
    pub(crate) message: String,
    /// An application property, NAME=VALUE; repeatable.
    #[arg(long = "property", value_name = "NAME=VALUE")]
    pub(crate) properties: Vec<String>,
    /// How many times to send it (at least 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = count())]
    pub(crate) count: u32,
}

impl SendArgs {
    /// Refuses a hub, device, module or gateway that cannot work.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        iot_hub_auth::validate_host_name(&self.hub)
            .map_err(|err| Failure::bad("invalid_host_name", format_args!("--hub: {err}")))?;
        check_device_id("--device-id", &self.device_id)?;
        if let Some(module) = &self.module_id {
            iot_hub_auth::validate_module_id(module).map_err(|err| {
                Failure::bad("invalid_module_id", format_args!("--module-id: {err}"))
            })?;
        }
        if let Some(gateway) = &self.gateway {
            not_empty("--gateway", gateway)?;
        }
        Ok(())
    }

    /// The flags of this command that may read stdin.
    pub(crate) fn stdin_readers(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("--symmetric-key", self.symmetric_key.as_deref()),
            ("--cert", self.cert.as_deref().and_then(Path::to_str)),
            ("--key", self.key.as_deref().and_then(Path::to_str)),
            ("--ca", self.ca.as_deref().and_then(Path::to_str)),
        ]
    }
}

/// A device ID IoT Hub accepts (1 to 128 ASCII letters, digits and `-:.+%_#*?!(),=@;$'`).
pub(crate) fn check_device_id(flag: &str, id: &str) -> Result<(), Failure> {
    iot_hub_auth::validate_device_id(id)
        .map_err(|err| Failure::bad("invalid_device_id", format_args!("{flag}: {err}")))
}

/// Arguments of `iot device run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) dps: DpsArgs,
    /// File that keeps the assignment between runs (JSON; created).
    #[arg(long, value_name = "FILE")]
    pub(crate) state: PathBuf,
    /// Where the hub socket goes instead of the assigned hub (localhost for `iot serve`).
    #[arg(long, value_name = "HOST")]
    pub(crate) gateway: Option<String>,
    /// Hub port (default 8883, or 443 with --websockets).
    #[arg(long, value_name = "PORT", value_parser = port())]
    pub(crate) hub_port: Option<u16>,
    /// Time between messages (seconds, or a duration such as 1m).
    #[arg(long, value_name = "DURATION", default_value = "10", value_parser = positive_duration)]
    pub(crate) interval: u64,
    /// Stop after this many messages (at least 1; default: until stopped).
    #[arg(long, value_name = "N", value_parser = count())]
    pub(crate) count: Option<u32>,
    /// The message body.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "{\"hello\":\"from iot device run\"}"
    )]
    pub(crate) message: String,
}

impl RunArgs {
    /// Refuses values that cannot work (see [`DpsArgs::check`]) and a --state that is a
    /// directory.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        self.dps.check()?;
        if self.state.as_os_str().is_empty() {
            return Err(Failure::usage("--state must not be empty"));
        }
        if self.state.is_dir() {
            return Err(Failure::usage(format_args!(
                "--state {}: is a directory; give the file that keeps the assignment, such as \
                 {}/assignment.json",
                self.state.display(),
                self.state.display()
            )));
        }
        if let Some(gateway) = &self.gateway {
            not_empty("--gateway", gateway)?;
        }
        Ok(())
    }
}

/// Which credential flags were given, and how: on the command line or by an environment
/// variable.
pub(crate) struct Credentials<'a> {
    matches: Option<&'a clap::ArgMatches>,
}

/// The credential a command uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// `--symmetric-key` (or `IOT_SYMMETRIC_KEY`).
    SymmetricKey,
    /// `--group-key` (or `IOT_GROUP_KEY`).
    GroupKey,
    /// `--cert` with `--key`.
    Cert,
}

impl<'a> Credentials<'a> {
    /// The matches of the `iot device <command>` that ran.
    pub(crate) fn new(root: &'a clap::ArgMatches) -> Self {
        let matches = root
            .subcommand_matches("device")
            .and_then(clap::ArgMatches::subcommand)
            .map(|(_, sub)| sub);
        Self { matches }
    }

    fn source(&self, id: &str) -> Option<clap::parser::ValueSource> {
        self.matches
            .and_then(|m| m.try_contains_id(id).ok().filter(|c| *c).map(|_| m))
            .and_then(|m| m.value_source(id))
    }

    /// The one credential among `given` (clap id, flag, environment variable, choice): a flag
    /// wins over the environment; two flags, or two variables and no flag, are refused.
    pub(crate) fn choose(
        &self,
        given: &[(&str, &str, Option<&str>, Chosen)],
    ) -> Result<Chosen, Failure> {
        use clap::parser::ValueSource;
        let present: Vec<_> = given
            .iter()
            .filter_map(|&(id, flag, env, chosen)| {
                self.source(id).map(|source| (source, flag, env, chosen))
            })
            .collect();
        let on_line: Vec<_> = present
            .iter()
            .filter(|(source, ..)| *source == ValueSource::CommandLine)
            .collect();
        match on_line.as_slice() {
            [(_, _, _, chosen)] => return Ok(*chosen),
            [] => {}
            several => {
                let flags: Vec<&str> = several.iter().map(|(_, flag, ..)| *flag).collect();
                return Err(Failure::bad(
                    "argument_conflict",
                    format_args!("{}: give only one credential", flags.join(", ")),
                ));
            }
        }
        match present.as_slice() {
            [(_, _, _, chosen)] => Ok(*chosen),
            [] => Err(Failure::bad(
                "missing_argument",
                "no credential: give --symmetric-key, --group-key or --cert with --key",
            )),
            several => {
                let vars: Vec<&str> = several.iter().filter_map(|(_, _, env, _)| *env).collect();
                Err(Failure::bad(
                    "argument_conflict",
                    format_args!(
                        "{} are both set; choose one with its flag, or unset the other",
                        vars.join(" and ")
                    ),
                ))
            }
        }
    }
}
