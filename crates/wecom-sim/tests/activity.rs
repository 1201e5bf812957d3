//! The activity driver: deterministic for a seed, raising the callbacks WeCom would send, feeding the chat
//! archive, the orders feed and the group statistics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use scrm_wecom_sim::{ActivityConfig, ChatRecord, Order, PendingEvent, SimConfig, Simulator, World, WorldSize};
use serde_json::{Value, json};

/// 2027-01-15T16:00:00Z, midnight in China: simulated days start on CST day boundaries.
const MIDNIGHT_CST_MS: i64 = 1_800_028_800_000;
const DAY: i64 = 86_400;

/// A busy driver: ten times the default rates.
fn busy(seed: u64) -> ActivityConfig {
    ActivityConfig { seed, rate: 10.0, ..ActivityConfig::default() }
}

fn sim(world_seed: u64) -> Arc<Simulator> {
    let sim = Simulator::new(SimConfig::default(), World::generate(world_seed, WorldSize::DEMO));
    sim.clock().freeze_at(MIDNIGHT_CST_MS);
    sim
}

/// Everything the driver produced, for comparisons.
fn outcome(sim: &Simulator) -> (Vec<PendingEvent>, Vec<ChatRecord>, Vec<Order>, World) {
    (sim.drain_events(), sim.chat_records(0, usize::MAX), sim.orders(0, usize::MAX), sim.with_world(World::clone))
}

/// The value of a plain or CDATA XML element.
fn field(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    let v = &xml[start..end];
    Some(v.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(v).to_string())
}

fn kind(ev: &PendingEvent) -> String {
    let event = field(&ev.xml, "Event").unwrap_or_default();
    let change = field(&ev.xml, "ChangeType").unwrap_or_default();
    match field(&ev.xml, "UpdateDetail") {
        Some(detail) => format!("{event}/{change}/{detail}"),
        None => format!("{event}/{change}"),
    }
}

#[test]
fn the_same_seed_gives_the_same_activity_however_the_clock_is_stepped() {
    let one_step = sim(5);
    one_step.start_activity(busy(11));
    one_step.advance(Duration::from_secs(3600));

    let many_steps = sim(5);
    many_steps.start_activity(busy(11));
    for _ in 0..12 {
        many_steps.advance(Duration::from_secs(300));
    }
    let a = outcome(&one_step);
    let b = outcome(&many_steps);
    assert!(a.0.len() > 100 && a.1.len() > 1000 && a.2.len() > 50, "{} {} {}", a.0.len(), a.1.len(), a.2.len());
    assert_eq!(a, b);

    let other_seed = sim(5);
    other_seed.start_activity(busy(12));
    other_seed.advance(Duration::from_secs(3600));
    assert_ne!(outcome(&other_seed).1, a.1);
}

#[test]
fn no_activity_unless_started_and_none_after_stop() {
    let s = sim(5);
    s.advance(Duration::from_secs(3600));
    assert!(s.drain_events().is_empty() && s.chat_records(0, 10).is_empty() && s.orders(0, 10).is_empty());
    s.start_activity(busy(1));
    s.advance(Duration::from_secs(600));
    assert!(!s.chat_records(0, 10).is_empty());
    s.stop_activity();
    let before = (s.drain_events().len(), s.chat_records(0, usize::MAX).len());
    s.advance(Duration::from_secs(3600));
    assert!(s.drain_events().is_empty());
    assert_eq!(s.chat_records(0, usize::MAX).len(), before.1);
    assert!(!s.activity_running());
}

