//! The rewards service (`scrm.rewards.v1.RewardsService`): points, coupons, blind boxes and KOC earnings (PR13, PR15).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod permissions;
mod planned;

use scrm_kernel::permissions::GatedServer;
use scrm_proto::rewards::v1::rewards_service_server::RewardsServiceServer;

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<RewardsServiceServer<api::RewardsApi>>;

/// Builds the rewards service.
pub fn service() -> Service {
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Rewards.grpc_name(),
        PLANNED,
        PERMISSIONS,
        RewardsServiceServer::new(api::RewardsApi),
    )
}
