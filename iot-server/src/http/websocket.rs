//! MQTT over WebSockets on `/$iothub/websocket` (RFC 6455; subprotocol `mqtt`, which Node's
//! `ws` requires echoed, reference embedding.md §2). After the upgrade a pump moves binary
//! frames into a local byte pipe whose other end runs the same MQTT session as the TLS
//! listener, with `Transport::MqttWs` and the TLS peer chain of the underlying connection, so
//! `x509CaOverWebSockets` and the DPS transport rules apply.

use std::sync::Arc;

use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use iot_hub_auth::Transport;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::http::listener::ConnContext;
use crate::http::service::Answer;

/// Bytes buffered between the WebSocket pump and the MQTT session, each way.
const PIPE: usize = 64 * 1024;

fn refuse(status: StatusCode) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn lists(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Answers the upgrade request (101 with `Sec-WebSocket-Protocol: mqtt`) and starts the
/// session once hyper hands the connection over; anything else is refused with 400 (426
/// for a version other than 13).
pub(crate) fn upgrade(mut req: Request<Incoming>, ctx: ConnContext) -> Answer {
    if req.method() != hyper::Method::GET
        || !lists(&req, header::CONNECTION, "upgrade")
        || !lists(&req, header::UPGRADE, "websocket")
        || !lists(&req, header::SEC_WEBSOCKET_PROTOCOL, "mqtt")
    {
        return refuse(StatusCode::BAD_REQUEST);
    }
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return refuse(StatusCode::UPGRADE_REQUIRED);
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return refuse(StatusCode::BAD_REQUEST);
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            session(TokioIo::new(upgraded), ctx).await;
        }
    });
    let mut response = refuse(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("Upgrade"),
    );
    headers.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        header::HeaderValue::from_static("mqtt"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    response
}

async fn session<S>(io: S, ctx: ConnContext)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = ctx.shared.config.limits;
    let frame = limits.max_packet_size.saturating_add(1024);
    let config = WebSocketConfig::default()
        .max_message_size(Some(frame))
        .max_frame_size(Some(frame));
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let (local, remote) = tokio::io::duplex(PIPE);
    let permit = Arc::clone(&ctx.permit);
    let pump = tokio::spawn(pump(ws, local));
    crate::net::session::run_stream(
        remote,
        ctx.peer,
        ctx.chain.as_ref().clone(),
        Transport::MqttWs,
        Arc::clone(&ctx.shared),
        ctx.stop.clone(),
    )
    .await;
    // The session closed its end of the pipe: the pump sends a Close frame and ends.
    let _ = pump.await;
    drop(permit);
}

/// Binary frames in, bytes to the session; bytes from the session, binary frames out. Text
/// frames break MQTT's framing and end the connection; pings are answered by tungstenite.
async fn pump<S>(mut ws: WebSocketStream<S>, mut local: DuplexStream)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Binary(data))) => {
                    if local.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    if ws.flush().await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(_) | Message::Close(_)) | Err(_)) | None => break,
            },
            read = local.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if ws.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            },
        }
    }
    let _ = ws.close(None).await;
    let _ = local.shutdown().await;
}
