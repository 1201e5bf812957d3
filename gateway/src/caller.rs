//! Identifies the caller of every request and hands it to the services in gRPC metadata.
//!
//! Any caller metadata a request brings from outside is discarded, never trusted. The caller then comes
//! from, in order: the cluster token (another scrm process forwarding the caller it identified), an
//! `Authorization: Bearer` API token, the `scrm_session` cookie of a signed-in browser (with the
//! `x-csrf-token` header on state-changing calls), or — only when configured as a development opt-in —
//! the local caller. Credentials are resolved by `IdentityService.Authenticate`. A request to the API
//! with none of these is answered 401 (UNAUTHENTICATED for gRPC); sign-in, probes, the WeCom callback
//! and the web admin's files need no caller.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method};
use scrm_kernel::caller::{CALLER_ID_KEY, CALLER_KEYS, Credential, CredentialKind};
use scrm_kernel::rpc::CLUSTER_TOKEN_HEADER;
use scrm_kernel::{ApiError, Caller, Clients, ErrorCode, Role};
use scrm_proto::identity::v1::{AuthenticateRequest, authenticate_request};
use tonic::metadata::MetadataMap;

use crate::audit;
use crate::rest::{RestError, is_grpc};

/// Name of the cookie holding a browser's session token.
pub const SESSION_COOKIE: &str = "scrm_session";
/// Name of the cookie holding the CSRF token the web admin echoes in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "scrm_csrf";
/// Header carrying the CSRF token on state-changing browser calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// gRPC methods anyone may call, signed in or not.
const PUBLIC_RPCS: [&str; 2] =
    ["/scrm.identity.v1.IdentityService/Login", "/scrm.identity.v1.IdentityService/GetWecomLoginUrl"];
/// REST paths anyone may call.
const PUBLIC_REST: [&str; 2] = ["/api/auth/login", "/api/auth/wecom-url"];
/// Method-name prefixes of gRPC calls that only read.
const READ_PREFIXES: [&str; 7] = ["Get", "List", "Count", "Watch", "BatchGet", "Search", "Preview"];

/// Who may set the caller, and how credentials are resolved.
pub struct CallerPolicy {
    cluster_token: Option<HeaderValue>,
    local_caller: Option<Caller>,
    clients: Clients,
}

impl CallerPolicy {
    /// Trusts callers forwarded with `cluster_token`, resolves credentials through `clients.identity`, and
    /// treats requests without credentials as `local_caller` when one is given.
    pub fn new(cluster_token: Option<HeaderValue>, local_caller: Option<Caller>, clients: Clients) -> Self {
        CallerPolicy { cluster_token, local_caller, clients }
    }

    fn is_cluster_peer(&self, headers: &HeaderMap) -> bool {
        match (&self.cluster_token, headers.get(CLUSTER_TOKEN_HEADER)) {
            (Some(expected), Some(presented)) => constant_time_eq(expected.as_bytes(), presented.as_bytes()),
            _ => false,
        }
    }

    async fn authenticate(
        &self,
        credential: authenticate_request::Credential,
        csrf_token: String,
        state_changing: bool,
    ) -> Result<(Caller, Credential), ApiError> {
        let (kind, id_kind) = match &credential {
            authenticate_request::Credential::SessionToken(_) => (CredentialKind::Session, "session"),
            authenticate_request::Credential::ApiToken(_) => (CredentialKind::ApiToken, "token"),
        };
        let request = AuthenticateRequest { credential: Some(credential), csrf_token, state_changing };
        let response = self
            .clients
            .identity
            .clone()
            .authenticate(request)
            .await
            .map_err(|status| ApiError::from_status(&status))?;
        let caller = response.into_inner().caller.ok_or_else(|| {
            ApiError::new(ErrorCode::Internal, format!("Authenticate answered no caller for a {id_kind}"))
        })?;
        let role = Role::from_proto(caller.role)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the credential carries no valid role"))?;
        let staff_id = if !caller.userid.is_empty() {
            caller.userid
        } else if caller.scrm_user_id > 0 {
            format!("user-{}", caller.scrm_user_id)
        } else {
            format!("token-{}", caller.credential_id)
        };
        let store_ids = caller.store_ids.iter().map(i64::to_string).collect();
        let credential = Credential { kind, id: caller.credential_id, user_id: caller.scrm_user_id };
        Ok((Caller { staff_id, role, store_ids }, credential))
    }
}

impl std::fmt::Debug for CallerPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerPolicy").field("local_caller", &self.local_caller).finish_non_exhaustive()
    }
}

