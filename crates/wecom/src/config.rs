//! Client configuration.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The public WeCom API host.
pub const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com";

/// Configuration of a [`WeComClient`](crate::WeComClient).
///
/// Every field has a default, so a configuration file only needs `corp_id` and `secret`
/// (and `api_base` to talk to the WeCom simulator). `Debug` never prints the secret.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct WeComConfig {
    /// Base URL of the WeCom API, without a trailing slash; default `https://qyapi.weixin.qq.com`.
    /// Point it at the WeCom simulator in tests and the demo.
    pub api_base: String,
    /// The corp id (企业ID, `corpid`).
    pub corp_id: String,
    /// The application or contact/customer secret (`corpsecret`) the access token is issued for.
    pub secret: String,
    /// Time limit of one HTTP request, in milliseconds (default 10 000).
    pub timeout_ms: u64,
    /// Time limit for establishing a connection, in milliseconds (default 3 000).
    pub connect_timeout_ms: u64,
    /// Refresh the access token this many seconds before WeCom says it expires (default 300).
    /// Capped at half the token's lifetime, so short-lived tokens (simulator) are still reused.
    pub token_refresh_margin_secs: u64,
    /// How transient failures are retried.
    pub retry: RetryConfig,
}

impl Default for WeComConfig {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            corp_id: String::new(),
            secret: String::new(),
            timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            token_refresh_margin_secs: 300,
            retry: RetryConfig::default(),
        }
    }
}

impl WeComConfig {
    /// A configuration for `corp_id` and `secret` against the public WeCom API, defaults elsewhere.
    pub fn new(corp_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { corp_id: corp_id.into(), secret: secret.into(), ..Self::default() }
    }

    /// The same configuration with another API base URL (e.g. the simulator's).
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into();
        self
    }

    /// The request timeout as a [`Duration`].
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The connect timeout as a [`Duration`].
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The token refresh margin as a [`Duration`].
    pub fn token_refresh_margin(&self) -> Duration {
        Duration::from_secs(self.token_refresh_margin_secs)
    }
}

impl fmt::Debug for WeComConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeComConfig")
            .field("api_base", &self.api_base)
            .field("corp_id", &self.corp_id)
            .field("secret", &if self.secret.is_empty() { "" } else { "<redacted>" })
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("token_refresh_margin_secs", &self.token_refresh_margin_secs)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The retry budget for transient failures (errcode -1, 45009, 45033, timeouts, connection errors,
/// HTTP 5xx). Logic errors are never retried.
///
/// Delays grow exponentially from `initial_backoff_ms`, capped at `max_backoff_ms`, with jitter (each
/// delay is drawn uniformly from its upper half). A call gives up with
/// [`WeComError::RetryBudgetExhausted`](crate::WeComError::RetryBudgetExhausted) once it made
/// `max_attempts` attempts or the next delay would take it past `max_elapsed_ms`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RetryConfig {
    /// Most attempts of one call, the first included (default 5; 1 disables retries).
    pub max_attempts: u32,
    /// Most time one call may spend, retries and waits included, in milliseconds (default 30 000).
    pub max_elapsed_ms: u64,
    /// Delay before the first retry, in milliseconds (default 200).
    pub initial_backoff_ms: u64,
    /// Longest delay between two attempts, in milliseconds (default 5 000).
    pub max_backoff_ms: u64,
    /// Whether calls that change state in WeCom (send a message, create a task or a tag…) are also
    /// retried after failures that leave it unknown whether WeCom acted: timeouts after the request
    /// was sent, a connection dropped mid-response, HTTP 5xx. Off by default, since a retry could
    /// then send a message twice; rejections (-1, 45009, 45033) and failures to connect are always
    /// retried.
    pub retry_ambiguous_writes: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_elapsed_ms: 30_000,
            initial_backoff_ms: 200,
            max_backoff_ms: 5_000,
            retry_ambiguous_writes: false,
        }
    }
}

impl RetryConfig {
    /// The upper bound of the delay before retry number `retry` (1 for the first retry), before jitter.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let ms = self.initial_backoff_ms.saturating_mul(1u64 << exp).min(self.max_backoff_ms);
        Duration::from_millis(ms)
    }

    /// The delay before retry number `retry`, jittered: uniform in the upper half of
    /// [`backoff_ceiling`](Self::backoff_ceiling).
    pub fn backoff(&self, retry: u32) -> Duration {
        use rand::Rng;
        let ceiling = self.backoff_ceiling(retry).as_millis() as u64;
        if ceiling == 0 {
            return Duration::ZERO;
        }
        let ms = rand::rng().random_range(ceiling / 2..=ceiling);
        Duration::from_millis(ms)
    }

    /// The total time budget as a [`Duration`].
    pub fn max_elapsed(&self) -> Duration {
        Duration::from_millis(self.max_elapsed_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_a_partial_configuration() {
        let config: WeComConfig =
            serde_json::from_str(r#"{"corp_id":"ww1","secret":"s","retry":{"max_attempts":2}}"#).expect("config");
        assert_eq!(config.api_base, DEFAULT_API_BASE);
        assert_eq!(config.retry.max_attempts, 2);
        assert_eq!(config.retry.max_elapsed_ms, RetryConfig::default().max_elapsed_ms);
        assert_eq!(config.token_refresh_margin(), Duration::from_secs(300));
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", WeComConfig::new("ww1", "top-secret"));
        assert!(shown.contains("ww1") && !shown.contains("top-secret"), "{shown}");
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let retry = RetryConfig { initial_backoff_ms: 100, max_backoff_ms: 1_000, ..RetryConfig::default() };
        assert_eq!(retry.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(retry.backoff_ceiling(3), Duration::from_millis(400));
        assert_eq!(retry.backoff_ceiling(10), Duration::from_millis(1_000));
        assert_eq!(retry.backoff_ceiling(u32::MAX), Duration::from_millis(1_000));
        for n in 1..12 {
            let d = retry.backoff(n);
            let ceiling = retry.backoff_ceiling(n);
            assert!(d <= ceiling && d >= ceiling / 2, "retry {n}: {d:?} vs {ceiling:?}");
        }
    }
}
