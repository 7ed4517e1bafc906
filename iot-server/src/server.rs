//! The embedder's API: [`Server::start`] loads the state, prepares TLS, binds the listener and
//! returns a [`RunningServer`] with the bound addresses; [`RunningServer::shutdown`] stops it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::engine::realm::Realm;
use crate::engine::summary::{DpsSummary, HubSummary};
use crate::net::writer::StoreHandle;
use crate::store::{SqliteStore, Store};
use crate::tls::TlsSetup;
use crate::{Error, ServerConfig, ServerEvent};

/// State shared by every connection task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) realm: RwLock<Realm>,
    pub(crate) store: StoreHandle,
    pub(crate) events: broadcast::Sender<ServerEvent>,
    pub(crate) config: ServerConfig,
    /// Serializes DPS registrations: decide, commit, apply, one at a time.
    pub(crate) registrations: tokio::sync::Mutex<()>,
    /// The open session of each client: a newer one with the same client ID ends it.
    pub(crate) clients: crate::net::clients::Clients,
}

impl Shared {
    pub(crate) fn emit(&self, event: ServerEvent) {
        let _ = self.events.send(event);
    }
}

/// Entry point.
#[derive(Debug)]
pub struct Server;

/// What a started server offers: addresses and the values devices and services need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The MQTT/TLS listener.
    pub mqtt: SocketAddr,
    /// The HTTPS listener, when one is running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https: Option<SocketAddr>,
    /// The CA certificate devices must trust (generated TLS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_path: Option<PathBuf>,
    /// Each hub: host name and the owner policy's connection string, if it has one.
    pub hubs: Vec<HubSummary>,
    /// The DPS instance, if one is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dps: Option<DpsSummary>,
    /// Configuration that loads but probably does not do what was meant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    summary: Summary,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Loads `config.state_dir` (creating it), applies the imports, prepares TLS, opens the
    /// store writer and binds the MQTT/TLS listener. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`Error`] for unreadable or invalid state, imports, TLS material, or a port in use.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, Error> {
        let dir = config.state_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io(&dir, e))?;
        let store = SqliteStore::open(&dir)?;
        Self::start_with_store(config, store).await
    }

    /// Like [`Self::start`], with the embedder's [`Store`] in place of the SQLite one
    /// (`config.state_dir` still holds `tls/`).
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_with_store<S: Store + 'static>(
        config: ServerConfig,
        mut store: S,
    ) -> Result<RunningServer, Error> {
        let dir = config.state_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io(&dir, e))?;
        for path in &config.imports {
            let writes = crate::engine::import::read_import(path)?;
            store.apply(&writes)?;
        }
        let snapshot = store.load()?;
        let realm = Realm::from_snapshot(snapshot)?;
        let tls = TlsSetup::prepare(&dir, &config.tls, &realm.tls_names())?;
        let (events, _) = broadcast::channel(4096);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mqtt_addr = SocketAddr::new(config.bind, config.mqtt_port);
        let listener = tokio::net::TcpListener::bind(mqtt_addr)
            .await
            .map_err(|source| Error::Bind {
                addr: mqtt_addr,
                source,
            })?;
        let mqtt = listener.local_addr().map_err(|source| Error::Bind {
            addr: mqtt_addr,
            source,
        })?;
        let (https_listener, https) = bind_https(&config).await?;
        let summary = Summary {
            mqtt,
            https: Some(https),
            ca_path: tls.ca_path.clone(),
            hubs: realm.hub_summaries(),
            dps: realm.dps_summary(),
            warnings: realm.warnings(),
        };
        let shared = Arc::new(Shared {
            realm: RwLock::new(realm),
            store: StoreHandle::spawn(store),
            events,
            config,
            registrations: tokio::sync::Mutex::new(()),
            clients: crate::net::clients::Clients::default(),
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
        let https_task = tokio::spawn(crate::http::listener::serve(
            https_listener,
            acceptor.clone(),
            Arc::clone(&shared),
            shutdown_rx.clone(),
        ));
        let task = tokio::spawn(crate::net::listener::serve(
            listener,
            acceptor,
            Arc::clone(&shared),
            shutdown_rx,
        ));
        Ok(RunningServer {
            summary,
            shared,
            shutdown,
            tasks: vec![task, https_task],
        })
    }
}

/// Binds the HTTPS listener (the SDKs' WebSocket and HTTPS ports are fixed at 443, so one
/// process at a time can serve them: a taken port is an [`Error::Bind`] naming it).
async fn bind_https(config: &ServerConfig) -> Result<(tokio::net::TcpListener, SocketAddr), Error> {
    let addr = SocketAddr::new(config.bind, config.https_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    Ok((listener, bound))
}

impl RunningServer {
    /// Addresses, CA path, hubs and DPS.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The MQTT/TLS listener's address.
    pub fn mqtt_addr(&self) -> SocketAddr {
        self.summary.mqtt
    }

    /// The HTTPS listener's address (REST APIs and MQTT over WebSockets).
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.summary.https
    }

    /// A receiver of every decision from now on.
    pub fn events(&self) -> broadcast::Receiver<ServerEvent> {
        self.shared.events.subscribe()
    }

    /// Stops accepting, closes every connection, waits for the listener task and flushes the
    /// store writer.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.shared.store.close().await;
    }
}
