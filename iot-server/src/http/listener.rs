//! Accepts TCP connections for HTTPS: the connection limit, the TLS handshake deadline, then
//! hyper's HTTP/1.1 connection with upgrades (for the WebSocket path).

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use iot_x509::CertificateDer;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::server::Shared;

/// Largest request head (request line and headers) hyper buffers.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// Most headers in one request.
pub(crate) const MAX_HEADERS: usize = 64;
/// How long a stopping server lets an HTTP exchange in progress finish.
const DRAIN: Duration = Duration::from_secs(2);

/// What every request of one connection shares.
#[derive(Clone)]
pub(crate) struct ConnContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer: SocketAddr,
    pub(crate) chain: Arc<Vec<CertificateDer<'static>>>,
    pub(crate) stop: watch::Receiver<bool>,
    /// The connection's slot; a WebSocket session keeps a clone while it runs.
    pub(crate) permit: Arc<OwnedSemaphorePermit>,
}

/// Runs until `shutdown` turns true, then stops every connection and waits for them.
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = shared.config.limits;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    drop(tcp);
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let shared = Arc::clone(&shared);
                let stop = shutdown.clone();
                connections.spawn(async move {
                    let handshake =
                        tokio::time::timeout(limits.connect_timeout, acceptor.accept(tcp)).await;
                    let Ok(Ok(tls)) = handshake else { return };
                    let chain: Vec<CertificateDer<'static>> = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
                        .unwrap_or_default();
                    let ctx = ConnContext {
                        shared,
                        peer,
                        chain: Arc::new(chain),
                        stop: stop.clone(),
                        permit: Arc::new(permit),
                    };
                    connection(tls, ctx, stop).await;
                });
            }
        }
    }
    // WebSocket sessions watch the same signal; give every task a moment, then cut.
    let _ = tokio::time::timeout(DRAIN * 2, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.shutdown().await;
}

async fn connection<S>(stream: S, ctx: ConnContext, mut stop: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = ctx.shared.config.limits;
    let svc_ctx = ctx.clone();
    let service = service_fn(move |req| crate::http::service::handle(req, svc_ctx.clone()));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.connect_timeout)
        .max_buf_size(MAX_HEAD.max(8192))
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut conn = pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
    drop(ctx);
}
