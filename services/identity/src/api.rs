//! The tonic implementation of `scrm.identity.v1.IdentityService`. No RPC has a body yet: each answers
//! through [`crate::PLANNED`].

use scrm_proto::identity::v1::identity_service_server::IdentityService;

/// The identity service's gRPC handlers.
#[derive(Debug, Clone, Copy)]
pub struct IdentityApi;

#[tonic::async_trait]
impl IdentityService for IdentityApi {}
