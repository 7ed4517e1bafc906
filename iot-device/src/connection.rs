//! The tokio driver of one MQTT [`Session`]: a task that owns the [`Link`], feeds it the
//! session's bytes, answers keep-alive timers, and hands received messages and
//! acknowledgements back through channels.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

use crate::credential::X509Identity;
use crate::endpoint::Endpoint;
use crate::link::Link;
use crate::session::{ConnectFields, Session, SessionEvent};
use crate::{Error, ProtocolError};

/// Most received messages the caller has not read yet; one more closes the connection (a
/// server flooding a device must not grow its memory without bound).
pub(crate) const MAX_UNREAD: usize = 256;

/// A message the server published to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Bytes,
}

enum Command {
    Publish {
        topic: String,
        payload: Bytes,
        qos1: bool,
        done: oneshot::Sender<Result<(), Error>>,
    },
    Subscribe {
        filters: Vec<String>,
        done: oneshot::Sender<Result<(), Error>>,
    },
}

/// Settings of one connection attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) connect_timeout: Duration,
    pub(crate) max_packet: usize,
}

/// An acknowledgement still to come: await it for the PUBACK (QoS 1) or SUBACK.
#[derive(Debug)]
pub(crate) struct PendingAck(oneshot::Receiver<Result<(), Error>>);

impl PendingAck {
    pub(crate) async fn wait(self) -> Result<(), Error> {
        self.0.await.unwrap_or(Err(Error::Closed))
    }
}

/// A connected MQTT session running in its own task. Dropping it aborts the task (the socket
/// closes without DISCONNECT); [`close`](Self::close) says goodbye first.
#[derive(Debug)]
pub(crate) struct Connection {
    commands: Option<mpsc::Sender<Command>>,
    incoming: mpsc::Receiver<ReceivedMessage>,
    task: Option<JoinHandle<Error>>,
    /// Why the task ended, once it has been awaited: its error, or the join error when it
    /// panicked or was cancelled. Shared, as every later call reports it.
    ended: Option<Result<Arc<Error>, Arc<JoinError>>>,
}

impl core::fmt::Debug for Command {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Publish { topic, .. } => write!(f, "Publish({topic})"),
            Self::Subscribe { filters, .. } => write!(f, "Subscribe({filters:?})"),
        }
    }
}

impl Connection {
    /// Dials, sends CONNECT and waits for CONNACK, all within `limits.connect_timeout`.
    ///
    /// # Errors
    /// [`Error::Refused`] for a non-zero CONNACK; network, TLS, WebSocket and protocol errors;
    /// [`Error::Timeout`] when CONNACK does not come in time.
    pub(crate) async fn open(
        endpoint: &Endpoint,
        identity: Option<&X509Identity>,
        fields: &ConnectFields,
        limits: Limits,
    ) -> Result<Self, Error> {
        let tls = endpoint.tls_config(identity)?;
        let start = Instant::now();
        let attempt = async {
            let mut link = Link::open(endpoint, tls, limits.max_packet).await?;
            let mut session = Session::new(fields, limits.max_packet, Duration::ZERO)?;
            let mut buf = BytesMut::new();
            loop {
                if let Some(bytes) = session.poll_transmit() {
                    link.send(bytes).await?;
                }
                if session.poll_event() == Some(SessionEvent::Connected) {
                    return Ok((link, session));
                }
                if link.recv(&mut buf).await? == 0 {
                    return Err(Error::Closed);
                }
                let chunk = buf.split();
                session.handle_input(start.elapsed(), &chunk)?;
            }
        };
        let (link, session) = tokio::time::timeout(limits.connect_timeout, attempt)
            .await
            .map_err(|_| Error::Timeout("CONNACK"))??;
        let (commands, command_rx) = mpsc::channel(64);
        let (incoming_tx, incoming) = mpsc::channel(MAX_UNREAD);
        let task = tokio::spawn(drive(link, session, start, command_rx, incoming_tx));
        Ok(Self {
            commands: Some(commands),
            incoming,
            task: Some(task),
            ended: None,
        })
    }

    async fn command(&self, command: Command) -> Result<(), Error> {
        let sender = self.commands.as_ref().ok_or(Error::Closed)?;
        sender.send(command).await.map_err(|_| Error::Closed)
    }

    /// Queues a PUBLISH. For QoS 1 the returned [`PendingAck`] resolves on its PUBACK; for
    /// QoS 0 it resolves once the packet is queued for the socket.
    pub(crate) async fn publish(
        &self,
        topic: impl Into<String>,
        payload: Bytes,
        qos1: bool,
    ) -> Result<PendingAck, Error> {
        let (done, ack) = oneshot::channel();
        self.command(Command::Publish {
            topic: topic.into(),
            payload,
            qos1,
            done,
        })
        .await?;
        Ok(PendingAck(ack))
    }

