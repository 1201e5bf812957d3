//! Per-request limits: a deadline and a body-size cap, answered in the caller's protocol.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;
use scrm_kernel::{ApiError, ErrorCode};

use crate::rest::RestError;

/// Middleware: answers with a timeout error when the request outlives `timeout`.
pub async fn time_out(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let grpc = crate::rest::is_grpc(&request);
    let started = tokio::time::Instant::now();
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let error =
                ApiError::new(ErrorCode::Timeout, format!("the request took longer than {} s", timeout.as_secs_f64()));
            tracing::warn!(elapsed_ms = started.elapsed().as_millis() as u64, "request timed out");
            if grpc {
                tonic::Status::from(error).into_http()
            } else {
                axum::response::IntoResponse::into_response(RestError::from(error))
            }
        }
    }
}

/// Middleware: refuses bodies over `limit` bytes, by their declared length or as they stream.
pub async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        let error = ApiError::new(ErrorCode::PayloadTooLarge, format!("the request body exceeds {limit} bytes"));
        return RestError::from(error).into_response_for(&request);
    }
    next.run(request.map(|body| axum::body::Body::new(Limited::new(body, limit)))).await
}
