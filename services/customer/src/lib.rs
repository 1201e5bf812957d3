//! The customer service (`scrm.customer.v1.CustomerService`): customer profiles, search and the
//! quick-reply library (PR02, PR03). It owns the `customer_*` tables.

mod api;
mod domain;
mod error;
pub mod order_csv;
mod planned;
mod quick_replies;
mod search;
mod store;

use scrm_kernel::Clients;
use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::customer::v1::customer_service_server::CustomerServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use tower::Layer;

pub use planned::PLANNED;
pub use scrm_search::SearchIndex;
pub use search::ReindexSummary;

/// The customer service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "customer",
    sqlite: sqlx::migrate!("../../migrations/sqlite/customer"),
    mysql: sqlx::migrate!("../../migrations/mysql/customer"),
};

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<CustomerServiceServer<api::CustomerApi>>;

/// Builds the customer service over `db`, keeping the customer search index `search` up to date; `clients`
/// reach identity (staff names), rewards (coupons) and group (the groups a customer is in).
pub fn service(db: Db, clients: Clients, search: SearchIndex) -> Service {
    let store = store::CustomerStore::new(db.clone());
    let groups = clients.group.clone();
    let quick_replies = quick_replies::QuickReplies::new(db, clients);
    let search = search::CustomerSearch::new(search, store.clone());
    let api = api::CustomerApi::new(store, quick_replies, search, groups);
    PlannedRpcs::new(scrm_kernel::ServiceKind::Customer.grpc_name(), PLANNED).layer(CustomerServiceServer::new(api))
}

/// Rebuilds the customer search index `search` from the customer tables in `db` (`scrm reindex` on a stopped
/// server, and the first start with an empty index).
pub async fn reindex(db: Db, search: SearchIndex) -> Result<ReindexSummary, tonic::Status> {
    let store = store::CustomerStore::new(db);
    Ok(search::CustomerSearch::new(search, store).reindex().await?)
}
