#![doc = include_str!("../README.md")]

mod config;
pub mod engine;
mod error;
mod event;
mod export;
mod http;
pub mod mqtt;
mod net;
mod server;
pub mod store;
pub mod tls;

pub use config::{Limits, MAX_MESSAGE_SIZE, ServerConfig, TlsSource};
pub use engine::summary::{DpsSummary, HubSummary};
pub use error::{Error, ImportProblem, StateProblem, TlsProblem};
pub use event::ServerEvent;
pub use export::export;
pub use server::{RunningServer, Server, Summary};
