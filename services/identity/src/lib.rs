//! The identity service (`scrm.identity.v1.IdentityService`): org sync, users and roles, the WeCom
//! callback inbox and JS-SDK signing (PR01). It owns the `identity_*` tables.

mod api;
mod auth;
mod corp;
mod domain;
mod error;
mod jssdk;
mod org;
mod planned;
mod store;
mod sync;
mod worker;

use std::sync::Arc;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::identity::v1::identity_service_server::IdentityServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use scrm_wecom::WeComClient;

pub use auth::{
    AuthSettings, FirstAdmin, IssuedToken, PERMISSIONS, WecomLogin, create_api_token, ensure_first_admin,
    list_api_tokens, revoke_api_token,
};
pub use corp::{CorpBinding, CorpSecrets, StoredCorp, stored_corp_settings};
pub use jssdk::JsSdkSettings;
pub use planned::PLANNED;

/// The identity service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "identity",
    sqlite: sqlx::migrate!("../../migrations/sqlite/identity"),
    mysql: sqlx::migrate!("../../migrations/mysql/identity"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<IdentityServiceServer<api::IdentityApi>>;

/// Builds the identity service over `db`. `wecom` reads the corp for sync, callback processing, WeCom sign-in and
/// JS-SDK tickets (`None`: not configured, and `StartSync` / `GetJsSdkSignatures` answer FAILED_PRECONDITION);
/// `clients` reach the customer and group services it writes to; `jssdk` names the app the sidebar's JS-SDK
/// is signed for; `auth` sets sessions and WeCom sign-in; `corp` is the corp binding the settings page shows and
/// changes (its keyring is the one the callback URL verifies with).
///
/// Must be called inside a Tokio runtime: it starts the background worker that resumes an interrupted sync
/// run and processes the callback inbox. The worker stops when the service is dropped.
pub fn service(
    db: Db,
    wecom: Option<WeComClient>,
    clients: Clients,
    jssdk: JsSdkSettings,
    auth: AuthSettings,
    corp: CorpBinding,
) -> Service {
    let name = scrm_kernel::ServiceKind::Identity.grpc_name();
    let default_role = Arc::new(std::sync::RwLock::new(auth.default_staff_role));
    let corp = corp::Corp::new(corp, wecom.clone(), default_role.clone(), db.clone());
    let auth = auth::Auth::new(db.clone(), wecom.clone(), auth, default_role);
    let org = org::Org::new(db.clone());
    let store = store::IdentityStore::new(db);
    let jssdk = Arc::new(jssdk::JsSdk::new(wecom.clone(), jssdk));
    // Callback processing gets its own client (same token), so a sync run's call counters are its own.
    let worker_wecom =
        wecom.as_ref().map(|client| WeComClient::new(client.config().clone()).unwrap_or_else(|_| client.clone()));
    let sync = Arc::new(sync::SyncManager::new(store.clone(), wecom, clients.clone()));
    let worker = worker::InboxWorker::new(store.clone(), worker_wecom, clients);
    let background = tokio::spawn(worker.clone().run(sync.clone()));
    let api = api::IdentityApi::new(store, sync, (worker, background.abort_handle()), jssdk, auth, (org, corp));
    scrm_kernel::permissions::gate(name, PLANNED, PERMISSIONS, IdentityServiceServer::new(api))
}
