//! The scrm gateway: one port serving native gRPC, grpc-web, the REST/JSON API under `/api/`,
//! the WeCom callback URL, probes, Prometheus metrics and the web admin.
//!
//! Every request passes the same layers, outermost first: request id, access log and trace
//! span, metrics, timeout, body-size limit, CORS, and caller identification.

mod audit;
mod auth;
mod broadcast;
mod caller;
mod customer_search;
mod groups;
mod grpc;
mod join_ways;
mod limits;
pub mod metrics;
mod observe;
mod probes;
mod rest;
mod wecom_callback;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use http::HeaderValue;
use scrm_cache::Cache;
use scrm_kernel::{Caller, Clients};
use scrm_storage::Db;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

pub use grpc::GrpcRoutes;

/// How the gateway behaves.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Browser origins allowed by CORS.
    pub cors_origins: Vec<HeaderValue>,
    /// Directory of the built web admin.
    pub static_dir: PathBuf,
    /// Directory of the built sidebar H5, served at `/sidebar/` when it holds an `index.html`.
    pub sidebar_dir: PathBuf,
    /// Whether the process runs the demo corp (the sidebar then uses its JS-SDK shim).
    pub demo: bool,
    /// Token other scrm processes present; requests bearing it keep their caller metadata.
    pub cluster_token: Option<HeaderValue>,
    /// Development opt-in: the caller assumed for requests that bring no credential. `None` (the product
    /// default) answers them 401.
    pub local_caller: Option<Caller>,
    /// Whether `GET /debug/sleep?ms=N` is served.
    pub sleep_endpoint: bool,
    /// The keys of the WeCom callback URL (none until WeCom is configured), shared with the identity service
    /// so that rotated keys apply at once.
    pub wecom_callback: scrm_wecom_crypto::CallbackKeyring,
}

/// What the gateway needs from the rest of the process.
pub struct Gateway {
    /// Behaviour.
    pub config: GatewayConfig,
    /// Clients of every service, local or remote.
    pub clients: Clients,
    /// The gRPC services this process runs.
    pub grpc: GrpcRoutes,
    /// The database, checked by `/readyz`.
    pub db: Db,
    /// The cache, checked by `/readyz`.
    pub cache: Arc<dyn Cache>,
}

impl Gateway {
    /// The router serving everything on one port.
    pub async fn into_router(self) -> Router {
        let Gateway { config, clients, grpc, db, cache } = self;
        let mut router = Router::new()
            .merge(grpc.into_router().await)
            .nest("/api", rest::router(clients.clone()))
            .merge(wecom_callback::router(config.wecom_callback.clone(), clients.clone()))
            .merge(probes::router(db, cache));
        if config.sleep_endpoint {
            router = router.merge(probes::sleep_router());
        }
        let sidebar_index = config.sidebar_dir.join("index.html");
        if sidebar_index.exists() {
            router = router
                .nest_service("/sidebar", ServeDir::new(&config.sidebar_dir).fallback(ServeFile::new(sidebar_index)));
        }
        let index = config.static_dir.join("index.html");
        if index.exists() {
            router = router.fallback_service(ServeDir::new(&config.static_dir).fallback(ServeFile::new(index)));
        } else {
            router = router.fallback(rest::not_found);
        }
        let router = router
            .layer(axum::Extension(rest::sidebar::SidebarDemo(config.demo)))
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(caller::CallerPolicy::new(config.cluster_token.clone(), config.local_caller.clone(), clients)),
                caller::identify_caller,
            ))
            .layer(cors(&config.cors_origins))
            .layer(axum::middleware::from_fn_with_state(config.body_limit_bytes, limits::limit_body))
            .layer(axum::middleware::from_fn_with_state(config.request_timeout, limits::time_out))
            .layer(axum::middleware::from_fn(metrics::record));
        observe::layer(router)
    }
}

fn cors(origins: &[HeaderValue]) -> CorsLayer {
    use http::header::{AUTHORIZATION, CONTENT_TYPE};
    use http::{HeaderName, Method};
    const HEADERS: [&str; 7] = [
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
        "idempotency-key",
        "x-request-id",
        "traceparent",
        caller::CSRF_HEADER,
    ];
    const EXPOSED: [&str; 4] = ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"];
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers(
            HEADERS
                .iter()
                .map(|name| HeaderName::from_static(name))
                .chain([AUTHORIZATION, CONTENT_TYPE])
                .collect::<Vec<_>>(),
        )
        .expose_headers(EXPOSED.iter().map(|name| HeaderName::from_static(name)).collect::<Vec<_>>())
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}
