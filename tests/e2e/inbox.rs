//! Incremental sync from WeCom callbacks: the simulator raises the events of people scanning a contact way
//! and a join way and of a customer deleting a staff member, pushes them encrypted to `/wecom/callback`, and
//! the identity service's inbox worker applies them — the customer, the group member and the churn appear
//! within seconds, each event is processed once, and a redelivery or a reprocessing changes nothing.

use std::sync::Arc;
use std::time::Duration;

use scrm_kernel::Role;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{GetGroupRequest, get_group_request};
use scrm_proto::identity::v1::identity_service_client::IdentityServiceClient;
use scrm_proto::identity::v1::{
    CallbackEvent, CallbackEventState, IngestCallbackEventRequest, ListCallbackEventsRequest,
    ReprocessCallbackEventRequest, StartSyncRequest, SyncScope, SyncState,
};
use scrm_storage::Db;
use scrm_wecom::{ContactWay, JoinWay, WeComClient, WeComConfig};
use scrm_wecom_sim::{CallbackConfig, SimConfig, Simulator, World, WorldSize};
use tonic::transport::Channel;

use crate::harness::TestApp;

const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// A simulated corp pushing its callbacks to a scrm process configured for it.
struct Corp {
    sim: Arc<Simulator>,
    app: TestApp,
    wecom: WeComClient,
}

async fn corp() -> Corp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    let defaults = SimConfig::default();
    let (corp_id, secret) = (defaults.corp_id.clone(), defaults.corp_secrets[0].clone());
    let app = {
        let (sim_url, corp_id, secret) = (sim_url.clone(), corp_id.clone(), secret.clone());
        TestApp::spawn_with(&[], move |config| {
            config.wecom.api_base = sim_url;
            config.wecom.corp_id = corp_id;
            config.wecom.secret = secret;
            config.wecom.callback_token = TOKEN.into();
            config.wecom.encoding_aes_key = AES_KEY.into();
            config.caller.role = Role::Admin;
        })
        .await
    };
    let callback = CallbackConfig {
        url: format!("{}/wecom/callback", app.url()),
        token: TOKEN.into(),
        encoding_aes_key: AES_KEY.into(),
        timeout_ms: 5_000,
        retries: 3,
    };
    let sim = Simulator::new(SimConfig { callback: Some(callback), ..defaults }, World::generate(11, WorldSize::DEMO));
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let wecom = WeComClient::new(WeComConfig::new(corp_id, secret).with_api_base(sim_url)).unwrap();
    Corp { sim, app, wecom }
}

async fn full_sync(channel: Channel) {
    let mut identity = IdentityServiceClient::new(channel);
    let mut stream =
        identity.start_sync(StartSyncRequest { scope: SyncScope::Full as i32 }).await.unwrap().into_inner();
    let mut last = None;
    while let Some(message) = stream.message().await.unwrap() {
        last = message.progress;
    }
    assert_eq!(last.map(|progress| progress.state()), Some(SyncState::Succeeded));
}

