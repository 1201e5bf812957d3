//! # scrm-wecom-sim: a WeCom (企业微信) simulator
//!
//! An axum server that speaks WeCom's HTTP API (the same `/cgi-bin/...` paths, JSON field names, errcodes
//! and semantics) closely enough that a real client, unchanged, works against it: tokens that expire,
//! cursor pagination with WeCom's page limits, rate limits answered with errcode 45009, fault injection,
//! group-message tasks that owners must confirm under daily receipt quotas, and a seeded generator of
//! realistic corps ([`World::generate`]). See the crate README for what it imitates and where it guessed.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
//! let sim = Simulator::new(SimConfig::default(), World::generate(1, WorldSize::DEMO));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! scrm_wecom_sim::serve(listener, sim).await
//! # }
//! ```

mod api;
mod callback;
mod clock;
mod config;
mod events;
mod groupmsg;
mod oauth;
mod sim;
mod world;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;

pub use api::ApiError;
pub use callback::spawn_callback_pusher;
pub use clock::SimClock;
pub use config::{CallbackConfig, Faults, GroupMsgConfig, RateLimits, SimConfig};
pub use sim::{Delivered, NewContact, PendingEvent, Simulator, Stats};
pub use world::{Customer, Department, Follow, GroupChat, Member, Staff, Tag, TagGroup, World, WorldSize};

/// The simulator's HTTP routes: everything under `/cgi-bin/`, as on `qyapi.weixin.qq.com`, and the OAuth
/// authorize page of WeCom sign-in at `/connect/oauth2/authorize`.
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/cgi-bin/{*api}", any(handle))
        .route("/connect/oauth2/authorize", axum::routing::get(oauth::authorize))
        .with_state(sim)
}

/// Serves the simulator on `listener` until the task is dropped or the listener fails; also pushes callbacks
/// when [`SimConfig::callback`] is set.
pub async fn serve(listener: tokio::net::TcpListener, sim: Arc<Simulator>) -> std::io::Result<()> {
    let pusher = spawn_callback_pusher(sim.clone());
    let res = axum::serve(listener, router(sim)).await;
    if let Some(p) = pusher {
        p.abort();
    }
    res
}

async fn handle(
    State(sim): State<Arc<Simulator>>,
    Path(api): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query: HashMap<String, String> = query
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default();
    let api = api.trim_matches('/');
    match sim.handle(api, method == Method::POST, &query, &body).await {
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
