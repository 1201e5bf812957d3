//! The client: access token, one HTTP attempt, the retry loop, tracing and metrics.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::config::WeComConfig;
use crate::error::WeComError;
use crate::token::{TokenCache, TokenSlot};

/// Name of the counter of HTTP requests made to WeCom, labelled `api` and `errcode` (`0` for
/// success, WeCom's errcode, or `timeout`, `transport`, `http_<status>`, `decode`).
pub const METRIC_CALLS: &str = "scrm_wecom_api_calls_total";
/// Name of the histogram of WeCom request durations in seconds, labelled `api`.
pub const METRIC_DURATION: &str = "scrm_wecom_api_duration_seconds";
/// Name of the counter of retries after transient failures, labelled `api`.
pub const METRIC_RETRIES: &str = "scrm_wecom_api_retries_total";
/// Name of the counter of access tokens fetched, labelled `corp_id`.
pub const METRIC_TOKEN_FETCHES: &str = "scrm_wecom_token_fetches_total";

/// Whether a call may safely be repeated.
///
/// After an ambiguous failure (WeCom may have acted: a timeout after sending, HTTP 5xx) idempotent
/// calls are retried, the others only if
/// [`RetryConfig::retry_ambiguous_writes`](crate::RetryConfig::retry_ambiguous_writes) says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Reads, or changes state so that doing it twice is the same as once (set a name, mark a tag).
    Idempotent,
    /// Creates or sends something; repeating it could do so twice.
    NonIdempotent,
}

/// A typed, async WeCom API client.
///
/// Cheap to clone (the clones share the HTTP connection pool and the access token). Every method
/// maps to one WeCom API, with WeCom's own field names; see the crate documentation for the list.
#[derive(Clone)]
pub struct WeComClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: WeComConfig,
    base: String,
    http: reqwest::Client,
    token: Arc<TokenSlot>,
}

impl std::fmt::Debug for WeComClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeComClient").field("config", &self.inner.config).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Multipart { field: &'static str, filename: String, content_type: Option<String>, data: Bytes },
}

/// One API request, kept so that it can be sent again.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    /// Path below the base URL, up to the API name: `/cgi-bin/` for every WeCom API.
    pub(crate) root: &'static str,
    pub(crate) api: &'static str,
    pub(crate) method: Method,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Body,
    pub(crate) needs_token: bool,
    pub(crate) kind: CallKind,
}

impl ApiRequest {
    pub(crate) fn get(api: &'static str) -> Self {
        Self {
            root: "/cgi-bin/",
            api,
            method: Method::Get,
            query: Vec::new(),
            body: Body::Empty,
            needs_token: true,
            kind: CallKind::Idempotent,
        }
    }

    pub(crate) fn post<B: Serialize + ?Sized>(api: &'static str, kind: CallKind, body: &B) -> Result<Self, WeComError> {
        let json = serde_json::to_vec(body).map_err(|source| WeComError::Encode { api, source })?;
        Ok(Self {
            root: "/cgi-bin/",
            api,
            method: Method::Post,
            query: Vec::new(),
            body: Body::Json(json.into()),
            needs_token: true,
            kind,
        })
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

/// The `errcode` / `errmsg` envelope of every WeCom answer.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// The answer of APIs that return nothing but `errcode` / `errmsg`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorResponse {
    /// 0 on success (the client turns any other value into [`WeComError::Api`]).
    pub errcode: i64,
    /// `"ok"` on success.
    pub errmsg: String,
}

/// `gettoken`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessTokenResponse {
    /// The access token.
    pub access_token: String,
    /// Its lifetime in seconds (normally 7200).
    pub expires_in: i64,
}

impl WeComClient {
    /// A client for `config`, sharing access tokens through [`TokenCache::global`].
    pub fn new(config: WeComConfig) -> Result<Self, WeComError> {
        Self::with_token_cache(config, &TokenCache::global())
    }

