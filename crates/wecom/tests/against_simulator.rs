//! The real client against the real WeCom simulator (`scrm-wecom-sim`) over HTTP on 127.0.0.1:0:
//! expired and revoked tokens, 45009 bursts, a 5 % injected error rate during a full walk of a demo
//! corp, logic errors that must not be retried, and the group-message flow.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};

use scrm_wecom::*;
use scrm_wecom_sim::{Faults, RateLimits, SimConfig, Simulator, Stats, World, WorldSize};

/// A minute-aligned instant (2027-01-15T08:00:00Z, 16:00 in China), so that rate-limit windows start
/// with the test and a few hours of advancing stay within one CST day.
const FROZEN_AT_MS: i64 = 1_800_000_000_000;

/// A small corp for the tests that do not walk a whole one.
const SMALL: WorldSize = WorldSize { departments: 3, staff: 6, customers: 40, groups: 8 };

struct Harness {
    sim: Arc<Simulator>,
    client: WeComClient,
}

/// Serves `sim` on 127.0.0.1:0 (its clock frozen at [`FROZEN_AT_MS`]) and builds a client for it with
/// its own token cache and `retry`.
async fn start(cfg: SimConfig, world: World, retry: RetryConfig) -> Harness {
    let sim = Simulator::new(cfg, world);
    sim.clock().freeze_at(FROZEN_AT_MS);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(scrm_wecom_sim::serve(listener, sim.clone()));
    let client = client_for(&sim, addr, retry, &TokenCache::new());
    Harness { sim, client }
}

fn client_for(sim: &Simulator, addr: SocketAddr, retry: RetryConfig, cache: &TokenCache) -> WeComClient {
    let sim_cfg = sim.config();
    let mut config =
        WeComConfig::new(sim_cfg.corp_id, sim_cfg.corp_secrets[0].clone()).with_api_base(format!("http://{addr}"));
    config.timeout_ms = 2_000;
    config.connect_timeout_ms = 500;
    config.retry = retry;
    WeComClient::with_token_cache(config, cache).expect("client")
}

/// Retries fast enough for tests: 5–40 ms between attempts.
fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 8,
        max_elapsed_ms: 2_000,
        initial_backoff_ms: 5,
        max_backoff_ms: 40,
        retry_ambiguous_writes: false,
    }
}

fn calls(stats: &Stats, api: &str) -> u64 {
    stats.calls.get(api).copied().unwrap_or(0)
}

fn answers(stats: &Stats, errcode: i64) -> u64 {
    stats.errcodes.get(&errcode).copied().unwrap_or(0)
}

fn total_calls(stats: &Stats) -> u64 {
    stats.calls.values().sum()
}

fn active_staff(sim: &Simulator) -> Vec<String> {
    sim.with_world(|w| w.staff.iter().filter(|s| s.status != 5).map(|s| s.userid.clone()).collect())
}