/// Middleware: sets the caller's metadata headers and the [`Caller`] request extension, or answers 401.
pub async fn identify_caller(State(policy): State<Arc<CallerPolicy>>, mut request: Request, next: Next) -> Response {
    let from_peer = policy.is_cluster_peer(request.headers());
    request.headers_mut().remove(CLUSTER_TOKEN_HEADER);
    if from_peer {
        if !request.headers().contains_key(CALLER_ID_KEY) {
            // A peer calling on its own behalf, e.g. resolving a credential or a worker's call: as in one
            // process, the called service decides whether it needs a caller.
            return next.run(request).await;
        }
        let metadata = MetadataMap::from_headers(request.headers().clone());
        return match Caller::from_metadata(&metadata) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                next.run(request).await
            }
            Err(error) => RestError::from(error).into_response_for(&request),
        };
    }
    for key in CALLER_KEYS {
        request.headers_mut().remove(key);
    }
    let identified = match credential_of(request.headers()) {
        Some(credential) => {
            let csrf = header_text(request.headers(), CSRF_HEADER).to_owned();
            match policy.authenticate(credential, csrf, is_state_changing(&request)).await {
                Ok(identified) => Some(identified),
                Err(error) => return RestError::from(error).into_response_for(&request),
            }
        }
        None => policy
            .local_caller
            .clone()
            .map(|caller| (caller, Credential { kind: CredentialKind::Local, id: 0, user_id: 0 })),
    };
    let Some((caller, credential)) = identified else {
        if needs_caller(&request) {
            let error = ApiError::new(
                ErrorCode::Unauthenticated,
                "sign in first, or give an API token as `Authorization: Bearer <token>`",
            );
            return RestError::from(error).into_response_for(&request);
        }
        return next.run(request).await;
    };
    let mut metadata = MetadataMap::new();
    if let Err(error) = caller.write_to(&mut metadata) {
        return RestError::from(error).into_response_for(&request);
    }
    credential.write_to(&mut metadata);
    let audited = audit::Audited::of(&request, is_state_changing(&request));
    request.headers_mut().extend(metadata.clone().into_headers());
    request.extensions_mut().insert(caller);
    let response = next.run(request).await;
    if let Some(audited) = audited {
        audited.record(&policy.clients, metadata, &response);
    }
    response
}

/// The credential a request presents: an API token in `Authorization: Bearer`, else the session cookie.
fn credential_of(headers: &HeaderMap) -> Option<authenticate_request::Credential> {
    let bearer = header_text(headers, http::header::AUTHORIZATION.as_str());
    if let Some(token) = bearer.strip_prefix("Bearer ").or_else(|| bearer.strip_prefix("bearer ")) {
        return Some(authenticate_request::Credential::ApiToken(token.trim().to_owned()));
    }
    cookie(headers, SESSION_COOKIE).map(authenticate_request::Credential::SessionToken)
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

/// Whether the request changes state: REST writes, and gRPC methods other than reads.
pub fn is_state_changing<B>(request: &http::Request<B>) -> bool {
    if is_grpc(request) {
        let method = request.uri().path().rsplit('/').next().unwrap_or_default();
        !READ_PREFIXES.iter().any(|prefix| method.starts_with(prefix))
    } else {
        !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

/// Whether the request reaches the API and so needs a caller: gRPC calls to scrm's services and REST under
/// `/api/`, except sign-in itself.
fn needs_caller<B>(request: &http::Request<B>) -> bool {
    let path = request.uri().path();
    if is_grpc(request) {
        path.starts_with("/scrm.") && !PUBLIC_RPCS.contains(&path)
    } else {
        path.starts_with("/api/") && !PUBLIC_REST.contains(&path)
    }
}

fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len() && expected.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc(path: &str) -> http::Request<()> {
        http::Request::post(path).header("content-type", "application/grpc-web+proto").body(()).unwrap()
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn a_bearer_token_wins_over_the_session_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, HeaderValue::from_static("a=1; scrm_session=s3ss; scrm_csrf=c"));
        assert_eq!(credential_of(&headers), Some(authenticate_request::Credential::SessionToken("s3ss".into())));
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static("Bearer scrm_abc"));
        assert_eq!(credential_of(&headers), Some(authenticate_request::Credential::ApiToken("scrm_abc".into())));
        assert_eq!(credential_of(&HeaderMap::new()), None);
    }

    #[test]
    fn reads_are_not_state_changing() {
        assert!(!is_state_changing(&grpc("/scrm.identity.v1.IdentityService/ListUsers")));
        assert!(!is_state_changing(&grpc("/scrm.identity.v1.IdentityService/WatchSyncRun")));
        assert!(is_state_changing(&grpc("/scrm.identity.v1.IdentityService/StartSync")));
        assert!(!is_state_changing(&http::Request::get("/api/overview").body(()).unwrap()));
        assert!(is_state_changing(&http::Request::post("/api/auth/logout").body(()).unwrap()));
    }

    #[test]
    fn only_the_api_needs_a_caller() {
        assert!(needs_caller(&grpc("/scrm.customer.v1.CustomerService/CountCustomers")));
        assert!(!needs_caller(&grpc("/scrm.identity.v1.IdentityService/Login")));
        assert!(!needs_caller(&grpc("/grpc.health.v1.Health/Check")));
        assert!(needs_caller(&http::Request::get("/api/overview").body(()).unwrap()));
        assert!(!needs_caller(&http::Request::post("/api/auth/login").body(()).unwrap()));
        assert!(!needs_caller(&http::Request::get("/assets/index.js").body(()).unwrap()));
        assert!(!needs_caller(&http::Request::get("/healthz").body(()).unwrap()));
    }
}
