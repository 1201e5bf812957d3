//! The access-token cache: one token per (API base, corp id, secret), refreshed before it expires,
//! fetched by one caller at a time while the others wait for its result (single flight).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// A shared store of access tokens, keyed by API base, corp id and secret.
///
/// Clients built with the same store and the same credentials share one token, so a process that
/// builds several clients for one corp fetches one token, not one per client. Cloning the store is
/// cheap and shares it. [`WeComClient::new`](crate::WeComClient::new) uses [`TokenCache::global`].
#[derive(Clone, Default)]
pub struct TokenCache {
    slots: Arc<Mutex<HashMap<TokenKey, Arc<TokenSlot>>>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("TokenCache").field("credentials", &n).finish()
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    api_base: String,
    corp_id: String,
    secret: String,
}

impl TokenCache {
    /// An empty store, shared by nothing else.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide store.
    pub fn global() -> Self {
        static GLOBAL: OnceLock<TokenCache> = OnceLock::new();
        GLOBAL.get_or_init(TokenCache::new).clone()
    }

    pub(crate) fn slot(&self, api_base: &str, corp_id: &str, secret: &str) -> Arc<TokenSlot> {
        let key = TokenKey { api_base: api_base.to_owned(), corp_id: corp_id.to_owned(), secret: secret.to_owned() };
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }
}

/// The token of one set of credentials.
#[derive(Default)]
pub(crate) struct TokenSlot {
    current: Mutex<Option<CachedToken>>,
    /// Held by the one caller fetching a new token; the others wait on it, then find the new token.
    pub(crate) refresh: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct CachedToken {
    token: Arc<str>,
    refresh_at: Instant,
}

impl TokenSlot {
    /// The cached token, if it is not due for refresh.
    pub(crate) fn fresh(&self) -> Option<Arc<str>> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().filter(|t| Instant::now() < t.refresh_at).map(|t| t.token.clone())
    }

    /// Stores a token WeCom says lives `expires_in`, to be refreshed `margin` before then (at most
    /// half its life before).
    pub(crate) fn store(&self, token: Arc<str>, expires_in: Duration, margin: Duration) -> Arc<str> {
        let margin = margin.min(expires_in / 2);
        let refresh_at = Instant::now() + expires_in.saturating_sub(margin);
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        *current = Some(CachedToken { token: token.clone(), refresh_at });
        token
    }

    /// Forgets `token` if it is still the cached one (a concurrent caller may have replaced it).
    pub(crate) fn invalidate(&self, token: &str) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|t| &*t.token == token) {
            *current = None;
        }
    }
}
