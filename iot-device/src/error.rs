//! The crate's one error type, split into what a retry can fix and what it cannot.

use std::io;

use iot_dps_proto::Failure;

mod cause;

pub use cause::{InvalidInput, ProtocolError, StoreError, TlsError, WebSocketError};

/// Everything that can go wrong talking to DPS or a hub.
///
/// [`Error::is_retryable`] tells the two families apart: a network failure (connection refused,
/// reset, TLS alert, timeout) may go away by itself; a refusal (CONNACK 5, a disabled
/// enrollment, a failed registration) will not, and retrying it only burns the service's
/// quota (reference §5.5: "fall back to DPS on hub errors other than 429/5xx").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered CONNECT with a non-zero return code (reference §6.1: IoT Hub refuses
    /// a device it does not admit with CONNACK 5, *not authorized*; the SDKs report it as an
    /// authentication error). Not retryable with the same credential.
    #[error("connection refused by the server: CONNACK {code} ({})", connack_meaning(*code))]
    Refused {
        /// The CONNACK return code (1..=5).
        code: u8,
    },
    /// The enrollment or registration is disabled in DPS (reference §5.4).
    #[error("the DPS enrollment or registration is disabled")]
    Disabled,
    /// DPS ended the registration with a failure (non-retriable status, `failed` status,
    /// malformed answer, or the deadline).
    #[error("registration failed{}: {}", status_suffix(*status), describe_failure(error))]
    Registration {
        /// The status code of the answer that ended it; `None` for the deadline.
        status: Option<u16>,
        /// Why.
        error: Failure,
    },
    /// The overall deadline passed while the transport kept failing.
    #[error("deadline exceeded after {attempts} connection attempt(s); last error: {last}")]
    Deadline {
        /// How many connections were tried.
        attempts: u32,
        /// The last network error.
        last: String,
    },
    /// A socket-level failure: connect, read, write, reset (retryable).
    #[error("network: {0}")]
    Network(#[from] io::Error),
    /// The TLS handshake failed (bad server certificate, unsupported key, alert) (retryable
    /// only in the sense that a later attempt may reach a different server).
    #[error("tls: {0}")]
    Tls(#[source] TlsError),
    /// The WebSocket upgrade failed, or the server did not echo subprotocol `mqtt`.
    #[error("websocket: {0}")]
    WebSocket(#[source] WebSocketError),
    /// The peer broke MQTT 3.1.1 (a malformed or unexpected packet), or a keep-alive went
    /// unanswered (retryable).
    #[error("mqtt protocol: {0}")]
    Protocol(#[source] ProtocolError),
    /// No answer in time (CONNACK, PUBACK, SUBACK, twin response) (retryable).
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The connection closed before the operation finished (retryable).
    #[error("the connection closed")]
    Closed,
    /// The service answered a twin or other request with an error status.
    #[error("the service answered {operation} with status {status}")]
    Status {
        /// What was asked.
        operation: &'static str,
        /// The status it answered.
        status: u16,
    },
    /// Bad configuration or input: an identifier that cannot go into a topic, an unreadable
    /// certificate or key, a message over the size limit.
    #[error("invalid input: {0}")]
    Invalid(#[source] InvalidInput),
    /// Building a SAS token or a DPS message failed.
    #[error("dps protocol: {0}")]
    Dps(#[from] iot_dps_proto::Error),
    /// A SAS key or token error.
    #[error("sas: {0}")]
    Sas(#[from] iot_sas::Error),
    /// The assignment store failed (a caller-owned store reports its own error as
    /// [`StoreError::Other`]).
    #[error("assignment store: {0}")]
    Store(#[source] StoreError),
}

impl Error {
    /// True for failures a later attempt with the same credential may not see again
    /// (network, TLS, WebSocket, protocol, timeouts, a closed connection); false for
    /// refusals and final DPS answers.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Network(_)
                | Self::Tls(_)
                | Self::WebSocket(_)
                | Self::Protocol(_)
                | Self::Timeout(_)
                | Self::Closed
        )
    }

    /// A stable snake_case code per variant, for programs (the CLI's `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "refused",
            Self::Disabled => "disabled",
            Self::Registration { .. } => "registration_failed",
            Self::Deadline { .. } => "deadline",
            Self::Network(_) => "network",
            Self::Tls(_) => "tls",
            Self::WebSocket(_) => "websocket",
            Self::Protocol(_) => "protocol",
            Self::Timeout(_) => "timeout",
            Self::Closed => "closed",
            Self::Status { .. } => "status",
            Self::Invalid(_) => "invalid_input",
            Self::Dps(_) => "dps_protocol",
            Self::Sas(_) => "sas",
            Self::Store(_) => "assignment_store",
        }
    }

    /// True when the server refused the connection (CONNACK non-zero).
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

/// MQTT 3.1.1 §3.2.2.3 return codes.
fn connack_meaning(code: u8) -> &'static str {
    match code {
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        _ => "unknown return code",
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status.map_or_else(String::new, |s| format!(" (status {s})"))
}

fn describe_failure(failure: &Failure) -> String {
    match failure {
        Failure::Service(Some(body)) => format!(
            "service error {} {}",
            body.error_code
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
            body.message.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        Failure::Service(None) => "service error without a body".to_owned(),
        Failure::Registration(state) => format!(
            "status failed, error {} {}",
            state
                .error_code
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
            state.error_message.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        Failure::UnexpectedStatus(status) => format!("unexpected status {}", status.as_str()),
        Failure::Malformed(err) => format!("malformed answer: {err}"),
        Failure::DeadlineExceeded => "deadline exceeded".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_is_typed_and_not_retryable() {
        let refused = Error::Refused { code: 5 };
        assert!(!refused.is_retryable());
        assert!(refused.is_refused());
        assert_eq!(
            refused.to_string(),
            "connection refused by the server: CONNACK 5 (not authorized)"
        );
        let net = Error::Network(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(net.is_retryable());
        assert!(!net.is_refused());
        assert!(Error::Closed.is_retryable());
        assert!(!Error::Disabled.is_retryable());
    }

    #[test]
    fn typed_causes_keep_code_and_retry_class() {
        let cases: [(Error, &str, bool); 5] = [
            (TlsError::NoSystemRoots.into(), "tls", true),
            (
                WebSocketError::NoMqttSubprotocol { echoed: None }.into(),
                "websocket",
                true,
            ),
            (ProtocolError::NotConnected.into(), "protocol", true),
            (InvalidInput::EmptyChain.into(), "invalid_input", false),
            (
                StoreError::Other("flash is read-only".into()).into(),
                "assignment_store",
                false,
            ),
        ];
        for (err, code, retryable) in cases {
            assert_eq!(err.code(), code, "{err:?}");
            assert_eq!(err.is_retryable(), retryable, "{err:?}");
        }
        assert_eq!(
            Error::from(WebSocketError::NoMqttSubprotocol {
                echoed: Some("json".into())
            })
            .to_string(),
            "websocket: the server did not select subprotocol mqtt (got Some(\"json\"))"
        );
        // A caller-owned store's own error is the source of the source.
        let err = Error::from(StoreError::Other("flash is read-only".into()));
        assert_eq!(err.to_string(), "assignment store: flash is read-only");
        let own = std::error::Error::source(&err)
            .and_then(std::error::Error::source)
            .expect("Other keeps the store's error");
        assert_eq!(own.to_string(), "flash is read-only");
    }

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
    }

    #[test]
    fn an_ended_connection_keeps_the_error_that_ended_it() {
        let reset = Error::Network(io::Error::from(io::ErrorKind::ConnectionReset));
        let reset_text = reset.to_string();
        let err = Error::from(ProtocolError::Ended(std::sync::Arc::new(reset)));
        assert_eq!(
            err.to_string(),
            format!("mqtt protocol: the connection ended: {reset_text}")
        );
        assert!(err.is_retryable());
        let cause = std::error::Error::source(&err).expect("Protocol has a source");
        let ended = cause
            .downcast_ref::<ProtocolError>()
            .expect("the cause is the typed ProtocolError");
        let ProtocolError::Ended(inner) = ended else {
            panic!("{ended:?}");
        };
        let Error::Network(io) = &**inner else {
            panic!("{inner:?}");
        };
        assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn registration_failure_names_the_code() {
        let err = Error::Registration {
            status: Some(401),
            error: Failure::Service(Some(
                iot_dps_proto::ErrorBody::from_slice(
                    br#"{"errorCode":401002,"message":"Invalid certificate."}"#,
                )
                .unwrap(),
            )),
        };
        assert_eq!(
            err.to_string(),
            "registration failed (status 401): service error 401002 Invalid certificate."
        );
    }
}