    /// A client for `config` whose access tokens live in `cache`.
    pub fn with_token_cache(config: WeComConfig, cache: &TokenCache) -> Result<Self, WeComError> {
        let base = config.api_base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(WeComError::Config(format!("api_base must be an http(s) URL, got {:?}", config.api_base)));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.connect_timeout())
            .user_agent(concat!("scrm-wecom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WeComError::Config(format!("cannot build the HTTP client: {e}")))?;
        let token = cache.slot(&base, &config.corp_id, &config.secret);
        Ok(Self { inner: Arc::new(Inner { config, base, http, token }) })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &WeComConfig {
        &self.inner.config
    }

    /// A valid access token: the cached one, or a new one from `gettoken` when it is missing or due
    /// for refresh. Concurrent callers share one `gettoken` call.
    pub async fn access_token(&self) -> Result<Arc<str>, WeComError> {
        let slot = &self.inner.token;
        if let Some(token) = slot.fresh() {
            return Ok(token);
        }
        let _flight = slot.refresh.lock().await;
        if let Some(token) = slot.fresh() {
            return Ok(token);
        }
        let fetched = self.gettoken().await?;
        if fetched.access_token.is_empty() {
            return Err(WeComError::Api {
                api: "gettoken",
                errcode: 0,
                errmsg: "gettoken returned no access_token".to_owned(),
            });
        }
        metrics::counter!(METRIC_TOKEN_FETCHES, "corp_id" => self.inner.config.corp_id.clone()).increment(1);
        let expires_in = Duration::from_secs(fetched.expires_in.clamp(0, 7 * 24 * 3600) as u64);
        Ok(slot.store(fetched.access_token.into(), expires_in, self.inner.config.token_refresh_margin()))
    }

    /// Forgets the cached access token, so that the next call fetches a new one.
    pub fn invalidate_access_token(&self) {
        if let Some(token) = self.inner.token.fresh() {
            self.inner.token.invalidate(&token);
        }
    }

    /// `GET /cgi-bin/gettoken?corpid=&corpsecret=`: fetches a new access token, bypassing the cache
    /// (use [`access_token`](Self::access_token) to get the cached one).
    pub async fn gettoken(&self) -> Result<AccessTokenResponse, WeComError> {
        let mut req = ApiRequest::get("gettoken")
            .query("corpid", self.inner.config.corp_id.clone())
            .query("corpsecret", self.inner.config.secret.clone());
        req.needs_token = false;
        self.execute_without_token(req).await
    }

    /// Calls any GET API below `/cgi-bin/` with the access token added, for APIs this crate does
    /// not type yet. `api` names the API in traces and metrics (e.g. `"agent/get"`).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        api: &'static str,
        query: &[(&'static str, &str)],
    ) -> Result<T, WeComError> {
        let mut req = ApiRequest::get(api);
        for (name, value) in query {
            req = req.query(name, *value);
        }
        self.execute(req).await
    }

    /// Calls any POST API below `/cgi-bin/` with a JSON body and the access token added, for APIs
    /// this crate does not type yet.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        api: &'static str,
        kind: CallKind,
        body: &B,
    ) -> Result<T, WeComError> {
        self.execute(ApiRequest::post(api, kind, body)?).await
    }

    /// Runs one API call: token, attempts, refresh on token errors, retries; traced and measured.
    pub(crate) async fn execute<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, WeComError> {
        if !req.needs_token {
            return self.execute_without_token(req).await;
        }
        let refreshed = AtomicBool::new(false);
        self.run(req.api, req.kind, || self.attempt_with_token::<T>(&req, &refreshed)).await
    }

    /// Runs one API call that needs no access token (`gettoken` itself, webhooks).
    async fn execute_without_token<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, WeComError> {
        self.run(req.api, req.kind, || self.send_once::<T>(&req, None)).await
    }

    /// Runs `attempt` with retries inside a `wecom.api` span.
    async fn run<T, F, Fut>(&self, api: &'static str, kind: CallKind, attempt: F) -> Result<T, WeComError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, WeComError>>,
    {
        let span =
            tracing::info_span!("wecom.api", api, errcode = tracing::field::Empty, attempts = tracing::field::Empty,);
        async {
            let attempts = AtomicU32::new(0);
            let result = self.with_retry(api, kind, &attempts, attempt).await;
            let span = tracing::Span::current();
            span.record("attempts", attempts.load(Ordering::Relaxed));
            match &result {
                Ok(_) => {
                    span.record("errcode", 0);
                }
                Err(e) => {
                    span.record("errcode", e.metric_label().as_str());
                    tracing::debug!(error = %e, "WeCom call failed");
                }
            }
            result
        }
        .instrument(span)
        .await
    }

    /// One attempt: with a token when the API needs one; on a token error, invalidates the token and
    /// tries once more with a new one (once per call).
    async fn attempt_with_token<T: DeserializeOwned>(
        &self,
        req: &ApiRequest,
        refreshed: &AtomicBool,
    ) -> Result<T, WeComError> {
        let token = self.access_token().await?;
        match self.send_once(req, Some(&token)).await {
            Err(e) if e.is_token_error() && !refreshed.swap(true, Ordering::Relaxed) => {
                tracing::info!(api = req.api, errcode = e.errcode(), "access token rejected; fetching a new one");
                self.inner.token.invalidate(&token);
                let token = self.access_token().await?;
                self.send_once(req, Some(&token)).await
            }
            other => other,
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry budget is spent.
    async fn with_retry<T, F, Fut>(
        &self,
        api: &'static str,
        kind: CallKind,
        attempts: &AtomicU32,
        mut attempt: F,
    ) -> Result<T, WeComError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, WeComError>>,
    {
        let retry = &self.inner.config.retry;
        let start = Instant::now();
        loop {
            let n = attempts.fetch_add(1, Ordering::Relaxed) + 1;
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let retryable = err.is_transient()
                && (kind == CallKind::Idempotent || retry.retry_ambiguous_writes || !err.is_ambiguous());
            if !retryable {
                return Err(err);
            }
            let delay = retry.backoff(n);
            let elapsed = start.elapsed();
            if n >= retry.max_attempts.max(1) || elapsed + delay > retry.max_elapsed() {
                tracing::warn!(api, attempts = n, ?elapsed, error = %err, "WeCom retry budget exhausted");
                return Err(WeComError::RetryBudgetExhausted { api, attempts: n, elapsed, last: Box::new(err) });
            }
            tracing::debug!(api, attempt = n, ?delay, error = %err, "transient WeCom failure; retrying");
            metrics::counter!(METRIC_RETRIES, "api" => api).increment(1);
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP request and its decoding, counted and timed.
    async fn send_once<T: DeserializeOwned>(&self, req: &ApiRequest, token: Option<&str>) -> Result<T, WeComError> {
        let started = Instant::now();
        let result = self.send_once_inner(req, token).await;
        metrics::histogram!(METRIC_DURATION, "api" => req.api).record(started.elapsed().as_secs_f64());
        let errcode = match &result {
            Ok(_) => "0".to_owned(),
            Err(e) => e.metric_label(),
        };
        metrics::counter!(METRIC_CALLS, "api" => req.api, "errcode" => errcode).increment(1);
        result
    }

    async fn send_once_inner<T: DeserializeOwned>(
        &self,
        req: &ApiRequest,
        token: Option<&str>,
    ) -> Result<T, WeComError> {
        let api = req.api;
        let transport = |e: reqwest::Error| WeComError::Transport { api, source: e.without_url() };
        let url = format!("{}{}{}", self.inner.base, req.root, api);
        let mut builder = match req.method {
            Method::Get => self.inner.http.get(url),
            Method::Post => self.inner.http.post(url),
        };
        let mut query: Vec<(&str, &str)> = req.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(token) = token {
            query.push(("access_token", token));
        }
        if !query.is_empty() {
            builder = builder.query(&query);
        }
        builder = match &req.body {
            Body::Empty => builder,
            Body::Json(json) => builder.header(reqwest::header::CONTENT_TYPE, "application/json").body(json.clone()),
            Body::Multipart { field, filename, content_type, data } => {
                let part = reqwest::multipart::Part::stream_with_length(data.clone(), data.len() as u64)
                    .file_name(filename.clone());
                let part = match content_type {
                    Some(ct) => part.mime_str(ct).map_err(transport)?,
                    None => part,
                };
                builder.multipart(reqwest::multipart::Form::new().part(*field, part))
            }
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(WeComError::Http { api, status: status.as_u16() });
        }
        let body = response.bytes().await.map_err(transport)?;
        decode(api, &body)
    }
}

/// Decodes a WeCom answer: a non-zero `errcode` becomes [`WeComError::Api`], otherwise the body is
/// decoded as `T`.
pub(crate) fn decode<T: DeserializeOwned>(api: &'static str, body: &[u8]) -> Result<T, WeComError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|source| WeComError::Decode { api, source })?;
    if envelope.errcode != 0 {
        return Err(WeComError::Api { api, errcode: envelope.errcode, errmsg: envelope.errmsg });
    }
    serde_json::from_slice(body).map_err(|source| WeComError::Decode { api, source })
}
