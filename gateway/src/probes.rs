//! Liveness, readiness, metrics, and the opt-in sleep endpoint for drills.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use scrm_cache::Cache;
use scrm_storage::Db;
use serde::{Deserialize, Serialize};

/// The most `/debug/sleep` will wait.
const MAX_SLEEP: Duration = Duration::from_secs(600);

#[derive(Clone)]
struct Dependencies {
    db: Db,
    cache: Arc<dyn Cache>,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(db: Db, cache: Arc<dyn Cache>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .with_state(Dependencies { db, cache })
}

/// `GET /debug/sleep?ms=N`: a request that takes N milliseconds.
pub fn sleep_router() -> Router {
    Router::new().route("/debug/sleep", get(sleep))
}

/// The readiness report: each dependency and whether it answered.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `ready` when every check passed, `not_ready` otherwise.
    status: &'static str,
    /// `ok`, or the error of the database check.
    database: String,
    /// `ok`, or the error of the cache check.
    cache: String,
}

async fn ready(State(dependencies): State<Dependencies>) -> impl IntoResponse {
    let (database, cache) = tokio::join!(dependencies.db.ping(), dependencies.cache.ping());
    let outcome = |result: Result<(), String>| result.map_or_else(|error| error, |()| "ok".to_owned());
    let database = outcome(database.map_err(|error| error.to_string()));
    let cache = outcome(cache.map_err(|error| error.to_string()));
    let ready = database == "ok" && cache == "ok";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let report = Readiness { status: if ready { "ready" } else { "not_ready" }, database, cache };
    (status, Json(report))
}

#[derive(Debug, Deserialize)]
struct SleepQuery {
    ms: u64,
}

async fn sleep(Query(query): Query<SleepQuery>) -> String {
    let duration = Duration::from_millis(query.ms).min(MAX_SLEEP);
    tokio::time::sleep(duration).await;
    format!("slept {} ms", duration.as_millis())
}
