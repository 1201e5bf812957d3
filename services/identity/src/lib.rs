//! The identity service (`scrm.identity.v1.IdentityService`): org sync, users and roles, the WeCom
//! callback inbox and JS-SDK signing (PR01). It owns the `identity_*` tables.

mod api;
mod auth;
mod domain;
mod error;
mod planned;
mod store;
mod sync;

use std::sync::Arc;

use scrm_kernel::Clients;
use scrm_kernel::permissions::{Permissions, PermissionsService};
use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::identity::v1::identity_service_server::IdentityServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;
use tower::Layer;

pub use auth::{
    AuthSettings, FirstAdmin, IssuedToken, PERMISSIONS, WecomLogin, create_api_token, ensure_first_admin,
    list_api_tokens, revoke_api_token,
};
pub use planned::PLANNED;

/// The identity service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "identity",
    sqlite: sqlx::migrate!("../../migrations/sqlite/identity"),
    mysql: sqlx::migrate!("../../migrations/mysql/identity"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = PlannedRpcsService<PermissionsService<IdentityServiceServer<api::IdentityApi>>>;

/// Builds the identity service over `db` with default sign-in settings. See [`service_with_auth`].
pub fn service(db: Db, wecom: Option<WeComClient>, clients: Clients) -> Service {
    service_with_auth(db, wecom, clients, AuthSettings::default())
}

/// Builds the identity service over `db`. `wecom` reads the corp for sync and WeCom sign-in (`None`: not
/// configured, and `StartSync` answers FAILED_PRECONDITION); `clients` reach the customer and group services
/// it writes to; `auth` sets sessions and WeCom sign-in.
pub fn service_with_auth(db: Db, wecom: Option<WeComClient>, clients: Clients, auth: AuthSettings) -> Service {
    let name = scrm_kernel::ServiceKind::Identity.grpc_name();
    let auth = auth::Auth::new(db.clone(), wecom.clone(), auth);
    let store = store::IdentityStore::new(db);
    let sync = Arc::new(sync::SyncManager::new(store.clone(), wecom, clients));
    let api = api::IdentityApi::new(store, sync, auth);
    let server = Permissions::new(name, PERMISSIONS).layer(IdentityServiceServer::new(api));
    PlannedRpcs::new(name, PLANNED).layer(server)
}