/// Polls `query` (one row of text and integer columns) until `expected` or 10 s pass; returns the last answer.
async fn eventually<T: PartialEq + std::fmt::Debug>(
    expected: T,
    mut query: impl AsyncFnMut() -> Option<T>,
) -> Option<T> {
    let mut last = None;
    for _ in 0..100 {
        last = query().await;
        if last.as_ref() == Some(&expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn follow(db: &Db, external_userid: &str, userid: &str) -> Option<(String, i32)> {
    sqlx::query_as("SELECT state, status FROM customer_follow_user WHERE external_userid = ? AND userid = ?")
        .bind(external_userid)
        .bind(userid)
        .fetch_optional(db.pool())
        .await
        .unwrap()
}

async fn member(db: &Db, chat_id: &str, userid: &str) -> Option<(String, bool)> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT state, left_at FROM group_member WHERE chat_id = ? AND userid = ?")
            .bind(chat_id)
            .bind(userid)
            .fetch_optional(db.pool())
            .await
            .unwrap();
    row.map(|(state, left_at)| (state, left_at.is_none()))
}

/// The group's member count as the group list shows it.
async fn listed_member_count(channel: Channel, chat_id: &str) -> i32 {
    let request = GetGroupRequest { key: Some(get_group_request::Key::ChatId(chat_id.into())), ..Default::default() };
    GroupServiceClient::new(channel).get_group(request).await.unwrap().into_inner().group.unwrap().member_count
}

async fn inbox(channel: Channel) -> Vec<CallbackEvent> {
    let mut identity = IdentityServiceClient::new(channel);
    identity.list_callback_events(ListCallbackEventsRequest::default()).await.unwrap().into_inner().events
}

#[tokio::test]
async fn pushed_callbacks_bring_new_customers_members_and_churn_within_seconds() {
    let Corp { sim, app, wecom } = corp().await;
    let channel = app.channel().await;
    full_sync(channel.clone()).await;
    let db = app.db().await;

    let (userid, chat_id) = sim.with_world(|world| {
        let staff = world.staff.iter().find(|staff| staff.customer_contact && staff.status == 1).unwrap();
        let group = world.groups.iter().find(|group| !group.dismissed && group.members.len() < 400).unwrap();
        (staff.userid.clone(), group.chat_id.clone())
    });
    let contact_way = ContactWay {
        way_type: 1,
        scene: 2,
        state: "e2e_poster".into(),
        user: vec![userid.clone()],
        ..ContactWay::default()
    };
    let contact_way = wecom.add_contact_way(&contact_way).await.unwrap().config_id;
    let join_way =
        JoinWay { scene: 2, state: "e2e_group_qr".into(), chat_id_list: vec![chat_id.clone()], ..JoinWay::default() };
    let join_way = wecom.add_join_way(&join_way).await.unwrap().config_id;

    let scanned = sim.scan_contact_way(&contact_way).expect("the contact way adds a customer");
    assert_eq!(scanned.userid, userid);
    let customer = scanned.external_userid.clone();
    let added = eventually(("e2e_poster".to_owned(), 1), async || follow(&db, &customer, &userid).await).await;
    assert_eq!(added, Some(("e2e_poster".to_owned(), 1)), "the new customer arrives with the way's state");

    let members_before = listed_member_count(channel.clone(), &chat_id).await;
    let joined = sim.scan_join_way(&join_way, &customer).expect("the join way has room");
    assert_eq!(joined, chat_id);
    let member_row = eventually(("e2e_group_qr".to_owned(), true), async || member(&db, &chat_id, &customer).await);
    assert_eq!(member_row.await, Some(("e2e_group_qr".to_owned(), true)), "the member arrives with the way's state");
    assert_eq!(listed_member_count(channel.clone(), &chat_id).await, members_before + 1, "the list counts the join");

    assert!(sim.remove_contact(&userid, &customer, false), "the customer deletes the staff member");
    let churned = eventually(("e2e_poster".to_owned(), 2), async || follow(&db, &customer, &userid).await).await;
    assert_eq!(churned, Some(("e2e_poster".to_owned(), 2)), "the relation ends as the customer's deletion (流失)");
    let events = inbox(channel.clone()).await;
    let kinds: Vec<_> = events.iter().map(|event| (event.change_type.as_str(), event.state())).collect();
    assert_eq!(
        kinds,
        [
            ("del_follow_user", CallbackEventState::Processed),
            ("update", CallbackEventState::Processed),
            ("add_external_contact", CallbackEventState::Processed),
        ],
        "{events:?}"
    );
    assert!(events.iter().all(|event| event.attempts == 1 && event.last_error.is_empty()), "{events:?}");

    // WeCom redelivers the add, and an admin reprocesses it: neither changes anything.
    let add = events.last().unwrap().clone();
    let mut identity = IdentityServiceClient::new(channel.clone());
    let again = IngestCallbackEventRequest {
        dedup_key: add.dedup_key.clone(),
        raw_xml: add.raw_xml.clone(),
        received_at: None,
    };
    assert!(identity.ingest_callback_event(again).await.unwrap().into_inner().duplicate);
    identity.reprocess_callback_event(ReprocessCallbackEventRequest { id: add.id }).await.unwrap();
    let reprocessed = eventually(2, async || {
        let events = inbox(channel.clone()).await;
        events
            .into_iter()
            .find(|event| event.id == add.id && event.state() != CallbackEventState::Pending)
            .map(|event| event.attempts)
    })
    .await;
    assert_eq!(reprocessed, Some(2));
    assert_eq!(inbox(channel.clone()).await.len(), 3, "the redelivery stored nothing");
    assert_eq!(follow(&db, &customer, &userid).await, Some(("e2e_poster".to_owned(), 2)), "still churned");
}

#[tokio::test]
async fn staff_and_department_changes_and_skipped_events_are_recorded() {
    let Corp { app, .. } = corp().await;
    let channel = app.channel().await;
    full_sync(channel.clone()).await;
    let db = app.db().await;
    let (userid,): (String,) = sqlx::query_as("SELECT userid FROM identity_staff WHERE status = 1 ORDER BY id LIMIT 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let header = |event: &str, change: &str| {
        format!(
            "<xml><ToUserName><![CDATA[wwsimcorp0000000001]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>\
             <ChangeType><![CDATA[{change}]]></ChangeType>"
        )
    };
    let events = [
        format!("{}<UserID><![CDATA[{userid}]]></UserID></xml>", header("change_contact", "delete_user")),
        format!(
            "{}<Id>9001</Id><Name><![CDATA[新开门店]]></Name><ParentId>1</ParentId><Order>5</Order></xml>",
            header("change_contact", "create_party")
        ),
        format!(
            "{}<Id><![CDATA[etTAG]]></Id><TagType><![CDATA[tag]]></TagType></xml>",
            header("change_external_tag", "create")
        ),
    ];
    let mut identity = IdentityServiceClient::new(channel.clone());
    for (index, raw_xml) in events.iter().enumerate() {
        let request = IngestCallbackEventRequest {
            dedup_key: format!("manual-{index}"),
            raw_xml: raw_xml.clone(),
            received_at: None,
        };
        identity.ingest_callback_event(request).await.unwrap();
    }
    let resigned = eventually((5, true), async || {
        let row: Option<(i32, Option<i64>)> =
            sqlx::query_as("SELECT status, resigned_at FROM identity_staff WHERE userid = ?")
                .bind(&userid)
                .fetch_optional(db.pool())
                .await
                .unwrap();
        row.map(|(status, resigned_at)| (status, resigned_at.is_some()))
    })
    .await;
    assert_eq!(resigned, Some((5, true)), "a deleted staff member is flagged resigned for 离职继承");
    let department = eventually(("新开门店".to_owned(), 1), async || {
        sqlx::query_as("SELECT name, parent_id FROM identity_department WHERE id = 9001")
            .fetch_optional(db.pool())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(department, Some(("新开门店".to_owned(), 1)));
    let states = eventually(3, async || {
        let events = inbox(channel.clone()).await;
        Some(events.iter().filter(|event| event.state() != CallbackEventState::Pending).count())
    })
    .await;
    assert_eq!(states, Some(3));
    let events = inbox(channel).await;
    let tag = events.iter().find(|event| event.event == "change_external_tag").unwrap();
    assert_eq!(
        (tag.state(), tag.last_error.as_str()),
        (CallbackEventState::Ignored, "skipped: corp tags sync not built")
    );
}
