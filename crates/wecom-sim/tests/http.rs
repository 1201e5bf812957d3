//! End-to-end tests over real HTTP (127.0.0.1:0) with reqwest.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use scrm_wecom_sim::{Faults, RateLimits, SimConfig, Simulator, World, WorldSize};
use serde_json::{Value, json};

struct Ctx {
    sim: Arc<Simulator>,
    base: String,
    http: reqwest::Client,
}

async fn start(cfg: SimConfig, world: World) -> Ctx {
    let sim = Simulator::new(cfg, world);
    sim.clock().freeze_at(1_760_000_000_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    Ctx { sim, base, http: reqwest::Client::new() }
}

async fn demo() -> Ctx {
    start(test_config(), World::generate(7, WorldSize::DEMO)).await
}

fn test_config() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.group_msg.auto_confirm_after_secs = Some(0);
    cfg
}

impl Ctx {
    async fn token(&self) -> String {
        let v = self.get("gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret").await;
        assert_eq!(v["errcode"], 0, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}/cgi-bin/{path}", self.base)).send().await.unwrap().json().await.unwrap()
    }

    async fn post(&self, path: &str, tok: &str, body: Value) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.http
            .post(format!("{}/cgi-bin/{path}{sep}access_token={tok}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn gettoken_checks_credentials_and_tokens_expire() {
    let mut cfg = test_config();
    cfg.token_ttl_secs = 60;
    let c = start(cfg, World::generate(1, WorldSize::DEMO)).await;
    assert_eq!(c.get("gettoken?corpid=wwsimcorp0000000001&corpsecret=bad").await["errcode"], 40001);
    assert_eq!(c.get("gettoken?corpid=nope&corpsecret=sim-secret").await["errcode"], 40013);
    assert_eq!(c.get("gettoken?corpsecret=sim-secret").await["errcode"], 41002);
    let v = c.get("gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret").await;
    assert_eq!(v["expires_in"], 60);
    let tok = v["access_token"].as_str().unwrap().to_string();
    // Within its lifetime, gettoken answers the same token.
    assert_eq!(c.token().await, tok);
    let ok = c.get(&format!("externalcontact/get_follow_user_list?access_token={tok}")).await;
    assert_eq!(ok["errcode"], 0);
    assert_eq!(ok["errmsg"], "ok");
    c.sim.advance(Duration::from_secs(61));
    let expired = c.get(&format!("externalcontact/get_follow_user_list?access_token={tok}")).await;
    assert_eq!(expired["errcode"], 42001, "{expired}");
    assert!(expired["errmsg"].as_str().unwrap().starts_with("access_token expired"));
    let bad = c.get("externalcontact/get_follow_user_list?access_token=forged").await;
    assert_eq!(bad["errcode"], 40014);
    assert_eq!(c.get("externalcontact/get_follow_user_list").await["errcode"], 41001);
    let fresh = c.token().await;
    assert_ne!(fresh, tok);
}

#[tokio::test]
async fn user_list_id_pages_cover_everyone_once() {
    let c = demo().await;
    let tok = c.token().await;
    assert_eq!(c.post("user/list_id", &tok, json!({"limit": 10001})).await["errcode"], 40058);
    assert_eq!(c.post("user/list_id", &tok, json!({"cursor": "garbage"})).await["errcode"], 50100);
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let v = c.post("user/list_id", &tok, json!({"cursor": cursor, "limit": 3})).await;
        assert_eq!(v["errcode"], 0, "{v}");
        for e in v["dept_user"].as_array().unwrap() {
            seen.push((e["userid"].as_str().unwrap().to_string(), e["department"].as_u64().unwrap()));
        }
        cursor = v["next_cursor"].as_str().unwrap().to_string();
        if cursor.is_empty() {
            break;
        }
    }
    let expected: Vec<(String, u64)> = c.sim.with_world(|w| {
        w.staff.iter().flat_map(|s| s.department.iter().map(|d| (s.userid.clone(), *d as u64))).collect()
    });
    assert_eq!(seen, expected);
    let one = &expected[0].0;
    let u = c.get(&format!("user/get?access_token={tok}&userid={one}")).await;
    assert_eq!(u["userid"], one.as_str());
    assert!(u["department"].is_array());
    assert_eq!(c.get(&format!("user/get?access_token={tok}&userid=nobody")).await["errcode"], 60111);
    let d = c.get(&format!("department/simplelist?access_token={tok}")).await;
    assert_eq!(d["department_id"].as_array().unwrap().len(), 5);
    assert!(d["department_id"][0].get("name").is_none());
}

#[tokio::test]
async fn batch_get_by_user_covers_each_pair_exactly_once() {
    let c = demo().await;
    let tok = c.token().await;
    let users: Vec<String> =
        c.get(&format!("externalcontact/get_follow_user_list?access_token={tok}")).await["follow_user"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
    let mut got = Vec::new();
    let mut cursor = String::new();
    loop {
        let v = c
            .post(
                "externalcontact/batch/get_by_user",
                &tok,
                json!({"userid_list": users, "cursor": cursor, "limit": 7}),
            )
            .await;
        assert_eq!(v["errcode"], 0, "{v}");
        let page = v["external_contact_list"].as_array().unwrap();
        assert!(page.len() <= 7);
        for e in page {
            got.push((
                e["follow_info"]["userid"].as_str().unwrap().to_string(),
                e["external_contact"]["external_userid"].as_str().unwrap().to_string(),
            ));
        }
        cursor = v["next_cursor"].as_str().unwrap().to_string();
        if cursor.is_empty() {
            break;
        }
    }
    let unique: HashSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no pair twice");
    let expected: usize = c.sim.with_world(|w| w.customers.iter().map(|c| c.follow.len()).sum());
    assert_eq!(got.len(), expected);
    // The per-user list agrees, and get returns follow users with tags.
    let (u, e) = &got[0];
    let list = c.get(&format!("externalcontact/list?access_token={tok}&userid={u}")).await;
    assert!(list["external_userid"].as_array().unwrap().iter().any(|x| x == e.as_str()));
    let one = c.get(&format!("externalcontact/get?access_token={tok}&external_userid={e}")).await;
    assert_eq!(one["errcode"], 0);
    assert!(one["follow_user"].as_array().unwrap().iter().any(|f| f["userid"] == u.as_str() && f["tags"].is_array()));
    assert_eq!(
        c.get(&format!("externalcontact/get?access_token={tok}&external_userid=wmNOPE")).await["errcode"],
        40096
    );
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let v = c.post("externalcontact/batch/get_by_user", &tok, json!({"userid_list": too_many})).await;
    assert_eq!(v["errcode"], 40058);
    let v = c.post("externalcontact/batch/get_by_user", &tok, json!({"userid_list": [u], "limit": 101})).await;
    assert_eq!(v["errcode"], 40058);
}

#[tokio::test]
async fn groupchat_list_pages_and_get_shapes() {
    let c = demo().await;
    let tok = c.token().await;
    assert_eq!(c.post("externalcontact/groupchat/list", &tok, json!({})).await["errcode"], 40058);
    assert_eq!(c.post("externalcontact/groupchat/list", &tok, json!({"limit": 1001})).await["errcode"], 40058);
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let v = c.post("externalcontact/groupchat/list", &tok, json!({"limit": 6, "cursor": cursor})).await;
        assert_eq!(v["errcode"], 0, "{v}");
        ids.extend(v["group_chat_list"].as_array().unwrap().iter().map(|g| g["chat_id"].as_str().unwrap().to_string()));
        cursor = v["next_cursor"].as_str().unwrap().to_string();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(ids.len(), 50);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 50);
    let g = c.post("externalcontact/groupchat/get", &tok, json!({"chat_id": ids[0], "need_name": 1})).await;
    let gc = &g["group_chat"];
    assert!(gc["owner"].is_string() && gc["create_time"].is_i64());
    let m = &gc["member_list"][0];
    for k in ["userid", "type", "join_time", "join_scene", "name"] {
        assert!(m.get(k).is_some(), "member has {k}: {m}");
    }
    assert_eq!(c.post("externalcontact/groupchat/get", &tok, json!({"chat_id": "wrNOPE"})).await["errcode"], 40050);
    let owner = gc["owner"].as_str().unwrap();
    let v = c
        .post("externalcontact/groupchat/list", &tok, json!({"limit": 1000, "owner_filter": {"userid_list": [owner]}}))
        .await;
    assert!(v["group_chat_list"].as_array().unwrap().iter().any(|x| x["chat_id"] == ids[0].as_str()));
    let s = c
        .post(
            "externalcontact/groupchat/statistic",
            &tok,
            json!({"day_begin_time": 1_600_000_000, "day_end_time": 1_600_000_000 + 86_400 * 29}),
        )
        .await;
    assert_eq!(s["errcode"], 0, "{s}");
    assert!(s["items"].is_array());
}

#[tokio::test]
async fn rate_limit_answers_45009_and_the_window_resets() {
    let c = demo().await;
    let tok = c.token().await;
    let mut limits = RateLimits::default();
    limits.per_api_overrides.insert("externalcontact/get_follow_user_list".into(), 5);
    c.sim.set_rate_limits(limits);
    let path = format!("externalcontact/get_follow_user_list?access_token={tok}");
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(c.get(&path).await["errcode"].as_i64().unwrap());
    }
    assert_eq!(codes, vec![0, 0, 0, 0, 0, 45009, 45009, 45009]);
    // Other APIs are not affected by this API's limit.
    assert_eq!(c.get(&format!("department/simplelist?access_token={tok}")).await["errcode"], 0);
    c.sim.advance(Duration::from_secs(60));
    assert_eq!(c.get(&path).await["errcode"], 0);
    assert_eq!(c.sim.stats().errcodes.get(&45009), Some(&3));
    // A global limit counts every API.
    c.sim.set_rate_limits(RateLimits { global_per_minute: Some(2), ..RateLimits::default() });
    c.sim.advance(Duration::from_secs(60));
    assert_eq!(c.get(&path).await["errcode"], 0);
    assert_eq!(c.get(&format!("department/simplelist?access_token={tok}")).await["errcode"], 0);
    assert_eq!(c.get(&format!("department/simplelist?access_token={tok}")).await["errcode"], 45009);
}

