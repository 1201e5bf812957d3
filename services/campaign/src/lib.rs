//! The campaign service (`scrm.campaign.v1.CampaignService`): group check-ins, fission campaigns and KOC tasks (PR10-PR12, PR14).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod planned;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::campaign::v1::campaign_service_server::CampaignServiceServer;
use tower::Layer;

pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<CampaignServiceServer<api::CampaignApi>>;

/// Builds the campaign service.
pub fn service() -> Service {
    PlannedRpcs::new(scrm_kernel::ServiceKind::Campaign.grpc_name(), PLANNED)
        .layer(CampaignServiceServer::new(api::CampaignApi))
}
