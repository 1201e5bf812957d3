//! The seven services of scrm, and the set of clients one service uses to reach the others.

use std::fmt;
use std::str::FromStr;

use scrm_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use scrm_proto::campaign::v1::campaign_service_client::CampaignServiceClient;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use scrm_proto::rewards::v1::rewards_service_client::RewardsServiceClient;
use serde::{Deserialize, Serialize};

use crate::rpc::RpcChannel;

/// One of the services, as named on the command line and in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Org sync, users, roles and WeCom callbacks (PR01).
    Identity,
    /// Customer profiles, search and quick replies (PR02, PR03).
    Customer,
    /// Customer groups, welcome messages and activity monitoring (PR04, PR05, PR07).
    Group,
    /// Broadcasts, auto-reply and reminders (PR06, PR08, PR09).
    Messaging,
    /// Check-ins, fission campaigns and KOC tasks (PR10–PR12, PR14).
    Campaign,
    /// Points, coupons, blind boxes and KOC earnings (PR13, PR15).
    Rewards,
    /// Dashboard, lifecycle funnel and KOC board (PR15–PR17).
    Analytics,
}

impl ServiceKind {
    /// Every service, in dependency-friendly order.
    pub const ALL: [ServiceKind; 7] = [
        ServiceKind::Identity,
        ServiceKind::Customer,
        ServiceKind::Group,
        ServiceKind::Messaging,
        ServiceKind::Campaign,
        ServiceKind::Rewards,
        ServiceKind::Analytics,
    ];

    /// The short name, e.g. `group`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Identity => "identity",
            ServiceKind::Customer => "customer",
            ServiceKind::Group => "group",
            ServiceKind::Messaging => "messaging",
            ServiceKind::Campaign => "campaign",
            ServiceKind::Rewards => "rewards",
            ServiceKind::Analytics => "analytics",
        }
    }

    /// The full protobuf service name, e.g. `scrm.group.v1.GroupService`.
    pub fn grpc_name(self) -> &'static str {
        match self {
            ServiceKind::Identity => "scrm.identity.v1.IdentityService",
            ServiceKind::Customer => "scrm.customer.v1.CustomerService",
            ServiceKind::Group => "scrm.group.v1.GroupService",
            ServiceKind::Messaging => "scrm.messaging.v1.MessagingService",
            ServiceKind::Campaign => "scrm.campaign.v1.CampaignService",
            ServiceKind::Rewards => "scrm.rewards.v1.RewardsService",
            ServiceKind::Analytics => "scrm.analytics.v1.AnalyticsService",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ServiceKind::ALL.into_iter().find(|kind| kind.as_str() == value.trim()).ok_or_else(|| {
            let names: Vec<_> = ServiceKind::ALL.iter().map(|kind| kind.as_str()).collect();
            format!("unknown service `{value}`; expected one of {}", names.join(", "))
        })
    }
}

/// Clients for every service, each over an in-process or a network [`RpcChannel`].
#[derive(Clone)]
pub struct Clients {
    /// The identity service.
    pub identity: IdentityServiceClient<RpcChannel>,
    /// The customer service.
    pub customer: CustomerServiceClient<RpcChannel>,
    /// The group service.
    pub group: GroupServiceClient<RpcChannel>,
    /// The messaging service.
    pub messaging: MessagingServiceClient<RpcChannel>,
    /// The campaign service.
    pub campaign: CampaignServiceClient<RpcChannel>,
    /// The rewards service.
    pub rewards: RewardsServiceClient<RpcChannel>,
    /// The analytics service.
    pub analytics: AnalyticsServiceClient<RpcChannel>,
}

impl Clients {
    /// Builds every client over the channel `channel_for` gives for its service.
    pub fn new(mut channel_for: impl FnMut(ServiceKind) -> RpcChannel) -> Clients {
        Clients {
            identity: IdentityServiceClient::new(channel_for(ServiceKind::Identity)),
            customer: CustomerServiceClient::new(channel_for(ServiceKind::Customer)),
            group: GroupServiceClient::new(channel_for(ServiceKind::Group)),
            messaging: MessagingServiceClient::new(channel_for(ServiceKind::Messaging)),
            campaign: CampaignServiceClient::new(channel_for(ServiceKind::Campaign)),
            rewards: RewardsServiceClient::new(channel_for(ServiceKind::Rewards)),
            analytics: AnalyticsServiceClient::new(channel_for(ServiceKind::Analytics)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_parse_back() {
        for kind in ServiceKind::ALL {
            assert_eq!(kind.as_str().parse::<ServiceKind>(), Ok(kind));
            assert!(scrm_proto::SERVICE_NAMES.contains(&kind.grpc_name()));
        }
        assert!("billing".parse::<ServiceKind>().unwrap_err().contains("identity"));
    }
}
