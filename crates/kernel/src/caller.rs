//! Who is calling: the staff member, their role and their store scope.
//!
//! The gateway identifies the caller of every request and writes it into gRPC metadata; services
//! read it back with [`Caller::from_request`], the one place where roles are enforced. A service
//! that calls another forwards its caller with [`Caller::outgoing`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::error::{ApiError, ErrorCode};

/// Metadata key holding the caller's staff id (a WeCom `userid`, or a local user name).
pub const CALLER_ID_KEY: &str = "x-scrm-caller-id";
/// Metadata key holding the caller's role id.
pub const CALLER_ROLE_KEY: &str = "x-scrm-caller-role";
/// Metadata key holding the caller's store scope: comma-separated store ids, empty for all stores.
pub const CALLER_STORES_KEY: &str = "x-scrm-caller-stores";
/// Metadata key naming the credential that identified the caller: `session:<id>`, `token:<id>` or `local`,
/// followed by `@<scrm user id>` when a user stands behind it. Read by the identity service (sign-out,
/// the audit log); other services need only [`Caller`].
pub const CALLER_CREDENTIAL_KEY: &str = "x-scrm-caller-credential";
/// Every metadata key that carries the caller, so the gateway can strip untrusted copies.
pub const CALLER_KEYS: [&str; 4] = [CALLER_ID_KEY, CALLER_ROLE_KEY, CALLER_STORES_KEY, CALLER_CREDENTIAL_KEY];

/// A role, with the id used in configuration, tokens and metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 运营: every feature.
    Operator,
    /// 客服: customers, the sidebar and quick replies.
    Support,
    /// 店长: their own stores' groups, customers and dashboard.
    StoreManager,
    /// KOC: their own groups, tasks and earnings.
    Koc,
    /// Administrator: users and settings.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Operator, Role::Support, Role::StoreManager, Role::Koc, Role::Admin];

    /// The role id, e.g. `store_manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Support => "support",
            Role::StoreManager => "store_manager",
            Role::Koc => "koc",
            Role::Admin => "admin",
        }
    }
}

impl Role {
    /// The role as the `scrm.identity.v1.Role` enum value.
    pub fn to_proto(self) -> scrm_proto::identity::v1::Role {
        use scrm_proto::identity::v1::Role as Proto;
        match self {
            Role::Operator => Proto::Operator,
            Role::Support => Proto::Support,
            Role::StoreManager => Proto::StoreManager,
            Role::Koc => Proto::Koc,
            Role::Admin => Proto::Admin,
        }
    }

    /// The role of a `scrm.identity.v1.Role` enum value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.to_proto() as i32 == value)
    }

    /// The role's name shown to people, e.g. `店长`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Operator => "运营",
            Role::Support => "客服",
            Role::StoreManager => "店长",
            Role::Koc => "KOC",
            Role::Admin => "管理员",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == value).ok_or_else(|| {
            format!("unknown role `{value}`; expected one of operator, support, store_manager, koc, admin")
        })
    }
}

/// The identified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// Staff id: a WeCom `userid`, or the name of a local user or API token.
    pub staff_id: String,
    /// The caller's role.
    pub role: Role,
    /// Stores the caller is limited to; empty means every store.
    #[serde(default)]
    pub store_ids: Vec<String>,
}

impl Caller {
    /// The caller for work scrm does on its own behalf, e.g. `system:wecom-callback`; an administrator.
    pub fn system(component: &str) -> Caller {
        Caller { staff_id: format!("system:{component}"), role: Role::Admin, store_ids: Vec::new() }
    }

    /// Reads the caller from a request's metadata. A request without one is unauthenticated.
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<Caller, ApiError> {
        Caller::from_metadata(request.metadata())
    }

    /// Reads the caller from gRPC metadata.
    pub fn from_metadata(metadata: &MetadataMap) -> Result<Caller, ApiError> {
        let text = |key: &str| metadata.get(key).and_then(|value| value.to_str().ok());
        let staff_id = text(CALLER_ID_KEY)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the request carries no caller"))?;
        let role = text(CALLER_ROLE_KEY)
            .unwrap_or_default()
            .parse()
            .map_err(|message: String| ApiError::new(ErrorCode::Unauthenticated, message))?;
        let store_ids = text(CALLER_STORES_KEY)
            .unwrap_or_default()
            .split(',')
            .filter(|store| !store.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Caller { staff_id: staff_id.to_owned(), role, store_ids })
    }

    /// Writes the caller into gRPC metadata, replacing any caller already there.
    pub fn write_to(&self, metadata: &mut MetadataMap) -> Result<(), ApiError> {
        let value = |text: &str| {
            MetadataValue::try_from(text)
                .map_err(|_| ApiError::new(ErrorCode::Internal, "the caller holds characters metadata cannot carry"))
        };
        metadata.insert(CALLER_ID_KEY, value(&self.staff_id)?);
        metadata.insert(CALLER_ROLE_KEY, value(self.role.as_str())?);
        metadata.insert(CALLER_STORES_KEY, value(&self.store_ids.join(","))?);
        Ok(())
    }

    /// Wraps a message for a call to another service on behalf of this caller.
    pub fn outgoing<T>(&self, message: T) -> Result<tonic::Request<T>, ApiError> {
        let mut request = tonic::Request::new(message);
        self.write_to(request.metadata_mut())?;
        Ok(request)
    }

