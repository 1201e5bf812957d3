//! The rewards service (`scrm.rewards.v1.RewardsService`): points, coupons, blind boxes and KOC earnings (PR13, PR15).
//! It owns the `rewards_*` tables.
//!
//! Built: reward definitions of the points, coupon and cash kinds, `IssueReward` (exactly once per idempotency
//! key: points credited to the customer's account and ledger, a coupon with a unique code, or cash credited to a
//! KOC's earnings ledger), grants, points balances, ledgers and hand adjustments (never below zero), coupons and
//! their redemption (核销). Blind boxes are refused with a reason; `FulfillGrant` and the KOC earnings reads answer
//! through [`PLANNED`].

mod api;
mod domain;
mod error;
mod permissions;
mod planned;
mod store;

use scrm_kernel::permissions::GatedServer;
use scrm_proto::rewards::v1::rewards_service_server::RewardsServiceServer;
use scrm_storage::{Db, ServiceMigrations};

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;

/// The rewards service's schema.
pub static MIGRATIONS: ServiceMigrations = ServiceMigrations {
    service: "rewards",
    sqlite: sqlx::migrate!("../../migrations/sqlite/rewards"),
    mysql: sqlx::migrate!("../../migrations/mysql/rewards"),
};

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<RewardsServiceServer<api::RewardsApi>>;

/// Builds the rewards service over `db` (migrated with [`MIGRATIONS`]).
pub fn service(db: Db) -> Service {
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Rewards.grpc_name(),
        PLANNED,
        PERMISSIONS,
        RewardsServiceServer::new(api::RewardsApi::new(store::RewardsStore::new(db))),
    )
}
