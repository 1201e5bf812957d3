//! # scrm-wecom-sim: a WeCom (企业微信) simulator
//!
//! An axum server that speaks WeCom's HTTP API (the same `/cgi-bin/...` paths, JSON field names, errcodes
//! and semantics) closely enough that a real client, unchanged, works against it: tokens that expire,
//! cursor pagination with WeCom's page limits, rate limits answered with errcode 45009, fault injection,
//! group-message tasks that owners must confirm under daily receipt quotas, a seeded generator of
//! realistic corps ([`World::generate`]), and a seeded activity driver ([`Simulator::start_activity`]) that
//! keeps the corp changing on the simulator clock, raising WeCom's callbacks and filling the chat-archive
//! stand-in (`GET /sim/finance/chatdata`) and an orders feed (`GET /sim/orders`). See the crate README for
//! what it imitates and where it guessed.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
//! let sim = Simulator::new(SimConfig::default(), World::generate(1, WorldSize::DEMO));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! scrm_wecom_sim::serve(listener, sim).await
//! # }
//! ```

mod activity;
mod api;
mod callback;
mod clock;
mod config;
mod events;
mod feeds;
mod groupmsg;
mod oauth;
mod sim;
mod world;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bytes::Bytes;

pub use api::ApiError;
pub use callback::spawn_callback_pusher;
pub use clock::SimClock;
pub use config::{ActivityConfig, CallbackConfig, Faults, GroupMsgConfig, RateLimits, SimConfig};
pub use feeds::{ChatRecord, ChatText, Order};
pub use sim::{Delivered, NewContact, PendingEvent, Simulator, Stats};
pub use world::{Customer, Department, Follow, GroupChat, Member, Staff, Tag, TagGroup, World, WorldSize};

/// The simulator's HTTP routes: everything under `/cgi-bin/`, as on `qyapi.weixin.qq.com`, the OAuth
/// authorize page of WeCom sign-in at `/connect/oauth2/authorize`, and the simulator's own feeds under `/sim/`.
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/cgi-bin/{*api}", any(handle))
        .route("/connect/oauth2/authorize", get(oauth::authorize))
        .route(
            "/sim/finance/chatdata",
            any(|state, method, headers, query, body| {
                call(state, "sim/finance/chatdata".into(), method, headers, query, body)
            }),
        )
        .route("/sim/orders", get(orders))
        .with_state(sim)
}

/// Serves the simulator on `listener` until the task is dropped or the listener fails; also pushes callbacks
/// when [`SimConfig::callback`] is set.
pub async fn serve(listener: tokio::net::TcpListener, sim: Arc<Simulator>) -> std::io::Result<()> {
    let pusher = spawn_callback_pusher(sim.clone());
    let activity = sim.config().activity;
    if activity.enabled && !sim.activity_running() {
        sim.start_activity(activity);
    }
    let ticker = spawn_activity_ticker(sim.clone());
    let res = axum::serve(listener, router(sim)).await;
    if let Some(p) = pusher {
        p.abort();
    }
    ticker.abort();
    res
}

/// Runs the activity driver up to the simulator clock every `activity.tick_ms` of real time, so that a served
/// simulator lives on its own once [`Simulator::start_activity`] was called. [`serve`] starts it.
pub fn spawn_activity_ticker(sim: Arc<Simulator>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let tick = sim.config().activity.tick_ms.max(10);
            tokio::time::sleep(std::time::Duration::from_millis(tick)).await;
            sim.run_activity();
        }
    })
}

/// Query of the orders feed.
#[derive(Debug, serde::Deserialize)]
struct FeedQuery {
    #[serde(default)]
    seq: u64,
    #[serde(default = "default_feed_limit")]
    limit: usize,
}

fn default_feed_limit() -> usize {
    100
}

/// `GET /sim/orders?seq=&limit=`: orders with a `seq` above `seq`, oldest first, at most `limit` (≤ 1000).
async fn orders(State(sim): State<Arc<Simulator>>, query: Result<Query<FeedQuery>, QueryRejection>) -> Response {
    let Ok(Query(q)) = query else {
        return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({ "errcode": 40058, "errmsg": "invalid seq" })))
            .into_response();
    };
    if !(1..=1000).contains(&q.limit) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "errcode": 40058, "errmsg": "invalid limit" })),
        )
            .into_response();
    }
    axum::Json(serde_json::json!({ "errcode": 0, "errmsg": "ok", "orders": sim.orders(q.seq, q.limit) }))
        .into_response()
}

async fn handle(
    state: State<Arc<Simulator>>,
    Path(api): Path<String>,
    method: Method,
    headers: HeaderMap,
    query: RawQuery,
    body: Bytes,
) -> Response {
    call(state, api, method, headers, query, body).await
}

async fn call(
    State(sim): State<Arc<Simulator>>,
    api: String,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query: HashMap<String, String> = query
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default();
    let api = api.trim_matches('/');
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match sim.handle(api, method == Method::POST, &query, content_type, &body).await {
        sim::Outcome::Json(v) => {
            ([(header::CONTENT_TYPE, "application/json; charset=UTF-8")], v.to_string()).into_response()
        }
        sim::Outcome::NotFound => (StatusCode::NOT_FOUND, "404 page not found").into_response(),
        sim::Outcome::Http5xx => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
            .into_response(),
        sim::Outcome::Drop => {
            // Headers go out, then the body fails: hyper aborts the connection mid-response.
            let stream = futures::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("dropped")) });
            Response::new(Body::from_stream(stream))
        }
    }
}
