//! The identity service (`scrm.identity.v1.IdentityService`): org sync, users and roles, WeCom callbacks and JS-SDK signing (PR01).
//!
//! Its contract is complete; every RPC answers `UNIMPLEMENTED` naming the feature that will
//! build it (see [`PLANNED`]) until that feature lands.

mod api;
mod planned;

use scrm_kernel::rpc::{PlannedRpcs, PlannedRpcsService};
use scrm_proto::identity::v1::identity_service_server::IdentityServiceServer;
use tower::Layer;

pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process.
pub type Service = PlannedRpcsService<IdentityServiceServer<api::IdentityApi>>;

/// Builds the identity service.
pub fn service() -> Service {
    PlannedRpcs::new(scrm_kernel::ServiceKind::Identity.grpc_name(), PLANNED)
        .layer(IdentityServiceServer::new(api::IdentityApi))
}