#[tokio::test]
async fn fault_rate_is_about_what_was_configured() {
    let c = demo().await;
    let tok = c.token().await;
    c.sim.set_faults(Faults { error_rate: 0.2, ..Faults::default() });
    let n = 500;
    let mut busy = 0;
    for _ in 0..n {
        let v = c.get(&format!("department/simplelist?access_token={tok}")).await;
        match v["errcode"].as_i64().unwrap() {
            -1 => busy += 1,
            0 => {}
            other => panic!("unexpected errcode {other}"),
        }
    }
    let rate = busy as f64 / n as f64;
    assert!((0.14..0.26).contains(&rate), "observed rate {rate}");
}

#[tokio::test]
async fn dropped_connections_and_5xx_are_transport_errors() {
    let c = demo().await;
    c.sim.set_faults(Faults { drop_rate: 1.0, ..Faults::default() });
    let r = c.http.get(format!("{}/cgi-bin/gettoken?corpid=x&corpsecret=y", c.base)).send().await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "a dropped connection must not yield a body");
    c.sim.set_faults(Faults { http_5xx_rate: 1.0, ..Faults::default() });
    let r = c.http.get(format!("{}/cgi-bin/gettoken?corpid=x&corpsecret=y", c.base)).send().await.unwrap();
    assert_eq!(r.status(), 502);
    c.sim.set_faults(Faults { latency_ms: 50, ..Faults::default() });
    let t = std::time::Instant::now();
    c.token().await;
    assert!(t.elapsed() >= Duration::from_millis(50));
    let s = c.sim.stats();
    assert_eq!((s.dropped, s.http_5xx), (1, 1));
}

