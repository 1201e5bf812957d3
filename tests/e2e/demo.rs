//! The demo corp lives on after its first sync: the in-process simulator's activity driver pushes encrypted
//! callbacks to this scrm's own `/wecom/callback`, which accepts them into the inbox, and fills the chat archive,
//! which the group service follows into the group list's activity columns.

use std::collections::BTreeSet;
use std::time::Duration;

use scrm_kernel::Role;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{GroupSortField, ListGroupsRequest, SortDirection};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{ListCallbackEventsRequest, RotateCallbackKeysRequest};

use crate::harness::TestApp;

/// The demo corp on the built-in simulator, busy enough to see every kind of event within seconds, called by an
/// admin.
async fn busy_demo() -> TestApp {
    TestApp::spawn_with(&[], |config| {
        config.wecom.demo = true;
        config.wecom.demo_activity_rate = 200.0;
        config.caller.role = Role::Admin;
    })
    .await
}

#[tokio::test]
async fn the_demo_corp_pushes_its_changes_to_our_own_callback_url() {
    let app = busy_demo().await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let mut seen = BTreeSet::new();
    for _ in 0..300 {
        let events = identity
            .list_callback_events(ListCallbackEventsRequest::default())
            .await
            .expect("list_callback_events")
            .into_inner()
            .events;
        seen = events.iter().map(|e| format!("{}/{}", e.event, e.change_type)).collect();
        if ["change_external_contact/add_external_contact", "change_external_chat/update"]
            .iter()
            .all(|k| seen.contains(*k))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo corp's callbacks did not arrive within 30 s; inbox has {seen:?}");
}

#[tokio::test]
async fn the_demo_corp_fills_the_group_activity_columns_from_its_chat_archive() {
    let app = busy_demo().await;
    let mut groups = GroupServiceClient::new(app.channel().await);
    let busiest = ListGroupsRequest {
        page_size: 1,
        sort_by: GroupSortField::Messages30d as i32,
        sort_direction: SortDirection::Desc as i32,
        ..ListGroupsRequest::default()
    };
    for _ in 0..600 {
        let page = groups.list_groups(busiest.clone()).await.expect("list_groups").into_inner();
        if page.groups.first().and_then(|group| group.activity.as_ref()).is_some_and(|activity| {
            activity.messages_30d > 0 && activity.speakers_30d > 0 && activity.last_message_at.is_some()
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no group of the demo corp shows messages after 60 s: the chat archive is not followed");
}

#[tokio::test]
async fn the_demo_corp_follows_rotated_callback_keys() {
    let app = busy_demo().await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let rotated = identity.rotate_callback_keys(RotateCallbackKeysRequest {}).await.expect("rotate").into_inner();
    assert_eq!(rotated.encoding_aes_key.len(), 43);
    let before = identity.list_callback_events(ListCallbackEventsRequest::default()).await.expect("list").into_inner();
    let last_before = before.events.iter().map(|event| event.id).max().unwrap_or(0);
    for _ in 0..300 {
        let events = identity.list_callback_events(ListCallbackEventsRequest::default()).await.expect("list");
        if events.into_inner().events.iter().filter(|event| event.id > last_before).count() >= 3 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no callback signed with the rotated keys arrived within 30 s: the simulator was not handed them");
}
