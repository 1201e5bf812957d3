//! The tonic implementation of `scrm.campaign.v1.CampaignService`. No RPC has a body yet: each answers
//! through [`crate::PLANNED`].

use scrm_proto::campaign::v1::campaign_service_server::CampaignService;

/// The campaign service's gRPC handlers.
#[derive(Debug, Clone, Copy)]
pub struct CampaignApi;

#[tonic::async_trait]
impl CampaignService for CampaignApi {}
