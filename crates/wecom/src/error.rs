//! The client's error type.

use std::time::Duration;

/// errcode -1: system busy (系统繁忙), try again.
pub const ERRCODE_SYSTEM_BUSY: i64 = -1;
/// errcode 40001: invalid credential (the secret, or an access token that is not valid).
pub const ERRCODE_INVALID_CREDENTIAL: i64 = 40001;
/// errcode 40014: invalid access_token.
pub const ERRCODE_INVALID_ACCESS_TOKEN: i64 = 40014;
/// errcode 42001: access_token expired.
pub const ERRCODE_ACCESS_TOKEN_EXPIRED: i64 = 42001;
/// errcode 45009: API call frequency limit exceeded.
pub const ERRCODE_RATE_LIMITED: i64 = 45009;
/// errcode 45033: API concurrency limit exceeded.
pub const ERRCODE_CONCURRENCY_LIMITED: i64 = 45033;

/// What can go wrong calling WeCom.
///
/// `api` is the API path below `/cgi-bin/` (e.g. `"externalcontact/get"`). No variant's message
/// contains the access token or the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeComError {
    /// WeCom answered with a non-zero `errcode`.
    #[error("WeCom API {api} failed: errcode {errcode}: {errmsg}")]
    Api {
        /// The API called.
        api: &'static str,
        /// WeCom's error code.
        errcode: i64,
        /// WeCom's error message.
        errmsg: String,
    },
    /// The request did not complete: connection refused or dropped, timeout, TLS…
    #[error("WeCom API {api}: transport error: {source}")]
    Transport {
        /// The API called.
        api: &'static str,
        /// The underlying error (its URL removed, since the URL carries the access token).
        #[source]
        source: reqwest::Error,
    },
    /// WeCom (or a proxy in between) answered with a non-success HTTP status.
    #[error("WeCom API {api}: HTTP status {status}")]
    Http {
        /// The API called.
        api: &'static str,
        /// The HTTP status code.
        status: u16,
    },
    /// The response body is not the JSON the API documents.
    #[error("WeCom API {api}: cannot decode the response: {source}")]
    Decode {
        /// The API called.
        api: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A request could not be encoded (never expected with the typed requests of this crate).
    #[error("WeCom API {api}: cannot encode the request: {source}")]
    Encode {
        /// The API called.
        api: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A paginated API returned the cursor it was given, which would loop forever.
    #[error("WeCom API {api}: pagination did not advance (cursor {cursor:?} returned again)")]
    PaginationStalled {
        /// The API called.
        api: &'static str,
        /// The cursor WeCom returned again.
        cursor: String,
    },
    /// Transient failures went on past the retry budget (attempts or total time).
    #[error("WeCom API {api}: retry budget exhausted after {attempts} attempts in {elapsed:?}; last error: {last}")]
    RetryBudgetExhausted {
        /// The API called.
        api: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// How long the call took in all.
        elapsed: Duration,
        /// The last transient error.
        last: Box<WeComError>,
    },
    /// The configuration is unusable (e.g. an empty corp id, or a bad base URL).
    #[error("invalid WeCom client configuration: {0}")]
    Config(String),
}

impl WeComError {
    /// The API the error is about, when there is one.
    pub fn api(&self) -> Option<&'static str> {
        match self {
            Self::Api { api, .. }
            | Self::Transport { api, .. }
            | Self::Http { api, .. }
            | Self::Decode { api, .. }
            | Self::Encode { api, .. }
            | Self::PaginationStalled { api, .. }
            | Self::RetryBudgetExhausted { api, .. } => Some(api),
            Self::Config(_) => None,
        }
    }

    /// WeCom's errcode, for [`WeComError::Api`] (and the last error of an exhausted budget).
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } => Some(*errcode),
            Self::RetryBudgetExhausted { last, .. } => last.errcode(),
            _ => None,
        }
    }

    /// Whether the failure is temporary, so that the same call may succeed later: errcode -1 (system
    /// busy), 45009 (frequency limit), 45033 (concurrency limit), timeouts, connection errors and
    /// HTTP 5xx. Logic errors (other errcodes, HTTP 4xx, undecodable answers) are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { errcode, .. } => is_transient_errcode(*errcode),
            Self::Transport { source, .. } => !source.is_builder() && !source.is_redirect(),
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Whether WeCom may have acted on the request although the call failed (a timeout after the
    /// request was sent, a connection dropped mid-response, HTTP 5xx). Only transient errors where
    /// the request was certainly refused or never arrived (errcode -1/45009/45033, HTTP 429, a
    /// failed connect) are safe to retry for calls that change state.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Transport { source, .. } => !source.is_connect() && !source.is_builder(),
            Self::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the errcode says the access token is invalid or expired (40014, 42001, 40001), so it
    /// should be fetched anew.
    pub fn is_token_error(&self) -> bool {
        matches!(self, Self::Api { errcode, .. } if is_token_errcode(*errcode))
    }

    /// The label used for this error in metrics: the errcode, or a short kind.
    pub(crate) fn metric_label(&self) -> String {
        match self {
            Self::Api { errcode, .. } => errcode.to_string(),
            Self::Transport { source, .. } if source.is_timeout() => "timeout".to_owned(),
            Self::Transport { .. } => "transport".to_owned(),
            Self::Http { status, .. } => format!("http_{status}"),
            Self::Decode { .. } => "decode".to_owned(),
            Self::Encode { .. } => "encode".to_owned(),
            Self::PaginationStalled { .. } => "pagination".to_owned(),
            Self::RetryBudgetExhausted { last, .. } => last.metric_label(),
            Self::Config(_) => "config".to_owned(),
        }
    }
}

/// Whether `errcode` is one WeCom uses for temporary overload (-1, 45009, 45033).
pub fn is_transient_errcode(errcode: i64) -> bool {
    matches!(errcode, ERRCODE_SYSTEM_BUSY | ERRCODE_RATE_LIMITED | ERRCODE_CONCURRENCY_LIMITED)
}

/// Whether `errcode` says the access token must be fetched anew (40014, 42001, 40001).
pub fn is_token_errcode(errcode: i64) -> bool {
    matches!(errcode, ERRCODE_INVALID_ACCESS_TOKEN | ERRCODE_ACCESS_TOKEN_EXPIRED | ERRCODE_INVALID_CREDENTIAL)
}
