//! Group broadcasts (PR06) against the WeCom simulator: the PRD's REST body creates a broadcast, the worker
//! creates one WeCom task per owner, owners confirm (or not), and the report shows every group's outcome;
//! an owner who never confirms is named and reminded. Bad input is a 400 naming the field.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::Role;
use scrm_proto::group::v1::ListGroupsRequest;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{StartSyncRequest, SyncScope};
use scrm_wecom_sim::{SimConfig, Simulator, World, WorldSize};
use serde_json::{Value, json};

use crate::harness::{TestApp, http};

async fn simulator() -> (Arc<Simulator>, String) {
    let sim = Simulator::new(SimConfig::default(), World::generate(11, WorldSize::DEMO));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    (sim, url)
}

/// A process on the simulator with a fast worker: results every 200 ms, a reminder after 300 ms, a 6 s
/// confirmation window.
async fn app_on(sim_url: &str) -> TestApp {
    let sim_url = sim_url.to_owned();
    let app = TestApp::spawn_with(&[], move |config| {
        config.wecom.api_base = sim_url;
        config.wecom.corp_id = "wwsimcorp0000000001".into();
        config.wecom.secret = "sim-secret".into();
        config.caller.role = Role::Operator;
        config.broadcast.tick_ms = 50;
        config.broadcast.result_poll_ms = 200;
        config.broadcast.remind_after_ms = 300;
        config.broadcast.confirm_window_ms = 6_000;
    })
    .await;
    let mut identity = IdentityServiceClient::new(app.channel().await);
    let mut stream =
        identity.start_sync(StartSyncRequest { scope: SyncScope::Full as i32 }).await.unwrap().into_inner();
    while stream.message().await.unwrap().is_some() {}
    app
}

/// Live groups by owner, as the group service lists them.
async fn groups_by_owner(app: &TestApp) -> BTreeMap<String, Vec<i64>> {
    let mut groups = GroupServiceClient::new(app.channel().await);
    let mut by_owner: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let page = groups
            .list_groups(ListGroupsRequest { page_size: 200, page_token, ..ListGroupsRequest::default() })
            .await
            .unwrap()
            .into_inner();
        for group in page.groups {
            by_owner.entry(group.owner).or_default().push(group.id);
        }
        if page.next_page_token.is_empty() {
            return by_owner;
        }
        page_token = page.next_page_token;
    }
}

fn iso_in(seconds: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    prost_types::Timestamp { seconds: now + seconds, nanos: 0 }.to_string()
}

async fn post(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{}/api/social/groups/broadcast", app.url()))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(app: &TestApp, id: i64) -> Value {
    let response = http().get(format!("{}/api/social/groups/broadcast/{id}", app.url())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits (polling, bounded) until the broadcast reaches `state`.
async fn wait_for_state(app: &TestApp, id: i64, state: &str) -> Value {
    for _ in 0..300 {
        let broadcast = get(app, id).await;
        if broadcast["state"] == state {
            return broadcast;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("broadcast {id} never reached {state}: {}", get(app, id).await);
}

#[tokio::test]
async fn rest_broadcast_is_delivered_and_unconfirmed_owner_is_named_and_reminded() {
    let (sim, sim_url) = simulator().await;
    let app = app_on(&sim_url).await;
    let by_owner = groups_by_owner(&app).await;
    let mut owners = by_owner.iter().filter(|(_, ids)| !ids.is_empty());
    let (confirming, confirming_ids) = owners.next().expect("an owner");
    let (silent, silent_ids) = owners.next().expect("a second owner");
    sim.set_never_confirm(&[silent.as_str()]);
    let group_ids: Vec<i64> = confirming_ids.iter().chain(silent_ids).copied().collect();

    let body = json!({
        "groupIds": group_ids,
        "msgType": "text",
        "content": "今晚8点盲盒秒杀，群内专享价！",
        "scheduledTime": iso_in(1),
    });
    let (status, created) = post(&app, "e2e-broadcast-1", body.clone()).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["state"], "scheduled");
    let id = created["id"].as_i64().unwrap();
    let (status, replay) = post(&app, "e2e-broadcast-1", body).await;
    assert_eq!((status, replay["id"].as_i64()), (200, Some(id)), "the same Idempotency-Key gives the same broadcast");

    let done = wait_for_state(&app, id, "completed").await;
    let report = &done["report"];
    assert_eq!(report["targetedGroups"], group_ids.len());
    assert_eq!(report["deliveredGroups"], confirming_ids.len(), "{done}");
    assert_eq!(report["tasksTotal"], 2, "one task per owner");
    assert_eq!(report["unconfirmed"]["groupCount"], silent_ids.len());
    let unconfirmed = &report["unconfirmed"]["owners"][0];
    assert_eq!(unconfirmed["userid"], silent.as_str());
    assert!(!unconfirmed["name"].as_str().unwrap().is_empty(), "the owner is named");
    assert!(unconfirmed["remindersSent"].as_i64().unwrap() >= 1, "the silent owner was reminded: {done}");
    assert!(sim.stats().calls.get("externalcontact/remind_groupmsg_send").copied().unwrap_or(0) >= 1);
    let expected_rate = confirming_ids.len() * 10_000 / group_ids.len();
    assert_eq!(report["deliveryRateBps"], expected_rate);
    for group in done["groups"].as_array().unwrap() {
        let expected = if group["owner"] == confirming.as_str() { "delivered" } else { "unconfirmed" };
        assert_eq!(group["outcome"], expected, "{group}");
        assert!(!group["msgid"].as_str().unwrap().is_empty());
    }
    assert_eq!(sim.stats().calls.get("externalcontact/add_msg_template"), Some(&2));
}

#[tokio::test]
async fn bad_broadcasts_are_400_naming_the_field() {
    let (_sim, sim_url) = simulator().await;
    let app = app_on(&sim_url).await;
    let some_group = *groups_by_owner(&app).await.values().next().unwrap().first().unwrap();
    let cases = [
        (json!({"groupIds": [some_group, 99_999_999], "msgType": "text", "content": "hi"}), "groupIds[1]"),
        (json!({"groupIds": [some_group], "msgType": "text", "content": "  "}), "content"),
        (
            json!({"groupIds": [some_group], "msgType": "text", "content": "hi", "scheduledTime": iso_in(-3600)}),
            "scheduledTime",
        ),
        (
            json!({"groupIds": [some_group], "msgType": "text", "content": "hi", "scheduledTime": iso_in(31 * 86_400)}),
            "scheduledTime",
        ),
        (
            json!({"groupIds": [some_group], "msgType": "text", "content": "hi", "scheduledTime": "tomorrow"}),
            "scheduledTime",
        ),
        (json!({"groupIds": [some_group], "msgType": "video", "content": "hi"}), "msgType"),
        (json!({"groupIds": [], "msgType": "text", "content": "hi"}), "groupIds"),
    ];
    for (index, (body, field)) in cases.into_iter().enumerate() {
        let (status, error) = post(&app, &format!("bad-{index}"), body).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["code"], "invalid_argument");
        assert_eq!(error["field"], field, "{error}");
    }
    let link = json!({"groupIds": [some_group], "msgType": "link",
                      "content": {"title": "盲盒秒杀", "url": "https://example.com/blindbox"}});
    let (status, created) = post(&app, "link-ok", link).await;
    assert_eq!(status, 200, "{created}");
}
