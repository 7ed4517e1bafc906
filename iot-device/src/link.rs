//! The byte pipe under MQTT: TCP + TLS, optionally with a WebSocket on top.

use std::sync::Arc;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt as _};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::endpoint::{Endpoint, Transport, WEBSOCKET_PATH};
use crate::{Error, InvalidInput, ProtocolError, TlsError, WebSocketError};

type Tls = TlsStream<TcpStream>;

/// An open connection to the server.
#[derive(Debug)]
pub(crate) enum Link {
    Tls(Box<Tls>),
    WebSocket(Box<WebSocketStream<Tls>>),
}

impl Link {
    /// Dials `endpoint`, completes TLS (with the client certificate in `tls`), and for
    /// [`Transport::WebSockets`] upgrades `wss://{host}:{port}/$iothub/websocket` with
    /// subprotocol `mqtt`, which the server must echo (reference §5.1, §6.1).
    pub(crate) async fn open(
        endpoint: &Endpoint,
        tls: Arc<rustls::ClientConfig>,
        max_packet: usize,
    ) -> Result<Self, Error> {
        let port = endpoint.port();
        let tcp = TcpStream::connect((endpoint.host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(endpoint.host.clone()).map_err(|source| {
            InvalidInput::HostName {
                host: endpoint.host.clone(),
                source,
            }
        })?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| {
                match e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    Some(tls) => TlsError::Handshake(tls.clone()).into(),
                    None => Error::Network(e),
                }
            })?;
        match endpoint.transport {
            Transport::Mqtt => Ok(Self::Tls(Box::new(stream))),
            Transport::WebSockets => {
                let host = if endpoint.host.contains(':') {
                    format!("[{}]", endpoint.host)
                } else {
                    endpoint.host.clone()
                };
                let url = format!("wss://{host}:{port}{WEBSOCKET_PATH}");
                let mut request = url.into_client_request().map_err(ws_error)?;
                request
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
                let config = WebSocketConfig::default()
                    .max_message_size(Some(max_packet))
                    .max_frame_size(Some(max_packet));
                let (ws, response) =
                    tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                        .await
                        .map_err(ws_error)?;
                let echoed = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim);
                if echoed != Some("mqtt") {
                    return Err(WebSocketError::NoMqttSubprotocol {
                        echoed: echoed.map(str::to_owned),
                    }
                    .into());
                }
                Ok(Self::WebSocket(Box::new(ws)))
            }
        }
    }

    /// Appends received bytes to `buf`; `Ok(0)` when the server closed the connection.
    /// Cancel-safe (used in `select!`).
    pub(crate) async fn recv(&mut self, buf: &mut BytesMut) -> Result<usize, Error> {
        match self {
            Self::Tls(stream) => {
                buf.reserve(8 * 1024);
                Ok(stream.read_buf(buf).await?)
            }
            Self::WebSocket(ws) => loop {
                match ws.next().await {
                    None => return Ok(0),
                    Some(Err(e)) => return Err(ws_error(e)),
                    Some(Ok(Message::Binary(data))) => {
                        if data.is_empty() {
                            continue;
                        }
                        buf.extend_from_slice(&data);
                        return Ok(data.len());
                    }
                    Some(Ok(Message::Close(_))) => return Ok(0),
                    // tungstenite answers pings itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Text(_))) => {
                        return Err(ProtocolError::TextFrame.into());
                    }
                }
            },
        }
    }

    /// Sends all of `data`.
    pub(crate) async fn send(&mut self, data: bytes::Bytes) -> Result<(), Error> {
        match self {
            Self::Tls(stream) => {
                stream.write_all(&data).await?;
                stream.flush().await?;
                Ok(())
            }
            Self::WebSocket(ws) => ws.send(Message::Binary(data)).await.map_err(ws_error),
        }
    }

    /// Closes politely (TLS close_notify / WebSocket close), ignoring errors.
    pub(crate) async fn close(&mut self) {
        match self {
            Self::Tls(stream) => {
                let _ = stream.shutdown().await;
            }
            Self::WebSocket(ws) => {
                let _ = SinkExt::close(ws.as_mut()).await;
            }
        }
    }
}

fn ws_error(e: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Io(io) => Error::Network(io),
        WsError::ConnectionClosed | WsError::AlreadyClosed => Error::Closed,
        other => WebSocketError::Tungstenite(other).into(),
    }
}
