//! Forwarding of gRPC calls (and, through the gateway's grpc-web layer, browser grpc-web calls) for the
//! services this process does not run, to the process that runs them.
//!
//! The gateway has already identified the caller and written it into the request's metadata; the remote
//! channel adds the cluster token, so the serving process trusts that caller as it would its own.

use std::convert::Infallible;

use scrm_kernel::rpc::RpcChannel;
use tower::{Service, ServiceExt};

/// A service answering every call by passing it on over `channel`; an unreachable target is answered
/// `UNAVAILABLE`.
pub fn forwarder(
    channel: RpcChannel,
) -> impl Service<
    http::Request<axum::body::Body>,
    Response = http::Response<tonic::body::Body>,
    Error = Infallible,
    Future = impl Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |request: http::Request<axum::body::Body>| {
        let channel = channel.clone();
        async move {
            match channel.oneshot(request.map(tonic::body::Body::new)).await {
                Ok(response) => Ok(response),
                Err(error) => {
                    Ok(tonic::Status::unavailable(format!("the service is unreachable: {error}")).into_http())
                }
            }
        }
    })
}
