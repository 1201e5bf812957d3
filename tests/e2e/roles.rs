//! Roles are enforced in the services: every RPC of every service has a permission entry, and each role
//! is refused a forbidden call by the service itself (called straight, as a trusted peer would) while an
//! allowed call passes. REST endpoints answer the service's refusal as 403 naming the permission.

use prost::Message;
use scrm_kernel::permissions::{Access, RpcAccess};
use scrm_kernel::{Caller, Role};
use scrm_proto::analytics::v1::GetOverviewRequest;
use scrm_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::{CountCustomersRequest, RecordQuickReplySentRequest, UpsertExternalContactsRequest};
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{CreateGroupTagRequest, ListGroupsRequest};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{CreateApiTokenRequest, ListAuditLogRequest, ListStaffRequest};
use scrm_proto::messaging::v1::CreateBroadcastRequest;
use scrm_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use serde_json::Value;
use tonic::transport::Channel;

use crate::harness::{TestApp, bearer};

const CLUSTER_TOKEN: &str = "peer-secret";

fn tables() -> [(&'static str, &'static [RpcAccess]); 7] {
    [
        ("scrm.identity.v1.IdentityService", scrm_identity::PERMISSIONS),
        ("scrm.customer.v1.CustomerService", scrm_customer::PERMISSIONS),
        ("scrm.group.v1.GroupService", scrm_group::PERMISSIONS),
        ("scrm.messaging.v1.MessagingService", scrm_messaging::PERMISSIONS),
        ("scrm.campaign.v1.CampaignService", scrm_campaign::PERMISSIONS),
        ("scrm.rewards.v1.RewardsService", scrm_rewards::PERMISSIONS),
        ("scrm.analytics.v1.AnalyticsService", scrm_analytics::PERMISSIONS),
    ]
}

#[test]
fn every_rpc_of_every_service_has_exactly_one_permission_entry() {
    let descriptors = prost_types::FileDescriptorSet::decode(scrm_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut checked = 0;
    for file in descriptors.file {
        for service in &file.service {
            let full_name = format!("{}.{}", file.package(), service.name());
            let (_, table) = tables()
                .into_iter()
                .find(|(name, _)| *name == full_name)
                .unwrap_or_else(|| panic!("{full_name} has no permission table"));
            for method in &service.method {
                let entries = table.iter().filter(|(name, _)| *name == method.name()).count();
                assert_eq!(entries, 1, "{full_name}/{} must have exactly one permission entry", method.name());
                checked += 1;
            }
            for (name, _) in table {
                assert!(
                    service.method.iter().any(|method| method.name() == *name),
                    "{full_name} lists {name}, which is not in its contract"
                );
            }
        }
    }
    assert!(checked > 150, "the tables cover the whole product ({checked} RPCs)");
    let public: Vec<&str> = tables()
        .iter()
        .flat_map(|(_, table)| table.iter())
        .filter(|(_, access)| *access == Access::Public)
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(public, ["Login", "GetWecomLoginUrl", "Authenticate"], "only sign-in is public");
}

/// A request to a service straight, as a trusted peer would send it, on behalf of a caller of `role`.
fn as_role<T>(message: T, role: Role) -> tonic::Request<T> {
    let stores = if role == Role::StoreManager { vec!["1".to_owned()] } else { Vec::new() };
    let caller = Caller { staff_id: format!("{role}-someone"), role, store_ids: stores };
    let mut request = caller.outgoing(message).unwrap();
    request.metadata_mut().insert("x-scrm-cluster-token", CLUSTER_TOKEN.parse().unwrap());
    request
}

/// Asserts a call was refused with PERMISSION_DENIED and a reason naming the permission `rpc`.
fn assert_denied<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, rpc: &str) {
    let status = result.expect_err("the call must be refused");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{rpc}: {status:?}");
    assert!(status.message().contains(rpc), "the reason names {rpc}: {}", status.message());
}

fn assert_allowed<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, what: &str) {
    if let Err(status) = result {
        panic!("{what} must be allowed, got {status:?}");
    }
}

async fn secure_app() -> TestApp {
    TestApp::spawn_with(&[], |config| {
        config.cluster.token = CLUSTER_TOKEN.into();
        config.auth.local_caller = false;
    })
    .await
}

