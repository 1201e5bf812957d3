//! The audit log of state-changing calls: after a write through the gateway succeeds, the gateway appends
//! who did it, what and when with `IdentityService.RecordAuditEntry`. The identity service records its own
//! user, session and token changes in more detail, so those calls are skipped here.

use axum::response::Response;
use http::Request;
use scrm_kernel::Clients;
use scrm_proto::identity::v1::RecordAuditEntryRequest;
use tonic::metadata::MetadataMap;

use crate::rest::is_grpc;

/// Identity methods that write their own audit entries, or that are not changes people make.
const SELF_AUDITED: [&str; 11] = [
    "Login",
    "Logout",
    "Authenticate",
    "RecordAuditEntry",
    "IngestCallbackEvent",
    "CreateUser",
    "UpdateUser",
    "SetUserPassword",
    "RevokeSession",
    "CreateApiToken",
    "RevokeApiToken",
];

/// A state-changing call to record once it has succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    service: String,
    action: String,
    summary: String,
}

impl Audited {
    /// The entry for `request`, if it is a state-changing call the gateway records.
    pub fn of<B>(request: &Request<B>, state_changing: bool) -> Option<Audited> {
        if !state_changing {
            return None;
        }
        let path = request.uri().path();
        if is_grpc(request) {
            let (service, method) = path.strip_prefix("/scrm.")?.split_once('/')?;
            let service = service.split('.').next()?.to_owned();
            if service == "identity" && SELF_AUDITED.contains(&method) {
                return None;
            }
            Some(Audited { action: format!("{service}.{method}"), summary: format!("调用 {method}"), service })
        } else {
            let rest = path.strip_prefix("/api/")?;
            if rest.starts_with("auth/") {
                return None;
            }
            let method = request.method().as_str();
            Some(Audited {
                service: "gateway".to_owned(),
                action: format!("api.{}", rest.replace('/', ".")),
                summary: format!("{method} {path}"),
            })
        }
    }

    /// Appends the entry in the background when `response` reports success.
    pub fn record(self, clients: &Clients, metadata: MetadataMap, response: &Response) {
        if !succeeded(response) {
            return;
        }
        let request_id =
            response.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        let mut request = tonic::Request::new(RecordAuditEntryRequest {
            idempotency_key: if request_id.is_empty() {
                String::new()
            } else {
                format!("{request_id}:{}", self.action)
            },
            service: self.service,
            resource_type: String::new(),
            resource_id: String::new(),
            summary: self.summary,
            action: self.action,
            before_json: String::new(),
            after_json: String::new(),
            occurred_at: None,
        });
        *request.metadata_mut() = metadata;
        if let Ok(value) = request_id.parse() {
            request.metadata_mut().insert("x-request-id", value);
        }
        let mut identity = clients.identity.clone();
        tokio::spawn(async move {
            if let Err(status) = identity.record_audit_entry(request).await {
                tracing::warn!(%status, "the audit entry could not be recorded");
            }
        });
    }
}

/// Whether a response reports success: a 2xx status, and for gRPC no error status in the headers
/// (a failing call answers trailers-only, with `grpc-status` among the headers).
fn succeeded(response: &Response) -> bool {
    let grpc_status = response.headers().get("grpc-status").and_then(|value| value.to_str().ok());
    response.status().is_success() && grpc_status.is_none_or(|status| status == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc(path: &str) -> Request<()> {
        Request::post(path).header("content-type", "application/grpc").body(()).unwrap()
    }

    #[test]
    fn writes_are_named_by_service_and_method() {
        let audited = Audited::of(&grpc("/scrm.identity.v1.IdentityService/StartSync"), true).unwrap();
        assert_eq!((audited.service.as_str(), audited.action.as_str()), ("identity", "identity.StartSync"));
        let rest = Audited::of(&Request::post("/api/customers/wm1/tags").body(()).unwrap(), true).unwrap();
        assert_eq!(rest.action, "api.customers.wm1.tags");
    }

    #[test]
    fn reads_and_self_audited_calls_are_skipped() {
        assert_eq!(Audited::of(&grpc("/scrm.identity.v1.IdentityService/StartSync"), false), None);
        assert_eq!(Audited::of(&grpc("/scrm.identity.v1.IdentityService/CreateUser"), true), None);
        assert_eq!(Audited::of(&Request::post("/api/auth/logout").body(()).unwrap(), true), None);
    }
}
