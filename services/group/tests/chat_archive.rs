//! The chat-archive worker against the simulator's activity driver (PR07): group messages the driver archives
//! are counted into GetGroupActivity and the group list; a new worker resumes from the stored checkpoint, and
//! a feed read again from the start counts nothing twice. Once the day is over, WeCom's `groupchat/statistic`
//! figures for it are fetched beside ours.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use scrm_group::ManualClock;
use scrm_kernel::Caller;
use scrm_kernel::rpc::RpcChannel;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    GetGroupActivityRequest, GetGroupRequest, GroupChatMember, GroupChatSnapshot, UpsertGroupChatsRequest,
    get_group_activity_request, get_group_request,
};
use scrm_storage::Dialect;
use scrm_storage::testing::TestDb;
use scrm_wecom_sim::{ActivityConfig, Simulator};

mod support;

/// 2025-12-01T12:00:00+08:00 (after the simulated corp's history): the simulator's clock stands there, and
/// moves only when the test moves it.
const START: i64 = 1_764_561_600_000;

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// The simulator's live groups, as identity's sync hands them over.
fn snapshots(sim: &Simulator) -> Vec<GroupChatSnapshot> {
    sim.with_world(|world| {
        world
            .groups
            .iter()
            .filter(|group| !group.dismissed)
            .map(|group| GroupChatSnapshot {
                chat_id: group.chat_id.clone(),
                name: group.name.clone(),
                owner: group.owner.clone(),
                created_at: at(group.create_time),
                members_complete: true,
                member_list: group
                    .members
                    .iter()
                    .map(|member| GroupChatMember {
                        userid: member.userid.clone(),
                        r#type: i32::from(member.kind),
                        joined_at: at(member.join_time),
                        ..GroupChatMember::default()
                    })
                    .collect(),
                observed_at: at(group.create_time),
                ..GroupChatSnapshot::default()
            })
            .collect()
    })
}

/// Group messages in the simulator's archive, by chat_id.
fn archived_per_group(sim: &Simulator) -> HashMap<String, i64> {
    let mut counts = HashMap::new();
    for record in sim.chat_records(0, usize::MAX).into_iter().filter(|record| !record.roomid.is_empty()) {
        *counts.entry(record.roomid).or_insert(0) += 1;
    }
    counts
}

/// The group's messages over GetGroupActivity's days, and its 30-day figure.
async fn messages_counted(client: &mut GroupServiceClient<RpcChannel>, chat_id: &str) -> (i64, i64) {
    let request = GetGroupActivityRequest {
        subject: Some(get_group_activity_request::Subject::ChatId(chat_id.into())),
        ..GetGroupActivityRequest::default()
    };
    let activity =
        client.get_group_activity(Caller::system("test").outgoing(request).unwrap()).await.unwrap().into_inner();
    let summary = activity.summary.unwrap();
    (activity.days.iter().map(|day| day.messages).sum(), summary.messages_30d)
}

