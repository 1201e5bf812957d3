//! The tonic implementation of `scrm.rewards.v1.RewardsService`. No RPC has a body yet: each answers
//! through [`crate::PLANNED`].

use scrm_proto::rewards::v1::rewards_service_server::RewardsService;

/// The rewards service's gRPC handlers.
#[derive(Debug, Clone, Copy)]
pub struct RewardsApi;

#[tonic::async_trait]
impl RewardsService for RewardsApi {}
