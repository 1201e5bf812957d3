//! Distinct speakers per group and day (PR07, issue 5 §4): exact in the embedded default, HyperLogLog sketches
//! in Redis (`{prefix}group:speakers:{chat_id}:{day}`, kept about 35 days) when the cache is Redis. Speakers
//! repeated across batches and days count once in each rolling window.

use std::sync::Arc;

use scrm_cache::CacheConfig;
use scrm_group::{ManualClock, SpeakerCounter};
use scrm_kernel::Caller;
use scrm_kernel::rpc::RpcChannel;
use scrm_proto::group::v1::group_service_client::GroupServiceClient;
use scrm_proto::group::v1::{
    GetGroupActivityRequest, GetGroupRequest, GroupActivitySummary, GroupChatSnapshot, GroupMessageEvent,
    IngestMessagesRequest, UpsertGroupChatsRequest, get_group_activity_request, get_group_request,
};
use scrm_storage::Dialect;
use scrm_storage::testing::TestDb;

const DAY: i64 = 86_400_000;
/// 2025-03-03T12:00:00+08:00.
const START: i64 = 1_740_974_400_000;
/// 2025-03-03 as a day number (days since 1970-01-01 in UTC+8).
const TODAY: i64 = 20_150;

fn at(millis: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: millis / 1000, nanos: 0 })
}

fn message(msgid: &str, chat_id: &str, sender: &str, millis: i64) -> GroupMessageEvent {
    GroupMessageEvent {
        msgid: msgid.into(),
        chat_id: chat_id.into(),
        sender: sender.into(),
        msgtime: at(millis),
        msgtype: "text".into(),
        seq: millis / 1000,
        ..GroupMessageEvent::default()
    }
}

