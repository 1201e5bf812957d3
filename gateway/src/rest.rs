//! The REST/JSON API under `/api/`: camelCase bodies, and errors as
//! `{"code": ..., "message": ..., "field": ...}` from the shared error-code table.

use axum::extract::{OriginalUri, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode};
use scrm_proto::analytics::v1::GetOverviewRequest;
use serde::Serialize;

/// The `/api` routes.
pub fn router(clients: Clients) -> Router {
    Router::new()
        .route("/overview", get(overview))
        .merge(crate::customer_search::routes())
        .fallback(not_found)
        .with_state(clients)
}

/// An error answered on REST as JSON, or as a gRPC status to gRPC callers.
#[derive(Debug)]
pub struct RestError(pub(crate) ApiError);

impl From<ApiError> for RestError {
    fn from(error: ApiError) -> Self {
        RestError(error)
    }
}

impl From<tonic::Status> for RestError {
    fn from(status: tonic::Status) -> Self {
        RestError(ApiError::from_status(&status))
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (self.0.code.http_status(), Json(self.0)).into_response()
    }
}

impl RestError {
    /// The error in the protocol `request` speaks: a gRPC status for gRPC and grpc-web, JSON otherwise.
    pub fn into_response_for<B>(self, request: &http::Request<B>) -> Response {
        if is_grpc(request) {
            tonic::Status::from(self.0).into_http::<axum::body::Body>()
        } else {
            self.into_response()
        }
    }
}

/// Whether `request` is gRPC or grpc-web.
pub fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/grpc"))
}

/// Answers a path nothing serves.
pub async fn not_found(request: Request) -> Response {
    let path = request.extensions().get::<OriginalUri>().map_or_else(|| request.uri().path(), |uri| uri.path());
    let message = format!("no such endpoint: {} {path}", request.method());
    RestError(ApiError::new(ErrorCode::NotFound, message)).into_response_for(&request)
}

/// `GET /api/overview`: the headline numbers that exist so far.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OverviewBody {
    /// Customers visible to the caller.
    customer_total: i64,
    /// Live customer groups visible to the caller.
    group_total: i64,
    /// When the numbers were read, RFC 3339.
    computed_at: Option<String>,
}

async fn overview(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<OverviewBody>, RestError> {
    let overview = clients.analytics.clone().get_overview(caller.outgoing(GetOverviewRequest {})?).await?.into_inner();
    Ok(Json(OverviewBody {
        customer_total: overview.customer_total,
        group_total: overview.group_total,
        computed_at: overview.computed_at.map(|time| time.to_string()),
    }))
}
