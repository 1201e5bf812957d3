//! Per-RPC permissions, enforced inside each service.
//!
//! A service lists who may call each of its methods in a table of [`RpcAccess`] rows and wraps its
//! server in the [`Permissions`] layer. Every call then passes one check before the handler runs: a
//! public method passes, any other needs a caller in the metadata (UNAUTHENTICATED otherwise), and a
//! method limited to roles needs one of them (PERMISSION_DENIED otherwise). Methods missing from the
//! table need a signed-in caller of any role, so a new RPC is never public by accident.

use tonic::metadata::MetadataMap;
use tower::Layer;

use crate::caller::{Caller, Role};
use crate::error::ApiError;
use crate::rpc::{GatedService, RequestGate};

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself).
    Public,
    /// Any signed-in caller.
    SignedIn,
    /// Signed-in callers with one of these roles.
    Roles(&'static [Role]),
}

/// One row of a permission table: a method name and who may call it.
pub type RpcAccess = (&'static str, Access);

/// Server-side layer checking the caller of every RPC against a permission table.
#[derive(Debug, Clone, Copy)]
pub struct Permissions {
    service: &'static str,
    table: &'static [RpcAccess],
}

impl Permissions {
    /// The layer for the service with the full protobuf name `service`.
    pub fn new(service: &'static str, table: &'static [RpcAccess]) -> Self {
        Permissions { service, table }
    }

    /// Who may call the method at `path` (`/<service>/<Method>`); paths of other services are public here.
    pub fn access_of(&self, path: &str) -> Access {
        let method = path.strip_prefix('/').and_then(|path| path.strip_prefix(self.service)?.strip_prefix('/'));
        let Some(method) = method else {
            return Access::Public;
        };
        self.table.iter().find(|(name, _)| *name == method).map_or(Access::SignedIn, |(_, access)| *access)
    }

    /// Checks a call to `path` by the caller in `metadata`.
    pub fn check(&self, path: &str, metadata: &MetadataMap) -> Result<(), ApiError> {
        match self.access_of(path) {
            Access::Public => Ok(()),
            Access::SignedIn => Caller::from_metadata(metadata).map(drop),
            Access::Roles(roles) => Caller::from_metadata(metadata)?.require_any(roles),
        }
    }
}

impl RequestGate for Permissions {
    fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<(), ApiError> {
        self.check(path, &MetadataMap::from_headers(headers.clone()))
    }
}

impl<S> Layer<S> for Permissions {
    type Service = PermissionsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GatedService::new(inner, *self)
    }
}

/// The service made by [`Permissions`].
pub type PermissionsService<S> = GatedService<Permissions, S>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const TABLE: &[RpcAccess] = &[
        ("Login", Access::Public),
        ("CreateApiToken", Access::Roles(&[Role::Admin])),
        ("StartSync", Access::Roles(&[Role::Operator, Role::Admin])),
    ];

    fn permissions() -> Permissions {
        Permissions::new("scrm.identity.v1.IdentityService", TABLE)
    }

    fn as_role(role: Role) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        Caller { staff_id: "someone".into(), role, store_ids: vec![] }.write_to(&mut metadata).unwrap();
        metadata
    }

    #[test]
    fn public_methods_need_no_caller() {
        assert!(permissions().check("/scrm.identity.v1.IdentityService/Login", &MetadataMap::new()).is_ok());
    }

    #[test]
    fn unlisted_methods_need_a_caller_of_any_role() {
        let path = "/scrm.identity.v1.IdentityService/ListStaff";
        let error = permissions().check(path, &MetadataMap::new()).unwrap_err();
        assert_eq!(error.code, ErrorCode::Unauthenticated);
        for role in Role::ALL {
            assert!(permissions().check(path, &as_role(role)).is_ok(), "{role}");
        }
    }

    #[test]
    fn role_limited_methods_reject_other_roles() {
        let path = "/scrm.identity.v1.IdentityService/StartSync";
        assert!(permissions().check(path, &as_role(Role::Operator)).is_ok());
        assert!(permissions().check(path, &as_role(Role::Admin)).is_ok());
        for role in [Role::Support, Role::StoreManager, Role::Koc] {
            assert_eq!(permissions().check(path, &as_role(role)).unwrap_err().code, ErrorCode::PermissionDenied);
        }
        let token = "/scrm.identity.v1.IdentityService/CreateApiToken";
        assert_eq!(permissions().check(token, &as_role(Role::Operator)).unwrap_err().code, ErrorCode::PermissionDenied);
    }

    #[test]
    fn a_prefix_of_the_service_name_is_not_the_service() {
        assert_eq!(permissions().access_of("/scrm.identity.v1.IdentityServiceX/StartSync"), Access::Public);
    }
}