#[test]
fn every_kind_of_change_raises_the_callback_wecom_sends_and_changes_the_world() {
    let s = sim(8);
    s.start_activity(ActivityConfig { messages_per_minute: 0.0, orders_per_minute: 0.0, ..busy(3) });
    s.advance(Duration::from_secs(3 * 3600));
    let events = s.drain_events();
    let kinds: HashSet<String> = events.iter().map(kind).collect();
    for k in [
        "change_external_contact/add_external_contact",
        "change_external_contact/del_follow_user",
        "change_external_contact/del_external_contact",
        "change_external_chat/create",
        "change_external_chat/dismiss",
        "change_external_chat/update/add_member",
        "change_external_chat/update/del_member",
        "change_external_chat/update/change_name",
        "change_external_chat/update/change_owner",
        "change_contact/create_user",
        "change_contact/update_user",
        "change_contact/delete_user",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    // Events are in time order and every one is a self-built app's event for the corp.
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(events.iter().all(|e| field(&e.xml, "ToUserName").as_deref() == Some("wwsimcorp0000000001")));

    s.with_world(|w| {
        for e in &events {
            match kind(e).as_str() {
                "change_external_contact/add_external_contact" => {
                    let ext = field(&e.xml, "ExternalUserID").unwrap();
                    assert!(w.customer(&ext).is_some(), "added customer {ext} is known");
                    assert!(field(&e.xml, "WelcomeCode").is_some());
                }
                "change_external_chat/update/add_member" | "change_external_chat/update/del_member" => {
                    assert_eq!(field(&e.xml, "MemChangeCnt").as_deref(), Some("1"));
                    assert!(field(&e.xml, "JoinScene").is_some() && field(&e.xml, "QuitScene").is_some());
                    assert!(field(&e.xml, "Item").is_some_and(|m| m.starts_with("wm")));
                }
                "change_external_chat/dismiss" => {
                    let chat = field(&e.xml, "ChatId").unwrap();
                    assert!(w.group(&chat).is_none(), "dismissed {chat} is gone");
                }
                "change_contact/delete_user" => {
                    let userid = field(&e.xml, "UserID").unwrap();
                    assert!(w.staff(&userid).is_none(), "{userid} left");
                }
                "change_contact/create_user" => {
                    assert!(field(&e.xml, "Name").is_some() && field(&e.xml, "MainDepartment").is_some());
                }
                _ => {}
            }
        }
    });
}

/// Serves `sim` on 127.0.0.1:0 and returns its base URL and a token.
async fn serve(sim: &Arc<Simulator>) -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let v: Value = reqwest::get(format!("{base}/cgi-bin/gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (base, v["access_token"].as_str().unwrap().to_string())
}

async fn post(base: &str, api: &str, tok: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/cgi-bin/{api}?access_token={tok}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn contact_and_join_way_states_reach_the_events_and_the_world() {
    let s = sim(9);
    let (base, tok) = serve(&s).await;
    let userid = s.with_world(|w| w.staff.iter().find(|x| x.status == 1 && x.customer_contact).unwrap().userid.clone());
    let chat = s.with_world(|w| w.groups[0].chat_id.clone());
    let cw = post(
        &base,
        "externalcontact/add_contact_way",
        &tok,
        json!({"type": 1, "scene": 2, "user": [userid], "state": "spring_promo"}),
    )
    .await;
    assert_eq!(cw["errcode"], 0, "{cw}");
    let jw = post(
        &base,
        "externalcontact/groupchat/add_join_way",
        &tok,
        json!({"scene": 2, "chat_id_list": [chat], "state": "grp_way"}),
    )
    .await;
    assert_eq!(jw["errcode"], 0, "{jw}");

    s.start_activity(ActivityConfig { messages_per_minute: 0.0, ..busy(4) });
    s.advance(Duration::from_secs(3600));
    let events = s.drain_events();
    let adds: Vec<&PendingEvent> = events
        .iter()
        .filter(|e| kind(e) == "change_external_contact/add_external_contact")
        .filter(|e| field(&e.xml, "State").as_deref() == Some("spring_promo"))
        .collect();
    assert!(!adds.is_empty(), "customers came through the contact way");
    assert!(adds.iter().all(|e| field(&e.xml, "UserID").as_deref() == Some(userid.as_str())));
    let joins_via_way = s.with_world(|w| {
        // Some of these customers may have deleted the staff member since; the others carry the state.
        let kept = adds
            .iter()
            .filter_map(|e| w.customer(&field(&e.xml, "ExternalUserID").unwrap()))
            .filter(|c| c.follow.iter().any(|f| f.userid == userid && f.state == "spring_promo"))
            .count();
        assert!(kept > 0);
        w.group(&chat).map(|g| g.members.iter().filter(|m| m.state == "grp_way" && m.join_scene == 3).count())
    });
    assert!(joins_via_way.is_some_and(|n| n > 0), "members joined through the join way");
}

#[test]
fn messages_follow_group_activity_and_include_spam_bursts() {
    let s = sim(10);
    s.start_activity(ActivityConfig { changes_per_minute: 0.0, orders_per_minute: 0.0, ..busy(6) });
    s.advance(Duration::from_secs(3600));
    let records = s.chat_records(0, usize::MAX);
    assert!(records.len() > 10_000, "{}", records.len());
    assert!(records.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    let per_group: HashMap<&str, usize> = records.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.roomid.as_str()).or_default() += 1;
        m
    });
    // Heavy tail: the busiest tenth of the groups says more than the quietest half.
    let mut counts: Vec<usize> =
        s.with_world(|w| w.groups.iter().map(|g| per_group.get(g.chat_id.as_str()).copied().unwrap_or(0)).collect());
    counts.sort_unstable();
    let n = counts.len();
    let top: usize = counts[n - n / 10..].iter().sum();
    let bottom: usize = counts[..n / 2].iter().sum();
    assert!(top > bottom, "top {top} bottom {bottom}");
    s.with_world(|w| {
        for r in records.iter().take(500) {
            assert_eq!((r.action.as_str(), r.msgtype.as_str()), ("send", "text"));
            assert!(r.text.as_ref().is_some_and(|t| !t.content.is_empty()));
            assert!(!r.tolist.contains(&r.from));
            assert!(w.group(&r.roomid).is_some_and(|g| g.members.iter().any(|m| m.userid == r.from)));
        }
    });
    // A spam burst: one sender repeating the same text at least five times in a group.
    let mut repeats: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    for r in &records {
        *repeats.entry((&r.roomid, &r.from, &r.text.as_ref().unwrap().content)).or_default() += 1;
    }
    let adverts = ["加V信", "刷单", "代购"];
    assert!(repeats.iter().any(|((_, _, text), n)| *n >= 5 && adverts.iter().any(|a| text.contains(a))));
}

#[tokio::test]
async fn chat_archive_feed_pages_by_seq_over_http() {
    let s = sim(12);
    s.start_activity(ActivityConfig { changes_per_minute: 0.0, rate: 3.0, ..busy(2) });
    s.advance(Duration::from_secs(3600));
    let (base, tok) = serve(&s).await;
    let all = s.chat_records(0, usize::MAX);
    assert!(all.len() > 1000);
    let http = reqwest::Client::new();
    let mut seq = 0;
    let mut got = Vec::new();
    loop {
        let v: Value = http
            .get(format!("{base}/sim/finance/chatdata?access_token={tok}&seq={seq}&limit=1000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["errcode"], 0, "{v}");
        let page = v["chatdata"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 1000);
        seq = page.last().unwrap()["seq"].as_u64().unwrap();
        got.extend(page);
    }
    assert_eq!(got.len(), all.len());
    let first = &got[0];
    for k in ["seq", "msgid", "action", "from", "tolist", "roomid", "msgtime", "msgtype"] {
        assert!(first.get(k).is_some(), "{k} in {first}");
    }
    assert_eq!(first["text"]["content"], json!(all[0].text.as_ref().unwrap().content));

    let bad: Value = http
        .get(format!("{base}/sim/finance/chatdata?access_token={tok}&limit=1001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["errcode"], 40058);
    let no_token: Value =
        http.get(format!("{base}/sim/finance/chatdata?seq=0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(no_token["errcode"], 41001);
}

#[tokio::test]
async fn orders_name_known_buyers_in_stores() {
    let s = sim(13);
    s.start_activity(ActivityConfig { changes_per_minute: 0.0, messages_per_minute: 0.0, ..busy(2) });
    s.advance(Duration::from_secs(3 * 3600));
    let (base, _) = serve(&s).await;
    let v: Value = reqwest::get(format!("{base}/sim/orders?seq=0&limit=1000")).await.unwrap().json().await.unwrap();
    let orders: Vec<Order> = serde_json::from_value(v["orders"].clone()).unwrap();
    assert!(orders.len() > 100, "{}", orders.len());
    assert_eq!(orders.len(), s.orders(0, usize::MAX).len().min(1000));
    s.with_world(|w| {
        for o in &orders {
            let c = w.customer(&o.external_userid).expect("buyer is a customer");
            assert_eq!(o.unionid, c.unionid);
            assert!(o.phone.len() == 11 && o.phone.starts_with('1'));
            assert!(o.amount_fen >= 3_900 && o.amount_fen <= 500_000);
            assert!(w.departments.iter().any(|d| d.id == o.store_id && d.store && d.name == o.store_name));
            assert!(o.paid_at >= MIDNIGHT_CST_MS / 1000);
        }
    });
    let later: Value =
        reqwest::get(format!("{base}/sim/orders?seq={}&limit=5", orders[9].seq)).await.unwrap().json().await.unwrap();
    assert_eq!(later["orders"][0]["seq"], json!(orders[10].seq));
    let bad = reqwest::get(format!("{base}/sim/orders?limit=0")).await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn daily_group_statistics_count_the_drivers_messages_and_joins() {
    let s = sim(14);
    s.start_activity(ActivityConfig { rate: 0.2, ..busy(5) });
    s.advance(Duration::from_secs(2 * DAY as u64));
    let (base, tok) = serve(&s).await;
    let day0 = MIDNIGHT_CST_MS / 1000;
    let owner = s.with_world(|w| {
        let mut by_owner: HashMap<&str, usize> = HashMap::new();
        for g in w.groups.iter().filter(|g| !g.dismissed) {
            *by_owner.entry(g.owner.as_str()).or_default() += 1;
        }
        by_owner.into_iter().max_by_key(|(o, n)| (*n, o.to_string())).unwrap().0.to_string()
    });
    let v = post(
        &base,
        "externalcontact/groupchat/statistic_group_by_day",
        &tok,
        json!({"day_begin_time": day0, "day_end_time": day0 + DAY, "owner_filter": {"userid_list": [owner]}}),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let records = s.chat_records(0, usize::MAX);
    let mut total_msgs = 0;
    s.with_world(|w| {
        for (k, item) in items.iter().enumerate() {
            let day = day0 + k as i64 * DAY;
            assert_eq!(item["stat_time"], json!(day));
            let groups: Vec<_> = w.groups.iter().filter(|g| !g.dismissed && g.owner == owner).collect();
            let chats: HashSet<&str> = groups.iter().map(|g| g.chat_id.as_str()).collect();
            let msgs: Vec<&ChatRecord> = records
                .iter()
                .filter(|r| chats.contains(r.roomid.as_str()) && (day * 1000..(day + DAY) * 1000).contains(&r.msgtime))
                .collect();
            let data = &item["data"];
            assert_eq!(data["msg_total"], json!(msgs.len()));
            assert_eq!(data["chat_has_msg"], json!(msgs.iter().map(|r| &r.roomid).collect::<HashSet<_>>().len()));
            let joined: usize = groups
                .iter()
                .map(|g| g.members.iter().filter(|m| (day..day + DAY).contains(&m.join_time)).count())
                .sum();
            assert_eq!(data["new_member_cnt"], json!(joined));
            let created = groups.iter().filter(|g| (day..day + DAY).contains(&g.create_time)).count();
            assert_eq!(data["new_chat_cnt"], json!(created));
            total_msgs += msgs.len();
        }
    });
    assert!(total_msgs > 0, "the owner's groups had messages");

    let by_owner = post(
        &base,
        "externalcontact/groupchat/statistic",
        &tok,
        json!({"day_begin_time": day0, "day_end_time": day0 + DAY, "owner_filter": {"userid_list": [owner]}}),
    )
    .await;
    assert_eq!(by_owner["items"][0]["data"]["msg_total"], json!(total_msgs), "{by_owner}");
    let too_long = post(
        &base,
        "externalcontact/groupchat/statistic_group_by_day",
        &tok,
        json!({"day_begin_time": day0, "day_end_time": day0 + 31 * DAY}),
    )
    .await;
    assert_eq!(too_long["errcode"], 40058);
}
