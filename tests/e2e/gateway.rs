//! The gateway's surfaces: probes, REST errors, limits, gRPC, grpc-web, reflection, CORS, metrics.

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use scrm_proto::analytics::v1::GetOverviewRequest;
use scrm_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use serde_json::{Value, json};
use tokio_stream::StreamExt;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::harness::{TestApp, http, insert_customer, insert_group};

#[tokio::test]
async fn probes_answer_on_embedded_defaults() {
    let app = TestApp::spawn().await;
    let health = http().get(format!("{}/healthz", app.url())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready: Value = http().get(format!("{}/readyz", app.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready, json!({"status": "ready", "database": "ok", "cache": "ok"}));
}

#[tokio::test]
async fn rest_overview_counts_what_the_services_hold() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    insert_customer(&db, "wm1", "s1").await;
    insert_customer(&db, "wm2", "s2").await;
    insert_group(&db, "wr1", "s1").await;
    let response = http().get(format!("{}/api/overview", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["customerTotal"], 2);
    assert_eq!(body["groupTotal"], 1);
    assert!(body["computedAt"].as_str().unwrap().ends_with('Z'), "{body}");
}

#[tokio::test]
async fn unknown_endpoints_get_a_json_error() {
    let app = TestApp::spawn().await;
    let response = http().post(format!("{}/api/nothing/here", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("/api/nothing/here"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_a_json_error() {
    let app = TestApp::spawn_with(&[], |config| config.server.body_limit_bytes = 1024).await;
    let response = http().post(format!("{}/api/overview", app.url())).body(vec![b'x'; 4096]).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn slow_requests_time_out_with_a_json_error() {
    let app = TestApp::spawn_with(&[], |config| {
        config.server.request_timeout_secs = 1;
        config.debug.sleep_endpoint = true;
    })
    .await;
    let response = http().get(format!("{}/debug/sleep?ms=3000", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "timeout");
}

#[tokio::test]
async fn the_sleep_endpoint_is_off_by_default() {
    let app = TestApp::spawn().await;
    let response = http().get(format!("{}/debug/sleep?ms=1", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn native_grpc_reaches_a_service() {
    let app = TestApp::spawn().await;
    insert_group(&app.db().await, "wr1", "s1").await;
    let mut client = AnalyticsServiceClient::new(app.channel().await);
    let overview = client.get_overview(GetOverviewRequest {}).await.unwrap().into_inner();
    assert_eq!((overview.customer_total, overview.group_total), (0, 1));
}

#[tokio::test]
async fn grpc_web_reaches_a_service() {
    let app = TestApp::spawn().await;
    insert_customer(&app.db().await, "wm1", "s1").await;
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let grpc_web = tower::ServiceBuilder::new().layer(tonic_web::GrpcWebClientLayer::new()).service(http1);
    let mut client = AnalyticsServiceClient::with_origin(grpc_web, app.url().parse().unwrap());
    let overview = client.get_overview(GetOverviewRequest {}).await.unwrap().into_inner();
    assert_eq!((overview.customer_total, overview.group_total), (1, 0));
}

#[tokio::test]
async fn grpc_errors_carry_the_shared_error_code() {
    let app = TestApp::spawn().await;
    let mut client =
        scrm_proto::messaging::v1::messaging_service_client::MessagingServiceClient::new(app.channel().await);
    let status = client.create_reminder(scrm_proto::messaging::v1::CreateReminderRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert_eq!(status.metadata().get("scrm-error-code").unwrap(), "unimplemented");
    assert!(status.message().contains("PR09"), "{}", status.message());
}

#[tokio::test]
async fn reflection_lists_the_seven_services_health_and_reflection() {
    let app = TestApp::spawn().await;
    let mut client = ServerReflectionClient::new(app.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list, got {:?}", response.message_response);
    };
    let mut names: Vec<_> = list.service.into_iter().map(|service| service.name).collect();
    names.sort();
    let mut expected: Vec<_> = scrm_proto::SERVICE_NAMES.iter().map(|name| name.to_string()).collect();
    expected.extend(
        ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
            .map(String::from),
    );
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn grpc_health_reports_each_service_serving() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let app = TestApp::spawn().await;
    let mut client = HealthClient::new(app.channel().await);
    for name in scrm_proto::SERVICE_NAMES {
        let response = client.check(HealthCheckRequest { service: name.to_owned() }).await.unwrap().into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{name}");
    }
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app =
        TestApp::spawn_with(&[], |config| config.server.cors_origins = vec!["https://admin.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, format!("{}/scrm.analytics.v1.AnalyticsService/GetOverview", app.url()))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web")
            .send()
    };
    let allowed = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example.com");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn metrics_count_requests_by_protocol_and_route() {
    let app = TestApp::spawn().await;
    http().get(format!("{}/api/overview", app.url())).send().await.unwrap();
    let mut client = AnalyticsServiceClient::new(app.channel().await);
    client.get_overview(GetOverviewRequest {}).await.unwrap();
    let metrics = http().get(format!("{}/metrics", app.url())).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"route="/api/overview""#), "{metrics}");
    assert!(
        metrics.contains(r#"protocol="grpc",method="POST",route="/scrm.analytics.v1.AnalyticsService/GetOverview""#),
        "{metrics}"
    );
    assert!(metrics.contains("scrm_http_request_duration_seconds"), "{metrics}");
}

#[tokio::test]
async fn the_web_admin_is_served_with_a_fallback_to_its_index() {
    let admin = tempfile::tempdir().unwrap();
    std::fs::write(admin.path().join("index.html"), "<title>scrm 管理后台</title>").unwrap();
    std::fs::write(admin.path().join("app.js"), "console.log('scrm')").unwrap();
    let static_dir = admin.path().to_path_buf();
    let app = TestApp::spawn_with(&[], |config| config.server.static_dir = static_dir).await;
    let script = http().get(format!("{}/app.js", app.url())).send().await.unwrap();
    assert_eq!(script.text().await.unwrap(), "console.log('scrm')");
    let deep_link = http().get(format!("{}/groups/wr1", app.url())).send().await.unwrap();
    assert_eq!(deep_link.status(), 200);
    assert!(deep_link.text().await.unwrap().contains("管理后台"));
    let api = http().get(format!("{}/api/nothing", app.url())).send().await.unwrap();
    assert_eq!(api.status(), 404, "unknown API paths are not answered with the admin page");
}
