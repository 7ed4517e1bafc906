//! Arguments of `iot device provision | send | run` (clap derive).

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct DpsCredentialArgs {
    /// The device's own symmetric key (base64): the value, @FILE or - for stdin.
    #[arg(
        long,
        env = "IOT_SYMMETRIC_KEY",
        hide_env_values = true,
        required_unless_present_any = ["group_key", "cert"],
        conflicts_with_all = ["group_key", "cert"]
    )]
    pub(crate) symmetric_key: Option<String>,
    /// An enrollment group key (base64): the device key is derived from it and the
    /// registration ID. The value, @FILE or - for stdin.
    #[arg(
        long,
        env = "IOT_GROUP_KEY",
        hide_env_values = true,
        conflicts_with = "cert"
    )]
    pub(crate) group_key: Option<String>,
    /// Client certificate chain, PEM (leaf first); a path, @PATH or -.
    #[arg(short, long, requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert, PEM; a path, @PATH or -.
    #[arg(long, requires = "cert")]
    pub(crate) key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DpsArgs {
    /// The DPS ID scope.
    #[arg(long, value_name = "SCOPE")]
    pub(crate) id_scope: String,
    /// The registration ID (for X.509, the certificate's CN).
    #[arg(short, long, value_name = "ID")]
    pub(crate) registration_id: String,
    #[command(flatten)]
    pub(crate) credential: DpsCredentialArgs,
    /// DPS device endpoint host.
    #[arg(long, default_value = "global.azure-devices-provisioning.net")]
    pub(crate) endpoint: String,
    /// Port (default 8883, or 443 with --websockets).
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// CA certificates (PEM) to trust instead of the system store.
    #[arg(long)]
    pub(crate) ca: Option<PathBuf>,
    /// MQTT over WebSockets (wss://HOST:443/$iothub/websocket).
    #[arg(long)]
    pub(crate) websockets: bool,
    /// Custom allocation payload (JSON).
    #[arg(long)]
    pub(crate) payload: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub(crate) timeout: u64,
}

/// Arguments of `iot device provision`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProvisionArgs {
    #[command(flatten)]
    pub(crate) dps: DpsArgs,
}

/// Arguments of `iot device send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// The hub's host name (used in the token and the MQTT user name).
    #[arg(long)]
    pub(crate) hub: String,
    /// Device ID.
    #[arg(short, long)]
    pub(crate) device_id: String,
    /// Module ID.
    #[arg(short, long)]
    pub(crate) module_id: Option<String>,
    /// The device's symmetric key (base64): the value, @FILE or - for stdin.
    #[arg(
        long,
        env = "IOT_SYMMETRIC_KEY",
        hide_env_values = true,
        required_unless_present = "cert",
        conflicts_with = "cert"
    )]
    pub(crate) symmetric_key: Option<String>,
    /// Client certificate chain, PEM (leaf first); a path, @PATH or -.
    #[arg(short, long, requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert, PEM; a path, @PATH or -.
    #[arg(long, requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Where the socket goes instead of the hub (a gateway, or localhost for `iot serve`).
    #[arg(long)]
    pub(crate) gateway: Option<String>,
    /// Port (default 8883, or 443 with --websockets).
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// CA certificates (PEM) to trust instead of the system store.
    #[arg(long)]
    pub(crate) ca: Option<PathBuf>,
    /// MQTT over WebSockets.
    #[arg(long)]
    pub(crate) websockets: bool,
    /// The message body.
    #[arg(long)]
    pub(crate) message: String,
    /// An application property, NAME=VALUE; repeatable.
    #[arg(long = "property", value_name = "NAME=VALUE")]
    pub(crate) properties: Vec<String>,
    /// How many times to send it.
    #[arg(long, default_value_t = 1)]
    pub(crate) count: u32,
}

/// Arguments of `iot device run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) dps: DpsArgs,
    /// File that keeps the assignment between runs (JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) state: PathBuf,
    /// Where the hub socket goes instead of the assigned hub (localhost for `iot serve`).
    #[arg(long)]
    pub(crate) gateway: Option<String>,
    /// Hub port (default 8883, or 443 with --websockets).
    #[arg(long)]
    pub(crate) hub_port: Option<u16>,
    /// Seconds between messages.
    #[arg(long, default_value_t = 10)]
    pub(crate) interval: u64,
    /// Stop after this many messages (default: until stopped).
    #[arg(long)]
    pub(crate) count: Option<u32>,
    /// The message body.
    #[arg(long, default_value = "{\"hello\":\"from iot device run\"}")]
    pub(crate) message: String,
}
