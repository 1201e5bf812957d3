//! The customer service (`scrm.customer.v1.CustomerService`): customer profiles, search and the
//! quick-reply library (PR02, PR03). It owns the `customer_*` tables.

mod api;
mod domain;
mod error;
pub mod order_csv;
mod planned;
mod quick_replies;
mod store;

use scrm_kernel::Clients;
use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::customer::v1::customer_service_server::CustomerServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use tower::Layer;

pub use planned::PLANNED;

/// The customer service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "customer",
    sqlite: sqlx::migrate!("../../migrations/sqlite/customer"),
    mysql: sqlx::migrate!("../../migrations/mysql/customer"),
};

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<CustomerServiceServer<api::CustomerApi>>;

/// Builds the customer service over `db`; `clients` reach identity (staff names) and rewards (coupons).
pub fn service(db: Db, clients: Clients) -> Service {
    let quick_replies = quick_replies::QuickReplies::new(db.clone(), clients);
    let api = api::CustomerApi::new(store::CustomerStore::new(db), quick_replies);
    PlannedRpcs::new(scrm_kernel::ServiceKind::Customer.grpc_name(), PLANNED).layer(CustomerServiceServer::new(api))
}
