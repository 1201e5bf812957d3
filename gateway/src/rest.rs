//! The REST/JSON API under `/api/`: camelCase bodies, and errors as
//! `{"code": ..., "message": ..., "field": ...}` from the shared error-code table. The API is described by
//! the OpenAPI document served at `/api/openapi.json`.

mod crm;
pub mod sidebar;
mod tags;

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
        .route("/openapi.json", get(openapi))
        .nest("/auth", crate::auth::router())
        .merge(crm::router())
        .merge(tags::router())
        .merge(crate::customer_search::routes())
        .merge(crate::broadcast::router())
        .merge(crate::groups::router())
        .merge(crate::join_ways::router())
        .merge(sidebar::router())
        .fallback(not_found)
        .with_state(clients)
}

/// The OpenAPI 3 document of the REST API, kept in step with the routes by a test.
const OPENAPI: &str = include_str!("rest/openapi.json");

/// `GET /api/openapi.json`.
async fn openapi() -> Response {
    ([(http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
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

#[cfg(test)]
mod tests {
    use scrm_kernel::Role;
    use tonic::transport::Endpoint;
    use tower::ServiceExt;

    use super::*;

    /// Every operation the OpenAPI document lists, as `(METHOD, path)`.
    fn documented() -> Vec<(String, String)> {
        let document: serde_json::Value = serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON");
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().expect("the document has paths") {
            for method in item.as_object().expect("a path item is an object").keys() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
        operations
    }

    #[tokio::test]
    async fn every_documented_operation_is_routed() {
        let channel = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
        let channel = scrm_kernel::rpc::RpcChannel::remote(channel, None);
        let router = Router::new().nest("/api", router(Clients::new(|_| channel.clone())));
        let caller = Caller { staff_id: "op".into(), role: Role::Operator, store_ids: Vec::new() };
        let operations = documented();
        assert!(operations.len() >= 4, "{operations:?}");
        for (method, path) in operations {
            let uri = path.replace("{wxId}", "wm1");
            let mut request =
                http::Request::builder().method(method.as_str()).uri(&uri).body(axum::body::Body::from("")).unwrap();
            request.extensions_mut().insert(caller.clone());
            let response = router.clone().oneshot(request).await.unwrap();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(!body.contains("no such endpoint"), "{method} {path} is documented but not routed");
        }
    }
}
