//! The client against the simulator's activity: the chat archive polled by `seq`, group statistics by day,
//! and media uploads.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use scrm_wecom::*;
use scrm_wecom_sim::{ActivityConfig, SimConfig, Simulator, World, WorldSize};

/// 2027-01-15T16:00:00Z, midnight in China.
const MIDNIGHT_CST_MS: i64 = 1_800_028_800_000;

async fn start() -> (Arc<Simulator>, WeComClient) {
    let sim = Simulator::new(SimConfig::default(), World::generate(21, WorldSize::DEMO));
    sim.clock().freeze_at(MIDNIGHT_CST_MS);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let cfg = sim.config();
    let config = WeComConfig::new(cfg.corp_id, cfg.corp_secrets[0].clone()).with_api_base(format!("http://{addr}"));
    (sim, WeComClient::new(config).expect("client"))
}

#[tokio::test]
async fn the_chat_archive_is_polled_by_seq_until_caught_up() {
    let (sim, client) = start().await;
    sim.start_activity(ActivityConfig { changes_per_minute: 0.0, ..ActivityConfig::default() });
    sim.advance(Duration::from_secs(3600));
    let expected = sim.chat_records(0, usize::MAX);
    assert!(expected.len() > 500, "{}", expected.len());

    let mut seq = 0;
    let mut got = Vec::new();
    loop {
        let page = client.chatdata(seq, 400).await.expect("chatdata");
        if page.chatdata.is_empty() {
            break;
        }
        assert!(page.chatdata.len() <= 400);
        seq = page.next_seq(seq);
        got.extend(page.chatdata);
    }
    assert_eq!(got.len(), expected.len());
    for (a, b) in got.iter().zip(&expected) {
        assert_eq!(
            (a.seq, a.msgid.as_str(), a.from.as_str(), a.roomid.as_str()),
            (b.seq, b.msgid.as_str(), b.from.as_str(), b.roomid.as_str())
        );
        assert_eq!((a.msgtime, a.msgtype.as_str(), a.action.as_str()), (b.msgtime, "text", "send"));
        assert_eq!(a.text.as_ref().map(|t| t.content.as_str()), b.text.as_ref().map(|t| t.content.as_str()));
        assert_eq!(a.tolist, b.tolist);
    }

    // New messages arrive: the next poll from the last seq returns exactly those.
    sim.advance(Duration::from_secs(600));
    let fresh = client.chatdata(seq, 1000).await.expect("chatdata");
    assert_eq!(fresh.chatdata.len(), sim.chat_records(seq, usize::MAX).len());
    assert!(fresh.chatdata.iter().all(|r| r.seq > seq));
}

#[tokio::test]
async fn daily_statistics_reflect_the_drivers_messages() {
    let (sim, client) = start().await;
    sim.start_activity(ActivityConfig { rate: 0.5, ..ActivityConfig::default() });
    sim.advance(Duration::from_secs(86_400));
    let day = MIDNIGHT_CST_MS / 1000;
    let owners: Vec<String> = sim.with_world(|w| {
        let set: HashSet<String> = w.groups.iter().filter(|g| !g.dismissed).map(|g| g.owner.clone()).collect();
        let mut v: Vec<String> = set.into_iter().collect();
        v.sort();
        v
    });
    let stats = client
        .groupchat_statistic_group_by_day(&GroupChatStatisticByDayRequest {
            day_begin_time: day,
            day_end_time: Some(day),
            owner_filter: OwnerFilter { userid_list: owners.clone() },
        })
        .await
        .expect("statistic_group_by_day");
    assert_eq!(stats.items.len(), 1);
    let data = &stats.items[0].data;
    let live: HashSet<String> =
        sim.with_world(|w| w.groups.iter().filter(|g| !g.dismissed).map(|g| g.chat_id.clone()).collect());
    let messages = sim.chat_records(0, usize::MAX);
    let in_live: Vec<_> = messages.iter().filter(|r| live.contains(&r.roomid)).collect();
    assert!(!in_live.is_empty());
    assert_eq!(data.msg_total, in_live.len() as i64);
    assert_eq!(data.chat_has_msg, in_live.iter().map(|r| &r.roomid).collect::<HashSet<_>>().len() as i64);
    assert_eq!(data.chat_total, live.len() as i64);

    let by_owner = client
        .groupchat_statistic(&GroupChatStatisticRequest {
            day_begin_time: day,
            owner_filter: OwnerFilter { userid_list: owners },
            limit: Some(1000),
            ..GroupChatStatisticRequest::default()
        })
        .await
        .expect("statistic");
    assert_eq!(by_owner.items.iter().map(|i| i.data.msg_total).sum::<i64>(), data.msg_total);
}

#[tokio::test]
async fn media_uploads_return_ids_that_expire_after_three_days_and_image_urls() {
    let (sim, client) = start().await;
    let png = Upload::new("poster.png", b"\x89PNG\r\n\x1a\nsimulated".to_vec());
    let up = client.media_upload(MediaType::Image, &png).await.expect("upload");
    assert_eq!(up.media_type, "image");
    assert_eq!(up.created_at, MIDNIGHT_CST_MS / 1000);
    assert!(sim.media_valid(&up.media_id));
    sim.advance(Duration::from_secs(3 * 86_400 + 1));
    assert!(!sim.media_valid(&up.media_id), "temporary media lasts 3 days");

    let file = client.media_upload(MediaType::File, &Upload::new("price.xlsx", vec![7u8; 2048])).await.expect("file");
    assert!(!file.media_id.is_empty() && file.media_id != up.media_id);

    let img = client.media_uploadimg(&png).await.expect("uploadimg");
    assert!(img.url.starts_with("https://"), "{}", img.url);

    let not_image = client.media_upload(MediaType::Image, &Upload::new("notes.txt", b"hello world".to_vec())).await;
    assert!(matches!(not_image, Err(WeComError::Api { errcode: 40005, .. })), "{not_image:?}");
    let empty = client.media_uploadimg(&Upload::new("a.png", Vec::new())).await;
    assert!(matches!(empty, Err(WeComError::Api { errcode: 44001, .. })), "{empty:?}");
}
