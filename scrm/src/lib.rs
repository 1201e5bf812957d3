//! The `scrm` process: configuration, telemetry, and the wiring that runs any subset of the
//! services with the gateway in front of them.

pub mod app;
pub mod config;
mod demo;
pub mod reindex;
pub mod sync_cli;
pub mod telemetry;

pub use app::Server;
pub use config::Config;