// ---------------------------------------------------------------------------------------------
// 1. Tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_tokens_are_fetched_anew_without_surfacing_42001() {
    let h = start(SimConfig::default(), World::generate(1, SMALL), fast_retry()).await;
    let staff = active_staff(&h.sim);
    let userid = &staff[0];

    let user = h.client.user_get(userid).await.expect("first call");
    assert_eq!(&user.userid, userid);
    let first_token = h.client.access_token().await.expect("token");
    assert_eq!(calls(&h.sim.stats(), "gettoken"), 1);

    // The simulator's clock passes the token's 7200 s lifetime; the client still believes it fresh.
    for round in 1..=3u64 {
        h.sim.advance(Duration::from_secs(7_201));
        let user = h.client.user_get(userid).await.expect("call after expiry");
        assert_eq!(&user.userid, userid);
        let stats = h.sim.stats();
        assert_eq!(calls(&stats, "gettoken"), 1 + round, "one gettoken per expiry");
        assert_eq!(answers(&stats, ERRCODE_ACCESS_TOKEN_EXPIRED), round, "one 42001 per expiry");
    }
    assert_ne!(h.client.access_token().await.expect("token"), first_token, "a new token is cached");

    // After an expiry, concurrent callers all see 42001 but share one refetch.
    h.sim.advance(Duration::from_secs(7_201));
    let results = futures::future::join_all(staff.iter().map(|u| h.client.user_get(u))).await;
    for (u, r) in staff.iter().zip(results) {
        assert_eq!(&r.expect("concurrent call after expiry").userid, u);
    }
    let stats = h.sim.stats();
    assert_eq!(calls(&stats, "gettoken"), 5, "single flight: one refetch for {} concurrent callers", staff.len());
    let expired = answers(&stats, ERRCODE_ACCESS_TOKEN_EXPIRED);
    assert!((4..=3 + staff.len() as u64).contains(&expired), "42001 answers: {expired}");
    assert_eq!(calls(&stats, "user/get"), 4 + staff.len() as u64 + expired, "each rejected call repeated once");
    eprintln!("tokens: {stats:?}");
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_before_the_simulator_rejects_them() {
    // 2 s tokens: the client's refresh margin is capped at half the lifetime (1 s).
    let cfg = SimConfig { token_ttl_secs: 2, ..SimConfig::default() };
    let h = start(cfg, World::generate(2, SMALL), fast_retry()).await;
    let userid = active_staff(&h.sim)[0].clone();
    h.client.user_get(&userid).await.expect("first");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    h.sim.advance(Duration::from_millis(1_100));
    h.client.user_get(&userid).await.expect("second");
    let stats = h.sim.stats();
    assert_eq!(calls(&stats, "gettoken"), 2, "refreshed proactively");
    assert_eq!(answers(&stats, ERRCODE_ACCESS_TOKEN_EXPIRED), 0, "never rejected");
}

#[tokio::test]
async fn a_token_the_server_no_longer_knows_is_fetched_anew_on_40014() {
    // WeCom restarted (or revoked the token): a new simulator on the same address knows no token.
    let world = World::generate(3, SMALL);
    let first = Simulator::new(SimConfig::default(), world.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, scrm_wecom_sim::router(first))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let second = Simulator::new(SimConfig { seed: 99, ..SimConfig::default() }, world);
    let client = client_for(&second, addr, fast_retry(), &TokenCache::new());
    let userid = active_staff(&second)[0].clone();
    client.user_get(&userid).await.expect("against the first server");

    stop.send(()).expect("stop");
    server.await.expect("join").expect("serve");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("rebind the same address");
    tokio::spawn(scrm_wecom_sim::serve(listener, second.clone()));

    let user = client.user_get(&userid).await.expect("against the restarted server");
    assert_eq!(user.userid, userid);
    let stats = second.stats();
    assert_eq!(answers(&stats, ERRCODE_INVALID_ACCESS_TOKEN), 1, "the old token was rejected once: {stats:?}");
    assert_eq!(calls(&stats, "gettoken"), 1);
    assert_eq!(calls(&stats, "user/get"), 2);
}

