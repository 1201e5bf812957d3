//! The group list (PR04) end to end: groups written as the WeCom sync writes them show on
//! `GET /api/social/groups` with live member counts, filters, sorting and pages, and on the detail with each
//! member's join scene, inviter and `state`.

use scrm_kernel::{Caller, Role};
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    GroupChatMember, GroupChatSnapshot, GroupMemberType, JoinScene, UpsertGroupChatsRequest, UpsertGroupMembersRequest,
};
use serde_json::Value;

use crate::harness::{TestApp, http};

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn member(userid: &str, kind: GroupMemberType, state: &str) -> GroupChatMember {
    GroupChatMember {
        userid: userid.into(),
        r#type: kind as i32,
        joined_at: at(1_700_000_000),
        join_scene: JoinScene::QrCode as i32,
        inviter_userid: "owner1".into(),
        state: state.into(),
        ..GroupChatMember::default()
    }
}

fn snapshot(index: usize) -> GroupChatSnapshot {
    let mut member_list = vec![member(&format!("owner{}", index % 2), GroupMemberType::Staff, "")];
    member_list.extend((0..index).map(|n| member(&format!("wm{index}-{n}"), GroupMemberType::Customer, "")));
    GroupChatSnapshot {
        chat_id: format!("wr{index}"),
        name: if index.is_multiple_of(2) { format!("会员福利群{index}") } else { format!("门店群{index}") },
        owner: format!("owner{}", index % 2),
        created_at: at(1_600_000_000 + index as i64),
        members_complete: true,
        member_list,
        observed_at: at(1_700_000_000),
        ..GroupChatSnapshot::default()
    }
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = http().get(format!("{}{path}", app.url())).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_group_list_on_rest_filters_sorts_pages_and_shows_joins_live() {
    let app = TestApp::spawn_with(&[], |config| config.caller.role = Role::Operator).await;
    let mut groups = GroupServiceClient::new(app.channel().await);
    let system = Caller::system("identity-sync");
    let request = UpsertGroupChatsRequest { group_chats: (0..5).map(snapshot).collect(), sync_run_id: 0 };
    groups.upsert_group_chats(system.outgoing(request).unwrap()).await.unwrap();

    let (status, page) = get(&app, "/api/social/groups?sortBy=memberCount&pageSize=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["totalSize"], 5);
    let first: Vec<&str> = page["groups"].as_array().unwrap().iter().map(|g| g["chatId"].as_str().unwrap()).collect();
    assert_eq!(first, ["wr4", "wr3"]);
    assert_eq!(
        (page["groups"][0]["memberCount"].as_i64(), page["groups"][0]["customerCount"].as_i64()),
        (Some(5), Some(4))
    );
    let token = page["nextPageToken"].as_str().unwrap();
    let (_, next) = get(&app, &format!("/api/social/groups?sortBy=memberCount&pageSize=2&pageToken={token}")).await;
    let second: Vec<&str> = next["groups"].as_array().unwrap().iter().map(|g| g["chatId"].as_str().unwrap()).collect();
    assert_eq!(second, ["wr2", "wr1"]);

    let (_, filtered) = get(&app, "/api/social/groups?owners=owner0&q=%E4%BC%9A%E5%91%98&sortBy=name").await;
    let names: Vec<&str> = filtered["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["会员福利群0", "会员福利群2", "会员福利群4"]);

    // A member joining through a join way shows at once, with its state, on the list and the detail.
    let join = UpsertGroupMembersRequest {
        chat_id: "wr1".into(),
        joined: vec![member("wm-new", GroupMemberType::Customer, "spring-campaign")],
        ..UpsertGroupMembersRequest::default()
    };
    groups.upsert_group_members(system.outgoing(join).unwrap()).await.unwrap();
    let (_, listed) = get(&app, "/api/social/groups?chatIds=wr1").await;
    assert_eq!(listed["groups"][0]["memberCount"], 3);
    let id = listed["groups"][0]["id"].as_i64().unwrap();
    let (status, detail) = get(&app, &format!("/api/social/groups/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    let joined = detail["members"].as_array().unwrap().iter().find(|m| m["userid"] == "wm-new").unwrap();
    assert_eq!(joined["state"], "spring-campaign");
    assert_eq!(joined["joinScene"], "qr_code");
    assert_eq!(joined["inviterUserid"], "owner1");
    assert_eq!(joined["type"], "customer");

    let (status, error) = get(&app, "/api/social/groups?sortBy=color").await;
    assert_eq!((status, error["field"].as_str()), (400, Some("sortBy")));
    let (status, error) = get(&app, "/api/social/groups?pageToken=forged").await;
    assert_eq!((status, error["field"].as_str()), (400, Some("page_token")));
    let (status, _) = get(&app, "/api/social/groups/99999").await;
    assert_eq!(status, 404);
    app.server.stop().await.unwrap();
}
