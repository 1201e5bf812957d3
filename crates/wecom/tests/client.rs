//! The client against a fake WeCom: token cache, single flight, token refresh, retries, budget,
//! pagination, request shapes, metrics.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use common::{Reply, err, ok, setup};
use scrm_wecom::*;

fn tokens_seen(fake: &common::Fake) -> Vec<String> {
    fake.seen().iter().map(|s| s.query.get("access_token").cloned().unwrap_or_default()).collect()
}

#[tokio::test]
async fn token_is_fetched_once_and_reused() {
    let (fake, client) = setup().await;
    for _ in 0..10 {
        client.user_get("zhangsan").await.expect("user/get");
    }
    assert_eq!(fake.gettokens(), 1);
    assert_eq!(fake.calls(), 10);
    assert!(tokens_seen(&fake).iter().all(|t| t == "tok-1"));
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    let (fake, client) = setup().await;
    // 2 s tokens: the 300 s margin is capped at half the lifetime, so it is refreshed after 1 s.
    fake.expires_in.store(2, Ordering::SeqCst);
    client.user_get("a").await.expect("first");
    client.user_get("a").await.expect("second");
    assert_eq!(fake.gettokens(), 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    client.user_get("a").await.expect("third");
    assert_eq!(fake.gettokens(), 2, "refreshed before WeCom's expiry");
    assert_eq!(tokens_seen(&fake), ["tok-1", "tok-1", "tok-2"]);
}

#[tokio::test]
async fn concurrent_callers_share_one_gettoken() {
    let (fake, client) = setup().await;
    fake.gettoken_delay_ms.store(100, Ordering::SeqCst);
    let calls = (0..50).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.user_get(&format!("u{i}")).await })
    });
    for r in futures::future::join_all(calls).await {
        r.expect("join").expect("call");
    }
    assert_eq!(fake.gettokens(), 1, "single flight");
    assert_eq!(fake.calls(), 50);
}

#[tokio::test]
async fn clients_with_the_same_credentials_share_the_token() {
    let fake = common::Fake::new();
    let base = common::start(fake.clone()).await;
    let cache = TokenCache::new();
    let a = WeComClient::with_token_cache(common::config(&base), &cache).expect("a");
    let b = WeComClient::with_token_cache(common::config(&base), &cache).expect("b");
    a.user_get("x").await.expect("a");
    b.user_get("x").await.expect("b");
    assert_eq!(fake.gettokens(), 1);
}

#[tokio::test]
async fn rejected_token_is_fetched_again_once_and_the_call_retried() {
    for code in [42001, 40014, 40001] {
        let (fake, client) = setup().await;
        fake.script([err(code)]);
        let user = client.user_get("zhangsan").await;
        assert!(user.is_ok(), "errcode {code}: {user:?}");
        assert_eq!(fake.gettokens(), 2, "errcode {code}");
        assert_eq!(tokens_seen(&fake), ["tok-1", "tok-2"], "errcode {code}");
    }
}

#[tokio::test]
async fn a_token_rejected_twice_surfaces() {
    let (fake, client) = setup().await;
    fake.script([err(42001), err(42001), ok(json!({}))]);
    let e = client.user_get("zhangsan").await.expect_err("rejected twice");
    assert_eq!(e.errcode(), Some(42001));
    assert_eq!((fake.gettokens(), fake.calls()), (2, 2), "one refresh per call");
}

#[tokio::test]
async fn a_bad_secret_surfaces_without_retries() {
    let fake = common::Fake::new();
    let base = common::start(fake.clone()).await;
    let config = WeComConfig { secret: "wrong".into(), ..common::config(&base) };
    let client = WeComClient::with_token_cache(config, &TokenCache::new()).expect("client");
    let e = client.user_get("x").await.expect_err("bad secret");
    assert!(matches!(e, WeComError::Api { api: "gettoken", errcode: 40001, .. }), "{e:?}");
    assert_eq!((fake.gettokens(), fake.calls()), (1, 0));
    assert!(!e.to_string().contains("wrong"), "the secret is not in the error");
}