/// Picks a staff member with at least `n` customers.
fn sender_with_customers(sim: &Simulator, n: usize) -> (String, Vec<String>) {
    sim.with_world(|w| {
        w.staff
            .iter()
            .map(|s| {
                let list: Vec<String> = w
                    .customers
                    .iter()
                    .filter(|c| c.follow.iter().any(|f| f.userid == s.userid))
                    .map(|c| c.external_userid.clone())
                    .collect();
                (s.userid.clone(), list)
            })
            .find(|(_, l)| l.len() >= n)
            .unwrap()
    })
}

#[tokio::test]
async fn group_msg_confirm_flow_and_quota_statuses() {
    let mut cfg = test_config();
    cfg.group_msg.auto_confirm_after_secs = Some(5);
    let c = start(cfg, World::generate(7, WorldSize::DEMO)).await;
    let tok = c.token().await;
    let (sender, customers) = sender_with_customers(&c.sim, 3);
    let targets = vec![customers[0].clone(), customers[1].clone(), "wmNOTAFRIEND".to_string()];
    let v = c
        .post(
            "externalcontact/add_msg_template",
            &tok,
            json!({"chat_type": "single", "sender": sender, "external_userid": targets, "text": {"content": "新品上市"}}),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["fail_list"], json!(["wmNOTAFRIEND"]));
    let msgid = v["msgid"].as_str().unwrap().to_string();
    let task = c.post("externalcontact/get_groupmsg_task", &tok, json!({"msgid": msgid})).await;
    assert_eq!(task["task_list"][0]["status"], 0, "not yet confirmed: {task}");
    let res = c.post("externalcontact/get_groupmsg_send_result", &tok, json!({"msgid": msgid, "userid": sender})).await;
    assert!(res["send_list"].as_array().unwrap().iter().all(|r| r["status"] == 0));
    // The owner confirms after the delay.
    c.sim.advance(Duration::from_secs(6));
    let task = c.post("externalcontact/get_groupmsg_task", &tok, json!({"msgid": msgid})).await;
    assert_eq!(task["task_list"][0]["status"], 2, "{task}");
    assert!(task["task_list"][0]["send_time"].is_i64());
    let res = c.post("externalcontact/get_groupmsg_send_result", &tok, json!({"msgid": msgid, "userid": sender})).await;
    let statuses: Vec<i64> =
        res["send_list"].as_array().unwrap().iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![1, 1]);

    // Same day, second message to customers[0]: quota reached (3); customers[2] gets it (1).
    let v = c
        .post(
            "externalcontact/add_msg_template",
            &tok,
            json!({"sender": sender, "external_userid": [customers[0], customers[2]], "text": {"content": "第二条"}}),
        )
        .await;
    let msg2 = v["msgid"].as_str().unwrap().to_string();
    // customers[2] stops being a friend before the owner confirms: not a friend (2).
    c.sim.remove_contact(&sender, &customers[2], false);
    c.sim.advance(Duration::from_secs(6));
    let res = c.post("externalcontact/get_groupmsg_send_result", &tok, json!({"msgid": msg2, "userid": sender})).await;
    let by: Vec<(String, i64)> = res["send_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["external_userid"].as_str().unwrap().to_string(), r["status"].as_i64().unwrap()))
        .collect();
    assert_eq!(by, vec![(customers[0].clone(), 3), (customers[2].clone(), 2)]);

    // The list shows both messages, created by the corp.
    let now = c.sim.clock().now_secs();
    let list = c
        .post(
            "externalcontact/get_groupmsg_list_v2",
            &tok,
            json!({"chat_type": "single", "start_time": now - 3600, "end_time": now + 1}),
        )
        .await;
    assert_eq!(list["group_msg_list"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list["group_msg_list"][0]["create_type"], 0);
    // Bad input.
    let v = c.post("externalcontact/add_msg_template", &tok, json!({"sender": sender, "text": {"content": ""}})).await;
    assert_eq!(v["errcode"], 44004);
    assert_eq!(c.post("externalcontact/get_groupmsg_task", &tok, json!({"msgid": "msgNOPE"})).await["errcode"], 41047);
}

#[tokio::test]
async fn never_confirming_staff_remind_and_cancel() {
    let c = demo().await;
    let tok = c.token().await;
    let (sender, _) = sender_with_customers(&c.sim, 1);
    c.sim.set_never_confirm(&[&sender]);
    let v =
        c.post("externalcontact/add_msg_template", &tok, json!({"sender": sender, "text": {"content": "hi"}})).await;
    let msgid = v["msgid"].as_str().unwrap().to_string();
    c.sim.advance(Duration::from_secs(3600));
    let task = c.post("externalcontact/get_groupmsg_task", &tok, json!({"msgid": msgid})).await;
    assert_eq!(task["task_list"][0]["status"], 0);
    for _ in 0..3 {
        assert_eq!(c.post("externalcontact/remind_groupmsg_send", &tok, json!({"msgid": msgid})).await["errcode"], 0);
    }
    assert_eq!(c.post("externalcontact/remind_groupmsg_send", &tok, json!({"msgid": msgid})).await["errcode"], 45009);
    c.sim.advance(Duration::from_secs(86_401));
    let tok = c.token().await;
    assert_eq!(c.post("externalcontact/remind_groupmsg_send", &tok, json!({"msgid": msgid})).await["errcode"], 0);
    assert_eq!(c.post("externalcontact/cancel_groupmsg_send", &tok, json!({"msgid": msgid})).await["errcode"], 0);
    assert!(!c.sim.confirm_group_msg(&msgid, &sender), "a cancelled task cannot be sent");
}

#[tokio::test]
async fn group_chat_messages_respect_the_group_daily_limit() {
    let mut cfg = test_config();
    cfg.group_msg.auto_confirm_after_secs = None;
    let c = start(cfg, World::generate(7, WorldSize::DEMO)).await;
    let tok = c.token().await;
    let (owner, chat) = c.sim.with_world(|w| (w.groups[0].owner.clone(), w.groups[0].chat_id.clone()));
    let send = |text: &'static str| {
        let body =
            json!({"chat_type": "group", "sender": owner, "chat_id_list": [chat, "wrNOPE"], "text": {"content": text}});
        let c = &c;
        let tok = &tok;
        async move { c.post("externalcontact/add_msg_template", tok, body).await }
    };
    let v1 = send("一").await;
    assert_eq!(v1["fail_list"], json!(["wrNOPE"]));
    let v2 = send("二").await;
    let (m1, m2) = (v1["msgid"].as_str().unwrap(), v2["msgid"].as_str().unwrap());
    assert!(c.sim.confirm_group_msg(m1, &owner));
    assert!(c.sim.confirm_group_msg(m2, &owner));
    let r1 = c.post("externalcontact/get_groupmsg_send_result", &tok, json!({"msgid": m1, "userid": owner})).await;
    let r2 = c.post("externalcontact/get_groupmsg_send_result", &tok, json!({"msgid": m2, "userid": owner})).await;
    assert_eq!(r1["send_list"][0]["status"], 1);
    assert_eq!(r1["send_list"][0]["chat_id"], chat.as_str());
    assert_eq!(r2["send_list"][0]["status"], 3);
}

