//! The tonic implementation of `scrm.messaging.v1.MessagingService`. No RPC has a body yet: each answers
//! through [`crate::PLANNED`].

use scrm_proto::messaging::v1::messaging_service_server::MessagingService;

/// The messaging service's gRPC handlers.
#[derive(Debug, Clone, Copy)]
pub struct MessagingApi;

#[tonic::async_trait]
impl MessagingService for MessagingApi {}