struct Services {
    identity: IdentityServiceClient<Channel>,
    customer: CustomerServiceClient<Channel>,
    group: GroupServiceClient<Channel>,
    messaging: MessagingServiceClient<Channel>,
    analytics: AnalyticsServiceClient<Channel>,
}

async fn services(app: &TestApp) -> Services {
    let channel = app.channel().await;
    Services {
        identity: IdentityServiceClient::new(channel.clone()),
        customer: CustomerServiceClient::new(channel.clone()),
        group: GroupServiceClient::new(channel.clone()),
        messaging: MessagingServiceClient::new(channel.clone()),
        analytics: AnalyticsServiceClient::new(channel),
    }
}

#[tokio::test]
async fn each_role_is_refused_at_the_service_and_allowed_what_it_holds() {
    let app = secure_app().await;
    let mut s = services(&app).await;

    let token = CreateApiTokenRequest { name: "x".into(), role: Role::Koc.to_proto() as i32, ..Default::default() };
    let operator = s.identity.create_api_token(as_role(token, Role::Operator)).await;
    assert_denied(operator, "scrm.identity.v1.IdentityService/CreateApiToken");
    let tag = CreateGroupTagRequest { name: "宝妈群".into(), category: "人群".into(), sort_order: 1 };
    assert_allowed(s.group.create_group_tag(as_role(tag, Role::Operator)).await, "an operator tagging groups");

    let broadcast = s.messaging.create_broadcast(as_role(CreateBroadcastRequest::default(), Role::Support)).await;
    assert_denied(broadcast, "scrm.messaging.v1.MessagingService/CreateBroadcast");
    let count = s.customer.count_customers(as_role(CountCustomersRequest {}, Role::Support)).await;
    assert_allowed(count, "support counting customers");

    let upsert =
        s.customer.upsert_external_contacts(as_role(UpsertExternalContactsRequest::default(), Role::StoreManager));
    assert_denied(upsert.await, "scrm.customer.v1.CustomerService/UpsertExternalContacts");
    let overview = s.analytics.get_overview(as_role(GetOverviewRequest {}, Role::StoreManager)).await;
    assert_allowed(overview, "a store manager reading the overview");

    let overview = s.analytics.get_overview(as_role(GetOverviewRequest {}, Role::Koc)).await;
    assert_denied(overview, "scrm.analytics.v1.AnalyticsService/GetOverview");
    assert_allowed(s.group.list_groups(as_role(ListGroupsRequest::default(), Role::Koc)).await, "a KOC listing groups");

    let sent = s.customer.record_quick_reply_sent(as_role(RecordQuickReplySentRequest::default(), Role::Admin)).await;
    assert_denied(sent, "scrm.customer.v1.CustomerService/RecordQuickReplySent");
    let audit = s.identity.list_audit_log(as_role(ListAuditLogRequest::default(), Role::Admin)).await;
    assert_allowed(audit, "the admin reading the audit log");
}

/// A request from a trusted peer that names no caller.
fn peer<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("x-scrm-cluster-token", CLUSTER_TOKEN.parse().unwrap());
    request
}

#[tokio::test]
async fn a_call_without_a_caller_is_unauthenticated_at_every_service() {
    let app = secure_app().await;
    let mut s = services(&app).await;
    let codes = [
        s.identity.list_staff(peer(ListStaffRequest::default())).await.map(drop),
        s.customer.count_customers(peer(CountCustomersRequest {})).await.map(drop),
        s.group.list_groups(peer(ListGroupsRequest::default())).await.map(drop),
        s.analytics.get_overview(peer(GetOverviewRequest {})).await.map(drop),
    ];
    for outcome in codes {
        assert_eq!(outcome.unwrap_err().code(), tonic::Code::Unauthenticated);
    }
}

#[tokio::test]
async fn rest_endpoints_answer_the_services_refusal_as_403_naming_the_permission() {
    let app = secure_app().await;
    let koc = bearer(&app.token(Role::Koc, &[]).await);
    let response = koc.get(format!("{}/api/overview", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("AnalyticsService/GetOverview"), "{body}");

    let manager = bearer(&app.token(Role::StoreManager, &[1]).await);
    let response = manager.get(format!("{}/api/overview", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 200, "a store manager holds overview.read");
}
