//! Cache and counters for scrm.
//!
//! Every service sees one small interface, [`Cache`]: byte values with optional TTLs,
//! set-if-absent for dedup keys and simple locks, and atomic counters. [`connect`] picks the
//! backend from [`CacheConfig`]: an in-process store ([`InProcessCache`], the default, fine for
//! a single node) or Redis through a bb8 pool ([`RedisCache`], used when `redis_url` is set, so
//! several nodes share counters and locks). Both backends behave alike and pass one contract
//! suite, including Redis's rules for what counts as an integer.
//!
//! Every key is stored under [`CacheConfig::key_prefix`], so several deployments (or tests) can
//! share one Redis without seeing each other's keys.

mod config;
mod error;
mod in_process;
mod redis_cache;

use std::sync::Arc;
use std::time::Duration;

pub use config::CacheConfig;
pub use error::CacheError;
pub use in_process::InProcessCache;
pub use redis_cache::RedisCache;

/// A key/value cache with counters, shared by all services.
#[async_trait::async_trait]
pub trait Cache: Send + Sync + std::fmt::Debug + 'static {
    /// The value under `key`, or `None` when it is absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Stores `value` under `key`, replacing any value and expiry; `ttl: None` never expires.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), CacheError>;
    /// Sets only if absent; true when this call set it (dedup keys, simple locks).
    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<bool, CacheError>;
    /// true when the key existed.
    async fn delete(&self, key: &str) -> Result<bool, CacheError>;
    /// Adds delta (may be negative) and returns the new value; a key created by this call gets `ttl`; an existing key keeps its expiry. Errors if the stored value is not an integer.
    async fn incr_by(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, CacheError>;
    /// Checks the backend answers (for /readyz).
    async fn ping(&self) -> Result<(), CacheError>;
    /// "in_process" or "redis", for logs and /readyz.
    fn backend(&self) -> &'static str;
    /// The backend's HyperLogLog sketches when it has them (Redis); `None` for the in-process store.
    fn hyperloglog(self: Arc<Self>) -> Option<Arc<dyn HyperLogLog>> {
        None
    }
}

/// Approximate distinct counts (Redis `PFADD`/`PFCOUNT`, about 0.81% standard error), keyed like the cache.
#[async_trait::async_trait]
pub trait HyperLogLog: Send + Sync + std::fmt::Debug + 'static {
    /// Adds each `(key, members)` entry's members to the sketch under its key, in one round trip, and gives
    /// every key written the expiry `ttl`.
    async fn add(&self, entries: &[(String, Vec<String>)], ttl: Duration) -> Result<(), CacheError>;
    /// For each key set of `unions`, the estimated number of distinct members of the union of its sketches
    /// (absent keys count as empty), in one round trip.
    async fn count(&self, unions: &[Vec<String>]) -> Result<Vec<i64>, CacheError>;
}

/// Opens the cache `config` describes: Redis when `redis_url` is set (failing at once when Redis
/// does not answer a PING), the in-process store otherwise.
pub async fn connect(config: &CacheConfig) -> Result<Arc<dyn Cache>, CacheError> {
    let cache: Arc<dyn Cache> = if config.redis_url.is_empty() {
        Arc::new(InProcessCache::new(config)?)
    } else {
        Arc::new(RedisCache::connect(config).await?)
    };
    tracing::info!(backend = cache.backend(), key_prefix = %config.key_prefix, "cache ready");
    Ok(cache)
}

/// The longest TTL honoured (about 100 years); longer ones are shortened to it.
const MAX_TTL_MS: u64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// A TTL in whole milliseconds as both backends apply it: rounded up, at least 1 ms (Redis
/// rejects `PX 0`), at most [`MAX_TTL_MS`].
fn ttl_millis(ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|ttl| {
        let millis = ttl.as_nanos().div_ceil(1_000_000);
        u64::try_from(millis).unwrap_or(u64::MAX).clamp(1, MAX_TTL_MS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_milliseconds_within_bounds() {
        assert_eq!(ttl_millis(None), None);
        assert_eq!(ttl_millis(Some(Duration::ZERO)), Some(1));
        assert_eq!(ttl_millis(Some(Duration::from_nanos(1))), Some(1));
        assert_eq!(ttl_millis(Some(Duration::from_micros(1500))), Some(2));
        assert_eq!(ttl_millis(Some(Duration::from_millis(250))), Some(250));
        assert_eq!(ttl_millis(Some(Duration::MAX)), Some(MAX_TTL_MS));
    }
}