    /// Subscribes to `filters` at QoS 1 and waits for the SUBACK.
    ///
    /// # Errors
    /// [`Error::Status`] when the server refused a filter, [`Error::Timeout`] after `timeout`.
    pub(crate) async fn subscribe(&self, filters: &[&str], timeout: Duration) -> Result<(), Error> {
        let (done, ack) = oneshot::channel();
        self.command(Command::Subscribe {
            filters: filters.iter().map(|f| (*f).to_owned()).collect(),
            done,
        })
        .await?;
        tokio::time::timeout(timeout, PendingAck(ack).wait())
            .await
            .map_err(|_| Error::Timeout("SUBACK"))?
    }

    /// The next message from the server. Cancel-safe.
    ///
    /// # Errors
    /// Why the connection ended, once it has.
    pub(crate) async fn recv(&mut self) -> Result<ReceivedMessage, Error> {
        match self.incoming.recv().await {
            Some(message) => Ok(message),
            None => Err(self.end_reason().await),
        }
    }

    async fn end_reason(&mut self) -> Error {
        if let Some(task) = self.task.take() {
            self.ended = Some(task.await.map(Arc::new).map_err(Arc::new));
        }
        match &self.ended {
            Some(Ok(err)) if matches!(**err, Error::Closed) => Error::Closed,
            Some(Ok(err)) => ProtocolError::Ended(Arc::clone(err)).into(),
            Some(Err(join)) => ProtocolError::TaskFailed(Arc::clone(join)).into(),
            None => Error::Closed,
        }
    }

    /// Sends DISCONNECT and closes the socket (waits at most a second for the task).
    pub(crate) async fn close(mut self) {
        self.commands = None;
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(1), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The connection task: returns why it ended ([`Error::Closed`] for a polite end).
async fn drive(
    mut link: Link,
    mut session: Session,
    start: Instant,
    mut commands: mpsc::Receiver<Command>,
    incoming: mpsc::Sender<ReceivedMessage>,
) -> Error {
    let mut pending: HashMap<u16, oneshot::Sender<Result<(), Error>>> = HashMap::new();
    let mut buf = BytesMut::new();
    let reason = loop {
        if let Some(bytes) = session.poll_transmit()
            && let Err(e) = link.send(bytes).await
        {
            break e;
        }
        let mut overflow = false;
        while let Some(event) = session.poll_event() {
            match event {
                SessionEvent::Message { topic, payload } => {
                    if incoming
                        .try_send(ReceivedMessage { topic, payload })
                        .is_err()
                    {
                        overflow = true;
                    }
                }
                SessionEvent::PubAck(pkid) => {
                    if let Some(done) = pending.remove(&pkid) {
                        let _ = done.send(Ok(()));
                    }
                }
                SessionEvent::SubAck { pkid, granted } => {
                    if let Some(done) = pending.remove(&pkid) {
                        let _ = done.send(if granted {
                            Ok(())
                        } else {
                            Err(Error::Status {
                                operation: "SUBSCRIBE",
                                status: 128,
                            })
                        });
                    }
                }
                SessionEvent::Connected => {}
            }
        }
        if overflow {
            break ProtocolError::Unread { max: MAX_UNREAD }.into();
        }
        let wake = session
            .poll_timeout()
            .map(|at| start + at)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            read = link.recv(&mut buf) => match read {
                Ok(0) => break Error::Closed,
                Ok(_) => {
                    let chunk = buf.split();
                    if let Err(e) = session.handle_input(start.elapsed(), &chunk) {
                        break e;
                    }
                }
                Err(e) => break e,
            },
            command = commands.recv() => match command {
                None => {
                    session.disconnect(start.elapsed());
                    if let Some(bytes) = session.poll_transmit() {
                        let _ = link.send(bytes).await;
                    }
                    link.close().await;
                    break Error::Closed;
                }
                Some(Command::Publish { topic, payload, qos1, done }) => {
                    match session.publish(start.elapsed(), &topic, payload, qos1) {
                        Ok(Some(pkid)) => {
                            pending.insert(pkid, done);
                        }
                        Ok(None) => {
                            let _ = done.send(Ok(()));
                        }
                        Err(e) => {
                            let _ = done.send(Err(e));
                        }
                    }
                }
                Some(Command::Subscribe { filters, done }) => {
                    let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
                    match session.subscribe(start.elapsed(), &refs) {
                        Ok(pkid) => {
                            pending.insert(pkid, done);
                        }
                        Err(e) => {
                            let _ = done.send(Err(e));
                        }
                    }
                }
            },
            () = tokio::time::sleep_until(wake) => {
                if let Err(e) = session.handle_timeout(start.elapsed()) {
                    break e;
                }
            }
        }
    };
    for (_, done) in pending.drain() {
        let _ = done.send(Err(Error::Closed));
    }
    reason
}
