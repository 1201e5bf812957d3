//! The group activity ranking (PR07 群活排行) end to end: messages ingested into the group service rank the
//! groups in analytics' GetGroupActivityRanking, by the metric and end asked for, a page at a time, and bad
//! requests name their field.

use std::time::{SystemTime, UNIX_EPOCH};

use scrm_kernel::{Caller, ErrorCode};
use scrm_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use scrm_proto::analytics::v1::{GetGroupActivityRankingRequest, GroupActivityMetric, RankingDirection};
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    GroupChatMember, GroupChatSnapshot, GroupMemberType, GroupMessageEvent, IngestMessagesRequest,
    UpsertGroupChatsRequest,
};

use crate::harness::TestApp;

const DAY_SECONDS: i64 = 86_400;

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// Today in China time, YYYY-MM-DD, and the current Unix seconds.
fn today() -> (String, i64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = (now + 8 * 3600).div_euclid(DAY_SECONDS);
    let (z, era) = (days + 719_468, (days + 719_468).div_euclid(146_097));
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (d, m) = (doy - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    (format!("{:04}-{m:02}-{d:02}", yoe + era * 400 + i64::from(m <= 2)), now)
}

/// Group `chat_id` with an owner and `customers` customers, all there for a week.
fn group(chat_id: &str, customers: usize, now: i64) -> GroupChatSnapshot {
    let member = |userid: String, kind: GroupMemberType| GroupChatMember {
        userid,
        r#type: kind as i32,
        joined_at: at(now - 7 * DAY_SECONDS),
        ..GroupChatMember::default()
    };
    let mut member_list = vec![member("owner1".into(), GroupMemberType::Staff)];
    member_list.extend((0..customers).map(|n| member(format!("wm-{chat_id}-{n}"), GroupMemberType::Customer)));
    GroupChatSnapshot {
        chat_id: chat_id.into(),
        name: format!("{chat_id}群"),
        owner: "owner1".into(),
        created_at: at(now - 7 * DAY_SECONDS),
        members_complete: true,
        member_list,
        observed_at: at(now - 7 * DAY_SECONDS),
        ..GroupChatSnapshot::default()
    }
}

/// `count` messages in `chat_id` from its first `speakers` customers, a minute ago.
fn messages(chat_id: &str, count: usize, speakers: usize, now: i64) -> Vec<GroupMessageEvent> {
    (0..count)
        .map(|n| GroupMessageEvent {
            msgid: format!("{chat_id}-m{n}"),
            chat_id: chat_id.into(),
            sender: format!("wm-{chat_id}-{}", n % speakers),
            msgtime: at(now - 60),
            msgtype: "text".into(),
            ..GroupMessageEvent::default()
        })
        .collect()
}

#[tokio::test]
async fn groups_rank_by_their_ingested_activity() {
    let app = TestApp::spawn().await;
    let channel = app.channel().await;
    let mut groups = GroupServiceClient::new(channel.clone());
    let (today, now) = today();
    let chats = vec![group("wr-busy", 9, now), group("wr-chatty", 3, now), group("wr-quiet", 4, now)];
    let upsert = UpsertGroupChatsRequest { group_chats: chats, sync_run_id: 0 };
    groups.upsert_group_chats(Caller::system("identity-sync").outgoing(upsert).unwrap()).await.unwrap();
    let mut batch = messages("wr-busy", 12, 2, now);
    batch.extend(messages("wr-chatty", 6, 3, now));
    batch.extend(messages("wr-quiet", 1, 1, now));
    let ingested = groups
        .ingest_messages(tokio_stream::iter(vec![IngestMessagesRequest { messages: batch }]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ingested.accepted, 19);

    let mut analytics = AnalyticsServiceClient::new(channel);
    let request = GetGroupActivityRankingRequest {
        start_date: today.clone(),
        end_date: today.clone(),
        metric: GroupActivityMetric::Messages as i32,
        page_size: 2,
        ..GetGroupActivityRankingRequest::default()
    };
    let first = analytics.get_group_activity_ranking(request.clone()).await.unwrap().into_inner();
    let ranked: Vec<(&str, i32, f64)> =
        first.rows.iter().map(|row| (row.chat_id.as_str(), row.rank, row.metric_value)).collect();
    assert_eq!(ranked, [("wr-busy", 1, 12.0), ("wr-chatty", 2, 6.0)]);
    assert_eq!(first.total_size, 3);
    let busy = &first.rows[0];
    assert_eq!((busy.member_count, busy.speaker_count, busy.message_count), (10, 2, 12));
    assert_eq!(busy.lurker_rate, 0.8);
    let next = GetGroupActivityRankingRequest { page_token: first.next_page_token.clone(), ..request.clone() };
    let second = analytics.get_group_activity_ranking(next).await.unwrap().into_inner();
    assert_eq!(second.rows.iter().map(|row| (row.chat_id.as_str(), row.rank)).collect::<Vec<_>>(), [("wr-quiet", 3)]);
    assert!(second.next_page_token.is_empty());

    // By default: the share of members who spoke, and the least active first on request.
    let by_rate = GetGroupActivityRankingRequest {
        metric: 0,
        direction: RankingDirection::Bottom as i32,
        page_size: 0,
        ..request.clone()
    };
    let bottom = analytics.get_group_activity_ranking(by_rate).await.unwrap().into_inner();
    let order: Vec<&str> = bottom.rows.iter().map(|row| row.chat_id.as_str()).collect();
    assert_eq!(order, ["wr-busy", "wr-quiet", "wr-chatty"]);
    assert_eq!(bottom.rows[2].speaker_rate, 0.75);

    let bad =
        GetGroupActivityRankingRequest { end_date: "2025-02-30".into(), start_date: "2025-02-01".into(), ..request };
    let status = analytics.get_group_activity_ranking(bad).await.unwrap_err();
    let error = scrm_kernel::ApiError::from_status(&status);
    assert_eq!((error.code, error.field.as_deref()), (ErrorCode::InvalidArgument, Some("end_date")));
}