#[tokio::test]
async fn corp_tags_add_edit_mark_delete() {
    let c = demo().await;
    let tok = c.token().await;
    let v = c
        .post(
            "externalcontact/add_corp_tag",
            &tok,
            json!({"group_name": "活动", "tag": [{"name": "双11"}, {"name": "618"}]}),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let group_id = v["tag_group"]["group_id"].as_str().unwrap().to_string();
    let tag_id = v["tag_group"]["tag"][0]["id"].as_str().unwrap().to_string();
    let dup =
        c.post("externalcontact/add_corp_tag", &tok, json!({"group_id": group_id, "tag": [{"name": "618"}]})).await;
    assert_eq!(dup["errcode"], 40071);
    assert_eq!(
        c.post("externalcontact/edit_corp_tag", &tok, json!({"id": tag_id, "name": "双十一"})).await["errcode"],
        0
    );
    assert_eq!(
        c.post("externalcontact/edit_corp_tag", &tok, json!({"id": "etNOPE", "name": "x"})).await["errcode"],
        40068
    );
    let (sender, customers) = sender_with_customers(&c.sim, 1);
    let mark = json!({"userid": sender, "external_userid": customers[0], "add_tag": [tag_id]});
    assert_eq!(c.post("externalcontact/mark_tag", &tok, mark).await["errcode"], 0);
    let one = c.get(&format!("externalcontact/get?access_token={tok}&external_userid={}", customers[0])).await;
    let f = one["follow_user"].as_array().unwrap().iter().find(|f| f["userid"] == sender.as_str()).unwrap().clone();
    assert!(f["tags"].as_array().unwrap().iter().any(|t| t["tag_name"] == "双十一" && t["group_name"] == "活动"));
    let bad = json!({"userid": sender, "external_userid": customers[0], "add_tag": ["etNOPE"]});
    assert_eq!(c.post("externalcontact/mark_tag", &tok, bad).await["errcode"], 40068);
    let list = c.post("externalcontact/get_corp_tag_list", &tok, json!({"group_id": [group_id]})).await;
    assert_eq!(list["tag_group"][0]["tag"].as_array().unwrap().len(), 2);
    // Deleting every tag of a group deletes the group.
    let all: Vec<Value> = list["tag_group"][0]["tag"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(c.post("externalcontact/del_corp_tag", &tok, json!({"tag_id": all})).await["errcode"], 0);
    let list = c.post("externalcontact/get_corp_tag_list", &tok, json!({"group_id": [group_id]})).await;
    assert_eq!(list["tag_group"], json!([]));
}

#[tokio::test]
async fn contact_way_state_and_single_use_welcome_code() {
    let c = demo().await;
    let tok = c.token().await;
    let (sender, _) = sender_with_customers(&c.sim, 1);
    let v = c
        .post(
            "externalcontact/add_contact_way",
            &tok,
            json!({"type": 1, "scene": 2, "user": [sender], "state": "store_7_poster"}),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert!(v["qr_code"].is_string());
    let config_id = v["config_id"].as_str().unwrap();
    let got = c.post("externalcontact/get_contact_way", &tok, json!({"config_id": config_id})).await;
    assert_eq!(got["contact_way"]["state"], "store_7_poster");
    let added = c.sim.scan_contact_way(config_id).unwrap();
    let events = c.sim.drain_events();
    assert_eq!(events.len(), 1);
    assert!(events[0].xml.contains("<State><![CDATA[store_7_poster]]></State>"));
    assert!(events[0].xml.contains(&added.welcome_code));
    let one = c.get(&format!("externalcontact/get?access_token={tok}&external_userid={}", added.external_userid)).await;
    assert_eq!(one["follow_user"][0]["state"], "store_7_poster");
    let welcome = json!({"welcome_code": added.welcome_code, "text": {"content": "欢迎"}});
    assert_eq!(c.post("externalcontact/send_welcome_msg", &tok, welcome.clone()).await["errcode"], 0);
    assert_eq!(c.post("externalcontact/send_welcome_msg", &tok, welcome).await["errcode"], 41050, "single use");
    let late = c.sim.scan_contact_way(config_id).unwrap();
    c.sim.advance(Duration::from_secs(21));
    let welcome = json!({"welcome_code": late.welcome_code, "text": {"content": "欢迎"}});
    assert_eq!(c.post("externalcontact/send_welcome_msg", &tok, welcome).await["errcode"], 41050, "expired");
    // Changes through the API raise no callback.
    c.sim.drain_events();
    c.post("externalcontact/add_corp_tag", &tok, json!({"group_name": "g", "tag": [{"name": "t"}]})).await;
    assert!(c.sim.drain_events().is_empty());
}

#[tokio::test]
async fn join_way_state_reaches_the_member() {
    let c = demo().await;
    let tok = c.token().await;
    let chat = c.sim.with_world(|w| w.groups[3].chat_id.clone());
    let v = c
        .post(
            "externalcontact/groupchat/add_join_way",
            &tok,
            json!({"scene": 2, "chat_id_list": [chat], "state": "live_0618"}),
        )
        .await;
    let config_id = v["config_id"].as_str().unwrap().to_string();
    let got = c.post("externalcontact/groupchat/get_join_way", &tok, json!({"config_id": config_id})).await;
    assert_eq!(got["join_way"]["state"], "live_0618");
    assert_eq!(got["join_way"]["chat_id_list"], json!([chat]));
    assert_eq!(c.sim.scan_join_way(&config_id, "wmNEWCOMER").as_deref(), Some(chat.as_str()));
    let g = c.post("externalcontact/groupchat/get", &tok, json!({"chat_id": chat})).await;
    let m = g["group_chat"]["member_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userid"] == "wmNEWCOMER")
        .unwrap()
        .clone();
    assert_eq!(
        (m["state"].clone(), m["join_scene"].clone(), m["type"].clone()),
        (json!("live_0618"), json!(3), json!(2))
    );
    assert!(c.sim.drain_events()[0].xml.contains("add_member"));
}

#[tokio::test]
async fn update_join_way_replaces_the_configuration_and_later_joins_carry_the_new_state() {
    let c = demo().await;
    let tok = c.token().await;
    let (first, second) = c.sim.with_world(|w| (w.groups[3].chat_id.clone(), w.groups[4].chat_id.clone()));
    let added = c
        .post(
            "externalcontact/groupchat/add_join_way",
            &tok,
            json!({"scene": 2, "chat_id_list": [first], "state": "spring", "remark": "春季"}),
        )
        .await;
    let config_id = added["config_id"].as_str().unwrap().to_string();
    let before = c.post("externalcontact/groupchat/get_join_way", &tok, json!({"config_id": config_id})).await;
    let update = json!({"config_id": config_id, "scene": 2, "chat_id_list": [second], "state": "summer"});
    let updated = c.post("externalcontact/groupchat/update_join_way", &tok, update).await;
    assert_eq!(updated["errcode"], 0, "{updated}");
    let got = c.post("externalcontact/groupchat/get_join_way", &tok, json!({"config_id": config_id})).await;
    assert_eq!(got["join_way"]["state"], "summer");
    assert_eq!(got["join_way"]["chat_id_list"], json!([second]));
    assert!(got["join_way"].get("remark").is_none(), "an update overwrites: the remark left out is gone");
    assert_eq!(got["join_way"]["qr_code"], before["join_way"]["qr_code"], "the QR code stays");
    assert_eq!(c.sim.scan_join_way(&config_id, "wmSUMMER").as_deref(), Some(second.as_str()));

    let unknown = json!({"config_id": "nope", "scene": 2, "chat_id_list": [second]});
    assert_eq!(c.post("externalcontact/groupchat/update_join_way", &tok, unknown).await["errcode"], 41044);
    let missing = json!({"scene": 2, "chat_id_list": [second]});
    assert_eq!(c.post("externalcontact/groupchat/update_join_way", &tok, missing).await["errcode"], 41043);
    let no_groups = json!({"config_id": config_id, "scene": 2, "chat_id_list": []});
    assert_eq!(c.post("externalcontact/groupchat/update_join_way", &tok, no_groups).await["errcode"], 40058);
}

#[tokio::test]
async fn robot_webhook_is_limited_to_20_per_minute() {
    let c = demo().await;
    let url = format!("{}/cgi-bin/webhook/send?key=sim-webhook-key", c.base);
    let body = json!({"msgtype": "text", "text": {"content": "打卡提醒"}});
    for i in 0..20 {
        let v: Value = c.http.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["errcode"], 0, "message {i}");
    }
    let v: Value = c.http.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["errcode"], 45009);
    c.sim.advance(Duration::from_secs(61));
    let v: Value = c.http.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["errcode"], 0);
    let bad: Value = c
        .http
        .post(format!("{}/cgi-bin/webhook/send?key=nope", c.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["errcode"], 93000);
    assert_eq!(c.sim.delivered().iter().filter(|d| d.api == "webhook/send").count(), 21);
}

