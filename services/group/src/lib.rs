//! The group service (`scrm.group.v1.GroupService`): customer groups (客户群), welcome
//! messages and activity monitoring (PR04, PR05, PR07). It owns the `group_*` tables.

mod activity;
mod alerts;
mod api;
mod clock;
mod domain;
mod error;
mod listing;
mod permissions;
mod planned;
mod store;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::permissions::GatedServer;
use scrm_proto::group::v1::group_service_server::GroupServiceServer;
use scrm_storage::{Db, ServiceMigrations};

pub use clock::{Clock, ManualClock, SystemClock};
pub use permissions::PERMISSIONS;
pub use planned::PLANNED;
pub use worker::{AlertNotifier, EVALUATION_INTERVAL, Evaluation};

/// The group service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "group",
    sqlite: sqlx::migrate!("../../migrations/sqlite/group"),
    mysql: sqlx::migrate!("../../migrations/mysql/group"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<GroupServiceServer<api::GroupApi>>;

/// Builds the group service over `db` on the wall clock, and starts its worker: activity figures and alert
/// rules evaluated every [`EVALUATION_INTERVAL`], new alerts pushed to owners through `notifier` (none: not
/// pushed).
pub fn service(db: Db, notifier: Option<AlertNotifier>) -> Service {
    service_with_clock(db, Arc::new(SystemClock), notifier, Some(EVALUATION_INTERVAL))
}

/// Builds the group service telling time by `clock`; the worker runs every `interval` (`None`: not started,
/// tests run [`evaluate_alerts`] themselves).
pub fn service_with_clock(
    db: Db,
    clock: Arc<dyn Clock>,
    notifier: Option<AlertNotifier>,
    interval: Option<Duration>,
) -> Service {
    let store = store::GroupStore::new(db);
    if let Some(interval) = interval {
        worker::spawn(store.clone(), clock.clone(), notifier, interval);
    }
    let api = api::GroupApi::new(store, clock);
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Group.grpc_name(),
        PLANNED,
        PERMISSIONS,
        GroupServiceServer::new(api),
    )
}

/// Refreshes activity figures and evaluates the alert rules once, as of `clock`'s now.
pub async fn evaluate_alerts(
    db: &Db,
    clock: &dyn Clock,
    notifier: Option<&AlertNotifier>,
) -> Result<Evaluation, sqlx::Error> {
    worker::evaluate(&store::GroupStore::new(db.clone()), clock, notifier).await
}