#[tokio::test]
async fn a_rate_limit_burst_is_retried_until_it_passes() {
    let (fake, client) = setup().await;
    fake.script([err(45009), err(45009), err(45009)]);
    client.user_get("x").await.expect("after the burst");
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn system_busy_and_concurrency_limits_are_retried() {
    let (fake, client) = setup().await;
    fake.script([err(-1), err(45033)]);
    client.get_follow_user_list().await.expect("after -1 and 45033");
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn a_logic_error_surfaces_at_once() {
    let (fake, client) = setup().await;
    fake.default_reply(err(40003));
    let e = client.user_get("nobody").await.expect_err("invalid userid");
    assert!(matches!(&e, WeComError::Api { api: "user/get", errcode: 40003, .. }), "{e:?}");
    assert!(!e.is_transient());
    assert_eq!(fake.calls(), 1, "never retried");
}

#[tokio::test]
async fn http_4xx_is_not_retried_and_5xx_is() {
    let (fake, client) = setup().await;
    fake.script([Reply::Status(404)]);
    let e = client.user_get("x").await.expect_err("404");
    assert!(matches!(e, WeComError::Http { status: 404, .. }));
    assert_eq!(fake.calls(), 1);

    fake.script([Reply::Status(502), Reply::Status(503)]);
    client.user_get("x").await.expect("after 502, 503");
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn timeouts_are_retried() {
    let fake = common::Fake::new();
    let base = common::start(fake.clone()).await;
    let client =
        WeComClient::with_token_cache(WeComConfig { timeout_ms: 200, ..common::config(&base) }, &TokenCache::new())
            .expect("client");
    fake.script([Reply::Slow(1_000, Box::new(ok(json!({}))))]);
    client.user_get("x").await.expect("second attempt");
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn writes_are_not_repeated_after_ambiguous_failures() {
    let (fake, client) = setup().await;
    let task = AddMsgTemplateRequest {
        sender: Some("zhangsan".into()),
        external_userid: vec!["wmA".into()],
        text: Some(Text { content: "hi".into() }),
        ..Default::default()
    };
    // WeCom may have created the task before the 502: not retried.
    fake.script([Reply::Status(502)]);
    let e = client.add_msg_template(&task).await.expect_err("502");
    assert!(e.is_transient() && e.is_ambiguous());
    assert_eq!(fake.calls(), 1);
    // A rate limit means WeCom refused it: retried.
    fake.script([err(45009), ok(json!({"msgid": "m1", "fail_list": []}))]);
    assert_eq!(client.add_msg_template(&task).await.expect("after 45009").msgid, "m1");
    assert_eq!(fake.calls(), 3);

    // Opting in retries ambiguous failures of writes too.
    let fake = common::Fake::new();
    let base = common::start(fake.clone()).await;
    let mut config = common::config(&base);
    config.retry.retry_ambiguous_writes = true;
    let client = WeComClient::with_token_cache(config, &TokenCache::new()).expect("client");
    fake.script([Reply::Status(502), ok(json!({"msgid": "m2"}))]);
    assert_eq!(client.add_msg_template(&task).await.expect("opted in").msgid, "m2");
}

#[tokio::test]
async fn the_retry_budget_bounds_attempts() {
    let (fake, client) = setup().await;
    fake.default_reply(err(45009));
    let e = client.user_get("x").await.expect_err("always limited");
    match &e {
        WeComError::RetryBudgetExhausted { api, attempts, last, .. } => {
            assert_eq!((*api, *attempts), ("user/get", 5));
            assert_eq!(last.errcode(), Some(45009));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.errcode(), Some(45009));
    assert!(!e.is_transient(), "an exhausted budget is final");
    assert_eq!(fake.calls(), 5);
}

#[tokio::test]
async fn the_retry_budget_bounds_time() {
    let fake = common::Fake::new();
    let base = common::start(fake.clone()).await;
    let mut config = common::config(&base);
    config.retry = RetryConfig {
        max_attempts: 1_000,
        max_elapsed_ms: 300,
        initial_backoff_ms: 50,
        max_backoff_ms: 50,
        retry_ambiguous_writes: false,
    };
    let client = WeComClient::with_token_cache(config, &TokenCache::new()).expect("client");
    fake.default_reply(err(-1));
    let started = Instant::now();
    let e = client.user_get("x").await.expect_err("busy");
    assert!(matches!(e, WeComError::RetryBudgetExhausted { attempts, .. } if attempts < 20), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_failures_are_transient_and_bounded() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let client = WeComClient::with_token_cache(common::config(&base), &TokenCache::new()).expect("client");
    let e = client.user_get("x").await.expect_err("nobody listens");
    match &e {
        WeComError::RetryBudgetExhausted { api: "gettoken", last, .. } => {
            assert!(matches!(**last, WeComError::Transport { .. }), "{last:?}");
            assert!(last.is_transient() && !last.is_ambiguous());
            assert!(!last.to_string().contains("secret"), "no URL with the secret: {last}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn pagination_follows_next_cursor_to_the_end() {
    let (fake, client) = setup().await;
    fake.handle(|seen| {
        let body = seen.json();
        let cursor = body["cursor"].as_str().unwrap_or("").to_owned();
        let (users, next) = match cursor.as_str() {
            "" => (vec!["a", "b"], "c1"),
            "c1" => (vec!["c"], "c2"),
            "c2" => (vec!["d", "e"], ""),
            _ => return err(40058),
        };
        let dept_user: Vec<_> = users.iter().map(|u| json!({"userid": u, "department": 1})).collect();
        ok(json!({"dept_user": dept_user, "next_cursor": next}))
    });
    let all = client.user_list_id_all(Some(2)).await.expect("all pages");
    let ids: Vec<_> = all.iter().map(|d| d.userid.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    let bodies: Vec<_> = fake.seen().iter().map(|s| s.json()).collect();
    assert_eq!(bodies[0], json!({"limit": 2}));
    assert_eq!(bodies[1], json!({"cursor": "c1", "limit": 2}));
    assert_eq!(bodies.len(), 3);

    // The stream yields the same pages one by one.
    let pages: Vec<_> = client.user_list_id_pages(Some(2)).collect().await;
    assert_eq!(pages.iter().map(|p| p.as_ref().map(Vec::len).unwrap_or(0)).collect::<Vec<_>>(), [2, 1, 2]);
}

#[tokio::test]
async fn groupchat_and_batch_pagination_keep_their_filters() {
    let (fake, client) = setup().await;
    fake.handle(|seen| {
        let body = seen.json();
        let next = if body["cursor"].is_null() || body["cursor"] == "" { "n1" } else { "" };
        match seen.api.as_str() {
            "externalcontact/groupchat/list" => {
                assert_eq!(body["owner_filter"]["userid_list"], json!(["abel"]));
                ok(json!({"group_chat_list": [{"chat_id": format!("wr{next}"), "status": 0}], "next_cursor": next}))
            }
            "externalcontact/batch/get_by_user" => {
                assert_eq!(body["userid_list"], json!(["zhangsan", "lisi"]));
                ok(json!({"external_contact_list": [{"external_contact": {"external_userid": "wm1"},
                    "follow_info": {"userid": "zhangsan", "state": "s"}}], "next_cursor": next}))
            }
            _ => err(40003),
        }
    });
    let groups = client
        .groupchat_list_all(GroupChatListRequest {
            owner_filter: Some(OwnerFilter { userid_list: vec!["abel".into()] }),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("groups");
    assert_eq!(groups.len(), 2);
    let customers =
        client.batch_get_by_user_all(vec!["zhangsan".into(), "lisi".into()], Some(1)).await.expect("customers");
    assert_eq!(customers.len(), 2);
    assert_eq!(customers[0].follow_info.state, "s");
}

#[tokio::test]
async fn external_contact_get_all_merges_follow_user_pages() {
    let (fake, client) = setup().await;
    fake.handle(|seen| {
        assert_eq!(seen.query.get("external_userid").map(String::as_str), Some("wmA"));
        match seen.query.get("cursor").map(String::as_str) {
            None => ok(json!({"external_contact": {"external_userid": "wmA", "name": "李四"},
                "follow_user": [{"userid": "u1"}], "next_cursor": "p2"})),
            Some("p2") => ok(json!({"external_contact": {"external_userid": "wmA"},
                "follow_user": [{"userid": "u2"}, {"userid": "u3"}], "next_cursor": ""})),
            Some(_) => err(40003),
        }
    });
    let c = client.external_contact_get_all("wmA").await.expect("contact");
    assert_eq!(c.external_contact.name, "李四");
    assert_eq!(c.follow_user.iter().map(|f| f.userid.as_str()).collect::<Vec<_>>(), ["u1", "u2", "u3"]);
    assert!(c.next_cursor.is_empty());
}

#[tokio::test]
async fn pagination_that_does_not_advance_is_an_error_not_a_loop() {
    let (fake, client) = setup().await;
    fake.default_reply(ok(json!({"dept_user": [{"userid": "a"}], "next_cursor": "same"})));
    let e = client.user_list_id_all(None).await.expect_err("stalled");
    assert!(matches!(e, WeComError::PaginationStalled { .. }), "{e:?}");
    assert_eq!(fake.calls(), 2);

    let (fake, client) = setup().await;
    fake.script([ok(json!({"group_msg_list": [], "next_cursor": "c1"})), err(40003)]);
    let pages: Vec<_> = client
        .get_groupmsg_list_v2_pages(GetGroupMsgListV2Request { chat_type: "single".into(), ..Default::default() })
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(matches!(pages[1], Err(WeComError::Api { errcode: 40003, .. })));
}

#[tokio::test]
async fn requests_carry_wecom_names() {
    let (fake, client) = setup().await;
    client.groupchat_get("wrA", true).await.expect("groupchat/get");
    client.get_join_way("cfg1").await.expect("get_join_way");
    client.cancel_groupmsg_send("msg1").await.expect("cancel");
    client.remind_groupmsg_send("msg1").await.expect("remind");
    client.group_welcome_template_del("tpl", Some(1000014)).await.expect("del");
    client.department_simplelist(Some(2)).await.expect("simplelist");
    client.external_contact_list("zhangsan").await.expect("list");
    client.get_agent_config_ticket().await.expect("agent ticket");
    client.get_jsapi_ticket().await.expect("jsapi ticket");
    client.auth_getuserinfo("CODE").await.expect("getuserinfo");
    client.message_send(&AppMessage::text(1000002, "zhangsan", "hi")).await.expect("message/send");
    let seen = fake.seen();
    let by_api: HashMap<_, _> = seen.iter().map(|s| (s.api.as_str(), s)).collect();
    assert_eq!(by_api["externalcontact/groupchat/get"].json(), json!({"chat_id": "wrA", "need_name": 1}));
    assert_eq!(by_api["externalcontact/groupchat/get_join_way"].json(), json!({"config_id": "cfg1"}));
    assert_eq!(by_api["externalcontact/cancel_groupmsg_send"].json(), json!({"msgid": "msg1"}));
    assert_eq!(by_api["externalcontact/remind_groupmsg_send"].json(), json!({"msgid": "msg1"}));
    assert_eq!(
        by_api["externalcontact/group_welcome_template/del"].json(),
        json!({"template_id": "tpl", "agentid": 1000014})
    );
    assert_eq!(by_api["department/simplelist"].query.get("id").map(String::as_str), Some("2"));
    assert_eq!(by_api["externalcontact/list"].query.get("userid").map(String::as_str), Some("zhangsan"));
    assert_eq!(by_api["ticket/get"].query.get("type").map(String::as_str), Some("agent_config"));
    assert!(by_api.contains_key("get_jsapi_ticket"));
    assert_eq!(by_api["auth/getuserinfo"].query.get("code").map(String::as_str), Some("CODE"));
    assert_eq!(
        by_api["message/send"].json(),
        json!({"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "text": {"content": "hi"}})
    );
    assert!(seen.iter().all(|s| s.query.get("access_token").map(String::as_str) == Some("tok-1")));
    assert!(
        seen.iter().filter(|s| !s.body.is_empty()).all(|s| s.content_type == "application/json"),
        "JSON bodies are labelled"
    );
}

#[tokio::test]
async fn webhook_uses_the_key_and_no_token() {
    let (fake, client) = setup().await;
    client.webhook_send("KEY-1", &WebhookMessage::markdown("**hi**")).await.expect("webhook");
    let seen = fake.seen();
    assert_eq!(seen[0].api, "webhook/send");
    assert_eq!(seen[0].query.get("key").map(String::as_str), Some("KEY-1"));
    assert!(!seen[0].query.contains_key("access_token"));
    assert_eq!(seen[0].json(), json!({"msgtype": "markdown", "markdown": {"content": "**hi**"}}));
    assert_eq!(fake.gettokens(), 0);
}

#[tokio::test]
async fn media_is_uploaded_as_multipart() {
    let (fake, client) = setup().await;
    fake.handle(|seen| match seen.api.as_str() {
        "media/upload" => ok(json!({"type": seen.query.get("type"), "media_id": "MID", "created_at": "1380000000"})),
        _ => ok(json!({"url": "http://p.qpic.cn/x/0"})),
    });
    let up = client.media_upload(MediaType::Image, &Upload::new("a.png", b"PNGDATA".to_vec())).await.expect("upload");
    assert_eq!((up.media_type.as_str(), up.media_id.as_str(), up.created_at), ("image", "MID", 1380000000));
    let img = client.media_uploadimg(&Upload::new("b.jpg", b"JPGDATA".to_vec())).await.expect("uploadimg");
    assert_eq!(img.url, "http://p.qpic.cn/x/0");
    for s in fake.seen() {
        assert!(s.content_type.starts_with("multipart/form-data"), "{}", s.content_type);
        let body = String::from_utf8_lossy(&s.body);
        assert!(body.contains("name=\"media\""), "{body}");
        assert!(body.contains("DATA"), "{body}");
    }
}

#[tokio::test]
async fn multipart_uploads_survive_retries() {
    let (fake, client) = setup().await;
    fake.script([err(45009), ok(json!({"type": "file", "media_id": "M2", "created_at": 1}))]);
    let up = client.media_upload(MediaType::File, &Upload::new("f.txt", b"hello".to_vec())).await.expect("upload");
    assert_eq!(up.media_id, "M2");
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "one retry after 45009");
    for s in &seen {
        let body = String::from_utf8_lossy(&s.body);
        assert!(body.contains("filename=\"f.txt\"") && body.contains("hello"), "the part is rebuilt: {body}");
    }
}
