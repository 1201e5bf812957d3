//! Activity monitoring end to end on a settable clock (PR07): messages ingested through IngestMessages, a group
//! silent for a simulated week raises the 死群 alert once, its owner gets the WeCom app message (recorded by the
//! simulator), and a message clears it.

use std::sync::Arc;

use scrm_group::{AlertNotifier, ManualClock};
use scrm_kernel::Caller;
use scrm_kernel::rpc::RpcChannel;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    AcknowledgeAlertRequest, ActivityBand, AlertKind, AlertState, GetGroupActivityRequest, GroupAlertState,
    GroupChatMember, GroupChatSnapshot, GroupMemberType, GroupMessageEvent, IngestMessagesRequest,
    ListAlertRulesRequest, ListAlertsRequest, ListGroupsRequest, UpsertGroupChatsRequest, get_group_activity_request,
};
use scrm_storage::testing::TestDb;
use scrm_storage::{Db, Dialect};
use scrm_wecom_sim::SimConfig;

mod support;

const DAY: i64 = 86_400_000;
/// 2025-03-03T12:00:00+08:00.
const START: i64 = 1_740_974_400_000;

fn at(millis: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: millis / 1000, nanos: 0 })
}

fn group(chat_id: &str, owner: &str) -> GroupChatSnapshot {
    let member = |userid: &str, kind: GroupMemberType| GroupChatMember {
        userid: userid.into(),
        r#type: kind as i32,
        joined_at: at(START - DAY),
        ..GroupChatMember::default()
    };
    GroupChatSnapshot {
        chat_id: chat_id.into(),
        name: format!("{chat_id}福利群"),
        owner: owner.into(),
        created_at: at(START - DAY),
        members_complete: true,
        member_list: vec![
            member(owner, GroupMemberType::Staff),
            member(&format!("{chat_id}-wm"), GroupMemberType::Customer),
        ],
        observed_at: at(START - DAY),
        ..GroupChatSnapshot::default()
    }
}

fn message(msgid: &str, chat_id: &str, millis: i64) -> GroupMessageEvent {
    GroupMessageEvent {
        msgid: msgid.into(),
        chat_id: chat_id.into(),
        sender: format!("{chat_id}-wm"),
        msgtime: at(millis),
        msgtype: "text".into(),
        seq: millis / 1000,
        ..GroupMessageEvent::default()
    }
}

async fn ingest(
    client: &mut GroupServiceClient<RpcChannel>,
    messages: Vec<GroupMessageEvent>,
) -> scrm_proto::group::v1::IngestMessagesResponse {
    let batches = futures::stream::iter(vec![IngestMessagesRequest { messages }]);
    let request = Caller::system("chat-archive").outgoing(batches).unwrap();
    client.ingest_messages(request).await.unwrap().into_inner()
}

async fn alerts(client: &mut GroupServiceClient<RpcChannel>, state: AlertState) -> Vec<scrm_proto::group::v1::Alert> {
    let request = ListAlertsRequest { states: vec![state as i32], ..ListAlertsRequest::default() };
    client.list_alerts(Caller::system("test").outgoing(request).unwrap()).await.unwrap().into_inner().alerts
}

