//! How services reach each other: one transport type for both deployment modes.
//!
//! A generated client runs over an [`RpcChannel`]. In the all-in-one process the channel wraps
//! the other service's server directly, so a call is a function call with no socket; in the
//! one-service-per-process mode it wraps a network channel. Either way the same layers run on
//! both ends: [`ClientPropagation`] writes the trace context (and, between processes, the
//! cluster token) into the request headers, and [`ServerTracing`] reads the trace context back
//! so that one request through several services is one trace.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use http::HeaderValue;
use opentelemetry::trace::TraceContextExt;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::ApiError;
use crate::trace_context;

/// Error type of an [`RpcChannel`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A gRPC request as it travels between a generated client and a server.
pub type GrpcRequest = http::Request<tonic::body::Body>;
/// A gRPC response as it travels between a server and a generated client.
pub type GrpcResponse = http::Response<tonic::body::Body>;
/// Header carrying the cluster token that lets one scrm process trust another's caller metadata.
pub const CLUSTER_TOKEN_HEADER: &str = "x-scrm-cluster-token";

/// The transport under every generated client: an in-process server or a network channel.
#[derive(Clone)]
pub struct RpcChannel(BoxCloneSyncService<GrpcRequest, GrpcResponse, BoxError>);

impl RpcChannel {
    /// A channel that calls `server` in this process.
    pub fn in_process<S, B>(server: S) -> RpcChannel
    where
        S: Service<GrpcRequest, Response = http::Response<B>, Error = Infallible> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let service = ClientPropagation::new(None).layer(server);
        RpcChannel(BoxCloneSyncService::new(
            service.map_response(|response| response.map(tonic::body::Body::new)).map_err(|never| match never {}),
        ))
    }

    /// A channel that calls a service in another process, presenting the cluster token.
    pub fn remote(channel: tonic::transport::Channel, cluster_token: Option<HeaderValue>) -> RpcChannel {
        let service = ClientPropagation::new(cluster_token).layer(channel);
        RpcChannel(BoxCloneSyncService::new(service.map_err(BoxError::from)))
    }

    /// A channel whose target is wired later, once every service of the process exists.
    ///
    /// Services may depend on each other in a cycle; each gets late channels at construction
    /// and the process fills the slots before it serves. A call before that fails as unavailable.
    pub fn late(slot: Arc<OnceLock<RpcChannel>>) -> RpcChannel {
        RpcChannel(BoxCloneSyncService::new(tower::service_fn(move |request: GrpcRequest| {
            let target = slot.get().cloned();
            async move {
                match target {
                    Some(channel) => channel.oneshot(request).await,
                    None => Err(BoxError::from("the target service is not wired in this process")),
                }
            }
        })))
    }
}

impl Service<GrpcRequest> for RpcChannel {
    type Response = GrpcResponse;
    type Error = BoxError;
    type Future = <BoxCloneSyncService<GrpcRequest, GrpcResponse, BoxError> as Service<GrpcRequest>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: GrpcRequest) -> Self::Future {
        self.0.call(request)
    }
}

/// Client-side layer: injects the current trace context and, between processes, the cluster token.
#[derive(Clone)]
pub struct ClientPropagation {
    cluster_token: Option<HeaderValue>,
}

impl ClientPropagation {
    /// A propagation layer presenting `cluster_token` when one is given.
    pub fn new(cluster_token: Option<HeaderValue>) -> Self {
        ClientPropagation { cluster_token }
    }
}

impl<S> Layer<S> for ClientPropagation {
    type Service = ClientPropagationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientPropagationService { inner, cluster_token: self.cluster_token.clone() }
    }
}

/// The service made by [`ClientPropagation`].
#[derive(Clone)]
pub struct ClientPropagationService<S> {
    inner: S,
    cluster_token: Option<HeaderValue>,
}

