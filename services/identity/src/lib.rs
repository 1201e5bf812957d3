//! The identity service (`scrm.identity.v1.IdentityService`): org sync, users and roles, the WeCom
//! callback inbox and JS-SDK signing (PR01). It owns the `identity_*` tables.

mod api;
mod domain;
mod error;
mod jssdk;
mod planned;
mod store;
mod sync;

use std::sync::Arc;

use scrm_kernel::Clients;
use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::identity::v1::identity_service_server::IdentityServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;
use tower::Layer;

pub use jssdk::JsSdkSettings;
pub use planned::PLANNED;

/// The identity service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "identity",
    sqlite: sqlx::migrate!("../../migrations/sqlite/identity"),
    mysql: sqlx::migrate!("../../migrations/mysql/identity"),
};

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<IdentityServiceServer<api::IdentityApi>>;

/// Builds the identity service over `db`. `wecom` reads the corp for sync and JS-SDK tickets (`None`: not
/// configured, and `StartSync` / `GetJsSdkSignatures` answer FAILED_PRECONDITION); `clients` reach the
/// customer and group services it writes to; `jssdk` names the app the sidebar's JS-SDK is signed for.
pub fn service(db: Db, wecom: Option<WeComClient>, clients: Clients, jssdk: JsSdkSettings) -> Service {
    let store = store::IdentityStore::new(db);
    let jssdk = Arc::new(jssdk::JsSdk::new(wecom.clone(), jssdk));
    let sync = Arc::new(sync::SyncManager::new(store.clone(), wecom, clients));
    let api = api::IdentityApi::new(store, sync, jssdk);
    PlannedRpcs::new(scrm_kernel::ServiceKind::Identity.grpc_name(), PLANNED).layer(IdentityServiceServer::new(api))
}
