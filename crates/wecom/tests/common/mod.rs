//! A small fake WeCom on 127.0.0.1:0: `gettoken` issues `tok-1`, `tok-2`…; every other API answers
//! from a script of replies (in order), then from a default reply, or from a custom handler.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use scrm_wecom::{RetryConfig, TokenCache, WeComClient, WeComConfig};

/// What the fake answers to one API call.
#[derive(Clone, Debug)]
pub enum Reply {
    /// This JSON, with HTTP 200.
    Json(Value),
    /// This HTTP status, empty body.
    Status(u16),
    /// Waits, then answers.
    Slow(u64, Box<Reply>),
}

/// One API call the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub api: String,
    pub query: HashMap<String, String>,
    pub content_type: String,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

#[derive(Default)]
pub struct Fake {
    pub gettoken_calls: AtomicUsize,
    pub api_calls: AtomicUsize,
    /// `expires_in` of the tokens issued (7200 unless set).
    pub expires_in: AtomicI64,
    /// Delay of `gettoken`, to make concurrent callers overlap.
    pub gettoken_delay_ms: AtomicUsize,
    /// `errcode` answered by `gettoken` (0: a token).
    pub gettoken_errcode: AtomicI64,
    pub script: Mutex<VecDeque<Reply>>,
    pub default: Mutex<Option<Reply>>,
    pub handler: Mutex<Option<Handler>>,
    pub seen: Mutex<Vec<Seen>>,
}

impl Fake {
    pub fn new() -> Arc<Self> {
        let fake = Self::default();
        fake.expires_in.store(7200, Ordering::SeqCst);
        Arc::new(fake)
    }

    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    pub fn default_reply(&self, reply: Reply) {
        *self.default.lock().unwrap() = Some(reply);
    }

    pub fn handle(&self, f: impl Fn(&Seen) -> Reply + Send + Sync + 'static) {
        *self.handler.lock().unwrap() = Some(Arc::new(f));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn gettokens(&self) -> usize {
        self.gettoken_calls.load(Ordering::SeqCst)
    }

    pub fn calls(&self) -> usize {
        self.api_calls.load(Ordering::SeqCst)
    }
}

pub fn ok(extra: Value) -> Reply {
    let mut v = json!({"errcode": 0, "errmsg": "ok"});
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    Reply::Json(v)
}

pub fn err(errcode: i64) -> Reply {
    Reply::Json(json!({"errcode": errcode, "errmsg": format!("error {errcode}")}))
}

async fn gettoken(State(fake): State<Arc<Fake>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let n = fake.gettoken_calls.fetch_add(1, Ordering::SeqCst) + 1;
    let delay = fake.gettoken_delay_ms.load(Ordering::SeqCst) as u64;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let errcode = fake.gettoken_errcode.load(Ordering::SeqCst);
    if errcode != 0 || q.get("corpsecret").map(String::as_str) != Some("secret") {
        let code = if errcode != 0 { errcode } else { 40001 };
        return axum::Json(json!({"errcode": code, "errmsg": "invalid credential"})).into_response();
    }
    axum::Json(json!({
        "errcode": 0, "errmsg": "ok", "access_token": format!("tok-{n}"),
        "expires_in": fake.expires_in.load(Ordering::SeqCst),
    }))
    .into_response()
}

async fn api(
    State(fake): State<Arc<Fake>>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.api_calls.fetch_add(1, Ordering::SeqCst);
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let seen = Seen { api: path, query, content_type, body };
    fake.seen.lock().unwrap().push(seen.clone());
    let handler = fake.handler.lock().unwrap().clone();
    let reply = match handler {
        Some(h) => h(&seen),
        None => {
            let next = fake.script.lock().unwrap().pop_front();
            next.or_else(|| fake.default.lock().unwrap().clone()).unwrap_or_else(|| ok(json!({})))
        }
    };
    render(reply).await
}

async fn render(mut reply: Reply) -> Response {
    loop {
        match reply {
            Reply::Json(v) => return axum::Json(v).into_response(),
            Reply::Status(s) => return StatusCode::from_u16(s).unwrap_or(StatusCode::IM_A_TEAPOT).into_response(),
            Reply::Slow(ms, inner) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                reply = *inner;
            }
        }
    }
}

/// Starts the fake; returns its base URL.
pub async fn start(fake: Arc<Fake>) -> String {
    let router =
        Router::new().route("/cgi-bin/gettoken", get(gettoken)).route("/cgi-bin/{*path}", any(api)).with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// A configuration for `base` with fast retries (1–5 ms), 5 attempts, 5 s budget.
pub fn config(base: &str) -> WeComConfig {
    WeComConfig {
        timeout_ms: 2_000,
        retry: RetryConfig {
            max_attempts: 5,
            max_elapsed_ms: 5_000,
            initial_backoff_ms: 2,
            max_backoff_ms: 10,
            retry_ambiguous_writes: false,
        },
        ..WeComConfig::new("ww-test-corp", "secret").with_api_base(base)
    }
}

/// A fake and a client of its own (own token cache) talking to it.
pub async fn setup() -> (Arc<Fake>, WeComClient) {
    let fake = Fake::new();
    let base = start(fake.clone()).await;
    let client = WeComClient::with_token_cache(config(&base), &TokenCache::new()).expect("client");
    (fake, client)
}