async fn a_silent_week_raises_the_dead_group_alert_and_a_message_clears_it(dialect: Dialect) {
    let test_db = TestDb::new(dialect).await;
    let db = test_db.db.clone();
    db.migrate(&scrm_group::MIGRATIONS).await.unwrap();
    let (sim, wecom) = support::served_corp(3).await;
    let owner = sim.with_world(|world| world.staff[0].userid.clone());
    let notifier = AlertNotifier { client: wecom, agent_id: SimConfig::default().agent_id };

    let clock = Arc::new(ManualClock::at(START));
    let service =
        scrm_group::service_with_clock(db.clone(), scrm_group::SpeakerCounter::Exact, clock.clone(), None, None);
    let mut client = GroupServiceClient::new(RpcChannel::in_process(service));
    let system = Caller::system("identity-sync");
    let groups =
        UpsertGroupChatsRequest { group_chats: vec![group("silent", &owner), group("lively", &owner)], sync_run_id: 0 };
    client.upsert_group_chats(system.outgoing(groups).unwrap()).await.unwrap();

    let first = ingest(&mut client, vec![message("m1", "silent", START), message("m2", "lively", START)]).await;
    assert_eq!((first.accepted, first.duplicates, first.rejected), (2, 0, 0));
    let again = ingest(&mut client, vec![message("m1", "silent", START), message("m3", "nowhere", START)]).await;
    assert_eq!((again.accepted, again.duplicates, again.rejected), (0, 1, 1));
    assert_eq!(again.rejection_samples, ["msgid m3: chat_id unknown"]);
    let evaluation = scrm_group::evaluate_alerts(&db, clock.as_ref(), Some(&notifier)).await.unwrap();
    assert_eq!(evaluation.raised, 0);

    // A week later: the lively group kept talking, the silent one did not.
    clock.advance(7 * DAY);
    ingest(&mut client, vec![message("m4", "lively", START + 7 * DAY - 3_600_000)]).await;
    let evaluation = scrm_group::evaluate_alerts(&db, clock.as_ref(), Some(&notifier)).await.unwrap();
    assert_eq!((evaluation.raised, evaluation.notified), (1, 1));
    let open = alerts(&mut client, AlertState::Open).await;
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].chat_id.as_str(), open[0].kind), ("silent", AlertKind::DeadGroup as i32));
    assert_eq!(open[0].evidence.as_ref().unwrap().summary, "7天无人发言");
    assert!(open[0].owner_notified_at.is_some());
    let pushed: Vec<_> = sim.delivered().into_iter().filter(|message| message.api == "message/send").collect();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].body["touser"], owner.as_str());
    assert!(pushed[0].body["text"]["content"].as_str().unwrap().contains("死群预警"), "{:?}", pushed[0].body);

    // The list shows it, and a second evaluation raises nothing new.
    let alerting = ListGroupsRequest { alert_states: vec![GroupAlertState::Alerting as i32], ..Default::default() };
    let listed = client.list_groups(system.outgoing(alerting).unwrap()).await.unwrap().into_inner();
    assert_eq!(listed.groups.len(), 1);
    let silent = &listed.groups[0];
    assert_eq!(silent.open_alert_kinds, [AlertKind::DeadGroup as i32]);
    assert_eq!(silent.activity.as_ref().unwrap().band, ActivityBand::Dead as i32);
    count_alert_writes(&db, dialect).await;
    assert_eq!(scrm_group::evaluate_alerts(&db, clock.as_ref(), Some(&notifier)).await.unwrap().raised, 0);
    assert_eq!(alerts(&mut client, AlertState::Open).await.len(), 1);
    assert_eq!(alert_writes(&db).await, 0, "an evaluation that changes nothing writes nothing");

    // A day later the open alert's evidence is refreshed, not raised again.
    clock.advance(DAY);
    let evaluation = scrm_group::evaluate_alerts(&db, clock.as_ref(), Some(&notifier)).await.unwrap();
    assert_eq!((evaluation.raised, evaluation.notified), (0, 0));
    let open = alerts(&mut client, AlertState::Open).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].evidence.as_ref().unwrap().summary, "8天无人发言");
    let acknowledged = client
        .acknowledge_alert(
            system.outgoing(AcknowledgeAlertRequest { id: open[0].id, note: "已联系群主".into() }).unwrap(),
        )
        .await
        .unwrap()
        .into_inner()
        .alert
        .unwrap();
    assert_eq!(acknowledged.acknowledge_note, "已联系群主");

    // A message clears it.
    ingest(&mut client, vec![message("m5", "silent", clock_now(&clock))]).await;
    let evaluation = scrm_group::evaluate_alerts(&db, clock.as_ref(), Some(&notifier)).await.unwrap();
    assert_eq!((evaluation.raised, evaluation.resolved), (0, 1));
    assert!(alerts(&mut client, AlertState::Open).await.is_empty());
    let resolved = alerts(&mut client, AlertState::Resolved).await;
    assert_eq!(resolved.len(), 1);
    assert!(resolved[0].resolved_at.is_some());
    let clear = ListGroupsRequest { alert_states: vec![GroupAlertState::Clear as i32], ..Default::default() };
    assert_eq!(client.list_groups(system.outgoing(clear).unwrap()).await.unwrap().into_inner().groups.len(), 2);

    let activity = GetGroupActivityRequest {
        subject: Some(get_group_activity_request::Subject::ChatId("silent".into())),
        start_day: "2025-03-03".into(),
        end_day: "2025-03-11".into(),
    };
    let activity = client.get_group_activity(system.outgoing(activity).unwrap()).await.unwrap().into_inner();
    let messages: Vec<i64> = activity.days.iter().map(|day| day.messages).collect();
    assert_eq!(messages, [1, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(activity.days[0].day, "2025-03-03");
    assert_eq!(activity.days[8].speakers, 1);
    let rules = client.list_alert_rules(system.outgoing(ListAlertRulesRequest {}).unwrap()).await.unwrap().into_inner();
    assert_eq!(rules.rules.len(), 4);
    test_db.cleanup().await;
}

/// From now on, counts the rows inserted into `group_alert` and updated in `group_alert` and `group_chat`
/// (test triggers into `alert_writes`).
async fn count_alert_writes(db: &Db, dialect: Dialect) {
    let mut sql = String::from("CREATE TABLE alert_writes (n BIGINT NOT NULL); INSERT INTO alert_writes VALUES (0);");
    for (name, event, table) in [
        ("alert_insert", "INSERT", "group_alert"),
        ("alert_update", "UPDATE", "group_alert"),
        ("chat_update", "UPDATE", "group_chat"),
    ] {
        let count = "UPDATE alert_writes SET n = n + 1";
        sql += &match dialect {
            Dialect::Sqlite => format!("CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {count}; END;"),
            Dialect::MySql => format!("CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {count};"),
        };
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(db.pool()).await.expect("the write counter is installed");
}

/// Rows written since [`count_alert_writes`].
async fn alert_writes(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT n FROM alert_writes").fetch_one(db.pool()).await.unwrap()
}

fn clock_now(clock: &ManualClock) -> i64 {
    scrm_group::Clock::now_millis(clock)
}

#[tokio::test]
async fn dead_group_alert_on_sqlite() {
    a_silent_week_raises_the_dead_group_alert_and_a_message_clears_it(Dialect::Sqlite).await;
}

#[tokio::test]
async fn dead_group_alert_on_mysql() {
    a_silent_week_raises_the_dead_group_alert_and_a_message_clears_it(Dialect::MySql).await;
}
