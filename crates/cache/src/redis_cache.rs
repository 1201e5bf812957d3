//! The Redis cache, used when a Redis URL is configured so that nodes share keys and counters.
//!
//! Connections come from a bb8 pool of multiplexed connections, each checked with a PING when
//! taken (so one broken by a Redis restart is replaced). Plain commands do the simple
//! operations; `incr_by` runs a small Lua script so that creating a counter and giving it its
//! TTL happen atomically, while an existing counter keeps its expiry.

use std::fmt;
use std::time::Duration;

use bb8::{ErrorSink, ManageConnection, Pool, PooledConnection, RunError};
use bb8_redis::RedisConnectionManager;
use redis::{IntoConnectionInfo, RedisError, Script, Value};

use std::sync::Arc;

use crate::{Cache, CacheConfig, CacheError, HyperLogLog, ttl_millis};

/// `INCRBY` that gives a key it creates the TTL in `ARGV[2]` (milliseconds, 0 for none).
/// Returns `{0, new value as text}` (text, since Lua numbers would round large integers), or
/// `{1, ''}` when the stored value is not an integer and `{2, ''}` on overflow.
const INCR_SCRIPT: &str = r"
local existed = redis.call('EXISTS', KEYS[1])
local result = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(result) == 'table' and result.err then
  if string.find(result.err, 'overflow', 1, true) then return {2, ''} end
  if string.find(result.err, 'not an integer', 1, true) then return {1, ''} end
  return result
end
if existed == 0 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {0, redis.call('GET', KEYS[1])}
";

/// A cache in Redis, reached through a bb8 pool.
pub struct RedisCache {
    pool: Pool<RedisConnectionManager>,
    prefix: String,
    /// `host:port` (or socket path) without credentials, for messages.
    address: String,
    connect_timeout: Duration,
    incr: Script,
}

impl RedisCache {
    /// Connects to `config.redis_url` and checks that Redis answers a PING, so a wrong or
    /// unreachable Redis fails at start rather than on first use.
    pub async fn connect(config: &CacheConfig) -> Result<Self, CacheError> {
        if config.pool_size == 0 {
            return Err(CacheError::InvalidConfig("pool_size must be at least 1".to_owned()));
        }
        if config.connect_timeout_ms == 0 {
            return Err(CacheError::InvalidConfig("connect_timeout_ms must be at least 1".to_owned()));
        }
        let info = config
            .redis_url
            .as_str()
            .into_connection_info()
            .map_err(|error| CacheError::InvalidUrl(error.to_string()))?;
        let address = info.addr().to_string();
        let manager = RedisConnectionManager::new(info).map_err(|error| CacheError::InvalidUrl(error.to_string()))?;
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);

        let check = async {
            let mut connection = manager.connect().await?;
            manager.is_valid(&mut connection).await
        };
        match tokio::time::timeout(connect_timeout, check).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                return Err(CacheError::Unavailable(format!("Redis at {address} does not answer: {error}")));
            }
            Err(_) => {
                return Err(CacheError::Unavailable(format!(
                    "Redis at {address} did not answer a PING within {} ms",
                    config.connect_timeout_ms
                )));
            }
        }

        let pool = Pool::builder()
            .max_size(config.pool_size)
            .connection_timeout(connect_timeout)
            .error_sink(Box::new(LogErrors))
            .build_unchecked(manager);
        Ok(RedisCache {
            pool,
            prefix: config.key_prefix.clone(),
            address,
            connect_timeout,
            incr: Script::new(INCR_SCRIPT),
        })
    }

    fn full_key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }

    async fn connection(&self) -> Result<PooledConnection<'_, RedisConnectionManager>, CacheError> {
        self.pool.get().await.map_err(|error| match error {
            RunError::User(error) => unavailable(&self.address, &error),
            RunError::TimedOut => CacheError::Unavailable(format!(
                "no connection to Redis at {} within {} ms",
                self.address,
                self.connect_timeout.as_millis()
            )),
        })
    }

    fn error(&self, error: &RedisError) -> CacheError {
        if error.is_io_error() || error.is_connection_dropped() || error.is_timeout() {
            unavailable(&self.address, error)
        } else {
            CacheError::Backend(error.to_string())
        }
    }
}

