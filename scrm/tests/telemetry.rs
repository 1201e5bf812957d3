//! The real binary's telemetry: JSON logs on request, and traces exported over OTLP to a collector.

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// An OTLP trace collector that keeps what it receives.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

impl Collector {
    /// `(service.name, span name)` of every span received.
    fn spans(&self) -> Vec<(String, String)> {
        let mut spans = Vec::new();
        for request in self.0.lock().unwrap().iter() {
            for resource_spans in &request.resource_spans {
                let service = resource_spans
                    .resource
                    .iter()
                    .flat_map(|resource| &resource.attributes)
                    .find(|attribute| attribute.key == "service.name")
                    .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
                    .map(|value| match value {
                        Value::StringValue(name) => name.clone(),
                        other => format!("{other:?}"),
                    })
                    .unwrap_or_default();
                for scope in &resource_spans.scope_spans {
                    spans.extend(scope.spans.iter().map(|span| (service.clone(), span.name.clone())));
                }
            }
        }
        spans
    }
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[tokio::test]
async fn traces_go_to_the_configured_collector_and_logs_can_be_json() {
    let collector = Collector::default();
    let collector_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_address = collector_listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(collector_listener)),
    );

    let data_dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let child = Command::new(env!("CARGO_BIN_EXE_scrm"))
        .args(["serve", "--listen", &address.to_string(), "--data-dir"])
        .arg(data_dir.path())
        .env("RUST_LOG", "info")
        .env("SCRM_AUTH_LOCAL_CALLER", "true")
        .env("SCRM_TELEMETRY_LOG_FORMAT", "json")
        .env("SCRM_TELEMETRY_SERVICE_NAME", "scrm-under-test")
        .env("SCRM_TELEMETRY_OTLP_ENDPOINT", format!("http://{collector_address}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut answered = false;
    for _ in 0..300 {
        if client.get(format!("http://{address}/api/overview")).send().await.is_ok_and(|r| r.status() == 200) {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(answered && term.success(), "scrm answered /api/overview and took SIGTERM");
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert!(output.status.success());

    let logs = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> =
        logs.lines().map(|line| serde_json::from_str(line).expect("a JSON log line")).collect();
    assert!(lines.iter().any(|line| line["message"] == "scrm is serving"), "{logs}");

    let spans = collector.spans();
    assert!(
        spans.iter().any(|(service, name)| service == "scrm-under-test" && name == "GET /api/overview"),
        "the request span reached the collector: {spans:?}"
    );
    assert!(
        spans.iter().any(|(_, name)| name == "scrm.analytics.v1.AnalyticsService/GetOverview"),
        "the RPC span reached the collector: {spans:?}"
    );
}