// ---------------------------------------------------------------------------------------------
// 2. 45009 bursts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_burst_over_the_rate_limit_is_absorbed_by_retries() {
    const LIMIT: u32 = 5;
    const BURST: usize = 24;
    let mut cfg = SimConfig::default();
    cfg.rate_limits.per_api_overrides.insert("user/get".into(), LIMIT);
    let retry = RetryConfig {
        max_attempts: 40,
        max_elapsed_ms: 2_500,
        initial_backoff_ms: 5,
        max_backoff_ms: 30,
        retry_ambiguous_writes: false,
    };
    let h = start(cfg, World::generate(4, SMALL), retry).await;
    h.client.access_token().await.expect("token first, so the burst is all user/get");
    let staff = active_staff(&h.sim);
    let ids: Vec<String> = (0..BURST).map(|i| staff[i % staff.len()].clone()).collect();

    let started = Instant::now();
    let burst = tokio::spawn({
        let client = h.client.clone();
        let ids = ids.clone();
        async move { futures::future::join_all(ids.iter().map(|u| client.user_get(u))).await }
    });
    // The window rolls over only once every first attempt has been answered, then every 50 ms.
    while h.sim.stats().errcodes.values().sum::<u64>() < 1 + BURST as u64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stats = h.sim.stats();
    assert_eq!(answers(&stats, 0), 1 + LIMIT as u64, "gettoken and {LIMIT} calls got through in the first window");
    let first_window = answers(&stats, ERRCODE_RATE_LIMITED);
    assert!(first_window >= (BURST - LIMIT as usize) as u64, "the rest got 45009 (and their early retries too)");
    let mut windows = 1;
    while !burst.is_finished() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        h.sim.advance(Duration::from_secs(60));
        windows += 1;
    }
    let results = burst.await.expect("join");
    for (u, r) in ids.iter().zip(results) {
        assert_eq!(&r.expect("no 45009 reaches the caller").userid, u);
    }
    let stats = h.sim.stats();
    let lost = answers(&stats, ERRCODE_RATE_LIMITED);
    assert_eq!(calls(&stats, "user/get"), BURST as u64 + lost, "every extra call was a 45009");
    assert!(lost >= first_window);
    assert!(windows as usize >= BURST.div_ceil(LIMIT as usize), "{windows} windows for {BURST} calls");
    let counted = h.client.call_stats();
    assert_eq!(counted.rate_limited, lost, "the client counts every request lost to 45009");
    assert_eq!(counted.requests.get("user/get").copied(), Some(calls(&stats, "user/get")));
    assert_eq!(counted.total(), total_calls(&stats), "the client counts what the simulator saw");
    eprintln!(
        "45009 burst: {BURST} calls, {} requests, {lost} lost to 45009, {windows} windows, {:?}",
        calls(&stats, "user/get"),
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_budget_shorter_than_the_window_surfaces_45009() {
    let rate_limits = RateLimits { per_api_per_minute: Some(2), ..RateLimits::default() };
    let cfg = SimConfig { rate_limits, ..SimConfig::default() };
    let retry = RetryConfig { max_attempts: 3, ..fast_retry() };
    let h = start(cfg, World::generate(5, SMALL), retry).await;
    let userid = active_staff(&h.sim)[0].clone();
    for _ in 0..2 {
        h.client.user_get(&userid).await.expect("within the limit");
    }
    let err = h.client.user_get(&userid).await.expect_err("the window never rolls over");
    match &err {
        WeComError::RetryBudgetExhausted { api: "user/get", attempts: 3, last, .. } => {
            assert_eq!(last.errcode(), Some(ERRCODE_RATE_LIMITED));
        }
        other => panic!("unexpected error: {other:?}"),
    }
    assert_eq!(err.errcode(), Some(ERRCODE_RATE_LIMITED));
    assert_eq!(answers(&h.sim.stats(), ERRCODE_RATE_LIMITED), 3);
}

// ---------------------------------------------------------------------------------------------
// 3. A full walk of a demo corp under a 5 % error rate
// ---------------------------------------------------------------------------------------------

/// (userid, external_userid) → (remark, tag ids, state, add_way).
type FollowMap = BTreeMap<(String, String), (String, Vec<String>, String, i64)>;

#[tokio::test]
async fn a_full_walk_under_a_5_percent_error_rate_returns_exactly_the_world() {
    let faults = Faults { error_rate: 0.05, latency_ms: 2, ..Faults::default() };
    let cfg = SimConfig { faults, ..SimConfig::default() };
    let h = start(cfg, World::generate(7, WorldSize::DEMO), fast_retry()).await;
    let started = Instant::now();

    // user/list_id, every page.
    let pages: Vec<Vec<DeptUser>> = h.client.user_list_id_pages(Some(3)).try_collect().await.expect("user/list_id");
    let dept_users: BTreeSet<(String, i64)> =
        pages.iter().flatten().map(|d| (d.userid.clone(), d.department)).collect();
    let want: BTreeSet<(String, i64)> = h.sim.with_world(|w| {
        w.staff
            .iter()
            .filter(|s| s.status != 5)
            .flat_map(|s| s.department.iter().map(|d| (s.userid.clone(), i64::from(*d))))
            .collect()
    });
    assert_eq!(dept_users, want, "user/list_id");
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), want.len(), "no pair twice");
    assert!(pages.len() > 1, "paged");
    let userids: Vec<String> = {
        let set: BTreeSet<&str> = dept_users.iter().map(|(u, _)| u.as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    };
    assert_eq!(userids.len(), WorldSize::DEMO.staff);

    // batch/get_by_user for all staff, every page.
    let contacts = h.client.batch_get_by_user_all(userids.clone(), Some(20)).await.expect("batch/get_by_user");
    let got: FollowMap = contacts
        .iter()
        .map(|c| {
            let f = &c.follow_info;
            let key = (f.userid.clone(), c.external_contact.external_userid.clone());
            (key, (f.remark.clone(), f.tag_id.clone(), f.state.clone(), f.add_way))
        })
        .collect();
    let want: FollowMap = h.sim.with_world(|w| {
        w.customers
            .iter()
            .flat_map(|c| {
                c.follow.iter().map(|f| {
                    let key = (f.userid.clone(), c.external_userid.clone());
                    (key, (f.remark.clone(), f.tags.clone(), f.state.clone(), i64::from(f.add_way)))
                })
            })
            .collect()
    });
    assert_eq!(contacts.len(), want.len(), "one item per follow relation, none twice");
    assert_eq!(got, want, "batch/get_by_user");
    let customers: BTreeSet<&str> = contacts.iter().map(|c| c.external_contact.external_userid.as_str()).collect();
    assert_eq!(customers.len(), h.sim.with_world(|w| w.customers.iter().filter(|c| !c.follow.is_empty()).count()));

    // groupchat/list, every page, then groupchat/get for each (8 at a time).
    let list = h
        .client
        .groupchat_list_all(GroupChatListRequest { limit: 4, ..GroupChatListRequest::default() })
        .await
        .expect("groupchat/list");
    let chat_ids: Vec<String> = list.iter().map(|g| g.chat_id.clone()).collect();
    let world_groups: Vec<scrm_wecom_sim::GroupChat> =
        h.sim.with_world(|w| w.groups.iter().filter(|g| !g.dismissed).cloned().collect());
    assert_eq!(chat_ids, world_groups.iter().map(|g| g.chat_id.clone()).collect::<Vec<_>>(), "groupchat/list");
    assert_eq!(chat_ids.len(), WorldSize::DEMO.groups);

    let details: Vec<GroupChat> = futures::stream::iter(chat_ids.iter())
        .map(|id| {
            let client = h.client.clone();
            async move { client.groupchat_get(id, false).await.map(|r| r.group_chat) }
        })
        .buffered(8)
        .try_collect()
        .await
        .expect("groupchat/get");
    let mut members = 0;
    for (got, want) in details.iter().zip(&world_groups) {
        assert_eq!(got.chat_id, want.chat_id);
        assert_eq!(got.owner, want.owner, "{}", want.chat_id);
        assert_eq!(got.name, want.name, "{}", want.chat_id);
        let got_members: Vec<(&str, i64)> =
            got.member_list.iter().map(|m| (m.userid.as_str(), m.member_type)).collect();
        let want_members: Vec<(&str, i64)> =
            want.members.iter().map(|m| (m.userid.as_str(), i64::from(m.kind))).collect();
        assert_eq!(got_members, want_members, "members of {}", want.chat_id);
        let admins: Vec<&str> = got.admin_list.iter().map(|a| a.userid.as_str()).collect();
        assert_eq!(admins, want.admins.iter().map(String::as_str).collect::<Vec<_>>());
        members += got_members.len();
    }

    let stats = h.sim.stats();
    let busy = answers(&stats, ERRCODE_SYSTEM_BUSY);
    let total = total_calls(&stats);
    assert!(busy > 0, "errors were injected: {stats:?}");
    assert_eq!(answers(&stats, 0) + busy, total, "nothing but successes and -1: {stats:?}");
    eprintln!(
        "walk: {} dept-user pairs, {} follow relations, {} groups, {members} members; {total} requests, {busy} \
         answered -1 ({:.1} %), {:?}; {:?}",
        dept_users.len(),
        contacts.len(),
        details.len(),
        100.0 * busy as f64 / total as f64,
        started.elapsed(),
        stats.calls,
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Logic errors are not retried
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn logic_errors_surface_at_once_as_typed_errors() {
    let h = start(SimConfig::default(), World::generate(8, SMALL), fast_retry()).await;

    let err = h.client.user_get("no_such_user").await.expect_err("unknown userid");
    match &err {
        WeComError::Api { api: "user/get", errcode: 60111, errmsg } => {
            assert!(errmsg.starts_with("userid not found"), "{errmsg}");
        }
        other => panic!("unexpected error: {other:?}"),
    }
    assert!(!err.is_transient() && !err.is_token_error());

    let err = h
        .client
        .batch_get_by_user_all(vec!["no_such_user".into()], None)
        .await
        .expect_err("unknown userid in a customer API");
    assert!(matches!(err, WeComError::Api { api: "externalcontact/batch/get_by_user", errcode: 40003, .. }), "{err:?}");

    let req = AddMsgTemplateRequest {
        chat_type: Some("group".into()),
        sender: Some("no_such_user".into()),
        text: Some(Text { content: "hi".into() }),
        ..AddMsgTemplateRequest::default()
    };
    let err = h.client.add_msg_template(&req).await.expect_err("unknown sender");
    assert_eq!(err.errcode(), Some(40003), "{err:?}");

    let stats = h.sim.stats();
    assert_eq!(calls(&stats, "user/get"), 1, "no retry");
    assert_eq!(calls(&stats, "externalcontact/batch/get_by_user"), 1, "no retry");
    assert_eq!(calls(&stats, "externalcontact/add_msg_template"), 1, "no retry");
    assert_eq!(calls(&stats, "gettoken"), 1);
    assert_eq!(answers(&stats, 60111), 1);
    assert_eq!(answers(&stats, 40003), 2);
}

// ---------------------------------------------------------------------------------------------
// 5. Group messages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn group_messages_are_sent_when_the_owner_confirms_and_not_before() {
    let world = World::generate(9, WorldSize::DEMO);
    // Owners by number of live groups: the busiest confirms, the next one never does.
    let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in world.groups.iter().filter(|g| !g.dismissed) {
        by_owner.entry(g.owner.clone()).or_default().push(g.chat_id.clone());
    }
    let mut owners: Vec<(String, Vec<String>)> = by_owner.into_iter().collect();
    owners.sort_by_key(|(_, chats)| std::cmp::Reverse(chats.len()));
    let (confirmer, confirmer_chats) = owners[0].clone();
    let (laggard, laggard_chats) = owners[1].clone();
    assert!(confirmer_chats.len() >= 2, "{owners:?}");

    let mut cfg = SimConfig::default();
    cfg.group_msg.auto_confirm_after_secs = Some(3);
    cfg.group_msg.never_confirm = vec![laggard.clone()];
    let h = start(cfg, world, fast_retry()).await;
    let text = Some(Text { content: "周末会员日，全场 8 折".into() });

    // The confirmer's chats, plus one that is not theirs (WeCom puts it in fail_list).
    let mut chat_id_list = confirmer_chats.clone();
    chat_id_list.push(laggard_chats[0].clone());
    let sent = h
        .client
        .add_msg_template(&AddMsgTemplateRequest {
            chat_type: Some("group".into()),
            chat_id_list,
            sender: Some(confirmer.clone()),
            text: text.clone(),
            ..AddMsgTemplateRequest::default()
        })
        .await
        .expect("add_msg_template");
    assert!(!sent.msgid.is_empty());
    assert_eq!(sent.fail_list, vec![laggard_chats[0].clone()]);

    // Before the owner confirms: the task and every chat are unsent.
    let tasks = h.client.get_groupmsg_task_all(&sent.msgid, None).await.expect("task");
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].userid.as_str(), tasks[0].status, tasks[0].send_time), (confirmer.as_str(), 0, 0));
    let results = h.client.get_groupmsg_send_result_all(&sent.msgid, &confirmer, None).await.expect("result");
    assert!(results.iter().all(|r| r.status == 0 && r.send_time == 0), "{results:?}");

    // The owner confirms after 3 s (simulator time).
    h.sim.advance(Duration::from_secs(4));
    let created = FROZEN_AT_MS / 1000;
    let req = GetGroupMsgTaskRequest { msgid: sent.msgid.clone(), ..GetGroupMsgTaskRequest::default() };
    let tasks = h.client.get_groupmsg_task(&req).await.expect("task").task_list;
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].userid.as_str(), tasks[0].status, tasks[0].send_time), (confirmer.as_str(), 2, created + 3));
    let results = h
        .client
        .get_groupmsg_send_result(&GetGroupMsgSendResultRequest {
            msgid: sent.msgid.clone(),
            userid: confirmer.clone(),
            limit: Some(1),
            cursor: String::new(),
        })
        .await
        .expect("first page");
    assert_eq!(results.send_list.len(), 1);
    assert!(!results.next_cursor.is_empty(), "one chat per page");
    let results = h.client.get_groupmsg_send_result_all(&sent.msgid, &confirmer, Some(1)).await.expect("all pages");
    assert_eq!(results.iter().map(|r| r.chat_id.clone()).collect::<Vec<_>>(), confirmer_chats);
    for r in &results {
        assert_eq!((r.userid.as_str(), r.status, r.send_time), (confirmer.as_str(), 1, created + 3), "{r:?}");
    }

    // A sender who never confirms: unsent an hour later.
    let pending = h
        .client
        .add_msg_template(&AddMsgTemplateRequest {
            chat_type: Some("group".into()),
            chat_id_list: laggard_chats.clone(),
            sender: Some(laggard.clone()),
            text: text.clone(),
            ..AddMsgTemplateRequest::default()
        })
        .await
        .expect("add_msg_template for the laggard");
    assert!(pending.fail_list.is_empty());
    h.sim.advance(Duration::from_secs(3_600));
    let tasks = h.client.get_groupmsg_task_all(&pending.msgid, None).await.expect("task");
    assert_eq!(tasks.iter().map(|t| (t.userid.as_str(), t.status)).collect::<Vec<_>>(), [(laggard.as_str(), 0)]);
    let results = h.client.get_groupmsg_send_result_all(&pending.msgid, &laggard, None).await.expect("result");
    assert_eq!(results.len(), laggard_chats.len());
    assert!(results.iter().all(|r| r.status == 0 && r.send_time == 0), "{results:?}");

    // Until the test confirms on their behalf.
    assert!(h.sim.confirm_group_msg(&pending.msgid, &laggard));
    let tasks = h.client.get_groupmsg_task_all(&pending.msgid, None).await.expect("task");
    assert_eq!((tasks[0].status, tasks[0].send_time), (2, created + 4 + 3_600));
    let results = h.client.get_groupmsg_send_result_all(&pending.msgid, &laggard, None).await.expect("result");
    assert!(results.iter().all(|r| r.status == 1), "{results:?}");

    // Both messages are listed; a second message to the same chats the same day is refused by the quota.
    let listed = h
        .client
        .get_groupmsg_list_v2(&GetGroupMsgListV2Request {
            chat_type: "group".into(),
            start_time: created - 60,
            end_time: created + 7_200,
            ..GetGroupMsgListV2Request::default()
        })
        .await
        .expect("list");
    let msgids: Vec<&str> = listed.group_msg_list.iter().map(|m| m.msgid.as_str()).collect();
    assert_eq!(msgids, [sent.msgid.as_str(), pending.msgid.as_str()]);
    let again = h
        .client
        .add_msg_template(&AddMsgTemplateRequest {
            chat_type: Some("group".into()),
            chat_id_list: confirmer_chats.clone(),
            sender: Some(confirmer.clone()),
            text,
            ..AddMsgTemplateRequest::default()
        })
        .await
        .expect("second message");
    h.sim.advance(Duration::from_secs(4));
    let results = h.client.get_groupmsg_send_result_all(&again.msgid, &confirmer, None).await.expect("result");
    assert!(results.iter().all(|r| r.status == 3), "over the daily quota: {results:?}");
}
