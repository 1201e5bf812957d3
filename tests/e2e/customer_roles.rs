//! Each role refused a forbidden customer-service call at the service itself: requests go straight to
//! `scrm.customer.v1.CustomerService` as a trusted peer with the caller in metadata, past the gateway, so the
//! service's own checks (roles, store scope, follow relations, private libraries) are what refuse them.

use scrm_kernel::Role;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::quick_reply_content::Content;
use scrm_proto::customer::v1::{
    AddCustomerNoteRequest, CreateQuickReplyFolderRequest, CreateQuickReplyRequest, ExternalContactInput,
    FollowUserInput, GetCustomerRequest, GetQuickReplyRequest, LevelTier, QuickReplyContent, QuickReplyScope,
    SearchCustomersRequest, TextReplyContent, UpdateLevelTiersRequest, UpsertExternalContactsRequest,
};
use tonic::transport::Channel;

use crate::harness::{PEER_TOKEN, TestApp, as_peer, denied};

/// A customer followed by `userid`, a member of `store`.
fn contact(external_userid: &str, userid: &str, store: i64) -> ExternalContactInput {
    ExternalContactInput {
        external_userid: external_userid.into(),
        name: "顾客".into(),
        r#type: 1,
        follow_user: vec![FollowUserInput { userid: userid.into(), store_ids: vec![store], ..Default::default() }],
        ..Default::default()
    }
}

/// A server whose services accept peers, with customer `wmStore7` (clerk7, store 7) and `wmStore8` (clerk8,
/// store 8), and a reply in support agent `kefu`'s personal library.
async fn app_with_customers() -> (TestApp, CustomerServiceClient<Channel>, i64) {
    let app = TestApp::spawn_with(&[], |config| {
        config.cluster.token = PEER_TOKEN.into();
        config.auth.local_caller = false;
    })
    .await;
    let mut customers = CustomerServiceClient::new(app.channel().await);
    let upsert = UpsertExternalContactsRequest {
        contacts: vec![contact("wmStore7", "clerk7", 7), contact("wmStore8", "clerk8", 8)],
        ..Default::default()
    };
    customers.upsert_external_contacts(as_peer(upsert, "system:sync", Role::Admin, &[])).await.unwrap();
    let folder = CreateQuickReplyFolderRequest {
        name: "我的话术".into(),
        scope: QuickReplyScope::Personal as i32,
        sort_order: 0,
    };
    let folder = customers
        .create_quick_reply_folder(as_peer(folder, "kefu", Role::Support, &[]))
        .await
        .unwrap()
        .into_inner()
        .folder
        .unwrap();
    let reply = CreateQuickReplyRequest {
        folder_id: folder.id,
        title: "私房话".into(),
        content: Some(QuickReplyContent { content: Some(Content::Text(TextReplyContent { text: "您好".into() })) }),
        keywords: vec![],
    };
    let reply = customers.create_quick_reply(as_peer(reply, "kefu", Role::Support, &[])).await.unwrap();
    (app, customers, reply.into_inner().reply.unwrap().id)
}

/// What store 7's manager finds with an empty query, once the index has caught up with the writes (the
/// index answers within a second of a write; this polls instead of timing it).
async fn searched_by_manager7(customers: &mut CustomerServiceClient<Channel>) -> Vec<String> {
    for _ in 0..100 {
        let request = as_peer(SearchCustomersRequest::default(), "manager7", Role::StoreManager, &["7"]);
        let found = customers.search_customers(request).await.unwrap().into_inner().customers;
        if !found.is_empty() {
            return found.into_iter().map(|customer| customer.external_userid).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Vec::new()
}

fn get(external_userid: &str) -> GetCustomerRequest {
    GetCustomerRequest { external_userid: external_userid.into() }
}

#[tokio::test]
async fn every_role_is_refused_a_forbidden_customer_call_at_the_service() {
    let (_app, mut customers, private_reply) = app_with_customers().await;

    let tiers =
        UpdateLevelTiersRequest { tiers: vec![LevelTier { level: 1, name: "金卡".into(), min_spend_fen: 100 }] };
    let support = customers.update_level_tiers(as_peer(tiers.clone(), "kefu", Role::Support, &[])).await;
    assert_eq!(denied(support), tonic::Code::PermissionDenied, "support may not change the level tiers");
    let operator = customers.update_level_tiers(as_peer(tiers, "op", Role::Operator, &[])).await;
    assert!(operator.is_ok(), "an operator may: {operator:?}");

    let manager = |message| as_peer(message, "manager7", Role::StoreManager, &["7"]);
    assert!(customers.get_customer(manager(get("wmStore7"))).await.is_ok(), "their own store's customer");
    let other_store = customers.get_customer(manager(get("wmStore8"))).await;
    assert_eq!(
        denied(other_store),
        tonic::Code::PermissionDenied,
        "a store manager may not open another store's customer"
    );
    let note = AddCustomerNoteRequest { external_userid: "wmStore8".into(), content: "来过".into() };
    let note = customers.add_customer_note(as_peer(note, "manager7", Role::StoreManager, &["7"])).await;
    assert_eq!(denied(note), tonic::Code::PermissionDenied, "nor write notes on them");
    assert_eq!(
        searched_by_manager7(&mut customers).await,
        ["wmStore7"],
        "a store manager finds their store's customers only"
    );

    let koc = customers.get_customer(as_peer(get("wmStore7"), "koc1", Role::Koc, &[])).await;
    assert_eq!(denied(koc), tonic::Code::PermissionDenied, "a KOC may not open a customer they do not follow");
    let write = UpsertExternalContactsRequest { contacts: vec![contact("wmX", "koc1", 7)], ..Default::default() };
    let write = customers.upsert_external_contacts(as_peer(write, "koc1", Role::Koc, &[])).await;
    assert_eq!(denied(write), tonic::Code::PermissionDenied, "a KOC may not write WeCom data");
    let clerk = customers.get_customer(as_peer(get("wmStore7"), "clerk7", Role::Koc, &[])).await;
    assert!(clerk.is_ok(), "anyone sees the customers they follow: {clerk:?}");

    for role in [Role::Operator, Role::Admin] {
        let private =
            customers.get_quick_reply(as_peer(GetQuickReplyRequest { id: private_reply }, "boss", role, &[])).await;
        assert_eq!(
            denied(private),
            tonic::Code::NotFound,
            "another user's personal library is hidden even from {role}"
        );
    }
    let anonymous = customers.get_customer(get("wmStore7")).await;
    assert_eq!(denied(anonymous), tonic::Code::Unauthenticated, "no caller, no answer");
}
