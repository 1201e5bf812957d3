//! Cache errors.

/// Why a cache operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A configuration value is out of range.
    #[error("invalid cache configuration: {0}")]
    InvalidConfig(String),
    /// The Redis URL cannot be used.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(String),
    /// The backend does not answer: connection refused or lost, or no pooled connection in time.
    #[error("cache backend unavailable: {0}")]
    Unavailable(String),
    /// `incr_by` found a value that is not a decimal 64-bit integer.
    #[error("the value at cache key {key:?} is not an integer")]
    NotAnInteger {
        /// The key as the caller named it (without the prefix).
        key: String,
    },
    /// `incr_by` would leave the 64-bit range.
    #[error("incrementing cache key {key:?} would overflow")]
    Overflow {
        /// The key as the caller named it (without the prefix).
        key: String,
    },
    /// The backend answered with an error of its own.
    #[error("cache backend error: {0}")]
    Backend(String),
}
