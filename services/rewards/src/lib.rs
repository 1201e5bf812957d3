//! The rewards service (`scrm.rewards.v1.RewardsService`): points, coupons, blind boxes and KOC earnings (PR13, PR15).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod planned;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::rewards::v1::rewards_service_server::RewardsServiceServer;
use tower::Layer;

pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<RewardsServiceServer<api::RewardsApi>>;

/// Builds the rewards service.
pub fn service() -> Service {
    PlannedRpcs::new(scrm_kernel::ServiceKind::Rewards.grpc_name(), PLANNED)
        .layer(RewardsServiceServer::new(api::RewardsApi))
}
