//! The campaign service (`scrm.campaign.v1.CampaignService`): group check-ins, fission campaigns and KOC tasks (PR10-PR12, PR14).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod permissions;
mod planned;

use scrm_kernel::permissions::GatedServer;
use scrm_proto::campaign::v1::campaign_service_server::CampaignServiceServer;

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<CampaignServiceServer<api::CampaignApi>>;

/// Builds the campaign service.
pub fn service() -> Service {
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Campaign.grpc_name(),
        PLANNED,
        PERMISSIONS,
        CampaignServiceServer::new(api::CampaignApi),
    )
}
