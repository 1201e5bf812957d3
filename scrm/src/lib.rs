//! The `scrm` process: configuration, telemetry, and the wiring that runs any subset of the
//! services with the gateway in front of them.

pub mod app;
pub mod cli_token;
pub mod config;
mod demo;
pub mod first_run;
mod forward;
pub mod import_cli;
pub mod reindex;
pub mod sync_cli;
pub mod sync_tally;
pub mod telemetry;
pub mod token_cli;

pub use app::Server;
pub use config::Config;

/// The allocator of every program linking scrm: mimalloc serves the request path's many small, short-lived
/// allocations with far less CPU than glibc's malloc (see `benches/README.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
