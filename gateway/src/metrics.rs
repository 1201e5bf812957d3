//! Prometheus metrics: the process-wide recorder, and the request counters of the gateway.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once) and returns its handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only what it records");
        }
        metrics::describe_counter!("scrm_http_requests_total", "Requests answered by the gateway.");
        metrics::describe_histogram!(
            "scrm_http_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time to the response head."
        );
        handle
    })
}

/// The metrics in Prometheus text format.
pub fn render() -> String {
    install().render()
}

/// Middleware: counts and times every request by protocol, route and status.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let protocol = protocol_of(&request);
    let route = match (protocol, request.extensions().get::<MatchedPath>()) {
        ("grpc" | "grpc_web", _) => request.uri().path().to_owned(),
        (_, Some(matched)) => matched.as_str().to_owned(),
        _ => "unmatched".to_owned(),
    };
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let labels = [
        ("protocol", protocol.to_owned()),
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("scrm_http_requests_total", &labels).increment(1);
    metrics::histogram!("scrm_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

fn protocol_of(request: &Request) -> &'static str {
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/grpc-web") {
        "grpc_web"
    } else if content_type.starts_with("application/grpc") {
        "grpc"
    } else {
        "http"
    }
}
