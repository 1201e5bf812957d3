//! Cache configuration.

use serde::{Deserialize, Serialize};

/// Which cache to use and how to bound it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Redis URL (`redis://[:PASSWORD@]HOST:PORT[/DB]`). Empty means the in-process cache.
    pub redis_url: String,
    /// Put in front of every key, in both backends, so deployments sharing a Redis stay apart.
    pub key_prefix: String,
    /// Most entries the in-process cache holds; beyond it the least recently used are evicted.
    pub max_entries: u64,
    /// Most pooled Redis connections.
    pub pool_size: u32,
    /// Milliseconds to wait for a Redis connection (at start and per operation) before failing
    /// as unavailable.
    pub connect_timeout_ms: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            redis_url: String::new(),
            key_prefix: "scrm:".to_owned(),
            max_entries: 100_000,
            pool_size: 16,
            connect_timeout_ms: 2000,
        }
    }
}
