//! The storage layer of scrm.
//!
//! Two SQL dialects are served one way: every store runs portable SQL through one sqlx
//! [`AnyPool`](sqlx::AnyPool), and the few statements that differ (upserts) ask
//! [`Dialect`] for their spelling. Schema lives in `migrations/sqlite/<service>` and
//! `migrations/mysql/<service>`, applied per service into its own migrations table, so each
//! service owns its tables and could move to a database of its own. Times are stored as
//! `BIGINT` Unix milliseconds and money as `BIGINT` fen, which both dialects read alike.

mod config;
mod db;
mod migrations;
mod scope;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::DatabaseConfig;
pub use db::{Db, Dialect, StorageError};
pub use migrations::ServiceMigrations;
pub use scope::push_store_filter;
