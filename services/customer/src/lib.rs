//! The customer service (`scrm.customer.v1.CustomerService`): customer profiles, search and the
//! quick-reply library (PR02, PR03). It owns the `customer_*` tables.

mod api;
mod domain;
mod error;
pub mod order_csv;
mod permissions;
mod planned;
mod quick_replies;
mod search;
mod store;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::customer::v1::customer_service_server::CustomerServiceServer;
use scrm_storage::{Db, ServiceMigrations};

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;
pub use scrm_search::SearchIndex;
pub use search::ReindexSummary;

/// The customer service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "customer",
    sqlite: sqlx::migrate!("../../migrations/sqlite/customer"),
    mysql: sqlx::migrate!("../../migrations/mysql/customer"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<CustomerServiceServer<api::CustomerApi>>;

/// Builds the customer service over `db`, keeping the customer search index `search` up to date; `clients`
/// reach identity (staff names), rewards (coupons), group (the groups a customer is in) and campaign (KOC flag,
/// campaigns joined, campaign-link replies); `wecom` receives
/// tag write-backs (`None` when WeCom is not configured: tag writes then fail with FAILED_PRECONDITION).
pub fn service(db: Db, clients: Clients, search: SearchIndex, wecom: Option<scrm_wecom::WeComClient>) -> Service {
    let store = store::CustomerStore::new(db.clone());
    let groups = clients.group.clone();
    let campaigns = clients.campaign.clone();
    let quick_replies = quick_replies::QuickReplies::new(db, clients);
    let search = search::CustomerSearch::new(search, store.clone());
    let api = api::CustomerApi::new(store, quick_replies, search, wecom, groups, campaigns);
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Customer.grpc_name(),
        PLANNED,
        PERMISSIONS,
        CustomerServiceServer::new(api),
    )
}

/// Rebuilds the customer search index `search` from the customer tables in `db` (`scrm reindex` on a stopped
/// server, and the first start with an empty index).
pub async fn reindex(db: Db, search: SearchIndex) -> Result<ReindexSummary, tonic::Status> {
    let store = store::CustomerStore::new(db);
    Ok(search::CustomerSearch::new(search, store).reindex().await?)
}
