//! Rust bindings for the scrm v1 contracts (`proto/scrm/<service>/v1`).
//!
//! Each module mirrors one protobuf package: messages, a `*_client` module with the generated
//! client and a `*_server` module with the service trait. RPCs that no service implements yet
//! answer `UNIMPLEMENTED` through the generated default stubs.

#![allow(missing_docs, clippy::all)]

/// Encoded `FileDescriptorSet` of every scrm contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scrm_descriptor.bin"));

/// The services this build knows, as full protobuf names (`scrm.group.v1.GroupService`).
pub const SERVICE_NAMES: [&str; 7] = [
    "scrm.identity.v1.IdentityService",
    "scrm.customer.v1.CustomerService",
    "scrm.group.v1.GroupService",
    "scrm.messaging.v1.MessagingService",
    "scrm.campaign.v1.CampaignService",
    "scrm.rewards.v1.RewardsService",
    "scrm.analytics.v1.AnalyticsService",
];

macro_rules! package {
    ($module:ident, $package:literal) => {
        #[doc = concat!("The `", $package, "` package.")]
        pub mod $module {
            /// Version 1 of the contract.
            pub mod v1 {
                tonic::include_proto!($package);
            }
        }
    };
}

package!(identity, "scrm.identity.v1");
package!(customer, "scrm.customer.v1");
package!(group, "scrm.group.v1");
package!(messaging, "scrm.messaging.v1");
package!(campaign, "scrm.campaign.v1");
package!(rewards, "scrm.rewards.v1");
package!(analytics, "scrm.analytics.v1");