/// The Redis cache of a test: its own key prefix on `SCRM_TEST_REDIS_URL` (default the local Redis).
async fn test_redis() -> (Arc<dyn scrm_cache::Cache>, CacheConfig) {
    let config = CacheConfig {
        redis_url: std::env::var("SCRM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        key_prefix: format!("scrm-test-{}:", uuid::Uuid::new_v4()),
        ..CacheConfig::default()
    };
    (scrm_cache::connect(&config).await.expect("Redis for tests at SCRM_TEST_REDIS_URL"), config)
}

struct Harness {
    test_db: TestDb,
    client: GroupServiceClient<RpcChannel>,
}

impl Harness {
    async fn new(speakers: SpeakerCounter) -> Self {
        let test_db = TestDb::new(Dialect::Sqlite).await;
        test_db.db.migrate(&scrm_group::MIGRATIONS).await.unwrap();
        let clock = Arc::new(ManualClock::at(START));
        let service = scrm_group::service_with_clock(test_db.db.clone(), speakers, clock, None, None);
        let mut client = GroupServiceClient::new(RpcChannel::in_process(service));
        let group_chats = ["chat", "crowd"]
            .map(|chat_id| GroupChatSnapshot {
                chat_id: chat_id.into(),
                name: format!("{chat_id}福利群"),
                owner: "owner".into(),
                created_at: at(START - 40 * DAY),
                members_complete: true,
                observed_at: at(START - 40 * DAY),
                ..GroupChatSnapshot::default()
            })
            .to_vec();
        let request = UpsertGroupChatsRequest { group_chats, sync_run_id: 0 };
        client.upsert_group_chats(Caller::system("identity-sync").outgoing(request).unwrap()).await.unwrap();
        Harness { test_db, client }
    }

    async fn ingest(&mut self, messages: Vec<GroupMessageEvent>) {
        let batches = futures::stream::iter(vec![IngestMessagesRequest { messages }]);
        let request = Caller::system("chat-archive").outgoing(batches).unwrap();
        self.client.ingest_messages(request).await.unwrap();
    }

    async fn summary(&mut self, chat_id: &str) -> GroupActivitySummary {
        let request =
            GetGroupRequest { key: Some(get_group_request::Key::ChatId(chat_id.into())), ..GetGroupRequest::default() };
        let group = self.client.get_group(Caller::system("test").outgoing(request).unwrap()).await.unwrap();
        group.into_inner().group.unwrap().activity.unwrap()
    }

    /// Speakers a, b two days ago; b, c yesterday; a (twice), d today, and a's first message sent again.
    async fn ingest_repeated_speakers(&mut self) {
        self.ingest(vec![message("m1", "chat", "a", START - 2 * DAY), message("m2", "chat", "b", START - 2 * DAY)])
            .await;
        self.ingest(vec![message("m3", "chat", "b", START - DAY), message("m4", "chat", "c", START - DAY)]).await;
        self.ingest(vec![
            message("m5", "chat", "a", START),
            message("m6", "chat", "a", START + 1000),
            message("m7", "chat", "d", START + 2000),
            message("m1", "chat", "a", START - 2 * DAY),
        ])
        .await;
    }
}

fn figures(summary: &GroupActivitySummary) -> (i64, i64, i64, bool) {
    (summary.speakers_1d, summary.speakers_7d, summary.speakers_30d, summary.speakers_approximate)
}

#[tokio::test]
async fn the_embedded_default_counts_speakers_exactly() {
    let mut harness = Harness::new(SpeakerCounter::Exact).await;
    harness.ingest_repeated_speakers().await;
    assert_eq!(figures(&harness.summary("chat").await), (2, 4, 4, false));
    harness.test_db.cleanup().await;
}

#[tokio::test]
async fn redis_counts_speakers_with_hyperloglog_day_sketches() {
    let (cache, config) = test_redis().await;
    let counter = SpeakerCounter::for_cache(cache);
    assert!(counter.approximate());
    let mut harness = Harness::new(counter).await;
    harness.ingest_repeated_speakers().await;
    assert_eq!(figures(&harness.summary("chat").await), (2, 4, 4, true));
    let request = GetGroupActivityRequest {
        subject: Some(get_group_activity_request::Subject::ChatId("chat".into())),
        ..GetGroupActivityRequest::default()
    };
    let activity = harness.client.get_group_activity(Caller::system("test").outgoing(request).unwrap()).await.unwrap();
    assert!(activity.into_inner().speakers_approximate);

    // Many speakers, overlapping across batches and days: estimates within HyperLogLog's error.
    let senders = |range: std::ops::Range<i32>, day: i64| {
        range.map(move |n| message(&format!("x{day}-{n}"), "crowd", &format!("wm{n}"), START - day * DAY)).collect()
    };
    harness.ingest(senders(0..800, 0)).await;
    harness.ingest(senders(400..1000, 3)).await;
    harness.ingest(senders(900..1200, 20)).await;
    harness.ingest(senders(0..300, 0)).await;
    let (s1, s7, s30, approximate) = figures(&harness.summary("crowd").await);
    let near = |estimate: i64, exact: i64| (estimate - exact).abs() * 100 <= exact * 3;
    assert!(near(s1, 800) && near(s7, 1000) && near(s30, 1200), "estimates {s1}, {s7}, {s30}");
    assert!(approximate);

    // The day sketches sit under the cache prefix and expire after about 35 days.
    let client = redis::Client::open(config.redis_url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}group:speakers:chat:{TODAY}", config.key_prefix);
    let today: i64 = redis::cmd("PFCOUNT").arg(&key).query_async(&mut connection).await.unwrap();
    assert_eq!(today, 2);
    let ttl_ms: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut connection).await.unwrap();
    assert!(ttl_ms > 34 * DAY && ttl_ms <= 35 * DAY, "ttl {ttl_ms} ms");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", config.key_prefix)).query_async(&mut connection).await.unwrap();
    assert_eq!(keys.len(), 3 + 3, "{keys:?}");
    redis::cmd("DEL").arg(&keys).query_async::<()>(&mut connection).await.unwrap();
    harness.test_db.cleanup().await;
}
