//! Database configuration.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connection URL: `sqlite://PATH` or `mysql://USER:PASSWORD@HOST:PORT/DB`. Empty means the
    /// embedded SQLite file `scrm.db` in the data directory.
    pub url: String,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a free connection before a query fails as unavailable.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: String::new(), max_connections: 16, acquire_timeout_secs: 5 }
    }
}

impl DatabaseConfig {
    /// The URL to connect to, resolving the embedded default against `data_dir`.
    pub fn effective_url(&self, data_dir: &Path) -> String {
        if self.url.is_empty() {
            format!("sqlite://{}?mode=rwc", data_dir.join("scrm.db").display())
        } else {
            self.url.clone()
        }
    }
}