    /// Rejects the call unless the caller has one of the given roles.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::PermissionDenied, format!("role `{}` may not do this", self.role)))
        }
    }

    /// Whether the caller may see data of the given store.
    pub fn can_see_store(&self, store_id: &str) -> bool {
        self.store_ids.is_empty() || self.store_ids.iter().any(|id| id == store_id)
    }

    /// The stores whose data the caller may see.
    pub fn store_scope(&self) -> StoreScope {
        if self.store_ids.is_empty() { StoreScope::All } else { StoreScope::Only(self.store_ids.clone()) }
    }
}

/// The credential behind a caller, as the gateway writes it under [`CALLER_CREDENTIAL_KEY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    /// What kind of credential it is.
    pub kind: CredentialKind,
    /// Id of the session or API token; 0 for the local caller.
    pub id: i64,
    /// Id of the scrm user behind it; 0 when none (API tokens, the local caller, system work).
    pub user_id: i64,
}

/// The kinds of [`Credential`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A browser session (cookie).
    Session,
    /// An API token (`Authorization: Bearer`).
    ApiToken,
    /// The configured local caller, or scrm's own background work.
    Local,
}

impl Credential {
    /// Reads the credential from gRPC metadata; `None` when absent or malformed.
    pub fn from_metadata(metadata: &MetadataMap) -> Option<Credential> {
        let text = metadata.get(CALLER_CREDENTIAL_KEY)?.to_str().ok()?;
        let (credential, user_id) = match text.split_once('@') {
            Some((credential, user)) => (credential, user.parse().ok()?),
            None => (text, 0),
        };
        let (kind, id) = match credential.split_once(':') {
            Some(("session", id)) => (CredentialKind::Session, id.parse().ok()?),
            Some(("token", id)) => (CredentialKind::ApiToken, id.parse().ok()?),
            None if credential == "local" => (CredentialKind::Local, 0),
            _ => return None,
        };
        Some(Credential { kind, id, user_id })
    }

    /// Writes the credential into gRPC metadata.
    pub fn write_to(&self, metadata: &mut MetadataMap) {
        let credential = match self.kind {
            CredentialKind::Session => format!("session:{}", self.id),
            CredentialKind::ApiToken => format!("token:{}", self.id),
            CredentialKind::Local => "local".to_owned(),
        };
        let text = if self.user_id > 0 { format!("{credential}@{}", self.user_id) } else { credential };
        if let Ok(value) = MetadataValue::try_from(text.as_str()) {
            metadata.insert(CALLER_CREDENTIAL_KEY, value);
        }
    }
}

/// The stores a query is limited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreScope {
    /// Every store, and data that belongs to no store.
    All,
    /// Only these stores.
    Only(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager() -> Caller {
        Caller { staff_id: "zhangsan".into(), role: Role::StoreManager, store_ids: vec!["s1".into(), "s2".into()] }
    }

    #[test]
    fn a_caller_round_trips_through_metadata() {
        let request = manager().outgoing(()).unwrap();
        assert_eq!(Caller::from_request(&request).unwrap(), manager());
    }

    #[test]
    fn a_request_without_caller_is_unauthenticated() {
        let error = Caller::from_request(&tonic::Request::new(())).unwrap_err();
        assert_eq!(error.code, ErrorCode::Unauthenticated);
    }

    #[test]
    fn an_unknown_role_is_rejected() {
        let mut request = tonic::Request::new(());
        request.metadata_mut().insert(CALLER_ID_KEY, MetadataValue::from_static("x"));
        request.metadata_mut().insert(CALLER_ROLE_KEY, MetadataValue::from_static("root"));
        assert_eq!(Caller::from_request(&request).unwrap_err().code, ErrorCode::Unauthenticated);
    }

    #[test]
    fn store_scope_limits_what_a_manager_sees() {
        assert!(manager().can_see_store("s2"));
        assert!(!manager().can_see_store("s3"));
        let operator = Caller { role: Role::Operator, store_ids: vec![], ..manager() };
        assert!(operator.can_see_store("s3"));
        assert_eq!(operator.store_scope(), StoreScope::All);
        assert_eq!(manager().store_scope(), StoreScope::Only(vec!["s1".into(), "s2".into()]));
    }

    #[test]
    fn a_credential_round_trips_through_metadata() {
        for credential in [
            Credential { kind: CredentialKind::Session, id: 7, user_id: 3 },
            Credential { kind: CredentialKind::ApiToken, id: 2, user_id: 0 },
            Credential { kind: CredentialKind::Local, id: 0, user_id: 0 },
        ] {
            let mut metadata = MetadataMap::new();
            credential.write_to(&mut metadata);
            assert_eq!(Credential::from_metadata(&metadata), Some(credential));
        }
        let mut metadata = MetadataMap::new();
        metadata.insert(CALLER_CREDENTIAL_KEY, MetadataValue::from_static("session:x"));
        assert_eq!(Credential::from_metadata(&metadata), None);
    }

    #[test]
    fn roles_are_enforced() {
        assert!(manager().require_any(&[Role::Operator, Role::StoreManager]).is_ok());
        assert_eq!(manager().require_any(&[Role::Admin]).unwrap_err().code, ErrorCode::PermissionDenied);
    }
}
