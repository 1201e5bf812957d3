//! The analytics service (`scrm.analytics.v1.AnalyticsService`): the private-domain dashboard,
//! lifecycle funnel and KOC board (PR15–PR17), and the group activity ranking (PR07). It reads other services only through their
//! contracts.

mod api;
mod permissions;
mod planned;
mod ranking;

use scrm_kernel::Clients;
use scrm_kernel::permissions::GatedServer;
use scrm_proto::analytics::v1::analytics_service_server::AnalyticsServiceServer;

pub use permissions::PERMISSIONS;
pub use planned::PLANNED;

/// The gRPC service, ready to mount on a server or to call in-process: every built RPC is checked against
/// [`PERMISSIONS`] before its handler runs.
pub type Service = GatedServer<AnalyticsServiceServer<api::AnalyticsApi>>;

/// Builds the analytics service, reaching the other services through `clients`.
pub fn service(clients: Clients) -> Service {
    scrm_kernel::permissions::gate(
        scrm_kernel::ServiceKind::Analytics.grpc_name(),
        PLANNED,
        PERMISSIONS,
        AnalyticsServiceServer::new(api::AnalyticsApi::new(clients)),
    )
}
