//! The HTTPS listener's tokio plumbing (issue 10 "Endpoints"): one TLS listener (the same
//! rustls configuration as MQTT, client certificates optional) serving HTTP/1.1 with hyper,
//! and upgrading `/$iothub/websocket` to MQTT over WebSockets.
//!
//! * [`listener`]: accept, connection limit, TLS handshake deadline, hyper connection with
//!   header size and time limits.
//! * [`service`]: one request: body read with a size cap and a deadline, the sans-I/O
//!   [`crate::engine::api`] decision, the store commit, the answer.
//! * [`websocket`]: the upgrade and the frame pump into the MQTT session.

pub(crate) mod listener;
pub(crate) mod service;
pub(crate) mod websocket;
