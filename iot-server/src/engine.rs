//! The sans-I/O core: connection and request state driven by bytes, events and a clock value,
//! unit-testable on a virtual clock; the tokio plumbing in `net` only moves bytes and time.
//!
//! * [`connection`]: one MQTT 3.1.1 connection (CONNECT deadline, keep-alive, bounds).
//! * [`realm`]: the hubs and the DPS instance the decisions are made with.
//! * [`import`]: hub and DPS files.
//! * [`dps_api`]: DPS service policies.
//! * [`frontend`]: the DPS MQTT front end and hubs in memory, shared by the server and the
//!   in-memory demo.
//! * [`workflow`]: the test-to-production workflow (`iot demo`).

pub mod connection;
pub mod dps_api;
pub mod frontend;
pub mod import;
pub mod realm;
pub mod workflow;
