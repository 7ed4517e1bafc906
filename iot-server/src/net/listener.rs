//! Accepts TCP connections, enforces the connection limit and the TLS handshake deadline, and
//! starts one session task per connection.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::server::Shared;

/// Runs until `shutdown` turns true, then tells every session to stop and waits for them.
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = shared.config.limits;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    // Over the limit: close at once, before any TLS work.
                    drop(tcp);
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let shared = Arc::clone(&shared);
                let stop = shutdown.clone();
                sessions.spawn(async move {
                    let handshake = tokio::time::timeout(
                        limits.connect_timeout,
                        acceptor.accept(tcp),
                    )
                    .await;
                    if let Ok(Ok(tls)) = handshake {
                        // The session's state machine is large (about 10 KB: the TLS stream,
                        // the MQTT connection and every await point of the hub and DPS logic).
                        // Boxed, it is allocated once the handshake is done, and the task
                        // tokio moves around at spawn and completion stays small.
                        Box::pin(crate::net::session::run(tls, peer, shared, stop)).await;
                    }
                    drop(permit);
                });
            }
        }
    }
    // Sessions see the same signal and close their connections; give them a moment to send
    // what they still hold, then stop the stragglers.
    let drained = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        sessions.shutdown().await;
    }
}
