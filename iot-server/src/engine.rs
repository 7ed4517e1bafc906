//! The sans-I/O core: connection and request state driven by bytes, events and a clock value,
//! unit-testable on a virtual clock; the tokio plumbing in `net` only moves bytes and time.
//!
//! * [`connection`]: one MQTT 3.1.1 connection (CONNECT deadline, keep-alive, bounds).
//! * [`realm`]: the hubs and the DPS instance the decisions are made with.
//! * [`import`]: hub and DPS files.
//! * [`dps_api`]: DPS service policies.
//! * [`dps`] and [`hubs`]: the DPS MQTT front end and the hubs in memory, shared by the
//!   server and the in-memory demo.
//! * [`route`]: which endpoint a CONNECT is for, and the connect decision.
//! * [`summary`]: what a started server reports about its hubs and DPS; the TLS host names.
//! * [`hub_topics`]: what a hub device may publish and subscribe to.
//! * [`workflow`]: the test-to-production workflow (`iot demo`).
//! * [`api`]: the HTTPS APIs (Registry Manager, DPS service, DPS device, telemetry).

pub mod api;
pub mod connection;
pub mod dps;
pub mod dps_api;
pub mod hub_topics;
pub mod hubs;
pub mod import;
pub mod realm;
pub mod route;
pub mod summary;
pub mod workflow;
