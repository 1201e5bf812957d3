//! The messaging service (`scrm.messaging.v1.MessagingService`): scheduled group broadcasts, auto-reply and reminders (PR06, PR08, PR09).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod planned;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::messaging::v1::messaging_service_server::MessagingServiceServer;
use tower::Layer;

pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<MessagingServiceServer<api::MessagingApi>>;

/// Builds the messaging service.
pub fn service() -> Service {
    PlannedRpcs::new(scrm_kernel::ServiceKind::Messaging.grpc_name(), PLANNED)
        .layer(MessagingServiceServer::new(api::MessagingApi))
}
