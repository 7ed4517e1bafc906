//! One connection's task: TLS stream in and out, the engine's [`Connection`] in the middle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;

use crate::ServerEvent;
use crate::engine::connection::{Close, Connection, Event};
use crate::mqtt::ConnectReturnCode;
use crate::server::Shared;

pub(crate) async fn run(
    tls: TlsStream<TcpStream>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = shared.config.limits;
    let (mut rd, mut wr) = tokio::io::split(tls);
    let start = Instant::now();
    let mut conn = Connection::new(
        limits.max_packet_size,
        limits.connect_timeout,
        Duration::ZERO,
    );
    let mut buf = vec![0u8; 16 * 1024];
    let mut identity = String::new();
    let reason: Close = 'session: loop {
        while let Some(event) = conn.poll_event() {
            if let Event::Connect(connect) = event {
                identity = connect.client_id.clone();
                shared.emit(ServerEvent::Connect {
                    endpoint: "unknown".into(),
                    target: String::new(),
                    identity: identity.clone(),
                    transport: "mqtt".into(),
                    allowed: false,
                    code: "routing".into(),
                    reason: "routing is not implemented yet".into(),
                    peer: peer.to_string(),
                });
                break 'session conn.refuse(ConnectReturnCode::NotAuthorized);
            }
        }
        let out = conn.poll_transmit();
        if !out.is_empty() && wr.write_all(&out).await.is_err() {
            break Close::Policy("write failed".into());
        }
        let deadline = conn.poll_timeout().map(|d| start + d);
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => break Close::Policy("connection closed by peer".into()),
                Ok(n) => if let Err(close) = conn.handle_input(&buf[..n], start.elapsed()) {
                    break close;
                },
            },
            () = sleep_until(deadline) => if let Err(close) = conn.handle_timeout(start.elapsed()) {
                break close;
            },
            _ = stop.changed() => break conn.close(Close::Shutdown),
        }
    };
    let out = conn.poll_transmit();
    if !out.is_empty() {
        let _ = wr.write_all(&out).await;
    }
    let _ = wr.shutdown().await;
    shared.emit(ServerEvent::Disconnect {
        identity,
        reason: reason.to_string(),
        peer: peer.to_string(),
    });
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
