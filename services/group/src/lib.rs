//! The group service (`scrm.group.v1.GroupService`): customer groups (客户群), welcome
//! messages and activity monitoring (PR04, PR05, PR07). It owns the `group_*` tables.

mod api;
mod domain;
mod error;
mod listing;
mod planned;
mod store;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::group::v1::group_service_server::GroupServiceServer;
use scrm_storage::{Db, ServiceMigrations};
use tower::Layer;

pub use planned::PLANNED;

/// The group service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "group",
    sqlite: sqlx::migrate!("../../migrations/sqlite/group"),
    mysql: sqlx::migrate!("../../migrations/mysql/group"),
};

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<GroupServiceServer<api::GroupApi>>;

/// Builds the group service over `db`.
pub fn service(db: Db) -> Service {
    let api = api::GroupApi::new(store::GroupStore::new(db));
    PlannedRpcs::new(scrm_kernel::ServiceKind::Group.grpc_name(), PLANNED).layer(GroupServiceServer::new(api))
}