fn unavailable(address: &str, error: &RedisError) -> CacheError {
    CacheError::Unavailable(format!("Redis at {address}: {error}"))
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .field("pool", &self.pool.state())
            .finish()
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut connection = self.connection().await?;
        redis::cmd("GET")
            .arg(self.full_key(key))
            .query_async(&mut *connection)
            .await
            .map_err(|error| self.error(&error))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), CacheError> {
        let mut command = redis::cmd("SET");
        command.arg(self.full_key(key)).arg(value);
        if let Some(millis) = ttl_millis(ttl) {
            command.arg("PX").arg(millis);
        }
        let mut connection = self.connection().await?;
        command.query_async::<()>(&mut *connection).await.map_err(|error| self.error(&error))
    }

    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<bool, CacheError> {
        let mut command = redis::cmd("SET");
        command.arg(self.full_key(key)).arg(value).arg("NX");
        if let Some(millis) = ttl_millis(ttl) {
            command.arg("PX").arg(millis);
        }
        let mut connection = self.connection().await?;
        let reply: Value = command.query_async(&mut *connection).await.map_err(|error| self.error(&error))?;
        Ok(!matches!(reply, Value::Nil))
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let mut connection = self.connection().await?;
        let removed: i64 = redis::cmd("DEL")
            .arg(self.full_key(key))
            .query_async(&mut *connection)
            .await
            .map_err(|error| self.error(&error))?;
        Ok(removed > 0)
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, CacheError> {
        let mut connection = self.connection().await?;
        let (status, value): (i64, String) = self
            .incr
            .key(self.full_key(key))
            .arg(delta)
            .arg(ttl_millis(ttl).unwrap_or(0))
            .invoke_async(&mut *connection)
            .await
            .map_err(|error| self.error(&error))?;
        match status {
            0 => value
                .parse()
                .map_err(|_| CacheError::Backend(format!("INCRBY left a non-integer {value:?} at {key:?}"))),
            1 => Err(CacheError::NotAnInteger { key: key.to_owned() }),
            2 => Err(CacheError::Overflow { key: key.to_owned() }),
            other => Err(CacheError::Backend(format!("unexpected status {other} from the increment script"))),
        }
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection().await?;
        redis::cmd("PING").query_async::<()>(&mut *connection).await.map_err(|error| self.error(&error))
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    fn hyperloglog(self: Arc<Self>) -> Option<Arc<dyn HyperLogLog>> {
        Some(self)
    }
}

#[async_trait::async_trait]
impl HyperLogLog for RedisCache {
    async fn add(&self, entries: &[(String, Vec<String>)], ttl: Duration) -> Result<(), CacheError> {
        let millis = ttl_millis(Some(ttl)).unwrap_or(1);
        let mut pipeline = redis::pipe();
        for (key, members) in entries.iter().filter(|(_, members)| !members.is_empty()) {
            let key = self.full_key(key);
            pipeline.cmd("PFADD").arg(&key).arg(members).ignore();
            pipeline.cmd("PEXPIRE").arg(&key).arg(millis).ignore();
        }
        let mut connection = self.connection().await?;
        pipeline.query_async::<()>(&mut *connection).await.map_err(|error| self.error(&error))
    }

    async fn count(&self, unions: &[Vec<String>]) -> Result<Vec<i64>, CacheError> {
        if unions.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipeline = redis::pipe();
        for keys in unions {
            let keys: Vec<String> = keys.iter().map(|key| self.full_key(key)).collect();
            pipeline.cmd("PFCOUNT").arg(keys);
        }
        let mut connection = self.connection().await?;
        pipeline.query_async(&mut *connection).await.map_err(|error| self.error(&error))
    }
}

/// Logs the errors bb8 meets while opening connections in the background, which it would
/// otherwise drop.
#[derive(Debug, Clone, Copy)]
struct LogErrors;

impl ErrorSink<RedisError> for LogErrors {
    fn sink(&self, error: RedisError) {
        tracing::warn!(%error, "a Redis connection for the cache failed");
    }

    fn boxed_clone(&self) -> Box<dyn ErrorSink<RedisError>> {
        Box::new(*self)
    }
}