async fn the_archive_worker_counts_the_driver_messages_once_across_restarts(dialect: Dialect) {
    let test_db = TestDb::new(dialect).await;
    let db = test_db.db.clone();
    db.migrate(&scrm_group::MIGRATIONS).await.unwrap();
    let (sim, wecom) = support::served_corp(5).await;
    sim.clock().freeze_at(START);

    let clock = Arc::new(ManualClock::at(START));
    let service =
        scrm_group::service_with_clock(db.clone(), scrm_group::SpeakerCounter::Exact, clock.clone(), None, None);
    let mut client = GroupServiceClient::new(RpcChannel::in_process(service));
    let groups = UpsertGroupChatsRequest { group_chats: snapshots(&sim), sync_run_id: 0 };
    client.upsert_group_chats(Caller::system("identity-sync").outgoing(groups).unwrap()).await.unwrap();

    // Only messages: the corp's groups stay as synced.
    let driver = ActivityConfig {
        rate: 1.0,
        changes_per_minute: 0.0,
        messages_per_minute: 120.0,
        orders_per_minute: 0.0,
        spam_share: 0.0,
        ..ActivityConfig::default()
    };
    sim.start_activity(driver);
    sim.advance(Duration::from_secs(300));
    clock.advance(300_000);
    let first = scrm_group::poll_chat_archive(&db, clock.as_ref(), &wecom).await.unwrap();
    let archived = archived_per_group(&sim);
    let total: i64 = archived.values().sum();
    assert!(total > 100, "the driver archived {total} group messages");
    assert_eq!((first.accepted, first.duplicates, first.skipped), (total, 0, first.read as i64 - total));
    let (busiest, busiest_count) = archived.iter().max_by_key(|(_, count)| **count).unwrap();
    assert_eq!(messages_counted(&mut client, busiest).await, (*busiest_count, *busiest_count));

    // A later poll (a restarted worker has only the database) reads only what is new.
    sim.advance(Duration::from_secs(120));
    clock.advance(120_000);
    let seq_before = first.seq;
    let second = scrm_group::poll_chat_archive(&db, clock.as_ref(), &wecom).await.unwrap();
    let new_records = sim.chat_records(seq_before, usize::MAX);
    assert!(!new_records.is_empty());
    assert_eq!(second.read, new_records.len());
    assert_eq!(second.duplicates, 0);
    let archived = archived_per_group(&sim);
    let total_after: i64 = archived.values().sum();
    assert_eq!(first.accepted + second.accepted, total_after);
    let group =
        GetGroupRequest { key: Some(get_group_request::Key::ChatId(busiest.clone())), ..GetGroupRequest::default() };
    let listed = client.get_group(Caller::system("test").outgoing(group).unwrap()).await.unwrap().into_inner();
    let activity = listed.group.unwrap().activity.unwrap();
    assert_eq!(activity.messages_30d, archived[busiest]);
    assert!(activity.speakers_30d > 0);

    // The feed read again from its start is recognised message by message.
    sqlx::query("UPDATE group_feed_cursor SET seq = 0").execute(db.pool()).await.unwrap();
    let replay = scrm_group::poll_chat_archive(&db, clock.as_ref(), &wecom).await.unwrap();
    assert_eq!((replay.accepted, replay.duplicates), (0, total_after));
    assert_eq!(replay.seq, second.seq);
    assert_eq!(messages_counted(&mut client, busiest).await.1, archived[busiest]);

    // Once the day is over, WeCom's own figures for it sit beside ours, fetched once.
    sim.stop_activity();
    sim.advance(Duration::from_secs(86_400));
    clock.advance(86_400_000);
    let owners: HashMap<String, String> = sim.with_world(|world| {
        world.groups.iter().filter(|group| !group.dismissed).map(|g| (g.chat_id.clone(), g.owner.clone())).collect()
    });
    let stored = scrm_group::fetch_group_statistics(&db, clock.as_ref(), &wecom).await.unwrap();
    assert_eq!(stored, owners.values().collect::<HashSet<_>>().len());
    assert_eq!(scrm_group::fetch_group_statistics(&db, clock.as_ref(), &wecom).await.unwrap(), 0);
    let owner = &owners[busiest];
    let owner_messages: i64 =
        archived.iter().filter(|(chat_id, _)| owners.get(*chat_id) == Some(owner)).map(|(_, count)| count).sum();
    let request = GetGroupActivityRequest {
        subject: Some(get_group_activity_request::Subject::ChatId(busiest.clone())),
        start_day: "2025-12-01".into(),
        end_day: "2025-12-02".into(),
    };
    let days =
        client.get_group_activity(Caller::system("test").outgoing(request).unwrap()).await.unwrap().into_inner().days;
    let figures = days[0].wecom.as_ref().expect("WeCom's figures of the finished day");
    assert_eq!((figures.owner.as_str(), figures.msg_total), (owner.as_str(), owner_messages));
    assert!(figures.member_has_msg > 0 && figures.fetched_at.is_some());
    assert_eq!(days[0].messages, archived[busiest]);
    assert!(days[1].wecom.is_none(), "today is not over");
    test_db.cleanup().await;
}

#[tokio::test]
async fn chat_archive_on_sqlite() {
    the_archive_worker_counts_the_driver_messages_once_across_restarts(Dialect::Sqlite).await;
}

#[tokio::test]
async fn chat_archive_on_mysql() {
    the_archive_worker_counts_the_driver_messages_once_across_restarts(Dialect::MySql).await;
}
