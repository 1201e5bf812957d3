//! The gRPC side of the gateway: the services this process runs, gRPC health, server
//! reflection, and grpc-web for browsers.

use std::convert::Infallible;

use axum::Router;
use scrm_kernel::rpc::ServerTracing;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service, ServiceExt};

/// The gRPC services of this process, collected before the router is built.
pub struct GrpcRoutes {
    router: Router,
    service_names: Vec<&'static str>,
}

impl Default for GrpcRoutes {
    fn default() -> Self {
        GrpcRoutes::new()
    }
}

impl GrpcRoutes {
    /// No services yet.
    pub fn new() -> Self {
        GrpcRoutes { router: Router::new(), service_names: Vec::new() }
    }

    /// Mounts `service` under its full protobuf name, e.g. `scrm.group.v1.GroupService`.
    pub fn add<S, B>(mut self, name: &'static str, service: S) -> Self
    where
        S: Service<http::Request<axum::body::Body>, Response = http::Response<B>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let service = ServerTracing.layer(service).map_response(axum::response::IntoResponse::into_response);
        self.router = self.router.route_service(&format!("/{name}/{{*method}}"), service);
        self.service_names.push(name);
        self
    }

    /// Routes calls to `name` to `forwarder`, which passes them to the process running that service; the
    /// service is neither reported by health nor advertised by reflection here.
    pub fn forward<S>(mut self, name: &'static str, forwarder: S) -> Self
    where
        S: Service<http::Request<axum::body::Body>, Response = http::Response<tonic::body::Body>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let forwarder = forwarder.map_response(axum::response::IntoResponse::into_response);
        self.router = self.router.route_service(&format!("/{name}/{{*method}}"), forwarder);
        self
    }

    /// The full names of the mounted services.
    pub fn service_names(&self) -> &[&'static str] {
        &self.service_names
    }

    /// The router: the services, health (every mounted service reported serving) and
    /// reflection (advertising exactly what is mounted), with grpc-web translation.
    pub async fn into_router(self) -> Router {
        let GrpcRoutes { router, service_names } = self;
        let (reporter, health) = tonic_health::server::health_reporter();
        report_serving(&reporter, &service_names).await;
        let reflection = || {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(scrm_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name(health_name())
                .with_service_name("grpc.reflection.v1.ServerReflection")
                .with_service_name("grpc.reflection.v1alpha.ServerReflection");
            for name in &service_names {
                builder = builder.with_service_name(*name);
            }
            builder
        };
        let reflection_v1 = reflection().build_v1().expect("the embedded descriptor sets are valid");
        let reflection_v1alpha = reflection().build_v1alpha().expect("the embedded descriptor sets are valid");
        mount(mount(mount(router, health), reflection_v1), reflection_v1alpha).layer(tonic_web::GrpcWebLayer::new())
    }
}

fn health_name() -> &'static str {
    <tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService> as NamedService>::NAME
}

async fn report_serving(reporter: &HealthReporter, names: &[&'static str]) {
    reporter.set_service_status("", ServingStatus::Serving).await;
    for name in names {
        reporter.set_service_status(*name, ServingStatus::Serving).await;
    }
}

fn mount<S>(router: Router, service: S) -> Router
where
    S: Service<http::Request<axum::body::Body>, Response = http::Response<tonic::body::Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    router.route_service(&format!("/{}/{{*method}}", S::NAME), ServerTracing.layer(service))
}