#[tokio::test]
async fn app_message_tickets_and_oauth() {
    let c = demo().await;
    let tok = c.token().await;
    let user = c.sim.with_world(|w| w.staff[0].userid.clone());
    let v = c
        .post(
            "message/send",
            &tok,
            json!({"touser": format!("{user}|ghost"), "msgtype": "text", "agentid": 1_000_002, "text": {"content": "审批提醒"}}),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");
    assert_eq!(v["invaliduser"], "ghost");
    let v = c
        .post("message/send", &tok, json!({"touser": user, "msgtype": "text", "agentid": 1, "text": {"content": "x"}}))
        .await;
    assert_eq!(v["errcode"], 40056);
    let v = c
        .post(
            "message/send",
            &tok,
            json!({"touser": user, "msgtype": "text", "agentid": 1_000_002, "text": {"content": ""}}),
        )
        .await;
    assert_eq!(v["errcode"], 44004);
    let t = c.get(&format!("get_jsapi_ticket?access_token={tok}")).await;
    assert!(t["ticket"].is_string() && t["expires_in"] == 7200);
    let a = c.get(&format!("ticket/get?access_token={tok}&type=agent_config")).await;
    assert!(a["ticket"].is_string());
    assert_ne!(a["ticket"], t["ticket"]);
    let code = c.sim.issue_oauth_code(&user);
    let who = c.get(&format!("auth/getuserinfo?access_token={tok}&code={code}")).await;
    assert_eq!(who["userid"], user.as_str());
    assert_eq!(c.get(&format!("auth/getuserinfo?access_token={tok}&code={code}")).await["errcode"], 40029);
}

#[tokio::test]
async fn welcome_templates_crud() {
    let c = demo().await;
    let tok = c.token().await;
    let v = c
        .post("externalcontact/group_welcome_template/add", &tok, json!({"text": {"content": "欢迎%NICKNAME%"}}))
        .await;
    let id = v["template_id"].as_str().unwrap().to_string();
    let edit = json!({"template_id": id, "link": {"title": "t", "url": "https://e.com"}});
    assert_eq!(c.post("externalcontact/group_welcome_template/edit", &tok, edit).await["errcode"], 0);
    let got = c.post("externalcontact/group_welcome_template/get", &tok, json!({"template_id": id})).await;
    assert_eq!(got["text"]["content"], "欢迎%NICKNAME%");
    assert_eq!(got["link"]["title"], "t");
    assert_eq!(
        c.post("externalcontact/group_welcome_template/del", &tok, json!({"template_id": id})).await["errcode"],
        0
    );
    let gone = c.post("externalcontact/group_welcome_template/get", &tok, json!({"template_id": id})).await;
    assert_eq!(gone["errcode"], 40037);
    let empty = c.post("externalcontact/group_welcome_template/add", &tok, json!({})).await;
    assert_eq!(empty["errcode"], 44004);
}

#[tokio::test]
async fn hostile_input_never_panics() {
    let c = demo().await;
    let tok = c.token().await;
    let apis = [
        "user/list_id",
        "externalcontact/batch/get_by_user",
        "externalcontact/groupchat/list",
        "externalcontact/groupchat/get",
        "externalcontact/groupchat/statistic",
        "externalcontact/add_msg_template",
        "externalcontact/get_groupmsg_list_v2",
        "externalcontact/get_groupmsg_send_result",
        "externalcontact/add_corp_tag",
        "externalcontact/del_corp_tag",
        "externalcontact/mark_tag",
        "externalcontact/add_contact_way",
        "externalcontact/groupchat/add_join_way",
        "externalcontact/groupchat/update_join_way",
        "message/send",
    ];
    let bodies = [
        "",
        "null",
        "[]",
        "{\"limit\": -1, \"cursor\": 5}",
        "{\"limit\": 18446744073709551615, \"cursor\": \"ffffffffffffffff\"}",
        "{\"userid_list\": [1, 2], \"chat_id\": {}, \"tag\": [null]}",
        "{\"owner_filter\": {\"userid_list\": \"x\"}, \"day_begin_time\": -9223372036854775808}",
        "{\"attachments\": [{\"msgtype\": \"image\"}], \"chat_type\": \"group\"}",
        "not json at all",
    ];
    for api in apis {
        for body in bodies {
            let r =
                c.http.post(format!("{}/cgi-bin/{api}?access_token={tok}", c.base)).body(body).send().await.unwrap();
            assert_eq!(r.status(), 200, "{api} {body}");
            let v: Value = r.json().await.unwrap();
            assert!(v["errcode"].is_i64(), "{api} {body} → {v}");
            if ["null", "[]", "not json at all"].contains(&body) {
                assert_eq!(v["errcode"], 47001, "{api} {body} → {v}");
            }
        }
    }
    let r = c.http.get(format!("{}/cgi-bin/no/such/api?access_token={tok}", c.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let v = c.get(&format!("externalcontact/add_msg_template?access_token={tok}")).await;
    assert_eq!(v["errcode"], 43002);
}

#[tokio::test]
async fn groupchat_list_status_filter_zero_lists_every_group() {
    let mut world = World::generate(7, WorldSize::DEMO);
    world.groups[0].status = 1;
    world.groups[1].status = 3;
    let c = start(test_config(), world).await;
    let tok = c.token().await;
    let count = |v: Value| v["group_chat_list"].as_array().map_or(0, Vec::len);
    let all = c.post("externalcontact/groupchat/list", &tok, json!({"limit": 1000})).await;
    assert_eq!(count(all), 50, "no filter and status_filter 0 list every group");
    let zero = c.post("externalcontact/groupchat/list", &tok, json!({"limit": 1000, "status_filter": 0})).await;
    assert_eq!(count(zero), 50);
    let pending = c.post("externalcontact/groupchat/list", &tok, json!({"limit": 1000, "status_filter": 1})).await;
    assert_eq!(count(pending), 1, "1 selects groups awaiting 离职继承");
    let done = c.post("externalcontact/groupchat/list", &tok, json!({"limit": 1000, "status_filter": 3})).await;
    assert_eq!(count(done), 1);
}