impl<S> Service<GrpcRequest> for ClientPropagationService<S>
where
    S: Service<GrpcRequest>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: GrpcRequest) -> Self::Future {
        trace_context::inject(&tracing::Span::current().context(), request.headers_mut());
        if let Some(token) = &self.cluster_token {
            request.headers_mut().insert(CLUSTER_TOKEN_HEADER, token.clone());
        }
        self.inner.call(request)
    }
}

/// Server-side layer: opens a span per RPC whose parent is the caller's trace context.
#[derive(Clone, Copy, Default)]
pub struct ServerTracing;

impl<S> Layer<S> for ServerTracing {
    type Service = ServerTracingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTracingService { inner }
    }
}

/// The service made by [`ServerTracing`].
#[derive(Clone)]
pub struct ServerTracingService<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for ServerTracingService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
        );
        let parent = trace_context::extract(request.headers());
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
        self.inner.call(request).instrument(span)
    }
}

/// A planned RPC: its method name and the feature that will implement it.
pub type PlannedRpc = (&'static str, &'static str);

/// Server-side layer answering the RPCs a service has not built yet with `UNIMPLEMENTED`,
/// naming the feature that will build them.
#[derive(Clone, Copy)]
pub struct PlannedRpcs {
    service: &'static str,
    planned: &'static [PlannedRpc],
}

impl PlannedRpcs {
    /// The layer for the service with the full protobuf name `service`.
    pub fn new(service: &'static str, planned: &'static [PlannedRpc]) -> Self {
        PlannedRpcs { service, planned }
    }

    fn feature_of(&self, path: &str) -> Option<&'static str> {
        let method = path.strip_prefix('/')?.strip_prefix(self.service)?.strip_prefix('/')?;
        self.planned.iter().find(|(name, _)| *name == method).map(|(_, feature)| *feature)
    }
}

impl RequestGate for PlannedRpcs {
    fn admit(&self, path: &str, _headers: &http::HeaderMap) -> Result<(), ApiError> {
        match self.feature_of(path) {
            Some(feature) => Err(ApiError::unimplemented(feature)),
            None => Ok(()),
        }
    }
}

impl<S> Layer<S> for PlannedRpcs {
    type Service = PlannedRpcsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GatedService::new(inner, *self)
    }
}

/// The service made by [`PlannedRpcs`].
pub type PlannedRpcsService<S> = GatedService<PlannedRpcs, S>;

/// A check made on every gRPC call before the service sees it (planned RPCs, permissions).
pub trait RequestGate {
    /// Admits the call to `path` carrying `headers`, or refuses it with the error the caller gets.
    fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<(), ApiError>;
}

/// A service behind a [`RequestGate`]: refused calls are answered with the gate's error as a gRPC status,
/// admitted ones go on to `inner`.
#[derive(Clone)]
pub struct GatedService<G, S> {
    inner: S,
    gate: G,
}

impl<G, S> GatedService<G, S> {
    /// `inner` behind `gate`.
    pub fn new(inner: S, gate: G) -> Self {
        GatedService { inner, gate }
    }
}

impl<G, S, B> Service<http::Request<B>> for GatedService<G, S>
where
    G: RequestGate,
    S: Service<http::Request<B>, Response = GrpcResponse>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = GrpcResponse;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<GrpcResponse, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match self.gate.admit(request.uri().path(), request.headers()) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(error) => Box::pin(std::future::ready(Ok(tonic::Status::from(error).into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_rpcs_match_only_their_own_service_and_method() {
        let planned = PlannedRpcs::new("scrm.group.v1.GroupService", &[("ListGroups", "PR04 社群列表")]);
        assert_eq!(planned.feature_of("/scrm.group.v1.GroupService/ListGroups"), Some("PR04 社群列表"));
        assert_eq!(planned.feature_of("/scrm.group.v1.GroupService/CountGroups"), None);
        assert_eq!(planned.feature_of("/scrm.group.v1.GroupServiceX/ListGroups"), None);
        assert_eq!(planned.feature_of("/other.Service/ListGroups"), None);
    }
}
