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
use crate::error::{ApiError, ErrorCode};
use crate::rpc::{GatedService, PlannedRpc, PlannedRpcs, PlannedRpcsService, RequestGate};

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

impl Access {
    /// Whether a signed-in caller with `role` passes.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
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

    /// Checks a call to `path` by the caller in `metadata`; a refusal names the method and the roles it needs.
    pub fn check(&self, path: &str, metadata: &MetadataMap) -> Result<(), ApiError> {
        let access = self.access_of(path);
        if access == Access::Public {
            return Ok(());
        }
        let caller = Caller::from_metadata(metadata)?;
        match access {
            Access::Roles(roles) if !roles.contains(&caller.role) => {
                let allowed: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
                Err(ApiError::new(
                    ErrorCode::PermissionDenied,
                    format!(
                        "role `{}` lacks the permission `{}`, held by: {}",
                        caller.role,
                        path.trim_start_matches('/'),
                        allowed.join(", ")
                    ),
                ))
            }
            _ => Ok(()),
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

/// A generated server as every service serves it: planned RPCs answer UNIMPLEMENTED, the others pass the
/// permission table first.
pub type GatedServer<S> = PlannedRpcsService<PermissionsService<S>>;

/// Wraps the generated `server` of the service named `service` in its planned-RPC and permission layers.
pub fn gate<S>(
    service: &'static str,
    planned: &'static [PlannedRpc],
    permissions: &'static [RpcAccess],
    server: S,
) -> GatedServer<S> {
    PlannedRpcs::new(service, planned).layer(Permissions::new(service, permissions).layer(server))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let refusal = permissions().check(token, &as_role(Role::Operator)).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::PermissionDenied);
        assert!(refusal.message.contains("scrm.identity.v1.IdentityService/CreateApiToken"), "{}", refusal.message);
        assert!(Access::Roles(&[Role::Admin]).admits(Role::Admin));
        assert!(!Access::Roles(&[Role::Admin]).admits(Role::Koc));
    }

    #[test]
    fn a_prefix_of_the_service_name_is_not_the_service() {
        assert_eq!(permissions().access_of("/scrm.identity.v1.IdentityServiceX/StartSync"), Access::Public);
    }
}
