//! Identifies the caller of every request and hands it to the services in gRPC metadata.
//!
//! Until login arrives, a request from outside the cluster acts as the configured local operator:
//! any caller metadata it brings is discarded, never trusted. A request from another scrm
//! process, proven by the cluster token, keeps the caller that process identified.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use scrm_kernel::Caller;
use scrm_kernel::caller::CALLER_KEYS;
use scrm_kernel::rpc::CLUSTER_TOKEN_HEADER;
use tonic::metadata::MetadataMap;

use crate::rest::RestError;

/// Who may set the caller, and who the caller is otherwise.
#[derive(Debug)]
pub struct CallerPolicy {
    cluster_token: Option<HeaderValue>,
    local_caller: Caller,
}

impl CallerPolicy {
    /// Trusts callers forwarded with `cluster_token`; everyone else is `local_caller`.
    pub fn new(cluster_token: Option<HeaderValue>, local_caller: Caller) -> Self {
        CallerPolicy { cluster_token, local_caller }
    }

    fn is_cluster_peer(&self, headers: &HeaderMap) -> bool {
        match (&self.cluster_token, headers.get(CLUSTER_TOKEN_HEADER)) {
            (Some(expected), Some(presented)) => constant_time_eq(expected.as_bytes(), presented.as_bytes()),
            _ => false,
        }
    }
}

/// Middleware: sets the caller's metadata headers and the [`Caller`] request extension.
pub async fn identify_caller(State(policy): State<Arc<CallerPolicy>>, mut request: Request, next: Next) -> Response {
    let from_peer = policy.is_cluster_peer(request.headers());
    request.headers_mut().remove(CLUSTER_TOKEN_HEADER);
    let caller = if from_peer {
        match Caller::from_metadata(&MetadataMap::from_headers(request.headers().clone())) {
            Ok(caller) => caller,
            Err(error) => return RestError::from(error).into_response_for(&request),
        }
    } else {
        for key in CALLER_KEYS {
            request.headers_mut().remove(key);
        }
        policy.local_caller.clone()
    };
    let mut metadata = MetadataMap::new();
    if let Err(error) = caller.write_to(&mut metadata) {
        return RestError::from(error).into_response_for(&request);
    }
    request.headers_mut().extend(metadata.into_headers());
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len() && expected.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn only_the_cluster_token_makes_a_peer() {
        let caller = Caller { staff_id: "op".into(), role: scrm_kernel::Role::Operator, store_ids: vec![] };
        let policy = CallerPolicy::new(Some(HeaderValue::from_static("t0ken")), caller);
        let mut headers = HeaderMap::new();
        assert!(!policy.is_cluster_peer(&headers));
        headers.insert(CLUSTER_TOKEN_HEADER, HeaderValue::from_static("guess"));
        assert!(!policy.is_cluster_peer(&headers));
        headers.insert(CLUSTER_TOKEN_HEADER, HeaderValue::from_static("t0ken"));
        assert!(policy.is_cluster_peer(&headers));
    }
}
